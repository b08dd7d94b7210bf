"""NLLLoss and CrossEntropyLoss: class indices or class probabilities, K-dim inputs.

Both reduce to one picture. Flatten every position to a row ``n`` of ``C``
log-probabilities ``logp[n, :]`` (``(N, C, d1..dK)`` → ``(M, C)``, M = N·d1···dK);
the loss is a weighted sum of them, ``L = -sum_n r_n sum_c T[n, c] logp[n, c]``,
with ``T`` the (smoothed, weighted) target and ``r_n`` the reduction's factor.
So ``G = dL/dlogp = -r_n T[n, c]``; NLLLoss returns G, CrossEntropyLoss pushes
it through log-softmax: ``dx = G - softmax(x) * sum_c G``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .loss import _Loss
from .softmax import log_softmax


def class_axis_last(x: np.ndarray, owner: str) -> np.ndarray:
    """``(N, C, d1..dK)`` → ``(M, C)`` (class dim last, every position a row); ``(C,)`` → ``(1, C)``."""
    if x.ndim == 0:
        raise ValueError(f"{owner}: input must be 1-D (C) or at least 2-D (N, C, ...), got a "
                         f"0-D array")
    if x.ndim == 1:
        return x[None, :]
    M = x.shape[0] * int(np.prod(x.shape[2:]))                 # explicit: C or M may be 0
    return np.moveaxis(x, 1, -1).reshape(M, x.shape[1])


def picked(x: np.ndarray, t: np.ndarray) -> np.ndarray:
    """``class_axis_last(x)[n, t[n]]`` for every row n, ``(M,)``, reading only those M values
    (for a K-dim input, class_axis_last copies the whole input)."""
    if x.ndim == 1:
        return x[t]
    n, c, s = x.shape[0], x.shape[1], int(np.prod(x.shape[2:]))   # not -1: N may be 0
    return np.take_along_axis(x.reshape(n, c, s), t.reshape(n, 1, s), axis=1).reshape(-1)


def class_axis_restore(dxm: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`class_axis_last` for a gradient of shape ``(M, C)``."""
    if len(shape) == 1:
        return dxm[0]
    lead = (shape[0],) + shape[2:] + (shape[1],)
    return np.moveaxis(dxm.reshape(lead), -1, 1)


class ClassCache(NamedTuple):
    T: np.ndarray                # (M, C) the weighted target each row's logp is dotted with;
                                 # (M, 1) when t is given: its one non-zero, at [n, t_n]
    r: np.ndarray                # (M,) the reduction's factor before grad_output (0 if ignored)
    logp: np.ndarray | None      # (M, C) log-softmax (CrossEntropyLoss) or None (NLLLoss)
    shape: tuple                 # the input's shape
    loss_shape: tuple            # the 'none' output's shape
    t: np.ndarray | None = None  # (M,) class indices, -1 where ignored, when G lives only at
                                 # [n, t_n] (index targets without label smoothing)


