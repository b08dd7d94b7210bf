"""``interpolate``: torch's ``F.interpolate`` as pure functions, the maths under ``Upsample``.

Every mode is separable and linear in the input: along each spatial axis, output ``j``
is a weighted sum of a few input positions (:class:`Taps`: 1 for nearest, 2 for linear, 4
for cubic, a window for area), and the N-D result applies the axes one after another, the
last axis first, which is the order torch's kernel nests its sums in. The backward is the
adjoint: each axis's weights scatter ``dy`` back onto the positions they read, the first
axis first. The index maps (:func:`axis_taps`) are where torch's conventions hide, and
they follow its C++ (``aten/src/ATen/native/UpSample.h``) down to the float32 arithmetic
that decides a nearest neighbour: the tests compare them with torch's over random sizes
and scale factors.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

MODES = ("nearest", "nearest-exact", "linear", "bilinear", "bicubic", "trilinear", "area")
#: the number of spatial dims a mode requires (None: any of 1, 2, 3)
MODE_DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}
A = -0.75   # the cubic convolution constant torch uses (Keys' kernel; OpenCV's value too)


class Taps(NamedTuple):
    idx: np.ndarray    # (S_out, T) int: the input positions output j reads, non-decreasing in j
    w: np.ndarray      # (S_out, T): their weights
    #: (S_out, T) bool, area mode only: the weight-0 reads that pad a shorter window to T,
    #: left out of the sums (torch's window sum never reads them: 0 * inf would be NaN)
    pad: np.ndarray | None = None


def source_scale(in_size: int, out_size: int, scale, align_corners: bool, opmath):
    """Input pixels per output pixel, as torch's ``area_pixel_compute_scale`` in ``opmath``
    (float32 for float32 inputs): ``(in-1)/(out-1)`` with ``align_corners`` (0 for one
    output), else ``1/scale_factor`` when the user's factor is passed down, else ``in/out``."""
    if align_corners:
        return opmath(in_size - 1) / opmath(out_size - 1) if out_size > 1 else opmath(0)
    if scale is not None and scale > 0:
        return opmath(1.0 / scale)                 # 1/scale in double, then rounded
    return opmath(in_size) / opmath(out_size)


def nearest_source(in_size: int, out_size: int, scale, exact: bool, opmath,
                   generic: bool) -> np.ndarray:
    """The input position each output copies. torch has two rules and uses both:

    * ``generic`` (its 1-D and 3-D forward kernels): the scale in ``opmath`` (double for
      float64 input), ``src = floor(s * j)``, or for nearest-exact ``floor(r + 0.5)`` with
      ``r = s * (j + 0.5) - 0.5`` clamped at 0;
    * ``nearest_idx`` (its 2-D forward kernel and every backward kernel): the scale in
      float32 whatever the dtype, ``floor(j * s)`` / ``floor((j + 0.5) * s)``; 'nearest' here
      copies an unchanged size and takes ``j >> 1`` on a doubled one, whatever the scale.

    Both end in ``floorf``, which rounds its argument to float32 first; both cap at in-1.
    """
    j = np.arange(out_size)
    if generic:
        s = source_scale(in_size, out_size, scale, False, opmath)
        if exact:    # (j + 0.5) is a double in torch's C++: one rounding to opmath
            r = np.maximum((np.float64(s) * (j + 0.5) - 0.5).astype(opmath), 0)
            src = np.floor((np.float64(r) + 0.5).astype(np.float32))
        else:
            src = np.floor((s * j.astype(opmath)).astype(np.float32))
    else:
        s = source_scale(in_size, out_size, scale, False, np.float32)
        if exact:
            src = np.floor(((j + 0.5) * np.float64(s)).astype(np.float32))
        elif out_size in (in_size, 2 * in_size):
            src = j if out_size == in_size else j >> 1
        else:        # a float32 product, as ``floorf(dst_index * scale)``
            src = np.floor(j.astype(np.float32) * s)
    return np.minimum(src.astype(np.int64), in_size - 1)


def nearest_taps(in_size, out_size, scale, exact, opmath, generic) -> Taps:
    """One tap of weight 1 at :func:`nearest_source`."""
    idx = nearest_source(in_size, out_size, scale, exact, opmath, generic)
    return Taps(idx[:, None], np.ones((out_size, 1), opmath))       # opmath: float32 stays so


def source_index(in_size, out_size, scale, align_corners, cubic, opmath):
    """``(i0, t)``: the real source position of every output, split into its floor ``i0``
    (at most in-1) and the fraction ``t`` in [0, 1], as ``area_pixel_compute_source_index``
    and ``guard_index_and_lambda``: ``scale * j`` with ``align_corners``, else
    ``scale * (j + 0.5) - 0.5``, clamped at 0 except for cubic. torch floors with
    ``floorf``, through float32 even in double; the clamp of ``t`` absorbs the difference."""
    s = source_scale(in_size, out_size, scale, align_corners, opmath)
    j = np.arange(out_size)
    if align_corners:
        real = s * j.astype(opmath)
    else:          # (j + 0.5) is a double in torch's C++: one rounding to opmath at the end
        real = (np.float64(s) * (j + 0.5) - 0.5).astype(opmath)
    if not cubic:
        real = np.maximum(real, opmath(0))
    i0 = np.minimum(np.floor(real.astype(np.float32)).astype(np.int64), in_size - 1)
    return i0, np.clip(real - i0, 0, 1).astype(opmath)


