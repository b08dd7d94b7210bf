"""The sigmoid's relatives: LogSigmoid, Softsign and the gated linear unit GLU.

torch keeps all three in ``torch/nn/modules/activation.py``. LogSigmoid is
``log(sigmoid(x))`` computed without ever forming the sigmoid (it underflows to 0 for
x < -745 in float64, and log(0) = -inf); Softsign is the algebraic S-curve
``x / (1 + |x|)``; GLU gates one half of its input by the sigmoid of the other half.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .activation import Activation, Pointwise, sigmoid


class LogSigmoid(Pointwise):
    """``y = log(1 / (1 + exp(-x))) = min(x, 0) - log1p(exp(-|x|))``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        any shape; output has the input's shape.

    Backward:
        with ``z = exp(-|x|)``: ``dx = dy * (1 - z / (1 + z))`` for x < 0 and
        ``dx = dy * z / (1 + z)`` for x >= 0 (both are ``sigmoid(-x)``).

    What torch hides:
        the naive ``log(sigmoid(x))`` gives -inf below x = -745 (float64; -104 in float32)
        and a gradient of NaN; ``min(x, 0) - log1p(exp(-|x|))`` never overflows or
        underflows: for x = -1000 it is -1000 exactly, with gradient 1. torch's kernel saves
        ``z = exp(-|x|)`` as a hidden ``buffer`` output for its backward; here it is
        recomputed from x.
    """

    def _f(self, x):
        return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))

    def _grad(self, g, x, y):
        z = np.exp(-np.abs(x))            # torch's saved buffer, recomputed
        neg = x < 0
        max_deriv = neg.astype(x.dtype)                       # 1 for x < 0, else 0
        sign = np.where(neg, 1, -1).astype(x.dtype)           # in x's dtype, as the kernel
        return (max_deriv - sign * (z / (1 + z))) * g    # torch's kernel, term by term


class Softsign(Pointwise):
    """``y = x / (1 + |x|)``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        any shape; output has the input's shape.

    Backward:
        ``dx = dy / b - dy * ((x / b) / b) * sgn(x)`` with ``b = 1 + |x|``
        (mathematically ``dy / (1 + |x|)^2``).

    What torch hides:
        there is no Softsign kernel: ``F.softsign`` is ``x / (x.abs() + 1)`` and autograd
        differentiates the division and the ``abs``: the numerator's branch ``dy / b`` and
        the denominator's ``-dy x / b^2 * sgn(x)`` are added. For large |x| they cancel to
        ``dy / x^2``, so the gradient keeps an absolute accuracy of ``eps |dy| / |x|``
        rather than a relative one. Unlike tanh the curve approaches ±1 only
        polynomially (1/|x|), so its gradient never vanishes to 0 in floating point.
    """

    def _f(self, x):
        return x / (np.abs(x) + 1)

    def _grad(self, g, x, y):
        b = np.abs(x) + 1
        return g / b + (-g * ((x / b) / b)) * np.sign(x)   # div's two branches, abs's sgn


class GluCache(NamedTuple):
    a: np.ndarray        # (..., n, ...) the first half along dim
    s: np.ndarray        # (..., n, ...) sigmoid of the second half
    axis: int


class GLU(Activation):
    """``GLU(a, b) = a * sigmoid(b)``, where ``a, b`` are the two halves of the input along ``dim``.

    Args:
        dim: the dimension to split in two (default -1); its size must be even.

    Shape:
        input ``(*, 2n, *)`` → output ``(*, n, *)``, halved along ``dim``.

    Backward:
        with ``s = sigmoid(b)``: ``da = dy * s``;  ``db = (1 - s) * s * a * dy``;
        ``dx = concat(da, db)`` along ``dim``.

    What torch hides:
        the first half is the *value* and the second the *gate* (Dauphin et al., 2017), so
        swapping the halves of a Linear's output changes the function; ``F.glu`` halves an
        odd dimension nowhere ("Halving dimension must be even") and refuses a 0-d input.
        The backward kernel computes the gate ``s`` once into the first half of the
        gradient buffer and reuses it for the second half.
    """

    def __init__(self, dim: int = -1, dtype=None):
        super().__init__(dtype)
        self.dim = dim

    def forward(self, input):
        x = self._x(input)
        if x.ndim == 0:
            raise ValueError("GLU: glu does not support scalars because halving size must be "
                             "even: expected an input with at least 1 dim, got a 0-d array")
        axis = _checks.dim(self.dim, x.ndim, "GLU")
        if x.shape[axis] % 2:
            raise ValueError(f"GLU: halving dimension must be even, but dimension {axis} is "
                             f"size {x.shape[axis]} (input shape {x.shape})")
        a, b = np.split(x, 2, axis=axis)                      # (*, n, *) each
        s = sigmoid(b)
        self._cache = GluCache(a, s, axis)
        return np.asarray(a * s)

    def backward(self, grad_output):
        a, s, axis = self._saved()
        g = self._g(grad_output, a)
        da = s * g
        db = (1 - s) * s * a * g                              # torch's glu_backward kernel
        return np.concatenate([da, db], axis=axis)

    def extra_repr(self) -> str:
        return f"dim={self.dim}"
