"""Loss cases: every loss with each option alone and combined, every reduction, K-dim inputs,
and the numerical-stability corners (logits of 1e4 and ±700, probabilities of exactly 0 and 1,
every target ignored)."""
from __future__ import annotations

import itertools

import numpy as np

from reference import Spec, build

from ..engine import Case
from ..gen import args, fixed, normal, uniform

ORDER = 30
REDUCTIONS = ("none", "mean", "sum")
W4 = np.array([0.2, 1.0, 2.5, 0.7])             # class weights for C = 4
W5 = np.array([1.0, 0.5, 3.0, 0.1, 2.0])        # class weights for C = 5


def case(name, spec, *gens):
    return Case(name, spec.name, "loss", lambda dt: build(spec, dt), args(*gens))


def indices(*shape, n: int, ignore: int | None = None):
    """Class indices in [0, n); with ``ignore``, about a third of them (at least one) set to it."""
    def gen(rng, dt):
        t = rng.integers(0, n, shape).astype(np.int64)
        if ignore is not None:
            flat = t.reshape(-1)
            flat[rng.random(flat.size) < 0.3] = ignore
            flat[0] = ignore
        return t
    return gen


def probabilities(*shape, axis: int = 1):
    """Rows of class probabilities (a softmax of normals) along the class ``axis``."""
    def gen(rng, dt):
        e = np.exp(rng.standard_normal(shape))
        return (e / e.sum(axis=axis, keepdims=True)).astype(dt)
    return gen


def signs(*shape):
    return lambda rng, dt: rng.choice([-1.0, 1.0], shape).astype(dt)


CASES = []

# --- CrossEntropyLoss: every combination of target kind, weight and smoothing; shapes and
# reductions rotate so that each appears with each target kind
SHAPES = [(5, 4), (3, 4, 2, 3), (4,), (2, 4, 3)]
TARGETS = ("index", "ignore1", "probs")
for i, (kind, weighted, eps) in enumerate(itertools.product(TARGETS, (False, True), (0.0, 0.15))):
    shape = SHAPES[i % len(SHAPES)]
    red = REDUCTIONS[i % 3]
    if kind == "ignore1" and len(shape) == 1:
        shape = (6, 4)
    loss_shape = () if len(shape) == 1 else (shape[0],) + shape[2:]
    kw = dict(weight=W4) if weighted else {}
    if eps:
        kw["label_smoothing"] = eps
    if kind == "ignore1":
        kw["ignore_index"] = 1
    target = (probabilities(*shape, axis=min(1, len(shape) - 1)) if kind == "probs" else
              indices(*loss_shape, n=4, ignore=1 if kind == "ignore1" else None))
    tag = "-".join([kind] + (["weight"] if weighted else []) + ([f"smooth{eps}"] if eps else [])
                   + [f"{len(shape)}d", red])
    CASES.append(case(f"crossentropy-{tag}", Spec("CrossEntropyLoss", reduction=red, **kw),
                      normal(*shape, scale=2.0), target))
CASES += [
    case("crossentropy-kdim-weight-smooth-ignore-mean",
         Spec("CrossEntropyLoss", weight=W4, ignore_index=2, label_smoothing=0.25),
         normal(2, 4, 3, 2), indices(2, 3, 2, n=4, ignore=2)),
    case("crossentropy-weight-smooth-ignore-100-none",
         Spec("CrossEntropyLoss", weight=W4, label_smoothing=0.25, reduction="none"),
         normal(6, 4), indices(6, n=4, ignore=-100)),
]

CASES += [
    case("crossentropy-smooth1.0-weight-ignore", Spec("CrossEntropyLoss", weight=W5, ignore_index=0,
                                                       label_smoothing=1.0),
         normal(6, 5), indices(6, n=5, ignore=0)),
    case("crossentropy-odd-classes-batch1", Spec("CrossEntropyLoss", label_smoothing=0.3),
         normal(1, 7, scale=3.0), indices(1, n=7)),
    case("crossentropy-3d-probs-weight-smooth", Spec("CrossEntropyLoss", weight=W5,
                                                      label_smoothing=0.2, reduction="sum"),
         normal(2, 5, 4), probabilities(2, 5, 4)),
    # stability: float32 logits of 1e4 (a plain softmax-then-log gives -inf and NaN)
    *[case(f"crossentropy-logits-1e4-{red}", Spec("CrossEntropyLoss", reduction=red),
           normal(6, 5, scale=1e4), indices(6, n=5)) for red in REDUCTIONS],
    case("crossentropy-logits-1e4-smooth-weight", Spec("CrossEntropyLoss", weight=W5,
                                                        label_smoothing=0.1),
         normal(6, 5, scale=1e4), indices(6, n=5)),
    case("crossentropy-logits-1e4-probs", Spec("CrossEntropyLoss"), normal(6, 5, scale=1e4),
         probabilities(6, 5)),
    # every target ignored: 'mean' is 0/0 = NaN in torch, the gradient 0
    *[case(f"crossentropy-all-ignored{tag}", Spec("CrossEntropyLoss", **kw), normal(4, 5),
           fixed(np.full(4, -100))) for tag, kw in
      (("", {}), ("-smooth", dict(label_smoothing=0.1)), ("-weight-sum", dict(weight=W5, reduction="sum")))],
]

