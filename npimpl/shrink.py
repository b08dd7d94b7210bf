"""Shrinkage and thresholding: Hardshrink, Softshrink, Tanhshrink and Threshold.

torch keeps all four in ``torch/nn/modules/activation.py``. Hardshrink and Softshrink
zero a band ``[-lambd, lambd]`` around 0 (Softshrink also pulls the rest towards 0, the
proximal operator of ``lambd * |x|`` behind the lasso's soft thresholding); Threshold
replaces everything at or below a threshold by a constant; Tanhshrink is the smooth
``x - tanh(x)``.

A scalar option meets the input in the input's dtype (torch's ``lambd.to<scalar_t>()``):
a float32 input compares with ``float32(lambd)``, which NumPy's weak Python-float scalars
give for free.
"""
from __future__ import annotations

import numpy as np

from . import _activation_fast as fast
from ._pointwise import select
from .activation import Pointwise


def _band(x: np.ndarray, lambd: float) -> np.ndarray:
    """``-lambd <= x <= lambd``: where a shrink outputs 0 and passes no gradient."""
    return (x >= -lambd) & (x <= lambd)


def _shrink_grad(g: np.ndarray, x: np.ndarray, lambd: float) -> np.ndarray:
    """``dy`` outside the band, 0 inside it. torch's SIMD loop tests ``x < -lambd or
    x > lambd``, false for NaN, so a NaN input gets 0 (see Hardshrink)."""
    return select(np.abs(x) > lambd, g, 0)          # NaN: |NaN| > lambd is false; branch-free


class Hardshrink(Pointwise):
    """``y = x if |x| > lambd else 0``.

    Args:
        lambd: the half-width of the band that is zeroed (default 0.5).

    Shape:
        any shape; output has the input's shape.

    Backward:
        dx = dy * [|x| > lambd]   (0 at x = ±lambd exactly; NaN: 0)

    What torch hides:
        the band is closed: x = ±lambd gives 0 and no gradient. A negative lambd is
        accepted and makes the band empty (the identity), while Softshrink refuses it.
        At a NaN input the gradient depends on where the element sits in torch (0 from
        the SIMD loop, dy from the scalar loop for the last few elements); npimpl gives
        0 everywhere, as for Hardtanh.
    """

    _fast, _fast_grad = fast.hardshrink, fast.shrink_grad    # in blocks (_activation_fast)

    def __init__(self, lambd: float = 0.5, dtype=None):
        super().__init__(dtype)
        self.lambd = lambd

    def _f(self, x):
        return select(_band(x, self.lambd), 0, x)          # NaN: not in the band, stays NaN

    def _grad(self, g, x, y):
        return _shrink_grad(g, x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Softshrink(Pointwise):
    """``y = x - lambd if x > lambd; x + lambd if x < -lambd; 0 otherwise``.

    Args:
        lambd: the shrinkage, >= 0 (default 0.5).

    Shape:
        any shape; output has the input's shape.

    Backward:
        dx = dy * [|x| > lambd]   (0 at x = ±lambd exactly; NaN: 0)

    What torch hides:
        this is the proximal operator of ``lambd * |x|`` (ISTA's soft thresholding): the
        slope is 1 outside the band, not shrunk, so only the offset changes. torch checks
        ``lambd >= 0`` at the first forward (``lambda must be in range [0, ...]``); npimpl
        at construction. With lambd = 0 the function is the identity, but the band [-0, 0]
        is still closed: x = ±0 gets gradient 0 where the slope is 1 on both sides. A NaN
        input stays NaN in the forward; its gradient follows Hardshrink's.
    """

    _fast, _fast_grad = fast.softshrink, fast.shrink_grad    # in blocks (_activation_fast)

    def __init__(self, lambd: float = 0.5, dtype=None):
        super().__init__(dtype)
        if not lambd >= 0:
            raise ValueError(f"Softshrink: lambd must be >= 0 (the shrinkage), got {lambd}")
        self.lambd = lambd

    def _f(self, x):
        lam = self.lambd
        # = where(x > lam, x - lam, where(x < -lam, x + lam, 0)), branch-free and exact
        # (x - (-lam) is x + lam to the bit; inside x - x = 0); NaN propagates, as torch 2.x
        return x - np.clip(x, -lam, lam)

    def _grad(self, g, x, y):
        return _shrink_grad(g, x, self.lambd)

    def extra_repr(self) -> str:
        return f"{self.lambd}"


class Tanhshrink(Pointwise):
    """``y = x - tanh(x)``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        any shape; output has the input's shape.

    Backward:
        ``dx = dy - dy * (1 - t^2)``, ``t = tanh(x)`` (mathematically ``dy * t^2``)

    What torch hides:
        there is no Tanhshrink kernel: ``F.tanhshrink`` is ``x - x.tanh()``, and autograd
        adds the two branches, ``dy`` and ``tanh_backward(-dy, t) = -dy (1 - t^2)``. For
        small |x| that is a difference of two numbers near dy, so the gradient ``~dy x^2``
        keeps only an *absolute* accuracy of ``eps |dy|`` (relative 1e-6 at x = 1e-5 in
        float64); ``dy * t^2`` would be accurate to the last bit. npimpl computes torch's form.
    """

    def _f(self, x):
        return x - np.tanh(x)

    def _grad(self, g, x, y):
        t = np.tanh(x)                    # recomputed: the cache holds x and y only
        return g + (-g) * (1 - t * t)     # the two autograd branches, added as torch adds them


class Threshold(Pointwise):
    """``y = x if x > threshold else value``.

    Args:
        threshold: the value to threshold at.
        value: what replaces every x <= threshold.
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Backward:
        dx = dy * [x > threshold]   (0 at x = threshold exactly; NaN: dy)

    What torch hides:
        ReLU is ``Threshold(0, 0)``: both run ``threshold_backward``, whose test is
        ``x <= threshold ? 0 : dy``, so a NaN input passes dy through in torch's SIMD and
        scalar loops alike, and keeps its NaN in the forward. Both arguments are
        required (no defaults), and ``value`` need not be the threshold: Threshold(0.1,
        20) maps everything below 0.1 *up* to 20, a jump the gradient ignores.
    """

    _fast, _fast_grad = fast.threshold, fast.threshold_grad    # in blocks (_activation_fast)

    def __init__(self, threshold: float, value: float, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.threshold, self.value, self.inplace = threshold, value, inplace

    def _f(self, x):
        return select(x <= self.threshold, self.value, x)

    def _grad(self, g, x, y):
        return select(x <= self.threshold, 0, g)

    def extra_repr(self) -> str:
        return (f"threshold={self.threshold}, value={self.value}"
                + (", inplace=True" if self.inplace else ""))
