"""Adaptive max pooling axis by axis, without copying every window.

Why: ``_pool.gathered_max`` copies every window by one fancy index over all spatial axes
(``(N, C, *O, *K)``, a multi-index gather at ~6 ns per element) and then runs ``argmax``
over rows of ``prod(K)`` elements (short rows: ~0.5 us each). A max over a box is a max
of maxima along each axis, so here the axes are reduced one at a time, last first:

* long windows (more kernel offsets than outputs, e.g. 5 windows of ~205): each window
  ``[start_o, end_o)`` is a slice, reduced by ``argmax`` along the axis, and the value
  read back with ``take_along_axis``;
* short windows (e.g. 7 windows of 5): a loop over the kernel offsets ``k``, each one
  ``np.take`` of the positions ``start_o + k`` (the slot past a shorter window's end
  reads -inf), compared with the running maximum as in ``_pool.sliding_max``.

Ties: each axis keeps the *first* maximum, and the outer axis then the first row whose
maximum is the overall one: together the first maximum in row-major order, torch's choice.
A NaN anywhere sends the input to the textbook path (torch takes the *last* NaN, which
the per-axis argmax does not track). The result is the chosen kernel offset per window,
``arg`` as ``gathered_max`` returns it, so the backward (``scatter_max_grad``) is shared.

Measured (forward+backward, float32, one thread, CPU time, load ~6 on 2 cores; ``lockstep
bench``), gathered -> here (torch): AdaptiveMaxPool2d(7) on 32x64x32x32 53 -> 10.8 ms (8.2);
AdaptiveMaxPool1d(5) on 32x64x1024 22 -> 3.1 ms (2.7); AdaptiveMaxPool3d(5) on 8x32x16^3
16 -> 6.4 ms (4.2). tests/test_speed_paths.py checks values and choices against the
textbook path, ties included.
"""
from __future__ import annotations

import numpy as np


def _reduce_axis(v: np.ndarray, ax: int, a):
    """Max over the adaptive windows of ``a`` along axis ``ax`` of ``v``: ``(max, k)``, the
    offset ``k`` within each window of the first maximum; axis ``ax`` becomes length O."""
    start = a.pos[:, 0]                                                  # (O,)
    out, kernel = a.pos.shape
    shape = list(v.shape)
    shape[ax] = out
    y = np.empty(shape, v.dtype)
    k = np.empty(shape, np.int64)
    sl = [slice(None)] * v.ndim
    if kernel > out:                     # long windows: one argmax per window
        for o in range(out):
            sl[ax] = slice(int(start[o]), int(a.pos[o, a.valid[o]].max()) + 1)
            seg = v[tuple(sl)]
            ko = np.argmax(seg, axis=ax)
            sl[ax] = o
            k[tuple(sl)] = ko
            y[tuple(sl)] = np.take_along_axis(seg, np.expand_dims(ko, ax), ax).squeeze(ax)
        return y, k
    k.fill(0)
    np.take(v, start, axis=ax, out=y)                                    # offset 0: always real
    tap, kj = np.empty_like(y), np.empty_like(k)
    new = np.empty(shape, bool)
    for j in range(1, kernel):
        np.take(v, np.minimum(a.pos[:, j], a.size - 1), axis=ax, out=tap)
        short = ~a.valid[:, j]
        if short.any():                  # past the end of a shorter window: never wins
            sl[ax] = short
            tap[tuple(sl)] = -np.inf
        np.greater(tap, y, out=new)                                      # strictly: first max stays
        np.maximum(tap, y, out=y)
        np.maximum(k, np.multiply(new, j, out=kj), out=k)               # k = j where new
    return y, k


def adaptive_max(x: np.ndarray, axes):
    """``(y, arg)`` as ``_pool.gathered_max`` (NaN-free ``x``: see the module docstring)."""
    nd = len(axes)
    kernel = tuple(a.pos.shape[1] for a in axes)
    v, offs = x, [None] * nd
    for i in reversed(range(nd)):
        ax = 2 + i
        v, k = _reduce_axis(v, ax, axes[i])
        # the rows of the later axes' offsets that this axis chose: position start + k
        rows = axes[i].pos[:, 0].reshape((-1,) + (1,) * (nd - 1 - i)) + k
        for j in range(i + 1, nd):
            offs[j] = np.take_along_axis(offs[j], rows, axis=ax)
        offs[i] = k
    return v, (np.ravel_multi_index(tuple(offs), kernel) if nd > 1 else offs[0])
