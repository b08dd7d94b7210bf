"""Losses: ``loss = crit(input, target)``; ``crit.backward(grad_output=1)`` → d loss / d input.

Each loss returns a 0-d array (``reduction='mean'|'sum'``) or an array of the
per-element losses (``'none'``), in the input's dtype. This file holds the base
class, the element-wise regression losses and MarginRankingLoss; the others live
in ``crossentropy.py`` (NLLLoss, CrossEntropyLoss), ``bce.py`` (BCELoss,
BCEWithLogitsLoss) and ``distribution.py`` (KLDivLoss, GaussianNLLLoss), all
re-exported here.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .activation import Activation

REDUCTIONS = ("none", "mean", "sum")


def legacy_reduction(size_average, reduce, reduction: str) -> str:
    """torch's mapping of the deprecated ``size_average``/``reduce`` flags to ``reduction``."""
    if size_average is None and reduce is None:
        return reduction
    size_average = True if size_average is None else size_average
    reduce = True if reduce is None else reduce
    return "none" if not reduce else ("mean" if size_average else "sum")


class _Loss(Activation):
    """Base of the losses: holds ``reduction`` and turns ``grad_output`` into an array.

    ``backward`` returns the gradient with respect to ``input`` only: the target
    is data, not a variable (``grad_inputs = (0,)`` tells the lockstep engine).
    """

    grad_inputs = (0,)
    reductions = REDUCTIONS

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", dtype=None):
        super().__init__(dtype)
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in self.reductions:
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             f"reduction (expected one of {list(self.reductions)})")
        self.reduction = reduction

    def _grad_out(self, grad_output, loss_shape: tuple, dtype) -> np.ndarray:
        """``grad_output`` (default 1) checked against the loss's shape."""
        if grad_output is None:
            return np.ones(loss_shape, dtype=dtype)
        g = self._input(np.asarray(grad_output) if np.isscalar(grad_output) else grad_output,
                        "grad_output", dtype)
        if g.shape != loss_shape:
            raise ValueError(f"{type(self).__name__}: grad_output must have the loss's shape "
                             f"{loss_shape}, got {g.shape}")
        return g

    def _buffer(self, name: str, value) -> None:
        """Register an optional float tensor argument (``weight``) as a buffer, as torch does,
        cast to the module's dtype (torch's ``.to(dtype)`` casts it too)."""
        if value is not None:
            value = _checks.array(value, type(self).__name__, name)
            if self.dtype is not None:
                value = value.astype(self.dtype)
        self.register_buffer(name, value)

    def _target(self, target, x: np.ndarray) -> np.ndarray:
        """A float target of exactly the input's shape and dtype (torch broadcasts with a warning;
        npimpl refuses: that broadcast is almost always a bug)."""
        y = self._input(target, "target", x.dtype)
        if y.shape != x.shape:
            raise ValueError(f"{type(self).__name__}: target shape {y.shape} must equal input "
                             f"shape {x.shape}")
        return y

    def _reduce(self, per_element: np.ndarray) -> np.ndarray:
        if self.reduction == "none":
            return np.asarray(per_element)          # 0-d stays an array (numpy gives scalars)
        total = per_element.sum() if self.reduction == "sum" else per_element.mean()
        return np.asarray(total, dtype=per_element.dtype)

    def _dloss(self, grad_output, shape: tuple, dtype) -> np.ndarray:
        """d loss / d l_i for every element: dl_i ('none'), dl ('sum') or dl / n ('mean')."""
        if self.reduction == "none":
            return self._grad_out(grad_output, shape, dtype)
        g = self._grad_out(grad_output, (), dtype)
        return g / max(int(np.prod(shape)), 1) if self.reduction == "mean" else g

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


def sgn(d: np.ndarray) -> np.ndarray:
    """torch's sign: ``(d > 0) - (d < 0)``, so sgn(NaN) = 0 where ``np.sign`` gives NaN."""
    return (d > 0).astype(d.dtype) - (d < 0).astype(d.dtype)


class DiffCache(NamedTuple):
    d: np.ndarray        # input - target, (*)


