"""Element-wise activations: the piecewise-linear family, Sigmoid and Tanh.

Parameter-free modules compute in the dtype of their input, as torch does;
their ``dtype=`` argument (default None) only pins which dtype they accept.
The smooth activations live in ``smooth.py``, the softmax family in
``softmax.py``; both are re-exported here.

At a kink a derivative has two one-sided values and torch picks one per
function; each docstring's Backward section says which, and
``tests/test_activation.py`` feeds the kink itself through both libraries.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _activation_fast
from ._pointwise import select, sigmoid     # sigmoid there: _activation_fast uses it too
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


class PointwiseCache(NamedTuple):
    x: np.ndarray        # the forward input (a copy when the module works in place)
    y: np.ndarray        # the forward output
    d: np.ndarray | None = None     # f'(x), when the class's ``_fast`` made it in forward


class Pointwise(Activation):
    r"""``y = f(x)`` element-wise; a subclass gives ``_f(x)`` and the derivative ``_df(x, y)``.

    ``inplace=True`` writes y into the input array, as torch's ``inplace`` does; the cache
    keeps a copy of x so that the backward still sees the input.

    Derivation:
        1. The map is element-wise, $y_i = f(x_i)$, so $\partial y_i / \partial x_j = 0$ for
           $i \ne j$ and the Jacobian is the diagonal matrix $\mathrm{diag}(f'(x))$.
        2. With $g = \partial L/\partial y$, the chain rule keeps one term per element:
           $\frac{\partial L}{\partial x_i} = g_i f'(x_i)$ (``Pointwise.backward()`` multiplies
           by ``_df()``).
    """

    inplace = False
    #: optional ``(module, x) -> (y, f'(x))`` from ``npimpl._activation_fast``: both in one
    #: blocked pass, so the backward is ``g * d``; used only by the class that names it
    _fast = None
    #: optional ``(module, g, x) -> dx``, for a ``_fast`` that returns ``(y, None)``: the
    #: backward in blocks, recomputing f'(x) (the piecewise-linear maps: cheaper than caching it)
    _fast_grad = None

    def forward(self, input):
        x = self._x(input)
        fast = type(self).__dict__.get("_fast")
        if fast is not None:
            y, d = fast(self, x)
        else:
            y, d = np.asarray(self._f(x), dtype=x.dtype), None
        if self.inplace:
            self._cache = PointwiseCache(x.copy(), y, d)
            x[...] = y
            return x
        self._cache = PointwiseCache(x, y, d)
        return y

    def backward(self, grad_output):
        x, y, d = self._saved()
        g = self._g(grad_output, y)
        if d is not None:
            return np.asarray(g * d)                 # (0-d stays an array)
        fast_grad = type(self).__dict__.get("_fast_grad")
        if fast_grad is not None:
            return fast_grad(self, g, x)
        return np.asarray(self._grad(g, x, y), dtype=x.dtype)

    def _grad(self, g, x, y):
        """``dx`` from ``dy = g``: ``g * f'(x)`` unless torch composes it otherwise."""
        return g * self._df(x, y)

    def extra_repr(self) -> str:
        return "inplace=True" if self.inplace else ""


class ReLU(Pointwise):
    r"""``y = max(x, 0)``.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \max(x, 0)

    Derivation:
        3. $f'(x) = 1$ for $x > 0$ and $0$ for $x < 0$; at the kink $x = 0$ torch takes 0:
           $$\frac{\partial L}{\partial x} = g \odot [x > 0]$$

    Backward:
        dx = dy * [x > 0]   (at x = 0 exactly the gradient is 0, torch's choice; NaN: dy)

    What torch hides:
        torch differentiates through the *output* (``threshold_backward(dy, y, 0)``),
        so the kink at 0 gets slope 0, not 1 and not 0.5. Its test is ``y <= 0 ? 0 : dy``,
        so a NaN input passes dy through (``y > 0`` would block it). Its forward is
        ``x < 0 ? 0 : x``, so relu(-0) = -0 (NumPy's ``maximum(x, 0)`` gives +0).
    """

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def _f(self, x):
        return select(x < 0, 0, x, x.dtype)         # torch's x < 0 ? 0 : x: -0 stays -0

    def _df(self, x, y):
        return ~(y <= 0)            # torch's test is `y <= 0 ? 0 : dy`: a NaN passes dy through


