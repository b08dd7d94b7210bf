"""Pooling: which input a tie routes the gradient to (constructed ties, checked against the rule
and against torch), NaN and -inf windows, divisors, adaptive windows, errors."""
import inspect

import numpy as np
import pytest
import torch

import npimpl
from npimpl import _pool
from reference import Spec, build, to_numpy, to_torch

POOLS = ["MaxPool1d", "MaxPool2d", "MaxPool3d", "AvgPool1d", "AvgPool2d", "AvgPool3d",
         "AdaptiveAvgPool1d", "AdaptiveAvgPool2d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d",
         "AdaptiveMaxPool2d", "AdaptiveMaxPool3d", "LPPool1d", "LPPool2d", "LPPool3d",
         "FractionalMaxPool2d", "FractionalMaxPool3d", "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d"]


@pytest.mark.parametrize("name", POOLS)
def test_signature_matches_torch(name):
    ours = inspect.signature(getattr(npimpl, name)).parameters
    theirs = inspect.signature(getattr(torch.nn, name)).parameters
    assert [k for k in ours if k not in ("dtype", "rng")] == list(theirs)
    for k, p in theirs.items():
        assert ours[k].default == p.default, k


def torch_grad(tmod, x, g):
    tx = to_torch(x, requires_grad=True)
    out = tmod(tx)
    (out[0] if isinstance(out, tuple) else out).backward(to_torch(g))
    return out, to_numpy(tx.grad)


def test_tie_in_one_window_goes_to_the_first_in_row_major_order():
    # the window [[0, 5], [5, 0]] holds two maxima: (0, 1) comes before (1, 0)
    x = np.array([[[[0.0, 5.0], [5.0, 0.0]]]])
    m = npimpl.MaxPool2d(2, return_indices=True)
    y, idx = m(x)
    assert idx.ravel().tolist() == [1]
    dx = m.backward(np.array([[[[1.0]]]]), None)
    assert dx.ravel().tolist() == [0.0, 1.0, 0.0, 0.0]
    _, tdx = torch_grad(torch.nn.MaxPool2d(2, return_indices=True), x, np.ones((1, 1, 1, 1)))
    assert np.array_equal(dx, tdx)


def test_tie_between_rows_goes_to_the_upper_row():
    # column 1 holds the max twice: the upper one wins even though it is not the first column
    x = np.array([[[[0.0, 7.0], [0.0, 7.0], [7.0, 0.0]]]])
    m = npimpl.MaxPool2d((3, 2), return_indices=True)
    assert m(x)[1].ravel().tolist() == [1]


def test_overlapping_windows_with_ties_add_up_on_the_shared_winner():
    x = np.ones((1, 1, 4, 4))
    m = npimpl.MaxPool2d(3, stride=1)           # 4 windows, every element tied
    m(x)
    dx = m.backward(np.ones((1, 1, 2, 2)))
    expected = np.zeros((4, 4))
    expected[0, 0] = expected[0, 1] = expected[1, 0] = expected[1, 1] = 1  # each window's top-left
    assert np.array_equal(dx[0, 0], expected)
    _, tdx = torch_grad(torch.nn.MaxPool2d(3, stride=1), x, np.ones((1, 1, 2, 2)))
    assert np.array_equal(dx, tdx)


@pytest.mark.parametrize("kw", [dict(kernel_size=3, stride=2, padding=1),
                                dict(kernel_size=2, stride=1, dilation=2, ceil_mode=True),
                                dict(kernel_size=(3, 2), stride=(1, 2), padding=(1, 0))],
                         ids=["pad1-stride2", "dilation2-ceil", "kernel-3x2"])
def test_random_ties_route_like_torch(kw):
    x = np.random.default_rng(0).integers(0, 2, (2, 3, 7, 6)).astype(np.float64)
    g = np.random.default_rng(1).standard_normal(npimpl.MaxPool2d(**kw)(x).shape)
    m = npimpl.MaxPool2d(**kw, return_indices=True)
    _, idx = m(x)
    dx = m.backward(g, None)
    (_, tidx), tdx = torch_grad(torch.nn.MaxPool2d(**kw, return_indices=True), x, g)
    assert np.array_equal(idx, to_numpy(tidx))
    assert np.allclose(dx, tdx, rtol=0, atol=1e-15)


