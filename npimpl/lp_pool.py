"""LPPool1d/2d/3d: the power-average pool ``(sum x^p)^(1/p)``, written as torch writes it (an
average pool of ``x^p``, rescaled), so that its corners round and break like torch's."""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _pool as P
from .pooling import _Pool


class LPPoolCache(NamedTuple):
    x: np.ndarray           # (N, C, *S): the input (its power's derivative needs it)
    axes: tuple             # one _pool.Axis per spatial dim (padding 0)
    div: np.ndarray | None  # (*O): each window's size, clipped to the input (ceil_mode)
    s: np.ndarray | None    # (N, C, *O): avg_pool(x^p)
    z: np.ndarray | None    # (N, C, *O): sign(s) * relu(|s|) * prod(kernel_size)
    arg: np.ndarray | None  # p = ±inf: the max pool's chosen kernel offsets
    out_shape: tuple
    unbatched: bool
    dtype: np.dtype


def tsign(a: np.ndarray) -> np.ndarray:
    """torch.sign / torch.sgn of a real array: NumPy's sign, but 0 (not NaN) at NaN."""
    return np.where(np.isnan(a), 0, np.sign(a)).astype(a.dtype, copy=False)


class _LPPoolNd(_Pool):
    def __init__(self, norm_type, kernel_size, stride=None, ceil_mode=False, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        if isinstance(norm_type, bool) or not isinstance(norm_type, (int, float, np.integer,
                                                                     np.floating)) \
                or norm_type == 0 or math.isnan(norm_type):
            raise ValueError(f"{name}: norm_type must be a non-zero number (torch divides by it), "
                             f"got {norm_type!r}")
        if self._nd == 1 and not isinstance(kernel_size, (int, np.integer)):
            # torch multiplies the output by kernel_size itself: a tuple fails there
            raise ValueError(f"{name}: kernel_size must be an int, got {kernel_size!r}")
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self._kernel = self._tuple(kernel_size, "kernel_size", one=False)
        self.stride = stride
        self._stride = self._kernel if stride is None or stride == () else self._tuple(stride, "stride")
        if min(self._kernel + self._stride) < 1:
            raise ValueError(f"{name}: kernel_size and stride must be positive, got "
                             f"{self._kernel}, {self._stride}")
        self.ceil_mode = bool(ceil_mode)

    def forward(self, input):
        x, unbatched = self._batched(input)
        axes = tuple(P.sliding_axis(s, k, st, 0, 1, self.ceil_mode)
                     for s, k, st in zip(x.shape[2:], self._kernel, self._stride))
        if min(a.pos.shape[0] for a in axes) < 1:
            raise ValueError(f"{type(self).__name__}: input of spatial size {x.shape[2:]} is too "
                             f"small for kernel {self._kernel}")
        p = self.norm_type
        if math.isinf(p):      # torch: max_pool(|x|), or -max_pool(-|x|) for -inf
            sign = 1 if p > 0 else -1
            m, arg = P.sliding_max(sign * np.abs(x), axes)               # (N, C, *O)
            y = sign * m
            cache = LPPoolCache(x, axes, None, None, None, arg, y.shape, unbatched, x.dtype)
        else:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                div = np.ones((1,) * self._nd, x.dtype)                  # avg_pool's divisor
                for i, a in enumerate(axes):
                    n = np.minimum(a.pos[:, 0] + a.pos.shape[1], a.size) - a.pos[:, 0]
                    div = div * n.astype(x.dtype).reshape([-1 if j == i else 1 for j in range(self._nd)])
                s = P.window_sum(x ** p, axes) / div                     # avg_pool(x^p)
                z = tsign(s) * np.maximum(np.abs(s), 0) * x.dtype.type(np.prod(self._kernel))
                y = z ** (1.0 / p)
            cache = LPPoolCache(x, axes, div, s, z, None, y.shape, unbatched, x.dtype)
        self._cache = cache
        return y[0] if unbatched else y

    def backward(self, grad_output):
        c = self._saved()
        dy = self._grad_output(grad_output, c)
        p, x = self.norm_type, c.x
        if math.isinf(p):
            sign = 1 if p > 0 else -1
            da = sign * P.scatter_max_grad(sign * dy, c.arg, c.axes, x.shape)   # d|x|
            dx = da * tsign(x)                                                  # abs: sgn(x)
        else:
            with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
                # 4. forward was y = z^(1/p): torch's pow backward, dy * (1/p * z^(1/p - 1))
                dz = dy * ((1.0 / p) * c.z ** (1.0 / p - 1))
                dt = dz * x.dtype.type(np.prod(self._kernel))            # 3. z = t * K
                # 2. t = sign(s) * relu(|s|): relu passes where |s| > 0, abs multiplies by
                #    sgn(s), sign's own gradient is 0; so ds = dt at s != 0 and 0 at s = 0
                r = np.maximum(np.abs(c.s), 0)
                ds = np.where(r <= 0, 0, dt * tsign(c.s)) * tsign(c.s)
                # 1. s = avg_pool(x^p): the window sums' adjoint, then d(x^p) = p x^(p-1)
                dxp = P.window_sum_grad(ds / c.div, c.axes, x.shape)
                dx = dxp * (p * x ** (p - 1))
        return dx[0] if c.unbatched else dx

    def extra_repr(self) -> str:
        return (f"norm_type={self.norm_type}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, ceil_mode={self.ceil_mode}")


_DOC = """``y[n, c, o] = (sum_{{k in window(o)}} x[n, c, k]^p)^(1/p)`` over each {nd}-D window.

    Args:
        norm_type: the power ``p`` (non-zero; ``inf`` is a max pool of ``|x|``, ``-inf``
            the min of ``|x|``).
        kernel_size: {kernel}; stride (default kernel_size): int or tuple of {nd} (or of
            one, which torch broadcasts). No padding.
        ceil_mode: round the output size up (a last window may hang past the input).

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``, ``O = floor_or_ceil((S - k) / stride) + 1``.

    Backward:
        with ``s = avg_pool(x^p)`` (window sum / window size ``n``), ``K = prod(kernel_size)``,
        ``z = sign(s) * relu(|s|) * K`` and ``y = z^(1/p)``:
        dz = dy * (1/p) * z^(1/p - 1);  ds = dz * K where s != 0, else 0;
        dx[i] = p * x[i]^(p-1) * sum over the windows o containing i of ds[o] / n[o].
        ``p = ±inf``: the max pool's gradient (to the chosen input) times ``sgn(x)``.

    What torch hides:
        it is computed as ``avg_pool(x^p) * K`` then the 1/p-th power, not as a sum: a
        ceil_mode window of ``n < K`` inputs is therefore scaled by ``K / n``, as if the
        missing inputs equalled the window's mean (LPPool2d(2, 2, ceil_mode=True) on a 5x5
        plane of ones gives 2 everywhere, not sqrt(2) on the border). ``sign(s) * relu(|s|)``
        leaves ``s`` unchanged but zeroes its gradient where ``s = 0`` (an all-zero window:
        no NaN from ``0^(1/p - 1) = inf``). For odd or fractional ``p``, a negative ``x^p``
        or window sum gives NaN, as in torch (no absolute value is taken).
    """


class LPPool1d(_LPPoolNd):
    _nd = 1
    __doc__ = _DOC.format(nd=1, S="L", O="L_out", kernel="an int (torch multiplies by it)")


class LPPool2d(_LPPoolNd):
    _nd = 2
    __doc__ = _DOC.format(nd=2, S="H, W", O="H_out, W_out", kernel="int or tuple of 2")


class LPPool3d(_LPPoolNd):
    _nd = 3
    __doc__ = _DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out", kernel="int or tuple of 3")
