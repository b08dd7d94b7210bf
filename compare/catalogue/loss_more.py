"""The rest of torch's losses: the margin and hinge losses, PoissonNLLLoss, the triplet losses,
NLLLoss2d, and the inputs torch accepts that npimpl once refused (an int64 MarginRankingLoss
target, a GaussianNLLLoss target or var that broadcasts to the input).

Hinge-type losses have kinks; random inputs stay off them (the finite-difference oracle skips
any element where the one-sided slopes disagree), and the ``-kink`` cases put elements *on*
them on purpose, so that torch's choice there (``>= 0`` for clamp_min, ``> 0`` in ATen's
multi-margin kernels) is compared.
"""
from __future__ import annotations

import warnings

import numpy as np

import npimpl
from npimpl.triplet import pairwise_distance
from reference import Spec, build
from reference.losses import register_distance

from ..badinput import Entry
from ..engine import Case
from ..mutants import layer_mutant
from ..gen import args, fixed, normal, uniform
from .loss import REDUCTIONS, case, indices, probabilities, signs

ORDER = 31
W5 = np.array([1.0, 0.5, 3.0, 0.1, 2.0])


def int_signs(*shape):
    return lambda rng, dt: rng.choice([-1, 1], shape).astype(np.int64)


def labels01(*shape):
    return lambda rng, dt: rng.integers(0, 2, shape).astype(dt)


def label_sets(n: int, c: int):
    """MultiLabelMarginLoss targets ``(n, c)``: each row a few distinct classes, then -1, then
    arbitrary (ignored) valid entries."""
    def gen(rng, dt):
        t = rng.integers(0, c, (n, c))
        for row in t:
            k = rng.integers(0, c)                   # 0..c-1 listed classes
            row[:k] = rng.permutation(c)[:k]
            row[k] = -1
        return t.astype(np.int64)
    return gen


def arrays(gen):
    """A generator's value as an ndarray: a 0-D array, not a NumPy scalar (which a loss would
    take for a Python float)."""
    return lambda rng, dt: np.asarray(gen(rng, dt), dtype=dt)


def counts(*shape, lam: float = 2.0):
    """Poisson counts as floats: zeros, ones and larger (the Stirling term's mask)."""
    return lambda rng, dt: rng.poisson(lam, shape).astype(dt)


CASES = []

# --- HingeEmbeddingLoss: each reduction, margins, int labels, labels that are neither ±1
for i, red in enumerate(REDUCTIONS):
    shape = [(4, 5), (2, 3, 4), (7,)][i]
    CASES.append(case(f"hingeembedding-{red}", Spec("HingeEmbeddingLoss", reduction=red),
                      normal(*shape, scale=1.5), signs(*shape)))
HINGE_X = np.array([[1.0, 0.5, 2.0, 1.0, -0.3, 1.0], [0.0, 1.0, 3.0, -1.0, 0.5, 1.0]])
HINGE_Y = np.array([[-1.0, -1.0, -1.0, 1.0, 1.0, 0.0], [-1.0, 1.0, 0.0, -1.0, 2.0, -1.0]])
CASES += [
    case("hingeembedding-margin0.3-sum-int-labels", Spec("HingeEmbeddingLoss", 0.3,
                                                         reduction="sum"),
         normal(5, 3), int_signs(5, 3)),
    case("hingeembedding-legacy-size-average-false", Spec("HingeEmbeddingLoss", 2.0, False),
         normal(4, 4), signs(4, 4)),
    # x = margin exactly with y = -1 (clamp_min passes the gradient), labels 0 and 2
    case("hingeembedding-kink-and-odd-labels-none", Spec("HingeEmbeddingLoss",
                                                         reduction="none"),
         fixed(HINGE_X), fixed(HINGE_Y)),
]

# --- SoftMarginLoss: each reduction; |y x| up to 40, where log(1 + e^-40) must not round to 0
CASES += [case(f"softmargin-{red}", Spec("SoftMarginLoss", reduction=red),
               normal(4, 5, scale=2.0), signs(4, 5)) for red in REDUCTIONS]
