"""Packed sequences end to end: the padded batch packed, run and padded again *on each side*
(``npimpl.utils.rnn`` against ``torch.nn.utils.rnn``), so torch builds its own
``batch_sizes`` and sort permutations instead of receiving NumPy's (as the packed cases of
:mod:`.recurrent` do); ``pad_sequence`` / ``unpad_sequence`` and ``pack_sequence`` /
``unpack_sequence`` on lists of sequences; the packed classifier in its default
configuration and on a plain unbatched sequence; and the refusals both libraries share
(unsorted lengths with ``enforce_sorted``, a zero length, an empty batch, a packed sequence
of no steps, a sequence with an extra dim, increasing ``batch_sizes``, an LSTM state that
is not a pair).

The wrappers' ``backward`` uses that packing and padding only move elements, so each is the
other's gradient (the docstring of :mod:`npimpl.utils.rnn`): the gradient of the padded
output is packed with the same lengths, and the layer's packed input gradient is padded
back, with zeros at the padding.
"""
from __future__ import annotations

import numpy as np
import torch
from torch.nn.utils import rnn as TR

import npimpl
from npimpl.utils import rnn as R
from reference import Spec
from reference.seq_models import packed_classifier_pair

from ..engine import Case
from ..gen import args, normal
from .corners import Compared, _outcome
from .recurrent import H, H_IN, pair

ORDER = 61


# --- pack_padded_sequence -> recurrent layer -> pad_packed_sequence ---------------------------
class PackedRun(npimpl.Module):
    """``pad_packed_sequence(rnn(pack_padded_sequence(x, lengths), hx))``: returns
    ``(padded output, lengths, h_n)``; without a layer (``rnn=None``) the packed input is
    padded straight back: ``(padded, lengths)``."""

    def __init__(self, rnn, lengths, batch_first=False, enforce_sorted=False, **pad_kw):
        super().__init__()
        self.rnn = rnn
        self.lengths, self.batch_first, self.enforce_sorted = lengths, batch_first, enforce_sorted
        self.pad_kw = pad_kw                    # padding_value, total_length

    def _pack(self, x):
        return R.pack_padded_sequence(x, self.lengths, batch_first=self.batch_first,
                                      enforce_sorted=self.enforce_sorted)

    def forward(self, x, hx=None):
        packed = self._pack(x)
        out, h = (packed, None) if self.rnn is None else self.rnn(packed, hx)
        padded, lengths = R.pad_packed_sequence(out, batch_first=self.batch_first,
                                                **self.pad_kw)
        self._cache = (packed, x.shape[1 if self.batch_first else 0], hx is not None)
        return (padded, lengths) if self.rnn is None else (padded, lengths, h)

    def backward(self, g_padded, g_lengths=None, g_h=None):
        packed, T, with_hx = self._saved()
        g = self._pack(g_padded).data                                   # d packed data
        g_hx = None
        if self.rnn is not None:
            g, g_hx = self.rnn.backward(g, g_h)
        g_x, _ = R.pad_packed_sequence(packed._replace(data=g), batch_first=self.batch_first,
                                       total_length=T)                  # zeros at the padding
        return (g_x, g_hx) if with_hx else g_x


class TorchPackedRun(torch.nn.Module):
    def __init__(self, rnn, lengths, batch_first=False, enforce_sorted=False, **pad_kw):
        super().__init__()
        self.rnn = rnn
        self.lengths, self.batch_first, self.enforce_sorted = lengths, batch_first, enforce_sorted
        self.pad_kw = pad_kw

    def forward(self, x, hx=None):
        packed = TR.pack_padded_sequence(x, torch.tensor(self.lengths), self.batch_first,
                                         self.enforce_sorted)
        out, h = (packed, None) if self.rnn is None else self.rnn(packed, hx)
        padded, lengths = TR.pad_packed_sequence(out, batch_first=self.batch_first,
                                                 **self.pad_kw)
        return (padded, lengths) if self.rnn is None else (padded, lengths, h)


