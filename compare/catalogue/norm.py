"""Normalisation, dropout and embedding cases: every option alone and combined, and an MLP
with BatchNorm1d + Dropout trained in lockstep, then probed in eval mode."""
from __future__ import annotations

import numpy as np
import torch

from reference import Spec, build, optimizer_pair, seq, share_weights

from ..engine import Case, Trajectory
from ..gen import args, fixed, normal

ORDER = 50


def randomize_(t_mod: torch.nn.Module) -> None:
    """Redraw torch's defaults, which would hide a transposed or missing term: weights from
    N(1, 0.5), biases and running means from N(0, 0.5), running variances from U(0.5, 2), and
    num_batches_tracked = 4 (so momentum=None averages with factor 1/5, not 1)."""
    with torch.no_grad():
        for name, p in t_mod.named_parameters():
            p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))
        for name, b in t_mod.named_buffers():
            if name.endswith("running_mean"):
                b.copy_(torch.randn_like(b) * 0.5)
            elif name.endswith("running_var"):
                b.copy_(torch.rand_like(b) * 1.5 + 0.5)
            elif name.endswith("num_batches_tracked"):
                b.fill_(4)


def seed_masks_(np_mod) -> None:
    """Give every dropout module a generator seeded from torch's (seeded) stream, so that a
    run's masks are reproducible."""
    for m in np_mod.modules():
        if hasattr(m, "rng"):
            m.rng = np.random.default_rng(int(torch.randint(2**31 - 1, ())))


def randomized(spec: Spec, train: bool = True):
    """``dtype -> (npimpl, torch)`` built from ``spec``, redrawn by :func:`randomize_` and
    shared again, dropout masks seeded. The engine seeds torch before building, so every draw
    is reproducible."""
    def model(dt):
        np_mod, t_mod = build(spec, dt)
        randomize_(t_mod)
        share_weights(np_mod, t_mod)
        seed_masks_(np_mod)
        return (np_mod, t_mod) if train else (np_mod.eval(), t_mod.eval())
    return model


def single(name, spec, inputs, layer=None, family="norm", train=True, note="", grad=None):
    return Case(name, layer or spec.name, family, randomized(spec, train), inputs, note=note,
                grad=grad)


def small_grad(scale: float):
    """An upstream gradient of ``scale`` * N(0, 1), for a layer that amplifies it ~1/scale
    times: the input gradient is then of order 1 like every other case's. Of order 1e3,
    float32 rounding of its cancellations (``g - mean(g)``) alone exceeds an elementwise
    rtol of 1.3e-6 on both sides, against the exact answer too; that is float32, not the
    layer (measured: RMSNorm at 1e-3 inputs, NumPy 1.3x and torch 1.7x the tolerance from
    float64's answer at seed 2, up to 9x over 40 seeds; LayerNorm on a constant row, 0.995x
    at seed 18 of 20)."""
    return lambda rng, out: (rng.standard_normal(out.shape) * scale).astype(out.dtype)


CASES = [
    # LayerNorm: one trailing dim, several, without affine, without bias, an odd eps
    single("layernorm-last", Spec("LayerNorm", 6), args(normal(4, 6, scale=2.0, shift=1.0))),
    single("layernorm-3d", Spec("LayerNorm", 5), args(normal(2, 3, 5))),
    single("layernorm-2dims", Spec("LayerNorm", (3, 4)), args(normal(2, 3, 4))),
    single("layernorm-unbatched", Spec("LayerNorm", [7]), args(normal(7))),
    single("layernorm-noaffine", Spec("LayerNorm", 6, elementwise_affine=False),
           args(normal(4, 6))),
    single("layernorm-nobias", Spec("LayerNorm", 6, bias=False), args(normal(4, 6))),
    single("layernorm-eps-nobias-2dims", Spec("LayerNorm", (2, 5), eps=1e-2, bias=False),
           args(normal(3, 2, 5, scale=0.1))),
]