def test_torch_argmax_rule():
    win = np.array([[1.0, 3.0, 3.0, 2.0],             # tie: first
                    [1.0, np.nan, 9.0, np.nan],       # NaN wins, the last NaN
                    [-np.inf, -np.inf, -np.inf, -np.inf]])
    assert _pool.torch_argmax(win).tolist() == [1, 3, 0]


def test_nan_and_all_minus_inf_windows_match_torch():
    x = np.random.default_rng(2).standard_normal((1, 2, 5, 5))
    x[0, 0, 1, 1] = x[0, 0, 1, 2] = np.nan
    x[0, 1, :2, :] = -np.inf                          # the top windows hold only -inf (and pad)
    m = npimpl.MaxPool2d(3, stride=2, padding=1, return_indices=True)
    y, idx = m(x)
    g = np.ones(y.shape)
    dx = m.backward(g, None)
    (ty, tidx), tdx = torch_grad(torch.nn.MaxPool2d(3, stride=2, padding=1, return_indices=True),
                                 x, g)
    assert np.array_equal(idx, to_numpy(tidx))
    assert np.array_equal(y, to_numpy(ty), equal_nan=True)
    assert np.array_equal(dx, tdx)
    assert idx[0, 1, 0, 0] == 0          # first *valid* position, not the padding


def test_maxpool1d_ties_and_indices():
    x = np.array([[[2.0, 2.0, 1.0, 2.0, 2.0]]])
    m = npimpl.MaxPool1d(3, stride=2, padding=1, return_indices=True)
    y, idx = m(x)
    assert idx.ravel().tolist() == [0, 1, 3]
    assert m.backward(np.ones(y.shape), None).ravel().tolist() == [1.0, 1.0, 0.0, 1.0, 0.0]


def mixed_input(shape, dtype, seed):
    """Values in {-1, 0, 1} (many ties, +0 and -0 alike); channel 0 with some NaN (several
    in a window too), channel 1 with -inf, its first four rows nothing else."""
    rng = np.random.default_rng(seed)
    x = rng.integers(-1, 2, shape) * rng.choice([1.0, -1.0], shape)    # 0 * -1 = -0
    x[:, 0][rng.random(x[:, 0].shape) < 0.3] = np.nan
    x[:, 1][rng.random(x[:, 1].shape) < 0.3] = -np.inf
    x[:, 1, :4] = -np.inf
    return x.astype(dtype)


MAX_CASES = [("MaxPool3d", dict(kernel_size=(2, 3, 2), stride=(1, 2, 1), padding=(1, 1, 0),
                                dilation=(1, 1, 2), ceil_mode=True), (2, 3, 6, 5, 6)),
             ("AdaptiveMaxPool1d", dict(output_size=4), (2, 3, 9)),
             ("AdaptiveMaxPool3d", dict(output_size=(3, 4, 2)), (2, 3, 6, 5, 4)),
             ("MaxPool1d", dict(kernel_size=3, stride=1, padding=1), (2, 3, 9)),
             ("MaxPool1d", dict(kernel_size=2, stride=2, dilation=3, ceil_mode=True), (2, 3, 10)),
             ("MaxPool2d", dict(kernel_size=2), (2, 3, 6, 7)),
             ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 6)),
             ("MaxPool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1),
                                dilation=(2, 1)), (2, 3, 6, 7))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kw,shape", MAX_CASES,
                         ids=["3d-all-knobs", "adaptive1d", "adaptive3d", "1d-k3-pad1",
                              "1d-dil3-ceil", "2d-k2", "2d-k3-s2-pad1-ceil", "2d-k2x3-dil-pad"])
