"""CosineSimilarity and PairwiseDistance: torch's eps placements, broadcasting between the
two inputs, every norm degree's gradient rule, errors."""
import numpy as np
import pytest
import torch
from torch_side import assert_docstring_teaches, assert_signature_is_torchs
from torch_side import run_both as _run_both

import npimpl


def run_both(np_mod, t_mod, a, b, g=None):
    (y, (da, db)), (ty, (ta, tb)) = _run_both(np_mod, t_mod, a, b, g=g)
    return (y, da, db), (ty, ta, tb)


def close(ours, theirs):
    for o, t in zip(ours, theirs):
        assert o.shape == t.shape
        np.testing.assert_allclose(o, t, rtol=1e-10, atol=1e-12)


def test_pairwise_eps_is_added_to_the_difference_not_a_floor():
    x = np.array([[1.0, 2.0, 3.0, 4.0]])
    y = npimpl.PairwiseDistance(eps=1e-3)(x, x)
    np.testing.assert_allclose(y, [2e-3], rtol=1e-12)          # eps * D^(1/2), D = 4
    a, b = np.array([[0.0, 0.0]]), np.array([[1.0, 1.0]])
    m = npimpl.PairwiseDistance(1.0, eps=0.1)
    assert m(a, b)[0] != m(b, a)[0]                            # asymmetric: |-1 + .1| vs |1 + .1|
    np.testing.assert_allclose([m(a, b)[0], m(b, a)[0]], [1.8, 2.2], rtol=1e-14)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, np.inf, -np.inf, -1.0])
def test_pairwise_every_norm_degree_with_zero_differences(p):
    a = np.array([[1.0, 0.0, -2.0, 0.0], [0.0, 0.0, 0.0, 0.0], [1.0, -1.0, 1.0, 0.5]])
    b = np.zeros((1, 4))                                      # broadcast over the rows
    close(*run_both(npimpl.PairwiseDistance(p, eps=0.0), torch.nn.PairwiseDistance(p, eps=0.0),
                    a, b, np.array([1.0, -2.0, 0.5])))


def test_pairwise_inf_norm_shares_dy_among_ties_like_torch():
    a, b = np.array([[2.0, -2.0, 1.0]]), np.zeros((1, 3))
    (y, da, _), theirs = run_both(npimpl.PairwiseDistance(np.inf, eps=0.0),
                                  torch.nn.PairwiseDistance(np.inf, eps=0.0), a, b)
    np.testing.assert_array_equal(da, [[0.5, -0.5, 0.0]])
    close((y, da), theirs[:2])


@pytest.mark.parametrize("shapes", [((3, 1, 5), (4, 5)), ((5,), (2, 5)), ((), (5,)), ((), ()),
                                    ((2, 5), (2, 1))])
@pytest.mark.parametrize("keepdim", [False, True])
def test_pairwise_broadcasts_like_torch(shapes, keepdim):
    rng = np.random.default_rng(0)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    close(*run_both(npimpl.PairwiseDistance(keepdim=keepdim),
                    torch.nn.PairwiseDistance(keepdim=keepdim), a, b))


@pytest.mark.parametrize("shapes,dim", [(((3, 1, 5), (4, 5)), 1), (((2, 5), (1, 5)), 1),
                                        (((2, 5), (5,)), -1), (((6,), (6,)), 0), (((), ()), 0)])
def test_cosine_broadcasts_like_torch(shapes, dim):
    rng = np.random.default_rng(1)
    a, b = rng.standard_normal(shapes[0]), rng.standard_normal(shapes[1])
    close(*run_both(npimpl.CosineSimilarity(dim), torch.nn.CosineSimilarity(dim), a, b))


def test_cosine_normalises_each_input_first_so_the_floor_applies_per_norm():
    # |x1| = 1e-5 < eps = 1e-3: x1 is divided by eps (cosine 0.01 * the true one); the
    # product-of-norms floor of older torch gave the true cosine here
    a, b = np.array([[1e-5, 0.0]]), np.array([[1.0, 0.0]])
    (y, da, db), theirs = run_both(npimpl.CosineSimilarity(1, 1e-3),
                                   torch.nn.CosineSimilarity(1, 1e-3), a, b)
    np.testing.assert_allclose(y, [1e-2], rtol=1e-12)
    close((y, da, db), theirs)


def test_cosine_of_a_zero_vector_is_0_with_finite_gradients_like_torch():
    a, b = np.zeros((2, 3)), np.random.default_rng(2).standard_normal((2, 3))
    (y, da, db), theirs = run_both(npimpl.CosineSimilarity(), torch.nn.CosineSimilarity(), a, b)
    np.testing.assert_array_equal(y, [0.0, 0.0])
    assert np.isfinite(da).all() and np.isfinite(db).all()
    close((y, da, db), theirs)


@pytest.mark.parametrize("name", ["CosineSimilarity", "PairwiseDistance"])
def test_inputs_that_do_not_broadcast_are_refused_like_torch(name):
    a, b = np.zeros((2, 5)), np.zeros((3, 5))
    with pytest.raises(ValueError, match=rf"{name}: the input shapes \(2, 5\), \(3, 5\) must "
                                         r"broadcast"):
        getattr(npimpl, name)()(a, b)
    with pytest.raises(RuntimeError):
        getattr(torch.nn, name)()(torch.tensor(a), torch.tensor(b))


def test_cosine_dim_out_of_range_and_mixed_dtypes_are_refused():
    with pytest.raises(IndexError, match=r"CosineSimilarity: dim 1 out of range for a 1-D"):
        npimpl.CosineSimilarity(1)(np.zeros(3), np.zeros(3))
    with pytest.raises(TypeError, match=r"PairwiseDistance: x2 must have dtype float64"):
        npimpl.PairwiseDistance()(np.zeros(3), np.zeros(3, np.float32))
    m = npimpl.PairwiseDistance()
    m(np.zeros((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match=r"PairwiseDistance: grad_output must have shape \(2,\)"):
        m.backward(np.ones((2, 3)))


@pytest.mark.parametrize("name", ["CosineSimilarity", "PairwiseDistance", "Bilinear"])
def test_signature_and_docstring(name):
    assert_signature_is_torchs(name)
    assert_docstring_teaches(name)


def test_below_eps_torchs_cosine_gradient_is_not_the_derivative_and_npimpl_follows_torch():
    # the claim behind the oracle's exclusion of the eps-floor cases
    a, b = np.array([[1e-5, 2e-5, 0.0]]), np.array([[1.0, 0.5, -1.0]])
    tb = torch.tensor(b)
    assert not torch.autograd.gradcheck(lambda x: torch.nn.CosineSimilarity(1, 1e-3)(x, tb),
                                        (torch.tensor(a, requires_grad=True),),
                                        raise_exception=False)
    close(*run_both(npimpl.CosineSimilarity(1, 1e-3), torch.nn.CosineSimilarity(1, 1e-3), a, b))
