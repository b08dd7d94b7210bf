"""A two-layer perceptron for the 8x8 digits: Linear -> ReLU -> Linear."""
from __future__ import annotations

import numpy as np

from ..activation import ReLU
from ..linear import Linear
from ..container import Sequential


class DigitsMLP(Sequential):
    """``logits = W2 relu(W1 x + b1) + b2`` on flattened 8x8 images.

    Args:
        in_features: pixels per image (64 for the 8x8 digits).
        hidden: width of the hidden layer.
        num_classes: number of classes (10 digits).
        dtype: NumPy float dtype of the parameters.

    Shape:
        input ``(N, in_features)`` → logits ``(N, num_classes)``.

    Backward:
        the Sequential chain in reverse: Linear, ReLU's ``dy * [y > 0]``, Linear.

    What torch hides:
        nothing beyond its layers: the model is ``torch.nn.Sequential`` with the
        same children, so the state_dict keys (``0.weight`` … ``2.bias``) match.
    """

    def __init__(self, in_features: int = 64, hidden: int = 64, num_classes: int = 10,
                 dtype=np.float32):
        super().__init__(Linear(in_features, hidden, dtype=dtype), ReLU(),
                         Linear(hidden, num_classes, dtype=dtype))
