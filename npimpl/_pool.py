"""Pooling machinery shared by MaxPool1d/2d, AvgPool2d and the adaptive pools.

Every pool here gathers its windows with one fancy index per spatial axis,
``pos[o, k]`` (the input row read by output ``o`` at kernel offset ``k``), so
plain, dilated, ceil-mode and adaptive windows are the same code. No Python
loop runs over batch, channels or output pixels.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np


class Axis(NamedTuple):
    pos: np.ndarray         # (O, K) int: input index read by output o at kernel offset k
    valid: np.ndarray       # (O, K) bool: the index lies inside the input (not padding)
    size: int               # input size along this axis


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
    return Axis(pos, (pos >= 0) & (pos < size), size)


def adaptive_axis(size, out) -> Axis:
    """Window ``o`` covers ``[floor(o*S/O), ceil((o+1)*S/O))``; windows differ in length,
    so all get the longest length K and the slots past a window's end are marked invalid."""
    o = np.arange(out)
    start, end = (o * size) // out, ((o + 1) * size + out - 1) // out
    k = int((end - start).max())
    pos = start[:, None] + np.arange(k)[None, :]                           # (O, K)
    return Axis(pos, pos < end[:, None], size)


def gather(x: np.ndarray, axes, fill) -> np.ndarray:
    """``win[n, c, o.., k..] = x[n, c, pos..]`` (``fill`` where invalid): ``(N, C, *O, *K)``."""
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

    The kernel scans a window in row-major order and updates on ``val > maxval ||
    isnan(val)``: the *first* of tied maxima wins, and a NaN wins over everything
    (the *last* NaN, since each NaN updates again).
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
    win = gather(x, axes, -np.inf)
    outs = tuple(a.pos.shape[0] for a in axes)
    flat = win.reshape(n, c, *outs, -1)                                  # (N, C, *O, prod(K))
    k = torch_argmax(flat)                                               # (N, C, *O)
    y = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    ks = np.unravel_index(k, tuple(a.pos.shape[1] for a in axes))
    idx = np.zeros(k.shape, np.int64)
    for i, (a, ki) in enumerate(zip(axes, ks)):
        shape = [1] * len(axes)
        shape[i] = -1
        o = np.arange(a.pos.shape[0]).reshape(shape)
        p = a.pos[o, ki]
        # a window whose valid values are all -inf: torch keeps its initial index, the
        # first valid position of the window (ours may have landed on the padding)
        first_valid = a.pos[np.arange(a.pos.shape[0]), np.argmax(a.valid, axis=1)].reshape(shape)
        p = np.where(a.valid[o, ki], p, first_valid)
        idx = idx * a.size + p
    return y, idx


def scatter_max_grad(dy: np.ndarray, idx: np.ndarray, in_shape) -> np.ndarray:
    """``dx[n, c, idx] += dy``: each output's gradient goes to the one input it took.

    ``bincount`` sums the contributions of overlapping windows (in float64, then cast)."""
    n, c = in_shape[:2]
    s = int(np.prod(in_shape[2:]))
    flat = (np.arange(n * c).reshape(n, c, *(1,) * (idx.ndim - 2)) * s + idx).ravel()
    dx = np.bincount(flat, weights=dy.ravel(), minlength=n * c * s)
    return dx.astype(dy.dtype, copy=False).reshape(in_shape)


def scatter_windows(g: np.ndarray, axes, in_shape) -> np.ndarray:
    """Adjoint of :func:`gather` (``(N, C, *O, *K)`` → ``(N, C, *S)``), invalid slots dropped.

    A sum over windows is the transposed convolution with a ones kernel; written as one
    ``bincount`` over the window positions, so overlapping windows add up."""
    n, c = in_shape[:2]
    if len(axes) == 1:
        (a,) = axes
        sp, valid = a.pos, a.valid
    else:
        a, b = axes
        sp = a.pos[:, None, :, None] * b.size + b.pos[None, :, None, :]  # (Oh, Ow, Kh, Kw)
        valid = a.valid[:, None, :, None] & b.valid[None, :, None, :]
    s = int(np.prod(in_shape[2:]))
    base = (np.arange(n * c) * s).reshape(n, c, *(1,) * sp.ndim)
    flat = (base + np.where(valid, sp, 0))[:, :, valid]                  # (N, C, n_valid)
    w = g[:, :, valid]
    dx = np.bincount(flat.ravel(), weights=w.ravel(), minlength=n * c * s)
    return dx.astype(g.dtype, copy=False).reshape(in_shape)
