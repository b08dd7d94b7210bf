"""Element-wise activations and the softmax family.

Parameter-free modules compute in the dtype of their input, as torch does;
their ``dtype=`` argument (default None) only pins which dtype they accept.
"""
from __future__ import annotations

import warnings

import numpy as np
from einops import einsum

from . import _checks
from .module import Module


class Activation(Module):
    """Base of parameter-free layers: holds ``dtype`` and checks the input against it."""

    def __init__(self, dtype=None):
        super().__init__()
        self.dtype = None if dtype is None else self._dtype(dtype)

    def _x(self, x, name: str = "input") -> np.ndarray:
        return self._input(x, name, self.dtype)

    def _g(self, grad_output, like: np.ndarray) -> np.ndarray:
        g = self._input(grad_output, "grad_output", like.dtype)
        if g.shape != like.shape:
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {like.shape}, "
                             f"got {g.shape}")
        return g


class ReLU(Activation):
    """``y = max(x, 0)``.

    Backward:
        dx = dy * [y > 0]   (at x = 0 exactly the gradient is 0, torch's choice)

    What torch hides:
        torch differentiates through the *output* (``threshold_backward(dy, y, 0)``),
        so the kink at 0 gets slope 0, not 1 and not 0.5.
    """

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def forward(self, input):
        x = self._x(input)
        y = np.asarray(np.maximum(x, 0, out=x if self.inplace else None))   # 0-d stays an array
        self._cache = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        g = self._g(grad_output, y)
        return np.where(y <= 0, 0, g).astype(g.dtype, copy=False)   # NaN passes dy, as torch


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``1 / (1 + exp(-x))`` without overflow: ``exp(x) / (1 + exp(x))`` for x < 0."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e)).astype(x.dtype, copy=False)


class Sigmoid(Activation):
    """``y = 1 / (1 + exp(-x))``.

    Backward:
        dx = dy * y * (1 - y)

    What torch hides:
        the backward uses only the saved output y, never x.
    """

    def forward(self, input):
        y = sigmoid(self._x(input))
        self._cache = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        return np.asarray(self._g(grad_output, y) * (1 - y) * y)   # 0-d stays an array


class Tanh(Activation):
    """``y = tanh(x)``.

    Backward:
        dx = dy * (1 - y^2)
    """

    def forward(self, input):
        y = np.asarray(np.tanh(self._x(input)))    # a 0-d input gives a 0-d array, not a scalar
        self._cache = y
        return y

    def backward(self, grad_output):
        y = self._saved()
        return np.asarray(self._g(grad_output, y) * (1 - y * y))   # 0-d stays an array


def legacy_softmax_dim(ndim: int) -> int:
    """torch's rule when ``dim=None``: dim 0 for 0-, 1- and 3-D inputs, else dim 1."""
    return 0 if ndim in (0, 1, 3) else 1


class _SoftmaxBase(Activation):
    def __init__(self, dim: int | None = None, dtype=None):
        super().__init__(dtype)
        self.dim = dim

    def _axis(self, x: np.ndarray) -> int:
        name = type(self).__name__
        if self.dim is None:
            warnings.warn(f"Implicit dimension choice for {name.lower()} has been deprecated. "
                          "Change the call to include dim=X as an argument.", stacklevel=3)
            return legacy_softmax_dim(x.ndim)
        return _checks.dim(self.dim, x.ndim, name)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))``: the max-shift keeps exp() from overflowing."""
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


class Softmax(_SoftmaxBase):
    """``y_i = exp(x_i - m) / sum_j exp(x_j - m)`` along ``dim``, with ``m = max_j x_j``.

    Args:
        dim: the axis that sums to 1 (None: torch's deprecated implicit choice).

    Shape:
        any shape; output has the input's shape.

    Backward:
        the Jacobian is ``J_ij = dy_i/dx_j = y_i (delta_ij - y_j)``, and
        ``dx_j = sum_i J_ij dy_i``. The same product in O(C) without building J:
        ``dx = y * (dy - sum(dy * y))``.

    What torch hides:
        softmax is never differentiated through a Jacobian in torch: its
        ``_softmax_backward_data`` uses the O(C) form. Subtracting the max
        changes nothing mathematically but keeps ``exp`` finite for logits of
        1e4; the article's standalone Softmax skips it and returns NaN there.
    """

    def forward(self, input):
        x = self._x(input)
        axis = self._axis(x)
        y = softmax(x, axis)
        self._cache = (y, axis)
        return y

    def backward(self, grad_output):
        y, axis = self._saved()
        g = self._g(grad_output, y)
        p = np.moveaxis(y, axis, -1)                       # (..., C)
        gm = np.moveaxis(g, axis, -1)                      # (..., C)
        eye = np.eye(p.shape[-1], dtype=p.dtype)
        jac = p[..., :, None] * (eye - p[..., None, :])     # (..., C, C): J[i, j] = y_i (δ_ij - y_j)
        dx = einsum(jac, gm, "... i j, ... i -> ... j")    # the Jacobian-vector product
        return np.moveaxis(dx, -1, axis)


class LogSoftmax(_SoftmaxBase):
    """``y_i = x_i - m - log(sum_j exp(x_j - m))`` along ``dim`` (``m = max_j x_j``).

    Backward:
        dx = dy - softmax(x) * sum(dy)

    What torch hides:
        ``CrossEntropyLoss`` is ``NLLLoss(LogSoftmax(x))`` fused: computing the
        log of a softmax directly would underflow to ``log(0) = -inf``.
    """

    def forward(self, input):
        x = self._x(input)
        axis = self._axis(x)
        y = log_softmax(x, axis)
        self._cache = (y, axis)
        return y

    def backward(self, grad_output):
        y, axis = self._saved()
        g = self._g(grad_output, y)
        return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)
