"""Smooth activations: GELU, SiLU, Mish, Softplus and the exponential-linear family.

Each backward evaluates torch's derivative formula at the cached input x
(``_df(x, y)``) and multiplies by dy; see :class:`npimpl.activation.Pointwise`.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _activation_fast as fast
from ._gelu import gelu_f32, gelu_tanh
from ._pointwise import select, tanh_softplus
from .activation import Activation, Pointwise, sigmoid

# erf for GELU('none'): NumPy has none and npimpl may not use SciPy; npimpl.special has fdlibm's,
# vectorised (the C library's erf, which torch's CPU kernel calls, descends from it).
from .special import erf  # noqa: E402


class GeluCache(NamedTuple):
    x: np.ndarray        # the input
    s: np.ndarray | None     # float64 'none': Phi(x), computed once in forward
    d: np.ndarray | None = None     # 'tanh' and float32 'none': the derivative (npimpl._gelu)


class GELU(Activation):
    r"""``y = x * Phi(x)``, ``Phi`` the standard normal CDF (or its tanh approximation).

    Args:
        approximate: 'none': ``Phi(x) = (1 + erf(x / sqrt(2))) / 2``;
            'tanh': ``y = x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3)))``.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = x\,\Phi(x), \quad \Phi(x) = \tfrac{1}{2}\left(1 + \mathrm{erf}(x/\sqrt{2})\right)
        \text{tanh: } y = \tfrac{x}{2}\left(1 + \tanh u\right), \quad u = \sqrt{2/\pi}\,(x + 0.044715\, x^3)

    Derivation:
        1. Element-wise, so $\bar x = \bar y \odot f'(x)$ (as for every pointwise activation).
        2. Product rule: $f'(x) = \Phi(x) + x\,\varphi(x)$ with $\varphi(x) = e^{-x^2/2}/\sqrt{2\pi}$.
        3. 'tanh': $f'(x) = \tfrac12(1 + T) + \tfrac{x}{2}(1 - T^2)\, u'(x)$, $T = \tanh u$,
           $u'(x) = \sqrt{2/\pi}\,(1 + 3 \cdot 0.044715\, x^2)$:
           $$\bar x = \bar y \odot \left(\Phi(x) + x\,\varphi(x)\right)$$

    Backward:
        'none': ``dx = dy * (Phi(x) + x * exp(-x^2/2) / sqrt(2 pi))``;
        'tanh': with ``u = sqrt(2/pi) (x + 0.044715 x^3)``, ``T = tanh(u)``:
        ``dx = dy * (1/2 (1 + T) + x/2 (1 - T^2) sqrt(2/pi) (1 + 3 * 0.044715 x^2))``.

    What torch hides:
        'tanh' is not a cheaper GELU but a different function (max gap 4.7e-4 near
        |x| = 2.7): GPT-2's checkpoints were trained with it, so loading them into
        ``approximate='none'`` silently shifts every activation. The
        exact form needs erf, which plain NumPy lacks (here: fdlibm's, vectorised, for
        float64; for float32 a float32 approximation, ``npimpl._gelu``, as torch's own
        float32 kernel is one).
    """

    _K = 0.044715                      # the cubic coefficient of the tanh approximation
    _B = math.sqrt(2.0 / math.pi)      # torch's kBeta = M_SQRT2 * M_2_SQRTPI * 0.5

    def __init__(self, approximate: str = "none", dtype=None):
        super().__init__(dtype)
        if approximate not in ("none", "tanh"):
            raise ValueError(f"GELU: approximate must be one of ['none', 'tanh'], got "
                             f"{approximate!r}")
        self.approximate = approximate

    # forward and backward share the expensive part (erf, or tanh), so GELU keeps it in its
    # cache instead of recomputing it in backward as the generic Pointwise would
    def forward(self, input):
        x = self._x(input)
        with np.errstate(invalid="ignore", over="ignore"):   # -inf * Phi(-inf): NaN, as torch
            return self._forward(x)

    def _forward(self, x):
        if self.approximate == "none" and x.dtype == np.float32:   # float32 throughout
            y, d = gelu_f32(x)                                       # (npimpl._gelu)
            self._cache = GeluCache(x, None, d)
            return y
        if self.approximate == "tanh":                 # the formulas in blocks (_gelu)
            y, d = gelu_tanh(x, self._K, self._B)
            self._cache = GeluCache(x, None, d)
            return y
        s = 0.5 * (1 + erf(x * math.sqrt(0.5)))                          # Phi(x)
        y = x * s                                                        # = x * 0.5 * (1 + erf)
        self._cache = GeluCache(x, s)
        return np.asarray(y, dtype=x.dtype)

    def backward(self, grad_output):
        x, s, d = self._saved()
        g = self._g(grad_output, x)
        with np.errstate(invalid="ignore", over="ignore"):   # ±inf inputs: NaN, as torch
            return self._backward(g, x, s, d)

    def _backward(self, g, x, s, d=None):
        if d is not None:                            # made in forward ('tanh', float32 'none')
            return np.asarray(g * d)
        d = s + x * np.exp(-0.5 * x * x) / math.sqrt(2 * math.pi)        # Phi(x) + x phi(x)
        return np.asarray(g * d, dtype=x.dtype)

    def extra_repr(self) -> str:
        return f"approximate={self.approximate!r}"


class ELU(Pointwise):
    r"""``y = x if x > 0 else alpha * (exp(x) - 1)``.

    Args:
        alpha: the negative saturation value -alpha (default 1).
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \begin{cases} x & x > 0 \\ \alpha (e^{x} - 1) & x \le 0 \end{cases}

    Derivation:
        3. $f'(x) = 1$ for $x > 0$ and $\alpha e^{x}$ for $x \le 0$ (torch takes $\alpha$ at 0):
           $$\bar x = \bar y \odot (1 \text{ if } x > 0 \text{ else } \alpha e^{x})$$

    Backward:
        dx = dy * (1 if x > 0 else alpha * exp(x))   (at x = 0: alpha; NaN: NaN)

    What torch hides:
        ELU, SELU and CELU are one kernel, ``elu(x, alpha, scale, input_scale)`` =
        ``scale * x`` for x > 0, ``scale * alpha * (exp(input_scale * x) - 1)`` else;
        its backward tests ``x <= 0``, so at x = 0 the slope is ``alpha``, not 1
        (the two agree only for alpha = 1). A NaN input gets a NaN gradient from the
        SIMD loop (its test is ``x > 0``, false, so ``exp(NaN)`` runs) but dy * scale
        from the scalar loop for the last few elements (``x <= 0`` is false too);
        npimpl gives NaN everywhere.
    """

    _fast = fast.elu      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    def __init__(self, alpha: float = 1.0, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.alpha, self.inplace = alpha, inplace

    # torch's elu(x, alpha, scale, input_scale): negcoef = alpha * scale, poscoef = scale
    _scale, _input_scale = 1.0, 1.0
    _input_scale_bwd = 1.0     # CELU's backward rounds alpha to float32 first (see CELU)

    def _f(self, x):
        neg = np.expm1(np.minimum(x, 0) * self._input_scale) * (self.alpha * self._scale)
        # x < 0: a zero keeps its sign (scale * (-0) = -0), as torch's output does (measured,
        # torch 2.13: elu(-0) = -0 and, for a negative alpha, elu(+0) = +0); the branch
        # alpha * expm1(+-0) would give the zero the sign of alpha times its own
        return select(x < 0, neg, x * self._scale)                 # np.where, branch-free

    def _df(self, x, y):
        s = self._input_scale_bwd
        neg = s * (self.alpha * self._scale) * np.exp(np.minimum(x, 0) * s)
        return select(x > 0, self._scale, neg)                     # NaN: exp(NaN), as SIMD

    def extra_repr(self) -> str:
        return f"alpha={self.alpha}" + (", inplace=True" if self.inplace else "")


class SELU(ELU):
    """``y = scale * (x if x > 0 else alpha * (exp(x) - 1))``, alpha = 1.6733, scale = 1.0507.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Backward:
        dx = dy * scale * (1 if x > 0 else alpha * exp(x))   (at x = 0: scale * alpha = 1.7581)

    What torch hides:
        the two constants are the fixed point of Klambauer et al.'s self-normalising
        argument, given to 30 digits in torch's source; like ELU the kink at 0 takes
        the left slope, here ``scale * alpha``.
    """

    _fast = fast.elu      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    _alpha = 1.6732632423543772848170429916717
    _selu_scale = 1.0507009873554804934193349852946

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(self._alpha, inplace, dtype)
        self._scale = self._selu_scale

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class CELU(ELU):
    """``y = x if x > 0 else alpha * (exp(x / alpha) - 1)``.

    Args:
        alpha: the negative saturation value -alpha (default 1; must not be 0).
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Backward:
        dx = dy * (1 if x > 0 else alpha * s * exp(s * x)),  s = 1 / float32(alpha)
        (mathematically exp(x / alpha), and 1 at x = 0)

    What torch hides:
        CELU runs the ELU kernel with ``input_scale = 1 / alpha``, and its backward
        (derivatives.yaml: ``1.0 / alpha.toFloat()``) rounds alpha to *float32*
        before the division even for float64 tensors: for alpha = 0.3 the float64
        gradient at x = 0 is 0.99999996, not 1, and is off by up to 1e-6 relative
        elsewhere. The forward uses the exact double 1 / alpha. This module copies
        both choices.
    """

    _fast = fast.elu      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    def __init__(self, alpha: float = 1.0, inplace: bool = False, dtype=None):
        if alpha == 0:
            raise ValueError("CELU: alpha must not be 0 (it divides the input), got 0")
        super().__init__(alpha, inplace, dtype)
        self._input_scale = 1.0 / alpha
        self._input_scale_bwd = 1.0 / float(np.float32(alpha))   # torch's alpha.toFloat()


class SiLU(Pointwise):
    r"""``y = x * sigmoid(x)`` (also called swish).

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = x\,\sigma(x)

    Derivation:
        3. Product rule with $\sigma' = \sigma(1 - \sigma)$: $f'(x) = \sigma(x) + x\,\sigma(x)(1 - \sigma(x))$:
           $$\bar x = \bar y \odot s\,(1 + x(1 - s)), \quad s = \sigma(x)$$

    Backward:
        dx = dy * s * (1 + x * (1 - s)),   s = sigmoid(x)

    What torch hides:
        torch's kernel computes ``x / (1 + exp(-x))``, which gives ``x / inf = -0`` for
        very negative x; the stable sigmoid used here gives the same values.
    """

    _fast = fast.silu      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def _f(self, x):
        return x * sigmoid(x)

    def _df(self, x, y):
        s = sigmoid(x)
        return s * (1 + x * (1 - s))


class Mish(Pointwise):
    r"""``y = x * tanh(softplus(x))``, ``softplus(x) = log(1 + exp(x))``.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = x \tanh(\mathrm{softplus}(x))

    Derivation:
        3. With $T = \tanh(\mathrm{softplus}(x))$ and $\mathrm{softplus}' = \sigma$:
           $f'(x) = T + x\,(1 - T^2)\,\sigma(x)$:
           $$\bar x = \bar y \odot \left(T + x\,\sigma(x)(1 - T^2)\right)$$

    Backward:
        dx = dy * (T + x * sigmoid(x) * (1 - T^2)),   T = tanh(softplus(x))

    What torch hides:
        torch's Mish always uses the plain softplus (beta 1, no threshold); exp(x)
        overflows to inf for large x, and tanh(inf) = 1 makes that harmless. Here
        ``tanh(softplus(x))`` is the rational ``(e^2 + 2e) / (e^2 + 2e + 2)``, ``e = exp(x)``
        (``npimpl._pointwise.tanh_softplus``: no log, no overflow).
    """

    _fast = fast.mish      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def _f(self, x):
        return x * tanh_softplus(x)                          # x * tanh(log(1 + exp(x)))

    def _df(self, x, y):
        t = tanh_softplus(x)
        return t + x * sigmoid(x) * (1 - t * t)


class Softplus(Pointwise):
    r"""``y = log(1 + exp(beta * x)) / beta``, and ``y = x`` where ``beta * x > threshold``.

    Args:
        beta: the sharpness (default 1).
        threshold: above it (in units of ``beta * x``) the function is the identity (default 20).

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \frac{1}{\beta}\log\left(1 + e^{\beta x}\right)

    Derivation:
        3. $f'(x) = \frac{e^{\beta x}}{1 + e^{\beta x}} = \sigma(\beta x)$; above the threshold
           torch switches to $y = x$, slope 1:
           $$\bar x = \bar y \odot \frac{z}{z + 1}, \quad z = e^{\beta x}$$

    Backward:
        dx = dy * z / (z + 1),   z = exp(beta * x);   dx = dy where beta * x > threshold
        (at ``beta * x == threshold`` exactly: the smooth branch, ``z / (z + 1)``).

    What torch hides:
        the switch to the identity is a *numerical* shortcut with a jump of about
        exp(-threshold) in value and slope; it is strict (``>``), so the threshold
        itself takes the log1p branch. Nothing else guards ``exp``: with a threshold
        above about 709 (float64) torch's value overflows to inf and its gradient to
        inf/inf = NaN, and so does this one.
    """

    _fast = fast.softplus      # y and f'(x) in one blocked pass (npimpl._activation_fast)

    def __init__(self, beta: float = 1.0, threshold: float = 20.0, dtype=None):
        super().__init__(dtype)
        self.beta, self.threshold = beta, threshold

    def _f(self, x):
        xb = x * self.beta
        with np.errstate(over="ignore"):
            return select(xb > self.threshold, x, np.log1p(np.exp(xb)) / self.beta)

    def _df(self, x, y):
        xb = x * self.beta
        with np.errstate(over="ignore", invalid="ignore"):
            z = np.exp(xb)
            return select(xb > self.threshold, 1, z / (z + 1))

    def extra_repr(self) -> str:
        return f"beta={self.beta}, threshold={self.threshold}"
