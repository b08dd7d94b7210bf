"""FractionalMaxPool2d/3d: max pooling over windows placed at pseudo-random steps (Graham 2014).

Each (sample, channel) plane draws one number ``u`` in [0, 1) per spatial axis; the windows
of that axis start at ``floor((i + u) * alpha) - floor(u * alpha)``, ``alpha = (S - k) / (O - 1)``,
the last one at ``S - k``. The module draws the samples itself (``rng``) and keeps them in
``random_samples``, so that lockstep's torch twin can pass the same ones to
``F.fractional_max_pool2d(..., _random_samples=)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _pool as P
from ._fractional_fast import fractional_max
from .pooling import _Pool
from .random import generator


class FractionalCache(NamedTuple):
    idx: np.ndarray         # (N, C, *O) int64: flat index into its plane of each chosen input
    in_shape: tuple         # (N, C, *S), batched
    out_shape: tuple        # (N, C, *O), batched
    unbatched: bool
    dtype: np.dtype


def intervals(u: np.ndarray, size: int, out: int, k: int) -> np.ndarray:
    """torch's ``generate_intervals`` for samples ``u`` ``(N, C)``: the window starts
    ``(N, C, out)``, ``floor((i + u) * alpha) - floor(u * alpha)`` for ``i < out - 1`` and
    ``size - k`` for the last, computed in ``u``'s dtype as torch computes them in the input's
    (in float32 a start can differ from the float64 one)."""
    dt = u.dtype.type
    start = np.empty(u.shape + (out,), np.int64)
    if out > 1:
        alpha = dt(size - k) / dt(out - 1)
        i = np.arange(out - 1).astype(u.dtype)
        # static_cast<int>: truncation, and every operand is non-negative
        start[..., :-1] = (((i + u[..., None]) * alpha).astype(np.int64)
                           - (u * alpha).astype(np.int64)[..., None])
    if out > 0:
        start[..., -1] = size - k
    return start


def window_max(x: np.ndarray, starts, kernel):
    """``(y, idx)``: the max of each window ``starts[d][n, c, o_d] + [0, kernel[d])`` of ``x``
    ``(N, C, *S)`` and the flat index (into its plane) of the input torch's scan takes (first
    maximum in row-major order, the last NaN), by a copy of every window."""
    n, c, *sizes = x.shape
    nd, outs, kernel = len(kernel), tuple(s.shape[-1] for s in starts), tuple(kernel)
    # idx[n, c, o.., k..] = flat index of the input window o reads at offset k
    idx = np.zeros((n, c) + outs + kernel, np.int64)                       # (N, C, *O, *K)
    for d in range(nd):
        step = int(np.prod(sizes[d + 1:]))
        shape = [n, c] + [1] * 2 * nd
        shape[2 + d] = outs[d]
        idx += starts[d].reshape(shape) * step                                   # (N, C, O_d)
        shape = [1] * (2 + 2 * nd)
        shape[2 + nd + d] = kernel[d]
        idx += np.arange(kernel[d]).reshape(shape) * step                        # (K_d)
    # explicit sizes, not -1: with an empty batch NumPy cannot infer one
    flat = idx.reshape(n, c, int(np.prod(outs + kernel)))                 # (N, C, P*prod(K))
    win = np.take_along_axis(x.reshape(n, c, int(np.prod(sizes))), flat, axis=2)
    win = win.reshape((n, c) + outs + (int(np.prod(kernel)),))             # (N, C, *O, prod(K))
    k = P.torch_argmax(win)[..., None]              # first max, last NaN (torch's scan)
    y = np.take_along_axis(win, k, axis=-1)[..., 0]                        # (N, C, *O)
    return y, np.take_along_axis(idx.reshape(win.shape), k, axis=-1)[..., 0]


class _FractionalMaxPoolNd(_Pool):
    #: which sample drives which spatial axis: torch's 2-D kernel reads (W, H), its 3-D (T, H, W)
    _sample_of_axis: tuple = ()

    def __init__(self, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                 _random_samples=None, rng=None, dtype=None):
        super().__init__(dtype)
        name, nd = type(self).__name__, self._nd
        self.kernel_size = self._tuple(kernel_size, "kernel_size", one=False)
        if min(self.kernel_size) < 1:
            raise ValueError(f"{name}: kernel_size must be greater than 0, got {kernel_size!r}")
        if (output_size is None) == (output_ratio is None):
            raise ValueError(f"{name}: exactly one of output_size and output_ratio must be "
                             f"given, got output_size={output_size!r}, output_ratio={output_ratio!r}")
        self.output_size = None if output_size is None else self._tuple(output_size,
                                                                        "output_size", one=False)
        if self.output_size is not None and min(self.output_size) < 0:
            raise ValueError(f"{name}: output_size must be non-negative, got {output_size!r}")
        self.output_ratio = None
        if output_ratio is not None:
            r = tuple(output_ratio) if isinstance(output_ratio, (tuple, list)) else (output_ratio,) * nd
            if len(r) != nd or not all(isinstance(v, (int, float, np.integer, np.floating))
                                       and 0 < v < 1 for v in r):
                raise ValueError(f"{name}: output_ratio must be a number or a tuple of {nd} "
                                 f"numbers between 0 and 1 (exclusive), got {output_ratio!r}")
            self.output_ratio = r
        self.return_indices = bool(return_indices)
        self.register_buffer("_random_samples", None if _random_samples is None
                             else np.array(_random_samples))
        self.rng = generator(rng)
        self.random_samples = None          # (N, C, nd): the samples of the last forward

    def _out_size(self, sizes):
        if self.output_size is not None:
            return self.output_size
        return tuple(int(s * r) for s, r in zip(sizes, self.output_ratio))   # torch: int(S * r)

    def _samples(self, x):
        """The given ``_random_samples`` (checked as torch checks them), else a fresh draw of
        ``U[0, 1)`` in the input's dtype."""
        n, c = x.shape[:2]
        name, nd = type(self).__name__, self._nd
        u = self._random_samples
        if u is None:
            if x.dtype in (np.float32, np.float64):
                return self.rng.random((n, c, nd), dtype=x.dtype.type)
            return self.rng.random((n, c, nd)).astype(x.dtype)
        if u.dtype != x.dtype or u.ndim != 3 or u.shape[0] < n or u.shape[1:] != (c, nd):
            raise ValueError(f"{name}: _random_samples must have the input's dtype {x.dtype} and "
                             f"shape (>= {n}, {c}, {nd}), got {u.dtype} {u.shape}")
        if not ((u >= 0) & (u <= 1)).all():
            raise ValueError(f"{name}: _random_samples must lie in [0, 1] (a window would leave "
                             f"the input), got values from {u.min()} to {u.max()}")
        return u[:n]

    def forward(self, input):
        x, unbatched = self._batched(input)
        n, c, *sizes = x.shape
        name, nd, kernel = type(self).__name__, self._nd, self.kernel_size
        outs = self._out_size(sizes)
        for what, s, o, k in zip(("time", "height", "width")[-nd:], sizes, outs, kernel):
            # torch: o + k - 1 <= s in 2-D, but strictly < in 3-D
            if o + k - 1 > s or (nd == 3 and o + k - 1 == s):
                raise ValueError(f"{name}: pool {what} {k} too large relative to input {what} "
                                 f"{s} for an output {what} of {o} (expected output + kernel - 1 "
                                 f"{'<' if nd == 3 else '<='} input)")
        u = self._samples(x)
        self.random_samples = u
        starts = [intervals(u[:, :, self._sample_of_axis[d]], sizes[d], outs[d], kernel[d])
                  for d in range(nd)]                                      # (N, C, O_d) each
        if np.isnan(x).any():              # torch takes the last NaN: the textbook gather
            y, chosen = window_max(x, starts, kernel)
        else:                              # the same choice without the (N, C, *O, *K) index
            y, chosen = fractional_max(x, starts, kernel)        # (npimpl._fractional_fast)
        self._cache = FractionalCache(chosen, x.shape, y.shape, unbatched, x.dtype)
        if unbatched:
            y, chosen = y[0], chosen[0]
        return (y, chosen) if self.return_indices else y

    def backward(self, grad_output, grad_indices=None):
        cache = self._saved()
        dy = self._grad_output(grad_output, cache)
        dx = P.scatter_add(dy, cache.idx, cache.in_shape)
        return dx[0] if cache.unbatched else dx

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, output_size={self.output_size}, "
                f"output_ratio={self.output_ratio}")


