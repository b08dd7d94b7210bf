"""BatchNorm's forward and backward in the compact formulas, per-channel sums by BLAS.

Why: ``batchnorm.batch_norm_forward`` / ``batch_norm_backward`` teach the seven steps of
the graph (cs231n's staged backward): every step is a pass over the batch and a full-size
temporary, and the cache keeps both ``xc`` and ``xhat``. Here:

* the per-channel sums are matrix-vector products over the ``(N*C, S)`` rows (``x @ ones``,
  BLAS) and ``einsum('ij,ij->i')`` for the sums of squares and of ``dy * xhat`` (no
  temporary); a 2-D input ``(N, C)`` sums its columns as ``ones @ x``;
* the backward is the closed form of the seven steps, with ``k = weight * rstd``:
  ``dx = k (dy - mean(dy) - xhat mean(dy xhat))``, ``dweight = sum(dy xhat)``,
  ``dbias = sum(dy)`` (per channel; in eval, where the statistics are constants,
  ``dx = k dy``), and only ``xhat`` is cached (``xc`` is not needed: one array less).

The results equal the staged textbook's to rounding (tests/test_speed_paths.py, float64).
An empty batch keeps the textbook path (its NaN statistics).

Measured (forward+backward, float32, one thread, CPU time, load ~5 on 2 cores; ``lockstep
bench``), staged textbook -> here (torch): BatchNorm1d(256) on 4096x256 5.4 -> 4.2 ms (3.6,
on the textbook's run 1.6); BatchNorm2d(64) on 32x64x32x32 7.1 -> 8.6 ms, 2.1x -> 1.2x
torch (whose time moved from 3.4 to 7.1 ms between the runs: the ratio is the measure).
"""
from __future__ import annotations

import numpy as np


def _sums(a3: np.ndarray, b3: np.ndarray | None = None) -> np.ndarray:
    """Per-channel sums of ``a3`` (or of ``a3 * b3``) for ``(N, C, S)`` arrays: ``(C,)``."""
    n, c, s = a3.shape
    if s == 1:                                          # (N, C): column sums
        a2 = a3.reshape(n, c)
        if b3 is None:
            return np.ones(n, a3.dtype) @ a2
        return np.einsum("nc,nc->c", a2, b3.reshape(n, c))
    rows = a3.reshape(n * c, s)
    if b3 is None:
        per = rows @ np.ones(s, a3.dtype)
    else:
        per = np.einsum("ij,ij->i", rows, b3.reshape(n * c, s))
    return per.reshape(n, c).sum(axis=0)


def forward(x, weight, bias, eps: float, mean=None, var=None):
    """``batchnorm.batch_norm_forward``'s results: ``(y, cache, batch_mean, batch_var)``;
    the cache's ``xc`` is None (the backward below needs only ``xhat`` and ``rstd``)."""
    from .batchnorm import BatchNormCache         # batchnorm.py imports this module
    n_, c = x.shape[:2]
    x3 = np.ascontiguousarray(x).reshape(n_, c, -1)                      # (N, C, S)
    n = x3.shape[0] * x3.shape[2]                                        # values per channel
    training = mean is None
    if training:
        mu = _sums(x3) / n                                               # (C,)
        xhat = x3 - mu[:, None]
        var = _sums(xhat, xhat) / n                                      # biased
    else:
        mu = mean
        xhat = x3 - mu[:, None]
    std = np.sqrt(var + x.dtype.type(eps))
    rstd = 1.0 / std
    xhat *= rstd[:, None]                                                # (N, C, S)
    y = xhat * weight[:, None] if weight is not None else xhat.copy()
    if bias is not None:
        y += bias[:, None]
    axes = (0,) + tuple(range(2, x.ndim))
    shape = (1, c) + (1,) * (x.ndim - 2)
    cache = BatchNormCache(None, std.reshape(shape), rstd.reshape(shape), xhat.reshape(x.shape),
                           axes, training)
    if not training:
        return y.reshape(x.shape), cache, None, None
    return y.reshape(x.shape), cache, mu, var


def backward(dy, weight, cache):
    """``batchnorm.batch_norm_backward``: ``(dx, dweight, dbias)`` in the closed form."""
    _, _, rstd, xhat, _, training = cache
    n_, c = dy.shape[:2]
    dy3 = np.ascontiguousarray(dy).reshape(n_, c, -1)
    xh3 = xhat.reshape(n_, c, -1)
    n = dy3.shape[0] * dy3.shape[2]
    dbias = _sums(dy3)                                                   # (C,)
    dweight = _sums(dy3, xh3)                                            # (C,)
    k = rstd.reshape(c) * weight if weight is not None else rstd.reshape(c)
    if not training:
        return (dy3 * k[:, None]).reshape(dy.shape), dweight, dbias
    dx = xh3 * (-dweight / n)[:, None]                                   # -xhat mean(dy xhat)
    dx += dy3
    dx -= (dbias / n)[:, None]                                           # - mean(dy)
    dx *= k[:, None]                                   # one array: no second temporary
    return dx.reshape(dy.shape), dweight, dbias