# RMSNorm: eps=None is finfo(input dtype).eps; a tiny-scale input makes eps matter
CASES += [
    single("rmsnorm-last", Spec("RMSNorm", 6), args(normal(4, 6, scale=2.0, shift=1.0))),
    single("rmsnorm-2dims", Spec("RMSNorm", (3, 4)), args(normal(2, 3, 4))),
    single("rmsnorm-noaffine", Spec("RMSNorm", 5, elementwise_affine=False), args(normal(3, 5))),
    single("rmsnorm-eps0.1", Spec("RMSNorm", 5, eps=0.1), args(normal(2, 3, 5, scale=0.3))),
    single("rmsnorm-eps-default-small-input", Spec("RMSNorm", 4), args(normal(3, 4, scale=1e-3)),
           note="eps=None is finfo(dtype).eps: 1.2e-7 is ~10% of this mean square (~1e-6) in "
                "float32, 2.2e-16 is nothing in float64; dy ~ 1e-3 N(0, 1) (small_grad)",
           grad=small_grad(1e-3)),
    single("rmsnorm-unbatched-noaffine-eps1e-3",
           Spec("RMSNorm", [6], eps=1e-3, elementwise_affine=False), args(normal(6))),
]

# GroupNorm: G = 1 (LayerNorm-like), 1 < G < C, G = C (InstanceNorm-like), 2-D to 5-D inputs
CASES += [
    single("groupnorm-g2", Spec("GroupNorm", 2, 6), args(normal(3, 6, 2, 3, scale=2.0, shift=1.0))),
    single("groupnorm-g1", Spec("GroupNorm", 1, 4), args(normal(2, 4, 3, 2))),
    single("groupnorm-gc", Spec("GroupNorm", 4, 4), args(normal(2, 4, 5))),
    single("groupnorm-2d-input", Spec("GroupNorm", 2, 6), args(normal(4, 6))),
    single("groupnorm-5d-input", Spec("GroupNorm", 2, 4), args(normal(2, 4, 2, 2, 3))),
    single("groupnorm-noaffine", Spec("GroupNorm", 2, 6, affine=False), args(normal(2, 6, 3, 3))),
    single("groupnorm-nobias-eps0.1", Spec("GroupNorm", 3, 6, eps=0.1, bias=False),
           args(normal(2, 6, 2, 2, scale=0.5))),
]
# Degenerate input where torch's float32 kernel is the one that is off (compare/torchoff.py):
# both sides are also judged against torch in float64 on the same float32 inputs
CASES += [
    Case("layernorm-float32-constant-1e5", "LayerNorm", "norm",
         randomized(Spec("LayerNorm", 16)), args(fixed(np.full((4, 16), 100000.3))),
         dtypes=("float32",), reference64=True, grad=small_grad(1e-2),
         note="a constant row: the exact output is the bias and dx = rstd (g - mean(g)); "
              "torch's float32 Welford leaves a mean off by one rounding, which rstd = 316 "
              "amplifies (float32 only: in float64 torch's rounding residue is 1e-9, no "
              "reference is finer); dy ~ 1e-2 N(0, 1) (small_grad)"),
    Case("groupnorm-float32-constant", "GroupNorm", "norm", randomized(Spec("GroupNorm", 2, 8)),
         args(fixed(np.full((2, 8, 16), 1234.5))), dtypes=("float32",), reference64=True,
         grad=small_grad(1e-2),
         note="as layernorm-float32-constant-1e5, with torch's GroupNorm kernel"),
    Case("layernorm-huge-1e20", "LayerNorm", "norm", randomized(Spec("LayerNorm", 6)),
         args(normal(3, 6, scale=1e20)), reference64=True,
         note="squares past float32's 3.4e38: torch's float32 output is 0 or NaN; npimpl "
              "rescales the row (LayerNorm's docstring)"),
    Case("groupnorm-huge-1e30", "GroupNorm", "norm", randomized(Spec("GroupNorm", 2, 4)),
         args(normal(2, 4, 3, scale=1e30)), reference64=True,
         note="as layernorm-huge-1e20, with GroupNorm at 1e30"),
    Case("groupnorm-huge-1e30-batch1", "GroupNorm", "norm", randomized(Spec("GroupNorm", 2, 4)),
         args(normal(1, 4, 3, scale=1e30)), reference64=True,
         note="one sample through GroupNorm's textbook (the squares overflow float32)"),
]

