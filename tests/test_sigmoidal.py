"""LogSigmoid, Softsign and GLU: stability at the tails, GLU's halves, errors."""
import warnings

import numpy as np
import pytest
import torch
from torch_side import assert_docstring_teaches, assert_signature_is_torchs, run_both

import npimpl

NAMES = ["LogSigmoid", "Softsign", "GLU"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_logsigmoid_is_exact_and_finite_at_the_tails(dtype):
    x = np.array([-1000.0, -800.0, -40.0, 0.0, 40.0, 1000.0], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                        # no overflow in exp either
        (y, dx), (ty, tdx) = run_both(npimpl.LogSigmoid(), torch.nn.LogSigmoid(), x)
    np.testing.assert_array_equal(y[:2], x[:2])              # log(sigmoid(x)) = x exactly there
    np.testing.assert_array_equal(dx[[0, 1, 5]], [1, 1, 0])
    np.testing.assert_allclose(y, ty, rtol=1e-6 if dtype == np.float32 else 1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-6 if dtype == np.float32 else 1e-15)
    with np.errstate(over="ignore", divide="ignore"):
        naive = np.log(1 / (1 + np.exp(np.float64(1000.0))))
    assert naive == -np.inf                                  # what the stable form avoids


def test_softsign_gradient_is_dy_over_1_plus_abs_x_squared():
    x = np.array([-3.0, -0.5, 0.0, 0.5, 1e6])
    (y, dx), (ty, tdx) = run_both(npimpl.Softsign(), torch.nn.Softsign(), x)
    np.testing.assert_allclose(dx, 1 / (1 + np.abs(x)) ** 2, rtol=1e-9)
    np.testing.assert_allclose(dx, tdx, rtol=1e-15)
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    assert dx[-1] > 0                                         # never vanishes to 0 like tanh's


@pytest.mark.parametrize("dim", [0, 1, -1])
def test_glu_first_half_is_the_value_second_the_gate(dim):
    x = np.random.default_rng(0).standard_normal((4, 6, 2))
    g = np.random.default_rng(1).standard_normal(np.moveaxis(x, dim, 0)[:x.shape[dim] // 2].shape)
    g = np.moveaxis(g, 0, dim)
    (y, dx), (ty, tdx) = run_both(npimpl.GLU(dim), torch.nn.GLU(dim), x, g=g)
    a, b = np.split(x, 2, axis=dim)
    np.testing.assert_allclose(y, a / (1 + np.exp(-b)), rtol=1e-14)
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(dx, tdx, rtol=1e-13, atol=1e-15)


def test_glu_refuses_an_odd_dim_a_scalar_and_a_bad_dim_like_torch():
    with pytest.raises(ValueError, match=r"GLU: halving dimension must be even, but dimension "
                                         r"1 is size 3"):
        npimpl.GLU(1)(np.zeros((2, 3)))
    with pytest.raises(RuntimeError, match="Halving dimension must be even"):
        torch.nn.GLU(1)(torch.zeros(2, 3))
    with pytest.raises(ValueError, match="GLU: glu does not support scalars"):
        npimpl.GLU()(np.array(1.0))
    with pytest.raises(IndexError, match=r"GLU: dim 2 out of range for a 2-D input"):
        npimpl.GLU(2)(np.zeros((2, 4)))
    m = npimpl.GLU()
    m(np.zeros((2, 4)))
    with pytest.raises(ValueError, match=r"GLU: grad_output must have shape \(2, 2\)"):
        m.backward(np.zeros((2, 4)))


@pytest.mark.parametrize("name", NAMES)
def test_signature_and_docstring(name):
    assert_signature_is_torchs(name)
    assert_docstring_teaches(name)
