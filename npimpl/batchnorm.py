"""Batch normalisation: BatchNorm1d and BatchNorm2d, with the hidden running statistics.

The statistics are taken per channel (dim 1) over every other dim: ``(N,)`` for a
``(N, C)`` input, ``(N, L)`` for ``(N, C, L)``, ``(N, H, W)`` for ``(N, C, H, W)``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _batchnorm_fast as fast
from . import _checks
from .module import Module
from .norm import affine_backward, affine_parameters, reset_affine


class BatchNormCache(NamedTuple):
    xc: np.ndarray          # (N, C, *): x - mu (step 2)
    std: np.ndarray         # (1, C, 1..): sqrt(var + eps) (step 4)
    rstd: np.ndarray        # (1, C, 1..): 1 / std (step 5)
    xhat: np.ndarray        # (N, C, *): the normalised input (step 6)
    axes: tuple             # the reduced axes: every dim but 1
    training: bool          # batch statistics (full backward) or running ones (affine map)


def _per_channel(v: np.ndarray | None, ndim: int):
    """``(C,)`` → ``(1, C, 1, ..., 1)``, ready to broadcast against an ``ndim``-D input."""
    return None if v is None else v.reshape((1, -1) + (1,) * (ndim - 2))


def batch_norm_forward(x, weight, bias, eps: float, mean=None, var=None):
    """Normalise per channel; with ``mean``/``var`` given (eval) use them, else the batch's.

    Returns ``(y, cache, batch_mean, batch_var)`` (the biased batch variance; None in eval).
    """
    axes = (0,) + tuple(range(2, x.ndim))
    training = mean is None
    if training and x.size == 0:    # an empty batch: NaN statistics as torch's, no warning
        mu = var = np.full((1, x.shape[1]) + (1,) * (x.ndim - 2), np.nan, x.dtype)
        xc = x - mu
    elif training:
        mu = x.mean(axis=axes, keepdims=True)                   # 1. mu = mean(x)      (1, C, 1..)
        xc = x - mu                                             # 2. xc = x - mu       (N, C, *)
        var = (xc * xc).mean(axis=axes, keepdims=True)          # 3. var = mean(xc^2)  biased
    else:
        mu, var = _per_channel(mean, x.ndim), _per_channel(var, x.ndim)
        xc = x - mu
    std = np.sqrt(var + x.dtype.type(eps))                      # 4. std = sqrt(var + eps)
    rstd = 1.0 / std                                            # 5. rstd = 1 / std
    xhat = xc * rstd                                            # 6. xhat = xc * rstd
    y = xhat
    if weight is not None:                                      # 7. y = gamma xhat + beta
        y = y * _per_channel(weight, x.ndim)
    if bias is not None:
        y = y + _per_channel(bias, x.ndim)
    cache = BatchNormCache(xc, std, rstd, xhat, axes, training)
    if not training:
        return y, cache, None, None
    return y, cache, mu.reshape(-1), var.reshape(-1)


def batch_norm_backward(dy, weight, cache: BatchNormCache):
    """``(dx, dgamma, dbeta)``: each step undoes the forward step of the same number."""
    xc, std, rstd, xhat, axes, training = cache
    n = xhat.size // xhat.shape[1]                              # values per channel
    # 7. forward was: y = gamma * xhat + beta
    dbeta = dy.sum(axis=axes)                                   # (C,)
    dgamma = (dy * xhat).sum(axis=axes)                         # (C,)
    dxhat = dy * _per_channel(weight, dy.ndim) if weight is not None else dy
    # 6. forward was: xhat = xc * rstd
    dxc = dxhat * rstd                                          # the direct path
    if not training or n == 0:      # eval: mu and var are constants; empty: nothing to spread
        return dxc, dgamma, dbeta
    drstd = (dxhat * xc).sum(axis=axes, keepdims=True)          # (1, C, 1..)
    # 5. forward was: rstd = 1 / std
    dstd = -drstd / (std * std)
    # 4. forward was: std = sqrt(var + eps)
    dvar = dstd * 0.5 / std
    # 3. forward was: var = mean(xc^2) -> each xc gets 2 xc / n of dvar
    dxc = dxc + xc * (2.0 * dvar / n)
    # 2. forward was: xc = x - mu -> x gets dxc directly, mu gets -sum(dxc)
    dmu = -dxc.sum(axis=axes, keepdims=True)
    # 1. forward was: mu = mean(x) -> each x gets dmu / n
    dx = dxc + dmu / n
    return dx, dgamma, dbeta


class _NormBase(Module):
    """What BatchNorm and InstanceNorm share, as in torch's ``_NormBase``: per-channel
    ``weight`` (ones) and ``bias`` (zeros) with ``affine``; with ``track_running_stats`` the
    buffers running_mean (zeros), running_var (ones) and num_batches_tracked (int64 0-d),
    registered as None without it. The subclasses keep torch's signatures and defaults."""

    def __init__(self, num_features, eps, momentum, affine, track_running_stats, dtype, bias):
        super().__init__()
        self.num_features = _checks.count(num_features, type(self).__name__, "num_features")
        self.eps, self.momentum = float(eps), momentum
        self.affine, self.track_running_stats = bool(affine), bool(track_running_stats)
        dt = self.dtype = self._dtype(dtype)
        C = self.num_features
        self.weight, self.bias = affine_parameters(C, dt, self.affine, bias)
        if self.track_running_stats:
            self.register_buffer("running_mean", np.zeros(C, dtype=dt))
            self.register_buffer("running_var", np.ones(C, dtype=dt))
            self.register_buffer("num_batches_tracked", np.array(0, dtype=np.int64))
        else:
            for name in ("running_mean", "running_var", "num_batches_tracked"):
                self.register_buffer(name, None)

    def reset_running_stats(self) -> None:
        if self.track_running_stats:
            self.running_mean[...] = 0
            self.running_var[...] = 1
            self.num_batches_tracked[...] = 0

    def reset_parameters(self, rng=None) -> None:
        """Running stats to (0, 1, 0); weight = 1, bias = 0 (deterministic; ``rng`` unused)."""
        self.reset_running_stats()
        reset_affine(self)

    def extra_repr(self) -> str:
        return (f"{self.num_features}, eps={self.eps}, momentum={self.momentum}, "
                f"affine={self.affine}, track_running_stats={self.track_running_stats}")


