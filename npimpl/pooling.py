"""Max, average and adaptive pooling (1-D and 2-D), on the window gather of ``_pool``."""
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


class _Pool(Module):
    """Input checks, unbatched inputs, and the common backward plumbing."""

    _nd = 2

    def __init__(self, dtype=None):
        super().__init__()
        self.dtype = None if dtype is None else self._dtype(dtype)

    def _batched(self, input):
        x = self._input(input, dtype=self.dtype)
        _checks.ndim(x, (self._nd + 1, self._nd + 2), type(self).__name__)
        if min(x.shape[-self._nd:]) < 1 or (x.ndim == self._nd + 2 and x.shape[1] == 0):
            raise ValueError(f"{type(self).__name__}: expected non-empty channels and spatial "
                             f"dims, got shape {x.shape}")
        return (x[None], True) if x.ndim == self._nd + 1 else (x, False)

    def _grad_output(self, grad_output, cache: PoolCache):
        g = self._input(grad_output, "grad_output")
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


_MAX_DOC = """``y[n, c, o] = max_{{k}} x_pad[n, c, o*stride + k*dilation]`` over each {nd}-D window.

    Args:
        kernel_size, stride (default kernel_size), padding, dilation: int or tuple of {nd}.
            The padding is -inf (it never wins) and may be at most half the dilated kernel.
        return_indices: forward also returns the flat index ``h*W + w`` of each maximum.
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
        The indices torch returns are flat over the *unpadded* input's spatial dims.
    """


class _MaxPoolNd(_Pool):
    def __init__(self, kernel_size, stride=None, padding=0, dilation=1, return_indices=False,
                 ceil_mode=False, dtype=None):
        super().__init__(dtype)
        name, nd = type(self).__name__, self._nd
        self.kernel_size = ntuple(kernel_size, nd, name, "kernel_size")
        self.stride = self.kernel_size if stride is None or stride == () else ntuple(stride, nd, name, "stride")
        self.padding = ntuple(padding, nd, name, "padding")
        self.dilation = ntuple(dilation, nd, name, "dilation")
        if min(self.kernel_size + self.stride + self.dilation) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size, stride and dilation must be positive and "
                             f"padding non-negative, got {self.kernel_size}, {self.stride}, "
                             f"{self.dilation}, {self.padding}")
        for p, k, d in zip(self.padding, self.kernel_size, self.dilation):
            if p > ((k - 1) * d + 1) // 2:
                raise ValueError(f"{name}: pad should be at most half of effective kernel size, "
                                 f"but got pad={self.padding}, kernel_size={self.kernel_size} and "
                                 f"dilation={self.dilation}")
        self.return_indices, self.ceil_mode = bool(return_indices), bool(ceil_mode)

    def forward(self, input):
        x, unbatched = self._batched(input)
        axes = tuple(P.sliding_axis(s, k, st, p, d, self.ceil_mode) for s, k, st, p, d in
                     zip(x.shape[2:], self.kernel_size, self.stride, self.padding, self.dilation))
        if min(a.pos.shape[0] for a in axes) < 1:
            raise ValueError(f"{type(self).__name__}: input of spatial size {x.shape[2:]} is too "
                             f"small for kernel {self.kernel_size} (dilation {self.dilation})")
        y, arg = P.sliding_max(x, axes)                                # (N, C, *O)
        return self._out(y, PoolCache(axes, x.shape, y.shape, arg, None, unbatched),
                         self.return_indices)

    def backward(self, grad_output, grad_indices=None):
        return self._max_backward(grad_output)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}, "
                f"dilation={self.dilation}, ceil_mode={self.ceil_mode}")


class MaxPool1d(_MaxPoolNd):
    _nd = 1
    __doc__ = _MAX_DOC.format(nd=1, S="L", O="L_out")


class MaxPool2d(_MaxPoolNd):
    _nd = 2
    __doc__ = _MAX_DOC.format(nd=2, S="H, W", O="H_out, W_out")


