"""Activations: torch's gradient at every kink, options, errors (what the catalogue cannot show).

Each kink test feeds the exact kink value through npimpl and torch and compares the gradient
element by element, so a module that picks the other one-sided derivative fails.
"""
import numpy as np
import pytest
import torch

import npimpl


def torch_grad(t_mod, x, g):
    t = torch.tensor(x, requires_grad=True)
    y = t_mod(t)
    y.backward(torch.tensor(g))
    return y.detach().numpy(), t.grad.numpy()


def check_against_torch(np_mod, t_mod, x):
    g = np.linspace(0.5, 1.5, x.size).reshape(x.shape).astype(x.dtype)
    y = np_mod(x.copy())
    dx = np_mod.backward(g)
    ty, tdx = torch_grad(t_mod, x, g)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-14)
    return dx


def test_gelu_tanh_is_a_different_function():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    exact, approx = npimpl.GELU()(x), npimpl.GELU("tanh")(x)
    assert np.max(np.abs(exact - approx)) > 1e-5


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float64_matches_torch(approximate):
    x = np.array([-40.0, -6.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 40.0])
    check_against_torch(npimpl.GELU(approximate), torch.nn.GELU(approximate), x)


def test_gelu_rejects_unknown_approximation():
    with pytest.raises(ValueError, match="GELU.*approximate.*'erf'"):
        npimpl.GELU("erf")