# --- NLLLoss
CASES += [
    case("nll-weight-none-kdim", Spec("NLLLoss", weight=W5, reduction="none"), normal(2, 5, 3, 2),
         indices(2, 3, 2, n=5)),
    case("nll-ignore3-sum", Spec("NLLLoss", ignore_index=3, reduction="sum"), normal(6, 5),
         indices(6, n=5, ignore=3)),
    case("nll-weight-ignore3-mean-kdim", Spec("NLLLoss", weight=W5, ignore_index=3),
         normal(2, 5, 4), indices(2, 4, n=5, ignore=3)),
    case("nll-weight-ignore3-none", Spec("NLLLoss", weight=W5, ignore_index=3, reduction="none"),
         normal(6, 5), indices(6, n=5, ignore=3)),
]
CASES += [
    case("nll-unbatched-weight", Spec("NLLLoss", weight=W5), normal(5), indices(n=5)),
    case("nll-all-ignored-mean", Spec("NLLLoss"), normal(3, 5), fixed(np.full(3, -100))),
    case("nll-zero-total-weight", Spec("NLLLoss", weight=np.array([0.0, 0.0, 1.0])),
         normal(3, 3), fixed(np.array([0, 1, 0]))),
]

# --- BCELoss: probabilities, exact 0 and 1, weights broadcast
EDGE_P = np.array([[0.0, 1.0, 0.0, 1.0, 0.5, 1e-30], [0.3, 1.0 - 1e-7, 0.999, 1e-9, 0.0, 1.0]])
EDGE_T = np.array([[0.0, 1.0, 1.0, 0.0, 0.0, 1.0], [0.5, 0.0, 1.0, 0.0, 0.25, 0.75]])
CASES += [
    case("bce-sum", Spec("BCELoss", reduction="sum"), uniform(4, 3, low=0.01, high=0.99),
         uniform(4, 3)),
    case("bce-weight-none", Spec("BCELoss", weight=np.array([0.5, 2.0, 1.0]), reduction="none"),
         uniform(4, 3, low=0.01, high=0.99), uniform(4, 3)),
    *[case(f"bce-exact-0-1-{red}", Spec("BCELoss", reduction=red), fixed(EDGE_P), fixed(EDGE_T))
      for red in ("none", "mean")],
    case("bce-weight-full-3d", Spec("BCELoss", weight=np.linspace(0.1, 2.0, 24).reshape(2, 3, 4)),
         uniform(2, 3, 4, low=0.01, high=0.99), uniform(2, 3, 4)),
    case("bce-1d", Spec("BCELoss"), uniform(7, low=0.01, high=0.99), uniform(7)),
]

# --- BCEWithLogitsLoss: weight, pos_weight, both; logits of ±700
LOGITS = np.array([[-700.0, 700.0, -700.0, 700.0, 0.0, -30.0], [35.0, -90.0, 1e-3, 88.0, -88.0, 20.0]])
CASES += [
    case("bcelogits-sum", Spec("BCEWithLogitsLoss", reduction="sum"), normal(4, 3, scale=3.0),
         uniform(4, 3)),
    case("bcelogits-weight-posweight-none",
         Spec("BCEWithLogitsLoss", weight=np.array([0.5, 2.0, 1.0]), reduction="none",
              pos_weight=np.array([3.0, 0.5, 1.0])),
         normal(4, 3, scale=3.0), uniform(4, 3)),
    *[case(f"bcelogits-700-{red}", Spec("BCEWithLogitsLoss", reduction=red), fixed(LOGITS),
           fixed(EDGE_T)) for red in ("none", "mean")],
    case("bcelogits-weight", Spec("BCEWithLogitsLoss", weight=np.array([[0.5], [2.0], [1.0], [0.1]])),
         normal(4, 3), uniform(4, 3)),
    case("bcelogits-posweight-3d", Spec("BCEWithLogitsLoss", pos_weight=np.array([1.0, 4.0, 0.25])),
         normal(2, 5, 3, scale=2.0), uniform(2, 5, 3)),
    case("bcelogits-posweight-700", Spec("BCEWithLogitsLoss", pos_weight=np.full(6, 2.0),
                                         weight=np.linspace(0.5, 1.5, 6)),
         fixed(LOGITS), fixed(EDGE_T)),
    case("bcelogits-soft-targets-out-of-range", Spec("BCEWithLogitsLoss"), normal(3, 4),
         normal(3, 4)),
]