# InstanceNorm2d: defaults have no parameters and no buffers; every option and mode
IN_OPTIONS = [
    ("default", {}),
    ("affine", {"affine": True}),
    ("track", {"track_running_stats": True}),
    ("affine-track-momentum0.3", {"affine": True, "track_running_stats": True, "momentum": 0.3}),
    ("affine-nobias-track-momentum-none-eps1e-2",
     {"affine": True, "bias": False, "track_running_stats": True, "momentum": None, "eps": 1e-2}),
]
for opt_id, kw in IN_OPTIONS:
    for train in (True, False):
        CASES.append(single(f"instancenorm2d-{opt_id}-{'train' if train else 'eval'}",
                            Spec("InstanceNorm2d", 3, **kw),
                            args(normal(4, 3, 3, 2, scale=2.0, shift=1.0)), train=train))
# InstanceNorm1d / 3d: the same code with one / three spatial dims; each option once
for layer, shape in (("InstanceNorm1d", (4, 3, 5)), ("InstanceNorm3d", (2, 3, 2, 3, 2))):
    for opt_id, kw in IN_OPTIONS[1:4:2]:
        for train in (True, False):
            CASES.append(single(f"{layer.lower()}-{opt_id}-{'train' if train else 'eval'}",
                                Spec(layer, 3, **kw),
                                args(normal(*shape, scale=2.0, shift=1.0)), train=train))
CASES += [
    single("instancenorm1d-default", Spec("InstanceNorm1d", 3), args(normal(4, 3, 6))),
    single("instancenorm1d-unbatched-affine-track", Spec("InstanceNorm1d", 3, affine=True,
                                                         track_running_stats=True),
           args(normal(3, 7))),
    single("instancenorm3d-unbatched-affine-nobias-momentum-none",
           Spec("InstanceNorm3d", 2, affine=True, bias=False, track_running_stats=True,
                momentum=None), args(normal(2, 3, 2, 2))),
]
CASES += [
    single("instancenorm2d-unbatched-affine-track", Spec("InstanceNorm2d", 3, affine=True,
                                                         track_running_stats=True),
           args(normal(3, 2, 4))),
    single("instancenorm2d-unbatched-affine-track-eval", Spec("InstanceNorm2d", 3, affine=True,
                                                              track_running_stats=True),
           args(normal(3, 2, 4)), train=False),
]


# --- Embedding / EmbeddingBag ------------------------------------------------------------------
def repeated(*shape, n: int, hits=(2, 0)):
    """Integer indices in [0, n) with ``hits`` forced in: index 2 three times (repeated
    gradients add up) and the padding candidate 0 at least once."""
    def gen(rng, dt):
        idx = rng.integers(0, n, shape).astype(np.int64)
        flat = idx.reshape(-1)
        flat[:3] = hits[0]
        flat[-1] = hits[1]
        return idx
    return gen


def emb(name, spec, inputs, layer=None):
    return single(name, spec, inputs, layer=layer, family="norm")


def bag_offsets(*offsets):
    return lambda rng, dt: np.array(offsets, dtype=np.int64)


CASES += [
    emb("embedding-plain", Spec("Embedding", 7, 4), args(repeated(3, 5, n=7))),
    emb("embedding-1d", Spec("Embedding", 5, 3), args(repeated(6, n=5))),
    emb("embedding-padding", Spec("Embedding", 7, 4, padding_idx=0), args(repeated(3, 5, n=7))),
    emb("embedding-padding-negative", Spec("Embedding", 7, 4, padding_idx=-7),
        args(repeated(3, 5, n=7))),
    emb("embedding-maxnorm", Spec("Embedding", 7, 4, max_norm=2.0), args(repeated(3, 5, n=7))),
    emb("embedding-maxnorm-l1", Spec("Embedding", 7, 4, max_norm=3.0, norm_type=1.0),
        args(repeated(3, 5, n=7))),
    emb("embedding-freq", Spec("Embedding", 7, 4, scale_grad_by_freq=True),
        args(repeated(3, 5, n=7))),
    emb("embedding-all", Spec("Embedding", 7, 4, padding_idx=0, max_norm=2.0,
                              scale_grad_by_freq=True), args(repeated(2, 3, 4, n=7))),
]
for mode in ("sum", "mean", "max"):
    CASES += [
        emb(f"embeddingbag-{mode}-2d", Spec("EmbeddingBag", 7, 4, mode=mode),
            args(repeated(3, 4, n=7))),
        emb(f"embeddingbag-{mode}-offsets", Spec("EmbeddingBag", 7, 4, mode=mode),
            args(repeated(9, n=7), bag_offsets(0, 2, 2, 6))),   # bag 1 is empty
        emb(f"embeddingbag-{mode}-padding", Spec("EmbeddingBag", 7, 4, mode=mode, padding_idx=2),
            args(repeated(3, 4, n=7))),                          # bag 0 is all padding
        emb(f"embeddingbag-{mode}-lastoffset-maxnorm",
            Spec("EmbeddingBag", 7, 4, mode=mode, include_last_offset=True, max_norm=2.0),
            args(repeated(8, n=7), bag_offsets(0, 3, 5, 8))),
    ]
