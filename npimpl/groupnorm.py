"""Per-sample normalisations over channel groups: GroupNorm and InstanceNorm1d/2d/3d.

Both reuse LayerNorm's maths (``layer_norm_forward`` / ``layer_norm_backward`` without
affine) on a reshaped view, then apply a per-*channel* affine map. InstanceNorm takes its
parameters and running-statistics buffers from BatchNorm's ``_NormBase``, as in torch.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from .batchnorm import _NormBase
from .module import Module
from . import _norm_fast as fast
from .norm import (LayerNormCache, affine_parameters, layer_norm_backward, layer_norm_forward,
                   reset_affine)


def _channel(v, ndim: int):
    """``(C,)`` → ``(1, C, 1, ..., 1)``."""
    return v.reshape((1, -1) + (1,) * (ndim - 2))


class GroupNormCache(NamedTuple):
    ln: LayerNormCache      # the normalisation of the (N, G, C/G * spatial) view
    shape: tuple            # the input's shape (N, C, *)


class GroupNorm(Module):
    r"""``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``, statistics per (sample, group).

    Args:
        num_groups: G; the C channels are split into G consecutive groups of C / G.
        num_channels: C (must be divisible by G).
        eps: added to the variance inside the square root (default 1e-5).
        affine: learn per-channel ``weight`` (init ones) and ``bias`` (init zeros), ``(C,)``.
        bias: keyword-only, as in torch: with ``affine``, False learns only ``weight``.
        dtype: NumPy float dtype of the parameters (default ``np.float32``).

    Shape:
        input ``(N, C, *)`` → output of the same shape.

    Maths:
        \hat x = \frac{x - \mu_{n,g}}{\sqrt{\sigma^2_{n,g} + \epsilon}} \text{ over the } C/G \cdot \textstyle\prod(\ast) \text{ values of group } g, \quad y = \gamma_c \hat x + \beta_c

    Derivation:
        1. LayerNorm's derivation (see its page) with one statistic per (sample, group) over
           its $n = C/G \cdot \prod(\ast)$ values and $g = \gamma_c \bar y$ per channel:
           $$\bar x = r\left(g - \mathrm{mean}(g) - \hat x \odot \mathrm{mean}(g \odot \hat x)\right)$$
        2. The affine parameters are per channel: $\bar\gamma_c = \sum \bar y \odot \hat x$ and
           $\bar\beta_c = \sum \bar y$ over every dim but 1.

    Backward:
        with g = dy * weight[c], over each group's C/G * prod(*) values:
        dx = rstd * (g - mean(g) - xhat * mean(g * xhat));
        dweight += sum(dy * xhat), dbias += sum(dy) over every dim but 1.

    What torch hides:
        the statistics are per group but the affine parameters per *channel*; G = 1 is
        LayerNorm over (C, *) with per-channel affine, G = C is InstanceNorm; the variance is
        biased and no running statistics exist, so train and eval agree.
    """

    def __init__(self, num_groups: int, num_channels: int, eps: float = 1e-5,
                 affine: bool = True, device=None, dtype=np.float32, *, bias: bool = True):
        super().__init__()
        if num_groups <= 0 or num_channels % num_groups != 0:
            raise ValueError(f"GroupNorm: num_channels ({num_channels}) must be divisible by "
                             f"num_groups ({num_groups})")
        self.num_groups, self.num_channels = int(num_groups), int(num_channels)
        self.eps, self.affine = float(eps), bool(affine)
        self.dtype = self._dtype(dtype)
        self.weight, self.bias = affine_parameters(self.num_channels, self.dtype, self.affine,
                                                   bias)

    def reset_parameters(self, rng=None) -> None:
        """weight = 1, bias = 0 (deterministic, like torch; ``rng`` is unused)."""
        reset_affine(self)

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        if x.ndim < 2 or x.shape[1] != self.num_channels:
            raise ValueError(f"GroupNorm: expected input of shape (N, {self.num_channels}, *), "
                             f"got {x.shape}")
        N, G = x.shape[0], self.num_groups
        w = self.weight.data if self.weight is not None else None
        b = self.bias.data if self.bias is not None else None
        done = fast.group_norm_forward(x, G, w, b, self.eps) if x.size else None
        if done is not None:             # the same maths, the affine map inside (_norm_fast)
            y, xhat, rstd = done
            self._cache = GroupNormCache(LayerNormCache(xhat, rstd, (-1,)), x.shape)
            return y
        xg = x.reshape(N, G, x[0].size // G if N else 0)          # (N, G, C/G * spatial)
        y, ln = layer_norm_forward(xg, None, None, (-1,), self.eps)   # y: a copy of ln.xhat
        y = y.reshape(x.shape)                                     # (N, C, *)
        if self.weight is not None:
            y = y * _channel(self.weight.data, x.ndim)
        if self.bias is not None:
            y = y + _channel(self.bias.data, x.ndim)
        self._cache = GroupNormCache(ln, x.shape)
        return y

    def backward(self, grad_output):
        ln, shape = self._saved()
        dy = self._upstream(grad_output, shape, self.dtype)
        if dy.size:                    # with g = dy * weight[c], per (sample, group) rows
            w = self.weight.data if self.weight is not None else None
            dx, dw, db = fast.group_norm_backward(dy, self.num_groups, w, ln.xhat, ln.rstd)
            if self.weight is not None:
                self.weight.accumulate(dw)
            if self.bias is not None:
                self.bias.accumulate(db)
            return dx
        axes = (0,) + tuple(range(2, dy.ndim))
        if self.weight is not None:
            self.weight.accumulate((dy * ln.xhat.reshape(shape)).sum(axis=axes))
            dy_hat = dy * _channel(self.weight.data, dy.ndim)
        else:
            dy_hat = dy
        if self.bias is not None:
            self.bias.accumulate(dy.sum(axis=axes))
        dx, _, _ = layer_norm_backward(dy_hat.reshape(ln.xhat.shape), None, ln)
        return dx.reshape(shape)

    def extra_repr(self) -> str:
        return f"{self.num_groups}, {self.num_channels}, eps={self.eps}, affine={self.affine}"


class InstanceNormCache(NamedTuple):
    xhat: np.ndarray        # (N, C, *S)
    ln: LayerNormCache | None  # instance statistics (None: running statistics were used)
    rstd: np.ndarray | None    # (1, C, 1, ...) from running_var, when those were used
    unbatched: bool


class _InstanceNorm(_NormBase):
    """``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias``, statistics per (sample, channel) over {space}.

    Args:
        num_features: C.
        eps: added to the variance inside the square root (default 1e-5).
        momentum: weight of the new batch in the running averages (default 0.1; None = 0,
            the running statistics never move).
        affine: learn per-channel ``weight`` and ``bias`` (default False, unlike BatchNorm).
        track_running_stats: keep running_mean/running_var and use them in eval mode
            (default False: instance statistics in eval too).
        bias: keyword-only, as in torch.
        dtype: NumPy float dtype of the parameters and running statistics.

    Shape:
        input ``(N, C, {S})`` or unbatched ``(C, {S})`` → output of the same shape.

    Backward:
        instance statistics: with g = dy * weight[c], over each (n, c)'s {n} values,
        dx = rstd * (g - mean(g) - xhat * mean(g * xhat)); running statistics:
        dx = dy * weight / sqrt(running_var + eps); dweight += sum(dy * xhat), dbias += sum(dy).

    What torch hides:
        torch runs it as BatchNorm on a ``(1, N*C, {S})`` view with the running buffers
        repeated N times, then averages the N updated copies: running_var gets the mean over
        the batch of the per-instance *unbiased* variances (n = {n}), with torch's momentum
        direction ``(1 - m) * old + m * new``; ``num_batches_tracked`` is registered but never
        incremented; defaults are affine=False and track_running_stats=False, so by default
        it has no parameters and no buffers.
    """

    _nd = 2                                     # spatial dims

    def __init__(self, num_features: int, eps: float = 1e-5, momentum: float = 0.1,
                 affine: bool = False, track_running_stats: bool = False, device=None,
                 dtype=np.float32, *, bias: bool = True):
        super().__init__(num_features, eps, momentum, affine, track_running_stats, dtype, bias)

    def forward(self, input):
        name, nd = type(self).__name__, self._nd
        x = self._input(input, dtype=self.dtype)
        if x.ndim not in (nd + 1, nd + 2):
            raise ValueError(f"{name}: expected {nd + 1}D or {nd + 2}D input (got {x.ndim}D input)")
        unbatched = x.ndim == nd + 1
        if unbatched:
            x = x[None]                                            # (1, C, *S)
        C, space = x.shape[1], tuple(range(2, nd + 2))
        if C != self.num_features:
            msg = (f"{name}: expected input's size at dim=1 to match num_features "
                   f"({self.num_features}), but got: {C}.")
            if self.affine or self.track_running_stats:
                raise ValueError(msg)
            warnings.warn(msg + " num_features is not used because affine=False", stacklevel=2)
        use_input_stats = self.training or not self.track_running_stats
        if use_input_stats:
            if np.prod(x.shape[2:]) == 1:
                raise ValueError(f"{name}: Expected more than 1 spatial element when "
                                 f"training, got input size {tuple(x.shape)}")
            w = self.weight.data if self.weight is not None else None
            b = self.bias.data if self.bias is not None else None
            done = fast.group_norm_forward(x, C, w, b, self.eps) if x.size else None
            if self.training and self.track_running_stats:
                self._update_running(x, space)
            if done is not None:          # GroupNorm with one channel a group (_norm_fast)
                y, xh3, rs = done
                xhat = xh3.reshape(x.shape)
                ln = LayerNormCache(xhat, rs.reshape(x.shape[:2] + (1,) * nd),
                                    tuple(range(-nd, 0)))
                self._cache = InstanceNormCache(xhat, ln, None, unbatched)
                return y[0] if unbatched else y
            y, ln = layer_norm_forward(x, None, None, tuple(range(-nd, 0)),
                                       self.eps)                    # (N, C, *S), y a copy
            xhat, rstd = ln.xhat, None
        else:
            rstd = _channel(1.0 / np.sqrt(self.running_var + x.dtype.type(self.eps)), x.ndim)
            xhat, ln = (x - _channel(self.running_mean, x.ndim)) * rstd, None
            y = xhat                # its backward reads xhat only with a weight (y new then)
        if self.weight is not None:
            y = xhat * _channel(self.weight.data, x.ndim)
        if self.bias is not None:
            y = y + _channel(self.bias.data, x.ndim)
        self._cache = InstanceNormCache(xhat, ln, rstd, unbatched)
        return y[0] if unbatched else y

    def _update_running(self, x, space) -> None:
        """As torch: update N repeated copies of the buffers, one per sample, then average."""
        n = int(np.prod(x.shape[2:]))
        m = x.dtype.type(self.momentum if self.momentum is not None else 0.0)
        mu = x.mean(axis=space)                                    # (N, C)
        var = ((x - mu.reshape(mu.shape + (1,) * len(space))) ** 2).sum(axis=space) \
            / x.dtype.type(n - 1)
        self.running_mean[...] = ((1 - m) * self.running_mean + m * mu).mean(axis=0)
        self.running_var[...] = ((1 - m) * self.running_var + m * var).mean(axis=0)

    def backward(self, grad_output):
        xhat, ln, rstd, unbatched = self._saved()
        dy = self._upstream(grad_output, xhat.shape[1:] if unbatched else xhat.shape, self.dtype)
        if unbatched:
            dy = dy[None]
        if ln is not None and dy.size:       # instance statistics: GroupNorm's (_norm_fast)
            n, c = dy.shape[:2]
            w = self.weight.data if self.weight is not None else None
            dx, dw, db = fast.group_norm_backward(dy, c, w, xhat.reshape(n, c, -1),
                                                  ln.rstd.reshape(n, c, 1))
            if self.weight is not None:
                self.weight.accumulate(dw)
            if self.bias is not None:
                self.bias.accumulate(db)
            return dx[0] if unbatched else dx
        axes = (0,) + tuple(range(2, dy.ndim))
        if self.bias is not None:
            self.bias.accumulate(dy.sum(axis=axes))
        if self.weight is not None:
            self.weight.accumulate((dy * xhat).sum(axis=axes))
            dy = dy * _channel(self.weight.data, dy.ndim)          # d loss / d xhat
        dx = dy * rstd if ln is None else layer_norm_backward(dy, None, ln)[0]
        return dx[0] if unbatched else dx


class InstanceNorm1d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.format(space="L", S="L", n="L")
    _nd = 1


class InstanceNorm2d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.format(space="(H, W)", S="H, W", n="H * W")
    _nd = 2


class InstanceNorm3d(_InstanceNorm):
    __doc__ = _InstanceNorm.__doc__.format(space="(D, H, W)", S="D, H, W", n="D * H * W")
    _nd = 3