class MSELoss(_Loss):
    r"""``l_i = (x_i - y_i)^2``, then the reduction.

    Args:
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(*)``, target the same shape; output ``()`` or ``(*)`` for 'none'.

    Maths:
        \ell_i = (x_i - y_i)^2, \qquad L = \frac{1}{M}\sum_i \ell_i \;(\text{mean}) \text{ or } \sum_i \ell_i \;(\text{sum})

    Derivation:
        1. $\partial \ell_i / \partial x_i = 2(x_i - y_i)$ and $\ell_i$ depends on no other $x_j$.
        2. The reduction multiplies the upstream $\bar L$ by $1/M$ ('mean', $M$ elements) or 1:
           $$\bar x = \frac{2 (x - y)}{M} \bar L$$

    Backward:
        dx = 2 (x - y) * dl   (divided by the number of elements for 'mean')

    What torch hides:
        torch broadcasts a target of a different shape with only a warning;
        npimpl refuses it, because that broadcast is almost always a bug.
    """

    def forward(self, input, target):
        x = self._x(input)
        d = x - self._target(target, x)
        self._cache = DiffCache(d)
        return self._reduce(d * d)

    def backward(self, grad_output=None):
        d = self._saved()[0]                       # the cache's d (positional: subclasses may
        scale = 2.0 / max(d.size, 1) if self.reduction == "mean" else 2.0   # store a plain tuple)
        g = self._grad_out(grad_output, d.shape if self.reduction == "none" else (), d.dtype)
        return np.asarray(scale * d * g, dtype=d.dtype)


class L1Loss(_Loss):
    r"""``l_i = |x_i - y_i|``, then the reduction.

    Args:
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input ``(*)``, target the same shape; output ``()`` or ``(*)`` for 'none'.

    Maths:
        \ell_i = |x_i - y_i|

    Derivation:
        1. $\partial \ell_i / \partial x_i = \mathrm{sgn}(x_i - y_i)$, taken as 0 at $x_i = y_i$.
        2. With the reduction's factor: $$\bar x = \frac{\mathrm{sgn}(x - y)}{M} \bar L$$

    Backward:
        dx = sign(x - y) * dl   (0 where x == y; ÷ the number of elements for 'mean')

    What torch hides:
        L1Loss is ``(x - y).abs()`` differentiated by autograd, so at x == y the
        gradient is ``sgn(0) = 0``: a prediction that hits its target exactly stops.
        torch's sgn of a NaN is 0 too, so a NaN input gets a zero gradient.
    """

    def forward(self, input, target):
        x = self._x(input)
        d = x - self._target(target, x)
        self._cache = DiffCache(d)
        return self._reduce(np.abs(d))

    def backward(self, grad_output=None):
        d = self._saved().d
        return np.asarray(sgn(d) * self._dloss(grad_output, d.shape, d.dtype), dtype=d.dtype)


class SmoothL1Loss(_Loss):
    """``l_i = 0.5 d^2 / beta if |d| < beta else |d| - 0.5 beta``, ``d = x_i - y_i``.

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        beta: where the quadratic turns linear (default 1; >= 0; 0 is L1Loss).

    Shape:
        input ``(*)``, target the same shape; output ``()`` or ``(*)`` for 'none'.

    Backward:
        dx = dl * clamp(d / beta, -1, 1)   (beta = 0: dl * sign(d))

    What torch hides:
        beta = 0 is routed to ``l1_loss`` in Python: the smooth formula would divide
        0 by 0 at d = 0. The slope is continuous at |d| = beta, so there is no kink
        to choose at; SmoothL1 is Huber divided by beta.
    """

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 beta: float = 1.0, dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        if beta < 0:
            raise ValueError(f"SmoothL1Loss: beta must be >= 0 (torch: smooth_l1_loss does not "
                             f"support negative values for beta), got {beta}")
        self.beta = beta

    def forward(self, input, target):
        x = self._x(input)
        d = x - self._target(target, x)
        self._cache = DiffCache(d)
        z = np.abs(d)
        if self.beta == 0:
            return self._reduce(z)
        return self._reduce(np.where(z < self.beta, 0.5 * z * z / self.beta, z - 0.5 * self.beta))

    def backward(self, grad_output=None):
        d = self._saved().d
        g = self._dloss(grad_output, d.shape, d.dtype)
        if self.beta == 0:
            return np.asarray(sgn(d) * g, dtype=d.dtype)
        b = self.beta
        return np.asarray(np.where(d < -b, -g, np.where(d > b, g, d * g / b)), dtype=d.dtype)


