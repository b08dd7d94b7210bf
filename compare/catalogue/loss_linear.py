"""Losses with parameters: AdaptiveLogSoftmaxWithLoss (head and tail clusters) and
LinearCrossEntropyLoss (torch 2.13's fused Linear + CrossEntropyLoss), on the reference path
and chunked.

Both have weights, which the engine shares torch -> NumPy and whose gradients it compares;
AdaptiveLogSoftmaxWithLoss returns ``(output, loss)``, each driven by its own upstream
gradient, and a cluster that no target falls in must leave its weights' ``.grad`` at None.
"""
from __future__ import annotations

import numpy as np

import npimpl
from reference import Spec, build

from ..badinput import Entry
from ..engine import Case
from ..gen import args, fixed, normal
from .loss import REDUCTIONS, indices, probabilities

ORDER = 33
W6 = np.array([0.5, 1.0, 2.0, 0.2, 1.5, 3.0])


def pair(name, spec, *gens):
    return Case(name, spec.name, "loss", lambda dt: build(spec, dt), args(*gens))


def spread(n: int, cutoffs, n_classes: int):
    """n class indices with at least one in the head and in every cluster."""
    bounds = [0, *cutoffs, n_classes]

    def gen(rng, dt):
        t = rng.integers(0, n_classes, n)
        for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
            t[i % n] = rng.integers(lo, hi)
        return t.astype(np.int64)
    return gen


CASES = [
    pair("adaptive-2-clusters", Spec("AdaptiveLogSoftmaxWithLoss", 16, 20, [5, 12]),
         normal(7, 16), spread(7, [5, 12], 20)),
    pair("adaptive-3-clusters-div2-head-bias",
         Spec("AdaptiveLogSoftmaxWithLoss", 16, 30, [4, 10, 20], div_value=2.0, head_bias=True),
         normal(9, 16), spread(9, [4, 10, 20], 30)),
    pair("adaptive-unbatched-tail-target", Spec("AdaptiveLogSoftmaxWithLoss", 6, 12, [3, 7],
                                                div_value=1.5),
         normal(6), fixed(np.array(9))),
    # every target in the head: the tails are never computed and get no gradient (None)
    pair("adaptive-all-in-head", Spec("AdaptiveLogSoftmaxWithLoss", 8, 15, [6, 10], 2.0),
         normal(5, 8), indices(5, n=6)),
    pair("adaptive-one-row-in-a-cluster", Spec("AdaptiveLogSoftmaxWithLoss", 8, 15, [6, 10], 2.0),
         normal(4, 8), fixed(np.array([0, 11, 3, 5]))),
]

# --- LinearCrossEntropyLoss: the reference path with every CrossEntropyLoss option
for i, red in enumerate(REDUCTIONS):
    CASES += [
        pair(f"linearce-{red}", Spec("LinearCrossEntropyLoss", 5, 6, reduction=red),
             normal(7, 5), indices(7, n=6)),
        pair(f"linearce-bias-weight-ignore-smooth-{red}",
             Spec("LinearCrossEntropyLoss", 5, 6, bias=True, weight=W6, ignore_index=2,
                  label_smoothing=0.15, reduction=red),
             normal(8, 5), indices(8, n=6, ignore=2)),
    ]
CASES += [
    pair("linearce-probabilities-weight", Spec("LinearCrossEntropyLoss", 4, 6, weight=W6,
                                               bias=True),
         normal(5, 4), probabilities(5, 6)),
    pair("linearce-kdim-out-features-none", Spec("LinearCrossEntropyLoss", 4, 5, bias=True,
                                                 out_features=(2, 3), reduction="none"),
         normal(3, 4), indices(3, 2, 3, n=5)),
    pair("linearce-kdim-probabilities-smooth", Spec("LinearCrossEntropyLoss", 4, 5,
                                                    out_features=(3,), label_smoothing=0.1),
         normal(3, 4), probabilities(3, 5, 3)),
    pair("linearce-unbatched-sum", Spec("LinearCrossEntropyLoss", 6, 7, bias=True,
                                        reduction="sum"),
         normal(6), indices(n=7)),
]
# the chunked path: explicit rows per chunk, torch's aspect-ratio heuristic, 'none' (which
# recomputes the blocks in backward), weights and ignored targets, an unbatched input
O = npimpl.LinearCrossEntropyOptions
CASES += [
    pair("linearce-chunked-rows3-weight-ignore-mean",
         Spec("LinearCrossEntropyLoss", 5, 6, bias=True, weight=W6, ignore_index=2,
              options=O(batch_chunk_size=3, chunking_method=None)),
         normal(8, 5), indices(8, n=6, ignore=2)),
    pair("linearce-chunked-aspect-ratio-sum", Spec("LinearCrossEntropyLoss", 3, 12,
                                                   reduction="sum",
                                                   options=O(chunking_method="aspect_ratio")),
         normal(10, 3), indices(10, n=12)),
    pair("linearce-chunked-auto-none", Spec("LinearCrossEntropyLoss", 5, 6, bias=True,
                                            reduction="none", options=O()),
         normal(7, 5), indices(7, n=6)),
    pair("linearce-chunked-retain-unbatched", Spec("LinearCrossEntropyLoss", 5, 6,
                                                   options=O(allow_retain_graph=True,
                                                             batch_chunk_size=2)),
         normal(5), indices(n=6)),
    # batch_chunk_size beside 'aspect_ratio': allowed where both give the same rows
    # (ceil(10 / ceil(12 / 3)) = 3 -> 4 rows)
    pair("linearce-chunked-aspect-ratio-and-rows4-mean",
         Spec("LinearCrossEntropyLoss", 3, 12, options=O(batch_chunk_size=4,
                                                         chunking_method="aspect_ratio")),
         normal(10, 3), indices(10, n=12)),
    # one class, some targets ignored: the ignored rows' weights are looked up safely
    pair("linearce-chunked-one-class-ignore-mean",
         Spec("LinearCrossEntropyLoss", 3, 1, bias=True, options=O(batch_chunk_size=2)),
         normal(5, 3), fixed(np.array([0, -100, 0, 0, -100]))),
    # label_smoothing with options: torch (and npimpl) warn and take the reference path
    pair("linearce-options-ignored-smooth1-weight-ignore",
         Spec("LinearCrossEntropyLoss", 4, 6, weight=W6, ignore_index=2, label_smoothing=1.0,
              options=O(batch_chunk_size=2)),
         normal(7, 4), indices(7, n=6, ignore=2)),
]
# ignore_index=None on the reference path: torch's CrossEntropyLoss default, -100, is ignored
CASES += [
    pair("linearce-ignore-none-default-minus100-mean", Spec("LinearCrossEntropyLoss", 4, 5),
         normal(6, 4), indices(6, n=5, ignore=-100)),
]


# --- the bad-input matrix ----------------------------------------------------------------------
def _class_targets(n):
    return lambda rng, x: rng.integers(0, n, x.shape[:1]).astype(np.int64)


# sizes such that every parameter has >= 160 elements: the init comparison (compare/init.py)
# pools 12,000 draws per parameter, so small parameters mean hundreds of instances to build
BAD_INPUT = {
    "AdaptiveLogSoftmaxWithLoss": Entry(Spec("AdaptiveLogSoftmaxWithLoss", 32, 40, [10, 20], 2.0),
                                        (3, 32), _class_targets(40)),
    "LinearCrossEntropyLoss": Entry(Spec("LinearCrossEntropyLoss", 16, 40), (3, 16),
                                    _class_targets(40)),
}
