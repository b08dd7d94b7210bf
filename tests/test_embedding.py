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


# --- issue 21: include_last_offset, the max rule with NaN, every norm_type ------------------
def _bag_pair(mode, weight, **kw):
    t = torch.nn.EmbeddingBag.from_pretrained(torch.from_numpy(weight), mode=mode, freeze=False,
                                              **kw)
    m = npimpl.EmbeddingBag(*weight.shape, mode=mode, dtype=np.float64, **kw)
    m.load_state_dict({"weight": weight})
    return m, t


def _run_bag(m, t, idx, offsets=None):
    """Output and weight gradient of ``sum(out * g)`` on both sides."""
    g = np.arange(1.0, 1.0 + m.embedding_dim * (len(offsets) if offsets is not None
                                                 else len(idx)))
    off_t = None if offsets is None else torch.from_numpy(np.asarray(offsets))
    y_t = t(torch.from_numpy(idx), off_t)
    y = m(idx, None if offsets is None else np.asarray(offsets))
    g = g[:y.size].reshape(y.shape)
    y_t.backward(torch.from_numpy(g))
    m.backward(g)
    return (y, m.weight.grad), (y_t.detach().numpy(), t.weight.grad.numpy())


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_include_last_offset_closes_the_last_bag_at_the_input_length_like_torch(mode):
    w = np.random.default_rng(0).standard_normal((10, 3))
    m, t = _bag_pair(mode, w, include_last_offset=True)
    (y, dw), (ty, tdw) = _run_bag(m, t, np.arange(7), [0, 2, 7])
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(dw, tdw, rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("offsets", [[0, 2, 5], [0]], ids=["short-last", "only-0"])
def test_include_last_offset_refuses_a_last_offset_short_of_the_input(offsets):
    """torch's documented CSR contract: the last offset equals the input length. Short of it
    torch's kernel disagrees with itself (next test) or crashes (offsets [0], 'max')."""
    m = npimpl.EmbeddingBag(10, 3, mode="max", include_last_offset=True, dtype=np.float64)
    with pytest.raises(ValueError, match=r"EmbeddingBag: .*include_last_offset.*must equal "
                                         r"the input length 7.*got offsets"):
        m(np.arange(7), np.array(offsets))


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
def test_torch_disagrees_with_itself_past_the_last_offset(dtype):
    """The docstring's claim: in float64 the last bag runs to the end of the input; in
    float32 'sum' stops at the last offset, 'mean' sums to there but divides by the count
    to the end, and 'max' runs to the end."""
    w = torch.arange(10.0, dtype=dtype)[:, None]
    x, off = torch.arange(7), torch.tensor([0, 2, 5])
    out = {mode: torch.nn.EmbeddingBag.from_pretrained(w, mode=mode, include_last_offset=True)(
        x, off)[1, 0].item() for mode in ("sum", "mean", "max")}
    to_end, to_offset = 2 + 3 + 4 + 5 + 6, 2 + 3 + 4
    if dtype == torch.float64:
        assert out == {"sum": to_end, "mean": to_end / 5, "max": 6.0}
    else:
        assert out == pytest.approx({"sum": to_offset, "mean": to_offset / 5, "max": 6.0})


@pytest.mark.parametrize("bag", [[1.0, np.nan], [np.nan, 1.0], [1.0, np.nan, 2.0],
                                 [2.0, np.nan, 1.0], [-np.inf, np.nan], [np.nan, np.nan],
                                 [3.0, 3.0, np.nan]], ids=str)
def test_max_mode_keeps_torch_running_maximum_with_nan(bag):
    """torch starts at the bag's first entry and moves only to a strictly larger value: a
    NaN wins only when it comes first (np.argmax would let any NaN win)."""
    w = np.array(bag)[:, None] * np.array([[1.0, -1.0]])      # two columns, opposite signs
    m, t = _bag_pair("max", w)
    (y, dw), (ty, tdw) = _run_bag(m, t, np.arange(len(bag))[None])
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_array_equal(dw, tdw)


@pytest.mark.parametrize("p", [0.0, -1.0, -np.inf, 0.5, 3.0, np.inf], ids=str)
def test_max_norm_takes_every_norm_type_torch_takes(p):
    w = np.array([[1.0, 2.0], [0.0, 3.0], [0.0, 0.5], [0.2, -0.1]])
    m = npimpl.Embedding(4, 2, max_norm=1.0, norm_type=p, dtype=np.float64)
    m.load_state_dict({"weight": w})
    t = torch.nn.Embedding.from_pretrained(torch.from_numpy(w.copy()), max_norm=1.0,
                                           norm_type=p)
    idx = np.array([0, 1, 2, 3])
    np.testing.assert_allclose(m(idx), t(torch.from_numpy(idx)).numpy(), rtol=1e-15)
    np.testing.assert_allclose(m.weight.data, t.weight.numpy(), rtol=1e-15)


def test_torch_crashes_on_include_last_offset_with_offsets_0():
    """The claim behind refusing ``offsets=[0]``: torch's 'max' kernel dies with SIGSEGV
    (run in a child process; compare/isolate.py keeps such a crash out of a report run)."""
    import signal
    import subprocess
    import sys
    code = ("import torch; w = torch.zeros(10, 1); m = torch.nn.EmbeddingBag.from_pretrained("
            "w, mode='max', include_last_offset=True); m(torch.arange(7), torch.tensor([0]))")
    rc = subprocess.run([sys.executable, "-c", code], capture_output=True, timeout=120).returncode
    assert rc == -signal.SIGSEGV