CASES += [
    case("softmargin-large-margins-none", Spec("SoftMarginLoss", reduction="none"),
         fixed([[40.0, -40.0, 30.0, -30.0], [0.0, 1e-3, -12.0, 60.0]]),
         fixed([[1.0, 1.0, -1.0, -1.0], [1.0, -1.0, 1.0, 1.0]])),
    case("softmargin-int-labels-3d", Spec("SoftMarginLoss"), normal(2, 3, 4), int_signs(2, 3, 4)),
    # exp(-y x) overflows: loss inf, gradient inf / inf = NaN, in torch and here
    case("softmargin-overflow-none", Spec("SoftMarginLoss", reduction="none"),
         fixed([[-800.0, 800.0, 2.0]]), fixed([[1.0, 1.0, -1.0]]), ),
]

# --- MultiLabelSoftMarginLoss: weights (C,) and full-shape, unbatched, logits of ±700
CASES += [
    *[case(f"multilabelsoftmargin-{red}", Spec("MultiLabelSoftMarginLoss", reduction=red),
           normal(4, 5, scale=2.0), labels01(4, 5)) for red in REDUCTIONS],
    case("multilabelsoftmargin-weight-sum", Spec("MultiLabelSoftMarginLoss", W5, reduction="sum"),
         normal(3, 5), labels01(3, 5)),
    case("multilabelsoftmargin-full-weight-none",
         Spec("MultiLabelSoftMarginLoss", np.linspace(0.1, 2.0, 15).reshape(3, 5),
              reduction="none"), normal(3, 5), probabilities(3, 5)),
    case("multilabelsoftmargin-unbatched", Spec("MultiLabelSoftMarginLoss"), normal(6),
         labels01(6)),
    case("multilabelsoftmargin-700-none", Spec("MultiLabelSoftMarginLoss", reduction="none"),
         fixed([[-700.0, 700.0, 0.0], [35.0, -90.0, 1e-3]]), fixed([[1.0, 0.0, 1.0], [0.0, 1.0, 0.5]])),
]

# --- MultiMarginLoss: p 1 and 2 with each reduction, weights, margins, unbatched, 0-D
for i, red in enumerate(REDUCTIONS):
    for p in (1, 2):
        CASES.append(case(f"multimargin-p{p}-{red}", Spec("MultiMarginLoss", p, reduction=red),
                          normal(4, 5), indices(4, n=5)))
MM_X = np.array([[0.0, 1.0, 0.5, 2.0], [1.0, 0.0, -1.0, 1.0]])        # z = 0 at [0, 0], [1, 2]
CASES += [
    case("multimargin-weight-margin0.4", Spec("MultiMarginLoss", 1, 0.4, W5), normal(6, 5),
         indices(6, n=5)),
    case("multimargin-p2-negative-margin-weight-sum",
         Spec("MultiMarginLoss", 2, -0.5, np.array([0.3, -2.0, 1.5, 1.0]), reduction="sum"),
         normal(5, 4, scale=2.0), indices(5, n=4)),
    case("multimargin-unbatched-none", Spec("MultiMarginLoss", reduction="none"), normal(6),
         indices(n=6)),
    case("multimargin-unbatched-target1-none", Spec("MultiMarginLoss", 2, reduction="none"),
         normal(6), indices(1, n=6)),
    case("multimargin-0d", Spec("MultiMarginLoss"), fixed(np.array(0.3)), indices(n=1)),
    case("multimargin-kink-none", Spec("MultiMarginLoss", reduction="none"), fixed(MM_X),
         fixed(np.array([1, 3]))),
]

# --- MultiLabelMarginLoss: padded label sets, repeats, unbatched, the strict hinge
CASES += [
    *[case(f"multilabelmargin-{red}", Spec("MultiLabelMarginLoss", reduction=red),
           normal(5, 6), label_sets(5, 6)) for red in REDUCTIONS],
    case("multilabelmargin-unbatched", Spec("MultiLabelMarginLoss"), normal(5),
         fixed(np.array([3, 0, -1, 1, 2]))),
    case("multilabelmargin-repeats-and-padding-none", Spec("MultiLabelMarginLoss",
                                                          reduction="none"),
         normal(3, 5), fixed(np.array([[3, 3, -1, 0, 0], [4, 1, 0, 2, 3], [-1, 2, 2, 2, 2]]))),
    case("multilabelmargin-no-labels-none", Spec("MultiLabelMarginLoss", reduction="none"),
         normal(2, 4), fixed(np.array([[-1, 2, 0, 1], [-1, -1, 3, 0]]))),
    case("multilabelmargin-kink-sum", Spec("MultiLabelMarginLoss", reduction="sum"),
         fixed(np.array([[0.0, 1.0, 0.0, 0.5], [2.0, 1.0, 1.0, 0.0]])),
         fixed(np.array([[1, -1, 0, 0], [0, 2, -1, 3]]))),
]