CASES += [
    emb("embeddingbag-sum-psw", Spec("EmbeddingBag", 7, 4, mode="sum"),
        args(repeated(9, n=7), bag_offsets(0, 4, 4, 7), normal(9))),
    emb("embeddingbag-sum-psw-2d-padding", Spec("EmbeddingBag", 7, 4, mode="sum", padding_idx=0),
        args(repeated(3, 4, n=7), lambda rng, dt: None, normal(3, 4))),
    # scale_grad_by_freq: torch 2.13's CPU EmbeddingBag divides by the wrong count when a
    # repeated index is not the largest one (pytorch/pytorch#190063), so these cases repeat
    # only the largest index; tests/test_embedding.py checks mixed counts against F.embedding.
    emb("embeddingbag-mean-freq-padding",
        Spec("EmbeddingBag", 7, 4, mode="mean", scale_grad_by_freq=True, padding_idx=0),
        args(fixed([0, 6, 2, 6, 1, 6, 3, 6, 4, 5]), bag_offsets(0, 5, 9))),
    emb("embeddingbag-sum-freq-psw-maxnorm",
        Spec("EmbeddingBag", 7, 4, mode="sum", scale_grad_by_freq=True, max_norm=1.5),
        args(fixed([6, 1, 6, 0, 2, 6, 3, 5, 4, 6]), bag_offsets(0, 3, 7), normal(10))),
]


# --- BatchNorm ---------------------------------------------------------------------------------
BN_INPUTS = {"BatchNorm1d": [("2d", normal(6, 4, scale=2.0, shift=1.0)),
                             ("3d", normal(3, 4, 5, scale=2.0, shift=-1.0))],
             "BatchNorm2d": [("4d", normal(3, 4, 2, 3, scale=2.0, shift=1.0))],
             "BatchNorm3d": [("5d", normal(2, 4, 2, 3, 2, scale=2.0, shift=1.0))]}
BN_OPTIONS = [
    ("default", {}),
    ("momentum-none", {"momentum": None}),
    ("momentum0.3-eps1e-3", {"momentum": 0.3, "eps": 1e-3}),
    ("noaffine", {"affine": False}),
    ("nobias", {"bias": False}),
    ("notrack", {"track_running_stats": False}),
    ("noaffine-notrack-eps0.1", {"affine": False, "track_running_stats": False, "eps": 0.1}),
    ("nobias-momentum-none-eps1e-2", {"bias": False, "momentum": None, "eps": 1e-2}),
]
for layer, shapes in BN_INPUTS.items():
    for shape_id, gen in shapes:
        for opt_id, kw in BN_OPTIONS:
            # momentum plays no part in eval mode: those options are checked in training only
            for train in ((True,) if "momentum" in opt_id else (True, False)):
                CASES.append(single(f"{layer.lower()}-{shape_id}-{opt_id}-"
                                    f"{'train' if train else 'eval'}",
                                    Spec(layer, 4, **kw), args(gen), train=train))
CASES += [
    single("batchnorm1d-batch2-train", Spec("BatchNorm1d", 3), args(normal(2, 3)),
           note="the smallest batch that trains: n = 2, unbiased factor n/(n-1) = 2"),
    single("batchnorm1d-3d-batch1-train", Spec("BatchNorm1d", 3), args(normal(1, 3, 4)),
           note="one sample, but 4 values per channel along L: allowed"),
]




