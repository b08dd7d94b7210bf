"""The buggy classes of the mutant gallery: each a subclass of a real npimpl class that
overrides the smallest piece needed to plant one bug (marked ``# BUG``).

Nothing here is used outside the gallery (``compare.mutants`` wires each into a case).
"""
from __future__ import annotations

import numpy as np

import npimpl


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
    ``(N, C)`` array, i.e. the batch mean divided once more by the number of classes
    (forward and backward consistently)."""

    def forward(self, input, target):
        out = super().forward(input, target)
        if self.reduction != "mean":
            return out
        c = self._saved()
        n_classes = c.shape[1] if len(c.shape) > 1 else c.shape[0]
        self._cache = c._replace(r=c.r / n_classes)
        return np.asarray(out / n_classes)             # BUG: averages over C as well


class NoMeanCrossEntropyLoss(npimpl.CrossEntropyLoss):
    """The fused gradient ``p - y`` without the ``1/N`` of the mean (the forward is right)."""

    def backward(self, grad_output=None):
        c = self._saved()
        if self.reduction == "mean":                   # BUG: r_n = 1, not 1 / sum w[t_n]
            self._cache = c._replace(r=(c.r != 0).astype(c.r.dtype))
        try:
            return super().backward(grad_output)
        finally:
            self._cache = c


class SmoothingCountsIgnoredCrossEntropyLoss(npimpl.CrossEntropyLoss):
    """Label smoothing whose uniform term also counts the ignored targets: torch masks the
    smoothing term ``eps/C * sum_c w_c (-logp_c)`` at rows whose target is ignore_index."""

    def _indices(self, x, target, logp, w, eps):
        loss, T, r, loss_shape = super()._indices(x, target, logp, w, 0.0)
        if eps == 0:
            return loss, T, r, loss_shape
        t, valid, _ = self._index_rows(x, target)
        C = logp.shape[1]
        denom = np.where(valid, w[t], 0).sum()
        smooth = -(logp * w).sum(axis=1)                # BUG: not masked at ignored rows
        sm = self._reduce_rows(smooth, denom, loss_shape, x.dtype)
        loss = np.asarray((1 - eps) * loss + sm * (eps / C), dtype=x.dtype)
        T = ((1 - eps) * T + (eps / C) * w[None, :]).astype(x.dtype)
        with np.errstate(invalid="ignore", divide="ignore"):
            r = (np.full(len(t), 1 / denom) if self.reduction == "mean"
                 else np.ones(len(t))).astype(x.dtype)
        return loss, T, r, loss_shape


# --- classic slips in the core layers --------------------------------------------------------
class KinkOneReLU(npimpl.ReLU):
    """ReLU with slope 1 at exactly 0 (``x >= 0``); torch's ``threshold_backward`` gives 0."""

    def _df(self, x, y):
        return x >= 0                                  # BUG: x > 0


class SigmoidOfInput(npimpl.Sigmoid):
    """Sigmoid backward evaluated at the input: ``dy * x (1 - x)`` where ``y (1 - y)`` belongs."""

    def _df(self, x, y):
        return x * (1 - x)                             # BUG: the derivative is y (1 - y)


class LogSoftmaxNoSum(npimpl.LogSoftmax):
    """LogSoftmax backward as ``dy - softmax(x)``: right only when ``sum(dy) = 1``."""

    def backward(self, grad_output):
        y, axis = self._saved()
        return self._g(grad_output, y) - np.exp(y)    # BUG: - softmax * sum(dy)


class MeanOverN(npimpl.NLLLoss):
    """NLL whose 'mean' divides by N, not by ``sum_n w[t_n]`` (which leaves out ignored
    targets and counts class weights) as torch does."""

    def _reduce_rows(self, per_row, denom, loss_shape, dtype):
        return super()._reduce_rows(per_row, per_row.size, loss_shape, dtype)   # BUG: / N

    def _row_factor(self, valid, denom, dtype):
        return super()._row_factor(valid, valid.size, dtype)


class MSEWithoutTwo(npimpl.MSELoss):
    """MSE gradient ``(x - y) / n``: the 2 of the square's derivative forgotten."""

    def backward(self, grad_output=None):
        return super().backward(grad_output) / 2      # BUG: d(x - y)^2/dx = 2 (x - y)


