"""The softmax family: Softmax, LogSoftmax and Softmin along one dim.

All three subtract the max before ``exp`` so that logits of 1e4 stay finite.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
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
    with np.errstate(divide="ignore"):          # an empty dim sums to 0: log 0 = -inf, unused
        shifted -= np.log(np.sum(np.exp(shifted), axis=axis, keepdims=True))
    return shifted


def softmax(x: np.ndarray, axis: int) -> np.ndarray:
    """``exp(x - max) / sum(exp(x - max))`` along ``axis`` (in place on one new array)."""
    e = x - np.max(x, axis=axis, keepdims=True, initial=-np.inf)
    np.exp(e, out=e)
    e /= np.sum(e, axis=axis, keepdims=True)
    return e


def softmax_backward(y: np.ndarray, g: np.ndarray, axis: int) -> np.ndarray:
    """``dx = y * (g - sum(g * y))`` along ``axis``: the Jacobian-vector product in O(C),
    computed in one new array (what :func:`softmax_jacobian` gives, without the Jacobian)."""
    dx = g * y
    s = np.sum(dx, axis=axis, keepdims=True)                     # (..., 1, ...): sum_i g_i y_i
    np.subtract(g, s, out=dx)
    dx *= y
    return dx


def softmax_jacobian(y: np.ndarray, axis: int = -1) -> np.ndarray:
    """The softmax Jacobian ``J[..., i, j] = dy_i/dx_j = y_i (delta_ij - y_j)`` from the output,
    the classes moved last: shape ``(..., C, C)``.

    The textbook form, kept to teach and to test :func:`softmax_backward` against
    (``dx_j = sum_i J_ij g_i``); no layer uses it. It holds C numbers per output element:
    a 4096 x 1024 float32 batch needs 17 GB (issue 19: the backward that built it ran 219x
    slower than torch's on 1024 x 256, and out of memory there).
    """
    p = np.moveaxis(y, axis, -1)                                 # (..., C)
    eye = np.eye(p.shape[-1], dtype=p.dtype)
    return p[..., :, None] * (eye - p[..., None, :])             # (..., C, C)


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
           (``softmax_jacobian()`` builds it, the textbook form, and the tests check the backward
           against it).
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
        return softmax_backward(y, g, axis)     # J g without J (softmax_jacobian builds J)


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
        dx = np.exp(y)                                           # softmax(x)
        dx *= np.sum(g, axis=axis, keepdims=True)
        return np.subtract(g, dx, out=dx)                        # g - softmax(x) * sum(g)


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
        dx = softmax_backward(y, g, axis)
        return np.negative(dx, out=dx)                           # -(y * (g - sum(g * y)))


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
