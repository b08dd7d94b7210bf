"""bfloat16 arithmetic in NumPy as torch's CPU kernels do it, for the one place torch computes
in bfloat16 whatever the parameter's dtype: Muon's Newton–Schulz orthogonalisation.

NumPy has no bfloat16. A bfloat16 is a float32 with the low 16 bits of its significand
dropped, so rounding a float32 to bfloat16 (nearest, ties to even) is integer arithmetic on
its bits; the values are kept in float32 arrays. torch converts float64 to bfloat16 through
float32 (two roundings), and its bfloat16 kernels compute in float32 and round each result.

A product of two bfloat16 numbers (8-bit significands) is exact in float32, so a bfloat16
matrix product differs between kernels only by the **order** in which the float32
accumulator adds the products; NumPy's own float32 matmul order moved the last bfloat16 bit
of about one Newton–Schulz call in 30 (a 16×8 Muon update) to one in 4 (32×32). torch 2.13
on CPU has two kernels, chosen by size (``aten/src/ATen/native/LinearAlgebra.cpp``:
``m·k·n > 16³`` goes to oneDNN); measured call by call against them (see
``tests/test_muon_bf16.py``), this module reproduces both bit for bit:

- **ATen's own kernel** (``m·k·n <= 4096``): the order depends on the operands' layout —
  both row-major or both transposed: 4 interleaved partial sums (``sum`` in BlasKernel.cpp:
  lane ``l mod 4``, the remainder into lane 0, then ``((s0 + s1) + s2) + s3``); ``A`` stored
  transposed: one running sum in k order; ``B`` stored transposed (``X @ X.T``): a
  vectorised dot at AVX2 width (chunks of 16 split into two 8-lane halves, 8 registers of
  8 lanes in the 64-wide main loop, a pairwise tree over the lanes, then a scalar tail);
- **oneDNN's brgemm** (``m·k·n > 4096``, CPUs with AVX512-BF16): ``vdpbf16ps`` adds the
  products of each pair of k's, the odd one first, into one running float32 sum.

Both finish ``addmm(M, A, B, beta=b, alpha=c)`` with one fused multiply-add,
``fma(b, M, c · (A @ B))``, then round to bfloat16. The norm of step 1 is a float32 sum
of squares rounded to bfloat16 (its order is not pinned; measured bit for bit anyway).

Where this is not torch's arithmetic: oneDNN on a CPU without AVX512-BF16 (emulated bf16
dots, other orders), ARM's kernels, several torch threads, and 1-row or 1-column matrices
(torch's gemv paths); there the last bits can differ (one bfloat16 unit, 2^-8 relative).
"""
from __future__ import annotations

import numpy as np

#: torch sends a bfloat16 product with m·k·n above this to oneDNN (``mkldnn_gemm_min_size``)
ONEDNN_MIN_SIZE = 16 * 16 * 16

_F32 = np.float32


def round_bf16(x) -> np.ndarray:
    """``x`` rounded to bfloat16 (through float32, as torch converts), as float32 values."""
    f = np.asarray(x, dtype=np.float32)
    u = f.view(np.uint32).astype(np.uint64)
    rounded = ((u + 0x7FFF + ((u >> 16) & 1)) & 0xFFFF0000).astype(np.uint32).view(np.float32)
    return np.where(np.isnan(f), f, rounded)


def _terms(a: np.ndarray, b: np.ndarray, ks) -> np.ndarray:
    """The (len(ks), m, n) products a[:, k] b[k, :] (exact in float32 for bfloat16 inputs)."""
    return a.T[ks][:, :, None] * b[ks][:, None, :]


def _running(acc: np.ndarray, a, b, ks) -> np.ndarray:
    """``acc + a[:, k] b[k, :]`` for k in ks, in that order, one float32 rounding per
    addition (``np.add.accumulate`` adds sequentially, element by element)."""
    ks = list(ks)
    if not ks:
        return acc
    return np.add.accumulate(np.concatenate([acc[None], _terms(a, b, ks)]), axis=0)[-1]


def _tree(lanes: np.ndarray) -> np.ndarray:
    """A SIMD register's horizontal sum (first axis, a power of two): halves added pairwise."""
    while lanes.shape[0] > 1:
        h = lanes.shape[0] // 2
        lanes = lanes[:h] + lanes[h:]
    return lanes[0]


def _dot_ilp4(a, b, zero):
    """BlasKernel's ``sum``: lane l mod 4 (remainder into lane 0), then s0 + s1 + s2 + s3."""
    K = a.shape[1]
    body = K - K % 4
    lanes = [_running(zero, a, b, range(r, body, 4)) for r in range(4)]
    lanes[0] = _running(lanes[0], a, b, range(body, K))
    return ((lanes[0] + lanes[1]) + lanes[2]) + lanes[3]


