"""Adding rows into a table at repeated indices (``out[idx[j]] += rows[j]``) without ``np.add.at``.

Why: ``np.add.at(out, idx, rows)`` with rows of a few hundred values runs an unbuffered
loop element by element: for the bench's Embedding(50000, 256) backward (32768 rows of
256 float32) it took 80 ms, and ``np.add.reduceat`` over sorted runs 82 ms (its axis-0
loop is no faster), where the rows themselves are 32 MB. A fancy ``out[i] += r`` is fast
(8 ms there) but keeps one contribution per repeated index. So the rows are grouped by
index (one stable argsort of the indices) and added in as few fancy additions as the
grouping allows, each free of repeats:

* few groups (EmbeddingBag's bags: 64 of 512 rows): one ``sum`` per group, added at its
  index;
* many small groups (random lookups: 24K distinct indices, at most a handful of repeats
  each): round ``k`` adds the ``k``-th occurrence of every index, ``max count`` rounds.

Either way each index receives its rows in their order of appearance, as ``np.add.at``
adds them (the sums round as a sequential sum does). Measured (forward+backward, float32,
one thread, CPU time; ``lockstep bench``), np.add.at -> here (torch): Embedding(50000, 256)
on 64x512 indices 105 -> 35 ms (58); EmbeddingBag(50000, 256) 182 -> 45 ms (31).
"""
from __future__ import annotations

import numpy as np


def add_rows(out: np.ndarray, idx: np.ndarray, rows: np.ndarray) -> None:
    """``out[idx[j]] += rows[j]`` for every j, repeated indices adding up (``np.add.at``)."""
    if idx.size == 0:
        return
    order = np.argsort(idx, kind="stable")
    s = idx[order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])               # each group's start
    counts = np.diff(np.r_[starts, s.size])
    if starts.size <= counts.max():                     # few groups: one sum per group
        for st, c in zip(starts.tolist(), counts.tolist()):
            run = order[st:st + c]
            if c > 1 and run[-1] - run[0] == c - 1:     # consecutive rows: a view, no gather
                out[s[st]] += rows[run[0]:run[0] + c].sum(axis=0)
            else:
                out[s[st]] += rows[run].sum(axis=0)
        return
    rank = np.empty(s.size, np.int64)                   # occurrence number of each row's index
    rank[order] = np.arange(s.size) - np.repeat(starts, counts)
    if counts.max() == 1:
        out[idx] += rows                                # no repeats at all
        return
    for k in range(int(counts.max())):
        sel = np.flatnonzero(rank == k)
        out[idx[sel]] += rows[sel]


def accumulate_rows(param, idx: np.ndarray, rows: np.ndarray, skip=None) -> None:
    """``param.grad[idx[j]] += rows[j]`` (the gradient of a row lookup), creating ``grad``
    as zeros on the first backward; the rows of index ``skip`` (a padding index) are left
    out. One pass over the table fewer than ``param.accumulate`` of a dense gradient."""
    if skip is not None:
        keep = idx != skip
        idx, rows = idx[keep], rows[keep]
    if param.grad is None:
        param.grad = np.zeros_like(param.data)
    elif not isinstance(param.grad, np.ndarray):        # a sparse gradient, then a dense one
        param.grad = param.grad.to_dense()
    add_rows(param.grad, idx, rows.astype(param.data.dtype, copy=False))