_DOC = """``y[n, c, o..] = max of x[n, c, start(o).. : start(o) + kernel_size..]``, the window
    starts drawn per plane: ``start_i = floor((i + u) * alpha) - floor(u * alpha)``,
    ``alpha = (S - k) / (O - 1)``, the last ``S - k``, with ``u ~ U[0, 1)`` per (sample,
    channel, axis).

    Args:
        kernel_size: int or tuple of {nd} (the window; no 1-tuple, as torch).
        output_size: int or tuple of {nd}; or
        output_ratio: number or tuple of {nd} in (0, 1): ``O = int(S * ratio)`` (exactly one of
            the two).
        return_indices: forward also returns the flat index ``{flat}`` of each maximum.
        _random_samples: fixed samples ``(N, C, {nd})`` (torch's name; a buffer), instead of a
            draw per forward.
        rng: ``np.random.Generator`` the samples are drawn from (default: a fresh one).
        dtype: None accepts any float input (no parameters).

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``; needs ``O + k - 1 {cmp} S`` per axis.

    Attributes:
        random_samples: the ``(N, C, {nd})`` samples of the last forward, in the input's
        dtype; lockstep's torch twin passes them to ``F.fractional_max_pool{nd}d``.

    Backward:
        dx[n, c, argmax(o)] += dy[n, c, o] (windows overlap where a step is shorter than the
        kernel: a shared winner gets the sum, added in output order as torch adds it).

    What torch hides:
        the samples are drawn in the *input's* dtype and the starts computed in it, so a
        float32 and a float64 run with "the same" u can place windows differently; {order}
        Ties go to the first maximum in row-major order, a NaN wins (the last NaN), as in
        MaxPool. Every window has the fixed size ``kernel_size`` (the paper's regions are the
        intervals between consecutive starts), so windows overlap where a step is shorter
        than the kernel and skip inputs where it is longer. The draw happens in eval mode
        too (torch never checks ``training``).
    """


class FractionalMaxPool2d(_FractionalMaxPoolNd):
    _nd = 2
    _sample_of_axis = (1, 0)
    __doc__ = _DOC.format(nd=2, S="H, W", O="H_out, W_out", flat="h*W + w", cmp="<=",
                          order="``_random_samples[..., 0]`` drives the WIDTH and "
                                "``[..., 1]`` the height (3-D reads them in T, H, W order).")


class FractionalMaxPool3d(_FractionalMaxPoolNd):
    _nd = 3
    _sample_of_axis = (0, 1, 2)
    __doc__ = _DOC.format(nd=3, S="T, H, W", O="T_out, H_out, W_out", flat="(t*H + h)*W + w",
                          cmp="<", order="the samples drive T, H, W in that order (2-D reads "
                                         "them as W, H), and 3-D needs ``O + k - 1 < S`` "
                                         "where 2-D allows equality.")
