"""Local response normalisation across channels: LocalResponseNorm and CrossMapLRN2d.

torch keeps both in ``torch/nn/modules/normalization.py``. Each channel is divided by a
power of the energy of its neighbouring channels (AlexNet's "brightness normalisation",
2012). LocalResponseNorm is ``F.local_response_norm``, a composition of torch ops that
autograd differentiates; CrossMapLRN2d is a port of Lua Torch's ``SpatialCrossMapLRN``
with its own forward and a hand-written backward, and the two do *not* compute the same
thing (see CrossMapLRN2d).
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from .activation import Activation


class _LRN(Activation):
    """size, alpha, beta and k, checked once for both local response norms."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1.0,
                 dtype=None):
        super().__init__(dtype)
        if not isinstance(size, (int, np.integer)) or size < 1:
            raise ValueError(f"{type(self).__name__}: size must be a positive int, got {size!r}")
        self.size, self.alpha, self.beta, self.k = int(size), alpha, beta, k

    def extra_repr(self) -> str:
        return f"{self.size}, alpha={self.alpha}, beta={self.beta}, k={self.k}"


class LRNCache(NamedTuple):
    x: np.ndarray        # (N, C, *) the input
    base: np.ndarray     # (N, C, *) k + alpha * mean of x^2 over the window
    div: np.ndarray      # (N, C, *) base ** beta


def _channel_window_sum(a: np.ndarray, before: int, after: int) -> np.ndarray:
    """``s[:, c] = sum of a[:, c - before .. c + after]`` with zeros outside ``[0, C)``."""
    pad = [(0, 0)] * a.ndim
    pad[1] = (before, after)
    win = sliding_window_view(np.pad(a, pad), before + after + 1, axis=1)   # (N, C, *, size)
    return win.sum(axis=-1)