# --- PoissonNLLLoss: log_input x full x reduction, eps, counts 0, 1 and above
for i, (log_input, full) in enumerate([(True, False), (True, True), (False, False), (False, True)]):
    red = REDUCTIONS[i % 3]
    x = normal(4, 5) if log_input else uniform(4, 5, low=0.05, high=3.0)
    CASES.append(case(f"poissonnll-{'log' if log_input else 'rate'}-{'full-' if full else ''}"
                      f"{red}", Spec("PoissonNLLLoss", log_input, full, reduction=red),
                      x, counts(4, 5)))
CASES += [
    case("poissonnll-rate-eps0.1-full-sum", Spec("PoissonNLLLoss", False, True, eps=0.1,
                                                 reduction="sum"),
         uniform(3, 4, low=0.01, high=2.0), counts(3, 4, lam=3.0)),
    case("poissonnll-legacy-reduce-false", Spec("PoissonNLLLoss", True, False, None, 1e-8, False),
         normal(2, 3, 2), counts(2, 3, 2)),
]

# --- TripletMarginLoss: reductions, p, swap, margin, eps 0, 3-D and unbatched inputs
for i, red in enumerate(REDUCTIONS):
    CASES.append(case(f"tripletmargin-{red}", Spec("TripletMarginLoss", reduction=red),
                      normal(5, 4), normal(5, 4), normal(5, 4)))
CASES += [
    case("tripletmargin-swap-p1-margin2", Spec("TripletMarginLoss", 2.0, 1.0, swap=True),
         normal(6, 3), normal(6, 3), normal(6, 3)),
    case("tripletmargin-p3-eps0-sum", Spec("TripletMarginLoss", 1.5, 3.0, 0.0, reduction="sum"),
         normal(4, 5), normal(4, 5), normal(4, 5)),
    case("tripletmargin-p1.5-swap-none", Spec("TripletMarginLoss", 3.0, 1.5, swap=True,
                                              reduction="none"),
         normal(4, 5), normal(4, 5), normal(4, 5)),
    case("tripletmargin-pinf", Spec("TripletMarginLoss", 1.0, float("inf")),
         normal(5, 4), normal(5, 4), normal(5, 4)),
    case("tripletmargin-3d-none", Spec("TripletMarginLoss", reduction="none"),
         normal(2, 3, 4), normal(2, 3, 4), normal(2, 3, 4)),
    case("tripletmargin-unbatched", Spec("TripletMarginLoss", 4.0, swap=True), normal(6),
         normal(6), normal(6)),
    case("tripletmargin-legacy-size-average-false", Spec("TripletMarginLoss", 1.0, 2.0, 1e-6,
                                                         False, False),
         normal(3, 4), normal(3, 4), normal(3, 4)),
]
# a positive equal to its anchor with eps = 0: a zero distance, whose gradient is 0 for every
# p > 1 (not 0 * inf); p = inf on 3-D and unbatched inputs (the norm over the last dim)
_Z = np.array([[2.0, 1.0, -1.0], [-1.0, 1.5, 0.5]])
CASES += [
    case(f"tripletmargin-p{p}-eps0-zero-distance-none",
         Spec("TripletMarginLoss", 5.0, p, 0.0, reduction="none"), fixed(_Z),
         fixed(np.array([[2.0, 1.0, -1.0], [0.5, 1.0, -0.5]])),
         fixed(np.array([[0.0, 1.0, 1.0], [1.0, -1.0, 0.5]])))
    for p in (1.5, 3.0)]