def test_max_ties_nan_and_minus_inf_bit_for_bit_like_torch(name, kw, shape, dtype):
    # every output, index and gradient bit for bit, the signs of zeros included; overlapping
    # windows add their gradients in torch's order, so even float32 sums round alike
    x = mixed_input(shape, dtype, 4)
    m = getattr(npimpl, name)(**kw, return_indices=True)
    y, idx = m(x)
    g = np.random.default_rng(5).standard_normal(y.shape).astype(dtype)
    dx = m.backward(g, None)
    (ty, tidx), tdx = torch_grad(getattr(torch.nn, name)(**kw, return_indices=True), x, g)
    ty = to_numpy(ty)
    assert np.isnan(y).any() and np.isneginf(y).any()       # the input exercises both
    assert np.array_equal(y, ty, equal_nan=True)
    assert np.array_equal(np.signbit(y), np.signbit(ty))
    assert np.array_equal(idx, to_numpy(tidx))
    assert np.array_equal(dx, tdx)
    assert np.array_equal(np.signbit(dx), np.signbit(tdx))
    assert y.dtype == dx.dtype == dtype


def test_float32_overlapping_gradients_round_like_torch():
    # ties everywhere: many windows send their gradient to the same input
    x = np.random.default_rng(6).integers(0, 3, (2, 4, 9, 9)).astype(np.float32)
    g = np.random.default_rng(7).standard_normal((2, 4, 9, 9)).astype(np.float32)
    m = npimpl.MaxPool2d(3, stride=1, padding=1)
    m(x)
    dx = m.backward(g)
    _, tdx = torch_grad(torch.nn.MaxPool2d(3, stride=1, padding=1), x, g)
    assert np.array_equal(dx, tdx)


def test_many_kernel_offsets_and_a_byte_per_output_cache():
    # 17x17 = 289 offsets: past one byte, the cache takes two
    x = np.random.default_rng(8).standard_normal((1, 2, 20, 19)).astype(np.float32)
    m = npimpl.MaxPool2d(17, stride=1, return_indices=True)
    _, idx = m(x)
    (_, tidx), _ = torch_grad(torch.nn.MaxPool2d(17, stride=1, return_indices=True), x,
                              np.ones((1, 2, 4, 3)))
    assert np.array_equal(idx, to_numpy(tidx))
    assert m._cache.arg.dtype == np.uint16
    m = npimpl.MaxPool2d(3, stride=2, padding=1)
    m(x)
    assert m._cache.arg.dtype == np.uint8 and m._cache.arg.shape == (1, 2, 10, 10)


def test_window_of_only_padding():
    # L = 1, kernel 2, dilation 2, padding 1: the taps are -1 and 1, both outside the input.
    # torch outputs -inf with index 1 (past the input; its backward would write there);
    # ours gives the same forward and sends that window's gradient nowhere
    x = np.array([[[3.0], [-2.0]]])
    kw = dict(kernel_size=2, stride=1, padding=1, dilation=2, return_indices=True)
    m = npimpl.MaxPool1d(**kw)
    y, idx = m(x)
    ty, tidx = torch.nn.MaxPool1d(**kw)(to_torch(x))
    assert np.array_equal(y, to_numpy(ty)) and np.isneginf(y).all()
    assert np.array_equal(idx, to_numpy(tidx))
    assert m.backward(np.ones(y.shape), None).tolist() == [[[0.0], [0.0]]]
    # in 2-D only the windows whose row taps miss the input are dropped
    x2 = np.arange(4.0).reshape(1, 1, 1, 4)
    m = npimpl.MaxPool2d((2, 1), stride=1, padding=(1, 0), dilation=(2, 1))
    assert m(x2).shape == (1, 1, 1, 4) and np.isneginf(m(x2)).all()
    assert not m.backward(np.ones((1, 1, 1, 4))).any()


def test_avgpool_ceil_mode_divisors():
    # H = 5, k = 2, s = 2, p = 1, ceil: windows start at -1, 1, 3 (and 5 is dropped: starts
    # past input + pad); with count_include_pad the last window [3, 5) is clipped to H + p = 6
    x = np.ones((1, 1, 5, 5))
    for include in (True, False):
        m = npimpl.AvgPool2d(2, stride=2, padding=1, ceil_mode=True, count_include_pad=include)
        t = torch.nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True, count_include_pad=include)
        y = m(x)
        assert y.shape == (1, 1, 3, 3)
        assert np.allclose(y, to_numpy(t(to_torch(x))), rtol=1e-15, atol=0)
    assert m(x).ravel().tolist() == [1.0] * 9         # excluding pad: a mean of ones is one