def packed_run(name, kw, lengths, batch_first=False, enforce_sorted=False, **pad_kw):
    """``dtype -> (PackedRun, TorchPackedRun)`` around a recurrent pair (``name`` None: none)."""
    def make(dt):
        np_rnn, t_rnn = pair(Spec(name, H_IN, H, **kw))(dt) if name else (None, None)
        return (PackedRun(np_rnn, lengths, batch_first, enforce_sorted, **pad_kw),
                TorchPackedRun(t_rnn, lengths, batch_first, enforce_sorted, **pad_kw))
    return make


def padded_inputs(name, lengths, batch_first=False, h0=False, features=(H_IN,), **kw):
    """A padded batch (T = the longest length) and, with ``h0``, the initial state(s)."""
    T, B = max(lengths), len(lengths)
    gens = [normal(*((B, T) if batch_first else (T, B)), *features)]
    if h0:
        k = (2 if kw.get("bidirectional") else 1) * kw.get("num_layers", 1)
        h = normal(k, B, kw.get("proj_size") or H)
        gens.append((lambda rng, dt: (h(rng, dt), normal(k, B, H)(rng, dt)))
                    if name == "LSTM" else h)
    return args(*gens)


def packpad_case(tag, name, lengths, batch_first=False, enforce_sorted=False, h0=False,
                 features=(H_IN,), pad_kw=None, **kw):
    pad_kw = pad_kw or {}
    return Case(f"{tag}-packpad", name or "PackedSequence", "recurrent",
                packed_run(name, kw, lengths, batch_first, enforce_sorted, **pad_kw),
                padded_inputs(name, lengths, batch_first, h0, features, **kw))


CASES = [
    # ties and the longest not first: torch sorts, permutes h_0 and unsorts h_n itself
    packpad_case("lstm-unsorted-h0", "LSTM", (2, 5, 1, 5, 3), h0=True),
    packpad_case("gru-sorted-batchfirst-total-length", "GRU", (4, 4, 2, 1), batch_first=True,
                 enforce_sorted=True, pad_kw=dict(padding_value=-1.5, total_length=6),
                 bidirectional=True),
    packpad_case("rnn-one-sequence-one-step-sorted", "RNN", (1,), enforce_sorted=True),
    # no layer: a 2-D (T, B) batch and a 4-D one, packed and padded back (with a fill value)
    packpad_case("2d-unsorted", None, (2, 4, 3), features=(),
                 pad_kw=dict(padding_value=0.25, total_length=5)),
    packpad_case("4d-batchfirst-unsorted", None, (1, 3, 3, 2), batch_first=True,
                 features=(2, 3)),
]


# --- pack_sequence -> recurrent layer -> unpack_sequence --------------------------------------
class SequencesRun(npimpl.Module):
    """``unpack_sequence(rnn(pack_sequence(seqs)))``: one output per sequence, then h_n."""

    def __init__(self, rnn, enforce_sorted=False):
        super().__init__()
        self.rnn, self.enforce_sorted = rnn, enforce_sorted

    def forward(self, *seqs):
        packed = R.pack_sequence(seqs, enforce_sorted=self.enforce_sorted)
        out, h = self.rnn(packed)
        self._cache = packed
        return (*R.unpack_sequence(out), h)

    def backward(self, *grads):
        packed = self._saved()
        g_outs, g_h = grads[:-1], grads[-1]
        g = R.pack_sequence(g_outs, enforce_sorted=self.enforce_sorted).data
        g_in, _ = self.rnn.backward(g, g_h)
        return tuple(R.unpack_sequence(packed._replace(data=g_in)))


class TorchSequencesRun(torch.nn.Module):
    def __init__(self, rnn, enforce_sorted=False):
        super().__init__()
        self.rnn, self.enforce_sorted = rnn, enforce_sorted

    def forward(self, *seqs):
        out, h = self.rnn(TR.pack_sequence(list(seqs), enforce_sorted=self.enforce_sorted))
        return (*TR.unpack_sequence(out), h)


def sequences_case(tag, name, lengths, enforce_sorted=False, **kw):
    def make(dt):
        np_rnn, t_rnn = pair(Spec(name, H_IN, H, **kw))(dt)
        return SequencesRun(np_rnn, enforce_sorted), TorchSequencesRun(t_rnn, enforce_sorted)
    return Case(f"{tag}-pack-sequence", name, "recurrent", make,
                args(*[normal(n, H_IN) for n in lengths]))


