"""Padding without gathers: the input copied once into place, the border filled slab by slab.

Why: ``padding.pad_forward`` gathers every output element through an index array, one
``np.take`` per padded axis (a full pass and a full temporary each), and ``pad_backward``
scatters with ``np.add.at`` after moving each axis to the front; the constant modes write
the whole output twice (fill, then copy). Here, for non-negative pads (every real use; a
negative pad, a crop, keeps the textbook path):

* forward: ``y = empty``; the input is copied into its place once; then, axis by axis, each
  border position ``j`` copies the slab at its source position ``src[j] + lo`` (a position
  inside the copied input along that axis, over the whole extent of the other axes, whose
  borders the earlier axes have already filled), or is filled with the constant;
* backward, the adjoint in reverse axis order on a copy of ``dy``: each border slab is added
  into its source slab (the edge pixel of replicate collects all its copies; reflect's and
  circular's mirror images land on their originals), then the input's part is cut out.

Only ``2 * pad`` slab copies per axis run in Python, so the cost is two passes over the
output either way. Measured (forward+backward, float32, one thread, CPU time, load ~6 on 2
cores; ``lockstep bench``), textbook -> here, torch alongside:

    ZeroPad2d(2) on 32x64x32x32          16.1 -> 3.3 ms   (torch 2.9)
    ReflectionPad2d(2) on 32x64x32x32    22.2 -> 5.1 ms   (torch 5.3)
    ReplicationPad3d(2) on 8x32x16^3     18.2 -> 5.5 ms   (torch 4.1)
    CircularPad1d(2) on 32x64x1024       13.1 -> 2.7 ms   (torch 6.4)

(the first column from the bench before this module; tests/test_speed_paths.py checks both
paths agree to the bit on every mode, rank and pad.)
"""
from __future__ import annotations

import numpy as np


def applies(pads) -> bool:
    """Whether the fast path handles ``pads`` (no negative side: nothing is cropped)."""
    return all(lo >= 0 and hi >= 0 for lo, hi in pads)


def _slab(ndim: int, ax: int, idx) -> tuple:
    return (slice(None),) * ax + (idx,) + (slice(None),) * (ndim - ax - 1)


def pad(x: np.ndarray, pads, mode: str, value: float, source_index) -> np.ndarray:
    """``padding.pad_forward`` for non-negative ``pads``; ``source_index`` is its rule."""
    lead = x.ndim - len(pads)
    out_shape = x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in
                                       zip(x.shape[lead:], pads))
    y = np.empty(out_shape, x.dtype)
    y[(Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[lead:], pads))] = x
    for ax, (lo, hi) in enumerate(pads, start=lead):
        size = x.shape[ax]
        src = source_index(size, lo, hi, mode)
        for j in (*range(lo), *range(lo + size, lo + size + hi)):     # the border positions
            if mode == "constant":
                y[_slab(y.ndim, ax, j)] = value
            else:
                y[_slab(y.ndim, ax, j)] = y[_slab(y.ndim, ax, int(src[j]) + lo)]
    return y


def pad_grad(dy: np.ndarray, pads, mode: str, sizes, source_index) -> np.ndarray:
    """``padding.pad_backward`` for non-negative ``pads``: the adjoint of :func:`pad`."""
    lead = dy.ndim - len(pads)
    core = (Ellipsis,) + tuple(slice(lo, lo + s) for s, (lo, _) in zip(sizes, pads))
    if mode == "constant":                       # the border was a constant: no gradient
        return np.ascontiguousarray(dy[core])
    g = dy.copy()
    for ax, (lo, hi), size in reversed(list(zip(range(lead, dy.ndim), pads, sizes))):
        src = source_index(size, lo, hi, mode)
        for j in reversed((*range(lo), *range(lo + size, lo + size + hi))):
            g[_slab(g.ndim, ax, int(src[j]) + lo)] += g[_slab(g.ndim, ax, j)]
    return np.ascontiguousarray(g[core])
