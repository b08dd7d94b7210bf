"""Each fast path (npimpl's private ``_*.py`` helpers of issue 19) against the textbook form it
replaces: the same numbers (bit for bit where both do the same arithmetic, else to float64
rounding), on the shapes, ties, NaNs and options where the two could part."""
import numpy as np
import pytest

import npimpl
from npimpl import _interp_fast, _pool as P
from npimpl import interpolate as interp
from npimpl import padding
from npimpl._adaptive_max import adaptive_max
from npimpl._fractional_fast import fractional_max
from npimpl._padding_fast import pad, pad_grad
from npimpl._pointwise import select, tanh_softplus
from npimpl.fractional_max_pool import intervals, window_max
from npimpl.softmax import softmax, softmax_backward, softmax_jacobian


def same_bits(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_select_is_np_where_to_the_bit(dtype, monkeypatch):
    from npimpl import _pointwise
    monkeypatch.setattr(_pointwise, "SMALL", 0)                   # the bit path, even here
    rng = np.random.default_rng(0)
    a = rng.standard_normal((5, 7)).astype(dtype)
    a[0, :4] = [np.nan, np.inf, -0.0, -np.inf]
    b = rng.standard_normal((5, 7)).astype(dtype)
    c = rng.random((5, 7)) > 0.5
    for args in [(c, a, b), (c, a, dtype(0.5)), (c, dtype(1), dtype(0.01)), (c[:, :1], a, b),
                 (c, a[:1], b), (c, a, dtype(0)), (c, dtype(0), b), (c, dtype(-0.0), b)]:
        assert same_bits(select(*args), np.asarray(np.where(*args), dtype))


def test_tanh_softplus_is_tanh_of_log1p_exp():
    x = np.concatenate([np.linspace(-60, 60, 20001), [0.0, -0.0, 19.99, 20.0, 20.01, 1e4]])
    want = np.tanh(np.log1p(np.exp(np.minimum(x, 700))))
    np.testing.assert_allclose(tanh_softplus(x), want, rtol=1e-15, atol=1e-300)
    assert np.isnan(tanh_softplus(np.array([np.nan])))[0]
    x32 = x.astype(np.float32)
    got32 = tanh_softplus(x32)
    assert got32.dtype == np.float32                  # a few float32 ulps of the exact value
    want32 = np.tanh(np.log1p(np.exp(np.minimum(x32.astype(np.float64), 700))))
    np.testing.assert_allclose(got32, want32, rtol=8 * np.finfo(np.float32).eps)


@pytest.mark.parametrize("axis", [0, 1, -1])
def test_softmax_backward_is_the_jacobian_vector_product(axis):
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((2, 6, 5)), rng.standard_normal((2, 6, 5))
    y = softmax(x, axis)
    jac = softmax_jacobian(y, axis)                                    # (..., C, C)
    want = np.moveaxis(np.einsum("...ij,...i->...j", jac, np.moveaxis(g, axis, -1)), -1, axis)
    np.testing.assert_allclose(softmax_backward(y, g, axis), want, rtol=1e-12, atol=1e-15)
    # and the Jacobian is the derivative: a central difference of one column
    eps, j = 1e-6, 1
    e = np.zeros_like(x)
    np.moveaxis(e, axis, -1)[..., j] = eps
    fd = (softmax(x + e, axis) - softmax(x - e, axis)) / (2 * eps)
    np.testing.assert_allclose(np.moveaxis(fd, axis, -1), jac[..., :, j], atol=1e-9)


def test_softmax_backward_needs_no_quadratic_memory():
    import tracemalloc
    y = softmax(np.random.default_rng(2).standard_normal((64, 2048)), -1)
    tracemalloc.start()
    softmax_backward(y, y, -1)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 3 * y.nbytes                 # the Jacobian alone would be 2048 x y.nbytes


PADS = [((1, 2),), ((0, 3), (2, 0)), ((2, 2), (1, 1), (0, 1)), ((3, 0),), ((0, 0), (1, 1))]


@pytest.mark.parametrize("mode", padding.MODES)
@pytest.mark.parametrize("pads", PADS, ids=str)
def test_padding_fast_path_is_the_gather_and_its_adjoint(mode, pads):
    rng = np.random.default_rng(3)
    x = rng.standard_normal((2, 3) + (4, 5, 6)[:len(pads)])
    y = pad(x, pads, mode, 0.5, padding.source_index)
    assert same_bits(y, padding.pad_forward(x, pads, mode, 0.5))
    dy = rng.standard_normal(y.shape)
    want = padding.pad_backward(dy, pads, mode, x.shape[2:])
    np.testing.assert_allclose(pad_grad(dy, pads, mode, x.shape[2:], padding.source_index), want,
                               rtol=1e-15, atol=1e-15)


def ties(rng, shape):
    return rng.integers(-2, 3, shape).astype(np.float32)


@pytest.mark.parametrize("shape,out", [((2, 3, 17), (5,)), ((2, 3, 9, 7), (4, 3)),
                                       ((2, 2, 32, 32), (7, 7)), ((1, 2, 5, 6, 7), (3, 2, 4)),
                                       ((2, 3, 10), (20,)), ((2, 2, 8, 8), (1, 1)),
                                       ((0, 2, 8, 8), (3, 3))], ids=str)
def test_adaptive_max_axis_by_axis_is_the_gathered_max(shape, out):
    rng = np.random.default_rng(4)
    for x in (rng.standard_normal(shape).astype(np.float32), ties(rng, shape)):
        axes = P.adaptive_plan(shape[2:], out, x.dtype)[0]
        y0, a0 = P.gathered_max(x, axes)
        y1, a1 = adaptive_max(x, axes)
        assert same_bits(y1, y0) and same_bits(a1, a0)


@pytest.mark.parametrize("shape,kernel,out", [((2, 3, 32, 32), (3, 3), (16, 16)),
                                              ((2, 3, 9, 11), (2, 3), (4, 5)),
                                              ((2, 2, 9, 8, 10), (2, 2, 3), (4, 3, 5)),
                                              ((1, 2, 5, 5), (2, 2), (4, 4))], ids=str)
def test_fractional_sliding_max_is_the_window_gather(shape, kernel, out):
    rng = np.random.default_rng(5)
    u = rng.random(shape[:2] + (len(kernel),)).astype(np.float32)
    starts = [intervals(u[:, :, d], s, o, k) for d, (s, o, k) in
              enumerate(zip(shape[2:], out, kernel))]
    for x in (rng.standard_normal(shape).astype(np.float32), ties(rng, shape)):
        y0, i0 = window_max(x, starts, kernel)
        y1, i1 = fractional_max(x, starts, kernel)
        assert same_bits(y1, y0) and same_bits(i1, i0)


def test_max_unpool_keeps_the_last_of_repeated_indices():
    m = npimpl.MaxUnpool1d(2)
    x = np.array([[[1.0, 2.0, 3.0, 4.0]]], np.float32)
    y = m(x, np.array([[[1, 1, 0, 1]]]))                   # three inputs sent to position 1
    assert y.tolist() == [[[3.0, 4.0, 0.0, 0.0, 0.0, 0.0, 0.0, 0.0]]]
    y = m(x, np.array([[[1, 3, 5, 7]]]))                   # no repeats: the plain scatter
    assert y.tolist() == [[[0.0, 1.0, 0.0, 2.0, 0.0, 3.0, 0.0, 4.0]]]


@pytest.mark.parametrize("mode,sizes,outs", [
    ("bilinear", (5, 7), (10, 3)), ("bicubic", (6, 4), (13, 9)), ("nearest", (5, 8), (11, 4)),
    ("nearest-exact", (7,), (3,)), ("linear", (9,), (20,)), ("area", (10, 9), (4, 5)),
    ("trilinear", (3, 4, 5), (6, 7, 2))], ids=str)
def test_interpolation_as_matrix_products_is_the_tap_sum(mode, sizes, outs):
    rng = np.random.default_rng(6)
    x = rng.standard_normal((2, 3) + sizes)
    taps = tuple(interp.axis_taps(mode, s, o, None, False, np.float64, len(sizes))
                 for s, o in zip(sizes, outs))
    assert _interp_fast.applies(x, taps, sizes)
    y = _interp_fast.forward(x, taps)
    np.testing.assert_allclose(y, interp.interp_forward(x, taps), rtol=1e-13, atol=1e-15)
    dy = rng.standard_normal(y.shape)
    np.testing.assert_allclose(_interp_fast.backward(dy, taps, sizes),
                               interp.interp_backward(dy, taps, sizes), rtol=1e-13, atol=1e-15)
    x[0, 0, 0] = np.inf                       # 0 * inf would reach every output: not applied
    assert not _interp_fast.applies(x, taps, sizes)


def test_float32_gelu_is_within_3e7_of_the_exact_one_and_stays_float32():
    from npimpl._gelu import BLOCK, gelu_f32
    x64 = np.concatenate([np.linspace(-9, 9, 2 * BLOCK + 7), [0.0, -0.0, 1e-30, -1e-30]])
    x = x64.astype(np.float32)
    y, d = gelu_f32(x)
    assert y.dtype == d.dtype == np.float32
    ex = x.astype(np.float64)
    m = npimpl.GELU(dtype=np.float64)
    want_y = m(ex)
    want_d = m.backward(np.ones_like(ex))
    bound = 3e-7 * (1 + np.abs(ex))
    assert (np.abs(y - want_y) <= bound).all() and (np.abs(d - want_d) <= bound).all()
    yi, di = gelu_f32(np.array([np.inf, -np.inf, np.nan], np.float32))
    assert yi[0] == np.inf and np.isnan(yi[1:]).all() and np.isnan(di).all()   # torch's too


@pytest.mark.parametrize("shape,axes", [((7, 5), (-1,)), ((3, 4, 6), (-2, -1)),
                                        ((2, 3, 2000), (-1,)), ((0, 5), (-1,))], ids=str)
@pytest.mark.parametrize("affine", [True, False], ids=["affine", "plain"])
def test_blocked_layer_norm_is_the_textbook(shape, axes, affine, monkeypatch):
    from npimpl import _norm_fast, norm
    monkeypatch.setattr(_norm_fast, "BLOCK", 64)            # several blocks even here
    rng = np.random.default_rng(7)
    x, dy = rng.standard_normal(shape) * 3 + 1, rng.standard_normal(shape)
    w = rng.standard_normal(shape[len(shape) - len(axes):]) if affine else None
    b = rng.standard_normal(w.shape) if affine else None
    y0, c0 = norm.layer_norm_forward(x, w, b, axes, 1e-5)
    y1, c1 = _norm_fast.layer_norm_forward(x, w, b, axes, 1e-5)
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(c1.rstd, c0.rstd, rtol=1e-12)
    for got, want in zip(_norm_fast.layer_norm_backward(dy, w, c1),
                         norm.layer_norm_backward(dy, w, c0)):
        if got is not None:
            np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


def test_blocked_layer_norm_hands_overflowing_rows_to_the_textbook():
    from npimpl import _norm_fast, norm
    x = np.array([[1e20, -1e20, 3e19, 0.0], [1.0, 2.0, 3.0, 4.0]], np.float32)
    y0, _ = norm.layer_norm_forward(x, None, None, (-1,), 1e-5)
    y1, _ = _norm_fast.layer_norm_forward(x, None, None, (-1,), 1e-5)
    assert np.isfinite(y1).all() and same_bits(y1, y0)


@pytest.mark.parametrize("shape,groups", [((4, 6, 5, 3), 3), ((2, 4, 7), 1), ((3, 4), 4)],
                         ids=str)
def test_group_norm_in_blocks_is_the_textbook(shape, groups, monkeypatch):
    from npimpl import _norm_fast
    monkeypatch.setattr(_norm_fast, "BLOCK", 16)
    rng = np.random.default_rng(8)
    x, dy = rng.standard_normal(shape), rng.standard_normal(shape)
    fast, slow = npimpl.GroupNorm(groups, shape[1], dtype=np.float64), \
        npimpl.GroupNorm(groups, shape[1], dtype=np.float64)
    for m in (fast, slow):
        m.weight.data[...] = rng.standard_normal(shape[1])
        m.bias.data[...] = rng.standard_normal(shape[1])
    slow.weight.data[...], slow.bias.data[...] = fast.weight.data, fast.bias.data
    monkeypatch.setattr(_norm_fast, "group_norm_forward", lambda *a: None)   # textbook
    y0, dx0 = slow(x), slow.backward(dy)
    monkeypatch.undo()
    monkeypatch.setattr(_norm_fast, "BLOCK", 16)
    y1, dx1 = fast(x), fast.backward(dy)
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(dx1, dx0, rtol=1e-11, atol=1e-12)
    for p0, p1 in ((slow.weight, fast.weight), (slow.bias, fast.bias)):
        np.testing.assert_allclose(p1.grad, p0.grad, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("shape", [(6, 4), (5, 3, 7), (2, 3, 4, 5)], ids=str)
@pytest.mark.parametrize("training", [True, False], ids=["train", "eval"])
def test_batch_norm_closed_form_is_the_staged_textbook(shape, training):
    from npimpl import _batchnorm_fast
    from npimpl.batchnorm import batch_norm_backward, batch_norm_forward
    rng = np.random.default_rng(9)
    x, dy = rng.standard_normal(shape) * 2 + 0.5, rng.standard_normal(shape)
    c = shape[1]
    w, b = rng.standard_normal(c), rng.standard_normal(c)
    stats = () if training else (rng.standard_normal(c), rng.random(c) + 0.5)
    y0, c0, m0, v0 = batch_norm_forward(x, w, b, 1e-5, *stats)
    y1, c1, m1, v1 = _batchnorm_fast.forward(x, w, b, 1e-5, *stats)
    np.testing.assert_allclose(y1, y0, rtol=1e-12, atol=1e-12)
    if training:
        np.testing.assert_allclose(m1, m0, rtol=1e-12, atol=1e-15)
        np.testing.assert_allclose(v1, v0, rtol=1e-12)
    for got, want in zip(_batchnorm_fast.backward(dy, w, c1), batch_norm_backward(dy, w, c0)):
        np.testing.assert_allclose(got, want, rtol=1e-11, atol=1e-12)


@pytest.mark.parametrize("case", ["random", "bags", "no-repeats", "empty"])
def test_grouped_row_additions_are_np_add_at(case):
    from npimpl._scatter import accumulate_rows, add_rows
    rng = np.random.default_rng(10)
    idx = {"random": rng.integers(0, 50, 400), "bags": np.repeat(np.arange(4), 100),
           "no-repeats": rng.permutation(50)[:30], "empty": np.zeros(0, np.int64)}[case]
    rows = rng.standard_normal((idx.size, 6))
    want, got = rng.standard_normal((50, 6)), None
    got = want.copy()
    np.add.at(want, idx, rows)
    add_rows(got, idx, rows)
    np.testing.assert_allclose(got, want, rtol=1e-13, atol=1e-13)

    class P:
        data, grad = np.zeros((50, 6)), None
    accumulate_rows(P, idx, rows, skip=3)
    ref = np.zeros((50, 6))
    np.add.at(ref, idx[idx != 3], rows[idx != 3])
    np.testing.assert_allclose(P.grad, ref, rtol=1e-13, atol=1e-13)
    assert not P.grad[3].any()


FAST_POINTWISE = [("LeakyReLU", ()), ("LeakyReLU", (0.2,)), ("LeakyReLU", (1.0,)),
                  ("LeakyReLU", (1.5,)), ("LeakyReLU", (-0.5,)), ("Hardsigmoid", ()),
                  ("Hardswish", ()), ("SiLU", ()), ("ELU", ()), ("ELU", (0.5,)), ("CELU", (0.3,)),
                  ("SELU", ()), ("Hardshrink", ()), ("Hardshrink", (-0.2,)), ("Softshrink", ()),
                  ("Softshrink", (0.0,)), ("Threshold", (0.1, 20.0)), ("Threshold", (0.0, 0.0)),
                  ("Threshold", (-1.0, -3.5))]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name, args", FAST_POINTWISE, ids=lambda v: str(v))
def test_activation_fast_paths_are_the_textbook_to_the_bit(name, args, dtype, monkeypatch):
    """npimpl._activation_fast (the class's ``_fast``/``_fast_grad``) against the class's own
    ``_f``/``_df``/``_grad`` (a subclass that names no fast path runs those): outputs and input
    gradients equal bit for bit (NaN as NaN), on kinks, band edges, signed zeros, infinities,
    NaN, an upstream gradient with inf/NaN/-0, several blocks and a ragged last one, a
    non-contiguous view, 0-d and empty arrays."""
    from npimpl import _activation_fast
    monkeypatch.setattr(_activation_fast, "FAST_BLOCK", 1 << 10)       # many blocks, a ragged end
    rng = np.random.default_rng(0)
    edges = [0.0, -0.0, np.inf, -np.inf, np.nan, 3.0, -3.0, 0.5, -0.5, 0.1, 0.2, -0.2, 1e-45,
             -1e-45, 2.9999998, -2.9999998, 6.0, 1.5, -1.5, 88.0, -100.0, 1e30, -1e30]
    x = np.concatenate([rng.standard_normal(5000) * 3, np.repeat(edges, 7)]).astype(dtype)
    g = rng.standard_normal(x.size).astype(dtype)
    g[::97], g[::101], g[::103] = np.inf, np.nan, -0.0
    cls = getattr(npimpl, name)
    assert "_fast" in vars(cls)
    textbook = type("Textbook" + name, (cls,), {})
    for xs, gs in [(x, g), (x[:600].reshape(20, 30).T, g[:600].reshape(20, 30).T),
                   (np.asarray(dtype(-0.0)), np.asarray(dtype(2.0))),
                   (np.asarray(dtype(np.nan)), np.asarray(dtype(-1.0))),
                   (np.zeros((0, 3), dtype), np.zeros((0, 3), dtype))]:
        fast, slow = cls(*args), textbook(*args)
        with np.errstate(all="ignore"):
            pairs = [(fast(xs.copy()), slow(xs.copy()))]
            pairs.append((fast.backward(gs), slow.backward(gs)))
        for a, b in pairs:
            assert a.dtype == b.dtype == dtype and a.shape == b.shape
            nan = np.isnan(a)
            assert np.array_equal(nan, np.isnan(b))
            assert a[~nan].tobytes() == b[~nan].tobytes()


def test_leaky_relu_of_slope_0_keeps_plus_infinity_as_torch_does():
    """``max(x, 0 x)`` (the textbook's _f) gives NaN at x = +inf for slope 0 (inf * 0), torch's
    ``x > 0 ? x : x * 0`` gives inf; the fast path, ``x * clip([x > 0], 0, 1)``, gives torch's."""
    import torch
    x = np.array([np.inf, -np.inf, 2.0, -2.0, 0.0], np.float32)
    want = torch.nn.functional.leaky_relu(torch.from_numpy(x), 0.0).numpy()
    with np.errstate(invalid="ignore"):
        got = npimpl.LeakyReLU(0.0)(x.copy())
    np.testing.assert_array_equal(got, want)