def test_avgpool_divisor_override():
    x = np.arange(16.0).reshape(1, 1, 4, 4)
    y = npimpl.AvgPool2d(2, divisor_override=3)(x)
    assert y[0, 0, 0, 0] == (0 + 1 + 4 + 5) / 3


def test_adaptive_windows():
    ax = _pool.adaptive_axis(5, 3)                    # [0, 2), [1, 4), [3, 5)
    assert [list(p[v]) for p, v in zip(ax.pos, ax.valid)] == [[0, 1], [1, 2, 3], [3, 4]]
    x = np.arange(5.0).reshape(1, 1, 1, 5)
    assert npimpl.AdaptiveAvgPool2d((1, 3))(x).ravel().tolist() == [0.5, 2.0, 3.5]
    assert npimpl.AdaptiveMaxPool2d((1, 3))(x).ravel().tolist() == [1.0, 3.0, 4.0]


def test_adaptive_max_overlapping_windows_share_a_winner():
    x = np.array([[[[0.0, 9.0, 0.0]]]])               # 3 -> 2 windows: [0, 2), [1, 3)
    m = npimpl.AdaptiveMaxPool2d((1, 2), return_indices=True)
    y, idx = m(x)
    assert idx.ravel().tolist() == [1, 1]
    assert m.backward(np.array([[[[1.0, 2.0]]]]), None).ravel().tolist() == [0.0, 3.0, 0.0]


def test_unbatched_input():
    x = np.random.default_rng(3).standard_normal((2, 5, 6))
    for m in (npimpl.MaxPool2d(2), npimpl.AvgPool2d(2), npimpl.AdaptiveAvgPool2d(2)):
        y = m(x)
        g = np.random.default_rng(4).standard_normal(y.shape)
        dx = m.backward(g)
        assert np.array_equal(y, m(x[None])[0])
        assert np.array_equal(dx, m.backward(g[None])[0])


BAD = [
    (lambda: npimpl.MaxPool2d(2, padding=2), ValueError, "MaxPool2d: pad should be at most half"),
    (lambda: npimpl.AvgPool2d(3, padding=2), ValueError, "AvgPool2d: pad should be at most half"),
    (lambda: npimpl.AvgPool2d(2, divisor_override=0), ValueError, "AvgPool2d: divisor_override"),
    (lambda: npimpl.MaxPool2d(0), ValueError, "MaxPool2d: kernel_size"),
    (lambda: npimpl.AdaptiveAvgPool2d((2, 0)), ValueError, "AdaptiveAvgPool2d: output_size"),
    (lambda: npimpl.MaxPool2d(3)(np.zeros((1, 1, 2, 5))), ValueError, "MaxPool2d: input of spatial"),
    (lambda: npimpl.MaxPool1d(2)(np.zeros((1, 1, 2, 5))), ValueError, "MaxPool1d: input must be 2-D or 3-D"),
    (lambda: npimpl.MaxPool2d(2)(np.zeros((1, 1, 4, 4), np.int64)), TypeError, "MaxPool2d: input"),
    (lambda: npimpl.AvgPool2d(2).backward(np.zeros((1, 1, 2, 2))), RuntimeError, "before forward"),
]


@pytest.mark.parametrize("fn,exc,msg", BAD, ids=["maxpool-pad", "avgpool-pad", "divisor-0",
                                                 "kernel-0", "adaptive-size-0", "too-small",
                                                 "maxpool1d-rank", "int-input", "no-forward"])
def test_errors(fn, exc, msg):
    with pytest.raises(exc, match=msg):
        fn()


def test_grad_output_shape_is_checked():
    m = npimpl.MaxPool2d(2)
    m(np.zeros((1, 2, 4, 4)))
    with pytest.raises(ValueError, match=r"MaxPool2d: grad_output must have shape \(1, 2, 2, 2\)"):
        m.backward(np.zeros((1, 2, 2, 3)))


