"""Conv1d/2d/3d, ConvTranspose1d/2d/3d and their shared machinery: what the catalogue cannot
show (signatures, layouts, init, the adjoint identities, torch's 1-tuple rule, errors,
accumulation)."""
import inspect
import math

import numpy as np
import pytest
import torch

import npimpl
from npimpl import _im2col as im
from reference import Spec, build, to_numpy, to_torch

CONVS = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d", "ConvTranspose3d"]


@pytest.mark.parametrize("name", CONVS)
def test_signature_matches_torch(name):
    ours = inspect.signature(getattr(npimpl, name)).parameters
    theirs = inspect.signature(getattr(torch.nn, name)).parameters
    assert list(ours) == list(theirs)
    for k, p in theirs.items():
        if k != "dtype":
            assert ours[k].default == p.default, k


@pytest.mark.parametrize("name,args,kw", [
    ("Conv1d", (4, 6, 3), dict(groups=2)),
    ("Conv2d", (4, 6, (3, 2)), dict(groups=2)),
    ("Conv2d", (3, 5, 3), dict(bias=False)),
    ("ConvTranspose2d", (4, 6, (3, 2)), dict(groups=2)),
    ("Conv3d", (4, 6, (3, 2, 1)), dict(groups=2)),
    ("ConvTranspose1d", (4, 6, 3), dict(groups=2, bias=False)),
    ("ConvTranspose3d", (4, 6, (3, 2, 1)), dict(groups=2)),
], ids=["conv1d-groups2", "conv2d-groups2", "conv2d-nobias", "convtranspose2d-groups2",
        "conv3d-groups2", "convtranspose1d-groups2-nobias", "convtranspose3d-groups2"])
def test_state_dict_keys_and_layout_match_torch(name, args, kw):
    ours = getattr(npimpl, name)(*args, **kw).state_dict()
    theirs = getattr(torch.nn, name)(*args, **kw).state_dict()
    assert list(ours) == list(theirs)
    assert {k: v.shape for k, v in ours.items()} == {k: tuple(v.shape) for k, v in theirs.items()}


@pytest.mark.parametrize("name,args,fan_in", [
    ("Conv2d", (8, 16, (3, 5)), 8 * 15),
    ("Conv2d", (8, 16, 3, 1, 0, 1, 4), 2 * 9),
    ("ConvTranspose2d", (8, 16, 3), 16 * 9),
    ("Conv3d", (8, 16, (3, 2, 2)), 8 * 12),
    ("ConvTranspose3d", (8, 16, 3, 1, 0, 0, 2), 8 * 27),
], ids=["conv2d", "conv2d-groups4", "convtranspose2d", "conv3d", "convtranspose3d-groups2"])
def test_init_is_uniform_within_one_over_sqrt_fan_in(name, args, fan_in):
    m = getattr(npimpl, name)(*args, dtype=np.float64)
    m.reset_parameters(np.random.default_rng(0))
    bound = 1 / math.sqrt(fan_in)
    w = m.weight.data
    assert np.abs(w).max() <= bound
    assert np.abs(w).max() > 0.95 * bound            # fills the interval, not a narrower one
    assert abs(w.std() - bound / math.sqrt(3)) < 0.1 * bound   # U(-b, b) has std b/sqrt(3)
    assert np.abs(m.bias.data).max() <= bound


def test_same_padding_puts_the_extra_zero_at_the_end():
    m = npimpl.Conv2d(1, 1, (4, 2), padding="same", bias=False, dtype=np.float64)
    assert m._pads == ((1, 2), (0, 1))
    x = np.random.default_rng(0).standard_normal((1, 1, 6, 5))
    y = m(x)
    assert y.shape == x.shape
    ref = npimpl.Conv2d(1, 1, (4, 2), bias=False, dtype=np.float64)
    ref.weight.data[...] = m.weight.data
    assert np.allclose(y, ref(np.pad(x, [(0, 0), (0, 0), (1, 2), (0, 1)])), rtol=0, atol=1e-14)


KNOBS = [((1, 1), (1, 1), 1), ((2, 3), (1, 1), 1), ((2, 1), (2, 3), 2), ((3, 2), (1, 2), 4)]
KNOB_IDS = ["plain", "stride-2x3", "stride2-dil-2x3-groups2", "stride-3x2-dil-1x2-depthwise"]


