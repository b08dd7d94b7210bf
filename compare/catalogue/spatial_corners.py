"""Corners of the convolution, pooling, padding, resampling and shape families that systematic
mutation (``lockstep mutate``) found untested: sizes at a check's boundary (an output of
exactly one element, an empty output torch accepts, a pad equal to the size), arguments torch
refuses (a negative pad in one dim only, a 1-tuple torch does not broadcast, an output_size
out of range in one dim only), a kernel too wide for 8-bit offsets, a whole block of output
columns in the padding, repeated unpooling indices, an axis too long for the dense
resampling matrix, a NaN under LPPool's max, AdaptiveLogSoftmaxWithLoss's inference methods.

Cases keep their class's ``layer`` and ``family``, so the report files them with the class.
A :func:`checked` case compares what each side *does* with one call: npimpl must refuse with
a clear error (a ValueError/TypeError/IndexError naming the class) exactly where torch raises,
and where both return, their outputs (and input gradients) are compared.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch
import torch.nn.functional as F

import npimpl
from reference import Spec, build

from ..badinput_verdict import _is_clear
from ..engine import Case
from ..gen import args, normal
from .corners import Compared
from .pooling import fractional, unpool, with_nan

ORDER = 46


def _np_module(spec: Spec, dt):
    """The npimpl side alone (where torch's constructor refuses the spec, build cannot run)."""
    cls = getattr(npimpl, spec.name)
    kw = dict(spec.kwargs)
    if "dtype" in inspect.signature(cls).parameters:
        kw["dtype"] = dt.type
    return cls(*spec.args, **kw)


def checked(name, family, spec, inputs, method=None, **fwd):
    """A :class:`Compared` case: ``spec`` built on both sides (weights shared when both
    accept it) and called on ``inputs(dt)`` (a list; float arrays are the differentiable ones)
    with ``fwd``, or its method ``method``. Row ``outcome``: ``refuses`` (npimpl: clearly,
    naming the class; torch: any exception), ``returns``, or how npimpl failed unclearly. Where
    both return: the output and the gradient of ``sum(output * g)`` for every float input."""
    layer = spec.name

    def compute(dt):
        xs = inputs(dt)
        np_out = t_out = None
        try:
            np_mod, t_mod = build(spec, dt.name)
        except Exception:  # noqa: BLE001 - which side refused is found below
            np_mod = t_mod = None
        try:
            np_mod = _np_module(spec, dt) if np_mod is None else np_mod
            fn = getattr(np_mod, method) if method else np_mod
            with np.errstate(all="ignore"):
                np_out = fn(*xs, **fwd)
            a = "returns"
        except Exception as exc:  # noqa: BLE001 - raising is one of the outcomes compared
            a = ("refuses" if _is_clear(exc, layer)
                 else f"fails unclearly: {type(exc).__name__}: {exc}")
        t_in = [torch.from_numpy(v.copy()).requires_grad_(v.dtype.kind == "f")
                if isinstance(v, np.ndarray) else v for v in xs]
        try:
            if t_mod is None:
                t_mod = getattr(torch.nn, layer)(*spec.args, **spec.kwargs).to(
                    getattr(torch, dt.name))
            fn = getattr(t_mod, method) if method else t_mod
            t_out = fn(*t_in, **fwd)
            b = "returns"
        except Exception:  # noqa: BLE001
            b = "refuses"
        rows = [("outcome", a, b)]
        if a == b == "returns":
            np_y = np_out[0] if isinstance(np_out, tuple) else np_out
            t_y = t_out[0] if isinstance(t_out, tuple) else t_out
            rows.append(("output", np.asarray(np_y), t_y.detach().numpy()))
            if method is None and t_y.is_floating_point() and any(
                    isinstance(t, torch.Tensor) and t.requires_grad for t in t_in):
                g = np.random.default_rng(0).standard_normal(np_y.shape).astype(np_y.dtype)
                grads = np_mod.backward(g)
                grads = grads if isinstance(grads, tuple) else (grads,)
                t_y.backward(torch.from_numpy(g))
                for i, (ga, t) in enumerate(zip(grads, t_in)):
                    if isinstance(t, torch.Tensor) and t.requires_grad:
                        rows.append((f"grad.{i}", ga, t.grad.numpy()))
        return rows
    return Compared(name, layer, family, compute)


def fixed(*arrays):
    """``dt -> [arrays]``: floats cast to the case's dtype, integer arrays (indices) kept."""
    return lambda dt: [np.asarray(a, dt) if np.asarray(a).dtype.kind == "f" else np.asarray(a)
                       for a in arrays]


def randn(*shape, seed=0):
    return np.random.default_rng(seed).standard_normal(shape)


def with_inf(*shape):
    """Normal values with +inf and -inf in every plane."""
    def gen(rng, dt):
        x = rng.standard_normal(shape).astype(dt)
        x[..., 1], x[..., -2] = np.inf, -np.inf
        return x
    return gen


def _case(name, family, spec, *shape, gen=None):
    return Case(name, spec.name, family, lambda dt: build(spec, dt),
                args(gen(*shape) if gen else normal(*shape)))


#: FractionalMaxPool2d samples for 2 samples x 2 channels, both ends of [0, 1] included
SAMPLES = np.array([[[0.0, 0.3], [0.7, 1.0]], [[0.5, 0.999], [0.25, 0.0]]])
def only_padding_windows(dt):
    """MaxPool2d((2, 1), dilation (2, 1), padding (1, 0)) over one input row: every window's
    taps are rows -1 and 1, both padding. torch outputs -inf with an index past the input,
    where its backward would write; npimpl sends those windows' gradient nowhere. The
    reference for that: torch's max pool of the input padded with -inf explicitly (the
    gradient of the padding then cut off)."""
    x = randn(2, 2, 1, 4).astype(dt)
    g = randn(2, 2, 1, 4, seed=1).astype(dt)
    m = npimpl.MaxPool2d((2, 1), stride=1, padding=(1, 0), dilation=(2, 1))
    y = m(x)
    dx = m.backward(g)
    tx = torch.from_numpy(x).requires_grad_()
    ty = F.max_pool2d(F.pad(tx, (0, 0, 1, 1), value=-np.inf), (2, 1), stride=1, dilation=(2, 1))
    ty.backward(torch.from_numpy(g))
    return [("output", y, ty.detach().numpy()), ("grad.0", dx, tx.grad.numpy())]


def embedding_grad_accumulated(dt):
    """Two backwards into one Embedding weight gradient (no zero_grad): torch adds each
    backward's sum per index to .grad; the second's two rows of index 5 cancel (1e16 and
    -1e16), so the order of the additions shows (1 + (a + b) = 1, (1 + a) + b = 0). Both
    take npimpl._scatter.add_rows's few-groups branch (the second at its boundary: 2 groups,
    2 repeats)."""
    np_m, t_m = build(Spec("Embedding", 8, 2), dt.name)
    passes = (([5, 3, 5, 5], [[0.25, 0.25], [1.0, 1.0], [0.25, 0.25], [0.5, 0.5]]),
              ([5, 5, 3], [[1e16, 1e16], [-1e16, -1e16], [1.0, 1.0]]))
    for idx, g in passes:       # the first: index 5 at rows 0, 2, 3 (a run with a gap)
        idx, g = np.array(idx), np.array(g, dt)
        np_m(idx)
        np_m.backward(g)
        t_m(torch.from_numpy(idx)).backward(torch.from_numpy(g))
    return [("weight.grad", np_m.weight.grad, t_m.weight.grad.numpy())]


def cancelling_left_border(rng, y):
    """Upstream gradient of a left pad of 2: the edge column receives -1e16, 1 and 1e16
    (torch: (-1e16 + 1) + 1e16 = 0), the rest normal."""
    g = rng.standard_normal(y.shape).astype(y.dtype)
    g[..., 0], g[..., 1], g[..., 2] = -1e16, 1, 1e16
    return g


def cancelling_taps(rng, y):
    """Upstream gradient of Upsample(size=512, mode='linear') on 128: input 60 receives
    +B (output 241, weight 7/8), -B (output 242, 7/8) and 1 (output 245, 1/8), B = 7 * 2^53,
    and nothing else; torch adds them in output order: (B - B) + 1 = 1."""
    g = rng.standard_normal(y.shape).astype(y.dtype)
    g[..., 238:246] = 0
    g[..., 241], g[..., 242], g[..., 245] = 2.0 ** 56, -2.0 ** 56, 8
    return g


def area_inf_grad(dt):
    """Upsample(size=3, mode='area') from 5 (windows of 2, 3 and 2 inputs) under an upstream
    gradient with +inf and -inf: the textbook adjoint (non-finite gradients keep it) spreads
    them over each window only, as torch's adaptive average pool does."""
    x = randn(2, 2, 5).astype(dt)
    g = randn(2, 2, 3, seed=1).astype(dt)
    g[0, :, 0], g[1, :, 2] = np.inf, -np.inf
    m = npimpl.Upsample(size=3, mode="area")
    y = m(x)
    with np.errstate(invalid="ignore"):
        dx = m.backward(g)
    tx = torch.from_numpy(x).requires_grad_()
    ty = torch.nn.Upsample(size=3, mode="area")(tx)
    ty.backward(torch.from_numpy(g))
    return [("output", y, ty.detach().numpy()), ("grad.0", dx, tx.grad.numpy())]


IDX22 = np.array([[[[0, 3], [9, 14]]]])              # a MaxPool2d(2)'s indices on 4x4
X22 = randn(1, 1, 2, 2)

CASES = [
    # --- MaxUnpool: torch's _pair / _triple take no 1-tuple; output_size by its rule --------
    checked("maxunpool2d-kernel-one-tuple-refused", "pooling", Spec("MaxUnpool2d", (2,)),
            fixed(X22, IDX22)),
    checked("maxunpool2d-stride-one-tuple-refused", "pooling", Spec("MaxUnpool2d", 2, stride=(2,)),
            fixed(X22, IDX22)),
    checked("maxunpool2d-padding-one-tuple-refused", "pooling",
            Spec("MaxUnpool2d", 2, padding=(0,)), fixed(X22, IDX22)),
    # one int, indices that a 4-element plane would hold
    checked("maxunpool2d-output-size-one-int-refused", "pooling", Spec("MaxUnpool2d", 2),
            fixed(X22, np.array([[[[0, 1], [2, 3]]]])), output_size=(4,)),
    checked("maxunpool2d-output-size-a-stride-above-refused", "pooling", Spec("MaxUnpool2d", 2),
            fixed(X22, IDX22), output_size=(6, 4)),
    checked("maxunpool2d-index-past-plane-refused", "pooling", Spec("MaxUnpool2d", 2),
            fixed(X22, np.array([[[[0, 3], [9, 16]]]]))),
    # a negative default output height, (1 - 1) * 2 + 2 - 2 * 2, on an empty batch (no index
    # to refuse first)
    checked("maxunpool2d-negative-output-empty-batch-refused", "pooling",
            Spec("MaxUnpool2d", 2, padding=(2, 0)),
            fixed(np.ones((0, 1, 1, 2)), np.zeros((0, 1, 1, 2), np.int64))),
    # an output of one element: (1 - 1) * 1 + 3 - 2 * 1
    unpool("maxunpool1d-output-one", 1, dict(kernel_size=3, stride=1, padding=1), (2, 2, 1),
           Spec("MaxUnpool1d", 3, stride=1, padding=1)),
    # --- pools: a negative pad in one dim only, a float divisor, an empty unbatched dim ----
    checked("maxpool2d-padding-negative-in-one-dim-refused", "pooling",
            Spec("MaxPool2d", 3, padding=(1, -1)), fixed(randn(1, 1, 5, 5))),
    checked("avgpool2d-divisor-override-float-refused", "pooling",
            Spec("AvgPool2d", 2, divisor_override=2.5), fixed(randn(1, 1, 4, 4))),
    checked("maxpool2d-unbatched-empty-height-refused", "pooling", Spec("MaxPool2d", 2),
            fixed(np.ones((2, 0, 4)))),
    Compared("maxpool2d-windows-of-only-padding", "MaxPool2d", "pooling", only_padding_windows),
    # LPPool: an output of one window along the axis; p = inf through a NaN (torch's sgn(NaN)
    # is 0, so the window's gradient stops there)
    _case("lppool1d-one-window", "pooling", Spec("LPPool1d", 2, 3), 2, 2, 4),
    _case("lppool2d-inf-nan", "pooling", Spec("LPPool2d", float("inf"), 2, stride=1), 2, 2, 4, 5,
          gen=with_nan),
    # FractionalMaxPool: a kernel of 257 columns (its offsets need 16 bits)
    fractional("fractionalmaxpool2d-kernel-257", Spec("FractionalMaxPool2d", (1, 257),
                                                      output_size=(1, 2)), 1, 2, 2, 258),
    checked("maxunpool1d-repeated-indices-last-wins", "pooling", Spec("MaxUnpool1d", 2, stride=1),
            fixed(randn(2, 2, 4), np.array([[[0, 1, 1, 4], [3, 3, 2, 3]],
                                            [[2, 2, 2, 0], [1, 0, 1, 0]]]))),
    # FractionalMaxPool: one output row (the last start alone), NaN (the textbook gather),
    # samples given (checked as torch cannot: within [0, 1]), arguments torch refuses
    fractional("fractionalmaxpool2d-output-height-one",
               Spec("FractionalMaxPool2d", 2, output_size=(1, 3)), 2, 2, 6, 6),
    fractional("fractionalmaxpool2d-nan-indices",
               Spec("FractionalMaxPool2d", 2, output_size=(3, 4), return_indices=True),
               2, 3, 7, 9, gen=with_nan),
    Case("fractionalmaxpool2d-given-samples", "FractionalMaxPool2d", "pooling",
         lambda dt: build(Spec("FractionalMaxPool2d", 2, output_size=(3, 4),
                               _random_samples=SAMPLES.astype(dt)), dt), args(normal(2, 2, 7, 8))),
    checked("fractionalmaxpool2d-output-height-zero", "pooling",
            Spec("FractionalMaxPool2d", 2, output_size=(0, 3)), fixed(randn(1, 1, 6, 6))),
    checked("fractionalmaxpool2d-kernel-one-tuple-refused", "pooling",
            Spec("FractionalMaxPool2d", (2,), output_size=3), fixed(randn(1, 1, 6, 6))),
    checked("fractionalmaxpool2d-output-size-one-tuple-refused", "pooling",
            Spec("FractionalMaxPool2d", 2, output_size=(3,)), fixed(randn(1, 1, 6, 6))),
    checked("fractionalmaxpool2d-output-size-negative-refused", "pooling",
            Spec("FractionalMaxPool2d", 2, output_size=(-1, 3)), fixed(randn(1, 1, 6, 6))),
    checked("fractionalmaxpool2d-output-ratio-zero-refused", "pooling",
            Spec("FractionalMaxPool2d", 2, output_ratio=(0, 0.5)), fixed(randn(1, 1, 6, 6))),
    checked("fractionalmaxpool2d-kernel-one-past-the-input-refused", "pooling",
            Spec("FractionalMaxPool2d", 3, output_size=(6, 3)), fixed(randn(1, 1, 7, 7))),
    checked("fractionalmaxpool3d-kernel-reaching-the-end-refused", "pooling",
            Spec("FractionalMaxPool3d", 2, output_size=3), fixed(randn(1, 1, 4, 5, 5))),
    # --- padding: every mode's limit at equality, empty outputs torch gives ---------------
    checked("zeropad1d-crop-past-the-size-refused", "padding", Spec("ZeroPad1d", (-4, 0)),
            fixed(randn(1, 2, 3))),
    checked("zeropad1d-crop-to-empty", "padding", Spec("ZeroPad1d", (-2, -1)),
            fixed(randn(2, 2, 3))),
    checked("reflectionpad1d-pad-equals-size-refused", "padding", Spec("ReflectionPad1d", (0, 3)),
            fixed(randn(1, 2, 3))),
    checked("circularpad1d-crop-to-empty", "padding", Spec("CircularPad1d", (-2, -1)),
            fixed(randn(2, 2, 3))),
    checked("replicationpad2d-one-dim-empty", "padding", Spec("ReplicationPad2d", (0, 0, -2, -1)),
            fixed(randn(2, 2, 3, 4))),
    # a left border of 2 in one dim, none elsewhere: npimpl._padding_fast's adjoint (which
    # adds the border back last position first) instead of padding.pad_backward (first
    # first); cancelling upstream values make the order show, and torch's is the former's
    Case("replicationpad2d-left-only-cancelling-grad", "ReplicationPad2d", "padding",
         lambda dt: build(Spec("ReplicationPad2d", (2, 0, 0, 0)), dt), args(normal(2, 2, 2, 3)),
         grad=cancelling_left_border),
    # --- resampling ----------------------------------------------------------------------
    checked("unfold-zero-dilation-in-one-dim-refused", "resample",
            Spec("Unfold", 2, dilation=(1, 0)),
            fixed(randn(1, 1, 4, 4))),
    checked("unfold-too-small-in-one-dim-refused", "resample", Spec("Unfold", 3),
            fixed(randn(1, 1, 2, 5))),
    _case("fold-output-height-one", "resample", Spec("Fold", (1, 4), (1, 2)), 2, 2, 3),
    checked("upsample-float-size-refused", "resample", Spec("Upsample", size=2.5),
            fixed(randn(1, 1, 3))),
    checked("upsample-empty-height-refused", "resample", Spec("Upsample", size=(2, 3)),
            fixed(np.ones((1, 1, 0, 3)))),
    checked("upsample-size-zero-in-one-dim-refused", "resample", Spec("Upsample", size=(0, 3)),
            fixed(randn(1, 1, 2, 3))),
    _case("upsample-bilinear-height-one", "resample",
          Spec("Upsample", scale_factor=2, mode="bilinear"), 2, 2, 1, 3),
    # 200 -> 400 along one axis: 80000 matrix entries, past _interp_fast.MAX_DENSE, so the
    # textbook gather and its reduceat adjoint run (forward and backward)
    _case("upsample-linear-long-axis", "resample", Spec("Upsample", size=400, mode="linear"),
          1, 2, 200),
    # area: the inputs of each window only (a shorter window's padding reads would make
    # 0 * inf = NaN); non-finite inputs keep the textbook path
    _case("upsample-area-inf", "resample", Spec("Upsample", size=3, mode="area"), 2, 2, 5,
          gen=with_inf),
    # 3-D, the width past MAX_DENSE (260 -> 300), the others not: the textbook adjoint
    # moves each axis back in its place (with three, moving back is not a swap)
    _case("upsample-trilinear-long-width", "resample", Spec("Upsample", size=(3, 2, 300),
                                                            mode="trilinear"), 1, 2, 2, 2, 260),
    # 128 -> 512: exactly _interp_fast.MAX_DENSE entries, still the dense matrix, whose
    # adjoint adds in output order as torch does; a cancelling upstream gradient shows it
    # (the textbook adjoint sums each tap apart: -B + 1 absorbs the 1, then + B gives 0)
    Case("upsample-linear-dense-limit-cancelling-grad", "Upsample", "resample",
         lambda dt: build(Spec("Upsample", size=512, mode="linear"), dt), args(normal(2, 2, 128)),
         grad=cancelling_taps),
    Compared("upsample-area-inf-grad", "Upsample", "resample", area_inf_grad),
    # --- shape ---------------------------------------------------------------------------
    _case("unflatten-three-sizes-inferred-last", "core", Spec("Unflatten", 1, (3, 4, -1)), 2, 24),
    _case("unflatten-one-beside-inferred", "core", Spec("Unflatten", 1, (1, -1)), 2, 6),
    checked("unflatten-zero-beside-inferred-refused", "core", Spec("Unflatten", 1, (0, -1)),
            fixed(np.ones((2, 0)))),
    # --- convolution ---------------------------------------------------------------------
    checked("convtranspose2d-output-size-float-refused", "conv",
            Spec("ConvTranspose2d", 2, 3, 3, stride=(3, 2), padding=1),
            fixed(randn(2, 2, 3, 4)), output_size=(8, 8.0)),
    checked("convtranspose2d-output-size-out-of-range-in-one-dim-refused", "conv",
            Spec("ConvTranspose2d", 2, 3, 3, stride=(3, 2), padding=1),
            fixed(randn(2, 2, 3, 4)), output_size=(8, 10)),
    checked("convtranspose1d-output-size-zero-refused", "conv",
            Spec("ConvTranspose1d", 1, 1, 2, padding=1), fixed(randn(1, 1, 1))),
    # depthwise with 20 columns of zero padding on the left: output block 0 lies in it
    _case("conv2d-depthwise-block-in-the-padding", "conv",
          Spec("Conv2d", 2, 2, 3, padding=(1, 20), groups=2), 1, 2, 4, 5),
    # torch's F.pad refuses a 1-tuple for a 2-D non-zero padding mode; 'same' with a
    # non-zero mode takes a 1-D 1-tuple dilation, and a 2-D one of two
    checked("conv2d-reflect-padding-one-tuple-refused", "conv",
            Spec("Conv2d", 2, 3, 3, padding=(1,), padding_mode="reflect"),
            fixed(randn(1, 2, 5, 5))),
    _case("conv1d-same-reflect-dilation-one-tuple", "conv",
          Spec("Conv1d", 2, 3, 3, padding="same", padding_mode="reflect", dilation=(2,)), 2, 2, 7),
    _case("conv2d-same-reflect-dilation-pair", "conv",
          Spec("Conv2d", 2, 3, 3, padding="same", padding_mode="reflect", dilation=(1, 2)),
          2, 2, 5, 7),
    checked("conv2d-stride-zero-in-one-dim-refused", "conv", Spec("Conv2d", 2, 3, 3, stride=(1, 0)),
            fixed(randn(1, 2, 5, 5))),
    checked("conv2d-input-too-short-in-height-refused", "conv", Spec("Conv2d", 2, 3, 3),
            fixed(randn(1, 2, 2, 5))),
    checked("conv2d-kernel-one-tuple-refused", "conv", Spec("Conv2d", 2, 3, (3,)),
            fixed(randn(1, 2, 5, 5))),
    _case("conv1d-reflect-padding-one-tuple", "conv",
          Spec("Conv1d", 2, 3, 3, padding=(1,), padding_mode="reflect"), 2, 2, 7),
    # one input row, padded by one on each side: exactly the kernel's height
    _case("conv2d-pad1-input-height-one", "conv", Spec("Conv2d", 2, 3, 3, padding=1), 2, 2, 1, 5),
    # depthwise through an inf: the band's matmul would multiply it by zeros (NaN); im2col
    _case("conv2d-depthwise-inf", "conv", Spec("Conv2d", 2, 2, 3, groups=2, padding=1),
          2, 2, 5, 6, gen=with_inf),
    # depthwise with a stride in one dim only: im2col, not the stride-1 band
    _case("conv2d-depthwise-stride-2x1", "conv", Spec("Conv2d", 3, 3, 3, groups=3, stride=(2, 1)),
          2, 3, 7, 8),
    # --- Embedding: a second backward adds to .grad (npimpl._scatter's grouped sums)
    Compared("embedding-grad-accumulated-cancelling", "Embedding", "norm",
             embedding_grad_accumulated),
    # --- AdaptiveLogSoftmaxWithLoss: its cutoffs, and the inference methods ---------------
    checked("adaptive-cutoff-zero-refused", "loss",
            Spec("AdaptiveLogSoftmaxWithLoss", 4, 8, [0, 5]),
            fixed(randn(2, 4), np.array([1, 2]))),
    checked("adaptive-log-prob", "loss", Spec("AdaptiveLogSoftmaxWithLoss", 6, 9, [2, 5], 2.0),
            fixed(randn(16, 6, seed=1)), method="log_prob"),
    checked("adaptive-predict", "loss", Spec("AdaptiveLogSoftmaxWithLoss", 6, 9, [2, 5], 2.0),
            fixed(randn(16, 6, seed=1)), method="predict"),
]
