"""Multi-class hinge losses on raw scores: MultiMarginLoss (one target class per sample, the
multi-class SVM loss) and MultiLabelMarginLoss (a set of target classes per sample).

Both are written as ATen's CPU kernels are: a pair only counts (in the loss and in the
gradient) where its hinge argument is *strictly* positive, ``if (z > 0)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .loss import _Loss


class MarginCache(NamedTuple):
    dx: np.ndarray       # d l_n / d x_{n, :} before grad_output, (N, C)
    shape: tuple         # the input's shape (0-D and 1-D inputs are one sample)
    loss_shape: tuple    # the 'none' output's shape: (N,) or ()


def as_rows(x: np.ndarray, owner: str) -> np.ndarray:
    """``()``, ``(C)`` or ``(N, C)`` → ``(N, C)`` with C > 0 (torch's atleast_2d)."""
    if x.ndim > 2 or (x.ndim and x.shape[-1] == 0):
        raise ValueError(f"{owner}: expected a non-empty vector (C) or matrix (N, C) with "
                         f"C > 0, got shape {x.shape}")
    return np.atleast_2d(x)


class _RowLoss(_Loss):
    """One loss per sample; the kernels' 'mean' of an empty batch is 0, not 0/0."""

    def _reduce_rows(self, per_sample: np.ndarray) -> np.ndarray:
        if self.reduction == "mean" and per_sample.size == 0:
            return np.zeros((), dtype=per_sample.dtype)
        return self._reduce(per_sample)

    def _rows(self, input, target):
        """``(x, x as (N, C) rows, N, C, the int64 target)``."""
        x = self._x(input)
        xr = as_rows(x, type(self).__name__)                                # (N, C)
        return (x, xr, *xr.shape, _checks.index_array(target, type(self).__name__))

    def backward(self, grad_output=None):
        h, shape, loss_shape = self._saved()
        g = np.asarray(self._dloss(grad_output, loss_shape, h.dtype)).reshape(-1, 1)  # (N, 1)
        return np.asarray(h * g, dtype=h.dtype).reshape(shape)


class MultiMarginLoss(_RowLoss):
    """``l_n = (1/C) sum_{i != y_n} w[y_n] max(0, margin - x[n, y_n] + x[n, i])^p``.

    Args:
        p: 1 (hinge) or 2 (squared hinge), the only values torch supports.
        margin: by how much the target class's score must beat every other (default 1).
        weight: per-class weights ``(C,)`` (a buffer), applied by the *target* class.
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(N, C)``, ``(C)`` or ``()``; target ``(N)`` (or ``()`` / ``(1)`` for one
        sample) of class indices in ``[0, C)``; output ``()``, or the target's shape for 'none'.

    Backward:
        with ``z_i = margin - x_y + x_i`` and ``h_i = w[y] g_n / C`` (p = 1) or
        ``2 z_i w[y] g_n / C`` (p = 2) where ``z_i > 0``, ``i != y``, else 0:
        ``dx_i = h_i``, ``dx_y = -sum_i h_i``; ``g_n`` = grad_output (÷ N for 'mean').

    What torch hides:
        the CPU kernel tests ``z > 0`` (strictly) in the loss and in the gradient: a class
        exactly at the margin gets no gradient, where a ``clamp_min`` would pass it. The
        average is over *all* C classes although the target's own term is always left out
        (the loss of C - 1 pairs divided by C), and a NaN score fails ``z > 0`` and drops
        out of the loss instead of propagating. Weights are not checked for sign.
    """

    def __init__(self, p: int = 1, margin: float = 1.0, weight=None, size_average=None,
                 reduce=None, reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        if p not in (1, 2):
            raise ValueError(f"MultiMarginLoss: only p == 1 and p == 2 supported, got {p}")
        self._buffer("weight", weight)
        if self.weight is not None and self.weight.ndim != 1:
            raise ValueError(f"MultiMarginLoss: expected weight to be None or 1D tensor, got "
                             f"{self.weight.ndim}D instead")
        self.p, self.margin = p, margin

    def forward(self, input, target):
        x, xr, N, C, t = self._rows(input, target)
        owner = type(self).__name__
        if t.ndim > 1 or t.size != N:
            raise ValueError(f"{owner}: target must be 1-D with one class index per sample, "
                             f"expected {N} indices, got shape {t.shape}")
        loss_shape = t.shape                              # torch: 'none' has the target's shape
        t = t.reshape(N)
        if np.any((t < 0) | (t >= C)):
            raise IndexError(f"{owner}: target out of range: expected class indices in "
                             f"[0, {C}), got {int(t[(t < 0) | (t >= C)][0])}")
        w = np.ones(C, x.dtype) if self.weight is None else self.weight.astype(x.dtype)
        if w.size != C:
            raise ValueError(f"{owner}: inconsistent weight size, expected {C} but got "
                             f"{w.shape}")
        rows = np.arange(N)
        z = self.margin - xr[rows, t][:, None] + xr                         # (N, C)
        active = (z > 0) & (np.arange(C)[None, :] != t[:, None])             # strict, i != y
        wy = w[t][:, None]                                                   # (N, 1)
        per_class = np.where(active, z if self.p == 1 else z * z, 0) * wy    # (N, C)
        h = np.where(active, 1.0 if self.p == 1 else 2 * z, 0) * wy / C      # (N, C)
        h[rows, t] = -h.sum(axis=1)
        self._cache = MarginCache(h.astype(x.dtype), x.shape, loss_shape)
        return self._reduce_rows(np.asarray(per_class.sum(axis=1) / C, dtype=x.dtype)
                                 .reshape(loss_shape))

    def extra_repr(self) -> str:
        return f"p={self.p}, margin={self.margin}, reduction={self.reduction!r}"


class MultiLabelMarginLoss(_RowLoss):
    """``l_n = (1/C) sum_{j in Y_n} sum_{i not in Y_n} max(0, 1 - (x[n, j] - x[n, i]))``.

    ``Y_n`` is the set of target classes of sample n: its row of ``target`` read up to the
    first -1 (the rest is padding).

    Args:
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input ``(N, C)`` or ``(C)``; target of the same shape, integer class indices in
        ``[0, C)`` followed by -1 padding; output ``()``, or ``(N)`` / ``()`` for 'none'.

    Backward:
        for every listed target j and non-target i with ``z = 1 - x_j + x_i > 0``:
        ``dx_i += g_n / C`` and ``dx_j -= g_n / C`` (``g_n`` ÷ N for 'mean').

    What torch hides:
        only the prefix before the first -1 counts, yet *every* entry, padding included,
        must lie in [-1, C) or torch raises. A class listed twice is counted twice in the
        sum over j (but is one class in "not in Y_n"). The hinge is tested with ``z > 0``
        strictly, so a pair exactly at the margin gets no gradient, and a NaN score drops
        out of the loss instead of propagating. The margin is fixed at 1.
    """

    def forward(self, input, target):
        x, xr, N, C, t = self._rows(input, target)
        owner = type(self).__name__
        if t.shape != x.shape or x.ndim == 0:
            raise ValueError(f"{owner}: inconsistent target size: expected the input's shape "
                             f"{x.shape} (class indices padded with -1), got {t.shape}")
        t = t.reshape(N, C)
        bad = (t < -1) | (t >= C)
        if bad.any():
            raise IndexError(f"{owner}: target is out of range: expected class indices in "
                             f"[0, {C}) or -1, got {int(t[bad][0])}")
        # the listed targets: each row up to its first -1
        listed = np.cumprod(t != -1, axis=1).astype(bool)                   # (N, C) j < k_n
        labels = np.where(listed, t, 0)                                     # (N, C) safe index
        is_target = np.zeros((N, C), dtype=bool)
        rows = np.repeat(np.arange(N), C)
        is_target[rows[listed.ravel()], labels.ravel()[listed.ravel()]] = True
        xj = np.take_along_axis(xr, labels, axis=1)                         # (N, J=C) x[y_j]
        z = 1 - xj[:, :, None] + xr[:, None, :]                             # (N, J, I)
        active = listed[:, :, None] & ~is_target[:, None, :] & (z > 0)      # (N, J, I)
        per_sample = np.where(active, z, 0).sum(axis=(1, 2)) / C            # (N,)
        dx = active.sum(axis=1).astype(x.dtype) / C                         # (N, I): + per i
        down = active.sum(axis=2).astype(x.dtype) / C                       # (N, J): - per j
        np.add.at(dx, (np.arange(N)[:, None], labels), -down)               # repeats add up
        loss_shape = (N,) if x.ndim == 2 else ()
        self._cache = MarginCache(dx, x.shape, loss_shape)
        return self._reduce_rows(np.asarray(per_sample, dtype=x.dtype).reshape(loss_shape))

