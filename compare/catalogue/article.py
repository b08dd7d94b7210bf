"""The seed article's experiment, done right and compared step by step.

The article trains ``Linear(2, 2)`` + softmax cross-entropy with plain SGD
(lr 0.1, 500 full-batch steps) on ten 2-D points, then prints the predictions
for four query points. Here both sides start from the same weights and every
step's loss and parameters are compared.
"""
from __future__ import annotations

import numpy as np

from reference import Spec, build, optimizer_pair

from ..engine import Trajectory

ORDER = 0

#: the article's ten points: two features and a class label
DATA = np.array([[2, 1, 0], [2, 2, 0], [5, 4, 1], [4, 5, 1], [2, 3, 0], [3, 2, 0], [6, 5, 1],
                 [4, 1, 0], [6, 3, 1], [7, 4, 1]])
X, Y = DATA[:, :-1].astype(np.float64), DATA[:, -1].astype(np.int64)
#: the article's four query points
QUERY = np.array([[0, 0], [0, 4], [8, 6], [10, 10]], dtype=np.float64)

CASES = [Trajectory(
    "article-toy", "Linear", "article",
    model=lambda dt: build(Spec("Linear", 2, 2), dt),
    loss=lambda dt: build(Spec("CrossEntropyLoss"), dt),
    batches=lambda rng, dt, step: (X.astype(dt), Y),
    optimizer=lambda m, t: optimizer_pair("SGD", m, t, lr=0.1),
    steps=500, probe=lambda dt: QUERY.astype(dt),
    note="the seed article's experiment: Linear(2, 2) + cross-entropy, SGD lr 0.1, 500 steps")]
