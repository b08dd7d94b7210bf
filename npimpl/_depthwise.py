"""Depthwise convolution (``C_in / groups == 1``) as banded matrix products, no column matrix.

Why a separate path: im2col (``_im2col.conv_valid``) turns a depthwise convolution into
``N * C`` matrix products of ``(C_out/G, prod(K))`` by ``(prod(K), P)``: one multiply-add
per column element, so the time goes into writing and reading a column matrix ``prod(K)``
times the input (38 MB at the bench's Conv2d(32, 32, 3, padding=1, groups=32) on
32x32x32x32). Per-offset multiply-adds on shifted slices are no better (17 passes over
the whole tensor: 9.3 ms against im2col's 7.2 ms for that forward).
Here each channel's image is one row-major "tall" image (the batch stacked along the
height) and a row of ``k_h`` input rows is multiplied by a banded (Toeplitz) matrix
built from the kernel: ``y[h, j] = sum_{a, b} x[h + a*d_h, j + b*d_w] w[a, b]`` is
``x[h : h + span].ravel() @ T`` with ``T[a*d_h*R + j + b*d_w, j] = w[a, b]``. Most of
``T`` is zeros, so the width is cut into blocks of at most ``BLOCK`` output columns (each
block's input rows copied with their halo) to bound the wasted flops, and BLAS reads the
rows in place through the residue trick of ``_im2col.input_grad_rows`` (windows of rows
``t = span*m + r`` do not overlap). The same routine computes the input gradient (the
gather form: ``dy`` embedded in a zero grid, kernel flipped, the channel multiplier
summed) and the weight gradient reuses the forward's blocked rows (``rows^T dy`` per
residue, then the band's diagonals summed). Nothing loops in Python: the batch,
channels, blocks and residues are all axes of one batched ``matmul`` per pass.

Dispatched by ``conv.is_depthwise`` (groups == C_in > 1, stride 1, any dilation and
padding mode, where it measured faster). Forward + backward of the layer against the
im2col path, one thread, float32, median of 15, two runs each (ms):

    Conv2d(32, 32, 3, padding=1, groups=32) on 32x32x32x32   29-30 -> 8.6-9.2  (the bench's)
        forward 7.3 -> 2.7, input gradient 11 -> 2.6, weight gradient 1.6 -> 2.1 (the band
        wastes flops the cached columns did not, but there are no columns to build)
    the same with a 5x5 kernel                                74-77 -> 12-13
    with multiplier 2 (Conv2d(32, 64, 3, ...))                31-34 -> 19-21
    with dilation 2 / 4 (the band spans 5 / 9 rows for 3)     29-31 -> 12 / 22-24
    under reflect padding                                     33 -> 14-15
    on 8x32x112x112                                           88-90 -> 33-35
    Conv2d(64, 64, 3, padding=1, groups=64) on 32x64x7x7      3.4-3.6 -> 1.2-1.4
    Conv2d(3, 3, 3, padding=1, groups=3) on 2x3x8x8           0.155 -> 0.148
    Conv1d(32, 32, 9, padding=4, groups=32) on 32x32x256      4.8-5.1 -> 2.0-2.1
    the same with k = 3                                       2.0-2.2 -> 1.8

At a stride above 1 the forward and dW stay on im2col (the tall-image rows need stride 1
along the height) and only dx comes here (:func:`depthwise_input_grad`, ``dy`` dilated by
the stride): Conv2d(32, 32, 3, stride=2, padding=1, groups=32) on 32x32x32x32 9.0-9.4 ->
6.1-6.3, with a 5x5 kernel 24-25 -> 14.5, stride (2, 1) 12.6-12.8 -> 8.2-8.9, stride 3
5.2-5.4 -> 4.9-5.3.

Slower, hence left to im2col: a multiplier large for the kernel (Conv2d(8, 32, 3,
groups=8) on 32x8x32x32: 6.7 -> 8.3; the band's cost grows with the multiplier, while
im2col's columns serve all its outputs), 1x1 and 1x2 kernels (3.0 -> 5.1, 5.0 -> 6.5),
small 1-D inputs (0.12 -> 0.20 on 4x16x64: more NumPy calls).
"""
from __future__ import annotations

from functools import lru_cache
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import as_strided

from . import _im2col as im

# Output columns per block. The banded matrix of a block is (span * (BLOCK + halo), BLOCK)
# with only k_h * k_w non-zeros per column: wider blocks waste flops on zeros, narrower ones
# make BLAS calls too small. Matmul alone, 3x3 kernel, 32x32x32x32 float32, one thread:
# 2.4 ms for blocks of 32, 1.0 ms for 16, 1.2 ms for 8.
BLOCK = 16