# --- recurrent ---------------------------------------------------------------------------------
def _swap_gf(a: np.ndarray, axis: int) -> np.ndarray:
    """Reorder the four packed gate blocks ``i f g o`` -> ``i g f o`` along ``axis`` (an
    involution: applying it twice gives the original)."""
    i, f, g, o = np.split(a, 4, axis=axis)
    return np.concatenate([i, g, f, o], axis=axis)


class GateOrderLSTMCell(npimpl.LSTMCell):
    """An LSTM cell that reads torch's packed rows as ``i, g, f, o`` (TensorFlow 1's
    ``i, j, f, o`` order) instead of ``i, f, g, o``: forget gate and candidate swapped.
    Forward and backward are consistent with each other; only the layout is wrong."""

    def forward(self, input, hx=None):
        from npimpl.rnn_cell import _CellCache, _squeeze, lstm_step
        h0, c0 = (None, None) if hx is None else hx
        x, h, unb = self._prepare(input, h0, "hx[0]")
        _, c, _ = self._prepare(input, c0, "hx[1]")
        b = _swap_gf(self.bias_hh.data, 0) if self.bias else None
        hn, cn, step = lstm_step(_swap_gf(self._gi(x), -1), h, c,          # BUG: wrong order
                                 _swap_gf(self.weight_hh.data, 0), b, None)
        self._cache = _CellCache(x, h, step, unb)
        return _squeeze(hn, unb), _squeeze(cn, unb)

    def backward(self, grad_h=None, grad_c=None):
        from npimpl.rnn_cell import _squeeze, lstm_step_backward
        c = self._saved()
        dh = self._grad(grad_h, c.step.m, "grad_h")
        dc = self._grad(grad_c, c.step.m, "grad_c")
        dgates, dc_prev, _ = lstm_step_backward(dh, dc, c.step, None)
        dgates = _swap_gf(dgates, -1)                 # back to the stored layout
        dx, dh_prev = self._accumulate(c, dgates, dgates)
        u = c.unbatched
        return _squeeze(dx, u), (_squeeze(dh_prev, u), _squeeze(dc_prev, u))


class ResetBeforeMatmulGRUCell(npimpl.GRUCell):
    """The paper's GRU (Cho et al. 2014): ``n = tanh(W_in x + b_in + W_hn (r * h) + b_hn)``;
    torch (and cuDNN) apply the reset gate *after* the matmul: ``r * (W_hn h + b_hn)``.
    Forward and backward are the exact derivative of the paper's form."""

    def forward(self, input, hx=None):
        from npimpl.activation import sigmoid
        from npimpl.rnn_cell import _CellCache, _squeeze
        x, h, unb = self._prepare(input, hx)
        H = self.hidden_size
        w_hh = self.weight_hh.data
        b_hh = self.bias_hh.data if self.bias else np.zeros(3 * H, x.dtype)
        i_r, i_z, i_n = np.split(self._gi(x), 3, axis=-1)
        r = sigmoid(i_r + h @ w_hh[:H].T + b_hh[:H])
        z = sigmoid(i_z + h @ w_hh[H:2 * H].T + b_hh[H:2 * H])
        n = np.tanh(i_n + (r * h) @ w_hh[2 * H:].T + b_hh[2 * H:])   # BUG: r * (W_hn h + b_hn)
        hn = (1 - z) * n + z * h
        self._cache = _CellCache(x, h, (r, z, n), unb)
        return _squeeze(hn, unb)

    def backward(self, grad_output):
        from npimpl.rnn_cell import _squeeze
        c = self._saved()
        r, z, n = c.step
        h, x, H = c.h, c.x, self.hidden_size
        w_hh = self.weight_hh.data
        dh = self._grad(grad_output, h, "grad_output")
        dn = dh * (1 - z) * (1 - n * n)
        dz = dh * (h - n) * z * (1 - z)
        drh = dn @ w_hh[2 * H:]                          # d(r * h)
        dr = drh * h * r * (1 - r)
        dgi = np.concatenate([dr, dz, dn], axis=-1)       # (N, 3H)
        self.weight_ih.accumulate(dgi.T @ x)
        self.weight_hh.accumulate(np.concatenate([dr.T @ h, dz.T @ h, dn.T @ (r * h)]))
        if self.bias:
            self.bias_ih.accumulate(dgi.sum(0))
            self.bias_hh.accumulate(dgi.sum(0))
        dx = dgi @ self.weight_ih.data
        dh_prev = dh * z + dr @ w_hh[:H] + dz @ w_hh[H:2 * H] + drh * r
        return _squeeze(dx, c.unbatched), _squeeze(dh_prev, c.unbatched)