CASES += [
    sequences_case("gru-unsorted", "GRU", (2, 4, 1, 4)),
    sequences_case("lstm-sorted", "LSTM", (3, 2, 2), enforce_sorted=True),
]


# --- pad_sequence and unpad_sequence --------------------------------------------------------
class PadUnpad(npimpl.Module):
    """``padded = pad_sequence(seqs, **pad_kw)``, then ``unpad_sequence(padded, lengths)``
    with lengths of its own (0 and the padded length allowed): returns ``(padded, *parts)``."""

    def __init__(self, lengths, **pad_kw):
        super().__init__()
        self.lengths, self.pad_kw = lengths, pad_kw

    def forward(self, *seqs):
        padded = R.pad_sequence(seqs, **self.pad_kw) if self.pad_kw else R.pad_sequence(seqs)
        parts = R.unpad_sequence(padded, self.lengths, self.pad_kw.get("batch_first", False))
        self._cache = [len(s) for s in seqs]
        return (padded, *parts)

    def backward(self, g_padded, *g_parts):
        seq_lens = self._saved()
        g = g_padded.swapaxes(0, 1) if self.pad_kw.get("batch_first") else g_padded
        g = g.copy()                                                    # (T, B, *)
        for b, gp in enumerate(g_parts):
            g[:len(gp), b] += gp
        T, left = g.shape[0], self.pad_kw.get("padding_side") == "left"
        return tuple(g[T - n:, b] if left else g[:n, b] for b, n in enumerate(seq_lens))


class TorchPadUnpad(torch.nn.Module):
    def __init__(self, lengths, **pad_kw):
        super().__init__()
        self.lengths, self.pad_kw = lengths, pad_kw

    def forward(self, *seqs):
        padded = TR.pad_sequence(list(seqs), **self.pad_kw)
        # torch's unpad_sequence transposes its argument in place when batch_first=False
        parts = TR.unpad_sequence(padded.clone(), torch.tensor(self.lengths),
                                  self.pad_kw.get("batch_first", False))
        return (padded, *parts)


def pad_case(tag, seq_shapes, lengths, **pad_kw):
    return Case(f"pad-sequence-{tag}", "PackedSequence", "recurrent",
                lambda dt: (PadUnpad(lengths, **pad_kw), TorchPadUnpad(lengths, **pad_kw)),
                args(*[normal(*s) for s in seq_shapes]))


CASES += [
    # 1-D sequences, every default; unpad lengths 0 and T (= 4, not B = 3)
    pad_case("1d-defaults", [(3,), (1,), (4,)], (0, 1, 4)),
    pad_case("batchfirst-left-fill", [(2, 2), (5, 2), (3, 2)], (2, 5, 3), batch_first=True,
             padding_value=0.7, padding_side="left"),
    pad_case("one-sequence", [(4, 3)], (2,), padding_value=-1.0),
]


# --- the packed classifier: default configuration, and a plain unbatched sequence ----------
def _packed(lengths):
    def gen(rng, dt):
        x = rng.standard_normal((max(lengths), len(lengths), H_IN)).astype(dt)
        return R.pack_padded_sequence(x, lengths, enforce_sorted=False)
    return gen


CASES += [
    Case("packed-lstm-classifier-default", "PackedLSTMClassifier", "recurrent",
         lambda dt: packed_classifier_pair(dt, H_IN, H, 3), args(_packed((2, 5, 1, 5, 3))),
         note="one layer, one direction (the constructor's defaults): h_n[-1:] is the state"),
    Case("lstm-classifier-unbatched-layers2", "PackedLSTMClassifier", "recurrent",
         lambda dt: packed_classifier_pair(dt, H_IN, H, 3, num_layers=2),
         args(normal(4, H_IN)),
         note="a plain unbatched (L, H_in) sequence through two layers, one direction: h_n "
              "is (2, H), the last layer's row is classified, the logits are (3,)"),
]


