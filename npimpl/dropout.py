"""Dropout: zero each element with probability p in training, scale the rest by 1/(1-p)."""
from __future__ import annotations

import numpy as np

from .module import Module


class Dropout(Module):
    """``y = x * m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` in training; ``y = x`` in eval.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: accepted for torch compatibility (the output is always a new array).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).

    Attributes:
        mask: the scaled mask ``m / (1 - p)`` of the last training forward (None in eval).
            Lockstep cannot reproduce torch's random stream, so the NumPy side draws the mask
            and the torch twin (``reference``'s ``SharedMaskDropout``) multiplies by this same
            array: both sides then compute with one draw.

    Backward:
        dx = dy * m / (1 - p)

    What torch hides:
        the scaling happens at *training* time ("inverted dropout"), so eval is
        the identity; with ``p = 1`` every element is zeroed (torch returns zeros,
        not NaN from 0 * 1/0).
    """

    def __init__(self, p: float = 0.5, inplace: bool = False, rng=None, dtype=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"Dropout: probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = float(p), inplace
        self.rng = rng if rng is not None else np.random.default_rng()
        self.dtype = None if dtype is None else self._dtype(dtype)
        self.mask = None

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        if not self.training or self.p == 0.0:
            self.mask = None
            self._cache = "identity"
            return x.copy()
        if self.p == 1.0:
            self.mask = np.zeros_like(x)
        else:
            keep = self.rng.random(x.shape) >= self.p
            # np.asarray: for a 0-d input the product is a NumPy scalar, not an array
            self.mask = np.asarray(keep.astype(x.dtype) * x.dtype.type(1.0 / (1.0 - self.p)))
        self._cache = self.mask
        return np.asarray(x * self.mask)

    def backward(self, grad_output):
        mask = self._saved()
        g = self._input(grad_output, "grad_output")
        return g.copy() if isinstance(mask, str) else np.asarray(g * mask)  # 0-d: an array

    def extra_repr(self) -> str:
        return f"p={self.p}"
