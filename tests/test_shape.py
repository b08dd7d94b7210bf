"""Flatten and Unflatten: the shapes torch produces, and clear errors."""
import re

import numpy as np
import pytest
import torch

import npimpl


@pytest.mark.parametrize("start,end,shape", [(1, -1, (2, 3, 4, 5)), (0, -1, (2, 3, 4)),
                                              (1, 2, (2, 3, 4, 5)), (-2, -1, (2, 3, 4))],
                         ids=["default", "all", "middle", "negative"])
def test_flatten_shapes_match_torch(start, end, shape):
    x = np.random.default_rng(0).standard_normal(shape)
    y = npimpl.Flatten(start, end)(x)
    np.testing.assert_array_equal(y, torch.nn.Flatten(start, end)(torch.tensor(x)).numpy())


def test_flatten_backward_restores_the_shape():
    m = npimpl.Flatten()
    m(np.zeros((2, 3, 4)))
    assert m.backward(np.ones((2, 12))).shape == (2, 3, 4)


def test_flatten_bad_dims():
    with pytest.raises(IndexError, match="Flatten: dim 5 out of range"):
        npimpl.Flatten(5)(np.zeros((2, 3)))
    with pytest.raises(ValueError, match="start_dim 2 must not come after end_dim 1"):
        npimpl.Flatten(2, 1)(np.zeros((2, 3, 4)))


def test_unflatten_infers_minus_one_and_refuses_bad_sizes():
    assert npimpl.Unflatten(1, (3, -1))(np.zeros((2, 12))).shape == (2, 3, 4)
    with pytest.raises(ValueError, match=r"Unflatten: unflattened_size \(5, 2\) must multiply "
                                         "to the size of dim 1, which is 12"):
        npimpl.Unflatten(1, (5, 2))(np.zeros((2, 12)))


# --- issue 21 D6/D6b: the gradient's shape and dtype ------------------------------------------
@pytest.mark.parametrize("make", [lambda: npimpl.Flatten(), lambda: npimpl.Unflatten(1, (3, 4)),
                                  lambda: npimpl.Identity()], ids=["Flatten", "Unflatten",
                                                                    "Identity"])
def test_backward_checks_the_gradient_against_the_output(make):
    """A transposed gradient of the right size used to be reshaped (scrambled) silently."""
    m = make()
    x = np.random.default_rng(0).standard_normal((2, 12) if isinstance(m, npimpl.Unflatten)
                                                 else (2, 3, 4))
    y = m(x)
    name = type(m).__name__
    for g in (np.ones(y.shape[::-1]), np.ones(y.shape + (1,)), np.ones(y.shape[1:])):
        with pytest.raises(ValueError, match=rf"{name}: grad_output must have the forward "
                                             rf"output's shape {re.escape(str(y.shape))}"):
            m.backward(g)
    g32 = np.random.default_rng(1).standard_normal(y.shape).astype(np.float32)
    dx = m.backward(g32)
    xt = torch.from_numpy(x).requires_grad_()
    t = {"Flatten": torch.nn.Flatten(), "Unflatten": torch.nn.Unflatten(1, (3, 4)),
         "Identity": torch.nn.Identity()}[name]
    t(xt).backward(torch.from_numpy(g32))
    assert dx.dtype == xt.grad.numpy().dtype == np.float64              # D6b: autograd casts
    np.testing.assert_array_equal(dx, xt.grad.numpy())
