"""The buggy classes of the mutant gallery: each a subclass of a real npimpl class that
overrides the smallest piece needed to plant one bug (marked ``# BUG``).

Nothing here is used outside the gallery (``compare.mutants`` wires each into a case).
"""
from __future__ import annotations

import numpy as np

import npimpl
from npimpl.softmax import _SoftmaxBase


# --- the article's bugs ------------------------------------------------------------------
class ArticleLinear(npimpl.Linear):
    """The article's second Linear: backward returns ``x^T @ dy`` (the weight gradient,
    shape ``(in, out)``) where the input gradient ``dy @ W`` belongs. With ``in == out ==
    batch`` the shapes even line up, so nothing crashes: only a value comparison catches it."""

    def backward(self, grad_output):
        x2 = self._saved().x2
        super().backward(grad_output)          # the weight gradients themselves are right
        return x2.T @ grad_output               # BUG: should be grad_output @ W


class ArticleSoftmax(npimpl.Softmax):
    """The article's standalone Softmax: ``exp(x) / sum(exp(x))`` with no max-shift."""

    def forward(self, input):
        x = self._x(input)
        axis = self._axis(x)
        with np.errstate(over="ignore", invalid="ignore"):   # the article did not look either
            e = np.exp(x)                                    # BUG: exp(x - max) keeps it finite
            y = e / np.sum(e, axis=axis, keepdims=True)
        self._cache = (y, axis)
        return y


class ClassAveragedNLLLoss(npimpl.NLLLoss):
    """The article's separate cross-entropy: ``mean(-onehot * log p)`` over the whole
    ``(N, C)`` array, i.e. the batch mean divided once more by the number of classes."""

    def _reduce(self, per_sample, wt, target_shape, dtype):
        out = super()._reduce(per_sample, wt, target_shape, dtype)
        n_classes = self._saved()[2][1]
        return out / n_classes if self.reduction == "mean" else out   # BUG: mean over C too

    def _coef(self, grad_output, wt, target_shape, dtype):
        coef = super()._coef(grad_output, wt, target_shape, dtype)
        return coef / self._saved()[2][1] if self.reduction == "mean" else coef


class NoMeanCrossEntropyLoss(npimpl.CrossEntropyLoss):
    """The fused gradient ``p - y`` without the ``1/N`` of the mean (the forward is right)."""

    def _coef(self, grad_output, wt, target_shape, dtype):
        if self.reduction == "mean":
            g = self._grad_out(grad_output, (), dtype)
            return g * wt                      # BUG: should be g * wt / wt.sum()
        return super()._coef(grad_output, wt, target_shape, dtype)


# --- optimizers ----------------------------------------------------------------------------
class DampenedFirstStepSGD(npimpl.optim.SGD):
    """SGD whose momentum buffer starts as ``(1 - dampening) g`` instead of ``g``."""

    def step(self):
        for group in self.param_groups:
            mu, damp, lr = group["momentum"], group["dampening"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = (1 - damp) * p.grad   # BUG: torch copies g
                else:
                    buf *= mu
                    buf += (1 - damp) * p.grad
                p.data -= lr * buf


class KerasMomentumSGD(npimpl.optim.SGD):
    """Momentum as Keras and Sutskever et al. write it: ``v = mu v - lr g; p += v``.

    Identical to torch's ``b = mu b + g; p -= lr b`` while lr is constant; once lr
    changes, the old velocity keeps the old lr (torch rescales all of it)."""

    def step(self):
        for group in self.param_groups:
            mu, lr = group["momentum"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                v = state.setdefault("velocity", np.zeros_like(p.data))
                v *= mu
                v -= lr * p.grad                  # BUG: torch keeps lr outside the buffer
                p.data += v


# --- classic slips in the core layers --------------------------------------------------------
class KinkOneReLU(npimpl.ReLU):
    """ReLU with slope 1 at exactly 0 (``x >= 0``); torch's ``threshold_backward`` gives 0."""

    def backward(self, grad_output):
        y = self._saved()
        return self._g(grad_output, y) * (y >= 0)      # BUG: y > 0


class SigmoidOfInput(npimpl.Sigmoid):
    """Sigmoid backward evaluated at the input: ``dy * x (1 - x)`` where ``y (1 - y)`` belongs."""

    def forward(self, input):
        self._x_seen = self._x(input)
        return super().forward(input)

    def backward(self, grad_output):
        x = self._x_seen
        self._saved()
        return self._g(grad_output, x) * x * (1 - x)   # BUG: the derivative is y (1 - y)


class LogSoftmaxNoSum(npimpl.LogSoftmax):
    """LogSoftmax backward as ``dy - softmax(x)``: right only when ``sum(dy) = 1``."""

    def backward(self, grad_output):
        y, axis = self._saved()
        return self._g(grad_output, y) - np.exp(y)    # BUG: - softmax * sum(dy)


class MeanOverN(npimpl.NLLLoss):
    """NLL whose 'mean' divides by N, not by ``sum_n w[t_n]`` (which leaves out ignored
    targets and counts class weights) as torch does."""

    def _reduce(self, per_sample, wt, target_shape, dtype):
        if self.reduction == "mean":
            return np.asarray(per_sample.sum() / len(wt), dtype=dtype)   # BUG: / wt.sum()
        return super()._reduce(per_sample, wt, target_shape, dtype)

    def _coef(self, grad_output, wt, target_shape, dtype):
        if self.reduction == "mean":
            return self._grad_out(grad_output, (), dtype) * wt / len(wt)
        return super()._coef(grad_output, wt, target_shape, dtype)


class MSEWithoutTwo(npimpl.MSELoss):
    """MSE gradient ``(x - y) / n``: the 2 of the square's derivative forgotten."""

    def backward(self, grad_output=None):
        return super().backward(grad_output) / 2      # BUG: d(x - y)^2/dx = 2 (x - y)
