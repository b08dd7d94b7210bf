"""Pooling machinery shared by MaxPool1d/2d, AvgPool2d and the adaptive pools.

Each spatial axis is described by ``pos[o, k]``, the input index read by output
``o`` at kernel offset ``k`` (negative or past the end: padding). Regular
(sliding) windows are read through a zero-copy strided view of the padded
input, adaptive ones (irregular lengths) by one fancy index per axis; the rest
(argmax, indices, scatter) is shared. No Python loop runs over batch, channels
or output pixels; window sums loop over the kernel offsets (see ``window_sum``).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _im2col as im


class Axis(NamedTuple):
    pos: np.ndarray         # (O, K) int: input index read by output o at kernel offset k
    valid: np.ndarray       # (O, K) bool: the index lies inside the input (not padding)
    size: int               # input size along this axis
    stride: int | None = None    # sliding windows: pos = o*stride - pad + k*dilation
    dilation: int | None = None
    pad: int = 0


def pool_out_size(size, k, stride, pad, dilation, ceil_mode) -> int:
    """torch's pooling output size: floor (or ceil) of the window count, but with ceil_mode
    the last window must start inside the input or its left padding."""
    span = size + 2 * pad - dilation * (k - 1) - 1
    out = (-(-span // stride) if ceil_mode else span // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + pad:
        out -= 1
    return out


def sliding_axis(size, k, stride, pad, dilation, ceil_mode) -> Axis:
    o = np.arange(pool_out_size(size, k, stride, pad, dilation, ceil_mode))
    pos = o[:, None] * stride - pad + np.arange(k)[None, :] * dilation   # (O, K)
    return Axis(pos, (pos >= 0) & (pos < size), size, stride, dilation, pad)


def adaptive_axis(size, out) -> Axis:
    """Window ``o`` covers ``[floor(o*S/O), ceil((o+1)*S/O))``; windows differ in length,
    so all get the longest length K and the slots past a window's end are marked invalid."""
    o = np.arange(out)
    start, end = (o * size) // out, ((o + 1) * size + out - 1) // out
    k = int((end - start).max())
    pos = start[:, None] + np.arange(k)[None, :]                           # (O, K)
    return Axis(pos, pos < end[:, None], size)


def padded(x: np.ndarray, axes, fill) -> np.ndarray:
    """``x`` padded with ``fill`` so that every sliding window of ``axes`` lies inside it."""
    pads = [(a.pad, int(a.pos[-1, -1]) + 1 - a.size) for a in axes]   # hi < 0: crop
    if fill == 0:
        return im.pad_or_crop(x, pads)
    out = np.full(x.shape[:2] + tuple(s + lo + max(hi, 0) for s, (lo, hi) in
                                      zip(x.shape[2:], pads)), fill, x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                           zip(x.shape[2:], pads))] = x
    return out


def gather(x: np.ndarray, axes, fill) -> np.ndarray:
    """``win[n, c, o.., k..] = x[n, c, pos..]`` (``fill`` where invalid): ``(N, C, *O, *K)``.

    Sliding axes: a strided view of the padded input (no copy); adaptive: fancy indexing."""
    if all(a.stride is not None for a in axes):
        return im.windows(padded(x, axes, fill), tuple(a.pos.shape[1] for a in axes),
                          tuple(a.stride for a in axes), tuple(a.dilation for a in axes))
    if len(axes) == 1:
        (a,) = axes
        win = x[:, :, np.clip(a.pos, 0, a.size - 1)]                     # (N, C, O, K)
        return np.where(a.valid, win, fill) if not a.valid.all() else win
    a, b = axes
    ph, pw = np.clip(a.pos, 0, a.size - 1), np.clip(b.pos, 0, b.size - 1)
    win = x[:, :, ph[:, None, :, None], pw[None, :, None, :]]            # (N, C, Oh, Ow, Kh, Kw)
    valid = a.valid[:, None, :, None] & b.valid[None, :, None, :]        # (Oh, Ow, Kh, Kw)
    return np.where(valid, win, fill) if not valid.all() else win


def torch_argmax(win: np.ndarray) -> np.ndarray:
    """Index along the last axis of the value torch's CPU pooling kernel picks.

    The kernel scans a window in row-major order from ``max = -inf`` and updates on
    ``val > max || isnan(val)``: the *first* of tied maxima wins (``np.argmax`` agrees),
    a NaN wins over everything (the *last* NaN, since each NaN updates again; ``np.argmax``
    would take the first), and a window of all -inf keeps offset 0.
    """
    k = np.argmax(win, axis=-1)                      # first max (or first NaN)
    nan = np.isnan(win)
    if nan.any():
        last_nan = win.shape[-1] - 1 - np.argmax(nan[..., ::-1], axis=-1)
        k = np.where(nan.any(axis=-1), last_nan, k)
    return k


