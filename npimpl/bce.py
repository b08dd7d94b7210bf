"""Binary cross-entropy: on probabilities (BCELoss) and on logits (BCEWithLogitsLoss)."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .activation import sigmoid
from .loss import _Loss

LOG_FLOOR = -100.0   # torch clamps each log term at -100, so p = 0 or 1 gives a loss of 100, not inf
# torch's floor on p (1 - p) in BCELoss's backward: declared `static const float EPSILON = 1e-12`,
# so even float64 divides by the float32 value 9.99999996e-13
EPSILON = float(np.float32(1e-12))


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log(sigmoid(x)) = min(x, 0) - log1p(exp(-|x|))``: finite for logits of ±700 and beyond."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


class _BinaryLoss(_Loss):
    def _expand(self, name: str, value, shape: tuple) -> np.ndarray | None:
        """A weight buffer broadcast to the target's shape (torch expands it the same way)."""
        if value is None:
            return None
        try:
            ok = np.broadcast_shapes(value.shape, shape) == shape
        except ValueError:
            ok = False
        if not ok:
            raise ValueError(f"{type(self).__name__}: {name} of shape {value.shape} must "
                             f"broadcast to the target's shape {shape}")
        return np.broadcast_to(value, shape)


class BCECache(NamedTuple):
    x: np.ndarray                # the input probabilities, (*)
    t: np.ndarray                # the target, (*)
    w: np.ndarray | None         # the weight broadcast to (*), or None