CASES += [
    case("tripletmargin-pinf-3d-none", Spec("TripletMarginLoss", 3.0, float("inf"),
                                            reduction="none"),
         normal(2, 3, 4), normal(2, 3, 4), normal(2, 3, 4)),
    case("tripletmargin-pinf-unbatched", Spec("TripletMarginLoss", 4.0, float("inf")),
         normal(5), normal(5), normal(5)),
    case("tripletmargin-p0-none", Spec("TripletMarginLoss", 1.0, 0.0, reduction="none"),
         normal(4, 3), fixed(np.array([[0.5, 0.0, 1.0]] * 4)), normal(4, 3)),
]
# swap ties: a positive equal to its anchor makes d(a, n) == d(p, n) (half the gradient each)
_A = np.array([[1.0, -0.5, 2.0], [0.3, 0.2, -1.0]])
CASES.append(case("tripletmargin-swap-tie-none", Spec("TripletMarginLoss", 5.0, swap=True,
                                                      reduction="none"),
                  fixed(_A), fixed(_A), fixed(np.array([[0.0, 1.0, 1.0], [2.0, -1.0, 0.5]]))))


# --- TripletMarginWithDistanceLoss: the default, a (fn, grad_fn) pair, a module
def _sq(a, b):
    return ((a - b) ** 2).sum(-1)


def _sq_grad(a, b, g):
    d = 2 * (a - b) * g[..., None]
    return d, -d


SQUARED_L2 = register_distance((_sq, _sq_grad), lambda a, b: ((a - b) ** 2).sum(-1))


class ScaledL1(npimpl.Module):
    """A module distance for the protocol test: ``d = sum |x1 - x2| / 2`` with a backward."""

    def forward(self, x1, x2):
        self._cache = np.sign(x1 - x2)
        return np.abs(x1 - x2).sum(-1) / 2

    def backward(self, g):
        d = self._saved() * g[..., None] / 2
        return d, -d


SCALED_L1 = register_distance(ScaledL1(), lambda a, b: (a - b).abs().sum(-1) / 2)
CASES += [
    *[case(f"tripletdistance-default-{red}", Spec("TripletMarginWithDistanceLoss", reduction=red),
           normal(5, 4), normal(5, 4), normal(5, 4)) for red in REDUCTIONS],
    case("tripletdistance-default-swap-margin2", Spec("TripletMarginWithDistanceLoss", margin=2.0,
                                                      swap=True),
         normal(6, 3), normal(6, 3), normal(6, 3)),
    case("tripletdistance-pair-squared-l2-swap-none",
         Spec("TripletMarginWithDistanceLoss", distance_function=SQUARED_L2, swap=True,
              reduction="none"), normal(5, 4), normal(5, 4), normal(5, 4)),
    case("tripletdistance-module-l1-sum",
         Spec("TripletMarginWithDistanceLoss", distance_function=SCALED_L1, margin=1.5,
              reduction="sum"), normal(5, 4), normal(5, 4), normal(5, 4)),
    case("tripletdistance-unbatched", Spec("TripletMarginWithDistanceLoss", margin=3.0),
         normal(4), normal(4), normal(4)),
]


# --- NLLLoss2d: the deprecated alias (its FutureWarning expected and silenced here)
def _quiet(spec):
    def make(dt):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", FutureWarning)
            return build(spec, dt)
    return make


CASES += [
    Case("nll2d-weight-ignore", "NLLLoss2d", "loss",
         _quiet(Spec("NLLLoss2d", W5[:4], None, 2)),
         args(normal(2, 4, 3, 3), indices(2, 3, 3, n=4, ignore=2))),
    Case("nll2d-none", "NLLLoss2d", "loss", _quiet(Spec("NLLLoss2d", reduction="none")),
         args(normal(2, 3, 2, 4), indices(2, 2, 4, n=3))),
]

# --- MarginRankingLoss with an int64 ±1 target (torch's own module tests use one)
CASES += [case(f"marginranking-int64-target-{red}", Spec("MarginRankingLoss", 0.3, reduction=red),
               normal(6), normal(6), int_signs(6)) for red in ("none", "mean")]

# --- GaussianNLLLoss: torch's op-test layouts, a target or var with a dim of 1, one dim short
# (0-D for a 1-D input), each reduction and full
GAUSS = [((5, 4), (5, 1), (5, 4)), ((5, 4), (4,), (5,)), ((5, 4), (5, 1), (5, 1)),
         ((3, 4, 2), (4, 2), (3, 1, 2)), ((3, 4, 2), (3, 4, 1), (3, 4)), ((6,), (), ()),
         ((6,), (1,), (6,))]
