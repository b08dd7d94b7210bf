"""Dropout and Dropout2d against torch's *real* kernels (the catalogue's twin reuses our mask,
so it cannot show that torch computes the same formula): recover torch's mask from its
output, feed the same draw to our module, and require identical outputs and gradients."""
import warnings

import numpy as np
import pytest
import torch

import npimpl


class ReplayRng:
    """Stands in for ``np.random.Generator``: ``random(shape)`` returns uniforms that keep
    exactly the positions torch kept (1.0 >= p) and drop the others (0.0 < p)."""

    def __init__(self, keep: np.ndarray):
        self.keep = keep

    def random(self, shape, dtype=np.float64):      # the Generator's signature
        assert tuple(shape) == self.keep.shape, (shape, self.keep.shape)
        return self.keep.astype(dtype)


def _torch_run(cls, p, x, train=True):
    """Run torch's real module on ``x``; return (output, input gradient for dy, dy)."""
    t = cls(p).train(train)
    xt = torch.from_numpy(x.copy()).requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        y = t(xt)
    dy = np.random.default_rng(3).standard_normal(x.shape).astype(x.dtype)
    y.backward(torch.from_numpy(dy))
    return y.detach().numpy(), xt.grad.numpy(), dy


def _nonzero(shape, dtype, seed=0):
    x = np.random.default_rng(seed).standard_normal(shape)
    return (x + np.sign(x) * 0.5).astype(dtype)              # |x| >= 0.5: zero only if dropped


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9], ids=["p0.2", "p0.5", "p0.9"])
def test_dropout_reproduces_torch_with_torch_mask(p, dtype):
    torch.manual_seed(0)
    x = _nonzero((40, 50), dtype)
    y_t, dx_t, dy = _torch_run(torch.nn.Dropout, p, x)
    keep = y_t != 0
    assert 0 < keep.mean() < 1, "the mask must have both kept and dropped elements"
    assert abs(keep.mean() - (1 - p)) < 0.05               # torch keeps with probability 1 - p
    ours = npimpl.Dropout(p)
    ours.rng = ReplayRng(keep)
    np.testing.assert_array_equal(ours(x), y_t)             # bit for bit: same formula, same dtype
    np.testing.assert_array_equal(ours.backward(dy), dx_t)
    np.testing.assert_array_equal(ours.mask, keep.astype(dtype) / dtype(1 - p))


def test_dropout_p1_zeroes_everything_like_torch_and_keeps_nan():
    x = _nonzero((3, 4), np.float64)
    x[0, 0] = np.nan
    y_t, dx_t, dy = _torch_run(torch.nn.Dropout, 1.0, x)
    ours = npimpl.Dropout(1.0)
    y = ours(x)
    np.testing.assert_array_equal(y, y_t)                   # zeros, NaN * 0 = NaN on both sides
    assert np.isnan(y[0, 0]) and (y.reshape(-1)[1:] == 0).all()
    np.testing.assert_array_equal(ours.backward(dy), dx_t)
    assert (dx_t == 0).all()


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_eval_is_the_identity_like_torch(cls):
    x = _nonzero({"Dropout1d": (2, 3, 4), "Dropout3d": (2, 3, 4, 5, 2)}.get(cls, (2, 3, 4, 5)),
                 np.float32)
    y_t, dx_t, dy = _torch_run(getattr(torch.nn, cls), 0.5, x, train=False)
    ours = getattr(npimpl, cls)(0.5).eval()
    np.testing.assert_array_equal(ours(x), y_t)
    assert ours.mask is None
    np.testing.assert_array_equal(ours.backward(dy), dx_t)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_dropout2d_zeroes_whole_channels_like_torch(dtype):
    torch.manual_seed(1)
    x = _nonzero((6, 8, 3, 4), dtype)
    y_t, dx_t, dy = _torch_run(torch.nn.Dropout2d, 0.5, x)
    keep = y_t != 0                                         # (N, C, H, W)
    channel = keep[:, :, :1, :1]                            # (N, C, 1, 1)
    assert (keep == channel).all(), "torch's mask is constant over H and W"
    assert 0 < channel.mean() < 1
    ours = npimpl.Dropout2d(0.5)
    ours.rng = ReplayRng(channel)
    np.testing.assert_array_equal(ours(x), y_t)
    assert ours.mask.shape == (6, 8, 1, 1)
    np.testing.assert_array_equal(ours.backward(dy), dx_t)


def test_dropout2d_on_3d_input_masks_dims_0_and_1_like_torch():
    """torch reads (A, B, L) as (N, C, L) — not as an unbatched (C, H, W) image: its zeros are
    constant along the last dim only, and differ along dim 1."""
    torch.manual_seed(2)
    x = _nonzero((5, 6, 7), np.float64)
    y_t, dx_t, dy = _torch_run(torch.nn.Dropout2d, 0.5, x)
    keep = y_t != 0
    rows = keep[:, :, :1]                                   # (5, 6, 1)
    assert (keep == rows).all()
    assert (rows != rows[:, :1]).any(), "a (C, H, W) reading would make dim 1 constant"
    ours = npimpl.Dropout2d(0.5)
    ours.rng = ReplayRng(rows)
    with pytest.warns(UserWarning, match="read as \\(N, C, L\\)"):
        y = ours(x)
    np.testing.assert_array_equal(y, y_t)
    np.testing.assert_array_equal(ours.backward(dy), dx_t)


