"""The softmax family: Softmax, LogSoftmax and Softmin along one dim.

All three subtract the max before ``exp`` so that logits of 1e4 stay finite.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from einops import einsum

from . import _checks
from .activation import Activation


class SoftmaxCache(NamedTuple):
    y: np.ndarray        # the forward output (every backward here needs only it)
    axis: int            # the normalised dim


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

    def forward(self, input):
        x = self._x(input)
        axis = self._axis(x)
        # a 0-d input is one class (torch accepts dim 0 or -1 there): compute it as shape (1,)
        y = np.asarray(self._forward(np.atleast_1d(x), axis)).reshape(x.shape)
        self._cache = SoftmaxCache(y, axis)
        return y

    def backward(self, grad_output):
        y, axis = self._saved()
        g = self._g(grad_output, y)
        return np.asarray(self._backward(np.atleast_1d(y), np.atleast_1d(g), axis)).reshape(y.shape)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"


def log_softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``x - max - log(sum(exp(x - max)))``: the max-shift keeps exp() from overflowing."""
    shifted = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)   # initial: empty dims
    return shifted - np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis``."""
    e = np.exp(x - np.max(x, axis=axis, keepdims=True, initial=-np.inf))
    return e / np.sum(e, axis=axis, keepdims=True)


class Softmax(_SoftmaxBase):
    r"""``y_i = exp(x_i - m) / sum_j exp(x_j - m)`` along ``dim``, with ``m = max_j x_j``.

    Args:
        dim: the axis that sums to 1 (None: torch's deprecated implicit choice).

    Shape:
        any shape; output has the input's shape.

    Maths:
        y_i = \frac{e^{x_i - m}}{\sum_j e^{x_j - m}}, \quad m = \max_j x_j

    Derivation:
        1. The shift $m$ cancels between numerator and denominator, so it changes no value
           and no derivative; it only keeps $e^{x_i - m} \le 1$ finite.
        2. Differentiate the quotient: $\frac{\partial y_i}{\partial x_j} =
           y_i \delta_{ij} - y_i y_j = y_i(\delta_{ij} - y_j)$, the Jacobian $J_{ij}$
           (``_backward()`` builds it, the textbook form).
        3. With $g_i = \partial L / \partial y_i$ the upstream gradient, the chain rule
           sums over the outputs: $\frac{\partial L}{\partial x_j} = \sum_i g_i y_i
           (\delta_{ij} - y_j) = y_j g_j - y_j \sum_i g_i y_i$.
        4. So the $C \times C$ Jacobian is never needed:
           $$\frac{\partial L}{\partial x} = y \odot \left(g - \textstyle\sum_i g_i y_i\right)$$

    Backward:
        with g = dL/dy the upstream gradient: the Jacobian is ``J_ij = ∂y_i/∂x_j =
        y_i (delta_ij - y_j)`` and ``dL/dx_j = sum_i J_ij g_i``. The same product in O(C)
        without building J: ``dL/dx = y * (g - sum(g * y))``.

    What torch hides:
        softmax is never differentiated through a Jacobian in torch: its
        ``_softmax_backward_data`` uses the O(C) form. Subtracting the max
        changes nothing mathematically but keeps ``exp`` finite for logits of
        1e4; the article's standalone Softmax skips it and returns NaN there.
    """

    def _forward(self, x, axis):
        return softmax(x, axis)

    def _backward(self, y, g, axis):
        p = np.moveaxis(y, axis, -1)                       # (..., C)
        gm = np.moveaxis(g, axis, -1)                      # (..., C)
        eye = np.eye(p.shape[-1], dtype=p.dtype)
        jac = p[..., :, None] * (eye - p[..., None, :])     # (..., C, C): J[i, j] = y_i (δ_ij - y_j)
        dx = einsum(jac, gm, "... i j, ... i -> ... j")    # the Jacobian-vector product
        return np.moveaxis(dx, -1, axis)


class LogSoftmax(_SoftmaxBase):
    r"""``y_i = x_i - m - log(sum_j exp(x_j - m))`` along ``dim`` (``m = max_j x_j``).

    Args:
        dim: the axis to normalise (None: torch's deprecated implicit choice).

    Shape:
        any shape; output has the input's shape.

    Maths:
        y_i = x_i - \log \sum_j e^{x_j} = (x_i - m) - \log \sum_j e^{x_j - m}

    Derivation:
        1. $\frac{\partial}{\partial x_j} \log \sum_k e^{x_k} = \frac{e^{x_j}}{\sum_k
           e^{x_k}} = p_j$, the softmax, so $\frac{\partial y_i}{\partial x_j} =
           \delta_{ij} - p_j$.
        2. With $g = \partial L/\partial y$: $\frac{\partial L}{\partial x_j} = \sum_i g_i
           (\delta_{ij} - p_j) = g_j - p_j \sum_i g_i$.
        3. $p = e^{y}$ is recovered from the saved output, so the code keeps only $y$:
           $$\frac{\partial L}{\partial x} = g - e^{y} \textstyle\sum_i g_i$$

    Backward:
        with g = dL/dy: dL/dx = g - softmax(x) * sum(g), softmax(x) = exp(y)

    What torch hides:
        ``CrossEntropyLoss`` is ``NLLLoss(LogSoftmax(x))`` fused: computing the
        log of a softmax directly would underflow to ``log(0) = -inf``.
    """

    def _forward(self, x, axis):
        return log_softmax(x, axis)

    def _backward(self, y, g, axis):
        return g - np.exp(y) * np.sum(g, axis=axis, keepdims=True)


class Softmin(_SoftmaxBase):
    """``y = softmax(-x)`` along ``dim``: the smallest input gets the largest weight.

    Args:
        dim: the axis that sums to 1 (None: torch's deprecated implicit choice).

    Shape:
        any shape; output has the input's shape.

    Backward:
        with g = dL/dy: ``dL/dx = -y * (g - sum(g * y))``: the softmax backward at ``-x``,
        times the -1 of the negation.

    What torch hides:
        ``F.softmin`` is literally ``(-input).softmax(dim)``: the max-shift happens on
        ``-x``, so it subtracts the *min* of x.
    """

    def _forward(self, x, axis):
        return softmax(-x, axis)

    def _backward(self, y, g, axis):
        return -(y * (g - np.sum(g * y, axis=axis, keepdims=True)))


class Softmax2d(Softmax):
    """``y = softmax(x)`` over the channels, at every spatial location: ``Softmax(dim=-3)``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → same shape; every ``y[..., :, h, w]`` sums to 1.

    Backward:
        dx = y * (dy - sum_c(dy * y)) along the channel dim, as :class:`Softmax`.

    What torch hides:
        "2d" is the *spatial* part: the softmax runs over the channel dim -3, which is
        what a per-pixel classifier (semantic segmentation) wants; any rank other than 3
        or 4 is refused, though ``Softmax(dim=-3)`` would compute the same thing there.
    """

    def __init__(self, dtype=None):
        super().__init__(-3, dtype)

    def forward(self, input):
        x = self._x(input)
        if x.ndim not in (3, 4):
            raise ValueError(f"Softmax2d: expected input to be 3D or 4D, got {x.ndim}D "
                             f"instead (shape {x.shape})")
        return super().forward(x)

    def extra_repr(self) -> str:
        return ""
