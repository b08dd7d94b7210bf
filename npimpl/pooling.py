"""Max, average and adaptive pooling in 1, 2 and 3 spatial dims, on the window machinery of
``_pool`` (LPPool, FractionalMaxPool and MaxUnpool have files of their own)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from . import _pool as P
from .conv import ntuple
from .module import Module


class PoolCache(NamedTuple):
    axes: tuple             # one _pool.Axis per spatial dim
    in_shape: tuple         # (N, C, *S), batched
    out_shape: tuple        # (N, C, *O), batched
    arg: np.ndarray | None  # max pools: flat kernel offset of each chosen input (_pool.flat_index)
    div: np.ndarray | None  # average pools: divisor per output pixel (*O)
    unbatched: bool
    dtype: np.dtype         # the input's: backward casts grad_output to it, as torch does
    mats: tuple = ()        # adaptive average pools: the 0/1 window matrix (O_i, S_i) per axis


class _Pool(Module):
    """Input checks, unbatched inputs, and the common backward plumbing (``_nd`` spatial dims)."""

    _nd = 2

    def __init__(self, dtype=None):
        super().__init__()
        self.dtype = None if dtype is None else self._dtype(dtype)

    def _tuple(self, v, name, one=True):
        """torch's pooling kernels take an int, ``_nd`` ints, or one int in a tuple (broadcast)."""
        return ntuple(v, self._nd, type(self).__name__, name, one=one)

    def _window(self, kernel_size, stride, padding):
        """``(kernel_size, stride, padding)`` as tuples; the stride defaults to the kernel
        (torch: ``None``, or ``[]`` from the functional form)."""
        kernel = self._tuple(kernel_size, "kernel_size")
        return (kernel, kernel if stride is None or stride == () else self._tuple(stride, "stride"),
                self._tuple(padding, "padding"))

    def _batched(self, input):
        x = self._input(input, dtype=self.dtype)
        _checks.ndim(x, (self._nd + 1, self._nd + 2), type(self).__name__)
        if min(x.shape[-self._nd:]) < 1 or (x.ndim == self._nd + 2 and x.shape[1] == 0):
            raise ValueError(f"{type(self).__name__}: expected non-empty channels and spatial "
                             f"dims, got shape {x.shape}")
        return (x[None], True) if x.ndim == self._nd + 1 else (x, False)

    def _grad_output(self, grad_output, cache: PoolCache):
        # any float dtype, cast to the input's: torch's autograd casts a gradient to the dtype
        # of its output (a float32 grad_output on float64 input: a float64 dx)
        g = self._input(grad_output, "grad_output").astype(cache.dtype, copy=False)
        want = cache.out_shape[1:] if cache.unbatched else cache.out_shape
        if g.shape != tuple(want):
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {tuple(want)}, "
                             f"got {g.shape}")
        return g[None] if cache.unbatched else g

    def _out(self, y, cache: PoolCache, return_indices=False):
        self._cache = cache
        if cache.unbatched:
            y = y[0]
        if return_indices:
            idx = P.flat_index(cache.arg, cache.axes)                    # (N, C, *O)
            return y, (idx[0] if cache.unbatched else idx)
        return y

    def _max_backward(self, grad_output):
        cache = self._saved()
        dy = self._grad_output(grad_output, cache)
        dx = P.scatter_max_grad(dy, cache.arg, cache.axes, cache.in_shape)
        return dx[0] if cache.unbatched else dx


