"""Packed sequences, named as ``torch.nn.utils.rnn``: a batch of variable-length sequences
stored time step by time step, without padding.

Sequences ``abc`` and ``x`` pack to ``data = [a, x, b, c]`` with ``batch_sizes = [2, 1, 1]``:
step t holds one row per sequence still running at t, longest sequences first. A recurrent
layer fed a :class:`PackedSequence` runs step t on ``batch_sizes[t]`` rows only, so a short
sequence's final state is taken at its own last step, not after a run of padding.

Backward: packing and padding only move elements, so each is the other's gradient:
``d padded = pad_packed_sequence(PackedSequence(d data, ...))`` (zeros at the padding) and
``d data = pack_padded_sequence(d padded, lengths).data``. The recurrent layers' ``backward``
takes and returns gradients of the packed ``data``.

What torch hides:
    ``enforce_sorted=False`` sorts by length with a *stable* descending sort (ties keep the
    batch order) and stores the permutation in ``sorted_indices``; h_0 is permuted by it on
    the way in and h_n back by ``unsorted_indices`` on the way out, so states stay in the
    caller's batch order while the data is in sorted order; ``batch_first`` of the recurrent
    layer is ignored for packed input; torch's ``pack_padded_sequence`` does not check a
    length longer than the padded input (it returns ``batch_sizes`` that sum past
    ``data``), npimpl refuses it; torch's ``unpad_sequence`` transposes the caller's tensor
    in place when ``batch_first=False``, npimpl leaves it alone.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["PackedSequence", "invert_permutation", "pack_padded_sequence",
           "pad_packed_sequence", "pad_sequence", "unpad_sequence", "pack_sequence",
           "unpack_sequence"]


class _PackedSequence(NamedTuple):
    data: np.ndarray                     # (sum(batch_sizes), *) the steps, one after another
    batch_sizes: np.ndarray              # (T,) int64, non-increasing: rows per time step
    sorted_indices: np.ndarray | None    # (B,) int64: sorted position -> batch index
    unsorted_indices: np.ndarray | None  # (B,) int64: its inverse


class PackedSequence(_PackedSequence):
    """``(data, batch_sizes, sorted_indices, unsorted_indices)``, as torch's namedtuple.

    ``unsorted_indices`` is computed from ``sorted_indices`` when not given. Build one with
    :func:`pack_padded_sequence` or :func:`pack_sequence` rather than by hand.
    """

    def __new__(cls, data, batch_sizes=None, sorted_indices=None, unsorted_indices=None):
        if batch_sizes is None:              # torch also accepts PackedSequence((data, sizes))
            data, batch_sizes = data
        batch_sizes = np.asarray(batch_sizes, dtype=np.int64)
        if sorted_indices is not None:
            sorted_indices = np.asarray(sorted_indices, dtype=np.int64)
        if unsorted_indices is None:
            unsorted_indices = invert_permutation(sorted_indices)
        return super().__new__(cls, data, batch_sizes, sorted_indices, unsorted_indices)


def invert_permutation(permutation):
    """The inverse permutation (``out[permutation[i]] = i``), or None for None."""
    if permutation is None:
        return None
    p = np.asarray(permutation, dtype=np.int64)
    out = np.empty_like(p)
    out[p] = np.arange(p.size)
    return out


def _array(x, owner, name):
    if not isinstance(x, np.ndarray):
        raise TypeError(f"{owner}: {name} must be a numpy.ndarray, got {type(x).__name__}")
    return x


def _lengths(lengths, owner):
    lens = np.asarray(lengths)
    if lens.ndim != 1 or (lens.size and lens.dtype.kind not in "iu"):
        raise TypeError(f"{owner}: lengths must be a 1-D sequence of ints, got {lengths!r}")
    return lens.astype(np.int64)


def pack_padded_sequence(input, lengths, batch_first=False, enforce_sorted=True):
    """Pack a padded batch ``(T, B, *)`` (``(B, T, *)`` with batch_first) of sequences of the
    given lengths; with ``enforce_sorted=False`` the batch is sorted by length first."""
    cls = "pack_padded_sequence"
    x = _array(input, cls, "input")
    if x.ndim < 2:
        raise ValueError(f"{cls}: input must be at least 2-D (T, B, *), got shape {x.shape}")
    if x.size == 0:                                                 # torch refuses it too
        raise ValueError(f"{cls}: Cannot pack empty tensors, got input of shape {x.shape}")
    lens = _lengths(lengths, cls)
    xt = np.swapaxes(x, 0, 1) if batch_first else x                 # (T, B, *)
    T, B = xt.shape[:2]
    if lens.size != B:
        raise ValueError(f"{cls}: expected len(lengths) to be equal to batch_size, but got "
                         f"{lens.size} (batch_size={B})")
    sorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lens) > 0):
            raise ValueError(f"{cls}: `lengths` array must be sorted in decreasing order when "
                             f"`enforce_sorted` is True, got {lens.tolist()}; pass "
                             "enforce_sorted=False to sort them")
    else:
        sorted_indices = np.argsort(-lens, kind="stable")            # torch's order for ties
        lens, xt = lens[sorted_indices], xt[:, sorted_indices]
    if lens[-1] <= 0:
        raise ValueError(f"{cls}: Length of all samples has to be greater than 0, but found "
                         f"an element in 'lengths' that is <= 0, got {lens.tolist()}")
    if lens[0] > T:
        raise ValueError(f"{cls}: lengths must not exceed the padded length {T}, got "
                         f"{lens.max()} (torch does not check and returns batch_sizes that "
                         "do not fit its data)")
    batch_sizes = (lens[None, :] > np.arange(lens[0])[:, None]).sum(1)             # (T',)
    data = np.concatenate([xt[t, :b] for t, b in enumerate(batch_sizes)])
    return PackedSequence(data, batch_sizes, sorted_indices, None)


def _check_packed(sequence, owner):
    if not isinstance(sequence, PackedSequence):
        raise TypeError(f"{owner}: expected a PackedSequence, got {type(sequence).__name__}")
    return sequence


def pad_packed_sequence(sequence, batch_first=False, padding_value=0.0, total_length=None):
    """``(padded (T, B, *) or (B, T, *), lengths (B,) int64)`` in the original batch order."""
    cls = "pad_packed_sequence"
    data, sizes, _, unsorted = _check_packed(sequence, cls)
    if len(sizes) == 0:                                             # torch refuses it too
        raise ValueError(f"{cls}: batch_sizes can not be empty (a PackedSequence of no steps)")
    T = len(sizes)
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"{cls}: Expected total_length to be at least the length of the "
                             f"longest sequence in input, but got total_length={total_length} "
                             f"and max sequence length being {T}")
        T = total_length
    B = int(sizes[0])
    out = np.full((T, B) + data.shape[1:], padding_value, dtype=data.dtype)
    offsets = np.concatenate([[0], np.cumsum(sizes)])
    for t, b in enumerate(sizes):
        out[t, :b] = data[offsets[t]:offsets[t] + b]
    lengths = (sizes[None, :] > np.arange(B)[:, None]).sum(1)        # (B,) in sorted order
    if unsorted is not None:
        out, lengths = out[:, unsorted], lengths[unsorted]
    return (np.swapaxes(out, 0, 1).copy() if batch_first else out), lengths


def pad_sequence(sequences, batch_first=False, padding_value=0.0, padding_side="right"):
    """Stack arrays ``(L_i, *)`` into ``(T, B, *)`` (``(B, T, *)`` with batch_first), padded
    with ``padding_value`` on the right (or, ``padding_side='left'``, on the left)."""
    cls = "pad_sequence"
    if padding_side not in ("left", "right"):
        raise ValueError(f"{cls}: Expected padding_side to be one of left or right, but got "
                         f"{padding_side!r}")
    if isinstance(sequences, np.ndarray):
        sequences = list(sequences)
    seqs = [_array(s, cls, f"sequences[{i}]") for i, s in enumerate(sequences)]
    if not seqs:
        raise ValueError(f"{cls}: received an empty list of sequences, expected at least one")
    trail = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim < 1 or s.shape[1:] != trail:
            raise ValueError(f"{cls}: every sequence must have shape (L, *{trail}), got "
                             f"sequences[{i}] of shape {s.shape}")
    T = max(len(s) for s in seqs)
    out = np.full((T, len(seqs)) + trail, padding_value, dtype=seqs[0].dtype)
    for b, s in enumerate(seqs):
        if padding_side == "right":
            out[:len(s), b] = s
        else:
            out[T - len(s):, b] = s
    return np.swapaxes(out, 0, 1).copy() if batch_first else out


def unpad_sequence(padded_sequences, lengths, batch_first=False):
    """The list of sequences ``padded[:lengths[b], b]`` (the caller's array is not changed)."""
    x = _array(padded_sequences, "unpad_sequence", "padded_sequences")
    lens = _lengths(lengths, "unpad_sequence")
    x = x if batch_first else np.swapaxes(x, 0, 1)                   # (B, T, *)
    if lens.size != x.shape[0] or np.any(lens < 0) or np.any(lens > x.shape[1]):
        raise ValueError(f"unpad_sequence: expected {x.shape[0]} lengths within [0, "
                         f"{x.shape[1]}], got {lens.tolist()}")
    return [x[b, :n].copy() for b, n in enumerate(lens)]


def pack_sequence(sequences, enforce_sorted=True):
    """``pack_padded_sequence(pad_sequence(sequences), lengths, enforce_sorted=...)``."""
    seqs = list(sequences)
    lengths = [len(_array(s, "pack_sequence", f"sequences[{i}]")) for i, s in enumerate(seqs)]
    return pack_padded_sequence(pad_sequence(seqs), lengths, enforce_sorted=enforce_sorted)


def unpack_sequence(packed_sequences):
    """The list of sequences of a PackedSequence, in the original batch order."""
    padded, lengths = pad_packed_sequence(_check_packed(packed_sequences, "unpack_sequence"),
                                          batch_first=True)
    return unpad_sequence(padded, lengths, batch_first=True)
