"""Pooling machinery shared by the max, average, power-average and adaptive pools (1-3 D).

Each spatial axis is described by ``pos[o, k]``, the input index read by output
``o`` at kernel offset ``k`` (negative or past the end: padding). Max pooling over
regular (sliding) windows loops over the kernel offsets: for each offset the
inputs it reads form one strided view of the input, compared with the running
maximum of every window at once (``sliding_max``); padding counts as -inf. Window
sums loop over the offsets of a zero-padded input (``window_sum``). Adaptive
windows (irregular lengths) are copied out by one fancy index per axis
(``gather``). Max pools remember the kernel offset each window chose (a small
int); torch's flat indices and the gradient scatter are built from it
(``flat_index``, ``scatter_max_grad``). No Python loop runs over batch, channels
or output pixels.
"""
from __future__ import annotations

from functools import lru_cache
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


def padded(x: np.ndarray, axes) -> np.ndarray:
    """``x`` zero-padded (or cropped) so that every sliding window of ``axes`` lies inside it."""
    return im.pad_or_crop(x, [(a.pad, int(a.pos[-1, -1]) + 1 - a.size) for a in axes])


def gather(x: np.ndarray, axes, fill) -> np.ndarray:
    """``win[n, c, o.., k..] = x[n, c, pos..]`` (``fill`` where invalid): ``(N, C, *O, *K)``,
    for adaptive axes, by one fancy index (the per-axis index arrays broadcast to
    ``(*O, *K)``): a copy of every window."""
    nd = len(axes)
    idx, valid = [], np.ones((1,) * 2 * nd, bool)
    for i, a in enumerate(axes):
        shape = [1] * 2 * nd
        shape[i], shape[nd + i] = a.pos.shape                            # (O_i at i, K_i at nd+i)
        idx.append(np.clip(a.pos, 0, a.size - 1).reshape(shape))
        valid = valid & a.valid.reshape(shape)
    win = x[(slice(None), slice(None)) + tuple(idx)]                     # (N, C, *O, *K)
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


def offset_slices(a: Axis, k: int):
    """``(out, inp)``: the outputs whose kernel offset ``k`` reads a real input (not padding)
    and the inputs they read, as two slices, ``x[inp]`` lining up with ``y[out]``; ``None``
    when offset ``k`` only ever reads padding. The outputs are consecutive because
    ``pos[o, k] = o*stride - pad + k*dilation`` grows with ``o``."""
    valid = a.valid[:, k]                                                # (O,)
    count = int(valid.sum())
    if count == 0:
        return None
    o0 = int(np.argmax(valid))                                           # first valid output
    i0 = int(a.pos[o0, k])
    return slice(o0, o0 + count), slice(i0, i0 + (count - 1) * a.stride + 1, a.stride)