def linear_taps(in_size, out_size, scale, align_corners, opmath) -> Taps:
    """``y[j] = (1 - t) x[i0] + t x[i1]``, ``i1 = min(i0 + 1, in-1)``; the same size is a copy
    (``t = 0``), whatever the scale_factor (torch's special case)."""
    if out_size == in_size:
        j = np.arange(out_size)
        return Taps(np.stack([j, j], 1), np.array([[1, 0]], opmath).repeat(out_size, 0))
    i0, t = source_index(in_size, out_size, scale, align_corners, False, opmath)
    i1 = i0 + (i0 < in_size - 1)
    return Taps(np.stack([i0, i1], 1), np.stack([1 - t, t], 1))


def cubic_weights(t):
    """Keys' cubic convolution weights of the 4 neighbours at distances ``t+1, t, 1-t, 2-t``
    (torch's ``get_cubic_upsample_coefficients``, A = -0.75); they sum to 1."""
    def near(d):     # |d| <= 1
        return ((A + 2) * d - (A + 3)) * d * d + 1

    def far(d):      # 1 < |d| < 2
        return ((A * d - 5 * A) * d + 8 * A) * d - 4 * A
    u = 1 - t        # torch's order: (1 - t) + 1 rounds differently from 2 - t in float32
    return np.stack([far(t + 1), near(t), near(u), far(u + 1)], 1)


def cubic_taps(in_size, out_size, scale, align_corners, opmath) -> Taps:
    """``y[j] = sum_k c_k(t) x[clamp(i0 - 1 + k, 0, in-1)]``, k = 0..3: the source index is
    not clamped at 0, the four reads are (so a border pixel is read, and receives
    gradient, up to 3 times)."""
    i0, t = source_index(in_size, out_size, scale, align_corners, True, opmath)
    idx = np.clip(i0[:, None] - 1 + np.arange(4), 0, in_size - 1)
    return Taps(idx, cubic_weights(t).astype(opmath))


def area_taps(in_size, out_size, opmath) -> Taps:
    """AdaptiveAvgPool's windows ``[floor(j*in/out), ceil((j+1)*in/out))``, weight 1/length;
    shorter windows are padded with weight-0 reads of their last position."""
    j = np.arange(out_size)
    start, end = j * in_size // out_size, -(-(j + 1) * in_size // out_size)
    length = end - start
    k = np.arange(max(int(length.max(initial=1)), 1))
    idx = np.minimum(start[:, None] + k, end[:, None] - 1)
    inside = k < length[:, None]
    return Taps(idx, np.where(inside, 1 / length[:, None], 0).astype(opmath), ~inside)


def axis_taps(mode, in_size, out_size, scale, align_corners, opmath, dims) -> Taps:
    """The taps of one spatial axis of a ``dims``-D resampling; ``scale`` is the user's
    scale_factor for it, or None."""
    if mode in ("nearest", "nearest-exact"):   # torch's 2-D forward kernel is the odd one out
        return nearest_taps(in_size, out_size, scale, mode == "nearest-exact", opmath, dims != 2)
    if mode == "bicubic":
        return cubic_taps(in_size, out_size, scale, align_corners, opmath)
    if mode == "area":
        return area_taps(in_size, out_size, opmath)
    return linear_taps(in_size, out_size, scale, align_corners, opmath)


def interp_forward(x: np.ndarray, taps) -> np.ndarray:
    """``y = (A_1 ⊗ ... ⊗ A_d) x`` over the last ``d`` axes, the last axis first."""
    d = len(taps)
    for ax in reversed(range(d)):
        tp = taps[ax]
        xm = np.moveaxis(x, x.ndim - d + ax, -1)                 # (..., S_in)
        # (..., S_out, T) times (S_out, T): inf * 0 gives NaN, as torch's t0*w0 + t1*w1 does
        terms = xm[..., tp.idx] * tp.w.astype(x.dtype)
        if tp.pad is not None:
            terms[..., tp.pad] = 0                               # area: not in the window
        y = terms.sum(-1)                                        # (..., S_out)
        x = np.moveaxis(y, -1, x.ndim - d + ax)
    return x


def interp_backward(dy: np.ndarray, taps, in_sizes) -> np.ndarray:
    """The adjoint: per axis ``dx[i] = sum_{j, t: idx[j, t] = i} w[j, t] dy[j]``. Each tap's
    indices are non-decreasing in ``j``, so the outputs that hit one input form a run:
    ``np.add.reduceat`` sums each run, and the runs' (distinct) targets take one add."""
    d = len(taps)
    g = dy
    for ax in range(d):
        tp = taps[ax]
        gm = np.moveaxis(g, g.ndim - d + ax, -1)                 # (..., S_out)
        dx = np.zeros(gm.shape[:-1] + (in_sizes[ax],), dy.dtype)
        for t in range(tp.idx.shape[1]):
            i = tp.idx[:, t]
            runs = np.flatnonzero(np.r_[True, i[1:] != i[:-1]])   # where a new target starts
            part = gm * tp.w[:, t].astype(dy.dtype)
            if tp.pad is not None:
                part[..., tp.pad[:, t]] = 0                       # area: not in the window
            dx[..., i[runs]] += np.add.reduceat(part, runs, axis=-1)
        g = np.moveaxis(dx, -1, g.ndim - d + ax)
    return np.ascontiguousarray(g)


def output_size(in_sizes, size, scale_factor, recompute) -> tuple:
    """``(out_sizes, scales)``: ``size``, or ``floor(in * scale_factor)`` (in double, as
    torch); ``scales`` are the factors the index maps use: None unless a scale_factor was
    given and ``recompute_scale_factor`` is not True."""
    d = len(in_sizes)
    if size is not None:
        return tuple(size) if isinstance(size, tuple) else (size,) * d, (None,) * d
    sf = scale_factor if isinstance(scale_factor, tuple) else (scale_factor,) * d
    outs = tuple(int(np.floor(s * f)) for s, f in zip(in_sizes, sf))
    return outs, ((None,) * d if recompute else sf)
