"""Recurrent cases: RNN (tanh, relu), GRU, LSTM (with and without projection) and the three
cells; every option alone, then combined; sequence lengths 13 and 1, batch 1 (a few batch 3).

Dropout between layers: the NumPy module draws the masks from its own ``rng`` (seeded here)
and the twin (``reference/rnn.py``) runs torch layer by layer with those masks.
"""
from __future__ import annotations

from functools import partial

import numpy as np

from npimpl.utils.rnn import pack_padded_sequence
from reference import Spec, build, optimizer_pair
from reference.seq_models import packed_classifier_pair

from ..engine import Case, Trajectory
from ..gen import args, normal
from . import core

ORDER = 60

H_IN, H = 3, 5

pair = partial(core.pair, seed=0)        # the NumPy side's dropout rng always seeded


def states(name, n_states, L_N_H_in, **kw):
    """Input generator: x and, for an LSTM, (h0, c0), else h0."""
    L, N, h_in = L_N_H_in
    D = 2 if kw.get("bidirectional") else 1
    k = D * kw.get("num_layers", 1)
    h_out = kw.get("proj_size") or H
    x_shape = (L, h_in) if N is None else ((N, L, h_in) if kw.get("batch_first") else (L, N, h_in))
    lead = (k,) if N is None else (k, N)
    gens = [normal(*x_shape)]
    if n_states:
        h0 = normal(*lead, h_out)
        if name == "LSTM":
            c0 = normal(*lead, H)
            gens.append(lambda rng, dt: (h0(rng, dt), c0(rng, dt)))
        else:
            gens.append(h0)
    return args(*gens)


def seq_case(tag, name, L=13, N=1, h0=False, eval_mode=False, **kw):
    spec_kw = dict(kw)
    spec = Spec(name, H_IN, H, **spec_kw)
    layer = name
    return Case(f"{tag}-" + ("-".join(_opt_words(L, N, h0, eval_mode, kw)) or "base"), layer,
                "recurrent", pair(spec, eval_mode), states(name, h0, (L, N, H_IN), **kw))


def _opt_words(L, N, h0, eval_mode, kw):
    words = []
    if L != 13:
        words.append(f"len{L}")
    if N is None:
        words.append("unbatched")
    elif N != 1:
        words.append(f"batch{N}")
    for k, v in kw.items():
        if k == "nonlinearity":
            continue
        words.append({"bias": "nobias", "batch_first": "batchfirst", "bidirectional": "bidir",
                      "num_layers": f"layers{v}", "dropout": f"dropout{v}",
                      "proj_size": f"proj{v}"}[k])
    if h0:
        words.append("h0")
    if eval_mode:
        words.append("eval")
    return words


def _family(tag, name, **base):
    """Each option alone, then combined, for one recurrent kind."""
    c = lambda **kw: seq_case(tag, name, **{**base, **kw})  # noqa: E731
    return [
        c(), c(L=1), c(N=None), c(batch_first=True), c(bidirectional=True), c(num_layers=2),
        c(bias=False), c(h0=True), c(num_layers=2, dropout=0.4),
        c(num_layers=2, dropout=0.4, eval_mode=True),
        c(L=1, N=None, h0=True, num_layers=2, bidirectional=True, dropout=0.4),
        c(N=3, batch_first=True, bidirectional=True, num_layers=2, dropout=0.3, h0=True),
        c(N=None, bias=False, bidirectional=True, num_layers=2, h0=True, batch_first=True),
    ]


CASES = [
    *_family("rnn-tanh", "RNN"),
    # relu shares every code path with tanh but the activation: the base and the two combos
    *_family("rnn-relu", "RNN", nonlinearity="relu")[:2],
    *_family("rnn-relu", "RNN", nonlinearity="relu")[-3:],
    *_family("gru", "GRU"),
    *_family("lstm", "LSTM"),
    seq_case("lstm", "LSTM", proj_size=3),
    seq_case("lstm", "LSTM", L=1, proj_size=2, h0=True),
    seq_case("lstm", "LSTM", N=None, proj_size=3, bidirectional=True, num_layers=2, h0=True),
    seq_case("lstm", "LSTM", N=3, proj_size=3, bidirectional=True, num_layers=2, dropout=0.4,
             batch_first=True, h0=True),
    seq_case("lstm", "LSTM", proj_size=3, num_layers=2, dropout=0.4, eval_mode=True),
]


def cell_case(name, tag, N=1, hx=False, **kw):
    spec = Spec(name, H_IN, H, **kw)
    x = normal(H_IN) if N is None else normal(N, H_IN)
    lead = () if N is None else (N,)
    gens = [x]
    if hx:
        h = normal(*lead, H)
        gens.append((lambda rng, dt: (h(rng, dt), h(rng, dt))) if name == "LSTMCell" else h)
    return Case(f"{name.lower()}-{tag}", name, "recurrent", pair(spec), args(*gens))


