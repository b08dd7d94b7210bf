"""Smooth activations: GELU, SiLU, Mish, Softplus and the exponential-linear family.

Each forward caches the input x (torch's backward formulas for these read x,
not the output); the backward is the element-wise derivative times dy.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .activation import Activation, sigmoid

# torch's erf is the C library's; math.erf is the same function, vectorised here (npimpl has no
# SciPy). It runs in float64 and is cast back, so float32 gets the correctly rounded value.
_erf = np.vectorize(math.erf, otypes=[np.float64])


def erf(x: np.ndarray) -> np.ndarray:
    """The error function, element-wise, in the dtype of ``x``."""
    return _erf(x).astype(x.dtype, copy=False)


class XCache(NamedTuple):
    x: np.ndarray        # the forward input, same shape as the output


class _Pointwise(Activation):
    """``y = f(x)`` element-wise; subclasses give ``f`` and ``f'`` as ``_f(x)`` / ``_df(x)``."""

    def forward(self, input):
        x = self._x(input)
        self._cache = XCache(x)
        return np.asarray(self._f(x), dtype=x.dtype)

    def backward(self, grad_output):
        x = self._saved().x
        g = self._g(grad_output, x)
        return np.asarray(g * self._df(x), dtype=x.dtype)


class GELU(_Pointwise):
    """``y = x * Phi(x)``, ``Phi`` the standard normal CDF (or its tanh approximation).

    Args:
        approximate: 'none': ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``;
            'tanh': ``y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``.

    Shape:
        any shape; output has the input's shape.

    Backward:
        'none': ``dx = dy * (Phi(x) + x * exp(-x^2/2) / sqrt(2 pi))``;
        'tanh': with ``u = sqrt(2/pi) (x + 0.044715 x^3)``, ``T = tanh(u)``:
        ``dx = dy * (1/2 (1 + T) + x/2 (1 - T^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))``.

    What torch hides:
        'tanh' is not a cheaper GELU but a different function (max gap about 5e-4
        near |x| = 2): BERT and GPT-2 checkpoints were trained with it, so loading
        them into ``approximate='none'`` silently shifts every activation. The
        exact form needs erf, which plain NumPy lacks (here: the C library's erf).
    """

    _K = 0.044715                      # the cubic coefficient of the tanh approximation
    _B = math.sqrt(2.0 / math.pi)      # torch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5

    def __init__(self, approximate: str = "none", dtype=None):
        super().__init__(dtype)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be one of ['none', 'tanh'], got "
                             f"{approximate!r}")
        self.approximate = approximate

    def _f(self, x):
        if self.approximate == "tanh":
            return 0.5 * x * (1 + np.tanh(self._B * (x + self._K * x * x * x)))
        return x * 0.5 * (1 + erf(x * math.sqrt(0.5)))

    def _df(self, x):
        if self.approximate == "tanh":
            t = np.tanh(self._B * (x + self._K * x * x * x))
            inner_d = self._B * (1 + 3 * self._K * x * x)
            return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * inner_d
        cdf = 0.5 * (1 + erf(x * math.sqrt(0.5)))
        pdf = np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)
        return cdf + x * pdf

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"