class AvgPool2d(_Pool):
    r"""``y[n, c, o] = sum_{k in window(o)} x[n, c, k] / divisor(o)``.

    Args:
        kernel_size, stride (default kernel_size), padding: int or (h, w); zero padding of at
            most half the kernel.
        ceil_mode: round the output size up (as MaxPool2d).
        count_include_pad: the divisor counts the zero padding (default) or only real inputs.
        divisor_override: a fixed divisor instead.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)`` (MaxPool2d's formula, dilation 1).

    Maths:
        y_{n,c,o} = \frac{1}{|w(o)|}\sum_{k \in w(o)} x_{n,c,k}

    Derivation:
        1. $\partial y_{n,c,o} / \partial x_{n,c,i} = [i \in w(o)] / |w(o)|$, with $|w(o)|$ the
           window's divisor.
        2. Each input collects from every window that contains it (an overlap-add,
           ``window_sum_grad()``):
           $$\bar x_{n,c,i} = \sum_{o:\, i \in w(o)} \frac{\bar y_{n,c,o}}{|w(o)|}$$

    Backward:
        dx[n, c, i] = sum over the windows o containing i of dy[n, c, o] / divisor(o): the
        transposed convolution with a ones kernel, done as an overlap-add over the kernel
        offsets (``_pool.window_sum_grad``).

    What torch hides:
        the divisor is per output pixel: with ``count_include_pad`` it is the window clipped
        to the *padded* input (so a ceil_mode window hanging past the padding is divided by
        fewer than kh*kw), without it only real inputs count; ``divisor_override`` replaces both.
    """

    def __init__(self, kernel_size, stride=None, padding=0, ceil_mode=False,
                 count_include_pad=True, divisor_override=None, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        self.kernel_size = ntuple(kernel_size, 2, name, "kernel_size")
        self.stride = self.kernel_size if stride is None or stride == () else ntuple(stride, 2, name, "stride")
        self.padding = ntuple(padding, 2, name, "padding")
        if min(self.kernel_size + self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size and stride must be positive and padding "
                             f"non-negative, got {self.kernel_size}, {self.stride}, {self.padding}")
        if any(p > k // 2 for p, k in zip(self.padding, self.kernel_size)):
            raise ValueError(f"{name}: pad should be at most half of kernel size, but got "
                             f"pad={self.padding} and kernel_size={self.kernel_size}")
        if divisor_override is not None and (not isinstance(divisor_override, (int, np.integer))
                                             or divisor_override == 0):
            raise ValueError(f"{name}: divisor_override must be a non-zero int, got "
                             f"{divisor_override!r}")
        self.ceil_mode, self.count_include_pad = bool(ceil_mode), bool(count_include_pad)
        self.divisor_override = divisor_override

    def _divisor(self, axes, dtype):
        if self.divisor_override is not None:
            return np.asarray(self.divisor_override, dtype)
        lens = []
        for a, k, p in zip(axes, self.kernel_size, self.padding):
            start = a.pos[:, 0]
            if self.count_include_pad:   # the window clipped to the padded input
                lens.append(np.minimum(start + k, a.size + p) - start)
            else:                        # only the real inputs
                lens.append(a.valid.sum(axis=1))
        return (lens[0][:, None] * lens[1][None, :]).astype(dtype)       # (H_out, W_out)

    def forward(self, input):
        x, unbatched = self._batched(input)
        axes = tuple(P.sliding_axis(s, k, st, p, 1, self.ceil_mode) for s, k, st, p in
                     zip(x.shape[2:], self.kernel_size, self.stride, self.padding))
        if min(a.pos.shape[0] for a in axes) < 1:
            raise ValueError(f"AvgPool2d: input of spatial size {x.shape[2:]} is too small for "
                             f"kernel {self.kernel_size}")
        div = self._divisor(axes, x.dtype)
        y = P.window_sum(x, axes) / div                                  # (N, C, H_out, W_out)
        return self._out(y, PoolCache(axes, x.shape, y.shape, None, div, unbatched))

    def backward(self, grad_output):
        cache = self._saved()
        dy = self._grad_output(grad_output, cache)
        dx = P.window_sum_grad(dy / cache.div, cache.axes, cache.in_shape)
        return dx[0] if cache.unbatched else dx

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


def _adaptive_size(output_size, sizes, owner):
    t = tuple(output_size) if isinstance(output_size, (tuple, list)) else (output_size,) * 2
    if len(t) != 2 or not all(o is None or (isinstance(o, (int, np.integer)) and o > 0) for o in t):
        raise ValueError(f"{owner}: output_size must be a positive int, None, or a pair of them, "
                         f"got {output_size!r}")
    return tuple(s if o is None else int(o) for o, s in zip(t, sizes))


class AdaptiveAvgPool2d(_Pool):
    """``y[n, c, i, j] = mean of x[n, c, h0(i):h1(i), w0(j):w1(j)]``, ``h0 = floor(i*H/H_out)``,
    ``h1 = ceil((i+1)*H/H_out)``.

    Args:
        output_size: ``H_out`` (= ``W_out``), or ``(H_out, W_out)``; ``None`` keeps that size.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)``.

    Backward:
        dx[n, c, h, w] = sum over the windows (i, j) containing (h, w) of dy[n, c, i, j] / (kh_i * kw_j),
        i.e. ``dx = M_h^T (dy / div) M_w`` with the 0/1 window matrices of the forward
        ``y = M_h x M_w^T / div`` (two matmuls each way).

    What torch hides:
        windows have different sizes and may overlap (H=5 → 3 windows of 2, 3, 2 rows), so
        this is not an AvgPool2d with some fixed kernel; each output divides by its own size.
    """

    def __init__(self, output_size, dtype=None):
        super().__init__(dtype)
        _adaptive_size(output_size, (1, 1), type(self).__name__)
        self.output_size = output_size

    def forward(self, input):
        x, unbatched = self._batched(input)
        out = _adaptive_size(self.output_size, x.shape[2:], type(self).__name__)
        mh, mw = (P.adaptive_matrix(P.adaptive_axis(s, o), x.dtype) for s, o in zip(x.shape[2:], out))
        div = mh.sum(1)[:, None] * mw.sum(1)[None, :]                   # (H_out, W_out)
        if np.isfinite(x).all():
            y = mh @ (x @ mw.T) / div                                    # (N, C, H_out, W_out)
        else:   # inf * 0 = NaN inside the 0/1 matmuls would leak into every window: sum them
            axes = tuple(P.adaptive_axis(s, o) for s, o in zip(x.shape[2:], out))
            y = P.gather(x, axes, 0).sum(axis=(-2, -1)) / div
        self._cache = (mh, mw, div, x.shape, y.shape, unbatched)
        return y[0] if unbatched else y

    def backward(self, grad_output):
        mh, mw, div, in_shape, out_shape, unbatched = self._saved()
        g = self._input(grad_output, "grad_output")
        want = out_shape[1:] if unbatched else out_shape
        if g.shape != tuple(want):
            raise ValueError(f"AdaptiveAvgPool2d: grad_output must have shape {tuple(want)}, "
                             f"got {g.shape}")
        dx = mh.T @ (g / div) @ mw                                       # (N, C, H, W)
        return dx

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"


class AdaptiveMaxPool2d(_Pool):
    """``y[n, c, i, j] = max of x[n, c, h0(i):h1(i), w0(j):w1(j)]`` (AdaptiveAvgPool2d's windows).

    Args:
        output_size: ``H_out`` (= ``W_out``), or ``(H_out, W_out)``; ``None`` keeps that size.
        return_indices: forward also returns the flat index ``h*W + w`` of each maximum.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C, H_out, W_out)``.

    Backward:
        dx[n, c, argmax(i, j)] += dy[n, c, i, j]

    What torch hides:
        ties go to the first maximum in row-major scan order (a NaN wins, the last NaN), as
        in MaxPool2d; overlapping adaptive windows may pick the same input, whose gradient
        then adds up.
    """

    def __init__(self, output_size, return_indices=False, dtype=None):
        super().__init__(dtype)
        _adaptive_size(output_size, (1, 1), type(self).__name__)
        self.output_size, self.return_indices = output_size, bool(return_indices)

    def forward(self, input):
        x, unbatched = self._batched(input)
        out = _adaptive_size(self.output_size, x.shape[2:], type(self).__name__)
        axes = tuple(P.adaptive_axis(s, o) for s, o in zip(x.shape[2:], out))
        y, arg = P.gathered_max(x, axes)
        return self._out(y, PoolCache(axes, x.shape, y.shape, arg, None, unbatched),
                         self.return_indices)

    def backward(self, grad_output, grad_indices=None):
        return self._max_backward(grad_output)

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"
