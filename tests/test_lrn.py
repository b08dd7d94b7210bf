"""LocalResponseNorm and CrossMapLRN2d: the window each uses (they differ), torch's
hand-written CrossMapLRN2d backward, errors."""
import numpy as np
import pytest
import torch
from torch_side import assert_docstring_teaches, assert_signature_is_torchs, run_both

import npimpl

LEAK = np.array([3.0, 0.0, 0.0, 1.0, 0.0, 0.0, 0.0]).reshape(1, 7, 1, 1)


def test_crossmap_keeps_channel_0_in_every_window_and_lrn_does_not():
    # the numbers of the docstring: channel 3 of x = (3, 0, 0, 1, 0, 0, 0), size 1, alpha 0.5
    cm = npimpl.CrossMapLRN2d(1, alpha=0.5)(LEAK)[0, 3, 0, 0]
    lrn = npimpl.LocalResponseNorm(1, alpha=0.5)(LEAK)[0, 3, 0, 0]
    np.testing.assert_allclose([cm, lrn], [6 ** -0.75, 1.5 ** -0.75], rtol=1e-15)
    assert round(cm, 3) == 0.261 and round(lrn, 3) == 0.738
    t = torch.tensor(LEAK)
    np.testing.assert_allclose(cm, torch.nn.CrossMapLRN2d(1, alpha=0.5)(t)[0, 3, 0, 0].item(),
                               rtol=1e-15)
    np.testing.assert_allclose(lrn, torch.nn.LocalResponseNorm(1, alpha=0.5)(t)[0, 3, 0, 0],
                               rtol=1e-15)


@pytest.mark.parametrize("size", [2, 3, 4, 5])
def test_crossmap_backward_is_torchs_formula_not_the_derivative(size):
    rng = np.random.default_rng(size)
    x, g = rng.standard_normal((2, 6, 3, 2)), rng.standard_normal((2, 6, 3, 2))
    (y, dx), (ty, tdx) = run_both(npimpl.CrossMapLRN2d(size, alpha=0.5),
                                  torch.nn.CrossMapLRN2d(size, alpha=0.5), x, g=g)
    np.testing.assert_allclose(y, ty, rtol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-14)
    m = torch.nn.CrossMapLRN2d(size, alpha=0.5)
    assert not torch.autograd.gradcheck(m, (torch.tensor(x, requires_grad=True),),
                                        raise_exception=False)


def test_crossmap_size_1_has_no_backward_in_torch_and_a_clear_error_here():
    x = np.random.default_rng(0).standard_normal((1, 4, 2, 2))
    t = torch.tensor(x, requires_grad=True)
    with pytest.raises(RuntimeError):
        torch.nn.CrossMapLRN2d(1)(t).sum().backward()
    m = npimpl.CrossMapLRN2d(1)
    m(x)
    with pytest.raises(ValueError, match="CrossMapLRN2d: torch's backward fails for size=1"):
        m.backward(np.ones_like(x))


@pytest.mark.parametrize("shape", [(2, 3, 4), (3, 4, 5, 2, 2)])
def test_crossmap_is_4d_only_and_lrn_needs_3d(shape):
    x = np.zeros(shape)
    if len(shape) != 4:
        with pytest.raises(ValueError, match=rf"CrossMapLRN2d: expected input to be 4D .*got "
                                             rf"{len(shape)}D"):
            npimpl.CrossMapLRN2d(3)(x)
        with pytest.raises(ValueError):
            torch.nn.CrossMapLRN2d(3)(torch.tensor(x))
    with pytest.raises(ValueError, match=r"LocalResponseNorm: expected 3D or higher.*got 2"):
        npimpl.LocalResponseNorm(2)(np.zeros((3, 4)))
    with pytest.raises(ValueError):
        torch.nn.LocalResponseNorm(2)(torch.zeros(3, 4))


@pytest.mark.parametrize("size", [1, 2, 3, 6])
@pytest.mark.parametrize("shape", [(2, 5, 4), (1, 5, 2, 3), (2, 4, 2, 1, 2)])
def test_lrn_window_and_gradient_match_torch(size, shape):
    rng = np.random.default_rng(size)
    x, g = rng.standard_normal(shape) * 3, rng.standard_normal(shape)
    (y, dx), (ty, tdx) = run_both(npimpl.LocalResponseNorm(size, 0.7, 0.6, 1.5),
                                  torch.nn.LocalResponseNorm(size, 0.7, 0.6, 1.5), x, g=g)
    np.testing.assert_allclose(y, ty, rtol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-14)


def test_lrn_returns_an_empty_input_as_it_is():
    x = np.zeros((0, 3, 4))
    m = npimpl.LocalResponseNorm(2)
    assert m(x).shape == (0, 3, 4) and m.backward(x).shape == (0, 3, 4)


@pytest.mark.parametrize("name", ["LocalResponseNorm", "CrossMapLRN2d"])
def test_size_must_be_a_positive_int(name):
    with pytest.raises(ValueError, match=f"{name}: size must be a positive int, got 0"):
        getattr(npimpl, name)(0)


@pytest.mark.parametrize("name", ["LocalResponseNorm", "CrossMapLRN2d"])
def test_signature_and_docstring(name):
    assert_signature_is_torchs(name)
    assert_docstring_teaches(name)
