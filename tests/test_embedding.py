"""Embedding and EmbeddingBag: what the catalogue cannot show (the renormalised weight,
errors, torch's CPU scale_grad_by_freq bug, signatures)."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npimpl
from reference import Spec, build


def _public(cls):
    return [(n, p.default) for n, p in inspect.signature(cls).parameters.items()
            if n not in ("dtype", "device") and not n.startswith("_")]


@pytest.mark.parametrize("name", ["Embedding", "EmbeddingBag"])
def test_signature_matches_torch(name):
    assert _public(getattr(npimpl, name)) == _public(getattr(torch.nn, name))


@pytest.mark.parametrize("name,kw", [
    ("Embedding", {"max_norm": 1.0}),
    ("Embedding", {"max_norm": 2.0, "norm_type": 1.0}),
    ("Embedding", {"max_norm": 0.5, "norm_type": float("inf")}),
    ("EmbeddingBag", {"max_norm": 1.0, "mode": "sum"}),
], ids=["emb-l2", "emb-l1", "emb-inf", "bag-l2"])
def test_max_norm_renormalises_the_weight_in_place_like_torch(name, kw):
    """The engine compares gradients, not the weight after a forward: check it here. Only
    the rows looked up are touched, and only those whose norm exceeds max_norm."""
    np_m, t_m = build(Spec(name, 8, 5, **kw), np.float64)
    before = np_m.weight.data.copy()
    idx = np.array([[1, 3, 3], [6, 0, 1]])
    np_m(idx)
    t_m(torch.from_numpy(idx))
    after = t_m.weight.detach().numpy()
    np.testing.assert_allclose(np_m.weight.data, after, rtol=1e-13, atol=0)
    untouched = [2, 4, 5, 7]
    np.testing.assert_array_equal(np_m.weight.data[untouched], before[untouched])
    assert not np.array_equal(np_m.weight.data, before), "no row was renormalised: weak test"


def test_repeated_indices_add_and_padding_row_gets_zero():
    m = npimpl.Embedding(4, 2, padding_idx=1, dtype=np.float64)
    m(np.array([0, 1, 0, 0, 1, 3]))
    m.backward(np.ones((6, 2)))
    np.testing.assert_array_equal(m.weight.grad, [[3, 3], [0, 0], [0, 0], [1, 1]])


def test_padding_row_is_initialised_to_zero():
    m = npimpl.Embedding(5, 3, padding_idx=-2)
    assert m.padding_idx == 3
    np.testing.assert_array_equal(m.weight.data[3], 0)
    assert np.all(m.weight.data[[0, 1, 2, 4]] != 0)


def test_backward_returns_none_for_indices():
    m = npimpl.Embedding(4, 2)
    m(np.array([1, 2]))
    assert m.backward(np.ones((2, 2), np.float32)) is None


@pytest.mark.parametrize("idx,exc,msg", [
    (np.array([0, 4]), IndexError, "index 4 out of range"),
    (np.array([-1, 0]), IndexError, "index -1 out of range"),
    (np.array([0.0, 1.0]), TypeError, "integer dtype"),
    ([0, 1], TypeError, "numpy.ndarray"),
], ids=["too-large", "negative", "float", "list"])
def test_bad_indices_raise(idx, exc, msg):
    with pytest.raises(exc, match=msg):
        npimpl.Embedding(4, 2)(idx)


@pytest.mark.parametrize("pad", [4, -5], ids=["too-large", "too-negative"])
def test_padding_idx_out_of_range_raises(pad):
    with pytest.raises(ValueError, match="padding_idx must be within num_embeddings"):
        npimpl.Embedding(4, 2, padding_idx=pad)


def test_embeddingbag_errors():
    with pytest.raises(ValueError, match="only supported for mode='sum'"):
        npimpl.EmbeddingBag(5, 2, mode="mean")(np.array([[1, 2]]), None, np.ones((1, 2), np.float32))
    with pytest.raises(ValueError, match="offsets\\[0\\] has to be 0"):
        npimpl.EmbeddingBag(5, 2)(np.array([1, 2, 3]), np.array([1, 2]))
    with pytest.raises(ValueError, match="needs offsets"):
        npimpl.EmbeddingBag(5, 2)(np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="offsets must be None for a 2-D input"):
        npimpl.EmbeddingBag(5, 2)(np.array([[1, 2]]), np.array([0]))
    with pytest.raises(ValueError, match="mode must be one of"):
        npimpl.EmbeddingBag(5, 2, mode="median")
    with pytest.raises(ValueError, match="not supported with mode='max'"):
        npimpl.EmbeddingBag(5, 2, mode="max", scale_grad_by_freq=True)


MIXED = np.array([1, 1, 3, 2, 0, 2, 2, 4])      # index 1 twice and 2 three times, below others
OFFSETS = np.array([0, 3, 6])


def _reference_bag_grad(mode):
    """What the docs promise: F.embedding (whose scale_grad_by_freq is right) + the bag
    reduction by autograd."""
    w = torch.from_numpy(np.linspace(-1, 1, 15).reshape(5, 3)).requires_grad_()
    e = F.embedding(torch.from_numpy(MIXED), w, scale_grad_by_freq=True)
    bags = [e[0:3], e[3:6], e[6:]]
    red = (lambda b: b.sum(0)) if mode == "sum" else (lambda b: b.mean(0))
    torch.stack([red(b) for b in bags]).sum().backward()
    return w.detach().numpy(), w.grad.numpy()


@pytest.mark.parametrize("mode", ["sum", "mean"])
def test_embeddingbag_scale_grad_by_freq_mixed_counts_match_the_documented_formula(mode):
    w, expected = _reference_bag_grad(mode)
    m = npimpl.EmbeddingBag(5, 3, mode=mode, scale_grad_by_freq=True, dtype=np.float64)
    m.weight.data[...] = w
    m(MIXED, OFFSETS)
    m.backward(np.ones((3, 3)))
    np.testing.assert_allclose(m.weight.grad, expected, rtol=1e-14)


def test_torch_cpu_embeddingbag_scale_grad_by_freq_bug_is_still_there():
    """pytorch/pytorch#190063 (fixed upstream by #190264, present in 2.13): the CPU kernel
    divides group i by counts[sorted_indices[i]]. If this starts failing, torch is fixed:
    move mixed-count scale_grad_by_freq cases back into compare/catalogue/norm.py."""
    w, expected = _reference_bag_grad("sum")
    wt = torch.from_numpy(w.copy()).requires_grad_()
    F.embedding_bag(torch.from_numpy(MIXED), wt, torch.from_numpy(OFFSETS), mode="sum",
                    scale_grad_by_freq=True).sum().backward()
    assert not np.allclose(wt.grad.numpy(), expected)