class HuberLoss(_Loss):
    """``l_i = 0.5 d^2 if |d| < delta else delta (|d| - 0.5 delta)``, ``d = x_i - y_i``.

    Args:
        reduction: 'none' | 'mean' | 'sum'.
        delta: where the quadratic turns linear (default 1; must be > 0).

    Shape:
        input ``(*)``, target the same shape; output ``()`` or ``(*)`` for 'none'.

    Backward:
        dx = dl * clamp(d, -delta, delta)

    What torch hides:
        HuberLoss(delta) = delta * SmoothL1Loss(beta=delta): the same curve scaled, so
        the gradient saturates at ±delta instead of ±1. HuberLoss has no deprecated
        size_average/reduce arguments (it came later).
    """

    def __init__(self, reduction: str = "mean", delta: float = 1.0, dtype=None):
        super().__init__(None, None, reduction, dtype)
        if not delta > 0:
            raise ValueError(f"HuberLoss: delta must be > 0 (torch: huber_loss does not support "
                             f"non-positive values for delta), got {delta}")
        self.delta = delta

    def forward(self, input, target):
        x = self._x(input)
        d = x - self._target(target, x)
        self._cache = DiffCache(d)
        z, k = np.abs(d), self.delta
        return self._reduce(np.where(z < k, 0.5 * z * z, k * (z - 0.5 * k)))

    def backward(self, grad_output=None):
        d = self._saved().d
        g, k = self._dloss(grad_output, d.shape, d.dtype), self.delta
        return np.asarray(np.where(d <= -k, -g * k, np.where(d >= k, g * k, d * g)), dtype=d.dtype)


class RankCache(NamedTuple):
    sign: np.ndarray     # -y where the hinge is active (argument >= 0), else 0


class MarginRankingLoss(_Loss):
    """``l_i = max(0, -y_i (x1_i - x2_i) + margin)``: x1 should rank above x2 when y = 1.

    Args:
        margin: the required gap (default 0).
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input1, input2 and target ``(*)``, all the same shape (target holds ±1, as floats
        of the inputs' dtype or as integers, which torch promotes).

    Backward:
        dx1 = -y * dl * [-y (x1 - x2) + margin >= 0],   dx2 = -dx1.
        Both inputs are differentiated (``grad_inputs = (0, 1)``); backward returns
        ``(dx1, dx2)``.

    What torch hides:
        the hinge is ``clamp_min(·, 0)``, whose backward passes the gradient where
        the argument is ``>= 0``: exactly at the hinge a pair still gets gradient,
        unlike ``relu`` (which gives 0 there). Torch only checks that the three
        tensors have the same number of dims, then broadcasts; npimpl requires equal
        shapes.
    """

    grad_inputs = (0, 1)

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.margin = margin

    def forward(self, input1, input2, target):
        x1 = self._x(input1, "input1")
        x2 = self._input(input2, "input2", x1.dtype)
        y = _checks.labels(target, "MarginRankingLoss", "target", x1.dtype)
        if not x1.shape == x2.shape == y.shape:
            raise ValueError(f"MarginRankingLoss: input1, input2 and target must have the same "
                             f"shape, got {x1.shape}, {x2.shape} and {y.shape}")
        arg = -y * (x1 - x2) + self.margin
        self._cache = RankCache(np.where(arg >= 0, -y, 0).astype(x1.dtype))
        return self._reduce(np.maximum(arg, 0))

    def backward(self, grad_output=None):
        sign = self._saved().sign
        dx1 = np.asarray(sign * self._dloss(grad_output, sign.shape, sign.dtype), dtype=sign.dtype)
        return dx1, np.asarray(-dx1)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


# the classification losses, importable from here as before the split
from .crossentropy import CrossEntropyLoss, NLLLoss  # noqa: E402
from .bce import BCELoss, BCEWithLogitsLoss  # noqa: E402
from .distribution import GaussianNLLLoss, KLDivLoss  # noqa: E402
from .cosine_loss import CosineEmbeddingLoss  # noqa: E402