class BCELoss(_BinaryLoss):
    r"""``l_i = -w_i (y_i log x_i + (1 - y_i) log(1 - x_i))``, each log clamped at -100.

    Args:
        weight: rescales each element's loss; broadcast to the input's shape (a buffer).
        reduction: 'none' | 'mean' | 'sum' ('mean' ÷ the number of elements, not ÷ sum w).

    Shape:
        input ``(*)`` of probabilities in [0, 1], target the same shape with values in [0, 1].

    Maths:
        \ell_i = -w_i\big(y_i \log x_i + (1 - y_i)\log(1 - x_i)\big)

    Derivation:
        1. $\frac{\partial \ell_i}{\partial x_i} = -w_i\left(\frac{y_i}{x_i} - \frac{1 - y_i}{1 - x_i}\right)
           = w_i \frac{x_i - y_i}{x_i (1 - x_i)}$.
        2. torch floors the denominator at the float32 constant $10^{-12}$ so $x = 0$ or $1$ stays
           finite:
           $$\bar x = \frac{w (x - y)}{\max(x(1 - x), 10^{-12})} \cdot \frac{\bar L}{M}$$

    Backward:
        dx = w * dl * (x - y) / max(x (1 - x), float32(1e-12))   (÷ the number of elements for 'mean')

    What torch hides:
        two floors make p = 0 and p = 1 safe: the forward clamps ``log x`` and
        ``log(1 - x)`` at -100 (so a confident wrong answer costs 100, not inf), the
        backward floors ``x (1 - x)`` at 1e-12 (so the gradient there is ±1e12, not
        inf); that 1e-12 is a float32 constant, so in float64 the floor is
        9.99999996e-13 and the gradient at p = 1, y = 0.75 is 2.50000001e11. ``log(1 - x)`` is computed as ``log1p(-x)``. Inputs or targets outside
        [0, 1] (NaN included) raise instead of returning NaN: a sigmoid that
        overshoots is a bug to report, not a loss to average.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self._buffer("weight", weight)

    def forward(self, input, target):
        x = self._x(input)
        if x.shape != getattr(target, "shape", None):
            raise ValueError(f"BCELoss: target shape {getattr(target, 'shape', None)} must "
                             f"equal input shape {x.shape}")
        t = self._target(target, x)
        for name, v in (("input", x), ("target", t)):
            if not np.all((v >= 0) & (v <= 1)):
                bad = v[~((v >= 0) & (v <= 1))][0]
                raise ValueError(f"BCELoss: all elements of {name} should be between 0 and 1, "
                                 f"got {bad}")
        w = self._expand("weight", self.weight, x.shape)
        with np.errstate(divide="ignore"):
            loss = ((t - 1) * np.maximum(np.log1p(-x), LOG_FLOOR)
                    - t * np.maximum(np.log(x), LOG_FLOOR))
        if w is not None:
            loss = loss * w
        self._cache = BCECache(x, t, w)
        return self._reduce(loss.astype(x.dtype, copy=False))

    def backward(self, grad_output=None):
        x, t, w = self._saved()
        g = self._dloss(grad_output, x.shape, x.dtype)
        dx = g * (x - t) / np.maximum((1 - x) * x, EPSILON)
        if w is not None:
            dx = dx * w
        return np.asarray(dx, dtype=x.dtype)


class LogitCache(NamedTuple):
    x: np.ndarray                # the logits, (*)
    t: np.ndarray                # the target, (*)
    w: np.ndarray | None         # weight broadcast to (*), or None
    pw: np.ndarray | None        # pos_weight broadcast to (*), or None


class BCEWithLogitsLoss(_BinaryLoss):
    r"""``l_i = -w_i (pw_i y_i log sigmoid(x_i) + (1 - y_i) log(1 - sigmoid(x_i)))``.

    Computed as ``(1 - y) x - (1 + (pw - 1) y) log_sigmoid(x)``, which never forms
    sigmoid(x) and so stays finite for logits of ±700.

    Args:
        weight: rescales each element's loss; broadcast to the input's shape (a buffer).
        reduction: 'none' | 'mean' | 'sum'.
        pos_weight: weight of the positive term, broadcast along the trailing dims
            (typically ``(C,)``, one per class of a multi-label problem; a buffer).

    Shape:
        input ``(*)`` of logits, target the same shape (any real values: soft labels are fine).

    Maths:
        \ell_i = -w_i\big(p_i y_i \log\sigma(x_i) + (1 - y_i)\log(1 - \sigma(x_i))\big)

    Derivation:
        1. ($p$ is ``pos_weight``.) $\frac{d}{dx}\log\sigma(x) = 1 - \sigma(x)$ and $\frac{d}{dx}\log(1 - \sigma(x)) = -\sigma(x)$.
        2. So $\frac{\partial \ell_i}{\partial x_i} = -w_i\big(p_i y_i (1 - \sigma) - (1 - y_i)\sigma\big)
           = w_i\big((p_i y_i + 1 - y_i)\sigma(x_i) - p_i y_i\big)$; with $p = 1$ it is
           $\sigma(x) - y$, never forming $\log 0$:
           $$\bar x = w\big((p y + 1 - y)\,\sigma(x) - p y\big) \frac{\bar L}{M}$$

    Backward:
        dx = w * dl * ((pw y + 1 - y) sigmoid(x) - pw y)   (pw = 1: ``sigmoid(x) - y``);
        ÷ the number of elements for 'mean'.

    What torch hides:
        this is why the fused loss exists: ``BCELoss(sigmoid(x))`` at x = -700 takes
        ``log(0)``, clamps it to -100 and has a gradient that vanishes, while here the
        loss is ~700 and the gradient exactly ``sigmoid(x) - y``. ``pos_weight``
        scales only the positive term, so it trades recall for precision; it is
        *not* the same as weight. Unlike BCELoss, targets are not range-checked.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 pos_weight=None, dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self._buffer("weight", weight)
        self._buffer("pos_weight", pos_weight)

    def forward(self, input, target):
        x = self._x(input)
        t = self._target(target, x)
        w = self._expand("weight", self.weight, x.shape)
        pw = self._expand("pos_weight", self.pos_weight, x.shape)
        ls = log_sigmoid(x)
        if pw is not None:
            ls = ls * ((pw - 1) * t + 1)
        loss = (1 - t) * x - ls
        if w is not None:
            loss = loss * w
        self._cache = LogitCache(x, t, w, pw)
        return self._reduce(loss.astype(x.dtype, copy=False))

    def backward(self, grad_output=None):
        x, t, w, pw = self._saved()
        if pw is None:
            dx = sigmoid(x) - t
        else:
            pt = pw * t
            dx = (pt + 1 - t) * sigmoid(x) - pt
        if w is not None:
            dx = dx * w
        dx = dx * self._dloss(grad_output, x.shape, x.dtype)
        return np.asarray(dx, dtype=x.dtype)