class LocalResponseNorm(_LRN):
    """``y_c = x_c / (k + alpha / n * sum_{c' in window(c)} x_c'^2)^beta``, ``n = size``.

    Args:
        size: the number of channels in the window, ``[c - size//2, c + (size-1)//2]``.
        alpha: the multiplicative factor (default 1e-4).
        beta: the exponent (default 0.75).
        k: the additive factor (default 1).

    Shape:
        ``(N, C, *)`` with at least 3 dims → same shape (zero padding past the channel ends).

    Backward:
        with ``s`` the window mean of x^2, ``B = k + alpha s`` and ``D = B^beta``:
        ``dB = -dy x / D^2 * beta B^(beta-1)``; ``dx = dy / D + 2 x * (alpha / n)
        sum_{c: c' in window(c)} dB_c`` (the adjoint of the window sum).

    What torch hides:
        the window sum is an ``avg_pool2d`` / ``avg_pool3d`` over the channel dim of the
        squared input (padded with zeros, divided by ``size`` even at the ends), so ``alpha``
        is divided by ``size`` (Caffe's convention; AlexNet's paper does not divide); an even
        size puts one more channel before c than after it. A 2-D input is refused, an empty
        one returned as it is.
    """

    def forward(self, input):
        x = self._x(input)
        if x.ndim < 3:
            raise ValueError(f"LocalResponseNorm: expected 3D or higher dimensionality input "
                             f"(N, C, *), got {x.ndim} dimensions with shape {x.shape}")
        if x.size == 0:
            self._cache = LRNCache(x, x, x)
            return x.copy()
        n = self.size
        s = _channel_window_sum(x * x, n // 2, (n - 1) // 2) / n         # avg_pool over C
        base = s * self.alpha + self.k                                    # (N, C, *)
        div = base ** self.beta
        self._cache = LRNCache(x, base, div)
        return x / div

    def backward(self, grad_output):
        x, base, div = self._saved()
        g = self._g(grad_output, x)
        if x.size == 0:
            return g.copy()
        n, beta = self.size, self.beta
        dx = g / div                                        # x / D, through the numerator
        d_div = -g * ((x / div) / div)                      # through the denominator
        d_base = d_div * (beta * base ** (beta - 1))        # pow's backward
        d_s = d_base * self.alpha / n                       # mul(alpha), then avg_pool's 1/n
        # the window of c covers c - n//2 .. c + (n-1)//2, so c' gets the d_s of every c
        # with c' in window(c): c' - (n-1)//2 .. c' + n//2
        d_sq = _channel_window_sum(d_s, (n - 1) // 2, n // 2)
        return dx + (d_sq * x + d_sq * x)                  # mul(x, x): both operands


class CrossMapCache(NamedTuple):
    x: np.ndarray        # (N, C, H, W)
    scale: np.ndarray    # (N, C, H, W) k + alpha / size * (running window sum of x^2)
    out: np.ndarray      # (N, C, H, W) the output


class CrossMapLRN2d(_LRN):
    """``y_c = x_c * (k + alpha / n * sum_{c' in S(c)} x_c'^2)^(-beta)``, ``n = size``, where
    ``S(c) = {0} ∪ [max(1, c - p + 1), min(c + p - 1, C - 1)]``, ``p = int((n - 1) / 2 + 1)``.

    Args:
        size: the nominal number of channels in the window.
        alpha: the multiplicative factor (default 1e-4).
        beta: the exponent (default 0.75).
        k: the additive factor (default 1).

    Shape:
        ``(N, C, H, W)`` only → same shape.

    Backward:
        torch's hand-written formula, *not* the derivative of this forward:
        ``dx_c = scale_c^(-beta) dy_c - (2 alpha beta / n) x_c sum_{c' in T(c)} dy_c' y_c' /
        scale_c'`` with ``T(c) = [c - q, c + n - 1 - q]``, ``q = int(n - (n - 1) / 2)``.

    What torch hides:
        two off-by-one slips from porting Lua's 1-based loops to 0-based Python: the
        forward's running window keeps Lua's ``if c > prePad`` test after c became 0-based,
        so its subtractions start one channel late and channel 0 is never removed: x_0^2
        enters *every* channel's sum; and the backward's window ``T(c)`` is shifted (for size 3 it is ``[c-2, c]`` where the forward used
        ``[c-1, c+1]``). So this is not LocalResponseNorm (channel 3 of 7 with x = (3, 0, 0,
        1, 0, 0, 0), size 1: 0.261 here, 0.738 there), ``torch.autograd.gradcheck`` fails on
        it, and for size 1 torch's backward itself crashes (``narrow`` past the end): npimpl
        raises a clear error there. npimpl reproduces both loops (running sums included, for
        the same rounding); the finite-difference oracle excludes these cases by name.
    """

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1,
                 dtype=None):
        super().__init__(size, alpha, beta, k, dtype)    # torch's default k is the int 1 here

    def forward(self, input):
        x = self._x(input)
        if x.ndim != 4:
            raise ValueError(f"CrossMapLRN2d: expected input to be 4D (N, C, H, W), got "
                             f"{x.ndim}D with shape {x.shape}")
        C = x.shape[1]
        if C == 0:
            raise ValueError(f"CrossMapLRN2d: expected at least one channel in dim 1, got shape "
                             f"{x.shape} (torch fails selecting channel 0)")
        sq = x * x
        pre_pad = int((self.size - 1) / 2 + 1)
        scale = np.empty_like(x)
        scale[:, 0] = np.zeros_like(x[:, 0])
        for c in range(min(pre_pad, C)):                  # the first channel's window
            scale[:, 0] += sq[:, c]
        for c in range(1, C):                             # slide: add the next, drop the one
            scale[:, c] = scale[:, c - 1]                 # before (never channel 0: torch's
            if c < C - pre_pad + 1:                       # `c > pre_pad`)
                scale[:, c] += sq[:, c + pre_pad - 1]
            if c > pre_pad:
                scale[:, c] -= sq[:, c - pre_pad]
        scale = scale * x.dtype.type(self.alpha / self.size) + x.dtype.type(self.k)
        out = scale ** -self.beta * x
        self._cache = CrossMapCache(x, scale, out)
        return out

    def backward(self, grad_output):
        x, scale, out = self._saved()
        g = self._g(grad_output, x)
        N, C = x.shape[:2]
        n = self.size
        if n == 1:
            raise ValueError("CrossMapLRN2d: torch's backward fails for size=1 (its padded "
                             "buffer of C + size - 1 channels is narrowed past its end), so "
                             "there is no gradient to match: expected size >= 2, got 1")
        crv = x.dtype.type(2 * self.alpha * self.beta / n)     # cache_ratio_value
        inverse_pre_pad = int(n - (n - 1) / 2)
        grad = scale ** -self.beta * g
        padded = np.zeros((N, C + n - 1) + x.shape[2:], dtype=x.dtype)
        padded[:, inverse_pre_pad:inverse_pre_pad + C] = g * out / scale   # torch's narrow
        accum = padded[:, :n - 1].sum(axis=1)              # (N, H, W)
        for c in range(C):
            accum = accum + padded[:, c + n - 1]
            grad[:, c] = grad[:, c] + (-crv * x[:, c]) * accum    # addcmul_(x, accum, -crv)
            accum = accum - padded[:, c]
        return grad
