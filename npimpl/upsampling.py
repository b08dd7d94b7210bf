"""Upsample, UpsamplingNearest2d, UpsamplingBilinear2d: torch's ``F.interpolate`` on 1-3
spatial dims as modules. The index maps and the separable forward/backward are the pure
functions of ``npimpl.interpolate``; the classes parse torch's arguments, check shapes and
hold the cache.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._layout import LayoutModule
from .interpolate import MODE_DIMS, MODES, axis_taps, interp_backward, interp_forward, output_size


class UpsampleCache(NamedTuple):
    taps: tuple          # one Taps per spatial dim
    in_shape: tuple
    out_shape: tuple
    dtype: np.dtype


def _sizes_arg(size, owner):
    if size is None:
        return None
    t = tuple(size) if isinstance(size, (tuple, list)) else size
    items = t if isinstance(t, tuple) else (t,)
    if not items or not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                            for s in items):
        raise TypeError(f"{owner}: size must be an int or a tuple of ints, got {size!r}")
    return tuple(int(s) for s in t) if isinstance(t, tuple) else int(t)


class Upsample(LayoutModule):
    """``y[n, c, j] = sum_t w_t(j) x[n, c, idx_t(j)]`` per spatial axis: nearest, linear or cubic interpolation to a new size.

    Args:
        size: the output spatial size: an int or a tuple of one per spatial dim.
        scale_factor: instead of ``size``, a float (or one per dim): ``out = floor(in *
            scale_factor)``; unless ``recompute_scale_factor``, the index maps use
            ``1/scale_factor`` itself rather than ``in/out``.
        mode: ``'nearest'`` (default), ``'nearest-exact'``, ``'linear'`` (3-D input),
            ``'bilinear'``, ``'bicubic'`` (4-D), ``'trilinear'`` (5-D); ``'area'``
            (adaptive average pooling), which ``F.interpolate`` also accepts.
        align_corners: for the (bi/tri)linear and bicubic modes (None means False): map the
            corner pixels' centres onto each other, ``src = j (in-1)/(out-1)``; otherwise
            ``src = (j + 0.5) in/out - 0.5``, the pixel areas aligned.
        recompute_scale_factor: use ``in/out`` of the computed size in the index maps.

    Shape:
        ``(N, C, W)``, ``(N, C, H, W)`` or ``(N, C, D, H, W)`` → the same with the new
        sizes. No unbatched form: F.interpolate reads dims 0 and 1 as batch and channels.

    Backward:
        the adjoint of a fixed linear map: per axis ``dx[i] += w_t(j) dy[j]`` for every
        output j and tap t with ``idx_t(j) = i``. Nearest routes each dy to the one pixel
        it copied (a pixel copied k times receives k gradients); linear splits it ``(1-t, t)``;
        bicubic scatters into ``clamp(i0-1+k, 0, in-1)``, so a border pixel collects the
        weights of up to three out-of-range neighbours.

    What torch hides:
        'nearest' takes ``floor(j * in/out)`` (OpenCV's rule, half a pixel off centre) and
        'nearest-exact' ``floor((j + 0.5) * in/out)`` (PIL's and scikit-image's), and which
        neighbour that is depends on rounding: torch's 2-D kernel and every backward kernel
        compute in float32 (26 pixels to 22: output 11 copies pixel 12, not 13), its 1-D and
        3-D forward kernels in the input's precision. A scale_factor reaches the index maps
        as ``1/scale_factor`` (5 pixels at 2.104 → 10 outputs sampled every 1/2.104, not
        every 5/10: pixel 0 is copied three times) unless ``recompute_scale_factor``. Where
        a size is unchanged, the linear modes copy that axis whatever scale_factor says
        (1.1 on 5 pixels), and so does 2-D 'nearest' (which also takes ``j >> 1`` on a
        doubled size); 1-D and 3-D 'nearest' and bicubic follow the scale in their forward,
        while their *backward* kernels keep the shortcuts (bicubic's: all sizes unchanged)
        and the float32 rule. There torch's gradient is not the adjoint of its forward;
        npimpl's is, and ``tests/test_upsampling.py`` measures the gap. Linear clamps a
        negative source position to 0; bicubic does not (it needs the neighbour at -1, read
        as the clamped border pixel), with Keys' A = -0.75.
    """

    def __init__(self, size=None, scale_factor=None, mode="nearest", align_corners=None,
                 recompute_scale_factor=None, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        self.size = _sizes_arg(size, name)
        if isinstance(scale_factor, (tuple, list)):        # torch: a tuple of floats, and
            scale_factor = tuple(float(f) for f in scale_factor)
        else:                                              # 0 (falsy) means unset
            scale_factor = float(scale_factor) if scale_factor else None
        self.scale_factor = scale_factor
        if mode not in MODES:
            raise ValueError(f"{name}: mode must be one of {list(MODES)}, got {mode!r}")
        self.mode = mode
        if mode in ("nearest", "nearest-exact", "area") and align_corners is not None:
            raise ValueError(f"{name}: align_corners can only be set with the interpolating "
                             f"modes linear | bilinear | bicubic | trilinear, got mode {mode!r}")
        self.align_corners = align_corners
        self.recompute_scale_factor = recompute_scale_factor
        if (self.size is None) == (scale_factor is None):
            raise ValueError(f"{name}: exactly one of size or scale_factor must be given, got "
                             f"size={size!r}, scale_factor={scale_factor!r}")
        if recompute_scale_factor and self.size is not None:
            raise ValueError(f"{name}: recompute_scale_factor is not meaningful with an "
                             f"explicit size, got size={size!r}")

    def _out_sizes(self, x):
        name, d = type(self).__name__, x.ndim - 2
        for what, v in (("size", self.size), ("scale_factor", self.scale_factor)):
            if isinstance(v, tuple) and len(v) != d:
                raise ValueError(f"{name}: {what} must have one entry per spatial dim: "
                                 f"expected {d} for input shape {x.shape}, got {v!r}")
        recompute = bool(self.recompute_scale_factor) or self.mode == "area"
        return output_size(x.shape[2:], self.size, self.scale_factor, recompute)

    def forward(self, input):
        name, mode = type(self).__name__, self.mode
        x = self._x(input, (3, 4, 5))
        d = x.ndim - 2
        if MODE_DIMS.get(mode, d) != d:
            raise ValueError(f"{name}: mode {mode!r} needs a {MODE_DIMS[mode] + 2}-D input, "
                             f"got {x.ndim}-D with shape {x.shape}")
        outs, scales = self._out_sizes(x)
        least = 0 if mode == "area" else 1     # area is adaptive pooling: an empty output is fine
        if min(x.shape[2:]) < 1 or min(outs) < least or (x.shape[1] == 0 and mode != "area"):
            raise ValueError(f"{name}: expected non-empty channels and spatial dims and an "
                             f"output size >= {least}, got input shape {x.shape} and output "
                             f"size {outs}")
        taps = self._taps(x, outs, scales)
        y = interp_forward(x, taps)                                       # (N, C, *outs)
        self._cache = UpsampleCache(taps, x.shape, y.shape, x.dtype)
        return y

    def _taps(self, x, outs, scales) -> tuple:
        """One :class:`~npimpl.interpolate.Taps` per spatial dim, in torch's ``opmath_t``
        (float32 for float32 input, double for float64)."""
        opmath = np.float64 if x.dtype == np.float64 else np.float32
        return tuple(axis_taps(self.mode, s, o, sc, bool(self.align_corners), opmath, x.ndim - 2)
                     for s, o, sc in zip(x.shape[2:], outs, scales))

    def backward(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape, c.dtype)
        return interp_backward(g, c.taps, c.in_shape[2:])

    def extra_repr(self) -> str:
        info = (f"scale_factor={self.scale_factor!r}" if self.scale_factor is not None
                else f"size={self.size!r}")
        return info + f", mode={self.mode!r}"


class UpsamplingNearest2d(Upsample):
    """``Upsample(size, scale_factor, mode='nearest')``: ``y[n, c, i, j] = x[n, c, floor(i * H/H_out), floor(j * W/W_out)]``.

    Args:
        size, scale_factor: as Upsample (one of them).

    Shape:
        ``(N, C, H, W)`` → ``(N, C, H_out, W_out)``.

    Backward:
        dx[n, c, h, w] = the sum of dy over the output pixels that copied (h, w).

    What torch hides:
        deprecated in favour of ``F.interpolate``; despite the name it is plain
        ``mode='nearest'`` on whatever it gets, so a 3-D or 5-D input is resampled in 1-D or
        3-D rather than refused.
    """

    def __init__(self, size=None, scale_factor=None, dtype=None):
        super().__init__(size, scale_factor, mode="nearest", dtype=dtype)


class UpsamplingBilinear2d(Upsample):
    """``Upsample(size, scale_factor, mode='bilinear', align_corners=True)``: ``src = j (in-1)/(out-1)`` per axis, then bilinear weights.

    Args:
        size, scale_factor: as Upsample (one of them).

    Shape:
        ``(N, C, H, W)`` → ``(N, C, H_out, W_out)``.

    Backward:
        each dy splits onto the 4 input pixels around its source point with the bilinear
        weights ``(1-t_h)(1-t_w), (1-t_h) t_w, t_h (1-t_w), t_h t_w``.

    What torch hides:
        deprecated; it is the one place where ``align_corners=True`` is the default, so
        the corner pixels map onto each other and the scale_factor never enters the index
        map (``(in-1)/(out-1)`` does).
    """

    def __init__(self, size=None, scale_factor=None, dtype=None):
        super().__init__(size, scale_factor, mode="bilinear", align_corners=True, dtype=dtype)