# --- issue 21 D4 and D6b, torch's 1-tuple rule, the 1-D and 3-D pools ------------------------
@pytest.mark.parametrize("name,kw,shape", [
    ("MaxPool1d", dict(kernel_size=3, padding=2, dilation=2), (1, 1, 9)),
    ("MaxPool2d", dict(kernel_size=3, padding=2, dilation=2), (1, 1, 9, 9)),
    ("MaxPool3d", dict(kernel_size=(3, 3, 5), padding=(2, 0, 0), dilation=3), (1, 1, 9, 9, 9)),
    ("AvgPool1d", dict(kernel_size=3, padding=2), (1, 1, 9)),
    ("AvgPool2d", dict(kernel_size=(2, 4), padding=(0, 3)), (1, 1, 9, 9)),
    ("AvgPool3d", dict(kernel_size=2, padding=(0, 0, 2)), (1, 1, 9, 9, 9)),
], ids=["maxpool1d-dilated", "maxpool2d-dilated", "maxpool3d-dilated", "avgpool1d", "avgpool2d",
        "avgpool3d"])
def test_padding_above_half_the_kernel_is_refused_dilation_not_counted(name, kw, shape):
    """Issue 21 D4: torch refuses padding > kernel_size // 2 even where the dilated window
    (5 or 7 wide here) would hold it."""
    with pytest.raises(RuntimeError, match="pad(ding)? should be"):
        getattr(torch.nn, name)(**kw)(torch.zeros(shape))
    with pytest.raises(ValueError, match=f"{name}: pad should be at most half of kernel size"):
        getattr(npimpl, name)(**kw)


def test_padding_of_exactly_half_the_kernel_is_accepted():
    x = np.random.default_rng(20).standard_normal((1, 2, 7, 6, 5))
    for name, kw in (("MaxPool3d", dict(kernel_size=(4, 3, 2), padding=(2, 1, 1), dilation=2)),
                     ("AvgPool3d", dict(kernel_size=(4, 3, 2), padding=(2, 1, 1)))):
        y = getattr(npimpl, name)(**kw)(x)
        assert np.array_equal(y, to_numpy(getattr(torch.nn, name)(**kw)(to_torch(x))))


GRAD_DTYPE = [  # (spec, input shape): every pool class, D6b
    (Spec("MaxPool1d", 2), (1, 2, 6)), (Spec("MaxPool2d", 2), (1, 2, 4, 4)),
    (Spec("MaxPool3d", 2), (1, 2, 2, 4, 4)), (Spec("AvgPool1d", 2), (1, 2, 6)),
    (Spec("AvgPool2d", 2), (1, 2, 4, 4)), (Spec("AvgPool3d", 2), (1, 2, 2, 4, 4)),
    (Spec("AdaptiveAvgPool1d", 3), (1, 2, 7)), (Spec("AdaptiveAvgPool2d", 3), (2, 5, 4)),
    (Spec("AdaptiveAvgPool3d", 2), (1, 2, 3, 4, 5)), (Spec("AdaptiveMaxPool1d", 3), (1, 2, 7)),
    (Spec("AdaptiveMaxPool2d", 3), (1, 2, 5, 4)), (Spec("AdaptiveMaxPool3d", 2), (1, 2, 3, 4, 5)),
    (Spec("LPPool1d", 2, 2), (1, 2, 6)), (Spec("LPPool2d", 2, 2), (1, 2, 4, 4)),
    (Spec("LPPool3d", 3, 2), (1, 2, 2, 4, 4)),
    (Spec("FractionalMaxPool2d", 2, output_size=3), (1, 2, 5, 5)),
    (Spec("FractionalMaxPool3d", 2, output_size=2), (1, 2, 4, 4, 4)),
]


