"""Pooling: which input a tie routes the gradient to (constructed ties, checked against the rule
and against torch), NaN and -inf windows, divisors, adaptive windows, errors."""
import inspect

import numpy as np
import pytest
import torch

import npimpl
from npimpl import _pool
from reference import to_numpy, to_torch

POOLS = ["MaxPool1d", "MaxPool2d", "AvgPool2d", "AdaptiveAvgPool2d", "AdaptiveMaxPool2d"]


@pytest.mark.parametrize("name", POOLS)
def test_signature_matches_torch(name):
    ours = inspect.signature(getattr(npimpl, name)).parameters
    theirs = inspect.signature(getattr(torch.nn, name)).parameters
    assert [k for k in ours if k != "dtype"] == list(theirs)
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


MAX_CASES = [("MaxPool1d", dict(kernel_size=3, stride=1, padding=1), (2, 3, 9)),
             ("MaxPool1d", dict(kernel_size=2, stride=2, dilation=3, ceil_mode=True), (2, 3, 10)),
             ("MaxPool2d", dict(kernel_size=2), (2, 3, 6, 7)),
             ("MaxPool2d", dict(kernel_size=3, stride=2, padding=1, ceil_mode=True), (2, 3, 7, 6)),
             ("MaxPool2d", dict(kernel_size=(2, 3), stride=(1, 2), padding=(1, 1),
                                dilation=(2, 1)), (2, 3, 6, 7))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,kw,shape", MAX_CASES,
                         ids=["1d-k3-pad1", "1d-dil3-ceil", "2d-k2", "2d-k3-s2-pad1-ceil",
                              "2d-k2x3-dil-pad"])
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