class NLLLoss(_Loss):
    r"""Negative log-likelihood of class indices: ``l_n = -w[t_n] * x[n, t_n]``.

    ``input`` holds log-probabilities (e.g. the output of ``LogSoftmax``).
    'mean' divides by ``sum_n w[t_n]`` over non-ignored targets (not by N).

    Args:
        weight: per-class weights ``(C,)`` or None (a buffer, as in torch's state_dict).
        ignore_index: targets equal to it contribute 0 to the loss and to the mean's denominator.
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``; target ``(N)``, ``()``
        or ``(N, d1, ..., dK)`` with integer values in ``[0, C)``.

    Maths:
        \ell_n = -w_{t_n}\, x_{n, t_n}, \qquad L_{\text{mean}} = \frac{\sum_n \ell_n}{\sum_{n:\, t_n \ne \text{ignore}} w_{t_n}}

    Derivation:
        1. $\ell_n$ reads one entry of row $n$: $\partial \ell_n / \partial x_{n,c} = -w_{t_n}
           [c = t_n]$; an ignored row reads none.
        2. 'mean' divides by the kept targets' weights, a constant for the backward:
           $$\bar x_{n,c} = -\frac{w_{t_n} [c = t_n]}{\sum_m w_{t_m}} \bar L$$

    Backward:
        dx[n, t_n] = -w[t_n] * dl_n   (÷ sum of the weights for 'mean'); 0 elsewhere.

    What torch hides:
        the article's "separate cross-entropy" takes *probabilities*, computes
        ``-log(p)`` and averages over the class axis as well as the batch; NLLLoss
        takes *log*-probabilities, so the log never sees a 0, and averages over
        samples only. If every target is ignored, 'mean' is 0/0 = NaN, as in torch,
        while the gradient stays 0 (torch's backward writes only non-ignored rows).
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self._buffer("weight", weight)
        if isinstance(ignore_index, bool) or not isinstance(ignore_index, (int, np.integer)):
            raise TypeError(f"{type(self).__name__}: ignore_index must be an int, got "
                            f"{ignore_index!r}")
        self.ignore_index = ignore_index

    # -- shared by both losses ----------------------------------------------------------
    def _class_weights(self, n_classes: int, dtype) -> np.ndarray:
        owner = type(self).__name__
        if self.weight is None:
            return np.ones(n_classes, dtype=dtype)
        if self.weight.shape != (n_classes,):
            raise ValueError(f"{owner}: weight must have shape ({n_classes},) (one per class), "
                             f"got {self.weight.shape}")
        return self.weight.astype(dtype, copy=False)

    def _index_rows(self, x: np.ndarray, target):
        """Check an index target against ``x``; return ``(t, valid, loss_shape)``, t ``(M,)``."""
        owner = type(self).__name__
        t = _checks.index_array(target, owner)
        loss_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
        if t.shape != loss_shape:
            raise ValueError(f"{owner}: expected target of shape {loss_shape} (class indices) "
                             f"for input of shape {x.shape}, got {t.shape}")
        t = t.reshape(-1)
        n_classes = x.shape[0] if x.ndim == 1 else x.shape[1]
        valid = t != self.ignore_index
        bad = valid & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"{owner}: target {int(t[bad][0])} is out of bounds: expected "
                             f"class indices in [0, {n_classes}) or ignore_index "
                             f"{self.ignore_index}")
        return np.where(valid, t, 0), valid, loss_shape

    def _reduce_rows(self, per_row, denom, loss_shape, dtype):
        if self.reduction == "none":
            return per_row.reshape(loss_shape)
        if self.reduction == "sum":
            return np.asarray(per_row.sum(), dtype=dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(per_row.sum() / denom, dtype=dtype)

    def _row_factor(self, valid, denom, dtype) -> np.ndarray:
        """``r_n``: 1 per counted row, ÷ denom for 'mean'; 0 for ignored rows (never NaN)."""
        r = valid.astype(dtype)
        if self.reduction == "mean":
            with np.errstate(invalid="ignore", divide="ignore"):
                r = np.where(valid, r / np.asarray(denom, dtype=dtype), 0).astype(dtype)
        return r

    def _G(self, grad_output) -> tuple[np.ndarray, ClassCache]:
        """``dL/dlogp`` (M, C) for this backward's grad_output."""
        c = self._saved()
        dt = c.T.dtype
        if self.reduction == "none":
            g = self._grad_out(grad_output, c.loss_shape, dt).reshape(-1)
        else:
            g = self._grad_out(grad_output, (), dt)
        with np.errstate(invalid="ignore"):        # 0 * inf = NaN where torch has NaN too
            G = -(c.T * (c.r * g)[:, None])                     # (M, C), or (M, 1) at t_n
        if c.t is not None:
            # torch's nll_loss backward writes only dx[n, t_n] of the counted rows: where
            # 'mean' divides by a zero total weight that element is ±inf (or 0 * inf = NaN
            # for a zero weight) and the rest of the row stays 0, not 0 * inf = NaN.
            # Index targets keep only that element (T is (M, 1)): one scatter into zeros
            # (8192x1000: the dense T, its product and a where over it were 10x torch's time)
            ok = c.t >= 0
            dense = np.zeros((c.t.size, c.shape[0] if len(c.shape) == 1 else c.shape[1]), dt)
            dense[np.flatnonzero(ok), c.t[ok]] = G[ok, 0]
            G = dense
        return G, c

    # -- NLLLoss ---------------------------------------------------------------------------
    def forward(self, input, target):
        x = self._x(input)
        if x.ndim == 0:
            class_axis_last(x, type(self).__name__)                      # its error: 0-D
        C = x.shape[0] if x.ndim == 1 else x.shape[1]
        t, valid, loss_shape = self._index_rows(x, target)
        w = self._class_weights(C, x.dtype)
        wt = np.where(valid, w[t], 0).astype(x.dtype)                    # (M,) w[t_n], 0 if ignored
        denom = wt.sum()
        per_row = np.where(valid, -wt * picked(x, t), 0).astype(x.dtype)
        T = wt[:, None]                          # one-hot times w[t_n]: its non-zero, at t_n
        self._cache = ClassCache(T, self._row_factor(valid, denom, x.dtype), None, x.shape,
                                 loss_shape, np.where(valid, t, -1))
        return self._reduce_rows(per_row, denom, loss_shape, x.dtype)

    def backward(self, grad_output=None):
        G, c = self._G(grad_output)
        return class_axis_restore(G, c.shape)

    def extra_repr(self) -> str:
        return f"ignore_index={self.ignore_index}, reduction={self.reduction!r}"