# --- element-wise regression losses: each reduction once, each option alone and combined
for i, red in enumerate(REDUCTIONS):
    shape = [(4, 5), (2, 3, 4), (7,)][i]
    CASES += [
        case(f"l1-{red}", Spec("L1Loss", reduction=red), normal(*shape), normal(*shape)),
        case(f"smoothl1-{red}", Spec("SmoothL1Loss", reduction=red), normal(*shape),
             normal(*shape)),
        case(f"huber-{red}", Spec("HuberLoss", reduction=red), normal(*shape), normal(*shape)),
        case(f"kldiv-{red}", Spec("KLDivLoss", reduction=red), normal(4, 5), probabilities(4, 5)),
        case(f"marginranking-{red}", Spec("MarginRankingLoss", reduction=red), normal(*shape),
             normal(*shape), signs(*shape)),
    ]
CASES += [
    case("smoothl1-beta0.3-mean", Spec("SmoothL1Loss", beta=0.3), normal(3, 5), normal(3, 5)),
    case("huber-delta2.5-sum", Spec("HuberLoss", "sum", 2.5), normal(3, 5, scale=3.0),
         normal(3, 5)),
    case("kldiv-logtarget-none", Spec("KLDivLoss", reduction="none", log_target=True),
         normal(4, 5), normal(4, 5)),
    case("marginranking-margin0.5-mean", Spec("MarginRankingLoss", 0.5), normal(3, 4),
         normal(3, 4), signs(3, 4)),
]
# the kinks: equal values (L1, SmoothL1 beta 0), |d| = beta / delta, the hinge exactly at 0
D = np.array([[0.0, 1.0, -1.0, 0.3, -0.3, 2.5], [-2.5, 0.5, 1e-9, 0.0, 4.0, -4.0]])
CASES += [
    case("l1-equal", Spec("L1Loss"), fixed(D), fixed(np.zeros_like(D) + D * (np.abs(D) != 1))),
    case("smoothl1-beta0", Spec("SmoothL1Loss", beta=0.0), fixed(D), fixed(D * (D > 0.4))),
    case("smoothl1-at-beta", Spec("SmoothL1Loss", beta=0.3, reduction="sum"), fixed(D),
         fixed(np.zeros_like(D))),
    case("huber-at-delta", Spec("HuberLoss", delta=2.5, reduction="none"), fixed(D),
         fixed(np.zeros_like(D))),
    case("mse-3d", Spec("MSELoss", reduction="sum"), normal(2, 3, 4), normal(2, 3, 4)),
    case("kldiv-batchmean", Spec("KLDivLoss", reduction="batchmean"), normal(4, 5),
         probabilities(4, 5)),
    case("kldiv-batchmean-logtarget-3d", Spec("KLDivLoss", reduction="batchmean", log_target=True),
         normal(2, 3, 4), normal(2, 3, 4)),
    case("kldiv-batchmean-1d", Spec("KLDivLoss", reduction="batchmean"), normal(5),
         probabilities(5, axis=0)),
    case("kldiv-zero-targets", Spec("KLDivLoss", reduction="sum"), normal(2, 3),
         fixed(np.array([[0.0, 0.5, 0.5], [1.0, 0.0, 0.0]]))),
    case("marginranking-hinge", Spec("MarginRankingLoss", 0.5, reduction="none"),
         fixed([1.5, 1.0, 2.0, 0.0]), fixed([1.0, 1.5, 1.0, 0.0]), fixed([1.0, -1.0, 1.0, -1.0])),
    # past one block of npimpl._pointwise.BLOCK = 65536 elements: 'mean'/'sum' add up the
    # blocks' sums, 'none' keeps the whole per-element array
    case("smoothl1-beta0.5-two-blocks-mean", Spec("SmoothL1Loss", beta=0.5), normal(257, 256),
         normal(257, 256)),
    case("huber-two-blocks-none", Spec("HuberLoss", reduction="none", delta=0.8),
         normal(257, 256), normal(257, 256)),
]

