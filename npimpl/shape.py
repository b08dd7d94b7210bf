"""Layers that only move values around: Flatten and Unflatten."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .module import Module


class ReshapeCache(NamedTuple):
    in_shape: tuple         # the input's shape (the gradient's)
    out_shape: tuple        # the output's shape (grad_output's)
    dtype: np.dtype         # the input's dtype


class Flatten(Module):
    """Merge dims ``start_dim..end_dim`` into one: ``(N, C, H, W)`` → ``(N, C*H*W)``.

    Args:
        start_dim: first dim to flatten (default 1: keep the batch dim).
        end_dim: last dim to flatten (default -1).

    Backward:
        dx = dy reshaped back to the input's shape (no arithmetic at all); dy must have the
        output's shape (a transposed dy of the same size would be scrambled by the reshape).

    What torch hides:
        ``Flatten`` defaults to ``start_dim=1`` while ``torch.flatten`` defaults
        to 0; on a 0-D input the output is 1-D; autograd casts a float32 dy flowing into a
        float64 graph to float64, so dx has the input's dtype.
    """

    def __init__(self, start_dim: int = 1, end_dim: int = -1, dtype=None):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim
        self.dtype = None if dtype is None else self._dtype(dtype)

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        n = max(x.ndim, 1)
        s = _checks.dim(self.start_dim, n, "Flatten")
        e = _checks.dim(self.end_dim, n, "Flatten")
        if s > e:
            raise ValueError(f"Flatten: start_dim {self.start_dim} must not come after end_dim "
                             f"{self.end_dim} for a {x.ndim}-D input")
        if x.ndim == 0:
            y = x.reshape(1)
        else:
            y = x.reshape(x.shape[:s] + (int(np.prod(x.shape[s:e + 1])),) + x.shape[e + 1:])
        self._cache = ReshapeCache(x.shape, y.shape, x.dtype)
        return y

    def backward(self, grad_output):
        c = self._saved()
        return self._upstream(grad_output, c.out_shape, c.dtype).reshape(c.in_shape)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim ``dim`` into ``unflattened_size``: ``(N, 12)`` → ``(N, 3, 4)``.

    Backward:
        dx = dy reshaped back to the input's shape (dy must have the output's shape).
    """

    def __init__(self, dim: int, unflattened_size, dtype=None):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)
        if not all(isinstance(s, (int, np.integer)) and not isinstance(s, bool)
                   for s in self.unflattened_size):
            raise TypeError(f"Unflatten: unflattened_size must be a tuple of ints, got "
                            f"{unflattened_size!r}")
        self.dtype = None if dtype is None else self._dtype(dtype)

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        d = _checks.dim(self.dim, x.ndim, "Unflatten")
        sizes = list(self.unflattened_size)
        if sizes.count(-1) == 1:
            known = int(np.prod([s for s in sizes if s != -1]))
            if known == 0:      # torch: "the unspecified dimension size -1 can be any value"
                raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} has a 0 "
                                 f"beside its -1, which any size then fits; expected the -1 "
                                 f"among non-zero sizes")
            sizes[sizes.index(-1)] = x.shape[d] // known
        if int(np.prod(sizes)) != x.shape[d]:
            raise ValueError(f"Unflatten: unflattened_size {self.unflattened_size} must multiply "
                             f"to the size of dim {self.dim}, which is {x.shape[d]}")
        y = x.reshape(x.shape[:d] + tuple(sizes) + x.shape[d + 1:])
        self._cache = ReshapeCache(x.shape, y.shape, x.dtype)
        return y

    def backward(self, grad_output):
        c = self._saved()
        return self._upstream(grad_output, c.out_shape, c.dtype).reshape(c.in_shape)