class _BatchNorm(_NormBase):
    r"""``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias`` per channel, over the batch.

    Args:
        num_features: C, the number of channels (dim 1 of the input).
        eps: added to the variance *inside* the square root (default 1e-5, torch's).
        momentum: weight of the new batch in the running averages (default 0.1);
            None = cumulative average, the factor is ``1 / num_batches_tracked``.
        affine: learn ``weight`` (init ones) and ``bias`` (init zeros), both ``(C,)``.
        track_running_stats: keep ``running_mean`` / ``running_var`` / ``num_batches_tracked``
            and use them in eval mode; if False, batch statistics are used in eval mode too.
        bias: keyword-only, as in torch: with ``affine``, False learns only ``weight``.
        dtype: NumPy float dtype of the parameters and running statistics.

    Shape:
        {shape}

    Attributes:
        weight, bias: ``(C,)``, initialised to ones and zeros (None without ``affine``).
        running_mean, running_var: ``(C,)`` buffers, initialised to zeros and ones.
        num_batches_tracked: int64 0-d buffer, training forwards seen so far.

    Maths:
        \mu_c = \mathrm{mean}_{n,\ast}\, x_{n,c,\ast}, \quad \sigma_c^2 = \mathrm{mean}_{n,\ast} (x - \mu_c)^2, \quad
        y = \gamma_c \frac{x - \mu_c}{\sqrt{\sigma_c^2 + \epsilon}} + \beta_c

    Derivation:
        The forward is seven small steps; ``batch_norm_backward()`` undoes them last to first, each
        comment numbered like the forward step it undoes ($n$ = values per channel, $\bar v =
        \partial L/\partial v$):
        7. $y = \gamma \hat x + \beta$: $\bar\beta = \sum \bar y$, $\bar\gamma = \sum \bar y \hat x$,
           $\bar{\hat x} = \gamma \bar y$.
        6. $\hat x = x_c\, r$: $\bar x_c = \bar{\hat x}\, r$ (direct path) and $\bar r = \sum
           \bar{\hat x}\, x_c$. In eval mode $\mu$ and $\sigma^2$ are constants and this is the end.
        5. $r = 1/s$: $\bar s = -\bar r / s^2$.
        4. $s = \sqrt{\sigma^2 + \epsilon}$: $\overline{\sigma^2} = \bar s / (2 s)$.
        3. $\sigma^2 = \mathrm{mean}(x_c^2)$: each $x_c$ gets $\frac{2 x_c}{n}\overline{\sigma^2}$ more.
        2. $x_c = x - \mu$: $x$ gets $\bar x_c$, and $\bar\mu = -\sum \bar x_c$.
        1. $\mu = \mathrm{mean}(x)$: each $x$ gets $\bar\mu / n$. Collected, this is LayerNorm's
           formula over the (batch, space) values of a channel:
           $$\bar x = r\left(g - \mathrm{mean}(g) - \hat x \odot \mathrm{mean}(g \odot \hat x)\right), \quad g = \gamma \bar y$$

    Backward:
        training, with g = dy * weight: dx = rstd * (g - mean(g) - xhat * mean(g * xhat))
        (computed here in seven numbered steps undoing the forward's);
        eval: dx = dy * weight / sqrt(running_var + eps);
        dweight += sum(dy * xhat);   dbias += sum(dy) (sums over every dim but 1).

    What torch hides:
        training normalises with the *biased* batch variance (divide by n) but stores the
        *unbiased* one (n / (n - 1)) in running_var; the update is
        ``running = (1 - momentum) * running + momentum * batch``, so torch's momentum is the
        weight of the *new* batch, the opposite of Keras's (``momentum * old + (1 -
        momentum) * batch``, default 0.99, i.e. torch's 0.01); eps sits inside the square
        root; num_batches_tracked is an int64 0-d buffer that only counts (it matters only
        for momentum=None); a training batch with one value per channel raises because its
        variance is 0 and the unbiased one undefined.
    """

    _ranks: tuple = ()
    #: True sends every batch through the staged textbook (``batch_norm_forward`` /
    #: ``batch_norm_backward``), not only an empty one: the catalogue runs a subclass with it
    #: to hold the seven steps to torch too (the two paths agree to rounding)
    _staged = False

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float | None = 0.1,
                 affine: bool = True, track_running_stats: bool = True, device=None,
                 dtype=np.float32, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def _check(self, x: np.ndarray) -> None:
        name = type(self).__name__
        if x.ndim not in self._ranks:
            want = " or ".join(f"{r}D" for r in self._ranks)
            raise ValueError(f"{name}: expected {want} input (got {x.ndim}D input)")
        if x.shape[1] != self.num_features:
            raise ValueError(f"{name}: expected input with {self.num_features} channels in dim "
                             f"1, got shape {x.shape}")

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        self._check(x)
        factor = 0.0
        if self.training and self.track_running_stats:
            self.num_batches_tracked[...] += 1
            factor = (1.0 / float(self.num_batches_tracked) if self.momentum is None
                      else self.momentum)
        use_batch = self.training or self.running_mean is None
        n = x.size // x.shape[1]
        if use_batch and n == 1:
            raise ValueError(f"{type(self).__name__}: Expected more than 1 value per channel "
                             f"when training, got input size {x.shape}")
        if use_batch and not self.eps > 0:                 # torch: batch_norm's own check
            raise ValueError(f"{type(self).__name__}: eps must be positive during training, "
                             f"got {self.eps}")
        w = self.weight.data if self.weight is not None else None
        b = self.bias.data if self.bias is not None else None
        # the compact formulas, BLAS sums, only xhat cached (_batchnorm_fast); an empty batch
        # keeps the staged textbook (its NaN statistics)
        forward = batch_norm_forward if self._staged or not x.size else fast.forward
        if use_batch:
            y, self._cache, mu, var = forward(x, w, b, self.eps)
            if self.training and self.track_running_stats and n > 0:   # torch: an empty
                self._update_running_stats(mu, var, n, factor)           # batch only counts
        else:
            y, self._cache, _, _ = forward(x, w, b, self.eps, self.running_mean,
                                           self.running_var)
        return y

    def _update_running_stats(self, mu, var, n: int, factor: float) -> None:
        """``running = (1 - m) * running + m * batch``, with the *unbiased* batch variance."""
        m = mu.dtype.type(factor)
        unbiased = var * mu.dtype.type(n / (n - 1))                 # stored: Bessel-corrected
        self.running_mean[...] = (1 - m) * self.running_mean + m * mu
        self.running_var[...] = (1 - m) * self.running_var + m * unbiased

    def backward(self, grad_output):
        textbook = self._saved().xc is not None        # the textbook's cache (staged, or empty)
        backward = batch_norm_backward if textbook else fast.backward
        return affine_backward(self, grad_output, backward, type(self).__name__)


class BatchNorm1d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace(
        "{shape}", "input ``(N, C)`` or ``(N, C, L)`` → output of the same shape.")
    _ranks = (2, 3)


class BatchNorm2d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace(
        "{shape}", "input ``(N, C, H, W)`` → output of the same shape.")
    _ranks = (4,)


class BatchNorm3d(_BatchNorm):
    __doc__ = _BatchNorm.__doc__.replace(
        "{shape}", "input ``(N, C, D, H, W)`` → output of the same shape.")
    _ranks = (5,)