def staged(spec: Spec, train: bool = True):
    """:func:`randomized`, with the NumPy module switched to its whole-array textbook
    (``_staged``: BatchNorm's seven steps, LayerNorm's ``layer_norm_forward``/``_backward``),
    which the default blocked/closed-form path otherwise leaves to empty batches."""
    make = randomized(spec, train)

    def model(dt):
        np_mod, t_mod = make(dt)
        for m in np_mod.modules():
            if hasattr(m, "_staged"):
                m._staged = True
        return np_mod, t_mod
    return model


CASES += [
    Case("batchnorm2d-staged-train", "BatchNorm2d", "norm", staged(Spec("BatchNorm2d", 4)),
         args(normal(3, 4, 2, 3, scale=2.0, shift=1.0)),
         note="the staged textbook (BatchNorm's _staged) on a real batch"),
    Case("batchnorm1d-staged-noaffine-momentum-none", "BatchNorm1d", "norm",
         staged(Spec("BatchNorm1d", 4, affine=False, momentum=None)),
         args(normal(6, 4, scale=2.0, shift=-1.0)), note="the staged textbook without weights"),
    Case("batchnorm1d-staged-nobias-3d-eval", "BatchNorm1d", "norm",
         staged(Spec("BatchNorm1d", 4, bias=False), train=False),
         args(normal(3, 4, 5, scale=2.0, shift=1.0)),
         note="the staged textbook in eval (running statistics)"),
    Case("layernorm-staged-2dims", "LayerNorm", "norm", staged(Spec("LayerNorm", (3, 4))),
         args(normal(2, 3, 4, scale=2.0, shift=1.0)),
         note="LayerNorm's whole-array textbook (_staged) instead of the blocked rows"),
    # empty batches: GroupNorm's textbook path, whose parameter gradients are sums of nothing
    single("groupnorm-empty-batch", Spec("GroupNorm", 2, 4), args(normal(0, 4, 3))),
    single("groupnorm-empty-batch-noaffine", Spec("GroupNorm", 2, 4, affine=False),
           args(normal(0, 4, 3))),
    single("layernorm-empty-batch", Spec("LayerNorm", 3), args(normal(0, 3))),
]


def then_inplace_relu(norm: Spec, features: int) -> Spec:
    """``norm``, an in-place ReLU on its output, a Linear: without an affine map the output is
    the normalised input itself, which the norm's backward needs, so it must be a copy (torch
    saves the input and the statistics instead)."""
    return seq(norm, Spec("ReLU", inplace=True), Spec("Linear", features, 2))


CASES += [
    *[single(f"{norm.name.lower()}-noaffine-then-inplace-relu", then_inplace_relu(norm, 3),
             args(normal(5, 4, 3)), layer=norm.name)
      for norm in (Spec("LayerNorm", 3, elementwise_affine=False),
                   Spec("RMSNorm", 3, elementwise_affine=False),
                   Spec("GroupNorm", 2, 4, affine=False), Spec("InstanceNorm1d", 4))],
    *[Case(f"{norm.name.lower()}-staged-noaffine-then-inplace-relu", norm.name, "norm",
           staged(then_inplace_relu(norm, 3)), args(normal(5, 4, 3)))
      for norm in (Spec("LayerNorm", 3, elementwise_affine=False),)],
]


# --- Dropout / Dropout2d: the torch twin reuses the NumPy mask (reference.SharedMaskDropout) ----
def drop(name, spec, inputs, train=True, note=""):
    return single(name, spec, inputs, family="norm", train=train, note=note)