@pytest.mark.parametrize("spec,shape", GRAD_DTYPE, ids=lambda v: repr(v) if isinstance(v, Spec) else "")
def test_float32_grad_on_float64_input_gives_float64_like_torch(spec, shape):
    """Issue 21 D6b: torch's autograd casts the upstream gradient to the output's dtype."""
    m, t = build(spec, np.float64)
    x = np.abs(np.random.default_rng(21).standard_normal(shape))
    y = m(x)
    g = np.random.default_rng(22).standard_normal(y.shape).astype(np.float32)
    dx = m.backward(g)
    ty = t(tx := to_torch(x, requires_grad=True))
    ty.backward(to_torch(g))
    assert dx.dtype == np.float64 and tx.grad.dtype == torch.float64
    assert np.allclose(dx, to_numpy(tx.grad), rtol=1e-12, atol=1e-12)


def test_float32_grad_on_float64_unpool_gives_float64():
    x, idx = np.ones((1, 2, 3)), np.array([[[0, 3, 5], [1, 2, 4]]])
    m = npimpl.MaxUnpool1d(2)
    y = m(x, idx)
    dx, di = m.backward(np.ones(y.shape, np.float32))
    tx = to_torch(x, requires_grad=True)
    torch.nn.MaxUnpool1d(2)(tx, to_torch(idx)).backward(torch.ones(y.shape))
    assert dx.dtype == np.float64 and tx.grad.dtype == torch.float64 and di is None
    assert np.array_equal(dx, to_numpy(tx.grad))


ONE_TUPLE_POOLS = [  # torch's pooling kernels broadcast a 1-element kernel/stride/padding/dilation
    ("MaxPool2d", dict(kernel_size=(3,), stride=(2,), padding=(1,), dilation=(1,)), (1, 2, 7, 6)),
    ("MaxPool3d", dict(kernel_size=(2,), stride=(1,), padding=(1,), dilation=(2,)), (1, 2, 4, 5, 4)),
    ("AvgPool2d", dict(kernel_size=3, stride=1, padding=(1,)), (1, 2, 5, 6)),
    ("AvgPool3d", dict(kernel_size=(3,), stride=(2,), padding=(1,)), (1, 2, 5, 4, 6)),
    ("AvgPool1d", dict(kernel_size=(3,), stride=(2,), padding=(1,)), (1, 2, 7)),
    ("LPPool2d", dict(norm_type=2, kernel_size=2, stride=(1,)), (1, 2, 4, 5)),
    ("LPPool3d", dict(norm_type=2, kernel_size=2, stride=(1,)), (1, 2, 3, 4, 3)),
]


@pytest.mark.parametrize("name,kw,shape", ONE_TUPLE_POOLS, ids=[c[0] for c in ONE_TUPLE_POOLS])
def test_one_tuples_broadcast_like_torch(name, kw, shape):
    x = np.random.default_rng(23).standard_normal(shape)
    y = getattr(npimpl, name)(**kw)(x)
    ty = to_numpy(getattr(torch.nn, name)(**kw)(to_torch(x)))
    assert y.shape == ty.shape and np.allclose(y, ty, rtol=1e-12, atol=1e-12)


REFUSED_ONE_TUPLES = [  # torch's Python layer unpacks or indexes these: it fails, and so do we
    ("LPPool2d", dict(norm_type=2, kernel_size=(2,)), (1, 2, 4, 4)),
    ("LPPool3d", dict(norm_type=2, kernel_size=(2,)), (1, 2, 4, 4, 4)),
    ("LPPool1d", dict(norm_type=2, kernel_size=(2,)), (1, 2, 4)),
    ("AdaptiveAvgPool2d", dict(output_size=(2,)), (1, 2, 4, 4)),
    ("AdaptiveMaxPool3d", dict(output_size=(2,)), (1, 2, 4, 4, 4)),
    ("FractionalMaxPool2d", dict(kernel_size=(2,), output_size=2), (1, 2, 5, 5)),
    ("FractionalMaxPool3d", dict(kernel_size=2, output_size=(2,)), (1, 2, 5, 5, 5)),
]


@pytest.mark.parametrize("name,kw,shape", REFUSED_ONE_TUPLES,
                         ids=[c[0] + "-" + "-".join(c[1]) for c in REFUSED_ONE_TUPLES])
def test_one_tuples_torch_refuses_are_refused(name, kw, shape):
    with pytest.raises((RuntimeError, ValueError, TypeError)):
        getattr(torch.nn, name)(**kw)(torch.zeros(shape))
    with pytest.raises(ValueError, match=name):
        getattr(npimpl, name)(**kw)


