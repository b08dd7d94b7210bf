"""Sparse gradients against torch's: Embedding/EmbeddingBag(sparse=True) produce a
:class:`npimpl.sparse.SparseGrad` holding torch's uncoalesced rows; coalescing, accumulation,
SparseAdam, and what every dense optimizer does with one (SGD, Adagrad and LBFGS take it,
the others refuse it, as torch's)."""
import numpy as np
import pytest
import torch

import npimpl
from npimpl.sparse import SparseGrad, dense

X = np.array([[1, 2, 4], [4, 0, 2]])


def embedding_pair(padding_idx=None, dtype=np.float64, **kw):
    t = torch.nn.Embedding(6, 3, padding_idx=padding_idx, sparse=True,
                           dtype=torch.float64 if dtype == np.float64 else torch.float32, **kw)
    n = npimpl.Embedding(6, 3, padding_idx=padding_idx, sparse=True, dtype=dtype, **kw)
    n.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return n, t


def backward_both(n, t, x, rng, *extra):
    """One forward and backward on both sides with the same upstream gradient."""
    out = t(torch.from_numpy(x), *(torch.from_numpy(e) if isinstance(e, np.ndarray) else e
                                   for e in extra))
    dy = rng.standard_normal(tuple(out.shape)).astype(out.detach().numpy().dtype)
    out.backward(torch.from_numpy(dy))
    n(x, *extra)
    n.backward(dy)


def assert_same_sparse(g: SparseGrad, tg: torch.Tensor, exact_structure=True):
    """The same gradient (float64, the contract's tolerance: torch sums duplicates and
    divides by a bag's size in its own order): as a dense table, coalesced row by row, and
    (unless told otherwise) in torch's uncoalesced order, index for index."""
    assert isinstance(g, SparseGrad) and tg.is_sparse
    close = dict(rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(g.to_dense(), tg.to_dense().numpy(), **close)
    c, tc = g.coalesce(), tg.coalesce()
    np.testing.assert_array_equal(c.indices, tc.indices()[0].numpy())
    np.testing.assert_allclose(c.values, tc.values().numpy(), **close)
    if exact_structure:
        np.testing.assert_array_equal(g.indices, tg._indices()[0].numpy())
        np.testing.assert_allclose(g.values, tg._values().numpy(), **close)


@pytest.mark.parametrize("padding_idx", [None, 2])
def test_embedding_sparse_grad_is_torchs_uncoalesced_rows(padding_idx):
    n, t = embedding_pair(padding_idx)
    backward_both(n, t, X, np.random.default_rng(0))
    assert_same_sparse(n.weight.grad, t.weight.grad)
    assert n.weight.grad.nnz == (6 if padding_idx is None else 4)   # the padding rows left out


def test_accumulation_adds_sparse_gradients():
    """A second backward adds; so does a gradient for other rows. npimpl concatenates the
    rows (nnz 6 + 6 + 2); torch sometimes concatenates and sometimes adds an equal index
    list's values in place (a torch internal, not copied): the same gradient either way,
    dense and coalesced."""
    n, t = embedding_pair()
    rng = np.random.default_rng(1)
    for x in (X, X, np.array([5, 1])):
        backward_both(n, t, x, rng)
        assert_same_sparse(n.weight.grad, t.weight.grad, exact_structure=False)
    assert n.weight.grad.nnz == 14
    n2, t2 = embedding_pair(padding_idx=2)           # torch: in place here, nnz stays 4
    backward_both(n2, t2, X, rng)
    backward_both(n2, t2, X, rng)
    assert t2.weight.grad._nnz() == 4 and n2.weight.grad.nnz == 8
    assert_same_sparse(n2.weight.grad, t2.weight.grad, exact_structure=False)


def test_sparse_then_dense_accumulates_densely():
    p = npimpl.Parameter(np.zeros((4, 2)))
    p.accumulate(SparseGrad([1, 1, 3], np.ones((3, 2)), (4, 2)))
    p.accumulate(np.full((4, 2), 0.5))
    np.testing.assert_array_equal(p.grad, [[0.5] * 2, [2.5] * 2, [0.5] * 2, [1.5] * 2])
    with pytest.raises(ValueError, match="shape"):
        p.accumulate(SparseGrad([0], np.ones((1, 3)), (4, 3)))


def test_coalesce_sorts_and_sums_duplicates_as_torch():
    rng = np.random.default_rng(3)
    idx, val = rng.integers(0, 50, 200), rng.standard_normal((200, 4))
    g = SparseGrad(idx, val, (50, 4))
    tg = torch.sparse_coo_tensor(torch.from_numpy(idx)[None], torch.from_numpy(val), (50, 4))
    assert_same_sparse(g, tg)
    np.testing.assert_array_equal(dense(g), g.to_dense())
    with pytest.raises(ValueError, match="values must have shape"):
        SparseGrad([0, 1], np.ones((3, 4)), (50, 4))


@pytest.mark.parametrize("mode", ["sum", "mean"])
@pytest.mark.parametrize("padding_idx", [None, 4])
def test_embedding_bag_sparse_grad(mode, padding_idx):
    t = torch.nn.EmbeddingBag(6, 3, mode=mode, sparse=True, padding_idx=padding_idx,
                              dtype=torch.float64)
    n = npimpl.EmbeddingBag(6, 3, mode=mode, sparse=True, padding_idx=padding_idx,
                            dtype=np.float64)
    n.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    x, offsets = np.array([1, 2, 4, 4, 0, 2, 5]), np.array([0, 3, 3])
    psw = np.random.default_rng(4).standard_normal(7) if mode == "sum" else None
    extra = (offsets,) if psw is None else (offsets, psw)
    backward_both(n, t, x, np.random.default_rng(5), *extra)
    assert_same_sparse(n.weight.grad, t.weight.grad)


def test_sparse_refusals_match_torchs():
    """max mode cannot be sparse (constructor); scale_grad_by_freq with sparse is refused
    at backward (torch: embedding_backward)."""
    with pytest.raises(ValueError, match="max mode"):
        npimpl.EmbeddingBag(6, 3, mode="max", sparse=True)
    with pytest.raises(Exception):
        torch.nn.EmbeddingBag(6, 3, mode="max", sparse=True)(torch.tensor([[1, 2]]))
    n, t = embedding_pair(scale_grad_by_freq=True)
    with pytest.raises(RuntimeError):
        t(torch.from_numpy(X)).sum().backward()
    n(X)
    with pytest.raises(ValueError, match="scale_grad_by_freq"):
        n.backward(np.ones((2, 3, 3)))


# --- optimizers given a sparse gradient ------------------------------------------------------
def run_both(name, kw, steps=4, x=X):
    n, t = embedding_pair()
    n_opt = getattr(npimpl.optim, name)(n.parameters(), **kw)
    t_opt = getattr(torch.optim, name)(t.parameters(), **kw)
    rng = np.random.default_rng(6)
    for _ in range(steps):
        n_opt.zero_grad()
        t_opt.zero_grad()
        backward_both(n, t, x, rng)
        n_opt.step()
        t_opt.step()
    return n, t


@pytest.mark.parametrize("name,kw", [
    ("SGD", dict(lr=0.1)), ("SGD", dict(lr=0.1, momentum=0.9, nesterov=True)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01)), ("SparseAdam", dict(lr=0.05)),
    ("SparseAdam", dict(lr=0.05, betas=(0.8, 0.95), maximize=True)),
], ids=["sgd", "sgd-nesterov", "adagrad", "sparseadam", "sparseadam-maximize"])
def test_optimizers_that_take_sparse_gradients(name, kw):
    n, t = run_both(name, kw)
    np.testing.assert_allclose(n.weight.data, t.weight.detach().numpy(), rtol=1e-13, atol=1e-15)