def _dot_avx2(a, b, zero):
    """``dot_with_fp32_arith`` at AVX2 width: 8 lanes; 64-element main loop into 8 registers
    (reduced pairwise, then across lanes); 16-element chunks into one register (its low 8
    products, then its high 8); the scalar tail in order."""
    K, V = a.shape[1], 8
    main, vec = K - K % (8 * V), K - K % (2 * V)
    total = zero
    if main:                     # register r of chunk c holds products c*64 + 8r .. + 7
        regs = np.add.accumulate(_terms(a, b, list(range(main))).reshape(
            main // (8 * V), 8, V, *zero.shape), axis=0)[-1]          # (8, V, m, n)
        total = zero + _tree(_tree(regs))     # registers pairwise, then the lanes of one
    if vec > main:               # half-chunks of 8 into one register, in order
        tail = np.add.accumulate(_terms(a, b, list(range(main, vec))).reshape(
            (vec - main) // V, V, *zero.shape), axis=0)[-1]           # (V, m, n)
        total = total + _tree(tail)
    else:
        total = total + zero     # torch adds the (zero) tail register anyway
    return _running(total, a, b, range(vec, K))


def _dot_dpbf16(a, b, zero):
    """oneDNN's brgemm with ``vdpbf16ps``: per pair of k's the odd product, then the even one,
    into one running sum."""
    K = a.shape[1]
    order = [k for p in range(0, K, 2) for k in ((p + 1, p) if p + 1 < K else (p,))]
    return _running(zero, a, b, order)


def _dot_sequential(a, b, zero):
    return _running(zero, a, b, range(a.shape[1]))


def matmul_bf16(a: np.ndarray, b: np.ndarray, a_transposed: bool = False,
                b_transposed: bool = False, m: np.ndarray | None = None, beta: float = 0.0,
                alpha: float = 1.0) -> np.ndarray:
    """``addmm(m, a, b, beta, alpha)`` (``a @ b`` without ``m``) on bfloat16 values as torch
    computes it on CPU; ``a_transposed``/``b_transposed`` say that torch's operand is a
    transposed view (the layout picks ATen's accumulation order). Returns float32 values
    rounded to bfloat16.  a: (R, K), b: (K, C), m: (R, C)."""
    a, b = np.asarray(a, _F32), np.asarray(b, _F32)
    R, K = a.shape
    zero = np.zeros((R, b.shape[1]), _F32)
    if R * K * b.shape[1] > ONEDNN_MIN_SIZE:
        dot = _dot_dpbf16(a, b, zero)
    elif a_transposed == b_transposed:
        dot = _dot_ilp4(a, b, zero)
    elif a_transposed:
        dot = _dot_sequential(a, b, zero)
    else:
        dot = _dot_avx2(a, b, zero)
    scaled = dot if alpha == 1 else _F32(alpha) * dot
    if m is None or beta == 0:
        return round_bf16(scaled)
    # one fused multiply-add: b·M is exact in float64 (24 × 8 bits) and so, nearly always,
    # is the sum; one rounding to float32 follows, as the FMA's
    fused = _F32(beta).astype(np.float64) * np.asarray(m, np.float64) + scaled
    return round_bf16(fused.astype(_F32))


def newton_schulz(grad: np.ndarray, coefficients: tuple, steps: int, eps: float,
                  bfloat16: bool = True) -> np.ndarray:
    """torch's ``_zeropower_via_newtonschulz``: ``X = G / max(||G||, eps)`` (G transposed to
    be wide), then ``steps`` times ``A = X X^T;  B = b A + c A A;  X = a X + B X``.

    ``bfloat16=True`` is torch's arithmetic (every operation rounded to bfloat16, the
    products accumulated in torch's order: :func:`matmul_bf16`); ``bfloat16=False`` runs
    the same iteration in ``grad``'s own dtype without rounding (the smooth map the
    bfloat16 one approximates — what the catalogue compares both libraries' Muon on)."""
    a, b, c = coefficients
    tall = grad.shape[0] > grad.shape[1]
    if not bfloat16:
        x = grad.T if tall else grad
        x = x / max(np.sqrt(np.sum(x * x)), eps)
        for _ in range(steps):
            gram = x @ x.T                                       # (R, R), R <= C
            x = a * x + (b * gram + c * (gram @ gram)) @ x
        return x.T if tall else x
    x = round_bf16(grad)
    if tall:                   # torch transposes a view: the first products see that layout
        x = x.T
    norm = round_bf16(np.sqrt(np.sum(x * x, dtype=_F32)))
    x = round_bf16(x / np.maximum(norm, round_bf16(_F32(eps))))
    view = tall
    for _ in range(steps):
        gram = matmul_bf16(x, x.T, a_transposed=view, b_transposed=not view)   # (R, R)
        update = matmul_bf16(gram, gram, m=gram, beta=b, alpha=c)
        x = matmul_bf16(update, x, b_transposed=view, m=x, beta=a)
        view = False                                             # addmm's result is dense
    return x.T if tall else x