@pytest.mark.parametrize("stride,dilation,groups", KNOBS, ids=KNOB_IDS)
def test_input_gradient_is_a_convolution(stride, dilation, groups):
    """The scatter (col2im) and the gather form (a conv of the dilated dy with the flipped,
    transposed kernel, by the forward's conv_valid) are the same map."""
    rng = np.random.default_rng(1)
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    dy = rng.standard_normal((2, 4, 4, 5))
    pads = [(-1, 2), (0, -1)]
    a = im.conv_transpose(dy, w, stride, dilation, groups, pads)
    b = im.conv_transpose_as_conv(dy, w, stride, dilation, groups, pads)
    assert a.shape == b.shape
    assert np.allclose(a, b, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("stride,dilation,groups", KNOBS, ids=KNOB_IDS)
def test_conv_and_conv_transpose_are_adjoint(stride, dilation, groups):
    """<conv(x), dy> == <x, conv_transpose(dy)> for every x, dy: the dot-product test."""
    rng = np.random.default_rng(2)
    w = rng.standard_normal((4, 4 // groups, 3, 2))
    x = rng.standard_normal((2, 4, 11, 10))
    y, _ = im.conv_valid(x, w, stride, dilation, groups)
    dy = rng.standard_normal(y.shape)
    dx = im.conv_transpose(dy, w, stride, dilation, groups, [(0, 0), (0, 0)])
    dx = im.pad_or_crop(dx, [(0, x.shape[2] - dx.shape[2]), (0, x.shape[3] - dx.shape[3])])
    assert np.isclose((y * dy).sum(), (x * dx).sum(), rtol=1e-12)


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_padding_gradient_matches_torch_pad(mode):
    x = np.random.default_rng(3).standard_normal((2, 3, 4, 5))
    pads = [(2, 1), (1, 3)]
    xp = im.pad(x, pads, mode)
    tx = to_torch(x, requires_grad=True)
    tp = torch.nn.functional.pad(tx, (1, 3, 2, 1), mode=mode)
    assert np.array_equal(xp, to_numpy(tp))
    g = np.random.default_rng(4).standard_normal(xp.shape)
    tp.backward(to_torch(g))
    assert np.allclose(im.unpad_grad(g, pads, mode, x.shape[2:]), to_numpy(tx.grad),
                       rtol=1e-12, atol=1e-12)


def test_unbatched_input_is_batch_of_one():
    m = npimpl.Conv2d(2, 3, 3, padding=1, dtype=np.float64)
    x = np.random.default_rng(5).standard_normal((2, 5, 4))
    g = np.random.default_rng(6).standard_normal((3, 5, 4))
    y, dx = m(x), m.backward(g)
    dw = m.weight.grad.copy()
    m.zero_grad()
    assert np.array_equal(y, m(x[None])[0])
    assert np.array_equal(dx, m.backward(g[None])[0])
    assert np.array_equal(dw, m.weight.grad)


@pytest.mark.parametrize("name,args,shape", [
    ("Conv2d", (2, 3, 3), (2, 2, 5, 5)),
    ("ConvTranspose2d", (2, 3, 3), (2, 2, 4, 4)),
])
def test_parameter_gradients_accumulate(name, args, shape):
    m = getattr(npimpl, name)(*args, dtype=np.float64)
    x = np.random.default_rng(7).standard_normal(shape)
    g = np.ones_like(m(x))
    m.backward(g)
    once = m.weight.grad.copy(), m.bias.grad.copy()
    m(x)
    m.backward(g)
    # the same backward twice gives the same bits, and g + g = 2 g exactly
    np.testing.assert_array_equal(m.weight.grad, 2 * once[0])
    np.testing.assert_array_equal(m.bias.grad, 2 * once[1])


def test_conv_transpose_output_size_picks_output_padding():
    spec = Spec("ConvTranspose2d", 2, 2, 3, stride=2, padding=1)
    m, t = build(spec, np.float64)
    x = np.random.default_rng(8).standard_normal((1, 2, 4, 4))
    y = m(x, output_size=(8, 7))
    assert y.shape == (1, 2, 8, 7)
    assert np.allclose(y, to_numpy(t(to_torch(x), output_size=[8, 7])), rtol=1e-12, atol=1e-12)
    with pytest.raises(ValueError, match="ConvTranspose2d: requested an output size"):
        m(x, output_size=(9, 7))


BAD_CTOR = [
    ("Conv2d", (3, 4, 3), dict(padding="full"), ValueError, "padding"),
    ("Conv2d", (3, 4, 3), dict(padding="same", stride=2), ValueError, "strided"),
    ("Conv2d", (3, 4, 3), dict(padding_mode="mirror"), ValueError, "padding_mode"),
    ("Conv2d", (3, 4, 3), dict(groups=2), ValueError, "divisible by groups"),
    ("Conv2d", (3, 4, (3, 3, 3)), {}, ValueError, "kernel_size"),
    ("Conv2d", (3, 4, 0), {}, ValueError, "kernel_size must be positive"),
    ("Conv2d", (3, 4, 3), dict(dtype=np.int32), TypeError, "dtype"),
    ("ConvTranspose2d", (3, 4, 3), dict(padding_mode="reflect"), ValueError, "zeros"),
    ("ConvTranspose2d", (3, 4, 3), dict(stride=2, output_padding=2), ValueError, "output_padding"),
]


@pytest.mark.parametrize("name,args,kw,exc,msg", BAD_CTOR,
                         ids=["bad-padding-string", "same-strided", "bad-padding-mode",
                              "groups-not-dividing", "kernel-3-dims", "kernel-zero",
                              "int-dtype", "convT-reflect", "convT-output-padding-too-big"])
def test_bad_constructor_arguments_raise(name, args, kw, exc, msg):
    with pytest.raises(exc, match=msg) as err:
        getattr(npimpl, name)(*args, **kw)
    assert name in str(err.value)


BAD_INPUT = [
    ("Conv2d", (3, 4, 3), {}, np.zeros((2, 2, 5, 5)), ValueError, "3 channels"),
    ("Conv2d", (3, 4, 3), {}, np.zeros((3, 5)), ValueError, "3-D or 4-D"),
    ("Conv2d", (3, 4, 3), {}, np.zeros((2, 3, 2, 5), np.float32), ValueError, "smaller than"),
    ("Conv2d", (3, 4, 3), {}, np.zeros((2, 3, 5, 5), np.int64), TypeError, "dtype"),
    ("Conv2d", (3, 4, 3), {}, np.zeros((2, 3, 5, 5), np.float64), TypeError, "float32"),
    ("Conv2d", (3, 4, 3), dict(padding=3, padding_mode="reflect"), np.zeros((1, 3, 3, 3)),
     ValueError, "too large"),
    ("Conv1d", (3, 4, 3), {}, np.zeros((2, 3, 5, 5)), ValueError, "2-D or 3-D"),
]


@pytest.mark.parametrize("name,args,kw,x,exc,msg", BAD_INPUT,
                         ids=["wrong-channels", "wrong-rank", "too-small", "int-input",
                              "float64-into-float32", "reflect-pad-too-large", "conv1d-4d"])
def test_bad_input_raises(name, args, kw, x, exc, msg):
    m = getattr(npimpl, name)(*args, **kw)
    if x.dtype == np.float64 and msg != "float32":
        x = x.astype(np.float32)
    with pytest.raises(exc, match=msg) as err:
        m(x)
    assert name in str(err.value)


def test_backward_errors():
    m = npimpl.Conv2d(2, 3, 3)
    with pytest.raises(RuntimeError, match="before forward"):
        m.backward(np.zeros((1, 3, 3, 3), np.float32))
    m(np.zeros((1, 2, 5, 5), np.float32))
    with pytest.raises(ValueError, match=r"Conv2d: grad_output must have shape \(1, 3, 3, 3\)"):
        m.backward(np.zeros((1, 3, 3, 4), np.float32))


@pytest.mark.parametrize("spec,shape", [
    (Spec("Conv2d", 2, 3, 3, padding=1), (0, 2, 5, 5)),
    (Spec("Conv2d", 2, 4, 3, stride=2, groups=2), (0, 2, 5, 5)),
    (Spec("Conv1d", 2, 3, 3, padding=1, padding_mode="reflect"), (0, 2, 6)),
    (Spec("ConvTranspose2d", 2, 3, 3, stride=2), (0, 2, 4, 4)),
    (Spec("MaxPool2d", 3, stride=1, padding=1), (0, 2, 4, 4)),
    (Spec("AvgPool2d", 2), (0, 2, 4, 4)),
    (Spec("AdaptiveMaxPool2d", 2), (0, 2, 5, 4)),
], ids=["conv2d", "conv2d-groups", "conv1d-reflect", "convtranspose2d", "maxpool2d",
        "avgpool2d", "adaptivemaxpool2d"])
def test_empty_batch_like_torch(spec, shape):
    m, t = build(spec, np.float64)
    x = np.zeros(shape)
    y = m(x)
    assert y.shape == tuple(t(to_torch(x)).shape)
    assert m.backward(np.zeros(y.shape)).shape == shape
    for p in m.parameters():
        assert p.grad.shape == p.shape and not p.grad.any()


ROWS = [((3, 3), (1, 1), [(1, 1), (1, 1)]), ((2, 4), (3, 1), [(0, 2), (3, 0)]),
        ((1, 5), (1, 1), [(4, 4), (0, 0)]), ((3, 2), (2, 1), [(-1, 2), (1, -1)])]


@pytest.mark.parametrize("kernel,dilation,pads", ROWS, ids=["3x3-same", "2x4-dil3-asym",
                                                          "1x5-big-pad", "3x2-dil2-crop"])
def test_input_grad_rows_is_the_scatter(kernel, dilation, pads):
    """The channels-last gather (input_grad_rows, Conv's stride-1 fast path) equals col2im's
    scatter followed by the crop, over the region [lo, lo + size) of the padded input."""
    rng = np.random.default_rng(5)
    w = rng.standard_normal((5, 3) + kernel)
    dy = rng.standard_normal((2, 5, 6, 7))
    scatter = im.conv_transpose(dy, w, (1, 1), dilation, 1, [(-lo, -hi) for lo, hi in pads])
    start = [lo for lo, _ in pads]
    gather = im.input_grad_rows(dy, w, dilation, start, scatter.shape[2:])
    assert gather.shape == scatter.shape
    assert np.allclose(gather, scatter, rtol=1e-12, atol=1e-12)


def test_input_grad_rows_one_d():
    rng = np.random.default_rng(6)
    w, dy = rng.standard_normal((4, 2, 3)), rng.standard_normal((3, 4, 9))
    scatter = im.conv_transpose(dy, w, (1,), (1,), 1, [(-1, -1)])
    gather = im.input_grad_rows(dy, w, (1,), (1,), scatter.shape[2:])
    assert np.allclose(gather, scatter, rtol=1e-12, atol=1e-12)


DEPTHWISE = [  # (C_in, multiplier, spatial size, kernel, dilation, pads, padding_mode)
    (3, 1, (7, 9), (3, 3), (1, 1), [(1, 1), (1, 1)], "zeros"),
    (3, 2, (6, 40), (3, 2), (2, 1), [(0, 2), (3, 1)], "zeros"),
    (2, 3, (5, 37), (1, 4), (1, 3), [(0, 0), (4, 2)], "zeros"),
    (2, 2, (6, 19), (2, 3), (1, 2), [(1, 0), (2, 2)], "reflect"),
    (4, 2, (11,), (4,), (2,), [(2, 1)], "zeros"),
    (3, 1, (33,), (3,), (1,), [(1, 1)], "circular"),
]


@pytest.mark.parametrize("c,mult,size,kernel,dilation,pads,mode", DEPTHWISE,
                         ids=["3x3-mult1", "3x2-mult2-dil2x1-asym-wide", "1x4-mult3-dil3-3blocks",
                              "2x3-mult2-reflect", "1d-mult2-dil2-asym", "1d-circular"])
def test_depthwise_path_is_the_general_one(c, mult, size, kernel, dilation, pads, mode):
    """Conv's depthwise path (banded matmuls, no column matrix) gives what the general
    im2col path gives: conv_valid forward, conv_weight_grad, col2im for dx, in float64."""
    from npimpl import _depthwise as dwc
    rng = np.random.default_rng(8)
    nd = len(size)
    x = rng.standard_normal((2, c) + size)
    w = rng.standard_normal((c * mult, 1) + kernel)
    b = rng.standard_normal(c * mult)
    ones = (1,) * nd
    y, rows = dwc.depthwise_forward(x, w, b, pads, dilation, mode)
    xp = im.pad(x, pads, mode)
    y_ref, cols = im.conv_valid(xp, w, ones, dilation, c, b)
    assert y.shape == y_ref.shape
    assert np.allclose(y, y_ref, rtol=1e-12, atol=1e-12)
    dy = rng.standard_normal(y.shape)
    dx, dw, db = dwc.depthwise_backward(dy, w, rows, x.shape, pads, dilation, mode, True)
    dw_ref, db_ref = im.conv_weight_grad(dy, cols, w.shape)
    dxp = im.col2im(dy, w, ones, dilation, c)                       # the scatter, then unpad
    dxp = im.pad_or_crop(dxp, [(0, p - s) for p, s in zip(xp.shape[2:], dxp.shape[2:])])
    dx_ref = im.unpad_grad(dxp, pads, mode, size)
    assert dx.shape == x.shape and dw.shape == w.shape
    assert np.allclose(dx, dx_ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(dw, dw_ref, rtol=1e-12, atol=1e-12)
    assert np.allclose(db, db_ref, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("x_shape,w_shape,stride,groups,taken", [
    ((2, 3, 6, 6), (3, 1, 3, 3), (1, 1), 3, True),
    ((2, 3, 6, 6), (9, 1, 3, 3), (1, 1), 3, True),
    ((2, 3, 6, 6), (12, 1, 3, 3), (1, 1), 3, False),
    ((2, 3, 6, 6), (3, 1, 3, 3), (2, 1), 3, True),
    ((2, 1, 6, 6), (3, 1, 3, 3), (1, 1), 1, False),
    ((2, 6, 6, 6), (3, 2, 3, 3), (1, 1), 3, False),
    ((2, 3, 6, 6), (3, 1, 1, 2), (1, 1), 3, False),
    ((2, 3, 6), (3, 1, 3), (1,), 3, False),
    ((32, 32, 256), (32, 1, 3), (1,), 32, True),
], ids=["mult1", "mult3-3x3", "mult4-3x3", "strided", "one-group", "grouped-not-depthwise",
        "kernel-1x2", "small-1d", "large-1d"])
def test_depthwise_path_only_where_it_applies(x_shape, w_shape, stride, groups, taken):
    """The band path where is_depthwise says so: forward and backward at stride 1, only
    the input gradient (the forward keeps im2col's columns) at a larger stride."""
    from npimpl.conv import conv_forward, is_depthwise
    assert is_depthwise(x_shape, w_shape, stride, groups) == taken
    pads = [(1, 1)] * len(stride)
    _, cache = conv_forward(np.ones(x_shape), np.ones(w_shape), None, stride, pads,
                            (1,) * len(stride), groups)
    banded = taken and all(st == 1 for st in stride)
    assert (cache.rows is not None) == banded and (cache.cols is None) == banded


STRIDED = [  # (C_in, multiplier, spatial size, kernel, stride, dilation, pads, padding_mode)
    (3, 1, (9, 11), (3, 3), (2, 2), (1, 1), [(1, 1), (1, 1)], "zeros"),
    (2, 2, (10, 40), (3, 2), (2, 3), (2, 1), [(0, 2), (3, 1)], "zeros"),
    (2, 1, (7, 19), (3, 3), (3, 2), (1, 2), [(1, 2), (2, 2)], "reflect"),
    (3, 2, (23,), (4,), (2,), (2,), [(2, 1)], "circular"),
]


@pytest.mark.parametrize("c,mult,size,kernel,stride,dilation,pads,mode", STRIDED,
                         ids=["3x3-stride2", "3x2-mult2-stride-2x3-dil-asym",
                              "reflect-stride-3x2-dil", "1d-mult2-stride2-circular"])
def test_strided_depthwise_input_grad_is_col2im(c, mult, size, kernel, stride, dilation, pads,
                                                mode):
    """depthwise_input_grad (dy dilated by the stride, gathered by band_conv) equals the
    scatter col2im followed by the padding's gradient, in float64."""
    from npimpl import _depthwise as dwc
    rng = np.random.default_rng(10)
    x_shape = (2, c) + size
    w = rng.standard_normal((c * mult, 1) + kernel)
    xp_shape = tuple(s + lo + hi for s, (lo, hi) in zip(size, pads))
    outs = [im.out_size(s, k, st, d) for s, k, st, d in zip(xp_shape, kernel, stride, dilation)]
    dy = rng.standard_normal((2, c * mult) + tuple(outs))
    dx = dwc.depthwise_input_grad(dy, w, x_shape, pads, stride, dilation, mode)
    dxp = im.col2im(dy, w, stride, dilation, c)
    dxp = im.pad_or_crop(dxp, [(0, p - s) for p, s in zip(xp_shape, dxp.shape[2:])])
    want = im.unpad_grad(dxp, pads, mode, size)
    assert dx.shape == x_shape
    assert np.allclose(dx, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("start,size,kernel,dilation", [
    ((-1, -1), (5, 40), (3, 3), (1, 1)), ((2, -30), (4, 60), (2, 3), (1, 2)),
    ((-3, 9), (3, 35), (3, 4), (2, 3)), ((0, 0), (1, 5), (1, 2), (1, 1)),
    ((-2, -50), (6, 20), (2, 2), (1, 1))],
    ids=["pad1-3blocks", "far-left-start", "crop-dilated", "one-block", "src-outside"])
def test_depthwise_rows_are_the_zero_embedded_blocks(start, size, kernel, dilation):
    """_blocked_rows copies each block straight from src (edge blocks one by one): the same
    as cutting the blocks, in a Python loop, out of src embedded in a zero grid."""
    from npimpl import _depthwise as dwc
    src = np.random.default_rng(9).standard_normal((2, 3, 2, 7, 33))
    rows = dwc._blocked_rows(src, start, size, kernel, dilation)
    n, hz, span, mrows, b, nb, _ = rows.geom
    bh = rows.buf.shape[-1]
    grid = np.zeros((2, 3, 2, hz, nb * b + bh + 200))
    for u in range(hz):
        for v in range(grid.shape[-1]):
            i, j = u + start[0], v + start[1]
            if 0 <= i < 7 and 0 <= j < 33:
                grid[:, :, :, u, v] = src[:, :, :, i, j]
    want = np.zeros_like(rows.buf)                              # (C, nb, rows, Q, Bh)
    for blk in range(nb):
        blocks = grid[..., blk * b:blk * b + bh].transpose(1, 0, 3, 2, 4)   # (C, N, Hz, Q, Bh)
        want[:, blk, :n * hz] = blocks.reshape(3, n * hz, 2, bh)
    assert np.array_equal(rows.buf, want)


# --- 3-D, transposed 1-D/3-D, torch's 1-tuple rule, grad dtypes ------------------------------
def run_both(spec, x, dt=np.float64, g_dtype=None, **fwd):
    """Forward and backward on both sides; ``g_dtype`` casts the upstream gradient (torch's
    autograd casts it to the output's dtype)."""
    m, t = build(spec, dt)
    x = x.astype(dt)
    y = m(x, **fwd)
    tx = to_torch(x, requires_grad=True)
    ty = t(tx, **fwd)
    g = np.random.default_rng(11).standard_normal(y.shape).astype(g_dtype or dt)
    ty.backward(to_torch(g))
    dx = m.backward(g)
    return (y, dx, m), (to_numpy(ty), to_numpy(tx.grad), t)


@pytest.mark.parametrize("name,args,shape", [
    ("Conv3d", (3, 4, (3, 2, 2)), (1, 3, 5, 4, 6)),
    ("Conv3d", (2, 4, 3, 1, 1, 1, 2), (1, 2, 4, 5, 3)),
    ("ConvTranspose1d", (2, 3, 3, 2, 1, 1), (1, 2, 5)),
    ("ConvTranspose3d", (2, 4, 2, 2, 0, 1, 2), (1, 2, 2, 3, 2)),
], ids=["conv3d", "conv3d-groups2-pad1", "convtranspose1d-outpad", "convtranspose3d-groups2"])
def test_unbatched_and_accumulating_like_the_batched_one(name, args, shape):
    """A batch of one: the unbatched pass is the same pass, so the gradient doubles."""
    x = np.random.default_rng(12).standard_normal(shape)
    m = getattr(npimpl, name)(*args, dtype=np.float64)
    y = m(x)
    g = np.random.default_rng(13).standard_normal(y.shape)
    dx = m.backward(g)
    once = m.weight.grad.copy()
    assert np.array_equal(y[0], m(x[0]))
    assert np.array_equal(dx[0], m.backward(g[0]))
    assert np.allclose(m.weight.grad, 2 * once, rtol=1e-14, atol=0)


def test_input_grad_rows_three_d_is_the_scatter():
    """The gather with two leading kernel offsets (Conv3d's stride-1 input gradient) equals
    col2im's scatter, cropped to the region of the padded input."""
    rng = np.random.default_rng(14)
    w = rng.standard_normal((4, 3, 2, 3, 2))
    dy = rng.standard_normal((2, 4, 3, 5, 4))
    dilation, pads = (2, 1, 1), [(1, 0), (0, 2), (-1, 1)]
    scatter = im.conv_transpose(dy, w, (1, 1, 1), dilation, 1, [(-lo, -hi) for lo, hi in pads])
    gather = im.input_grad_rows(dy, w, dilation, [lo for lo, _ in pads], scatter.shape[2:])
    assert gather.shape == scatter.shape
    assert np.allclose(gather, scatter, rtol=1e-12, atol=1e-12)


def test_conv3d_depthwise_stays_on_im2col():
    from npimpl.conv import conv_forward, is_depthwise
    assert not is_depthwise((2, 3, 9, 9, 9), (3, 1, 3, 3, 3), (1, 1, 1), 3)
    _, cache = conv_forward(np.ones((2, 3, 4, 4, 4)), np.ones((3, 1, 3, 3, 3)), None, (1, 1, 1),
                            [(1, 1)] * 3, (1, 1, 1), 3)
    assert cache.rows is None and cache.cols is not None


ONE_TUPLES = [  # torch broadcasts a 1-element stride / padding / dilation / output_padding
    ("Conv2d", (2, 3, 3), dict(stride=(2,), padding=(1,), dilation=(2,)), (1, 2, 7, 8)),
    ("Conv3d", (2, 3, 2), dict(stride=(2,), padding=(1,), dilation=(1,)), (1, 2, 4, 5, 4)),
    ("Conv3d", (2, 2, (2, 2, 3)), dict(padding="same", dilation=(2,)), (1, 2, 5, 4, 6)),
    ("ConvTranspose2d", (2, 3, 3), dict(stride=(2,), padding=(1,), output_padding=(1,),
                                        dilation=(1,)), (1, 2, 3, 4)),
    ("ConvTranspose3d", (2, 3, 2), dict(stride=(2,), padding=(1,), output_padding=(1,)),
     (1, 2, 2, 3, 2)),
]


@pytest.mark.parametrize("name,args,kw,shape", ONE_TUPLES,
                         ids=["conv2d", "conv3d", "conv3d-same-dilation", "convtranspose2d",
                              "convtranspose3d"])
def test_one_tuples_broadcast_like_torch(name, args, kw, shape):
    x = np.random.default_rng(15).standard_normal(shape)
    (y, dx, m), (ty, tdx, t) = run_both(Spec(name, *args, **kw), x)
    assert y.shape == ty.shape
    assert np.allclose(y, ty, rtol=1e-12, atol=1e-12)
    assert np.allclose(dx, tdx, rtol=1e-12, atol=1e-12)
    assert np.allclose(m.weight.grad, to_numpy(t.weight.grad), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("name,args,kw,shape", [
    ("Conv2d", (2, 3, (3,)), {}, (1, 2, 5, 5)),
    ("Conv3d", (2, 3, (2,)), {}, (1, 2, 4, 4, 4)),
    ("ConvTranspose3d", (2, 3, (2,)), {}, (1, 2, 3, 3, 3)),
    ("Conv2d", (2, 3, 3), dict(padding=(1,), padding_mode="reflect"), (1, 2, 5, 5)),
    ("Conv3d", (2, 3, 3), dict(padding=(1,), padding_mode="circular"), (1, 2, 4, 4, 4)),
], ids=["conv2d-kernel", "conv3d-kernel", "convtranspose3d-kernel", "conv2d-reflect-padding",
        "conv3d-circular-padding"])
def test_one_tuples_torch_refuses_are_refused(name, args, kw, shape):
    with pytest.raises((RuntimeError, NotImplementedError, ValueError)):
        getattr(torch.nn, name)(*args, **kw)(torch.zeros(shape))
    with pytest.raises(ValueError, match=name) as err:
        getattr(npimpl, name)(*args, **kw)
    assert "got" in str(err.value)


def test_same_with_a_one_tuple_dilation_and_a_padding_mode_is_refused():
    # torch pads zip(dilation, kernel_size): only the first dim, so its output is not 'same'
    t = torch.nn.Conv3d(1, 1, 3, padding="same", dilation=(2,), padding_mode="replicate")
    assert tuple(t(torch.zeros(1, 1, 9, 9, 9)).shape) != (1, 1, 9, 9, 9)
    with pytest.raises(ValueError, match="Conv3d: padding='same' with padding_mode='replicate'"):
        npimpl.Conv3d(1, 1, 3, padding="same", dilation=(2,), padding_mode="replicate")


@pytest.mark.parametrize("spec,shape", [
    (Spec("Conv2d", 2, 3, 3, padding=1), (1, 2, 4, 5)),
    (Spec("Conv3d", 2, 3, 2), (1, 2, 3, 3, 3)),
    (Spec("ConvTranspose1d", 2, 3, 3, stride=2), (1, 2, 4)),
], ids=["conv2d", "conv3d", "convtranspose1d"])
@pytest.mark.parametrize("dt,g_dt", [(np.float64, np.float32), (np.float32, np.float64)],
                         ids=["float32-grad-on-float64", "float64-grad-on-float32"])
def test_grad_output_is_cast_to_the_module_dtype_like_torch(spec, shape, dt, g_dt):
    x = np.random.default_rng(16).standard_normal(shape)
    (y, dx, m), (ty, tdx, t) = run_both(spec, x, dt, g_dtype=g_dt)
    assert dx.dtype == tdx.dtype == dt
    assert m.weight.grad.dtype == dt
    assert np.allclose(dx, tdx, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("name,args,shape,output_size", [
    ("ConvTranspose1d", (2, 2, 3, 3), (1, 2, 4), [12]),
    ("ConvTranspose1d", (2, 2, 3, 3), (1, 2, 4), (1, 2, 14)),
    ("ConvTranspose1d", (2, 2, 3, 3), (2, 4), (2, 13)),
    ("ConvTranspose3d", (2, 2, 2, 2), (1, 2, 2, 3, 2), (5, 6, 4)),
    ("ConvTranspose3d", (2, 2, 2, 2), (2, 2, 3, 2), (2, 4, 7, 5)),
], ids=["1d-spatial", "1d-with-n-c", "1d-unbatched-with-c", "3d-spatial", "3d-unbatched-with-c"])
def test_conv_transpose_output_size_like_torch(name, args, shape, output_size):
    x = np.random.default_rng(17).standard_normal(shape)
    (y, dx, m), (ty, tdx, t) = run_both(Spec(name, *args), x, output_size=output_size)
    assert y.shape == ty.shape
    assert np.allclose(y, ty, rtol=1e-12, atol=1e-12) and np.allclose(dx, tdx, rtol=1e-12,
                                                                         atol=1e-12)


@pytest.mark.parametrize("shape,output_size", [((1, 2, 4), (1, 2, 1, 12)), ((2, 4), (1, 2, 12)),
                                               ((1, 2, 4), (15,)), ((1, 2, 4), (11,))],
                         ids=["too-long", "unbatched-with-n", "too-big", "too-small"])
def test_conv_transpose_bad_output_size_refused_like_torch(shape, output_size):
    m, t = build(Spec("ConvTranspose1d", 2, 2, 3, stride=3), np.float64)
    with pytest.raises(ValueError):
        t(torch.zeros(shape, dtype=torch.float64), output_size=output_size)
    with pytest.raises(ValueError, match="ConvTranspose1d: .*output"):
        m(np.zeros(shape), output_size=output_size)