def check_pad(name, padding, kernel_size, dilation=None):
    """torch's rule for every max and average pool: ``padding <= kernel_size // 2`` per dim,
    the dilation NOT counted (MaxPool1d(3, padding=2, dilation=2) is refused although its
    dilated window spans 5)."""
    if any(p > k // 2 for p, k in zip(padding, kernel_size)):
        raise ValueError(f"{name}: pad should be at most half of kernel size (dilation not "
                         f"counted, as in torch), but got pad={padding}, kernel_size="
                         f"{kernel_size}" + (f" and dilation={dilation}" if dilation else ""))


_MAX_DOC = """``y[n, c, o] = max_{{k}} x_pad[n, c, o*stride + k*dilation]`` over each {nd}-D window.

    Args:
        kernel_size, stride (default kernel_size), padding, dilation: int or tuple of {nd}
            (or of one, which torch broadcasts). The padding is -inf (it never wins) and may
            be at most half the kernel (``padding <= kernel_size // 2``, dilation not counted).
        return_indices: forward also returns the flat index ``{flat}`` of each maximum.
        ceil_mode: round the output size up (the last window may hang past the padding,
            but must start inside the input or its left padding).

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``,
        ``O = floor_or_ceil((S + 2*padding - dilation*(k-1) - 1) / stride) + 1``.

    Backward:
        dx[n, c, argmax(o)] += dy[n, c, o]: each output's gradient goes to the ONE input it
        took; overlapping windows that picked the same input add up (in output order, as
        torch adds them). Forward keeps only each window's kernel offset (one byte for up
        to 256 offsets); the flat input index is rebuilt from it.

    What torch hides:
        which input a tie routes the gradient to: torch's CPU kernel scans each window
        row-major and replaces the running max only on ``val > max || isnan(val)``, so the
        FIRST of tied maxima wins (and the LAST NaN, which wins over any number); a window
        of all -inf keeps its first valid position. ``_pool.sliding_max`` runs the same scan
        for all windows at once, one kernel offset (a strided view of the input) at a time.
        The indices torch returns are flat over the *unpadded* input's spatial dims. The
        padding limit ignores the dilation, although the kernel's error message speaks of
        the "effective kernel size".
    """


class _MaxPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding = self._window(kernel_size, stride, padding)
        self.dilation = self._tuple(dilation, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive and "
                             f"padding non-negative, got {self.kernel_size}, {self.stride}, "
                             f"{self.dilation}, {self.padding}")
        check_pad(name, self.padding, self.kernel_size, self.dilation)
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input):
        x, unbatched = self._batched(input)
        axes = tuple(P.sliding_axis(s, k, st, p, d, self.ceil_mode) for s, k, st, p, d in
                     zip(x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        if min(a.pos.shape[0] for a in axes) < 1:
            raise ValueError(f"{type(self).__name__}: input of spatial size {x.shape[2:]} is too "
                             f"small for kernel {self.kernel_size} (dilation {self.dilation})")
        y, arg = P.sliding_max(x, axes)                                # (N, C, *O)
        return self._out(y, PoolCache(axes, x.shape, y.shape, arg, None, unbatched, x.dtype),
                         self.return_indices)

    def backward(self, grad_output, grad_indices=None):
        return self._max_backward(grad_output)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _nd = 1
    __doc__ = _MAX_DOC.format(nd=1, S="L", O="L_out", flat="l")


class MaxPool2d(_MaxPoolNd):
    _nd = 2
    __doc__ = _MAX_DOC.format(nd=2, S="H, W", O="H_out, W_out", flat="h*W + w")


class MaxPool3d(_MaxPoolNd):
    _nd = 3
    __doc__ = _MAX_DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out", flat="(d*H + h)*W + w")


_AVG_DOC = r"""``y[n, c, o] = sum_{{k in window(o)}} x[n, c, k] / divisor(o)`` over each {nd}-D window.

    Args:
        kernel_size, stride (default kernel_size), padding: int or tuple of {nd} (or of one,
            which torch broadcasts); zero padding of at most half the kernel.
        ceil_mode: round the output size up (as MaxPool{nd}d).
        count_include_pad: the divisor counts the zero padding (default) or only real inputs.{override}

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})`` (MaxPool{nd}d's formula, dilation 1).

    Maths:
        y_{{n,c,o}} = \frac{{1}}{{|w(o)|}}\sum_{{k \in w(o)}} x_{{n,c,k}}

    Derivation:
        1. $\partial y_{{n,c,o}} / \partial x_{{n,c,i}} = [i \in w(o)] / |w(o)|$, with $|w(o)|$ the
           window's divisor.
        2. Each input collects from every window that contains it (an overlap-add,
           ``window_sum_grad()``):
           $$\bar x_{{n,c,i}} = \sum_{{o:\, i \in w(o)}} \frac{{\bar y_{{n,c,o}}}}{{|w(o)|}}$$

    Backward:
        dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / divisor(o): the
        transposed convolution with a ones kernel, done as an overlap-add over the kernel
        offsets (``_pool.window_sum_grad``).

    What torch hides:
        the divisor is per output pixel: with ``count_include_pad`` it is the window clipped
        to the *padded* input (so a ceil_mode window hanging past the padding is divided by
        fewer than prod(kernel_size)), without it only real inputs count{hides}
    """


class _AvgPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        self.kernel_size, self.stride, self.padding = self._window(kernel_size, stride, padding)
        if min(self.kernel_size + self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size and stride must be positive and padding "
                             f"non-negative, got {self.kernel_size}, {self.stride}, {self.padding}")
        check_pad(name, self.padding, self.kernel_size)
        if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                             or divisor_override == 0):
            raise ValueError(f"{name}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def _divisor(self, axes, dtype):
        if self.divisor_override is not None:
            return np.asarray(self.divisor_override, dtype)
        div = np.ones((1,) * len(axes))
        for i, (a, k, p) in enumerate(zip(axes, self.kernel_size, self.padding)):
            start = a.pos[:, 0]
            if self.count_include_pad:   # the window clipped to the padded input
                n = np.minimum(start + k, a.size + p) - start
            else:                        # only the real inputs
                n = a.valid.sum(axis=1)
            shape = [1] * len(axes)
            shape[i] = -1
            div = div * n.reshape(shape)                                 # outer product: (*O)
        return div.astype(dtype)

    def forward(self, input):
        x, unbatched = self._batched(input)
        axes = tuple(P.sliding_axis(s, k, st, p, 1, self.ceil_mode) for s, k, st, p in
                     zip(x.shape[2:], self.kernel_size, self.stride, self.padding))
        if min(a.pos.shape[0] for a in axes) < 1:
            raise ValueError(f"{type(self).__name__}: input of spatial size {x.shape[2:]} is too "
                             f"small for kernel {self.kernel_size}")
        div = self._divisor(axes, x.dtype)
        y = P.window_sum(x, axes) / div                                  # (N, C, *O)
        return self._out(y, PoolCache(axes, x.shape, y.shape, None, div, unbatched, x.dtype))

    def backward(self, grad_output):
        cache = self._saved()
        dy = self._grad_output(grad_output, cache)
        dx = P.window_sum_grad(dy / cache.div, cache.axes, cache.in_shape)
        return dx[0] if cache.unbatched else dx

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


_OVERRIDE = "\n        divisor_override: a fixed divisor instead."
_HIDES_OVERRIDE = "; ``divisor_override`` replaces both."


class AvgPool1d(_AvgPoolNd):
    _nd = 1
    __doc__ = _AVG_DOC.format(nd=1, S="L", O="L_out", override="",
                              hides=" (torch has no divisor_override in 1-D; its kernel is "
                                    "avg_pool2d on an unsqueezed input).")

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, dtype=None):
        super().__init__(kernel_size, stride, padding, ceil_mode, count_include_pad, None, dtype)


class AvgPool2d(_AvgPoolNd):
    _nd = 2
    __doc__ = _AVG_DOC.format(nd=2, S="H, W", O="H_out, W_out", override=_OVERRIDE,
                              hides=_HIDES_OVERRIDE)


class AvgPool3d(_AvgPoolNd):
    _nd = 3
    __doc__ = _AVG_DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out", override=_OVERRIDE,
                              hides=_HIDES_OVERRIDE)