def test_sparseadam_leaves_absent_rows_and_their_moments_alone():
    """Rows 3 and 5 never appear: their weights and moments stay exactly as they were
    (the docstring's 'frozen, not decayed')."""
    n, t = embedding_pair()
    before = n.weight.data.copy()
    opt = npimpl.optim.SparseAdam(n.parameters(), lr=0.1)
    for _ in range(3):
        opt.zero_grad()
        n(X)
        n.backward(np.ones((2, 3, 3)))
        opt.step()
    state = opt.state[n.weight]
    assert state["step"] == 3 and isinstance(state["step"], int)       # a plain int, as torch
    for row in (3, 5):
        np.testing.assert_array_equal(n.weight.data[row], before[row])
        assert not state["exp_avg"][row].any() and not state["exp_avg_sq"][row].any()
    assert not np.array_equal(n.weight.data[1], before[1])


@pytest.mark.parametrize("name", ["Adam", "AdamW", "Adamax", "NAdam", "RAdam", "RMSprop",
                                  "Adadelta", "ASGD", "Rprop", "Adafactor"])
def test_dense_optimizers_refuse_sparse_gradients_as_torch(name):
    n, t = embedding_pair()
    n_opt, t_opt = getattr(npimpl.optim, name)(n.parameters()), \
        getattr(torch.optim, name)(t.parameters())
    backward_both(n, t, X, np.random.default_rng(7))
    with pytest.raises(RuntimeError, match="does not support sparse gradients"):
        t_opt.step()
    with pytest.raises(TypeError, match=f"{name} does not support sparse gradients"):
        n_opt.step()


@pytest.mark.parametrize("name", ["SGD", "Adagrad"])
def test_weight_decay_with_a_sparse_gradient_is_refused_as_torch(name):
    n, t = embedding_pair()
    n_opt = getattr(npimpl.optim, name)(n.parameters(), lr=0.1, weight_decay=0.1)
    t_opt = getattr(torch.optim, name)(t.parameters(), lr=0.1, weight_decay=0.1)
    backward_both(n, t, X, np.random.default_rng(8))
    with pytest.raises(RuntimeError):
        t_opt.step()
    with pytest.raises(TypeError, match="weight_decay"):
        n_opt.step()


def test_sparseadam_refuses_a_dense_gradient_as_torch():
    t = torch.nn.Embedding(6, 3)
    opt = torch.optim.SparseAdam(t.parameters())
    t(torch.from_numpy(X)).sum().backward()
    with pytest.raises(RuntimeError, match="dense gradients"):
        opt.step()
    n = npimpl.Embedding(6, 3)
    n_opt = npimpl.optim.SparseAdam(n.parameters())
    n(X)
    n.backward(np.ones((2, 3, 3), np.float32))
    with pytest.raises(TypeError, match="dense gradients"):
        n_opt.step()


def test_lbfgs_reads_a_sparse_gradient_densely_as_torch():
    n, t = embedding_pair()
    n_opt, t_opt = npimpl.optim.LBFGS(n.parameters(), max_iter=3), \
        torch.optim.LBFGS(t.parameters(), max_iter=3)

    def n_closure():
        n_opt.zero_grad()
        y = n(X)
        n.backward(2 * y)
        return float(np.sum(y ** 2))

    def t_closure():
        t_opt.zero_grad()
        loss = (t(torch.from_numpy(X)) ** 2).sum()
        loss.backward()
        return loss
    for _ in range(2):
        n_opt.step(n_closure)
        t_opt.step(t_closure)
    np.testing.assert_allclose(n.weight.data, t.weight.detach().numpy(), rtol=1e-12, atol=1e-14)