# --- GaussianNLLLoss: var full, homoscedastic (one dim short / one dim of size 1), a float;
# variances below eps (clamped, yet still differentiated: torch's no_grad clamp)
VAR_SMALL = np.array([[1e-9, 0.0, 0.5], [2.0, 1e-7, 1.0], [0.3, 0.3, 1e-6], [1.5, 1e-5, 0.2]])
CASES += [
    case("gaussiannll-mean", Spec("GaussianNLLLoss"), normal(4, 3), normal(4, 3),
         uniform(4, 3, low=0.1, high=2.0)),
    case("gaussiannll-full-sum-homoscedastic", Spec("GaussianNLLLoss", full=True, reduction="sum"),
         normal(4, 3), normal(4, 3), uniform(4, low=0.1, high=2.0)),
    case("gaussiannll-none-size1-dim", Spec("GaussianNLLLoss", reduction="none"), normal(2, 3, 4),
         normal(2, 3, 4), uniform(2, 1, 4, low=0.1, high=2.0)),
    case("gaussiannll-float-var-full", Spec("GaussianNLLLoss", full=True), normal(5), normal(5),
         lambda rng, dt: 0.7),
    case("gaussiannll-below-eps-none", Spec("GaussianNLLLoss", reduction="none", eps=1e-6),
         normal(4, 3, scale=1e-3), normal(4, 3, scale=1e-3), fixed(VAR_SMALL)),
    case("gaussiannll-eps0.1-mean", Spec("GaussianNLLLoss", eps=0.1), normal(4, 3), normal(4, 3),
         fixed(VAR_SMALL)),
]

# --- CosineEmbeddingLoss: each reduction, margins either side of 0, unbatched, the legacy flag;
# exact geometry: orthogonal pairs (cos = 0 exactly, on the hinge when margin = 0 and y = -1),
# parallel and anti-parallel pairs; zero and tiny vectors, where the 1e-12 EPSILON inside each
# squared norm decides cos and its gradient; labels that are neither 1 nor -1 (loss 0)
CASES += [
    *[case(f"cosineembedding-{red}", Spec("CosineEmbeddingLoss", reduction=red), normal(5, 4),
           normal(5, 4), signs(5)) for red in REDUCTIONS],
    case("cosineembedding-margin0.5-mean", Spec("CosineEmbeddingLoss", 0.5), normal(6, 3),
         normal(6, 3), signs(6)),
    case("cosineembedding-margin-0.4-none", Spec("CosineEmbeddingLoss", -0.4, reduction="none"),
         normal(4, 16), normal(4, 16), signs(4)),
    case("cosineembedding-unbatched-similar", Spec("CosineEmbeddingLoss"), normal(6), normal(6),
         fixed(np.array(1.0))),
    case("cosineembedding-unbatched-dissimilar-none",
         Spec("CosineEmbeddingLoss", -0.5, reduction="none"), normal(6), normal(6),
         fixed(np.array(-1.0))),
    case("cosineembedding-legacy-reduce-false", Spec("CosineEmbeddingLoss", 0.2, None, False),
         normal(4, 5), normal(4, 5), signs(4)),
]
COS_X1 = np.array([[1.0, 0.0, 0.0], [1.0, 1.0, 0.0], [1.0, 2.0, 2.0], [3.0, 4.0, 0.0],
                   [1.0, -1.0, 2.0], [1.0, 2.0, 2.0]])
COS_X2 = np.array([[0.0, 3.0, 0.0], [1.0, -1.0, 5.0], [2.0, 4.0, 4.0], [-3.0, -4.0, 0.0],
                   [2.0, 0.0, -1.0], [-0.5, -1.0, -1.0]])
#  rows: orthogonal, orthogonal, parallel, anti-parallel, orthogonal, anti-parallel
COS_ZERO_X1 = np.array([[0.0, 0.0, 0.0], [1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [1e-7, -2e-7, 3e-7],
                        [0.5, -1.0, 2.0]])
COS_ZERO_X2 = np.array([[1.0, 2.0, 2.0], [0.0, 0.0, 0.0], [0.0, 0.0, 0.0], [2e-7, 1e-7, 1e-7],
                        [1e-7, 3e-7, -2e-7]])
CASES += [
    case("cosineembedding-exact-hinge-none", Spec("CosineEmbeddingLoss", reduction="none"),
         fixed(COS_X1), fixed(COS_X2), fixed(np.array([-1.0, -1.0, 1.0, -1.0, 1.0, 1.0]))),
    case("cosineembedding-exact-geometry-margin-sum",
         Spec("CosineEmbeddingLoss", -0.25, reduction="sum"), fixed(COS_X1), fixed(COS_X2),
         fixed(np.array([-1.0, 1.0, -1.0, -1.0, -1.0, 1.0]))),
    case("cosineembedding-zero-vector-none", Spec("CosineEmbeddingLoss", -0.1, reduction="none"),
         fixed(COS_ZERO_X1), fixed(COS_ZERO_X2), fixed(np.array([1.0, -1.0, 1.0, 1.0, -1.0]))),
    case("cosineembedding-labels-not-pm1", Spec("CosineEmbeddingLoss", reduction="none"),
         normal(5, 3), normal(5, 3), fixed(np.array([0.0, 1.0, 2.0, -1.0, 0.5]))),
]
