"""Fractional max pooling as a max over *every* window start, then one pick per output.

Why: ``fractional_max_pool`` builds the flat input index of every element of every
window, ``(N, C, *O, *K)`` int64 (38 MB for FractionalMaxPool2d(3, output_size=16) on
32x64x32x32), gathers the windows with ``take_along_axis`` and runs an argmax over rows of
``prod(K)``: three passes of random-access gathers over ~2x the input. The windows differ
per (sample, channel) plane, but each is one of the stride-1 sliding windows, so here:

1. the max over every stride-1 window, one axis at a time (last first): ``K - 1``
   comparisons of shifted views per axis, recording the first maximum's offset (a small
   int per window start, ``k_d``);
2. per output, the window its plane's starts select: one flat gather of the values, and
   for the index of the chosen input one gather per axis, first axis first (the offset
   along an axis is read at the rows the earlier axes chose).

Ties go to the first maximum in row-major order as in torch's scan (each axis keeps its
first maximum, the outer axis the first row that holds the overall one); an input with a
NaN keeps the textbook path (``fractional_max_pool.window_max``; torch takes the last NaN).
Measured (forward+backward, float32, one thread, CPU time, load ~6 on 2 cores; ``lockstep
bench``), textbook -> here (torch): FractionalMaxPool2d(3, output_size=16) on 32x64x32x32
70 -> 19.8 ms (18.5); FractionalMaxPool3d(2, output_size=8) on 8x32x16^3 19.3 -> 6.8 ms
(5.5). tests/test_speed_paths.py checks both against the textbook, ties included.
"""
from __future__ import annotations

import numpy as np


def _along(ax: int, ndim: int, sl) -> tuple:
    return (slice(None),) * ax + (sl,) + (slice(None),) * (ndim - ax - 1)


def sliding_argmax(v: np.ndarray, ax: int, k: int):
    """Max over every stride-1 window of length ``k`` along ``ax``: ``(max, offset)``, the
    offset (uint8/16) of the window's first maximum; axis ``ax`` shrinks to ``S - k + 1``."""
    n = v.shape[ax] - k + 1
    y = v[_along(ax, v.ndim, slice(0, n))].copy()
    off = np.zeros(y.shape, np.min_scalar_type(max(k - 1, 0)))
    new, kj = np.empty(y.shape, bool), np.empty_like(off)
    for j in range(1, k):
        tap = v[_along(ax, v.ndim, slice(j, j + n))]
        np.greater(tap, y, out=new)                          # strictly: the first max stays
        np.maximum(tap, y, out=y)
        np.maximum(off, np.multiply(new, j, out=kj, dtype=off.dtype), out=off)
    return y, off


def fractional_max(x: np.ndarray, starts, kernel):
    """``(y, idx)``: the max of each window ``starts[d][n, c, o_d] + [0, kernel[d])`` and the
    flat index (into its plane) of the input it took, as ``FractionalMaxPool`` returns them
    (``x`` NaN-free). ``starts[d]`` is ``(N, C, O_d)``."""
    n, c, *sizes = x.shape
    nd = len(kernel)
    v, offs = x, [None] * nd
    for d in reversed(range(nd)):                                       # last axis first
        v, offs[d] = sliding_argmax(v, 2 + d, kernel[d])
    # the outputs' window starts, broadcast to (N, C, *O), one per axis
    outs = tuple(s.shape[-1] for s in starts)
    pos = []
    for d, s in enumerate(starts):
        shape = [n, c] + [1] * nd
        shape[2 + d] = outs[d]
        pos.append(s.reshape(shape))
    plane = np.arange(n * c).reshape(n, c, *(1,) * nd)                 # (N, C, 1..)

    def flat(shape, coords):            # flat index into an (N, C, *shape) array
        f = plane
        for size, p in zip(shape, coords):
            f = f * size + p
        return f

    grid = v.shape[2:]
    y = v.reshape(-1)[flat(grid, pos)]                                  # (N, C, *O)
    # the chosen input: along axis d the start plus its offset, the offset read where the
    # earlier axes' choices put the row (offs[d] is over (S_0..S_{d-1}, L_d.., L_last))
    chosen = list(pos)
    for d in range(nd):
        shape = tuple(sizes[:d]) + tuple(grid[d:])
        chosen[d] = pos[d] + offs[d].reshape(-1)[flat(shape, chosen[:d] + pos[d:])]
    return y, flat(sizes, chosen) - plane * int(np.prod(sizes))