for i, (xs, ts, vs) in enumerate(GAUSS):
    red = REDUCTIONS[i % 3]
    full = i % 2 == 1
    tag = f"x{'x'.join(map(str, xs))}-t{'x'.join(map(str, ts)) or '0d'}-v{'x'.join(map(str, vs)) or '0d'}"
    CASES.append(case(f"gaussiannll-broadcast-{tag}-{red}{'-full' if full else ''}",
                      Spec("GaussianNLLLoss", full=full, reduction=red),
                      normal(*xs), arrays(normal(*ts)), arrays(uniform(*vs, low=0.1, high=2.0))))


# --- the mutant gallery ---------------------------------------------------------------------------
class EpsOnTheNormTripletMarginLoss(npimpl.TripletMarginLoss):
    """TripletMarginLoss with ``||a - p|| + eps``: torch adds eps to the *difference*."""

    def _pairwise(self, x1, x2):
        d, cache = pairwise_distance(x1, x2, self.p, 0.0)
        return d + self.eps, cache                                    # BUG: eps after the norm


MUTANTS = [layer_mutant(
    "triplet-eps-added-to-the-norm", "d = ||a - p|| + eps instead of ||a - p + eps|| (torch's "
    "docs only say 'a small constant eps is added for numerical stability')", "classic",
    Spec("TripletMarginLoss", reduction="none"), EpsOnTheNormTripletMarginLoss,
    args(normal(4, 5), normal(4, 5), normal(4, 5)))]


# --- the bad-input matrix ----------------------------------------------------------------------
def _target_signs(rng, x):
    return np.where(rng.random(x.shape) < 0.5, -1.0, 1.0)


def _label_sets(rng, x):
    return label_sets(x.shape[0], x.shape[1])(rng, None)


def _two_more(rng, x):
    return [rng.standard_normal(x.shape), rng.standard_normal(x.shape)]


BAD_INPUT = {
    "HingeEmbeddingLoss": Entry(Spec("HingeEmbeddingLoss"), (3, 4), _target_signs),
    # an int64 target: the matrix marks every float array requires_grad, and torch's
    # soft_margin_loss refuses a target that requires grad
    "SoftMarginLoss": Entry(Spec("SoftMarginLoss"), (3, 4),
                            lambda rng, x: _target_signs(rng, x).astype(np.int64), by_design={
                                "target float": "a float ±1 target is the usual one and torch "
                                                "takes it too; it refuses it here only because "
                                                "the matrix makes every float array require "
                                                "grad, and soft_margin_loss has no derivative "
                                                "for its target"}),
    "MultiLabelSoftMarginLoss": Entry(Spec("MultiLabelSoftMarginLoss"), (3, 4),
                                      lambda rng, x: rng.integers(0, 2, x.shape).astype(float)),
    "MultiMarginLoss": Entry(Spec("MultiMarginLoss"), (3, 4),
                             lambda rng, x: rng.integers(0, 4, 3).astype(np.int64)),
    "MultiLabelMarginLoss": Entry(Spec("MultiLabelMarginLoss"), (3, 4), _label_sets),
    "PoissonNLLLoss": Entry(Spec("PoissonNLLLoss"), (3, 4),
                            lambda rng, x: rng.poisson(2.0, x.shape).astype(float)),
    "TripletMarginLoss": Entry(Spec("TripletMarginLoss"), (3, 4), extra=_two_more),
    "TripletMarginWithDistanceLoss": Entry(Spec("TripletMarginWithDistanceLoss"), (3, 4),
                                           extra=_two_more),
    "NLLLoss2d": Entry(Spec("NLLLoss2d"), (2, 3, 2, 2),
                       lambda rng, x: rng.integers(0, 3, (2, 2, 2)).astype(np.int64), by_design={
                           "Fortran order": "a Fortran-ordered 4-D input is an input like any "
                                            "other; torch's nll_loss2d backward fails with "
                                            "'grad_input must be contiguous', an implementation "
                                            "accident"}),
}