# --- refusals both libraries share: both must raise -----------------------------------------
def both(np_fn, torch_fn):
    """``compute(dt)`` of a :class:`~.corners.Compared` with one quantity, ``out``: each side's
    result, or the exception it raised (both raising passes)."""
    def compute(dt):
        td = getattr(torch, dt.name)
        return [("out", _outcome(lambda: np_fn(dt)), _outcome(lambda: _np(torch_fn(td))))]
    return compute


def _np(out):
    return out.detach().numpy() if isinstance(out, torch.Tensor) else out


def _pack_np(shape, lengths, **kw):
    return lambda dt: R.pack_padded_sequence(np.ones(shape, dt), lengths, **kw).data


def _pack_torch(shape, lengths, **kw):
    return lambda td: TR.pack_padded_sequence(torch.ones(shape, dtype=td), torch.tensor(lengths,
                                              dtype=torch.int64), **kw).data


def _increasing_batch_sizes(dt):
    return npimpl.RNN(3, 4, dtype=dt.type)(
        R.PackedSequence(np.ones((5, 3), dt), np.array([2, 1, 2])))[0].data


def _increasing_batch_sizes_torch(td):
    return torch.nn.RNN(3, 4, dtype=td)(
        TR.PackedSequence(torch.ones(5, 3, dtype=td), torch.tensor([2, 1, 2])))[0].data


CASES += [
    Compared("pack-padded-unsorted-lengths-refused", "PackedSequence", "recurrent",
             both(_pack_np((3, 2, 1), [2, 3]), _pack_torch((3, 2, 1), [2, 3])),
             note="lengths [2, 3] with enforce_sorted=True (the default): both refuse"),
    Compared("pack-padded-zero-length-refused", "PackedSequence", "recurrent",
             both(_pack_np((3, 2, 1), [3, 0]), _pack_torch((3, 2, 1), [3, 0])),
             note="a sequence of length 0: both refuse"),
    Compared("pack-padded-empty-batch-refused", "PackedSequence", "recurrent",
             both(_pack_np((3, 0, 1), np.zeros(0, np.int64), enforce_sorted=False),
                  _pack_torch((3, 0, 1), [], enforce_sorted=False)),
             note="an empty batch: 'Cannot pack empty tensors' on both sides"),
    Compared("pad-packed-no-steps-refused", "PackedSequence", "recurrent",
             both(lambda dt: R.pad_packed_sequence(R.PackedSequence(np.zeros((0, 3), dt), []),
                                                   total_length=2)[0],
                  lambda td: TR.pad_packed_sequence(TR.PackedSequence(
                      torch.zeros(0, 3, dtype=td), torch.zeros(0, dtype=torch.int64)),
                      total_length=2)[0]),
             note="a PackedSequence with empty batch_sizes: both refuse"),
    Compared("pad-sequence-extra-dims-refused", "PackedSequence", "recurrent",
             both(lambda dt: R.pad_sequence([np.zeros((4, 2), dt), np.ones((1, 1, 2), dt)]),
                  lambda td: TR.pad_sequence([torch.zeros(4, 2, dtype=td),
                                              torch.ones(1, 1, 2, dtype=td)])),
             note="a sequence (1, 1, 2) beside (4, 2): torch's copy cannot broadcast the extra "
                  "dim away (NumPy's assignment could), both refuse"),
    Compared("rnn-packed-increasing-batch-sizes-refused", "RNN", "recurrent",
             both(_increasing_batch_sizes, _increasing_batch_sizes_torch),
             note="batch_sizes [2, 1, 2] (a step with more sequences than the one before)"),
    Compared("lstm-hx-array-of-two-refused", "LSTM", "recurrent",
             both(lambda dt: npimpl.LSTM(3, 4, dtype=dt.type)(np.zeros((5, 2, 3), dt),
                                                              np.zeros((2, 1, 2, 4), dt))[0],
                  lambda td: torch.nn.LSTM(3, 4, dtype=td)(torch.zeros(5, 2, 3, dtype=td),
                                                           torch.zeros(2, 1, 2, 4, dtype=td))[0]),
             note="hx one array of two states instead of the pair (h_0, c_0)"),
]