@pytest.mark.parametrize("name,shape", [("MaxUnpool2d", (1, 1, 2, 2)),
                                        ("MaxUnpool3d", (1, 1, 2, 2, 2))])
@pytest.mark.parametrize("arg", ["kernel_size", "stride", "padding"])
def test_unpool_one_tuples_refused_like_torch(name, shape, arg):
    kw = dict(kernel_size=2)
    kw[arg] = (2,) if arg != "padding" else (0,)
    idx = torch.zeros(shape, dtype=torch.long)
    with pytest.raises((RuntimeError, IndexError)):
        getattr(torch.nn, name)(**kw)(torch.ones(shape), idx)
    with pytest.raises(ValueError, match=name):
        getattr(npimpl, name)(**kw)


def test_adaptive_output_size_rules_like_torch():
    x = np.random.default_rng(24).standard_normal((1, 2, 5, 4, 6))
    y = npimpl.AdaptiveAvgPool3d((None, 2, None))(x)
    assert np.allclose(y, to_numpy(torch.nn.AdaptiveAvgPool3d((None, 2, None))(to_torch(x))),
                       rtol=1e-12, atol=1e-12)
    assert npimpl.AdaptiveMaxPool1d((3,))(x[0, :, 0, 0]).shape == (2, 3)
    with pytest.raises(TypeError):
        torch.nn.AdaptiveAvgPool1d(None)(torch.zeros(1, 2, 4))
    for bad in (None, (None,), (2, 2)):
        with pytest.raises(ValueError, match="AdaptiveAvgPool1d: output_size"):
            npimpl.AdaptiveAvgPool1d(bad)


def test_adaptive_avg_3d_with_infinities_sums_the_windows():
    # inf * 0 in the matmul path would make every window NaN
    x = np.random.default_rng(25).standard_normal((1, 2, 4, 5, 3))
    x[0, 0, 0, 0, 0], x[0, 1, 3, 4, 2] = np.inf, -np.inf
    y = npimpl.AdaptiveAvgPool3d((2, 3, 2))(x)
    ty = to_numpy(torch.nn.AdaptiveAvgPool3d((2, 3, 2))(to_torch(x)))
    assert np.isinf(y).sum() == np.isinf(ty).sum() == 2 and not np.isnan(y).any()
    assert np.allclose(y, ty, rtol=1e-12, atol=1e-12)


def test_avgpool1d_has_no_divisor_override_like_torch():
    assert "divisor_override" not in inspect.signature(torch.nn.AvgPool1d).parameters
    with pytest.raises(TypeError):
        npimpl.AvgPool1d(2, divisor_override=2)


@pytest.mark.parametrize("name,kw,shape", [
    ("MaxPool3d", dict(kernel_size=2, return_indices=True), (2, 4, 5, 4)),
    ("AvgPool1d", dict(kernel_size=3, padding=1), (3, 8)),
    ("AvgPool3d", dict(kernel_size=2, ceil_mode=True), (2, 3, 5, 4)),
    ("AdaptiveMaxPool3d", dict(output_size=2, return_indices=True), (2, 3, 5, 4)),
    ("AdaptiveAvgPool1d", dict(output_size=4), (3, 7)),
], ids=["maxpool3d", "avgpool1d", "avgpool3d", "adaptivemaxpool3d", "adaptiveavgpool1d"])
def test_unbatched_is_a_batch_of_one(name, kw, shape):
    x = np.random.default_rng(26).standard_normal(shape)
    m = getattr(npimpl, name)(**kw)
    out = m(x)
    y = out[0] if isinstance(out, tuple) else out
    g = np.random.default_rng(27).standard_normal(y.shape)
    dx = m.backward(g)
    out1 = m(x[None])
    assert np.array_equal(y, (out1[0] if isinstance(out1, tuple) else out1)[0])
    if isinstance(out, tuple):
        assert np.array_equal(out[1], out1[1][0])
    assert np.array_equal(dx, m.backward(g[None])[0])
