"""Losses: ``loss = crit(input, target)``; ``crit.backward(grad_output=1)`` → d loss / d input.

Each loss returns a 0-d array (``reduction='mean'|'sum'``) or an array of the
per-element losses (``'none'``), in the input's dtype.
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .activation import Activation, log_softmax

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

    def __init__(self, size_average=None, reduce=None, reduction: str = "mean", dtype=None):
        super().__init__(dtype)
        reduction = legacy_reduction(size_average, reduce, reduction)
        if reduction not in REDUCTIONS:
            raise ValueError(f"{type(self).__name__}: {reduction!r} is not a valid value for "
                             f"reduction (expected one of {list(REDUCTIONS)})")
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

    def extra_repr(self) -> str:
        return f"reduction={self.reduction!r}"


class MSELoss(_Loss):
    """``l_i = (x_i - y_i)^2``, then the reduction.

    Backward:
        dx = 2 (x - y) * dl   (divided by the number of elements for 'mean')

    What torch hides:
        torch broadcasts a target of a different shape with only a warning;
        npimpl refuses it, because that broadcast is almost always a bug.
    """

    def forward(self, input, target):
        x = self._x(input)
        y = self._input(target, "target", x.dtype)
        if y.shape != x.shape:
            raise ValueError(f"MSELoss: target shape {y.shape} must equal input shape {x.shape}")
        d = x - y
        self._cache = (d, x.shape)
        sq = d * d
        if self.reduction == "none":
            return np.asarray(sq)                  # a 0-d input gives a 0-d array, not a scalar
        return np.asarray(sq.sum() if self.reduction == "sum" else sq.mean(), dtype=x.dtype)

    def backward(self, grad_output=None):
        d, shape = self._saved()
        g = self._grad_out(grad_output, shape if self.reduction == "none" else (), d.dtype)
        scale = 2.0 / d.size if self.reduction == "mean" else 2.0
        return (scale * d * g).astype(d.dtype, copy=False)


def _class_axis_last(x: np.ndarray, t: np.ndarray, owner: str):
    """Move the class dim of ``x`` last and flatten: ``(N, C, d1..dK)`` → ``(M, C)``; ``t`` → ``(M,)``."""
    _checks.ndim(x, range(1, 32), owner)
    if x.ndim == 1:
        expected = ()
        xm = x[None, :]
    else:
        expected = (x.shape[0],) + x.shape[2:]
        m = int(np.prod(expected))                 # not -1: NumPy cannot infer it when C = 0
        xm = np.moveaxis(x, 1, -1).reshape(m, x.shape[1])
    if t.shape != expected:
        raise ValueError(f"{owner}: expected target of shape {expected} for input of shape "
                         f"{x.shape}, got {t.shape}")
    return xm, t.reshape(-1)


def _class_axis_restore(dxm: np.ndarray, shape: tuple) -> np.ndarray:
    """Inverse of :func:`_class_axis_last` for the gradient."""
    if len(shape) == 1:
        return dxm[0]
    lead = (shape[0],) + shape[2:] + (shape[1],)
    return np.moveaxis(dxm.reshape(lead), -1, 1)


class NLLLoss(_Loss):
    """Negative log-likelihood of class indices: ``l_n = -w[t_n] * x[n, t_n]``.

    ``input`` holds log-probabilities (e.g. the output of ``LogSoftmax``).
    'mean' divides by ``sum_n w[t_n]`` over non-ignored targets (not by N).

    Args:
        weight: per-class weights ``(C,)`` or None.
        ignore_index: targets equal to it contribute 0 to the loss and to the mean's denominator.
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``; target ``(N)``, ``()``
        or ``(N, d1, ..., dK)`` with integer values in ``[0, C)``.

    Backward:
        dx[n, t_n] = -w[t_n] * dl_n   (÷ sum of the weights for 'mean'); 0 elsewhere.

    What torch hides:
        the article's "separate cross-entropy" takes *probabilities*, computes
        ``-log(p)`` and averages over the class axis as well as the batch; NLLLoss
        takes *log*-probabilities, so the log never sees a 0, and averages over
        samples only. If every target is ignored, 'mean' is 0/0 = NaN, as in torch.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.weight = None if weight is None else self._input(weight, "weight", self.dtype)
        self.ignore_index = ignore_index

    def _weights(self, t: np.ndarray, n_classes: int, dtype) -> np.ndarray:
        """Per-sample weight ``w[t_n]`` (0 for ignored targets), checking index ranges."""
        owner = type(self).__name__
        valid = t != self.ignore_index
        bad = valid & ((t < 0) | (t >= n_classes))
        if bad.any():
            raise IndexError(f"{owner}: target {int(t[bad][0])} is out of bounds: expected "
                             f"class indices in [0, {n_classes})")
        if self.weight is not None and self.weight.shape != (n_classes,):
            raise ValueError(f"{owner}: weight must have shape ({n_classes},), got "
                             f"{self.weight.shape}")
        w = np.ones(n_classes, dtype=dtype) if self.weight is None else self.weight.astype(dtype)
        return np.where(valid, w[np.where(valid, t, 0)], 0).astype(dtype)

    def _reduce(self, per_sample: np.ndarray, wt: np.ndarray, target_shape: tuple, dtype):
        if self.reduction == "none":
            return per_sample.reshape(target_shape)
        total = per_sample.sum()
        if self.reduction == "sum":
            return np.asarray(total, dtype=dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.asarray(total / wt.sum(), dtype=dtype)

    def _coef(self, grad_output, wt: np.ndarray, target_shape: tuple, dtype) -> np.ndarray:
        """d loss / d l_n for every sample: ``dl_n * w[t_n]`` (÷ sum of weights for 'mean')."""
        if self.reduction == "none":
            g = self._grad_out(grad_output, target_shape, dtype).reshape(-1)
            return g * wt
        g = self._grad_out(grad_output, (), dtype)
        if self.reduction == "sum":
            return g * wt
        with np.errstate(invalid="ignore", divide="ignore"):
            # every target ignored: the loss is 0/0 = NaN but torch's gradient is 0
            return np.where(wt != 0, g * wt / wt.sum(), 0).astype(dtype, copy=False)

    def forward(self, input, target):
        x = self._x(input)
        t = _checks.index_array(target, type(self).__name__)
        xm, tf = _class_axis_last(x, t, type(self).__name__)
        wt = self._weights(tf, xm.shape[1], x.dtype)                   # (M,)
        picked = xm[np.arange(len(tf)), np.where(wt != 0, tf, 0)]      # x[n, t_n]
        self._cache = (tf, wt, x.shape, t.shape)
        return self._reduce(-wt * picked, wt, t.shape, x.dtype)

    def backward(self, grad_output=None):
        tf, wt, shape, tshape = self._saved()
        dtype = wt.dtype
        coef = self._coef(grad_output, wt, tshape, dtype)              # (M,)
        dxm = np.zeros((len(tf), shape[1] if len(shape) > 1 else shape[0]), dtype=dtype)
        dxm[np.arange(len(tf)), np.where(wt != 0, tf, 0)] -= coef
        return _class_axis_restore(dxm, shape)


class CrossEntropyLoss(NLLLoss):
    """Cross-entropy from raw logits: ``l_n = -w[t_n] * log softmax(x_n)[t_n]``.

    Fused: ``NLLLoss(LogSoftmax(x, dim=class))`` computed with the max-shift /
    log-sum-exp, so logits of 1e4 stay finite.

    Args:
        weight, ignore_index, reduction: as :class:`NLLLoss`.
        label_smoothing: mixes the target with the uniform distribution,
            ``(1 - eps) * onehot + eps / C`` (0 = none).

    Shape:
        input ``(N, C)``, ``(C,)`` or ``(N, C, d1, ..., dK)``; target of class
        indices ``(N)``/``()``/``(N, d1, ..., dK)``.

    Backward:
        dx_n = w[t_n] * dl_n * (softmax(x_n) - onehot(t_n))   (÷ sum of weights for 'mean')
        — the famous ``p - y``: the softmax Jacobian and the ``1/p`` of the log cancel.

    What torch hides:
        the softmax and the log are one kernel (log-softmax), never a softmax
        followed by a log; 'mean' divides by the *sum of the class weights* of
        the batch, not by N; the article's fused layer forgets nothing here,
        but its gradient needs the ``1/N`` of the mean, which it applies once.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", label_smoothing: float = 0.0, dtype=None):
        super().__init__(weight, size_average, ignore_index, reduce, reduction, dtype)
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"CrossEntropyLoss: label_smoothing must be in [0, 1], got "
                             f"{label_smoothing}")
        self.label_smoothing = label_smoothing

    def forward(self, input, target):
        if self.label_smoothing:
            raise NotImplementedError("CrossEntropyLoss: label_smoothing lands with issue 3")
        x = self._x(input)
        t = _checks.index_array(target, "CrossEntropyLoss")
        xm, tf = _class_axis_last(x, t, "CrossEntropyLoss")
        wt = self._weights(tf, xm.shape[1], x.dtype)
        logp = log_softmax(xm, axis=1)                                 # (M, C)
        picked = logp[np.arange(len(tf)), np.where(wt != 0, tf, 0)]
        self._cache = (tf, wt, logp, x.shape, t.shape)
        return self._reduce(-wt * picked, wt, t.shape, x.dtype)

    def backward(self, grad_output=None):
        tf, wt, logp, shape, tshape = self._saved()
        coef = self._coef(grad_output, wt, tshape, logp.dtype)         # (M,)
        dxm = np.exp(logp) * coef[:, None]                             # p * coef
        dxm[np.arange(len(tf)), np.where(wt != 0, tf, 0)] -= coef      # - onehot * coef
        return _class_axis_restore(dxm, shape)