def sliding_max(x: np.ndarray, axes):
    """Max over each sliding window: ``(y, arg)``, ``arg`` the flat kernel offset (row-major
    over the kernel) of the input each window chose, in the smallest unsigned int dtype.

    torch's CPU kernel, scanned for every window at once: start each window at
    ``max = -inf`` and its first offset past the left padding, then visit the offsets in
    row-major order and move the choice only where ``val > max`` (strict: the FIRST of
    tied maxima stays; padding reads as -inf, which never beats -inf, so a window of all
    -inf keeps its first real input). Each offset reads one strided view of ``x``, copied
    once into a contiguous ``tap`` buffer: the comparisons then run over whole contiguous
    arrays (on the strided view every numpy op would pay again for its short rows).
    A NaN makes the running max NaN; torch's ``|| isnan(val)`` then picks each window's
    LAST NaN, which a second pass over the offsets, run only when a NaN showed, sets.
    """
    n, c = x.shape[:2]
    outs = tuple(a.pos.shape[0] for a in axes)
    kernel = tuple(a.pos.shape[1] for a in axes)
    y = np.full((n, c) + outs, -np.inf, x.dtype)                         # (N, C, *O)
    arg = np.empty(y.shape, np.min_scalar_type(int(np.prod(kernel)) - 1))
    # torch's initial choice: along each axis the first offset past the left padding (the
    # first real input; past the end only in a window that reads nothing but padding,
    # where torch's index points past the input too, see real_windows)
    arg[...] = np.ravel_multi_index(np.ix_(*(np.argmax(a.pos >= 0, axis=1) for a in axes)), kernel)
    tap = np.empty_like(y)                 # x at one kernel offset of every window
    new, k_new = np.empty(y.shape, bool), np.empty_like(arg)
    blocks = []
    for k, ks in enumerate(np.ndindex(*kernel)):                        # k: flat offset
        sl = [offset_slices(a, kk) for a, kk in zip(axes, ks)]
        if None in sl:
            continue
        out, inp = zip(*sl)
        out, v = (slice(None), slice(None)) + out, x[(slice(None), slice(None)) + inp]
        if tap[out].size < tap.size:       # some windows read padding at this offset
            tap.fill(-np.inf)
        tap[out] = v                                                     # (N, C, *O)
        np.greater(tap, y, out=new)                                      # strictly greater
        # the running max: on a tie maximum may return either operand, which only shows as
        # the sign of a +0/-0 tie (numpy on x86 keeps its second operand, y, as torch does)
        np.maximum(tap, y, out=y)
        # arg = k where ``new``: offsets only grow, so a max of arg and k*new does it
        np.maximum(arg, np.multiply(new, k, out=k_new, dtype=arg.dtype), out=arg)
        blocks.append((k, v, arg[out]))
    if np.isnan(y).any():
        for k, v, a_out in blocks:   # ascending k: the last NaN of a window is written last
            np.copyto(a_out, k, where=np.isnan(v))
    return y, arg


def gathered_max(x: np.ndarray, axes):
    """Max over adaptive windows: ``(y, arg)`` as :func:`sliding_max`, over a copy of every
    window (``gather``, -inf where a window is shorter than the longest) and one argmax.
    A window's first slot is always a real input, so -inf filling never wins."""
    n, c = x.shape[:2]
    win = gather(x, axes, -np.inf)                                       # (N, C, *O, *K)
    outs = tuple(a.pos.shape[0] for a in axes)
    k_all = int(np.prod(win.shape[2 + len(axes):]))     # not -1: N may be 0
    flat = win.reshape(n, c, *outs, k_all)                               # (N, C, *O, prod(K))
    k = np.argmax(flat, axis=-1)                                         # first max
    y = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    if np.isnan(y).any():     # argmax took a window's first NaN; torch takes its last
        k = torch_argmax(flat)
        y = np.take_along_axis(flat, k[..., None], axis=-1)[..., 0]
    return y, k


def flat_index(arg: np.ndarray, axes) -> np.ndarray:
    """torch's ``return_indices``: the flat index (``h*W + w``) into the input's spatial dims
    of the input each window chose, from its flat kernel offset ``arg`` (``(N, C, *O)``).

    Along one axis the chosen input is ``pos[o, 0] + k*dilation`` (the window's start plus
    the offset; adaptive windows have dilation 1), so the flat index is the window's flat
    start plus a per-offset table: ``start[o] + table[arg]``."""
    kernel = tuple(a.pos.shape[1] for a in axes)
    start, table = np.zeros((), np.int64), np.zeros((), np.int64)     # torch: int64
    for i, a in enumerate(axes):
        step = int(np.prod([b.size for b in axes[i + 1:]]))      # flat elements per step along a
        shape = [1] * len(axes)
        shape[i] = -1
        start = start + (a.pos[:, 0] * step).reshape(shape)             # (*O)
        table = table + (np.arange(kernel[i]) * (a.dilation or 1) * step).reshape(shape)  # (*K)
    idx = table.ravel()[arg]                                             # (N, C, *O)
    idx += start
    return idx