def _adaptive_size(output_size, sizes, owner, nd):
    """torch's output_size: an int, or ``nd`` of them where ``None`` keeps that input size
    (2-D and 3-D only: ``adaptive_*_pool1d`` takes ints)."""
    t = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * nd
    none_ok = nd > 1 and isinstance(output_size, (tuple, list))
    if len(t) != nd or not all((o is None and none_ok) or (isinstance(o, (int, np.integer))
                                                            and o > 0) for o in t):
        raise ValueError(f"{owner}: output_size must be a positive int" + (
            f" or a tuple of {nd} positive ints or None" if nd > 1 else " (or a 1-tuple)")
            + f", got {output_size!r}")
    return tuple(s if o is None else int(o) for o, s in zip(t, sizes))


_ADAPTIVE_AVG_DOC = """``y[n, c, o..] = mean of x[n, c, window(o)..]``, along each axis the window
    ``[floor(o*S/O), ceil((o+1)*S/O))``.

    Args:
        output_size: the output's spatial size: an int (every axis){none}.

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``.

    Backward:
        dx = the forward's window sums transposed, divided by each window's size: with the
        0/1 window matrices ``M_i`` ``(O_i, S_i)`` of the forward ``y = x ×_1 M_1 ... ×_{nd} M_{nd}
        / div`` (one matmul per axis), ``dx = (dy / div) ×_1 M_1^T ... ×_{nd} M_{nd}^T``.

    What torch hides:
        windows have different sizes and may overlap (S=5 → 3 windows of 2, 3, 2), so this
        is not an AvgPool with some fixed kernel; each output divides by its own size.
        The window mean is separable, so it is one matmul per axis here (``_pool.along``)
        rather than torch's per-window loop; an input holding ±inf takes the windows
        themselves instead (``inf * 0`` in a matmul would make every window NaN).
    """