CASES += [
    drop("dropout-train", Spec("Dropout", 0.3), args(normal(5, 8))),
    drop("dropout-eval", Spec("Dropout", 0.3), args(normal(5, 8)), train=False),
    drop("dropout-p0", Spec("Dropout", 0.0), args(normal(4, 6))),
    drop("dropout-p1", Spec("Dropout", 1.0), args(normal(4, 6)), note="torch: input * 0"),
    drop("dropout-3d-p0.5", Spec("Dropout", 0.5), args(normal(2, 3, 4))),
    drop("dropout2d-train", Spec("Dropout2d", 0.4), args(normal(3, 5, 2, 3))),
    drop("dropout2d-eval", Spec("Dropout2d", 0.4), args(normal(3, 5, 2, 3)), train=False),
    drop("dropout2d-p1", Spec("Dropout2d", 1.0), args(normal(2, 3, 2, 2))),
    drop("dropout2d-3d-as-ncl", Spec("Dropout2d", 0.5), args(normal(4, 3, 5)),
         note="torch reads a 3-D input as (N, C, L)"),
    drop("dropout1d-train", Spec("Dropout1d", 0.4), args(normal(4, 5, 6))),
    drop("dropout1d-unbatched", Spec("Dropout1d", 0.5), args(normal(6, 7)),
         note="(C, L): whole channels"),
    drop("dropout1d-eval", Spec("Dropout1d", 0.4), args(normal(4, 5, 6)), train=False),
    drop("dropout3d-train", Spec("Dropout3d", 0.4), args(normal(3, 4, 2, 2, 3))),
    drop("dropout3d-unbatched", Spec("Dropout3d", 0.5), args(normal(5, 2, 3, 2)),
         note="(C, D, H, W): whole volumes"),
    drop("dropout3d-3d-masks-dim0", Spec("Dropout3d", 0.5), args(normal(6, 3, 4)),
         note="torch reads a 3-D input as unbatched: dim 0 is masked"),
    drop("dropout3d-p1", Spec("Dropout3d", 1.0), args(normal(2, 3, 2, 2, 2))),
    single("dropout-inplace-in-sequential", seq(Spec("Linear", 4, 6),
                                                Spec("Dropout", 0.3, inplace=True),
                                                Spec("Linear", 6, 3)),
           args(normal(5, 4)), layer="Dropout",
           note="inplace=True masks the Linear's output in place (torch refuses it on a leaf)"),
]


# --- an MLP with BatchNorm1d + Dropout, 100 SGD steps in lockstep, then probed in eval mode -------
def _blobs(n: int = 96, d: int = 6, k: int = 3, seed: int = 11):
    """k Gaussian blobs in d dimensions, shifted and scaled so BatchNorm has work to do."""
    r = np.random.default_rng(seed)
    centres = r.standard_normal((k, d)) * 2.0
    y = r.integers(0, k, n).astype(np.int64)
    return centres[y] + r.standard_normal((n, d)) * 1.5 + 3.0, y


_BX, _BY = _blobs()


def minibatches(size: int = 16):
    """A fresh random minibatch every step (from the case's seeded stream), so the batch
    statistics, and with them the running buffers, change from step to step."""
    def batch(rng, dt, step):
        i = rng.choice(len(_BX), size, replace=False)
        return _BX[i].astype(dt), _BY[i]
    return batch


def bn_mlp(momentum):
    spec = seq(Spec("Linear", 6, 16), Spec("BatchNorm1d", 16, momentum=momentum), Spec("ReLU"),
               Spec("Dropout", 0.3), Spec("Linear", 16, 16), Spec("BatchNorm1d", 16, affine=False),
               Spec("Tanh"), Spec("Dropout", 0.2), Spec("Linear", 16, 3))

    def model(dt):
        np_mod, t_mod = build(spec, dt)
        seed_masks_(np_mod)
        return np_mod, t_mod
    return model


# the run is the first (100 steps); the cumulative average needs fewer to show its
# 1/num_batches_tracked factor, and the suite must stay fast
for tag, momentum, steps in (("", 0.1, 100), ("-cumulative", None, 30)):
    CASES.append(Trajectory(
        f"mlp-batchnorm-dropout{tag}-sgd", "BatchNorm1d", "training", model=bn_mlp(momentum),
        loss=lambda dt: build(Spec("CrossEntropyLoss"), dt), batches=minibatches(),
        optimizer=lambda m, t: optimizer_pair("SGD", m, t, lr=0.05, momentum=0.9,
                                              weight_decay=1e-3),
        steps=steps, probe=lambda dt: (_BX[:24] + 0.25).astype(dt),
        note=f"{steps} SGD steps of Linear-BatchNorm1d-ReLU-Dropout twice, minibatches of 16, "
             "dropout masks shared "
             f"(SharedMaskDropout); BatchNorm momentum={momentum}; probe = eval mode, which "
             "uses the running statistics and switches dropout off"))