for _name, _extra in (("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}),
                      ("LSTMCell", {}), ("GRUCell", {})):
    _p = "relu-" if _extra else ""
    CASES += [
        cell_case(_name, _p + "base", **_extra),
        cell_case(_name, _p + "hx", hx=True, **_extra),
        cell_case(_name, _p + "unbatched-hx", N=None, hx=True, **_extra),
        cell_case(_name, _p + "batch3-nobias-hx", N=3, hx=True, bias=False, **_extra),
    ]


# --- packed sequences ------------------------------------------------------------------------
def packed_inputs(name, lengths, enforce_sorted, h0, **kw):
    """A padded batch of the given lengths packed (``npimpl.utils.rnn``), and the states."""
    D = 2 if kw.get("bidirectional") else 1
    k, B = D * kw.get("num_layers", 1), len(lengths)

    def gen(rng, dt):
        x = rng.standard_normal((max(lengths), B, H_IN)).astype(dt)
        packed = pack_padded_sequence(x, lengths, enforce_sorted=enforce_sorted)
        if not h0:
            return (packed,)
        h = rng.standard_normal((k, B, kw.get("proj_size") or H)).astype(dt)
        if name == "LSTM":
            return packed, (h, rng.standard_normal((k, B, H)).astype(dt))
        return packed, h
    return gen


def packed_case(tag, name, lengths=(5, 3, 3, 1), enforce_sorted=False, h0=False,
                eval_mode=False, **kw):
    words = _opt_words(13, 1, h0, eval_mode, kw)
    words.insert(0, "sorted" if enforce_sorted else "unsorted")
    lens = list(lengths)
    return Case(f"{tag}-packed-" + "-".join(words), name, "recurrent",
                pair(Spec(name, H_IN, H, **kw), eval_mode),
                packed_inputs(name, lens, enforce_sorted, h0, **kw))


_UNSORTED = (2, 5, 1, 5, 3)                  # ties, and the longest not first
CASES += [
    packed_case("rnn-tanh", "RNN", lengths=(4, 3, 1), enforce_sorted=True),
    packed_case("rnn-relu", "RNN", lengths=_UNSORTED, nonlinearity="relu", bidirectional=True,
                h0=True),
    packed_case("gru", "GRU", lengths=_UNSORTED),
    packed_case("gru", "GRU", lengths=_UNSORTED, bidirectional=True, num_layers=2, h0=True),
    packed_case("lstm", "LSTM", lengths=(1,)),
    packed_case("lstm", "LSTM", lengths=_UNSORTED, h0=True),
    packed_case("lstm", "LSTM", lengths=(3, 3, 3), enforce_sorted=True, bidirectional=True),
    packed_case("lstm", "LSTM", lengths=_UNSORTED, bidirectional=True, num_layers=2,
                proj_size=3, h0=True),
    packed_case("lstm", "LSTM", lengths=_UNSORTED, num_layers=2, dropout=0.4, bidirectional=True,
                h0=True),
    packed_case("lstm", "LSTM", lengths=_UNSORTED, num_layers=2, dropout=0.4, eval_mode=True),
    packed_case("gru", "GRU", lengths=_UNSORTED, num_layers=2, dropout=0.4, bias=False),
]


# --- a classifier trained on packed variable-length sequences ---------------------------------
def packed_batches(rng, dt, step, batch=6, max_len=6):
    """Sequences of 1..max_len steps of 3 features, packed unsorted; the class is the feature
    with the largest sum over the sequence (so every step matters, padding must not)."""
    lengths = rng.integers(1, max_len + 1, batch)
    x = rng.standard_normal((max_len, batch, H_IN)).astype(dt)
    mask = np.arange(max_len)[:, None] < lengths[None, :]                 # (T, B) valid steps
    y = (x * mask[..., None]).sum(0).argmax(-1).astype(np.int64)
    return pack_padded_sequence(x, lengths, enforce_sorted=False), y


CASES.append(Trajectory(
    "packed-lstm-classifier-adam", "PackedLSTMClassifier", "recurrent",
    model=lambda dt: packed_classifier_pair(dt, H_IN, H, 3, num_layers=2, bidirectional=True),
    loss=lambda dt: build(Spec("CrossEntropyLoss"), dt),
    batches=packed_batches,
    optimizer=lambda m, t: optimizer_pair("Adam", m, t, lr=0.02),
    steps=8,
    note="2-layer bidirectional LSTM over unsorted packed sequences of 1-6 steps, h_n of the "
         "last layer (each sequence's own last step) -> Linear -> 3 classes; Adam lr 0.02"))
