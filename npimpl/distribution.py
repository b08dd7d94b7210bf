"""Losses between distributions: KLDivLoss and GaussianNLLLoss."""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from .loss import _Loss


class KLCache(NamedTuple):
    coef: np.ndarray     # d l_i / d x_i = -target (or -exp(target) for log_target)
    n_batch: int         # the divisor of 'batchmean'


class KLDivLoss(_Loss):
    """``l_i = y_i (log y_i - x_i)``, x the *log*-probabilities, y the target probabilities.

    Args:
        reduction: 'none' | 'batchmean' (the sum ÷ the batch size, the true KL divergence
            per sample) | 'sum' | 'mean' (÷ every element: torch's default, and a warning).
        log_target: the target is given as log-probabilities: ``l_i = exp(y_i) (y_i - x_i)``.

    Shape:
        input ``(*)``, target the same shape; output ``()`` or ``(*)`` for 'none'.

    Backward:
        dx = -y * dl   (log_target: -exp(y) * dl); ÷ N for 'batchmean', ÷ numel for 'mean'.

    What torch hides:
        the default reduction 'mean' averages over classes too, so it is not the KL
        divergence (torch warns; 'batchmean' is). ``y log y`` is torch's ``xlogy``:
        0 where y = 0, NaN where y < 0 (no error). The input is *not* log-softmaxed
        for you, and 'batchmean' divides by ``input.size(0)`` even for an unbatched
        1-D input.
    """

    reductions = ("none", "batchmean", "sum", "mean")

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean",
                 log_target: bool = False, dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.log_target = log_target

    def forward(self, input, target):
        x = self._x(input)
        y = self._target(target, x)
        if self.log_target:
            ey = np.exp(y)
            loss, coef = ey * (y - x), -ey
        else:
            with np.errstate(divide="ignore", invalid="ignore"):
                ylogy = np.where(y == 0, 0, y * np.log(y)).astype(x.dtype)
            loss, coef = ylogy - y * x, -y
        n = x.shape[0] if x.ndim else 1
        self._cache = KLCache(coef, n)
        if self.reduction == "mean":
            warnings.warn("KLDivLoss: reduction 'mean' divides the total loss by both the batch "
                          "size and the support size; 'batchmean' is the KL divergence.",
                          stacklevel=2)
        if self.reduction == "batchmean":
            return np.asarray(loss.sum() / n, dtype=x.dtype)
        return self._reduce(loss)

    def backward(self, grad_output=None):
        coef, n = self._saved()
        if self.reduction == "batchmean":
            g = self._grad_out(grad_output, (), coef.dtype) / n
        else:
            g = self._dloss(grad_output, coef.shape, coef.dtype)
        return np.asarray(g * coef, dtype=coef.dtype)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}, log_target={self.log_target}"


class GaussianCache(NamedTuple):
    d: np.ndarray        # input - target, (*)
    v: np.ndarray        # the clamped variance broadcast to the input's shape, (*)
    var_shape: tuple     # the var argument's own shape (its gradient is summed back to it)
    var_given: bool      # False when var was a Python float (no gradient for it)


class GaussianNLLLoss(_Loss):
    """``l_i = 0.5 (log max(v_i, eps) + (x_i - y_i)^2 / max(v_i, eps))`` (+ 0.5 log 2 pi if full).

    Args:
        full: add the constant ``0.5 log(2 pi)``.
        eps: the floor on the variance (default 1e-6).
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input ``(N, *)`` or ``(*)``, target the input's shape; var the input's shape, the
        input's shape without its last dim, or with one dim of size 1 (homoscedastic), or
        a Python float. forward(input, target, var).

    Backward:
        with ``v = max(var, eps)``, ``d = x - y``: ``dx = dl * d / v``, ``dy = -dx``,
        ``dvar = dl * 0.5 (1 / v - d^2 / v^2)`` summed over the dims var was broadcast
        along. Three differentiable inputs; backward returns ``(dx, dy, dvar)``.

    What torch hides:
        the clamp is done in place under ``no_grad`` on a clone, so autograd never sees
        it: where var < eps the loss uses eps, yet var still receives the gradient
        evaluated at eps (not 0, as a ``clamp`` in the graph would give). A var given as
        a Python float is expanded and gets no gradient. Negative variances raise; NaN
        ones pass the check (``any(var < 0)`` is false for NaN).
    """

    grad_inputs = (0, 1, 2)

    def __init__(self, *, full: bool = False, eps: float = 1e-6, reduction: str = "mean",
                 dtype=None):
        super().__init__(None, None, reduction, dtype)
        self.full, self.eps = full, eps

    def _var(self, var, x: np.ndarray) -> tuple[np.ndarray, tuple, bool]:
        """The variance broadcast to x's shape (torch's three accepted layouts)."""
        if isinstance(var, float):
            if var < 0:
                raise ValueError(f"GaussianNLLLoss: var has negative entry/entries, got {var}")
            return np.full(x.shape, var, dtype=x.dtype), x.shape, False
        v = self._input(var, "var", x.dtype)
        if np.any(v < 0):
            raise ValueError(f"GaussianNLLLoss: var has negative entry/entries, got "
                             f"{v[v < 0].flat[0]}")
        if v.shape == x.shape:
            return v, v.shape, True
        if v.shape == x.shape[:-1]:                                     # homoscedastic: (N, *)
            return np.broadcast_to(v[..., None], x.shape), v.shape, True
        if v.ndim == x.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1:
            return np.broadcast_to(v, x.shape), v.shape, True           # one dim of size 1
        raise ValueError(f"GaussianNLLLoss: var is of incorrect size: expected {x.shape}, "
                         f"{x.shape[:-1]} or {x.shape} with one dim of size 1, got {v.shape}")

    def forward(self, input, target, var):
        x = self._x(input)
        y = self._target(target, x)
        v_full, var_shape, given = self._var(var, x)
        v = np.maximum(v_full, self.eps).astype(x.dtype)      # torch: clamp_ under no_grad
        d = x - y
        loss = 0.5 * (np.log(v) + d * d / v)
        if self.full:
            loss = loss + 0.5 * math.log(2 * math.pi)
        self._cache = GaussianCache(d, v, var_shape, given)
        return self._reduce(loss.astype(x.dtype, copy=False))

    def backward(self, grad_output=None):
        d, v, var_shape, given = self._saved()
        g = self._dloss(grad_output, d.shape, d.dtype)
        dx = np.asarray(g * d / v, dtype=d.dtype)
        dvar = None
        if given:
            dv = np.asarray(g * 0.5 * (1 / v - d * d / (v * v)), dtype=d.dtype)   # input's shape
            if var_shape == d.shape[:-1] and var_shape != d.shape:
                dvar = dv.sum(axis=-1)
            else:
                axes = tuple(i for i, (a, b) in enumerate(zip(d.shape, var_shape)) if a != b)
                dvar = dv.sum(axis=axes, keepdims=True) if axes else dv
        return dx, np.asarray(-dx), dvar

    def extra_repr(self) -> str:
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"
