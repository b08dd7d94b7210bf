"""Sliding windows: the one piece of machinery every convolution and pooling layer shares.

A 1-D or 2-D convolution is, after a zero-copy strided *view* of the input
(``windows``), one batched matrix product (``conv_valid``). Its input gradient
is the transposed convolution (``conv_transpose``): mathematically again a
convolution (of the upstream gradient, dilated by the stride, with the flipped,
transposed kernel: ``conv_transpose_as_conv``), computed as its scatter twin
``col2im``; its weight gradient is a matrix product with the columns the
forward already built. ``conv_valid`` and ``col2im`` are each other's adjoints:
Conv2d runs the first forward and the second backward, ConvTranspose2d the
other way round. Nothing here loops over batch, channels or output pixels in
Python (``col2im`` loops over the kh*kw kernel offsets; see ``conv_transpose``).
For stride 1 and one group, Conv's input gradient takes the gather form instead
(``input_grad_rows``): channels-last rows of ``dy`` read in place by one batched
matmul, no window copied. A depthwise Conv at stride 1 (one input channel per group, a
small channel multiplier: ``conv.is_depthwise``) uses none of this: ``_depthwise`` does
its three passes as banded matmuls, because the columns here would be ``prod(K)`` copies
of the input for a ``prod(K)``-long product (at a larger stride, its input gradient).

Layout: inputs are ``(N, C, *S)`` with one, two or three spatial dims ``S``; the
weight is torch's ``(C_out, C_in / groups, *K)``.
"""
from __future__ import annotations

from functools import lru_cache
from math import prod
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided


def out_size(size: int, k: int, stride: int, dilation: int) -> int:
    """Number of windows of extent ``dilation*(k-1)+1`` that fit in ``size`` at ``stride``."""
    return (size - dilation * (k - 1) - 1) // stride + 1


def windows(x: np.ndarray, kernel, stride, dilation) -> np.ndarray:
    """A read-only strided view ``(N, C, *O, *K)`` of every window of ``x`` ``(N, C, *S)``.

    ``view[n, c, o.., k..] = x[n, c, o*stride + k*dilation ..]``; no data is copied
    (``sliding_window_view`` has no stride or dilation, so this is ``as_strided``).
    """
    sp = x.shape[2:]
    outs = tuple(out_size(s, k, st, d) for s, k, st, d in zip(sp, kernel, stride, dilation))
    st_sp = x.strides[2:]
    shape = x.shape[:2] + outs + tuple(kernel)
    strides = (x.strides[:2] + tuple(s * st for s, st in zip(st_sp, stride))
               + tuple(s * d for s, d in zip(st_sp, dilation)))
    return as_strided(x, shape, strides, writeable=False)