def softmax_minus_target(loss, grad_output, c: ClassCache) -> np.ndarray:
    """CrossEntropyLoss's ``G - softmax * sum(G)`` for index targets, where the only non-zero
    of row n of ``G`` is ``G_n`` at ``t_n``: ``softmax * (-G_n)``, then ``G_n`` added at
    ``t_n``; the same roundings, without an (M, C) ``G`` (``(M, C)``)."""
    dt = c.T.dtype
    g = (loss._grad_out(grad_output, c.loss_shape, dt).reshape(-1) if loss.reduction == "none"
         else loss._grad_out(grad_output, (), dt))
    ok = c.t >= 0
    with np.errstate(invalid="ignore"):                  # 0 * inf = NaN where torch has NaN
        gt = np.where(ok, -(c.T[:, 0] * (c.r * g)), 0).astype(dt)      # (M,) G_n
        dxm = np.exp(c.logp)                                             # softmax, (M, C)
        dxm *= -gt[:, None]
        rows = np.flatnonzero(ok)
        dxm[rows, c.t[ok]] += gt[ok]
    return dxm


class CrossEntropyLoss(NLLLoss):
    r"""Cross-entropy from raw logits: ``l_n = -sum_c T[n, c] * log softmax(x_n)[c]``.

    Fused: ``NLLLoss(LogSoftmax(x, dim=class))`` computed with the max-shift /
    log-sum-exp, so logits of 1e4 stay finite. ``T`` is ``w[t_n] * onehot(t_n)`` for
    class indices, ``w_c * p[n, c]`` for class probabilities, each mixed with the
    uniform distribution by ``label_smoothing``.

    Args:
        weight: per-class weights ``(C,)`` or None.
        ignore_index: an index target equal to it contributes nothing (index targets only).
        reduction: 'none' | 'mean' | 'sum'.
        label_smoothing: eps in [0, 1]: the target becomes ``(1 - eps) * target + eps / C``.

    Shape:
        input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``; target either class indices
        ``(N)``/``()``/``(N, d1, ..., dK)`` (integers) or class probabilities of the
        input's own shape (floats); output ``()`` or, for 'none', the index target's shape.

    Maths:
        \ell_n = -\sum_c T_{n,c} \log p_{n,c}, \qquad \log p_{n,c} = x_{n,c} - \log\sum_k e^{x_{n,k}}

    Derivation:
        $T_{n,c}$ is the weighted target ($w_{t_n}$ at the target class for indices) and $p_n$ the
        softmax of row $n$.
        1. $\frac{\partial \log p_{n,c}}{\partial x_{n,j}} = \delta_{cj} - p_{n,j}$ (LogSoftmax).
        2. $\frac{\partial \ell_n}{\partial x_{n,j}} = -\sum_c T_{n,c} (\delta_{cj} - p_{n,j}) =
           p_{n,j} \sum_c T_{n,c} - T_{n,j}$: for a one-hot target the famous $p - y$, the softmax's
           Jacobian and the $1/p$ of the log having cancelled.
        3. The reduction contributes $r_n$: $1/\sum_n w_{t_n}$ for 'mean' with class indices,
           $1/M$ with probabilities, 1 for 'sum':
           $$\bar x_n = r_n \bar\ell_n \left(p_n \textstyle\sum_c T_{n,c} - T_n\right)$$

    Backward:
        ``dx_n = r_n * dl_n * (sum_c T[n, c] * softmax(x_n) - T[n, :])``: with
        ``T = onehot`` this is the famous ``p - y`` (the softmax Jacobian and the ``1/p``
        of the log cancel). ``r_n`` = 1/sum_n w[t_n] for 'mean' with index targets,
        1/M for 'mean' with probabilities (M = N * d1 * ... * dK), 1 otherwise.

    What torch hides:
        'mean' divides by the *sum of the target classes' weights*, not by N. With
        label smoothing torch adds ``eps/C * sum_c w_c (-logp_c)``, a term weighted by
        *every* class's weight, yet still divides it by the sum of the *target*
        classes' weights: with weights, a smoothed loss is not the cross-entropy of
        the smoothed distribution under any one normalisation. With probability
        targets 'mean' ignores the weights in the denominator (÷ M) and
        ``ignore_index`` is refused. An index target whose shape equals the input's
        is read as probabilities (and refused for not being float).
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0, dtype=None):
        super().__init__(weight, size_average, ignore_index, reduce, reduction, dtype)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        x = self._x(input)
        xm = class_axis_last(x, "CrossEntropyLoss")                     # (M, C)
        M, C = xm.shape
        w = self._class_weights(C, x.dtype)                              # (C,)
        logp = log_softmax(xm, axis=1)                                   # (M, C)
        eps = self.label_smoothing
        if isinstance(target, np.ndarray) and target.shape == x.shape:
            loss, T, r, loss_shape = self._probabilities(x, target, logp, w, eps)
            t = None
        else:
            loss, T, r, loss_shape = self._indices(x, target, logp, w, eps)
            t = None
            if eps == 0:                     # G lives only at [n, t_n] (see ClassCache.t)
                t, valid, _ = self._index_rows(x, target)
                t = np.where(valid, t, -1)
        self._cache = ClassCache(T, r, logp, x.shape, loss_shape, t)
        return loss

    def _probabilities(self, x, target, logp, w, eps):
        """Class-probability targets: ``T = w_c * ((1 - eps) p + eps / C)``, 'mean' ÷ M."""
        if target.dtype.kind != "f":
            raise TypeError(f"CrossEntropyLoss: a target of the input's shape {x.shape} holds "
                            f"class probabilities and must be float, got {target.dtype}")
        if self.ignore_index >= 0:
            raise ValueError(f"CrossEntropyLoss: ignore_index is not supported for class-"
                             f"probability targets (expected < 0, got {self.ignore_index})")
        p = class_axis_last(self._input(target, "target", x.dtype), "CrossEntropyLoss")
        M, C = logp.shape
        if eps > 0:
            p = p * (1 - eps) + eps / C
        T = p * w                                                        # (M, C)
        per_row = -(logp * T).sum(axis=1)                                # (M,)
        loss_shape = () if x.ndim == 1 else (x.shape[0],) + x.shape[2:]
        r = np.full(M, 1.0 / max(M, 1) if self.reduction == "mean" else 1.0, dtype=x.dtype)
        return self._reduce_rows(per_row, M, loss_shape, x.dtype), T, r, loss_shape

    def _indices(self, x, target, logp, w, eps):
        """Class-index targets: NLL of log-softmax, plus torch's label-smoothing term."""
        t, valid, loss_shape = self._index_rows(x, target)
        M, C = logp.shape
        rows = np.arange(M)
        wt = np.where(valid, w[t], 0).astype(x.dtype)                    # (M,)
        denom = wt.sum()                                                 # the 'mean' divisor
        nll = np.where(valid, -wt * logp[rows, t], 0).astype(x.dtype)    # (M,)
        T = wt[:, None]                          # one-hot times w[t_n]: its non-zero, at t_n
        loss = self._reduce_rows(nll, denom, loss_shape, x.dtype)
        if eps > 0:
            T = np.zeros_like(logp)              # smoothing spreads it over every class
            T[rows, t] = wt
            # torch: (1 - eps) * nll_loss(...) + reduce(-(logp * w).sum(class)) * (eps / C),
            # the smoothing term masked at ignored rows and 'mean' ÷ the same sum of w[t_n]
            smooth = np.where(valid, -(logp * w).sum(axis=1), 0).astype(x.dtype)
            sm = self._reduce_rows(smooth, denom, loss_shape, x.dtype)
            loss = np.asarray((1 - eps) * loss + sm * (eps / C), dtype=x.dtype)
            T = ((1 - eps) * T + (eps / C) * (valid[:, None] * w[None, :])).astype(x.dtype)
        return loss, T, self._row_factor(valid, denom, x.dtype), loss_shape

    def backward(self, grad_output=None):
        c = self._saved()
        if c.t is not None:        # G's one non-zero per row, at t_n: no dense G (see _G)
            return class_axis_restore(softmax_minus_target(self, grad_output, c), c.shape)
        G, c = self._G(grad_output)                                      # dL/dlogp, (M, C)
        with np.errstate(invalid="ignore"):        # inf - inf = NaN where torch has NaN too
            dxm = G - np.exp(c.logp) * G.sum(axis=1, keepdims=True)      # log-softmax backward
        return class_axis_restore(dxm, c.shape)

    def extra_repr(self) -> str:
        return (f"ignore_index={self.ignore_index}, reduction={self.reduction!r}, "
                f"label_smoothing={self.label_smoothing}")
