"""Bilinear: the (out, in1, in2) weight, torch's init bound, shape rules and errors."""
import math

import numpy as np
import pytest
import torch

import npimpl


def test_bilinear_is_x1_A_x2_plus_b_and_matches_torch():
    t = torch.nn.Bilinear(3, 2, 4, dtype=torch.float64)
    m = npimpl.Bilinear(3, 2, 4, dtype=np.float64)
    m.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    rng = np.random.default_rng(0)
    a, b, g = rng.standard_normal((5, 3)), rng.standard_normal((5, 2)), rng.standard_normal((5, 4))
    y = m(a, b)
    w = m.weight.data
    np.testing.assert_allclose(y[1, 2], a[1] @ w[2] @ b[1] + m.bias.data[2], rtol=1e-14)
    for _ in range(2):                                         # parameter gradients accumulate
        m(a, b)
        da, db = m.backward(g)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        t(ta, tb).backward(torch.tensor(g))
    np.testing.assert_allclose(y, t(torch.tensor(a), torch.tensor(b)).detach().numpy(),
                               rtol=1e-12)
    np.testing.assert_allclose(da, ta.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(db, tb.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.weight.grad, t.weight.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(m.bias.grad, t.bias.grad.numpy(), rtol=1e-12)


def test_init_bound_uses_in1_only():
    m = npimpl.Bilinear(4, 100, 3)
    bound = 1 / math.sqrt(4)
    assert m.weight.shape == (3, 4, 100) and m.weight.dtype == np.float32
    assert np.abs(m.weight.data).max() <= bound and np.abs(m.weight.data).max() > 0.9 * bound
    assert np.abs(m.bias.data).max() <= bound


@pytest.mark.parametrize("a,b,what", [((5, 2), (4, 3), "batch dimensions do not match"),
                                      ((5, 2), (3,), "dimensions do not match"),
                                      ((5, 2), (5, 4), "input2 size does not match"),
                                      ((5, 3), (5, 3), "input1 size does not match"),
                                      ((5, 2), (1, 3), "batch dimensions do not match")])
def test_shape_errors_are_torchs(a, b, what):
    with pytest.raises(ValueError, match=f"Bilinear: .*{what}"):
        npimpl.Bilinear(2, 3, 4, dtype=np.float64)(np.zeros(a), np.zeros(b))
    with pytest.raises(RuntimeError, match=what):
        torch.nn.Bilinear(2, 3, 4, dtype=torch.float64)(torch.zeros(a, dtype=torch.float64),
                                                         torch.zeros(b, dtype=torch.float64))


def test_in1_features_must_be_positive_like_torch():
    with pytest.raises(ValueError, match="Bilinear: in1_features must be > 0"):
        npimpl.Bilinear(0, 2, 3)
    with pytest.raises(ValueError):
        torch.nn.Bilinear(0, 2, 3)