def im2col(x: np.ndarray, kernel, stride, dilation, groups: int, ones: bool = False):
    """Copy the windows of ``x`` into columns ``(N, G, C/G * prod(K), prod(O))``.

    The order ``(c, k..)`` of a column matches a row of the weight ``(C_out, C/G, *K)``
    flattened, and the pixel axis is last so that ``W @ cols`` lands directly in
    ``(N, C_out, *O)`` (NCHW) without a transpose. With ``ones`` each group gets one more
    row of ones (``C/G * prod(K) + 1`` rows): the bias then rides in the forward's matmul
    as one more weight column, and its gradient falls out of the weight gradient's.
    """
    n, c = x.shape[:2]
    v = windows(x, kernel, stride, dilation)                  # (N, C, *O, *K)
    d = len(kernel)
    outs = v.shape[2:2 + d]
    perm = (0, 1, *range(2 + d, 2 + 2 * d), *range(2, 2 + d))
    rows = (c // groups) * prod(kernel)
    # prod(outs), not -1: with an empty batch (N = 0) numpy cannot infer a -1
    cols = np.empty((n, groups, rows + ones, prod(outs)), x.dtype)
    # (N, G, C/G, *K, *O) only splits axes of cols, so it is a view of it, written in place
    target = cols[:, :, :rows].reshape(n, groups, c // groups, *kernel, *outs)
    target[...] = v.transpose(perm).reshape(target.shape)            # the one copy
    if ones:
        cols[:, :, rows] = 1
    return cols, outs


def conv_valid(x: np.ndarray, w: np.ndarray, stride, dilation, groups: int, b=None):
    """Unpadded ("valid") convolution: ``y[n, o, p] = sum_{c,k} w[o, c, k] x[n, c, p*s + k*d] (+ b[o])``.

    Returns ``(y, cols)``; ``cols`` ``(N, G, C/G * prod(K) (+1), prod(O))`` is what the weight
    gradient needs. One ``matmul`` (batched over N and groups) does all the arithmetic; a
    bias ``b`` is one more weight column against a row of ones in ``cols`` (see
    :func:`im2col`), which saves a pass over ``y`` here and over ``dy`` in the backward.
    """
    n = x.shape[0]
    c_out = w.shape[0]
    kernel = w.shape[2:]
    cols, outs = im2col(x, kernel, stride, dilation, groups, ones=b is not None)
    wg = w.reshape(groups, c_out // groups, -1)                # (G, C_out/G, C/G*prod(K))
    if b is not None:
        wg = np.concatenate([wg, b.reshape(groups, c_out // groups, 1)], axis=2)
    with np.errstate(invalid="ignore"):    # inf - inf = NaN, as torch's sum gives: no warning
        y = np.matmul(wg, cols)                                # (N, G, C_out/G, prod(O))
    return y.reshape(n, c_out, *outs), cols


def conv_weight_grad(dy: np.ndarray, cols: np.ndarray, w_shape):
    """``dW[o, c, k] = sum_{n,p} dy[n, o, p] cols[n, c k, p]``: a matmul with the cached columns.

    Computed transposed, ``dW^T = sum_n cols[n] @ dy[n]^T``: the same products and flops,
    but OpenBLAS runs this orientation (the long pixel axis ``P`` contracted with the
    C-contiguous ``cols`` on the left) markedly faster: 3.5 ms against 5.1 ms for
    ``dy @ cols^T`` at the bench's Conv2d(16, 32, 3, padding=1) on 32x16x32x32, one thread.
    Returns ``(dW, db)``: if ``cols`` carries the row of ones of a bias (:func:`im2col`),
    its product is ``db[o] = sum_{n,p} dy[n, o, p]``; otherwise ``db`` is None.
    """
    n, groups = cols.shape[:2]
    rows = w_shape[1] * prod(w_shape[2:])
    dyg = dy.reshape(n, groups, w_shape[0] // groups, cols.shape[3])  # (N, G, C_out/G, P)
    dwt = np.matmul(cols, dyg.transpose(0, 1, 3, 2)).sum(axis=0)  # (G, C/G*prod(K) (+1), C_out/G)
    dw = np.ascontiguousarray(dwt[:, :rows].transpose(0, 2, 1)).reshape(w_shape)
    return dw, (dwt[:, rows].reshape(-1) if cols.shape[2] > rows else None)


def pad_or_crop(x: np.ndarray, pads) -> np.ndarray:
    """Zero-pad the spatial dims of ``x`` by ``pads = [(lo, hi), ...]``; negative entries crop."""
    if all(lo == 0 and hi == 0 for lo, hi in pads):
        return x
    crop = tuple(slice(max(-lo, 0), s - max(-hi, 0)) for (lo, hi), s in zip(pads, x.shape[2:]))
    x = x[(slice(None), slice(None)) + crop]
    grow = [(max(lo, 0), max(hi, 0)) for lo, hi in pads]
    if all(g == (0, 0) for g in grow):
        return x
    # np.zeros + one slice assignment: several times faster than np.pad for this
    out = np.zeros(x.shape[:2] + tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], grow)),
                   x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(lo, lo + s) for s, (lo, _) in
                                           zip(x.shape[2:], grow))] = x
    return out


def dilate(x: np.ndarray, stride) -> np.ndarray:
    """Insert ``stride - 1`` zeros between the spatial elements of ``x`` (identity for stride 1)."""
    if all(s == 1 for s in stride):
        return x
    shape = x.shape[:2] + tuple((s - 1) * st + 1 for s, st in zip(x.shape[2:], stride))
    out = np.zeros(shape, x.dtype)
    out[(slice(None), slice(None)) + tuple(slice(None, None, st) for st in stride)] = x
    return out


def col2im(dy: np.ndarray, w: np.ndarray, stride, dilation, groups: int) -> np.ndarray:
    """The adjoint of :func:`conv_valid` in ``x``, as a scatter (overlap-add): for each
    kernel offset ``k``, ``W[:, :, k]^T dy`` (a batched matmul) is added at
    ``o*stride + k*dilation``.

    Output: the natural input size ``(O-1)*stride + dilation*(k-1) + 1`` per axis, as an
    ``(N, C, *S)`` view of a channels-last ``(N, G, *S, C/G)`` buffer (not C-contiguous;
    with groups > 1 the final reshape copies it back to NCHW).
    The Python loop runs over the ``prod(K)`` kernel offsets only (9 for a 3x3 kernel),
    each step one matmul and one strided add over the whole batch; one matmul per offset
    rather than one for all keeps each offset's ``(N, P, C)`` product small enough to add
    from cache (measured about 2x faster than a single ``(P, C*prod(K))`` product followed
    by the adds). Each product is ``dy^T W[:, :, k]`` (pixels x channels, ``dy^T`` a
    transposed view, no copy) added into the channels-last buffer, whose strided adds run
    over ``O_w * C/G`` contiguous elements instead of ``O_w``: 6.6 ms against 7.5 ms for
    ``W[:, :, k]^T dy`` into NCHW (median, interleaved, one thread, at the bench's
    Conv2d(16, 32, 3, padding=1) on 32x16x32x32). See :func:`conv_transpose` for why a
    scatter at all.
    """
    n, c_out = dy.shape[:2]
    cg, kernel, outs = w.shape[1], w.shape[2:], dy.shape[2:]
    cog = c_out // groups
    wk = np.ascontiguousarray(w.reshape(groups, cog, cg, -1).transpose(3, 0, 1, 2))  # (K, G, C_out/G, C/G)
    dyt = dy.reshape(n, groups, cog, prod(outs)).transpose(0, 1, 3, 2)  # (N, G, P, C_out/G): a view
    sizes = tuple((o - 1) * s + d * (k - 1) + 1 for o, s, d, k in zip(outs, stride, dilation, kernel))
    dx = np.zeros((n, groups) + sizes + (cg,), dy.dtype)              # (N, G, *S, C/G): channels last
    dyg = dy.reshape(n, groups, cog, prod(outs))                      # (N, G, C_out/G, P)
    with np.errstate(invalid="ignore"):    # inf - inf = NaN, as torch's sum gives: no warning
        _overlap_add(dx, dyt, dyg, wk, kernel, stride, dilation, outs, cg)
    nd = len(sizes)
    dx = dx.transpose(0, 1, nd + 2, *range(2, nd + 2))                 # (N, G, C/G, *S): a view
    return dx.reshape(n, groups * cg, *sizes)


def _overlap_add(dx, dyt, dyg, wk, kernel, stride, dilation, outs, cg):
    """:func:`col2im`'s loop: per kernel offset one product, added at its strided place."""
    n, groups = dx.shape[:2]
    for flat, ks in enumerate(np.ndindex(*kernel)):
        sl = tuple(slice(k * d, k * d + (o - 1) * s + 1, s)
                   for k, d, o, s in zip(ks, dilation, outs, stride))
        if cg == 1:     # depthwise: N*G matmuls of (P, C_out/G) by (C_out/G, 1) are too
            # small for BLAS; one einsum per offset instead takes the whole input gradient of
            # the bench's Conv2d(32, 32, 3, padding=1, groups=32) from 28 ms to 12.5 ms
            part = np.einsum("ngop,go->ngp", dyg, wk[flat, :, :, 0])
        else:
            part = np.matmul(dyt, wk[flat])
        dx[(slice(None),) * 2 + sl] += part.reshape(n, groups, *outs, cg)


def conv_transpose(dy: np.ndarray, w: np.ndarray, stride, dilation, groups: int, pads):
    """The adjoint of :func:`conv_valid` in ``x``: ``dx[n, c, i] = sum_{o,k: p*s+k*d=i} w[o,c,k] dy[n,o,p]``.

    Computed by :func:`col2im` (scatter), then padded / cropped by ``pads = [(lo, hi), ...]``
    (negative crops: that is how a forward's padding is removed). Output size per axis:
    ``(O-1)*stride + dilation*(k-1) + 1 + lo + hi``.

    Mathematically this is itself a convolution (:func:`conv_transpose_as_conv`: dilate dy
    by the stride, pad by ``d*(k-1)``, convolve with the flipped, transposed kernel), and the
    tests check the two agree. The scatter form is the one used because it is faster here:
    its matmuls write ``C*prod(K)`` columns instead of gathering ``C_out*prod(K)`` (for
    Conv2d(16, 32, 3) that is half the memory traffic) and it never multiplies the zeros a
    stride inserts; measured 7 ms against 16 ms (best of 9, interleaved, one thread) for the
    input-gradient of the bench's Conv2d(16, 32, 3, padding=1) on 32x16x32x32. (That gather
    copied its windows; :func:`input_grad_rows`, the gather that reads them in place, beats
    both where it applies: stride 1, one group.)
    """
    return pad_or_crop(col2im(dy, w, stride, dilation, groups), pads)


def residue_windows(buf: np.ndarray, lead: tuple, lead_strides: tuple, width: int, span: int,
                    count: int) -> np.ndarray:
    """A read-only view ``lead + (span, count, span * width)`` of ``buf``: rows of ``width``
    values laid end to end from the start of ``buf``, and window ``m`` of residue ``r`` the
    ``span`` consecutive rows ``span*m + r ..``, one contiguous run. BLAS reads a matrix row
    in place only if rows do not overlap; windows of one residue never do, so ``matmul``
    takes each residue's ``(count, span * width)`` matrix without copying. ``lead`` axes
    (with their byte strides) index whatever else ``buf`` holds: samples, channels, blocks."""
    it = buf.itemsize
    return as_strided(buf, tuple(lead) + (span, count, span * width),
                      tuple(lead_strides) + (width * it, span * width * it, it), writeable=False)


def input_grad_rows(dy: np.ndarray, w: np.ndarray, dilation, start, size) -> np.ndarray:
    """dx of a stride-1, ``groups=1`` convolution with dilation 1 along the last axis, over the
    region ``[start, start + size)`` of the padded input, in the *gather* form
    ``dx[i.., j] = sum_{a.., b} Wf[a.., b]^T dyE[i + a*d .., j + b]``, ``Wf`` the kernel flipped
    in space, ``dyE`` ``dy`` embedded at offset ``(k-1)*d - start`` in a zero grid.

    The fast path of :func:`conv_transpose` (same result; the tests check it against
    :func:`col2im`). ``dyE`` is built once, channels-last and flat, ``(N, rows * C_out)``
    with rows the grid's positions in row-major order (``i*W_E + j`` in 2-D): the ``k_w``
    neighbours of a position along the last axis, all channels, are then one contiguous
    run of ``k_w * C_out`` values, so for each offset ``a..`` of the kernel along the
    leading axes (a kernel row in 2-D, a row of a kernel plane in 3-D) every window is a
    row of a matrix that BLAS can read in place, ``(k_w * C_out)`` wide against ``Wf[a..]``
    ``(k_w * C_out, C_in)``, and the offset ``a..`` only moves the matrix's start by a fixed
    number of grid rows. BLAS needs the rows of a matrix not to overlap, so the windows of
    positions ``q = k_w*m + r`` form one matrix per residue ``r`` (:func:`residue_windows`):
    an ``as_strided`` view ``(N, *K_lead, k_w, M, k_w * C_out)`` (sample, leading kernel
    offsets, residue, window, values) and one ``matmul`` over all of it, written
    residue-interleaved into ``(N, *K_lead, M, k_w, C_in)``; the sum over the leading
    kernel offsets gives dx. No window is copied and the per-sample order of the batched
    matmul keeps each sample's ``dyE`` in cache. Positions run over the whole grid (wider
    than ``dx`` by ``(k-1)*d`` along each axis); the surplus positions are dropped by the
    final view. 4.7 ms against 6.4 ms for :func:`col2im` (median, one thread, cold cache)
    for the input gradient of the bench's Conv2d(16, 32, 3, padding=1) on 32x16x32x32.
    Returns an ``(N, C_in, *size)`` view of a channels-last buffer. 1-D inputs are one row
    (no leading offsets), 3-D ones a stack of planes (two leading offsets).
    """
    g = _rows_geometry(dy.shape, w.shape, tuple(dilation), tuple(start), tuple(size),
                       dy.itemsize)
    n, c_out, c_in, nd = dy.shape[0], dy.shape[1], w.shape[1], w.ndim - 2
    dye = np.zeros((n, g.rows * c_out), dy.dtype)
    if g.dy_part is not None:
        grid = dye[:, :g.cells * c_out].reshape(n, *g.ext, c_out)
        grid[g.grid_part] = dy[g.dy_part].transpose(g.channels_last)
    win = residue_windows(dye, (n, *g.lead), (dye.strides[0], *g.lead_strides), c_out,
                          g.kw, g.m)
    wf = np.ascontiguousarray(w[g.flip].transpose(g.kernel_first))    # (*K, C_out, C_in)
    wf = wf.reshape(*g.lead, 1, g.kw * c_out, c_in)
    parts = np.empty((n, *g.lead, g.m, g.kw, c_in), dy.dtype)
    np.matmul(win, wf, out=parts.swapaxes(-3, -2))
    # (N, M, k_w, C_in): position q = k_w*m + r
    dx = parts if nd == 1 else parts.sum(axis=1) if nd == 2 else parts.sum(axis=(1, 2))
    return as_strided(dx, (n, c_in, *size), (dx.strides[0], dy.itemsize, *g.dx_strides))


class _RowsGeometry(NamedTuple):
    kw: int                 # the kernel's last extent: the width of a window, in grid rows
    m: int                  # windows per residue
    rows: int               # grid rows of dyE, with the zero tail the last window reads
    cells: int              # rows of the grid proper (prod(ext))
    ext: tuple              # the grid's extent per axis: size + (k-1)*d
    grid_part: tuple | None  # where dy lands in the grid (the part of it that does)
    dy_part: tuple | None   # that part of dy (None: dy lands wholly outside the region)
    channels_last: tuple    # dy's permutation to (N, *O, C_out)
    lead: tuple             # the leading kernel extents (all but the last)
    lead_strides: tuple     # byte strides of a step along each leading kernel offset
    flip: tuple             # the index that flips the kernel in space
    kernel_first: tuple     # the flipped kernel's permutation to (*K, C_out, C_in)
    dx_strides: tuple       # byte strides of dx's spatial axes in the (N, M, k_w, C_in) result


@lru_cache(maxsize=256)
def _rows_geometry(dy_shape, w_shape, dilation, start, size, itemsize) -> _RowsGeometry:
    """The shape bookkeeping of :func:`input_grad_rows`, a pure function of the shapes: cached,
    as at a small layer's size (Conv2d(3, 8, 3) on 2x3x8x8) recomputing it cost about as much
    as the arithmetic."""
    outs, (c_out, c_in), kernel = dy_shape[2:], w_shape[:2], w_shape[2:]
    nd, kw = len(kernel), kernel[-1]
    dil = tuple(dilation[:-1]) + (1,)                          # the last axis: dilation 1
    emb = [(k - 1) * d - s for k, d, s in zip(kernel, dil, start)]   # where dy[0..] lands
    ext = tuple(s + (k - 1) * d for s, k, d in zip(size, kernel, dil))   # the grid dyE
    step = [1] * nd                                            # grid rows per step along axis i
    for i in range(nd - 2, -1, -1):
        step[i] = step[i + 1] * ext[i + 1]
    cells = step[0] * ext[0]
    # positions q = sum_i idx_i*step_i up to dx's last one, in windows of k_w per residue
    m = -(-(sum((s - 1) * st for s, st in zip(size[:-1], step)) + size[-1]) // kw)
    reach = sum((k - 1) * d * st for k, d, st in zip(kernel[:-1], dil, step))
    lo = [max(0, -e) for e in emb]                             # dy's part that lands inside
    hi = [min(o, x - e) for o, x, e in zip(outs, ext, emb)]
    inside = all(h > l for l, h in zip(lo, hi))
    return _RowsGeometry(
        kw, m, max(cells, reach + kw * m + kw - 1), cells, ext,
        (slice(None),) + tuple(slice(e + l, e + h) for e, l, h in zip(emb, lo, hi)) if inside else None,
        (slice(None),) * 2 + tuple(slice(l, h) for l, h in zip(lo, hi)) if inside else None,
        (0, *range(2, nd + 2), 1), tuple(kernel[:-1]),
        tuple(d * st * c_out * itemsize for d, st in zip(dil[:-1], step)),
        (slice(None),) * 2 + (slice(None, None, -1),) * nd, (*range(2, nd + 2), 0, 1),
        tuple(st * c_in * itemsize for st in step))


def on_input(gather, sizes, pads, padding_mode: str) -> np.ndarray:
    """The input gradient of a padded convolution from ``gather(start, size)``, which computes
    it over the region ``[start, start + size)`` of the padded input: under zero padding
    the unpadded input's region directly (the pad's own gradient is never needed);
    otherwise the whole padded input, whose padded positions :func:`unpad_grad` then sends
    back to their sources."""
    if padding_mode == "zeros":
        return gather([lo for lo, _ in pads], list(sizes))
    padded = [s + lo + hi for s, (lo, hi) in zip(sizes, pads)]
    return unpad_grad(gather([0] * len(sizes), padded), pads, padding_mode, sizes)


def conv_transpose_as_conv(dy: np.ndarray, w: np.ndarray, stride, dilation, groups: int, pads):
    """:func:`conv_transpose` written as a convolution (the textbook identity, kept as the
    reference the tests compare against): ``dy`` dilated by the stride and padded by
    ``d*(k-1) + (lo, hi)``, convolved at stride 1 with the kernel flipped in space and
    transposed ``(C_out, C/G) -> (C/G, C_out)`` within each group, by :func:`conv_valid`."""
    c_out, cg = w.shape[:2]
    kernel = w.shape[2:]
    nd = len(kernel)
    wt = w.reshape(groups, c_out // groups, cg, *kernel).swapaxes(1, 2)   # (G, C/G, C_out/G, *K)
    wt = np.flip(wt, axis=tuple(range(3, 3 + nd))).reshape(groups * cg, c_out // groups, *kernel)
    full = [(d * (k - 1) + lo, d * (k - 1) + hi)
            for k, d, (lo, hi) in zip(kernel, dilation, pads)]
    z = pad_or_crop(dilate(dy, stride), full)
    return conv_valid(z, np.ascontiguousarray(wt), (1,) * nd, dilation, groups)[0]


# --- padding modes -----------------------------------------------------------------------------
_NP_MODES = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


def pad(x: np.ndarray, pads, mode: str) -> np.ndarray:
    """Pad the spatial dims by ``pads = [(lo, hi), ...]`` in one of torch's padding modes."""
    if mode == "zeros" or all(p == (0, 0) for p in pads):
        return pad_or_crop(x, pads)
    return np.pad(x, [(0, 0), (0, 0)] + list(pads), mode=_NP_MODES[mode])


def unpad_grad(g: np.ndarray, pads, mode: str, sizes) -> np.ndarray:
    """The gradient of :func:`pad`: each padded position sends its gradient to its source.

    For zeros the pad is cut off; for reflect / replicate / circular every output
    position ``i`` of an axis copied input ``src[i]`` (found by padding ``arange``), so the
    gradient is ``g`` times the 0/1 matrix ``P[i, src[i]]``, one axis at a time.
    """
    if mode == "zeros" or all(p == (0, 0) for p in pads):
        return pad_or_crop(g, [(-lo, -hi) for lo, hi in pads])
    for ax, ((lo, hi), size) in enumerate(zip(pads, sizes), start=2):
        src = np.pad(np.arange(size), (lo, hi), mode=_NP_MODES[mode])
        p = np.zeros((src.size, size), g.dtype)
        p[np.arange(src.size), src] = 1                         # (S_padded, S)
        g = np.moveaxis(np.tensordot(g, p, axes=([ax], [0])), -1, ax)
    return np.ascontiguousarray(g)
