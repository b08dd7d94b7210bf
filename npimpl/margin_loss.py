"""Two-class margin losses on ±1 labels: HingeEmbeddingLoss, SoftMarginLoss, and the
one-versus-all MultiLabelSoftMarginLoss.

Each is element-wise with a per-element derivative ``d l_i / d x_i`` computed in forward
and scaled by the upstream gradient in backward (``_Loss._dloss``). The multi-class hinge
losses (MultiMarginLoss, MultiLabelMarginLoss) live in ``multi_margin.py``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .loss import _Loss


class ElementCache(NamedTuple):
    dldx: np.ndarray     # d l_i / d x_i, the input's shape


def same_shape_labels(module: _Loss, target, x: np.ndarray) -> np.ndarray:
    """A label target (float of x's dtype, or integers) of exactly x's shape."""
    name = type(module).__name__
    y = _checks.labels(target, name, "target", x.dtype)
    if y.shape != x.shape:
        raise ValueError(f"{name}: target shape {y.shape} must equal input shape {x.shape}")
    return y


class HingeEmbeddingLoss(_Loss):
    """``l_i = x_i if y_i = 1;  max(0, margin - x_i) if y_i = -1`` (x: a distance, y: ±1).

    Args:
        margin: how far a dissimilar pair's distance must reach before it stops costing
            (default 1).
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(*)``, target the same shape (±1, as floats or integers); output ``()`` or
        ``(*)`` for 'none'.

    Backward:
        dx = dl * ([y != -1] - [y != 1] [margin - x >= 0])   (÷ numel for 'mean').

    What torch hides:
        ATen writes the two branches as ``where(y != 1, clamp_min(margin - x, 0), 0) +
        where(y != -1, x, 0)``: a label that is neither 1 nor -1 (a 0 from 0/1 labels)
        takes *both*, ``x + max(0, margin - x)``, with no warning (npimpl does the same).
        ``clamp_min`` passes the gradient where its argument is ``>= 0``, so a dissimilar
        pair exactly at the margin is still pushed (dx = -1).
    """

    def __init__(self, margin: float = 1.0, size_average=None, reduce=None,
                 reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.margin = margin

    def forward(self, input, target):
        x = self._x(input)
        y = same_shape_labels(self, target, x)
        hinge = self.margin - x
        not_pos, not_neg = y != 1, y != -1
        loss = np.where(not_pos, np.maximum(hinge, 0), 0) + np.where(not_neg, x, 0)
        dldx = not_neg.astype(x.dtype) - (not_pos & (hinge >= 0)).astype(x.dtype)
        self._cache = ElementCache(dldx)
        return self._reduce(np.asarray(loss, dtype=x.dtype))

    def backward(self, grad_output=None):
        dldx = self._saved().dldx
        return np.asarray(dldx * self._dloss(grad_output, dldx.shape, dldx.dtype), dtype=dldx.dtype)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"


class SoftMarginLoss(_Loss):
    """``l_i = log(1 + exp(-y_i x_i))``: the logistic loss on ±1 labels.

    Args:
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(*)``, target the same shape (±1, as floats or integers); output ``()`` or
        ``(*)`` for 'none'.

    Backward:
        with ``z = exp(-y x)``: dx = -dl * y * z / (1 + z)   (÷ numel for 'mean').

    What torch hides:
        ATen computes ``log1p(exp(-y x))`` without the max-shift BCEWithLogitsLoss uses:
        the loss is exact for small ``exp(-y x)`` (4.2e-18 at y x = 40, where
        ``log(1 + ·)`` would give 0) but overflows to inf once ``-y x`` passes the
        dtype's exp limit (about 709 in float64, 88 in float32), and the gradient
        ``z / (1 + z)`` there is inf / inf = NaN. npimpl reproduces both.
    """

    def forward(self, input, target):
        x = self._x(input)
        y = same_shape_labels(self, target, x)
        with np.errstate(over="ignore", invalid="ignore"):   # torch's inf and NaN, reproduced
            z = np.exp(-y * x)
            dldx = -y * z / (1 + z)
        self._cache = ElementCache(np.asarray(dldx, dtype=x.dtype))
        return self._reduce(np.asarray(np.log1p(z), dtype=x.dtype))

    def backward(self, grad_output=None):
        dldx = self._saved().dldx
        return np.asarray(dldx * self._dloss(grad_output, dldx.shape, dldx.dtype), dtype=dldx.dtype)


def log_sigmoid(x: np.ndarray) -> np.ndarray:
    """``log σ(x) = min(x, 0) - log1p(exp(-|x|))``: finite for every finite x."""
    return np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x)))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """``σ(x)`` from ``exp(-|x|)``, which never overflows."""
    e = np.exp(-np.abs(x))
    return np.where(x >= 0, 1 / (1 + e), e / (1 + e))


class MultiLabelCache(NamedTuple):
    dldx: np.ndarray     # d l_n / d x_{n, c} before grad_output: (σ(x) - y) w / C, (*, C)
    loss_shape: tuple    # the 'none' output's shape: the input's without its last dim


class MultiLabelSoftMarginLoss(_Loss):
    """``l_n = -(1/C) sum_c w_c (y_c log σ(x_c) + (1 - y_c) log σ(-x_c))``: C one-vs-all logistic
    losses per sample, averaged over the classes.

    Args:
        weight: per-class weights, ``(C,)`` or any shape that broadcasts to the input's (a
            buffer, as in torch's state_dict); None is all ones.
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(N, C)`` or ``(C)`` (any ``(*, C)``: the classes are the last dim), target
        the same shape (0/1 labels or soft targets); output ``()``, or ``(N)`` / ``()``
        for 'none'.

    Backward:
        dx_{n,c} = dl_n * w_c * (y_c σ(-x_c) (-1) + (1 - y_c) σ(x_c)) / C
        = dl_n * w_c * (σ(x_c) - y_c) / C   (÷ N for 'mean').

    What torch hides:
        it is BCEWithLogitsLoss averaged over the classes *within* each sample: 'none' gives
        one loss per sample, not per element, and 'mean' divides by N * C overall, as
        ``BCEWithLogitsLoss`` would. It is written in Python from ``logsigmoid`` (finite at
        ±700, like BCEWithLogitsLoss), and the weight is simply multiplied in, so torch's
        own tests pass a weight of the input's full shape.
    """

    def __init__(self, weight=None, size_average=None, reduce=None, reduction: str = "mean",
                 dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self._buffer("weight", weight)

    def forward(self, input, target):
        x = self._x(input)
        name = type(self).__name__
        if x.ndim == 0:
            raise ValueError(f"{name}: input must be (C) or (N, C) (classes in the last dim), "
                             f"got a 0-D array")
        y = same_shape_labels(self, target, x)
        C = x.shape[-1]
        w = np.ones((), dtype=x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        if not _checks.broadcasts_to(w.shape, x.shape):
            raise ValueError(f"{name}: weight of shape {w.shape} must broadcast to the input's "
                             f"shape {x.shape} (one weight per class: ({C},))")
        per_class = -(y * log_sigmoid(x) + (1 - y) * log_sigmoid(-x)) * w       # (*, C)
        dldx = (-y * sigmoid(-x) + (1 - y) * sigmoid(x)) * w / C                # (*, C)
        self._cache = MultiLabelCache(np.asarray(dldx, dtype=x.dtype), x.shape[:-1])
        return self._reduce(np.asarray(per_class.sum(axis=-1) / C, dtype=x.dtype))

    def backward(self, grad_output=None):
        dldx, loss_shape = self._saved()
        g = self._dloss(grad_output, loss_shape, dldx.dtype)                   # (*,) or ()
        return np.asarray(dldx * np.asarray(g)[..., None], dtype=dldx.dtype)

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"
