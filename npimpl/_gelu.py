"""GELU('none') in float32 without float64: a float32 erf, and the derivative made in forward.

Why: ``special.erf`` is fdlibm's erf, correctly rounded for float32 input because it runs
in float64 (five ranges, each selected by fancy indexing): 4096 x 1024 float32 inputs took
88 ms forward+backward against torch's 7.7 (one thread, CPU time), and every temporary was
float64. float32 needs far less: torch's own float32 GELU is off the exact one by up to
1.2e-6 (measured on [-6, 6]). Here ``Phi(x) = (1 + erf(x/sqrt 2)) / 2`` comes from
Abramowitz & Stegun 7.1.26 (Hastings' approximation, |error of erf| <= 1.5e-7):

    Phi(-|x|) = 1/2 erfc(|x|/sqrt 2) = t (a1 + t (a2 + t (a3 + t (a4 + t a5)))) / 2 * exp(-x^2/2),
    t = 1 / (1 + p |x| / sqrt 2),     Phi(x) = 1/2 + sign(x) (1/2 - Phi(-|x|))

with no branch (``copysign``), and the derivative ``Phi(x) + x phi(x)`` is finished while
``phi(x) = exp(-x^2/2) / sqrt(2 pi)`` is at hand: the backward is one product ``dy * d``
(torch recomputes erf there). The chain of ~25 NumPy operations runs on blocks of
``BLOCK`` elements (``_pointwise.blockwise``'s reason: the temporaries stay in cache).

Measured (4096 x 1024, forward+backward, one thread, CPU time, load ~2 on 2 cores): whole
arrays 23.6 ms, blocks of 16K 19.0, 64K 16.8, 128K 16.9, 256K 16.8, 1M 17.3; torch 8.7;
fdlibm's float64 erf 88 (at load ~6, torch 7.7).
Accuracy against the float64 GELU: |y - GELU(x)| <= 3e-7 (1 + |x|), the same for the
derivative (tests/test_speed_paths.py). ±inf and NaN give torch's NaN and ±inf.
"""
from __future__ import annotations

import math

import numpy as np

BLOCK = 1 << 17                 # elements per block (512 KiB of float32): measured below
_F = np.float32
_P = _F(0.3275911 / math.sqrt(2))                          # p of A&S 7.1.26, for |x| / sqrt 2
_A = tuple(_F(0.5 * c) for c in (0.254829592, -0.284496736, 1.421413741, -1.453152027,
                                 1.061405429))             # a1..a5, with the 1/2 of Phi
_C = _F(1 / math.sqrt(2 * math.pi))
_HALF = _F(0.5)


def _block(x: np.ndarray, y: np.ndarray, d: np.ndarray) -> None:
    """``y = x Phi(x)`` and ``d = Phi(x) + x phi(x)`` for one float32 block, in place."""
    t = np.abs(x)
    t *= _P
    t += 1
    np.reciprocal(t, out=t)                                        # t = 1 / (1 + p |x|/sqrt2)
    q = t * _A[4]
    for a in _A[3::-1]:                                            # Horner: t (a1 + t (...))
        q += a
        q *= t
    np.multiply(x, x, out=d)
    d *= -_HALF
    np.exp(d, out=d)                                               # exp(-x^2 / 2)
    q *= d                                                         # Phi(-|x|)
    np.subtract(_HALF, q, out=q)
    np.copysign(q, x, out=q)
    q += _HALF                                                     # Phi(x)
    np.multiply(x, q, out=y)                                       # y = x Phi(x)
    d *= x
    d *= _C
    d += q                                                         # Phi(x) + x phi(x)


def gelu_f32(x: np.ndarray):
    """``(y, d)``: GELU('none') of a float32 array and its derivative, both float32."""
    y, d = np.empty(x.shape, x.dtype), np.empty(x.shape, x.dtype)           # C order
    xf, yf, df = np.ascontiguousarray(x).reshape(-1), y.reshape(-1), d.reshape(-1)
    with np.errstate(invalid="ignore", over="ignore"):            # ±inf: inf * 0 = NaN
        for k in range(0, xf.size, BLOCK):
            _block(xf[k:k + BLOCK], yf[k:k + BLOCK], df[k:k + BLOCK])
    return y, d


def gelu_tanh(x: np.ndarray, k: float, b: float):
    """``(y, d)`` of GELU('tanh') with its textbook formulas (the same operations, so the
    same bits), block by block: ``T = tanh(b (x + k x^3))``, ``y = x/2 (1 + T)``,
    ``d = (1 + T)/2 + x/2 (1 - T^2) b (1 + 3 k x^2)``. One cached array (``d``) and no
    full-size temporaries: the whole-array form held 112 MB at its peak on 4096 x 1024
    float32, torch 32 (``lockstep bench``'s memory column)."""
    from ._pointwise import blockwise

    def block(v):
        s = np.tanh(b * (v + k * v * v * v))
        inner_d = b * (1 + 3 * k * v * v)
        return 0.5 * v * (1 + s), 0.5 * (1 + s) + 0.5 * v * (1 - s * s) * inner_d
    return blockwise(block, x, 2)