class LeakyReLU(Pointwise):
    r"""``y = x if x > 0 else negative_slope * x``.

    Args:
        negative_slope: the slope for x <= 0 (default 0.01).
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \begin{cases} x & x > 0 \\ a\,x & x \le 0 \end{cases}, \quad a = \text{negative\_slope}

    Derivation:
        3. $f'(x) = 1$ for $x > 0$, $a$ for $x < 0$, and torch takes $a$ at $x = 0$:
           $$\frac{\partial L}{\partial x} = g \odot (1 \text{ if } x > 0 \text{ else } a)$$

    Backward:
        dx = dy * (1 if x > 0 else negative_slope)   (at x = 0: negative_slope)

    What torch hides:
        unlike ReLU, the kink at 0 takes the *left* slope: ``leaky_relu_backward``
        tests ``x > 0``, so x = 0 gets ``negative_slope``, not 1.
    """

    _fast = _activation_fast.leaky_relu     # in blocks (npimpl._activation_fast)
    _fast_grad = _activation_fast.leaky_relu_grad

    def __init__(self, negative_slope: float = 1e-2, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.negative_slope = negative_slope
        self.inplace = inplace

    def _f(self, x):
        # torch's x > 0 ? x : a x (max(x, a x) would be NaN at x = +inf for a = 0: inf * 0)
        return select(x > 0, x, x * self.negative_slope, x.dtype)

    def _df(self, x, y):
        return select(x > 0, 1, self.negative_slope, x.dtype)

    def extra_repr(self) -> str:
        return f"negative_slope={self.negative_slope}" + (", inplace=True" if self.inplace else "")


class Hardtanh(Pointwise):
    r"""``y = clamp(x, min_val, max_val)``.

    Args:
        min_val, max_val: the clamp bounds (default -1, 1); max_val must exceed min_val.
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \min(\max(x, \text{min\_val}), \text{max\_val})

    Derivation:
        3. $f' = 1$ strictly inside the bounds, 0 outside, and 0 on the bounds themselves:
           $$\frac{\partial L}{\partial x} = g \odot [\text{min\_val} < x < \text{max\_val}]$$

    Backward:
        dx = dy * [min_val < x < max_val]   (0 at both bounds exactly)

    What torch hides:
        ``hardtanh_backward`` zeroes the gradient at the bounds themselves (the test is
        ``x <= min_val or x >= max_val``), so an input sitting exactly on a bound
        stops learning, while ``torch.clamp`` would pass the gradient there. At a
        NaN input torch's answer depends on where the element sits: its SIMD loop
        gives 0, its scalar loop for the last few elements (``x <= min or x >= max``
        is false for NaN) gives dy; npimpl gives 0 everywhere.
    """

    def __init__(self, min_val: float = -1.0, max_val: float = 1.0, inplace: bool = False,
                 min_value=None, max_value=None, dtype=None):
        super().__init__(dtype)
        min_val = min_val if min_value is None else min_value    # torch's deprecated names
        max_val = max_val if max_value is None else max_value
        if max_val <= min_val:
            raise ValueError(f"{type(self).__name__}: max_val ({max_val}) must be greater than "
                             f"min_val ({min_val})")
        self.min_val, self.max_val, self.inplace = min_val, max_val, inplace

    def _f(self, x):
        return np.clip(x, self.min_val, self.max_val)

    def _df(self, x, y):
        return (x > self.min_val) & (x < self.max_val)   # NaN: 0, as torch's SIMD path

    def extra_repr(self) -> str:
        return f"min_val={self.min_val}, max_val={self.max_val}"


class ReLU6(Hardtanh):
    r"""``y = min(max(x, 0), 6)``: ``Hardtanh(0, 6)``.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \min(\max(x, 0), 6)

    Derivation:
        3. As Hardtanh(0, 6): $$\frac{\partial L}{\partial x} = g \odot [0 < x < 6]$$

    Backward:
        dx = dy * [0 < x < 6]   (0 at x = 0 and at x = 6)

    What torch hides:
        ReLU6 *is* a Hardtanh subclass in torch, so at x = 0 it inherits Hardtanh's
        zero and agrees with ReLU; at x = 6 the gradient is 0 too.
    """

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(0.0, 6.0, inplace, dtype=dtype)


class Hardsigmoid(Pointwise):
    r"""``y = min(max(x + 3, 0), 6) / 6``.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \frac{\min(\max(x + 3, 0), 6)}{6}

    Derivation:
        3. $f' = 1/6$ on $(-3, 3)$, 0 elsewhere (the kinks included); torch's constant is
           the float32 number nearest 1/6: $$\frac{\partial L}{\partial x} = g \cdot
           \mathrm{fl}_{32}(1/6)\, [-3 < x < 3]$$

    Backward:
        dx = dy * float32(1/6) * [-3 < x < 3]   (0 at x = -3 and at x = 3)

    What torch hides:
        the slope is 1/6, not the 0.2 of Keras's hard_sigmoid; at both kinks the
        gradient is 0 (open interval). The backward kernel spells the slope
        ``1.0f / 6.0f``, a float32 literal, so even float64 gradients are scaled by
        0.16666667163..., 3e-8 relative away from 1/6 (the forward divides by 6).
    """

    _SLOPE = float(np.float32(1.0) / np.float32(6.0))    # torch's `1.0f / 6.0f`
    _fast = _activation_fast.hardsigmoid    # in blocks (npimpl._activation_fast)
    _fast_grad = _activation_fast.hardsigmoid_grad

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def _f(self, x):
        return np.clip(x + 3, 0, 6) / 6                       # = min(max(x + 3, 0), 6) / 6

    def _df(self, x, y):
        return select((x > -3) & (x < 3), self._SLOPE, 0, x.dtype)


class Hardswish(Pointwise):
    r"""``y = x * min(max(x + 3, 0), 6) / 6``.

    Args:
        inplace: overwrite the input with the output.

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = x \cdot \frac{\min(\max(x + 3, 0), 6)}{6}

    Derivation:
        3. Product rule on $(-3, 3)$: $f'(x) = \frac{x + 3}{6} + \frac{x}{6} = \frac{x}{3} +
           \frac{1}{2}$; $f' = 0$ below $-3$ and $1$ above $3$, and torch takes those outer
           values at the kinks: $$\frac{\partial L}{\partial x} = g \odot \begin{cases} 0 & x
           \le -3 \\ x/3 + 1/2 & -3 < x < 3 \\ 1 & x \ge 3 \end{cases}$$

    Backward:
        dx = dy * (0 if x <= -3; x/3 + 1/2 if -3 < x < 3; 1 if x >= 3)   (NaN: NaN)

    What torch hides:
        the derivative jumps at both kinks (from 0 to -1/2 at -3, from 3/2 to 1 at
        3) and torch 2.x takes the *outer* value at both: 0 at x = -3 and 1 at
        x = 3. Older releases (``x < -3`` / ``x <= 3``) returned -1/2 and 3/2 there.
        A NaN input gets a NaN gradient from torch's SIMD loop (both tests are false,
        so the middle formula runs) but dy from its scalar loop for the last few
        elements; npimpl gives NaN everywhere.
    """

    _fast = _activation_fast.hardswish      # in blocks (npimpl._activation_fast)
    _fast_grad = _activation_fast.hardswish_grad

    def __init__(self, inplace: bool = False, dtype=None):
        super().__init__(dtype)
        self.inplace = inplace

    def _f(self, x):
        return x * np.clip(x + 3, 0, 6) / 6                   # = x min(max(x + 3, 0), 6) / 6

    def _df(self, x, y):
        # the SIMD loop's tests: a NaN fails both and takes the middle formula (NaN)
        return select(x <= -3, 0, select(x >= 3, 1, x / 3 + 0.5))


class Sigmoid(Pointwise):
    r"""``y = 1 / (1 + exp(-x))``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \sigma(x) = \frac{1}{1 + e^{-x}}

    Derivation:
        3. $\sigma'(x) = \frac{e^{-x}}{(1 + e^{-x})^2} = \sigma(x)\,(1 - \sigma(x))$, a function
           of the output alone, so the code keeps $y$:
           $$\frac{\partial L}{\partial x} = g \odot y \odot (1 - y)$$

    Backward:
        dx = dy * y * (1 - y)

    What torch hides:
        the backward uses only the saved output y, never x.
    """

    def _f(self, x):
        return sigmoid(x)

    def _df(self, x, y):
        return (1 - y) * y


class Tanh(Pointwise):
    r"""``y = tanh(x)``.

    Args:
        dtype: the input dtype to accept (None: any float dtype).

    Shape:
        any shape; output has the input's shape.

    Maths:
        y = \tanh x = \frac{e^{x} - e^{-x}}{e^{x} + e^{-x}}

    Derivation:
        3. $\tanh'(x) = 1 - \tanh^2 x$, again a function of the output:
           $$\frac{\partial L}{\partial x} = g \odot (1 - y^2)$$

    Backward:
        dx = dy * (1 - y^2)

    What torch hides:
        like Sigmoid, the backward reads only the saved output.
    """

    def _f(self, x):
        return np.tanh(x)

    def _df(self, x, y):
        return 1 - y * y

