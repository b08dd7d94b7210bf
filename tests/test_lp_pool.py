"""LPPool1d/2d/3d: the corners where torch's formula (an average pool of x^p, rescaled)
differs from a plain ``(sum x^p)^(1/p)``, checked against torch and against the rule."""
import numpy as np
import pytest
import torch

import npimpl
from reference import to_numpy, to_torch


def both(name, args, x, g=None, **kw):
    m, t = getattr(npimpl, name)(*args, **kw), getattr(torch.nn, name)(*args, **kw)
    y = m(x)
    tx = to_torch(x, requires_grad=True)
    ty = t(tx)
    g = np.ones(y.shape) if g is None else g
    ty.backward(to_torch(g))
    return (y, m.backward(g)), (to_numpy(ty), to_numpy(tx.grad))


def test_ceil_mode_rescales_a_partial_window_as_torch_does():
    # 5x5 ones, 2x2 windows: the last row/column of windows holds 2 (or 1) inputs, but
    # avg_pool * K treats them as 4 ones: 2 everywhere, not sqrt(2) (or 1) on the border
    x = np.ones((1, 1, 5, 5))
    (y, dx), (ty, tdx) = both("LPPool2d", (2, 2), x, ceil_mode=True)
    assert y.shape == (1, 1, 3, 3)
    assert np.array_equal(y, np.full((1, 1, 3, 3), 2.0)) and np.array_equal(y, ty)
    assert np.allclose(dx, tdx, rtol=1e-14, atol=0)
    assert dx[0, 0, 4, 4] == 2.0     # the corner window (n = 1) sends K/n = 4 times more
    assert dx[0, 0, 0, 0] == 0.5


def test_all_zero_window_has_zero_gradient_not_nan():
    x = np.zeros((1, 2, 4, 4))
    x[0, 1] = np.random.default_rng(0).standard_normal((4, 4))
    g = np.random.default_rng(1).standard_normal((1, 2, 2, 2))
    (y, dx), (ty, tdx) = both("LPPool2d", (2, 2), x, g)
    assert not np.isnan(dx).any() and not dx[0, 0].any()
    assert np.allclose(y, ty, rtol=1e-14, atol=0) and np.allclose(dx, tdx, rtol=1e-13, atol=0)


@pytest.mark.parametrize("p", [3, 1.5], ids=["odd", "fractional"])
def test_negative_powers_give_nan_where_torch_does(p):
    x = np.random.default_rng(2).standard_normal((2, 3, 9))
    (y, dx), (ty, tdx) = both("LPPool1d", (p, 3), x)
    assert np.isnan(y).any() and not np.isnan(y).all()
    assert np.array_equal(np.isnan(y), np.isnan(ty)) and np.array_equal(np.isnan(dx), np.isnan(tdx))
    ok = ~np.isnan(y)
    assert np.allclose(y[ok], ty[ok], rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("p", [float("inf"), float("-inf")], ids=["inf", "neg-inf"])
def test_infinite_p_is_a_max_or_min_of_abs_with_sgn_gradient(p):
    x = np.array([[[1.0, -3.0, 0.0, 0.5, -0.5, 2.0, 0.0, 0.0]]])
    (y, dx), (ty, tdx) = both("LPPool1d", (p, 2), x, g=np.array([[[1.0, 2.0, 3.0, 4.0]]]))
    assert np.array_equal(y, ty) and np.array_equal(dx, tdx)
    want = [3.0, 0.5, 2.0, 0.0] if p > 0 else [1.0, 0.0, 0.5, 0.0]
    assert y.ravel().tolist() == want
    assert dx[0, 0, 6] == dx[0, 0, 7] == 0.0        # sgn(0) = 0: a zero input gets nothing


def test_p1_is_a_window_sum():
    x = np.random.default_rng(3).uniform(0.1, 1.0, (1, 2, 3, 4, 4))
    y = npimpl.LPPool3d(1, 2)(x)
    s = x.reshape(1, 2, 1, 3, 2, 2, 2, 2)[:, :, :, :2].sum(axis=(3, 5, 7))   # D: 3 -> 1 window
    assert np.allclose(y, s, rtol=1e-14, atol=0)


@pytest.mark.parametrize("args,exc,msg", [
    ((0, 2), ValueError, "LPPool2d: norm_type must be a non-zero number"),
    ((float("nan"), 2), ValueError, "LPPool2d: norm_type"),
    (("2", 2), ValueError, "LPPool2d: norm_type"),
    ((2, (2, 2, 2)), ValueError, "LPPool2d: kernel_size"),
    ((2, 0), ValueError, "LPPool2d: kernel_size and stride must be positive"),
], ids=["p0", "nan", "string", "kernel-3-dims", "kernel-0"])
def test_bad_arguments(args, exc, msg):
    with pytest.raises(exc, match=msg):
        npimpl.LPPool2d(*args)


def test_p0_fails_in_torch_too_and_lppool1d_wants_an_int_kernel():
    with pytest.raises(ZeroDivisionError):
        torch.nn.LPPool2d(0, 2)(torch.ones(1, 1, 4, 4))
    with pytest.raises(TypeError):        # torch multiplies by kernel_size itself
        torch.nn.LPPool1d(2, (2,))(torch.ones(1, 1, 4))
    with pytest.raises(ValueError, match="LPPool1d: kernel_size must be an int"):
        npimpl.LPPool1d(2, (2,))


def test_too_small_input():
    with pytest.raises(ValueError, match="LPPool3d: input of spatial size"):
        npimpl.LPPool3d(2, 3)(np.ones((1, 1, 2, 4, 4)))