def real_windows(axes) -> np.ndarray:
    """``(*O)`` bool: the window reads at least one real input. False only where dilation
    steps over a tiny input (taps -1 and 1 of a size-1 axis): torch outputs -inf there
    and an index past the input, which its backward would write to; ours drops it."""
    real = np.ones((1,) * len(axes), bool)
    for i, a in enumerate(axes):       # an outer AND over the axes (np.ix_ would take
        shape = [1] * len(axes)        # booleans for indices)
        shape[i] = -1
        real = real & a.valid.any(axis=1).reshape(shape)
    return real


def scatter_add(dy: np.ndarray, idx: np.ndarray, in_shape) -> np.ndarray:
    """``dx[n, c, idx[n, c, o..]] += dy[n, c, o..]``, ``idx`` flat over the spatial dims.

    ``np.add.at`` adds in output order, as torch's CPU kernels do, so where several outputs
    took the same input the sum is rounded exactly like torch's (and stays in the input's
    dtype)."""
    n, c = in_shape[:2]
    s = int(np.prod(in_shape[2:]))
    flat = idx + (np.arange(n * c) * s).reshape((n, c) + (1,) * (idx.ndim - 2))  # + each (n, c)
    dx = np.zeros(n * c * s, dy.dtype)
    np.add.at(dx, flat.ravel(), dy.ravel())
    return dx.reshape(in_shape)


def scatter_max_grad(dy: np.ndarray, arg: np.ndarray, axes, in_shape) -> np.ndarray:
    """``dx[n, c, idx] += dy``: each output's gradient goes to the one input it took
    (``idx = flat_index(arg, axes)``, added by :func:`scatter_add`). Windows that read no
    real input send nothing."""
    idx = flat_index(arg, axes)                                          # (N, C, *O)
    real = real_windows(axes)                                            # (*O)
    if not real.all():
        dy, idx = dy[:, :, real], idx[:, :, real]                        # (N, C, #real)
    return scatter_add(dy, idx, in_shape)


def window_sum(x: np.ndarray, axes) -> np.ndarray:
    """``y[n, c, o] = sum_k x_pad[n, c, o*stride + k]`` (zero padding), for sliding axes.

    A loop over the kernel offsets, each one strided add over the whole batch: cheaper
    than summing the 6-D window view (whose innermost axes are the short kernel ones)."""
    xp = padded(x, axes)
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


def _frozen(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


@lru_cache(maxsize=128)
def adaptive_plan(sizes: tuple, outs: tuple, dtype: np.dtype):
    """``(axes, mats, div)`` of an adaptive pool from ``sizes`` to ``outs``: the windows per
    axis, their 0/1 matrices ``(O_i, S_i)`` and the window sizes' outer product ``(*O)``.
    Cached (read-only arrays): a pure function of the shapes, whose construction cost more
    than the pooling itself at a small size (AdaptiveAvgPool2d(1) on 2x3x8x8)."""
    axes = tuple(Axis(_frozen(a.pos), _frozen(a.valid), a.size)
                 for a in (adaptive_axis(s, o) for s, o in zip(sizes, outs)))
    mats = tuple(_frozen(adaptive_matrix(a, dtype)) for a in axes)
    div = np.ones((1,) * len(axes), dtype)
    for i, m in enumerate(mats):
        div = div * m.sum(1).reshape([-1 if j == i else 1 for j in range(len(axes))])
    return axes, mats, _frozen(div)


def along(x: np.ndarray, m: np.ndarray, i: int) -> np.ndarray:
    """``y[.., o, ..] = sum_s m[o, s] x[.., s, ..]`` along spatial axis ``i`` of ``x``
    ``(N, C, *S)``: one matmul, ``x @ m^T`` for the last axis, else ``m @ x`` with the
    axes after ``i`` folded into one (a view), so no axis is moved."""
    n, c, *sizes = x.shape
    if i == len(sizes) - 1:
        return x @ m.T
    before, after = sizes[:i], int(np.prod(sizes[i + 1:]))
    y = m @ x.reshape(n, c, *before, sizes[i], after)                    # (.., O_i, after)
    return y.reshape(n, c, *before, m.shape[0], *sizes[i + 1:])
