"""MaxUnpool1d/2d/3d: put each pooled value back where its max pool found it, zeros elsewhere."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .pooling import _Pool


class UnpoolCache(NamedTuple):
    target: np.ndarray      # (N*C*prod(S_in),) int64: flat output position of each input
    in_shape: tuple         # (N, C, *S_in), batched
    out_shape: tuple        # (N, C, *S_out), batched
    unbatched: bool
    dtype: np.dtype


class _MaxUnpoolNd(_Pool):
    """Shared by MaxUnpool1d/2d/3d (``_nd`` spatial dims)."""

    _nd = 2
    grad_inputs = (0,)          # the indices are integers: not differentiated

    def __init__(self, kernel_size, stride=None, padding=0, dtype=None):
        super().__init__(dtype)
        name = type(self).__name__
        # torch's _pair/_triple: no 1-tuple broadcast here (the kernel indexes [0], [1], ...)
        self.kernel_size = self._tuple(kernel_size, "kernel_size", one=False)
        self.stride = self.kernel_size if stride is None else self._tuple(stride, "stride", one=False)
        self.padding = self._tuple(padding, "padding", one=False)
        if min(self.kernel_size + self.stride) < 1 or min(self.padding) < 0:
            raise ValueError(f"{name}: kernel_size and stride must be positive and padding "
                             f"non-negative, got {self.kernel_size}, {self.stride}, {self.padding}")

    def _out_size(self, sizes, output_size):
        """torch's ``_unpool_output_size``: ``(S - 1)*stride + k - 2*padding``, or
        ``output_size`` (``nd`` sizes, or ``nd + 2`` with N and C first) strictly within a
        stride of it."""
        name, nd = type(self).__name__, self._nd
        default = [(s - 1) * st + k - 2 * p for s, st, k, p in
                   zip(sizes, self.stride, self.kernel_size, self.padding)]
        if output_size is None:
            out = default
        else:
            out = list(output_size)
            out = out[2:] if len(out) == nd + 2 else out
            if len(out) != nd or not all(isinstance(o, (int, np.integer)) for o in out):
                raise ValueError(f"{name}: output_size must hold {nd} or {nd + 2} ints, got "
                                 f"{output_size!r}")
            for d, (o, s, st) in enumerate(zip(out, default, self.stride)):
                if not s - st < o < s + st:
                    raise ValueError(f"{name}: invalid output_size {output_size!r} (dim {d} must "
                                     f"be between {s - st} and {s + st}, exclusive)")
        if min(out) < 1:
            raise ValueError(f"{name}: the output size {tuple(out)} for an input of spatial size "
                             f"{tuple(sizes)} must be positive")
        return tuple(int(o) for o in out)

    def forward(self, input, indices, output_size=None):
        name, nd = type(self).__name__, self._nd
        x = self._input(input, dtype=self.dtype)
        _checks.ndim(x, (nd + 1, nd + 2), name)
        if not isinstance(indices, np.ndarray) or indices.dtype != np.int64:
            raise TypeError(f"{name}: indices must be an int64 numpy.ndarray (a max pool's "
                            f"return_indices), got {getattr(indices, 'dtype', type(indices).__name__)}")
        if indices.shape != x.shape:
            raise ValueError(f"{name}: indices must have the input's shape {x.shape}, got "
                             f"{indices.shape}")
        unbatched = x.ndim == nd + 1
        if unbatched:
            x, indices = x[None], indices[None]
        n, c, *sizes = x.shape
        out = self._out_size(sizes, output_size)
        plane = int(np.prod(out))
        bad = (indices < 0) | (indices >= plane)
        if bad.any():
            raise IndexError(f"{name}: found an invalid max index {int(indices[bad][0])} (output "
                             f"planes are of size {'x'.join(map(str, out))}, expected indices "
                             f"in [0, {plane}))")
        target = (indices.reshape(n * c, -1) + np.arange(n * c)[:, None] * plane).ravel()
        y = np.zeros(n * c * plane, x.dtype)
        # torch's kernel writes the inputs in order, so of several inputs sent to one place the
        # LAST one stays; NumPy's fancy assignment promises no order, so keep only that one
        last = target.size - 1 - np.unique(target[::-1], return_index=True)[1]
        y[target[last]] = x.reshape(-1)[last]
        y = y.reshape((n, c) + out)                                         # (N, C, *S_out)
        self._cache = UnpoolCache(target, x.shape, y.shape, unbatched, x.dtype)
        return y[0] if unbatched else y

    def backward(self, grad_output):
        cache = self._saved()
        g = self._grad_output(grad_output, cache)                          # (N, C, *S_out)
        dx = g.reshape(-1)[cache.target].reshape(cache.in_shape)           # a gather
        return (dx[0] if cache.unbatched else dx), None

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


_DOC = """``y[n, c, idx[n, c, i]] = x[n, c, i]``, zero elsewhere: MaxPool{nd}d's partial inverse.

    Args:
        kernel_size, stride (default kernel_size), padding: int or tuple of {nd}: they only set
            the default output size (no 1-tuple, as torch).
        dtype: None accepts any float input (no parameters).

    Shape:
        ``forward(input, indices, output_size=None)``: input and int64 indices ``(N, C, {S})``
        or ``(C, {S})`` (flat indices ``{flat}`` into each output plane, as
        MaxPool{nd}d(return_indices=True) gives them) → ``(N, C, {O})``,
        ``{O1} = ({S1} - 1)*stride + kernel_size - 2*padding``, or ``output_size`` ({nd} sizes,
        or {nd2} with N and C first), which must lie strictly within ``stride`` of that.

    Backward:
        dx[n, c, i] = dy[n, c, idx[n, c, i]]: a gather (the indices get None).

    What torch hides:
        where several inputs carry the same index (overlapping pooling windows that chose one
        input), the forward keeps the LAST of them (the CPU kernel writes in order), but the
        backward is a gather, so EVERY one of them receives that position's gradient: the
        gradient is not the derivative of the forward there (``[1, 2, 3]`` with indices
        ``[1, 1, 0]`` gives ``[3, 2, 0, ...]``, and an upstream ``[10, 20, ...]`` gives
        ``[20, 20, 10]``). MaxUnpool1d is max_unpool2d on an unsqueezed input.
    """


class MaxUnpool1d(_MaxUnpoolNd):
    _nd = 1
    __doc__ = _DOC.format(nd=1, nd2=3, S="L", O="L_out", flat="l", O1="L_out", S1="L")


class MaxUnpool2d(_MaxUnpoolNd):
    _nd = 2
    __doc__ = _DOC.format(nd=2, nd2=4, S="H, W", O="H_out, W_out", flat="h*W_out + w",
                          O1="H_out", S1="H")


class MaxUnpool3d(_MaxUnpoolNd):
    _nd = 3
    __doc__ = _DOC.format(nd=3, nd2=5, S="D, H, W", O="D_out, H_out, W_out",
                          flat="(d*H_out + h)*W_out + w", O1="D_out", S1="D")