def test_own_draw_keeps_about_1_minus_p_and_scales_to_preserve_the_mean():
    m = npimpl.Dropout(0.25, rng=np.random.default_rng(0))
    y = m(np.ones((200, 200)))
    keep = m.mask != 0
    assert abs(keep.mean() - 0.75) < 0.01
    np.testing.assert_array_equal(y[keep], 1 / 0.75)
    assert abs(y.mean() - 1.0) < 0.02


@pytest.mark.parametrize("cls", ["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
@pytest.mark.parametrize("p", [-0.1, 1.5], ids=["negative", "above-one"])
def test_bad_p_raises_like_torch(cls, p):
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(torch.nn, cls)(p)
    with pytest.raises(ValueError, match="dropout probability has to be between 0 and 1"):
        getattr(npimpl, cls)(p)


def test_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="Dropout.backward called before forward"):
        npimpl.Dropout(0.5).backward(np.zeros(3))


# (torch class, input shape, the dims along which torch's mask is constant, warns)
CHANNEL_DROPOUT = [
    ("Dropout1d", (6, 8, 5), (2,), False),
    ("Dropout1d", (8, 5), (1,), False),                  # unbatched (C, L): whole channels
    ("Dropout3d", (4, 6, 2, 3, 2), (2, 3, 4), False),
    ("Dropout3d", (8, 2, 3, 2), (1, 2, 3), False),       # unbatched (C, D, H, W)
    ("Dropout3d", (8, 5, 3), (1, 2), True),              # 3-D read as unbatched: dim 0 masked
    ("Dropout3d", (40,), (), True),                      # 1-D: every element
]


@pytest.mark.parametrize("cls,shape,constant,warns", CHANNEL_DROPOUT,
                         ids=[f"{c}-{len(s)}d" for c, s, _, _ in CHANNEL_DROPOUT])
def test_channel_dropout_reproduces_torch_with_torch_mask(cls, shape, constant, warns):
    """Recover torch's mask from its real kernel's output: constant along ``constant``, varying
    along the other dims; our module fed that draw gives identical outputs and gradients."""
    torch.manual_seed(4)
    x = _nonzero(shape, np.float64)
    y_t, dx_t, dy = _torch_run(getattr(torch.nn, cls), 0.5, x)
    keep = y_t != 0
    mask = keep[tuple(slice(0, 1) if d in constant else slice(None) for d in range(keep.ndim))]
    assert (keep == mask).all(), f"torch's mask is constant along {constant}"
    assert 0 < mask.mean() < 1
    ours = getattr(npimpl, cls)(0.5)
    ours.rng = ReplayRng(mask)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        y = ours(x)
    assert any(cls in str(w.message) for w in caught) == warns
    np.testing.assert_array_equal(y, y_t)
    np.testing.assert_array_equal(ours.backward(dy), dx_t)


@pytest.mark.parametrize("cls,shape", [("Dropout1d", (5,)), ("Dropout1d", (2, 3, 4, 5)),
                                       ("Dropout3d", ())])
def test_channel_dropout_refuses_what_torch_refuses(cls, shape):
    x = np.ones(shape)
    with pytest.raises(RuntimeError):
        getattr(torch.nn, cls)(0.5)(torch.from_numpy(x))
    with pytest.raises(ValueError, match=cls):
        getattr(npimpl, cls)(0.5)(x)


# --- issue 21: inplace, and the gradient's shape ---------------------------------------------
@pytest.mark.parametrize("cls,shape", [(npimpl.Dropout, (3, 4)), (npimpl.Dropout1d, (2, 3, 4)),
                                       (npimpl.Dropout2d, (2, 3, 2, 2)),
                                       (npimpl.Dropout3d, (2, 3, 2, 2, 2))],
                         ids=["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
def test_inplace_multiplies_the_input_itself_as_torch(cls, shape):
    x = np.random.default_rng(1).standard_normal(shape)
    m = cls(0.5, inplace=True, rng=np.random.default_rng(0))
    x0 = x.copy()
    y = m(x)
    assert y is x
    np.testing.assert_array_equal(x, x0 * m.mask)
    t = getattr(torch.nn, cls.__name__)(0.5, inplace=True)
    xt = torch.from_numpy(x0.copy())
    assert t(xt) is xt and not torch.equal(xt, torch.from_numpy(x0))  # torch's does too
    m.eval()
    assert m(x) is x
    with pytest.raises(ValueError, match=f"{cls.__name__}: inplace=True needs a writeable"):
        m.train()(_readonly(x0))


def _readonly(x):
    x = x.copy()
    x.setflags(write=False)
    return x


@pytest.mark.parametrize("cls,shape", [(npimpl.Dropout, (3, 4)), (npimpl.Dropout1d, (2, 3, 4)),
                                       (npimpl.Dropout2d, (2, 3, 2, 2)),
                                       (npimpl.Dropout3d, (2, 3, 2, 2, 2))],
                         ids=["Dropout", "Dropout1d", "Dropout2d", "Dropout3d"])
@pytest.mark.parametrize("train", [True, False], ids=["train", "eval"])
def test_backward_refuses_a_gradient_of_another_shape(cls, shape, train):
    """A (1, ...) or transposed gradient used to broadcast through the mask silently."""
    m = cls(0.5, rng=np.random.default_rng(0)).train(train)
    x = np.random.default_rng(1).standard_normal(shape)
    m(x)
    for g in (np.ones((1,) + shape[1:]), np.ones(shape[::-1]), np.ones(shape[1:])):
        with pytest.raises(ValueError, match=rf"{cls.__name__}: grad_output must have the "
                                             rf"forward output's shape"):
            m.backward(g)
    assert m.backward(np.ones(shape, np.float32)).dtype == np.float64   # cast as autograd