def max_pool(x: np.ndarray, axes):
    """Max over each window: returns ``(y, idx)`` with ``idx`` the flat index into the
    input's spatial dims (torch's ``return_indices``) of the chosen element."""
    n, c = x.shape[:2]
    win = gather(x, axes, -np.inf)                                       # (N, C, *O, *K)
    outs = tuple(a.pos.shape[0] for a in axes)
    flat = win.reshape(n, c, *outs, int(np.prod(win.shape[2 + len(axes):])))  # (N, C, *O, prod(K))
    # argmax over a copied (..., prod(K)) array measured faster than a vectorised scan
    # over the kernel offsets of the strided view (30 vs 45 ms at the bench size)
    k = np.argmax(flat, axis=-1)                                         # first max
    y = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    if np.isnan(y).any():     # argmax took a window's first NaN; torch takes its last
        k = torch_argmax(flat)
        y = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    ks = np.unravel_index(k, tuple(a.pos.shape[1] for a in axes))
    idx = np.zeros(k.shape, np.int64)
    for i, (a, ki) in enumerate(zip(axes, ks)):
        shape = [1] * len(axes)
        shape[i] = -1
        o = np.arange(a.pos.shape[0]).reshape(shape)
        if a.stride is not None:
            p = o * a.stride - a.pad + ki * a.dilation                   # (N, C, *O)
        else:
            p = a.pos[o, ki]
        if not a.valid.all():
            # a window whose valid values are all -inf: torch keeps its initial index, the
            # first valid position of the window (ours may have landed on the padding)
            bad = (p < 0) | (p >= a.size)
            if bad.any():
                first = a.pos[np.arange(a.pos.shape[0]), np.argmax(a.valid, axis=1)]
                p = np.where(bad, first.reshape(shape), p)
        idx = idx * a.size + p
    return y, idx


def scatter_max_grad(dy: np.ndarray, idx: np.ndarray, axes, in_shape) -> np.ndarray:
    """``dx[n, c, idx] += dy``: each output's gradient goes to the one input it took.

    Windows that cannot overlap (stride at least the dilated kernel) pick distinct inputs,
    so a plain ``put`` does; otherwise ``bincount`` sums what overlapping windows sent to
    the same input (in float64, then cast back)."""
    n, c = in_shape[:2]
    s = int(np.prod(in_shape[2:]))
    disjoint = all(a.stride is not None and a.stride >= a.dilation * (a.pos.shape[1] - 1) + 1
                   for a in axes)
    if disjoint:
        dx = np.zeros((n, c, s), dy.dtype)
        m = int(np.prod(idx.shape[2:]))
        np.put_along_axis(dx, idx.reshape(n, c, m), dy.reshape(n, c, m), axis=-1)
        return dx.reshape(in_shape)
    flat = (np.arange(n * c).reshape(n, c, *(1,) * (idx.ndim - 2)) * s + idx).ravel()
    dx = np.bincount(flat, weights=dy.ravel(), minlength=n * c * s)
    return dx.astype(dy.dtype, copy=False).reshape(in_shape)


def window_sum(x: np.ndarray, axes) -> np.ndarray:
    """``y[n, c, o] = sum_k x_pad[n, c, o*stride + k]`` (zero padding), for sliding axes.

    A loop over the kernel offsets, each one strided add over the whole batch: cheaper
    than summing the 6-D window view (whose innermost axes are the short kernel ones)."""
    xp = padded(x, axes, 0)
    outs = tuple(a.pos.shape[0] for a in axes)
    y = np.zeros(x.shape[:2] + outs, x.dtype)
    for ks in np.ndindex(*(a.pos.shape[1] for a in axes)):
        y += xp[(slice(None), slice(None)) + tuple(
            slice(k * a.dilation, k * a.dilation + (o - 1) * a.stride + 1, a.stride)
            for k, a, o in zip(ks, axes, outs))]
    return y


def window_sum_grad(g: np.ndarray, axes, in_shape) -> np.ndarray:
    """The adjoint of :func:`window_sum`: every output sends ``g`` to each input of its window
    (a transposed convolution with a ones kernel: an overlap-add over the kernel offsets)."""
    outs = g.shape[2:]
    sizes = tuple(a.pad + max(a.size, int(a.pos[-1, -1]) + 1) for a in axes)
    dxp = np.zeros(g.shape[:2] + sizes, g.dtype)
    for ks in np.ndindex(*(a.pos.shape[1] for a in axes)):
        dxp[(slice(None), slice(None)) + tuple(
            slice(k * a.dilation, k * a.dilation + (o - 1) * a.stride + 1, a.stride)
            for k, a, o in zip(ks, axes, outs))] += g
    return dxp[(slice(None), slice(None)) + tuple(slice(a.pad, a.pad + a.size) for a in axes)]


def adaptive_matrix(axis: Axis, dtype) -> np.ndarray:
    """0/1 matrix ``M[o, s]``: input ``s`` lies in adaptive window ``o`` (``(O, S)``)."""
    m = np.zeros((axis.pos.shape[0], axis.size), dtype)
    o = np.broadcast_to(np.arange(axis.pos.shape[0])[:, None], axis.pos.shape)
    m[o[axis.valid], axis.pos[axis.valid]] = 1
    return m