# --- convolution, normalisation, embedding -------------------------------------------------------
class SymmetricSameConv1d(npimpl.Conv1d):
    """``padding='same'`` as ``k // 2`` zeros on both sides: right for odd kernels; for an
    even kernel the output is one longer than the input (torch pads ``(k-1)//2`` on the left
    and the rest, one more, on the right)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.padding == "same":
            self._pads = tuple((d * (k - 1) // 2 + (k % 2 == 0),) * 2     # BUG: symmetric
                               for d, k in zip(self.dilation, self.kernel_size))


class EpsOutsideLayerNorm(npimpl.LayerNorm):
    """``(x - mean) / (sqrt(var) + eps)``: eps outside the square root (as some TF code and
    many hand-written layers do); torch divides by ``sqrt(var + eps)``. Relative change
    ~eps / (2 sqrt(var)) = 5e-6 at eps = 1e-5: only a tight tolerance sees it."""

    def forward(self, input):
        from npimpl.norm import LayerNormCache, _check_trailing
        x = self._input(input, dtype=self.dtype)
        axes = _check_trailing(x, self.normalized_shape, "LayerNorm")
        xc = x - x.mean(axis=axes, keepdims=True)
        rstd = 1.0 / (np.sqrt((xc * xc).mean(axis=axes, keepdims=True)) + self.eps)   # BUG
        xhat = xc * rstd
        y = xhat * self.weight.data if self.weight is not None else xhat
        y = y + self.bias.data if self.bias is not None else y
        self._cache = LayerNormCache(xhat, rstd, axes)
        return y


class PaddingGradEmbedding(npimpl.Embedding):
    """Embedding whose padding row still receives gradient (torch zeroes it)."""

    def backward(self, grad_output):
        pad, self.padding_idx = self.padding_idx, None   # BUG: forgets dweight[padding_idx] = 0
        try:
            return super().backward(grad_output)
        finally:
            self.padding_idx = pad


# --- batch norm, pooling, optimizers landed later -------------------------------------------
class BiasedRunningVarBatchNorm1d(npimpl.BatchNorm1d):
    """BatchNorm storing the *biased* batch variance (÷ n) in running_var; torch stores the
    unbiased one (÷ n - 1) although it normalises the batch with the biased one (cs231n's
    layers.py has this bug)."""

    def forward(self, input):
        old = None if self.running_var is None else self.running_var.copy()
        y = super().forward(input)
        if self.training and old is not None:
            n = input.size // input.shape[1]
            m = (self.momentum if self.momentum is not None
                 else 1.0 / float(self.num_batches_tracked))
            unbiased_part = self.running_var - (1 - m) * old          # = m * unbiased var
            self.running_var[...] = (1 - m) * old + unbiased_part * (n - 1) / n   # BUG: ÷ n
        return y


class TiedMaxPool2d(npimpl.MaxPool2d):
    """Max-pool backward that sends the gradient to *every* element equal to the window's
    maximum (``dy * (x == max)``); torch sends it to one (the first in row-major order).
    Written with plain loops (no padding, no dilation) so it depends on no private helper."""

    def forward(self, input):
        assert self.padding == (0, 0) and self.dilation == (1, 1)
        self._x_seen = input
        return super().forward(input)

    def backward(self, grad_output, grad_indices=None):
        self._saved()
        x, dy = self._x_seen, grad_output                  # (N, C, H, W), (N, C, Ho, Wo)
        (kh, kw), (sh, sw) = self.kernel_size, self.stride
        dx = np.zeros_like(x)
        for i in range(dy.shape[-2]):
            for j in range(dy.shape[-1]):
                win = x[..., i * sh:i * sh + kh, j * sw:j * sw + kw]
                top = win.max(axis=(-2, -1), keepdims=True)
                dx[..., i * sh:i * sh + kh, j * sw:j * sw + kw] += \
                    (win == top) * dy[..., i, j][..., None, None]   # BUG: every tied maximum
        return dx
