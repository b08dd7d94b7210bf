"""RNN, LSTM, GRU and their cells: what the catalogue cannot show (torch's keys and shapes,
gate order written out by hand, finite differences, errors, dropout masks, accumulation)."""
import inspect

import numpy as np
import pytest
import torch

import npimpl
from npimpl.activation import sigmoid

R = np.random.default_rng(0)


def _params(cls):
    return [(n, p.default) for n, p in inspect.signature(cls).parameters.items()
            if n not in ("dtype", "device", "rng")]


@pytest.mark.parametrize("name", ["RNNCell", "LSTMCell", "GRUCell"])
def test_cell_signature_matches_torch(name):
    assert _params(getattr(npimpl, name)) == _params(getattr(torch.nn, name))


@pytest.mark.parametrize("name,kw", [
    ("RNN", dict(num_layers=2, bidirectional=True, nonlinearity="relu")),
    ("GRU", dict(num_layers=2, bias=False)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
    ("LSTM", dict(bias=False, proj_size=3)),
    ("RNNCell", dict(bias=False)),
    ("LSTMCell", {}),
    ("GRUCell", {}),
], ids=["rnn-bidir-2", "gru-nobias-2", "lstm-proj-bidir-2", "lstm-proj-nobias", "rnncell-nobias",
        "lstmcell", "grucell"])
def test_state_dict_keys_and_shapes_match_torch(name, kw):
    ours = getattr(npimpl, name)(3, 5, **kw).state_dict()
    theirs = getattr(torch.nn, name)(3, 5, **kw).state_dict()
    assert list(ours) == list(theirs)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


def test_init_bound_is_one_over_sqrt_hidden():
    m = npimpl.LSTM(3, 4, num_layers=2, dtype=np.float64)
    for _, p in m.named_parameters():
        assert np.abs(p.data).max() <= 0.5 and np.abs(p.data).max() > 0.3


# --- gate equations written out by hand ----------------------------------------------------------
def test_lstm_cell_gate_rows_are_i_f_g_o():
    m = npimpl.LSTMCell(3, 4, dtype=np.float64)
    x, h, c = R.standard_normal((2, 3)), R.standard_normal((2, 4)), R.standard_normal((2, 4))
    z = x @ m.weight_ih.data.T + m.bias_ih.data + h @ m.weight_hh.data.T + m.bias_hh.data
    i, f, g, o = (z[:, k * 4:(k + 1) * 4] for k in range(4))
    c_new = sigmoid(f) * c + sigmoid(i) * np.tanh(g)
    h1, c1 = m(x, (h, c))
    np.testing.assert_allclose(c1, c_new, rtol=1e-13)
    np.testing.assert_allclose(h1, sigmoid(o) * np.tanh(c_new), rtol=1e-13)


def test_gru_cell_reset_gate_multiplies_hidden_matmul_plus_bias():
    m = npimpl.GRUCell(3, 4, dtype=np.float64)
    x, h = R.standard_normal((2, 3)), R.standard_normal((2, 4))
    gi = x @ m.weight_ih.data.T + m.bias_ih.data
    gh = h @ m.weight_hh.data.T + m.bias_hh.data
    r = sigmoid(gi[:, :4] + gh[:, :4])
    z = sigmoid(gi[:, 4:8] + gh[:, 4:8])
    n = np.tanh(gi[:, 8:] + r * gh[:, 8:])
    np.testing.assert_allclose(m(x, h), (1 - z) * n + z * h, rtol=1e-13)


# --- finite differences (independent of torch) ---------------------------------------------------
def _fd_check(module, inputs, grads_of, n_probe=6, eps=1e-6):
    """Compare analytic gradients with central differences of L = Σ g · outputs."""
    outs = module(*inputs)
    flat = lambda o: np.concatenate([a.ravel() for a in _leaves(o)])  # noqa: E731
    g = R.standard_normal(flat(outs).shape)

    def loss():
        return float(flat(module(*inputs)) @ g)
    module(*inputs)
    analytic = grads_of(_unflat(g, outs))
    for arr, ga in analytic:
        for idx in R.choice(arr.size, min(n_probe, arr.size), replace=False):
            old = arr.flat[idx]
            arr.flat[idx] = old + eps
            up = loss()
            arr.flat[idx] = old - eps
            down = loss()
            arr.flat[idx] = old
            assert ga.flat[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-7)


def _leaves(o):
    return [a for x in o for a in _leaves(x)] if isinstance(o, tuple) else [o]


def _unflat(g, like):
    out, k = [], 0
    def build(o):
        nonlocal k
        if isinstance(o, tuple):
            return tuple(build(x) for x in o)
        a = g[k:k + o.size].reshape(o.shape)
        k += o.size
        return a
    return build(like)


@pytest.mark.parametrize("name,kw", [
    ("RNN", dict(num_layers=2, bidirectional=True)),
    ("GRU", dict(num_layers=2, bidirectional=True, batch_first=True)),
    ("LSTM", dict(num_layers=2, bidirectional=True, proj_size=2)),
], ids=["rnn", "gru", "lstm-proj"])
def test_bptt_matches_finite_differences(name, kw):
    m = getattr(npimpl, name)(3, 4, dtype=np.float64, **kw)
    D, H = 2, kw.get("proj_size") or 4
    x = R.standard_normal((2, 5, 3) if kw.get("batch_first") else (5, 2, 3))   # N = 2, L = 5
    h0 = R.standard_normal((D * 2, 2, H))
    hx = (h0, R.standard_normal((D * 2, 2, 4))) if name == "LSTM" else h0

    def grads(g):
        m.zero_grad()
        gx, gh = m.backward(*g)
        pairs = [(x, gx)] + ([(hx[0], gh[0]), (hx[1], gh[1])] if name == "LSTM" else [(hx, gh)])
        return pairs + [(p.data, p.grad) for p in m.parameters()]
    _fd_check(m, (x, hx), grads)


# --- backward API --------------------------------------------------------------------------------
def test_lstm_backward_none_means_zero_state_gradients():
    m = npimpl.LSTM(3, 4, dtype=np.float64)
    x = R.standard_normal((5, 1, 3))
    out, _ = m(x)
    g = R.standard_normal(out.shape)
    a = m.backward(g)
    b = m.backward(g, (np.zeros((1, 1, 4)), np.zeros((1, 1, 4))))
    np.testing.assert_array_equal(a[0], b[0])
    np.testing.assert_array_equal(a[1][1], b[1][1])


def test_parameter_gradients_accumulate():
    m = npimpl.GRU(3, 4, dtype=np.float64)
    x = R.standard_normal((5, 1, 3))
    out, hn = m(x)
    m.backward(np.ones_like(out), np.ones_like(hn))
    first = m.weight_hh_l0.grad.copy()
    m.backward(np.ones_like(out), np.ones_like(hn))
    np.testing.assert_allclose(m.weight_hh_l0.grad, 2 * first)


def test_unbatched_equals_batch_of_one():
    m = npimpl.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    x = R.standard_normal((6, 3))
    out_u, (h_u, _) = m(x)
    out_b, (h_b, _) = m(x[:, None])
    np.testing.assert_array_equal(out_u, out_b[:, 0])
    np.testing.assert_array_equal(h_u, h_b[:, 0])


# --- dropout between layers ----------------------------------------------------------------------
def test_dropout_masks_one_per_gap_and_none_in_eval():
    m = npimpl.GRU(3, 4, num_layers=3, dropout=0.5, bidirectional=True,
                   rng=np.random.default_rng(1))
    x = R.standard_normal((6, 2, 3)).astype(np.float32)
    m(x)
    assert len(m.masks) == 2 and all(k.shape == (6, 2, 8) for k in m.masks)
    assert set(np.unique(m.masks[0])) <= {0.0, 2.0}
    m.eval()
    a, _ = m(x)
    b, _ = m(x)
    assert m.masks == [None, None]
    np.testing.assert_array_equal(a, b)


def test_dropout_one_cuts_the_first_layer_off():
    m = npimpl.RNN(3, 4, num_layers=2, dropout=1.0, dtype=np.float64)
    a, _ = m(R.standard_normal((5, 1, 3)))
    b, _ = m(R.standard_normal((5, 1, 3)))
    np.testing.assert_array_equal(a, b)          # layer 2 sees only zeros


def test_dropout_with_one_layer_warns_like_torch():
    with pytest.warns(UserWarning, match="num_layers greater than 1"):
        npimpl.LSTM(3, 4, dropout=0.3)


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("make,call,exc,text", [
    (lambda: npimpl.LSTM(3, 4), lambda m: m(np.zeros((5, 1, 2), np.float32)), ValueError, "LSTM"),
    (lambda: npimpl.GRU(3, 4), lambda m: m(np.zeros((5, 1, 1, 3), np.float32)), ValueError,
     "GRU"),
    (lambda: npimpl.GRU(3, 4), lambda m: m(np.zeros((5, 1, 3), np.float32),
                                           np.zeros((2, 1, 4), np.float32)), ValueError, "hx"),
    (lambda: npimpl.LSTM(3, 4), lambda m: m(np.zeros((5, 1, 3), np.float32),
                                            np.zeros((1, 1, 4), np.float32)), TypeError, "tuple"),
    (lambda: npimpl.RNN(3, 4), lambda m: m(np.zeros((5, 1, 3), np.float64)), TypeError,
     "float32"),
    (lambda: npimpl.LSTM(3, 4), lambda m: m.backward(np.zeros((5, 1, 4), np.float32)),
     RuntimeError, "before forward"),
    (lambda: npimpl.LSTMCell(3, 4), lambda m: m(np.zeros((2, 3), np.float32),
                                                (np.zeros((2, 4), np.float32),
                                                 np.zeros((3, 4), np.float32))), ValueError,
     "hx\\[1\\]"),
    (lambda: npimpl.RNNCell(3, 4), lambda m: m(np.zeros((2, 5), np.float32)), ValueError,
     "RNNCell"),
], ids=["lstm-features", "gru-rank", "gru-h0-shape", "lstm-hx-not-tuple", "rnn-dtype",
        "lstm-backward-first", "lstmcell-c-shape", "rnncell-features"])
def test_bad_input_is_refused_with_a_clear_message(make, call, exc, text):
    m = make()
    with pytest.raises(exc, match=text):
        call(m)


@pytest.mark.parametrize("ctor,text", [
    (lambda: npimpl.LSTM(3, 4, proj_size=4), "proj_size"),
    (lambda: npimpl.RNN(3, 4, nonlinearity="sigmoid"), "nonlinearity"),
    (lambda: npimpl.GRU(3, 4, num_layers=0), "num_layers"),
    (lambda: npimpl.RNN(3, 4, dropout=1.5), "dropout"),
], ids=["proj-too-big", "bad-nonlinearity", "zero-layers", "dropout-range"])
def test_bad_constructor_arguments(ctor, text):
    with pytest.raises(ValueError, match=text):
        ctor()


@pytest.mark.parametrize("name,words", [
    ("LSTM", ["i, f, g, o", "b_ih + b_hh"]), ("LSTMCell", ["i, f, g, o", "b_ih + b_hh"]),
    ("GRU", ["r, z, n", "hidden matmul", "b_ih + b_hh"]),
    ("GRUCell", ["r, z, n", "hidden matmul", "b_ih + b_hh"]), ("RNN", ["b_ih + b_hh"]),
    ("RNNCell", ["b_ih and b_hh"]),
])
def test_docstrings_teach_the_gate_layout(name, words):
    from compare.docs import layer_doc
    doc = layer_doc(getattr(npimpl, name))
    assert doc.summary and doc.backward
    hides = " ".join(doc.hides.split())
    for w in words:
        assert w in hides, f"{name}: 'What torch hides' does not mention {w!r}"


# --- packed sequences -------------------------------------------------------------------------
from npimpl.utils.rnn import PackedSequence, pack_padded_sequence, pad_packed_sequence  # noqa: E402


@pytest.mark.parametrize("name,kw", [
    ("LSTM", dict(bidirectional=True, num_layers=2, proj_size=2)),
    ("GRU", dict(bidirectional=True)),
    ("RNN", dict(num_layers=2, nonlinearity="relu")),
], ids=["lstm-proj-bidir-2", "gru-bidir", "rnn-relu-2"])
def test_packed_equals_each_sequence_run_alone(name, kw):
    """h_n of a packed batch is each sequence's own final state, and each output row is what
    the sequence alone (unbatched, unpadded) gives: padding never enters a state."""
    m = getattr(npimpl, name)(3, 4, dtype=np.float64, **kw)
    lengths = [2, 5, 1, 5, 3]
    x = R.standard_normal((5, len(lengths), 3))
    out, hn = m(pack_padded_sequence(x, lengths, enforce_sorted=False))
    padded, lens = pad_packed_sequence(out)
    np.testing.assert_array_equal(lens, lengths)
    for b, n in enumerate(lengths):
        o1, h1 = m(x[:n, b])
        np.testing.assert_allclose(padded[:n, b], o1, rtol=1e-13, atol=1e-15)
        for a, c in zip(hn if isinstance(hn, tuple) else (hn,), h1 if isinstance(h1, tuple)
                        else (h1,)):
            np.testing.assert_allclose(a[:, b], c, rtol=1e-13, atol=1e-15)


def test_packed_backward_equals_padded_backward_on_valid_steps():
    """With full-length sequences packing changes nothing: the data gradient is the padded
    gradient packed, and h0/c0 gradients agree; a PackedSequence gradient is accepted too."""
    m = npimpl.LSTM(3, 4, num_layers=2, bidirectional=True, dtype=np.float64)
    x = R.standard_normal((4, 3, 3))
    h0, c0 = R.standard_normal((4, 3, 4)), R.standard_normal((4, 3, 4))
    g, gh, gc = R.standard_normal((4, 3, 8)), R.standard_normal((4, 3, 4)), R.standard_normal(
        (4, 3, 4))
    m(x, (h0, c0))
    gx, (gh0, gc0) = m.backward(g, (gh, gc))
    p = pack_padded_sequence(x, [4, 4, 4])
    out, _ = m(p, (h0, c0))
    gp = pack_padded_sequence(g, [4, 4, 4]).data
    gxp, (gh0p, gc0p) = m.backward(out._replace(data=gp), (gh, gc))
    np.testing.assert_allclose(gxp, pack_padded_sequence(gx, [4, 4, 4]).data, rtol=1e-12)
    np.testing.assert_allclose(gh0p, gh0, rtol=1e-12)
    np.testing.assert_allclose(gc0p, gc0, rtol=1e-12)


@pytest.mark.parametrize("bad,text", [
    (lambda p: p._replace(data=p.data[:, :2]), "packed data of shape"),
    (lambda p: p._replace(batch_sizes=np.array([3, 3, 1])), "batch_sizes must be"),
    (lambda p: p._replace(batch_sizes=np.array([1, 2, 3])), "batch_sizes must be"),
    (lambda p: p._replace(sorted_indices=np.array([0, 0, 1])), "permutation"),
], ids=["features", "sum", "increasing", "indices"])
def test_bad_packed_input_is_refused(bad, text):
    p = pack_padded_sequence(R.standard_normal((3, 3, 3)), [3, 2, 1], enforce_sorted=False)
    with pytest.raises(ValueError, match=text):
        npimpl.GRU(3, 4, dtype=np.float64)(bad(p))


def test_packed_state_and_gradient_shapes_are_checked():
    m = npimpl.RNN(3, 4, dtype=np.float64)
    p = pack_padded_sequence(R.standard_normal((3, 2, 3)), [3, 1])
    with pytest.raises(ValueError, match="hx"):
        m(p, np.zeros((1, 3, 4)))                            # batch 2, not 3
    out, _ = m(p)
    with pytest.raises(ValueError, match="packed output's data"):
        m.backward(np.zeros((3, 4)))                         # 4 rows of data, not 3
    assert isinstance(out, PackedSequence) and out.data.shape == (4, 4)