class Rows(NamedTuple):
    buf: np.ndarray         # (C, nb, rows, Q, Bh): per channel and block, the tall image's rows
    geom: tuple             # (N, Hz, span, mrows, B, nb, size): see band_conv


def _fill_blocks(dst, srcv, first, b):
    """``dst[:, blk, ..., v] = srcv[..., first + blk*b + v]`` where that column exists, else 0:
    ``dst`` ``(C, nb, N, H, Q, width)``, ``srcv`` ``(C, N, H, Q, Ws)``.

    Every block but the few that straddle an edge of ``srcv`` (``width / b + 1`` per edge at
    most, whatever the image size) is either wholly inside it, all of them copied by one
    assignment from an ``as_strided`` view (block stride ``b``; with the halo, neighbours
    read overlapping columns), or wholly outside, zeroed.
    """
    nb, width = dst.shape[1], dst.shape[-1]
    ws = srcv.shape[-1]

    def clip(k):                                               # a block index into [0, nb]
        return min(nb, max(0, k))

    lo = clip(-(first // b))                                   # first block starting at >= 0
    hi = max(lo, clip((ws - width - first) // b + 1))          # blocks [lo, hi) are inside
    left = min(lo, clip((-first - width) // b + 1))            # blocks [0, left) end at <= 0
    right = max(hi, clip(-((first - ws) // b)))                # blocks [right, nb) start at >= Ws
    if hi > lo:
        it, st = srcv.itemsize, srcv.strides
        base = srcv[..., first + lo * b:]
        dst[:, lo:hi] = as_strided(base, (base.shape[0], hi - lo) + base.shape[1:4] + (width,),
                                   (st[0], b * it) + st[1:], writeable=False)
    dst[:, :left] = 0
    dst[:, right:] = 0
    for blk in [*range(left, lo), *range(hi, right)]:          # the edge blocks, one by one
        v0, v1 = max(0, -(first + blk * b)), min(width, ws - first - blk * b)
        dst[:, blk] = 0
        if v1 > v0:
            dst[:, blk, ..., v0:v1] = srcv[..., first + blk * b + v0:first + blk * b + v1]


def _blocked_rows(src, start, size, kernel, dilation) -> Rows:
    """Zero-embed ``src`` ``(N, C, Q, Hs, Ws)`` as ``E[.., u, v] = src[.., u + s_h, v + s_w]``
    and copy it, channel-major and cut into blocks of output columns with their halo, into
    ``buf`` ``(C, nb, rows, Q, Bh)``: tall row ``t = n*Hz + u`` of block ``blk`` holds
    ``E[n, c, :, u, blk*B : blk*B + Bh]``; rows past ``N*Hz`` are zeros. One copy, straight
    from ``src``: through a zero-padded grid first cost 0.4 ms more at the bench's row."""
    n, c, q, hs, ws = src.shape
    (kh, kw), (dh, dw) = kernel, dilation
    span = (kh - 1) * dh + 1
    hz = size[0] + span - 1
    nb = -(-size[1] // BLOCK)
    b = -(-size[1] // nb)                                      # block width, nb*b >= size[1]
    halo = (kw - 1) * dw
    bh = b + halo
    t = n * hz
    mrows = -(-t // span)                                      # windows per residue
    # np.empty, then zeros only where nothing is copied: zero-filling the whole of buf
    # first cost about 0.3 ms of the bench's 3 ms forward
    buf = np.empty((c, nb, span * mrows + span - 1, q, bh), src.dtype)
    buf[:, :, t:] = 0                                          # rows past the last image
    tall = buf[:, :, :t].reshape(c, nb, n, hz, q, bh)          # (C, nb, N, Hz, Q, Bh)
    sh, sw = start
    u0, u1 = max(0, -sh), max(max(0, -sh), min(hz, hs - sh))   # the rows src covers
    tall[:, :, :, :u0] = 0
    tall[:, :, :, u1:] = 0
    srcv = src[:, :, :, u0 + sh:u1 + sh].transpose(1, 0, 3, 2, 4)   # (C, N, Hu, Q, Ws)
    rows = tall[:, :, :, u0:u1]
    _fill_blocks(rows, srcv, sw, b)
    return Rows(buf, (n, hz, span, mrows, b, nb, size))


def _windows(rows: Rows) -> np.ndarray:
    """``(C, nb, span, mrows, span*R)``: the window of tall rows ``t = span*m + r`` (residue
    ``r``), read in place (:func:`_im2col.residue_windows`)."""
    buf = rows.buf
    return im.residue_windows(buf, buf.shape[:2], buf.strides[:2], buf.shape[3] * buf.shape[4],
                              rows.geom[2], rows.geom[3])


@lru_cache(maxsize=64)
def _band_index(f, q, kh, kw, dh, dw, bh, b):
    """Indices ``(row, col)`` of the band: ``T[a*d_h*R + q*Bh + j + b*d_w, f*B + j] = k[f, q, a, b]``
    for ``k`` ``(F, Q, k_h, k_w)``, ``R = Q*Bh``, and every output column ``j`` of a block.
    Cached (read-only): building them was a third of a small layer's time."""
    ff, qq, aa, bb, jj = np.ogrid[:f, :q, :kh, :kw, :b]         # open grids: they broadcast
    ri, ci = aa * dh * q * bh + qq * bh + jj + bb * dw, ff * b + jj   # to (F, Q, k_h, k_w, B)
    ri.setflags(write=False)
    ci.setflags(write=False)
    return ri, ci


def _band(k_shape, dilation, rows: Rows):
    """:func:`_band_index` for a kernel ``(F, Q, k_h, k_w)`` and the block geometry of ``rows``."""
    return _band_index(*k_shape, *dilation, rows.buf.shape[4], rows.geom[4])


def band_conv(src, k, dilation, start, size, bias=None):
    """``out[n, c, f, i, j] = sum_{q, a, b} E[n, c, q, i + a*d_h, j + b*d_w] k[c, f, q, a, b]``
    (``+ bias[c*F + f]``) for ``i, j`` in ``size``, ``E`` being ``src`` ``(N, C, Q, Hs, Ws)``
    shifted by ``start`` in a zero grid (see :func:`_blocked_rows`): a stride-1 correlation
    of each channel with its own ``(F, Q)`` kernels. Returns ``(out (N, C*F, *size), rows)``,
    ``rows`` being what :func:`band_weight_grad` needs. 1-D inputs ``(N, C, Q, Ws)`` are one
    row."""
    if src.ndim == 4:
        out, rows = band_conv(src[:, :, :, None], k[..., None, :], (1,) + tuple(dilation),
                              (0,) + tuple(start), (1,) + tuple(size), bias)
        return out[:, :, 0], rows
    c, f, q = k.shape[:3]
    rows = _blocked_rows(src, start, size, k.shape[3:], dilation)
    n, hz, span, mrows, b, nb, _ = rows.geom
    ri, ci = _band(k.shape[1:], dilation, rows)
    taps = np.zeros((c, span * q * rows.buf.shape[4], f * b), src.dtype)   # (C, span*R, F*B)
    taps[:, ri, ci] = k[..., None]
    parts = np.empty((c, nb, mrows, span, f * b), src.dtype)
    np.matmul(_windows(rows), taps[:, None, None], out=parts.transpose(0, 1, 3, 2, 4))
    tall = parts.reshape(c, nb, mrows * span, f, b)[:, :, :n * hz]   # tall row t = span*m + r
    tall = tall.reshape(c, nb, n, hz, f, b)[:, :, :, :size[0]]      # (C, nb, N, H, F, B)
    out = np.empty((n, c, f) + tuple(size), src.dtype)
    full, last = size[1] // b, size[1] - (size[1] // b) * b   # whole blocks; the last one's width

    def put(dst, part):     # the layout copy; a bias rides in it, no extra pass over out
        if bias is None:
            dst[...] = part
        else:
            np.add(part, bias.reshape((c, f) + (1,) * (part.ndim - 3)), out=dst)

    if full:
        put(out[..., :full * b].reshape(n, c, f, size[0], full, b),
            tall[:, :full].transpose(2, 0, 4, 3, 1, 5))
    if last:
        put(out[..., full * b:], tall[:, full, ..., :last].transpose(1, 0, 3, 2, 4))
    return out.reshape((n, c * f) + tuple(size)), rows


def band_weight_grad(dy, rows: Rows, k_shape, dilation):
    """``dk[c, f, q, a, b] = sum_{n, i, j} dy[n, c*F + f, i, j] E[n, c, q, i + a*d_h, j + b*d_w]``,
    the weight gradient of :func:`band_conv` from its ``rows``: per residue ``dy^T rows`` (the
    band ``(F*B, span*R)`` of every product), summed over residues and blocks, then each
    tap's diagonal of the band summed over the output columns. ``k_shape`` ``(C, F, Q, *K)``."""
    if dy.ndim == 3:
        return band_weight_grad(dy[:, :, None], rows, k_shape[:3] + (1,) + k_shape[3:],
                                (1,) + tuple(dilation))[..., 0, :]
    c, f = k_shape[:2]
    n, hz, span, mrows, b, nb, size = rows.geom
    g = np.empty((c, nb, mrows * span, f, b), dy.dtype)         # dy in the tall rows, zeros between
    g[:, :, n * hz:] = 0
    tall = g[:, :, :n * hz].reshape(c, nb, n, hz, f, b)
    tall[:, :, :, size[0]:] = 0                                # the rows between images
    sl = tall[:, :, :, :size[0]]
    full, last = size[1] // b, size[1] - (size[1] // b) * b
    if last:
        sl[:, full, ..., last:] = 0                            # the last block's surplus columns
    dyv = dy.reshape(n, c, f, size[0], size[1])
    if full:
        sl[:, :full] = dyv[..., :full * b].reshape(n, c, f, size[0], full, b).transpose(1, 4, 0, 3, 2, 5)
    if last:
        sl[:, full, ..., :last] = dyv[..., full * b:].transpose(1, 0, 3, 2, 4)
    gt = g.reshape(c, nb, mrows, span, f * b).transpose(0, 1, 3, 4, 2)   # (C, nb, span, F*B, mrows)
    # dy^T rows rather than rows^T dy: the same band, transposed; 1.4 against 1.6 ms at the
    # bench's depthwise row (one thread)
    band = np.matmul(gt, _windows(rows)).sum(axis=(1, 2))     # (C, F*B, span*R)
    ri, ci = _band(k_shape[1:], dilation, rows)
    return band[:, ci, ri].sum(axis=-1)                        # (C, F, Q, k_h, k_w)


# --- Conv's depthwise forward and backward ------------------------------------------------------
def depthwise_forward(x, w, b, pads, dilation, padding_mode):
    """``y = conv(pad(x), w) + b`` for ``w`` ``(C*M, 1, *K)`` and ``groups = C``, stride 1.
    Returns ``(y (N, C*M, *O), rows)``; zero padding is the embedding of :func:`band_conv`
    itself, any other mode an explicit pad first."""
    n, c, *sizes = x.shape
    kernel = w.shape[2:]
    outs = [s + lo + hi - d * (k - 1) for s, (lo, hi), d, k in zip(sizes, pads, dilation, kernel)]
    k = w.reshape(c, w.shape[0] // c, 1, *kernel)              # (C, M, 1, *K)
    if padding_mode == "zeros":
        return band_conv(x[:, :, None], k, dilation, [-lo for lo, _ in pads], outs, b)
    xp = im.pad(x, pads, padding_mode)                          # (N, C, *S_padded)
    return band_conv(xp[:, :, None], k, dilation, [0] * len(sizes), outs, b)


def depthwise_backward(dy, w, rows: Rows, in_shape, pads, dilation, padding_mode, bias: bool):
    """``(dx, dW, db)`` of :func:`depthwise_forward` (``db`` None without a bias): dW from the
    forward's rows (:func:`band_weight_grad`); dx by :func:`depthwise_input_grad`; db the
    sum of dy over batch and space."""
    c, kernel = in_shape[1], w.shape[2:]
    nd = len(kernel)
    k = w.reshape(c, w.shape[0] // c, 1, *kernel)               # (C, M, 1, *K)
    dw = band_weight_grad(dy, rows, k.shape, dilation).reshape(w.shape)
    db = dy.sum(axis=(0, *range(2, dy.ndim))) if bias else None  # (C*M,)
    return depthwise_input_grad(dy, w, in_shape, pads, (1,) * nd, dilation, padding_mode), dw, db


def depthwise_input_grad(dy, w, in_shape, pads, stride, dilation, padding_mode):
    """dx of a depthwise convolution at any stride, in the gather form by :func:`band_conv`:
    ``dy`` dilated by the stride (zeros between its elements; none at stride 1) and
    embedded ``(k-1)*d`` further in, correlated with the kernel flipped in space, the
    channel multiplier summed (it is ``Q`` there). At stride 2 this multiplies the inserted
    zeros too, and still beats ``col2im``'s per-offset einsums: 5.6 -> 3.5 ms for the input
    gradient of Conv2d(32, 32, 3, stride=2, padding=1, groups=32) on 32x32x32x32."""
    n, c, *sizes = in_shape
    kernel = w.shape[2:]
    nd = len(kernel)
    m = w.shape[0] // c                                         # the channel multiplier
    kf = np.flip(w.reshape(c, m, 1, *kernel), axis=tuple(range(3, 3 + nd))).swapaxes(1, 2)
    z = im.dilate(dy, stride)                                   # (N, C*M, *(O-1)*stride+1)
    z = z.reshape(n, c, m, *z.shape[2:])                        # no -1: N may be 0
    back = [(k_ - 1) * d for k_, d in zip(kernel, dilation)]   # z[0] sits (k-1)*d further in
    return im.on_input(lambda start, size: band_conv(z, kf, dilation,
                                                     [s - e for s, e in zip(start, back)],
                                                     size)[0],
                       sizes, pads, padding_mode)
