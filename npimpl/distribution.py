"""Losses between distributions: KLDivLoss, GaussianNLLLoss and PoissonNLLLoss."""
from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from . import _checks
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


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum a gradient of a broadcast result back to an argument's ``shape`` (the adjoint of
    NumPy's broadcasting): over the leading dims the argument lacks, then over its size-1 dims."""
    lead = g.ndim - len(shape)
    g = g.sum(axis=tuple(range(lead))) if lead else g
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    return g.sum(axis=axes, keepdims=True) if axes else g


class GaussianCache(NamedTuple):
    d: np.ndarray        # input - target, the input's shape (*)
    v: np.ndarray        # the clamped variance broadcast to the input's shape, (*)
    var_shape: tuple     # the var argument's own shape (its gradient is summed back to it)
    var_given: bool      # False when var was a Python float (no gradient for it)
    target_shape: tuple  # the target's own shape (its gradient is summed back to it)


class GaussianNLLLoss(_Loss):
    """``l_i = 0.5 (log max(v_i, eps) + (x_i - y_i)^2 / max(v_i, eps))`` (+ 0.5 log 2 pi if full).

    Args:
        full: add the constant ``0.5 log(2 pi)``.
        eps: the floor on the variance (default 1e-6).
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input ``(N, *)`` or ``(*)``; target the input's shape or any shape that broadcasts
        to it (a dim of size 1, fewer leading dims, 0-d); var the input's shape, the input's
        shape without its last dim, or with one dim of size 1 (homoscedastic), or a Python
        float. forward(input, target, var); output ``()`` or the input's shape for 'none'.

    Backward:
        with ``v = max(var, eps)``, ``d = x - y``: ``dx = dl * d / v``, ``dy = -dx``,
        ``dvar = dl * 0.5 (1 / v - d^2 / v^2)``; dy and dvar summed over the dims target and
        var were broadcast along. Three differentiable inputs; backward returns
        ``(dx, dy, dvar)``.

    What torch hides:
        the clamp is done in place under ``no_grad`` on a clone, so autograd never sees
        it: where var < eps the loss uses eps, yet var still receives the gradient
        evaluated at eps (not 0, as a ``clamp`` in the graph would give). A var given as
        a Python float is expanded and gets no gradient. Negative variances raise; NaN
        ones pass the check (``any(var < 0)`` is false for NaN). var's shape is checked
        (three layouts, and a var one dim short is unsqueezed at the *end*: (N, D) input,
        (N,) var), but the target's never is: ``(input - target) ** 2`` broadcasts it by
        NumPy's rules, aligning *trailing* dims, so a (D,) target against an (N, D) input
        is one target row for every sample (torch's own op tests use it) while a (N,)
        var is one variance per sample. A target *larger* than the input would silently
        grow the loss's shape in torch; npimpl refuses it.
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
        if v.ndim == x.ndim and sum(b for a, b in zip(x.shape, v.shape) if a != b) == 1 \
                and _checks.broadcasts_to(v.shape, x.shape):
            return np.broadcast_to(v, x.shape), v.shape, True           # one dim of size 1
        raise ValueError(f"GaussianNLLLoss: var is of incorrect size: expected {x.shape}, "
                         f"{x.shape[:-1]} or {x.shape} with one dim of size 1, got {v.shape}")

    def _broadcast_target(self, target, x: np.ndarray) -> np.ndarray:
        y = self._input(target, "target", x.dtype)
        if not _checks.broadcasts_to(y.shape, x.shape):
            raise ValueError(f"GaussianNLLLoss: target shape {y.shape} must broadcast to the "
                             f"input shape {x.shape} (the same shape, a dim of size 1, or fewer "
                             f"leading dims)")
        return y

    def forward(self, input, target, var):
        x = self._x(input)
        y = self._broadcast_target(target, x)
        v_full, var_shape, given = self._var(var, x)
        v = np.maximum(v_full, self.eps).astype(x.dtype)      # torch: clamp_ under no_grad
        d = x - y                                             # (*): y broadcast to x
        loss = 0.5 * (np.log(v) + d * d / v)
        if self.full:
            loss = loss + 0.5 * math.log(2 * math.pi)
        self._cache = GaussianCache(d, v, var_shape, given, y.shape)
        return self._reduce(loss.astype(x.dtype, copy=False))

    def backward(self, grad_output=None):
        d, v, var_shape, given, target_shape = self._saved()
        g = self._dloss(grad_output, d.shape, d.dtype)
        dx = np.asarray(g * d / v, dtype=d.dtype)
        dvar = None
        if given:
            dv = np.asarray(g * 0.5 * (1 / v - d * d / (v * v)), dtype=d.dtype)   # input's shape
            if var_shape == d.shape[:-1] and var_shape != d.shape:
                dvar = np.asarray(dv.sum(axis=-1), dtype=d.dtype)      # a 0-D array, not a scalar
            else:
                dvar = np.asarray(sum_to(dv, var_shape), dtype=d.dtype)
        return dx, np.asarray(sum_to(-dx, target_shape), dtype=d.dtype), dvar

    def extra_repr(self) -> str:
        return f"full={self.full}, eps={self.eps}, reduction={self.reduction!r}"


class PoissonCache(NamedTuple):
    dldx: np.ndarray     # d l_i / d x_i: exp(x) - y (log_input) or 1 - y / (x + eps)


class PoissonNLLLoss(_Loss):
    """``l_i = exp(x_i) - y_i x_i`` (log_input) or ``x_i - y_i log(x_i + eps)``, + Stirling if full.

    Args:
        log_input: the input is the log of the rate (default True); else the rate itself.
        full: add Stirling's approximation of ``log(y!)``,
            ``y log y - y + 0.5 log(2 pi y)``, where ``y > 1`` (0 elsewhere).
        eps: added to the rate inside the log when ``log_input=False`` (default 1e-8).
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input (``log_input`` in torch's forward) ``(*)``, target the same shape; output
        ``()`` or ``(*)`` for 'none'.

    Backward:
        dx = dl * (exp(x) - y)  (log_input)  or  dl * (1 - y / (x + eps));  the Stirling
        term depends on the target only. ÷ numel for 'mean'.

    What torch hides:
        the Stirling term is computed everywhere, ``0 * log 0`` = NaN included, and then
        masked to 0 where ``y <= 1``: not log(y!) (which is 0 only at y = 0 and 1), just
        "no correction" for small counts. eps only guards ``log(x)``; with
        ``log_input=True`` (the default) a rate never appears, so a large input overflows
        ``exp`` to inf. torch would also differentiate the target (the Stirling term and
        ``- y log x``); here, as in every npimpl loss, the target is data.
    """

    def __init__(self, log_input: bool = True, full: bool = False, size_average=None,
                 eps: float = 1e-8, reduce=None, reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.log_input, self.full, self.eps = log_input, full, eps

    def forward(self, log_input, target):
        x = self._x(log_input, "log_input")
        y = self._target(target, x)
        if self.log_input:
            ex = np.exp(x)
            loss, dldx = ex - y * x, ex - y
        else:
            loss, dldx = x - y * np.log(x + self.eps), 1 - y / (x + self.eps)
        if self.full:
            with np.errstate(divide="ignore", invalid="ignore"):   # y log y at y = 0: masked
                stirling = y * np.log(y) - y + 0.5 * np.log(2 * math.pi * y)
            loss = loss + np.where(y <= 1, 0, stirling)
        self._cache = PoissonCache(np.asarray(dldx, dtype=x.dtype))
        return self._reduce(np.asarray(loss, dtype=x.dtype))

    def backward(self, grad_output=None):
        dldx = self._saved().dldx
        return np.asarray(dldx * self._dloss(grad_output, dldx.shape, dldx.dtype),
                          dtype=dldx.dtype)

    def extra_repr(self) -> str:
        return (f"log_input={self.log_input}, full={self.full}, eps={self.eps}, "
                f"reduction={self.reduction!r}")
