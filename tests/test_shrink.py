"""Hardshrink, Softshrink, Tanhshrink, Threshold: band edges, NaN, options and errors."""
import numpy as np
import pytest
import torch
from torch_side import assert_docstring_teaches, assert_signature_is_torchs, run_both

import npimpl

NAMES = ["Hardshrink", "Softshrink", "Tanhshrink", "Threshold"]
ARGS = {"Threshold": (0.5, 2.0)}


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name,lambd", [("Hardshrink", 0.5), ("Softshrink", 0.3)])
def test_band_is_closed_output_and_gradient_zero_at_the_edges(name, lambd, dtype):
    x = np.tile(np.asarray([lambd, -lambd, 0.0, 2.0, -2.0], dtype=dtype), 8)
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(lambd), getattr(torch.nn, name)(lambd), x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx[:5], [0, 0, 0, 1, 1])
    np.testing.assert_array_equal(y[:3], [0, 0, 0])


@pytest.mark.parametrize("name", ["Hardshrink", "Softshrink"])
def test_nan_keeps_nan_forward_and_gets_zero_gradient_like_torchs_simd_loop(name):
    x = np.full(32, np.nan)                                    # 32: no scalar tail in torch
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(), getattr(torch.nn, name)(), x)
    assert np.isnan(y).all() and np.isnan(ty).all()
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, np.zeros(32))


def test_threshold_passes_dy_through_a_nan_like_torch():
    x = np.tile([np.nan, 0.5, 1.0, -1.0], 8)
    (y, dx), (ty, tdx) = run_both(npimpl.Threshold(0.5, 2.0), torch.nn.Threshold(0.5, 2.0), x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx[:4], [1, 0, 1, 0])       # NaN: dy; at the threshold: 0
    np.testing.assert_array_equal(y[:4], [np.nan, 2.0, 1.0, 2.0])


def test_threshold_0_0_is_relu():
    x = np.random.default_rng(0).standard_normal(20)
    x[::4] = 0.0
    m, r = npimpl.Threshold(0.0, 0.0), npimpl.ReLU()
    np.testing.assert_array_equal(m(x), r(x))
    np.testing.assert_array_equal(m.backward(np.ones(20)), r.backward(np.ones(20)))


def test_threshold_inplace_overwrites_the_input_like_torch():
    x = np.array([-1.0, 0.5, 3.0])
    t = torch.tensor(x)
    torch.nn.Threshold(0.5, 9.0, inplace=True)(t)
    m = npimpl.Threshold(0.5, 9.0, inplace=True)
    y = m(x)
    assert y is x
    np.testing.assert_array_equal(x, t.numpy())
    np.testing.assert_array_equal(m.backward(np.ones(3)), [0.0, 0.0, 1.0])


def test_hardshrink_with_a_negative_lambd_is_the_identity_like_torch():
    x = np.array([-2.0, -0.5, 0.0, 0.3, 1.0])
    (y, dx), (ty, tdx) = run_both(npimpl.Hardshrink(-1.0), torch.nn.Hardshrink(-1.0), x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(dx, tdx)


def test_softshrink_0_is_the_identity_with_a_zero_gradient_at_0_like_torch():
    x = np.tile([0.0, -0.0, 1e-300, -2.0], 8)
    (y, dx), (ty, tdx) = run_both(npimpl.Softshrink(0.0), torch.nn.Softshrink(0.0), x)
    np.testing.assert_array_equal(y, x)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx[:4], [0.0, 0.0, 1.0, 1.0])   # not the derivative at 0


def test_softshrink_refuses_a_negative_lambd_like_torch():
    with pytest.raises(ValueError, match=r"Softshrink: lambd must be >= 0.*got -0.1"):
        npimpl.Softshrink(-0.1)
    with pytest.raises(RuntimeError, match="lambda must be in range"):
        torch.nn.Softshrink(-0.1)(torch.zeros(3))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softshrink_compares_lambd_in_the_inputs_dtype(dtype):
    # float32(0.1) > 0.1 in double: compared in float32 it sits exactly on the band's edge
    x = np.full(8, 0.1, dtype=dtype)
    (y, dx), (ty, tdx) = run_both(npimpl.Softshrink(0.1), torch.nn.Softshrink(0.1), x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, np.zeros(8))


def test_tanhshrink_gradient_is_torchs_cancelling_form():
    # at x = 1e-5 torch's dy - dy (1 - t^2) keeps ~eps / t^2 = 2e-6 relative accuracy; the
    # exact dy * t^2 differs from it by that much, and npimpl follows torch
    x = np.array([1e-5, -3e-5, 2e-5, 1.0])
    (_, dx), (_, tdx) = run_both(npimpl.Tanhshrink(), torch.nn.Tanhshrink(), x)
    np.testing.assert_array_equal(dx, tdx)
    exact = np.tanh(x) ** 2
    rel = np.abs(dx - exact) / exact
    assert rel[:3].max() > 1e-8                                # the cancellation is real
    assert rel[3] < 1e-15


@pytest.mark.parametrize("name", NAMES)
def test_a_0d_input_gives_0d_arrays_like_torch(name):
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(*ARGS.get(name, ())),
                                  getattr(torch.nn, name)(*ARGS.get(name, ())),
                                  np.array(0.7), g=np.array(-1.5))
    assert isinstance(y, np.ndarray) and y.shape == () and dx.shape == ()
    np.testing.assert_allclose(y, ty, rtol=1e-14)              # tanh: torch's and libm's ulp
    np.testing.assert_allclose(dx, tdx, rtol=1e-14)


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_docstring(name):
    assert_signature_is_torchs(name)
    assert_docstring_teaches(name)
