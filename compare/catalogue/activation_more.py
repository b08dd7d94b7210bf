"""The rest of torch's activations: shrinkage and thresholds, the sigmoid's relatives
(LogSigmoid, Softsign, GLU), the learned and random leaky ReLUs (PReLU, RReLU) and
Softmax2d; each option alone, the kinks fed exactly, extreme inputs."""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from npimpl.prelu import PReLUCache
from reference import Spec, build, share_weights

from ..badinput import Entry
from ..engine import Case
from ..gen import args, fixed, normal
from ..mutants import Mutant
from .activation import TAILS, with_values
from .core import pair

ORDER = 21


def case(name, spec, *gens, layer=None, **pair_options):
    return Case(name, layer or spec.name, "activation", pair(spec, **pair_options), args(*gens))


def random_slopes(spec: Spec, np_cls=None):
    """PReLU with its slopes redrawn from N(0.25, 0.5) on the torch side and shared: every
    channel gets a different slope (torch's init makes them all 0.25, which would hide a
    slope applied to the wrong channel), and some are negative or above 1. ``np_cls``
    replaces the NumPy side's class (a gallery mutant)."""
    def model(dt):
        np_mod, t_mod = build(spec, dt)
        if np_cls is not None:
            np_mod = np_cls(*spec.args, **spec.kwargs, dtype=dt.type)
        with torch.no_grad():
            t_mod.weight.copy_(torch.randn_like(t_mod.weight) * 0.5 + 0.25)
        share_weights(np_mod, t_mod)
        return np_mod, t_mod
    return model


CASES = [
    # Hardshrink / Softshrink: the band edges exactly, an empty band, a wide band
    case("hardshrink-kinks", Spec("Hardshrink"), with_values([0.5, -0.5, 0.0] * 2, 4, 7)),
    case("hardshrink-lambd1.5", Spec("Hardshrink", 1.5), with_values([1.5, -1.5], 2, 3, 5)),
    case("hardshrink-negative-lambd", Spec("Hardshrink", lambd=-0.5), normal(9, scale=2.0)),
    case("hardshrink-extremes", Spec("Hardshrink"), with_values(TAILS, 2, 6, scale=30.0)),
    case("softshrink-kinks", Spec("Softshrink"), with_values([0.5, -0.5, 0.0] * 2, 4, 7)),
    case("softshrink-lambd0", Spec("Softshrink", 0.0), with_values([0.0, -0.0], 3, 5)),
    case("softshrink-lambd2", Spec("Softshrink", lambd=2.0), with_values([2.0, -2.0], 1, 3, 4)),
    case("softshrink-extremes", Spec("Softshrink"), with_values(TAILS, 2, 6, scale=30.0)),
    # Tanhshrink: ordinary values, tiny ones (where torch's x - tanh(x) gradient cancels),
    # saturated ones
    case("tanhshrink", Spec("Tanhshrink"), normal(4, 7, scale=2.0)),
    case("tanhshrink-small", Spec("Tanhshrink"), normal(3, 5, scale=1e-3)),
    case("tanhshrink-extremes", Spec("Tanhshrink"), with_values(TAILS, 2, 6, scale=30.0)),
    # Threshold: ReLU's (0, 0), a jump up, a negative threshold, in place
    case("threshold-relu", Spec("Threshold", 0.0, 0.0), with_values([0.0, -0.0] * 2, 4, 7)),
    case("threshold-jump-up", Spec("Threshold", 0.1, 20.0), with_values([0.1, 0.1], 2, 3, 5)),
    case("threshold-negative", Spec("Threshold", -1.0, value=-5.0), with_values([-1.0], 9)),
    # GLU: the default last dim, an inner dim, dim 0, an unbatched 1-D input
    case("glu-last", Spec("GLU"), normal(4, 6, scale=2.0)),
    case("glu-dim1-3d", Spec("GLU", dim=1), normal(2, 4, 3)),
    case("glu-dim0", Spec("GLU", 0), normal(6, 5, scale=3.0)),
    case("glu-1d-tails", Spec("GLU"), fixed([1.0, -2.0, 30.0, 0.5, -40.0, 40.0, 0.0, 3.0])),
    # LogSigmoid: ordinary values and the tails where log(sigmoid(x)) would be -inf
    case("logsigmoid", Spec("LogSigmoid"), normal(4, 7, scale=3.0)),
    case("logsigmoid-extremes", Spec("LogSigmoid"), with_values(TAILS + [-800.0], 2, 6,
                                                                scale=30.0)),
    # Softsign: ordinary values and large ones (1 / x^2 gradients)
    case("softsign", Spec("Softsign"), with_values([0.0, -0.0], 4, 7, scale=2.0)),
    case("softsign-extremes", Spec("Softsign"), with_values(TAILS + [1e4, -1e4], 2, 6,
                                                            scale=30.0)),
    # Softmax2d: batched and unbatched, large logits
    case("softmax2d-4d", Spec("Softmax2d"), normal(2, 3, 2, 4)),
    case("softmax2d-3d-unbatched", Spec("Softmax2d"), normal(4, 3, 2, scale=3.0)),
    case("softmax2d-logits-1e3", Spec("Softmax2d"), normal(1, 5, 2, 2, scale=1e3)),
]

