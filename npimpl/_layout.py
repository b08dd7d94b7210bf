"""The base of the layers that only move values by a fixed index map, or mix them by fixed
weights: padding, resampling, pixel and channel shuffles, fold and unfold.

None of them has a parameter, so (like the activations) they compute in their input's
dtype and their ``dtype=`` only pins which dtype they accept. Every one of them is a
*linear* map ``y = A x`` whose matrix depends only on shapes and options, so its backward
is the adjoint ``dx = A^T dy``: a gather forward is a scatter-add backward, a pure
permutation (PixelShuffle) is its inverse permutation.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .module import Module


class LayoutModule(Module):
    """Holds ``dtype``, checks the input against it, and checks ``grad_output`` against
    the shape and dtype that the last forward returned."""

    def __init__(self, dtype=None):
        super().__init__()
        self.dtype = None if dtype is None else self._dtype(dtype)

    def _x(self, input, allowed=None) -> np.ndarray:
        """The input as a float ndarray; ``allowed``: the ranks it may have."""
        x = self._input(input, dtype=self.dtype)
        if allowed is not None:
            _checks.ndim(x, allowed, type(self).__name__)
        return x

    def _g(self, grad_output, shape, dtype) -> np.ndarray:
        g = self._input(grad_output, "grad_output", dtype)
        if g.shape != tuple(shape):
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {tuple(shape)} "
                             f"(the forward output's), got {g.shape}")
        return g


def positive_int(v, owner: str, name: str) -> int:
    """``v`` as an int, if it is a positive integer (not a bool, not a float)."""
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{owner}: {name} must be an int, got {v!r}")
    if v < 1:
        raise ValueError(f"{owner}: {name} must be positive, got {v!r}")
    return int(v)