_NONE = ", or a tuple of {nd} where ``None`` keeps that input size"


class _AdaptiveAvgPoolNd(_Pool):
    def __init__(self, output_size, dtype=None):
        super().__init__(dtype)
        _adaptive_size(output_size, (1,) * self._nd, type(self).__name__, self._nd)
        self.output_size = output_size

    def forward(self, input):
        x, unbatched = self._batched(input)
        out = _adaptive_size(self.output_size, x.shape[2:], type(self).__name__, self._nd)
        axes, mats, div = P.adaptive_plan(x.shape[2:], out, x.dtype)   # mats: (O_i, S_i)
        if np.isfinite(x).all():
            y = x
            for i in reversed(range(self._nd)):                          # last axis first
                y = P.along(y, mats[i], i)
            y = y / div                                                  # (N, C, *O)
        else:   # inf * 0 = NaN inside the 0/1 matmuls would leak into every window: sum them
            y = P.gather(x, axes, 0).sum(axis=tuple(range(-self._nd, 0))) / div
        return self._out(y, PoolCache(axes, x.shape, y.shape, None, div, unbatched, x.dtype, mats))

    def backward(self, grad_output):
        cache = self._saved()
        dx = self._grad_output(grad_output, cache) / cache.div
        for i, m in enumerate(cache.mats):                               # (O_i, S_i): M_i^T
            dx = P.along(dx, m.T, i)
        return dx[0] if cache.unbatched else dx                          # (N, C, *S)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveAvgPool1d(_AdaptiveAvgPoolNd):
    _nd = 1
    __doc__ = _ADAPTIVE_AVG_DOC.format(S="L", O="L_out", none="", nd=1)


class AdaptiveAvgPool2d(_AdaptiveAvgPoolNd):
    _nd = 2
    __doc__ = _ADAPTIVE_AVG_DOC.format(S="H, W", O="H_out, W_out", none=_NONE.format(nd=2),
                                       nd=2)


class AdaptiveAvgPool3d(_AdaptiveAvgPoolNd):
    _nd = 3
    __doc__ = _ADAPTIVE_AVG_DOC.format(S="D, H, W", O="D_out, H_out, W_out",
                                       none=_NONE.format(nd=3), nd=3)


_ADAPTIVE_MAX_DOC = """``y[n, c, o..] = max of x[n, c, window(o)..]`` (AdaptiveAvgPool{nd}d's windows).

    Args:
        output_size: the output's spatial size: an int (every axis){none}.
        return_indices: forward also returns the flat index ``{flat}`` of each maximum.

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``.

    Backward:
        dx[n, c, argmax(o)] += dy[n, c, o]

    What torch hides:
        ties go to the first maximum in row-major scan order (a NaN wins, the last NaN), as
        in MaxPool{nd}d; overlapping adaptive windows may pick the same input, whose gradient
        then adds up.
    """


class _AdaptiveMaxPoolNd(_Pool):
    def __init__(self, output_size, return_indices=False, dtype=None):
        super().__init__(dtype)
        _adaptive_size(output_size, (1,) * self._nd, type(self).__name__, self._nd)
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, input):
        x, unbatched = self._batched(input)
        out = _adaptive_size(self.output_size, x.shape[2:], type(self).__name__, self._nd)
        axes = P.adaptive_plan(x.shape[2:], out, x.dtype)[0]
        y, arg = P.gathered_max(x, axes)
        return self._out(y, PoolCache(axes, x.shape, y.shape, arg, None, unbatched, x.dtype),
                         self.return_indices)

    def backward(self, grad_output, grad_indices=None):
        return self._max_backward(grad_output)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd):
    _nd = 1
    __doc__ = _ADAPTIVE_MAX_DOC.format(nd=1, S="L", O="L_out", none="", flat="l")


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd):
    _nd = 2
    __doc__ = _ADAPTIVE_MAX_DOC.format(nd=2, S="H, W", O="H_out, W_out",
                                       none=_NONE.format(nd=2), flat="h*W + w")


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd):
    _nd = 3
    __doc__ = _ADAPTIVE_MAX_DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out",
                                       none=_NONE.format(nd=3), flat="(d*H + h)*W + w")