# PReLU: one slope, one per channel (2-D, 3-D, 4-D inputs), an unbatched and a 0-d input
for name, spec, gen in [
        ("prelu-shared", Spec("PReLU"), with_values([0.0, -0.0], 2, 3, 4)),
        ("prelu-channels-2d", Spec("PReLU", 4), normal(5, 4)),
        ("prelu-channels-3d", Spec("PReLU", num_parameters=3), with_values([0.0], 2, 3, 4)),
        ("prelu-channels-4d-init", Spec("PReLU", 2, init=-0.5), normal(2, 2, 3, 2)),
        ("prelu-unbatched-1d", Spec("PReLU"), normal(7)),
        ("prelu-0d", Spec("PReLU"), fixed(-1.5))]:
    CASES.append(Case(name, "PReLU", "activation", random_slopes(spec), args(gen)))

# RReLU: slopes drawn by the NumPy side and reused by the twin in training; the mean slope
# in eval; zero (which draws a slope), narrow and equal bounds
CASES += [
    case("rrelu-train", Spec("RReLU"), with_values([0.0, -0.0], 4, 7), seed=1),
    case("rrelu-train-bounds", Spec("RReLU", 0.1, 0.9), normal(2, 3, 5), seed=2),
    case("rrelu-train-equal-bounds", Spec("RReLU", 0.2, 0.2), with_values([0.0], 3, 4), seed=3),
    case("rrelu-eval", Spec("RReLU"), with_values([0.0], 4, 7), eval_mode=True),
    case("rrelu-eval-bounds", Spec("RReLU", lower=0.3, upper=0.7), normal(2, 5),
         eval_mode=True),
]


#: the bad-input matrix (compare.badinput): one valid configuration per class
BAD_INPUT = {
    **{n: Entry(Spec(n), (2, 4)) for n in ("Hardshrink", "Softshrink", "Tanhshrink",
                                          "LogSigmoid", "Softsign")},
    "Threshold": Entry(Spec("Threshold", 0.1, 20.0), (2, 4)),
    "GLU": Entry(Spec("GLU"), (2, 4)),
    # 2 channels: "rank -1" gives a 1-D input of 2 elements, which a PReLU(2) that took it
    # for 2 channels would accept (torch counts one channel there and refuses)
    "PReLU": Entry(Spec("PReLU", 2), (3, 2)),
    "RReLU": Entry(Spec("RReLU"), (2, 4)),
    "Softmax2d": Entry(Spec("Softmax2d"), (2, 3, 2, 2)),
}


# --- the mutant gallery -------------------------------------------------------------------------
class LastDimPReLU(npimpl.PReLU):
    """PReLU whose slopes broadcast along the *last* dim (the habit from Linear and LayerNorm),
    where torch puts the channel on dim 1; with as many features as channels nothing crashes."""

    def forward(self, input):
        x = self._input(input, dtype=self.weight.dtype)
        w = self.weight.data                                # BUG: torch reshapes to (1, C, 1, ...)
        self._cache = PReLUCache(x, w, tuple(range(x.ndim - 1)))
        return np.where(x > 0, x, w * x)


MUTANTS = [
    Mutant("prelu-slopes-on-last-dim", "PReLU applies its C slopes along the last dim instead of "
           "the channel dim 1 (shapes (N, C, C) line up, values do not)", "classic",
           Case("mutant-prelu-slopes-on-last-dim", "PReLU", "mutant",
                random_slopes(Spec("PReLU", 3), LastDimPReLU), args(normal(2, 3, 3)),
                dtypes=("float64",)),
           Case("control-prelu-slopes-on-last-dim", "PReLU", "mutant",
                random_slopes(Spec("PReLU", 3)), args(normal(2, 3, 3)), dtypes=("float64",))),
]
