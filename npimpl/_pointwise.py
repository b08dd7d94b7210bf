"""Branch-free element-wise selection, and element-wise maps evaluated block by block.

Why :func:`select`: ``np.where(cond, a, b)`` compiles to a loop with a branch per element; on
a mask that is random (the sign of activations, which elements a loss clips) about half of
those branches are mispredicted. Measured on 4M float32 elements of standard-normal ``x``
(one thread, 16K-element blocks streamed as an activation sees them, load average ~10 on 2
cores): ``np.where(x > 0, x, 0.01 * x)`` 41 ms, the same through :func:`select` 12 ms, one
``x + x`` 1.2 ms; a benchmark that repeats one block hides this, as the branch predictor
then learns the mask. :func:`select` picks the bits instead: with ``m`` all ones where
``cond`` holds, ``b ^ ((a ^ b) & m)`` is ``a`` there and ``b`` elsewhere, exactly (NaN
payloads, infinities and signed zeros included), in four vectorised integer passes.

Why :func:`blockwise`: an expression evaluated on a whole array makes one pass per operation
and a full-size temporary for each; evaluated on consecutive flat blocks of ``BLOCK``
elements the temporaries of a block are reused from cache. The expression is unchanged, so
the result is bit for bit the same.
"""
from __future__ import annotations

import numpy as np

BLOCK = 1 << 14        # elements per block: 64 KiB of float32, a few temporaries fit in L2

_UINT = {4: np.uint32, 8: np.uint64, 2: np.uint16}


def select(cond: np.ndarray, a, b, dtype=None) -> np.ndarray:
    """``np.where(cond, a, b)`` for float arrays or scalars of one float dtype (``dtype``, else
    that of the first array among ``a``, ``b``), without a branch per element (see above)."""
    if dtype is None:
        dtype = next(v.dtype for v in (a, b) if hasattr(v, "dtype"))
    dtype = np.dtype(dtype)
    u = _UINT[dtype.itemsize]
    av, bv = np.asarray(a, dtype).view(u), np.asarray(b, dtype).view(u)
    shape = np.broadcast_shapes(np.shape(cond), av.shape, bv.shape)
    m = np.broadcast_to(cond, shape).astype(u)                   # 1 where cond holds, else 0
    if bv.ndim == 0 and not bv:                                  # b = +0.0: a & mask
        np.negative(m, out=m)
        return np.bitwise_and(av, m, out=m).view(dtype)
    if av.ndim == 0 and not av:                                  # a = +0.0: b & ~mask
        m -= 1                                                   # all ones where cond fails
        return np.bitwise_and(bv, m, out=m).view(dtype)
    np.negative(m, out=m)                                        # all ones where cond holds
    np.bitwise_and(np.bitwise_xor(av, bv), m, out=m)             # a ^ b where cond holds
    m ^= bv                                                      # a there, b elsewhere
    return m.view(dtype)


def tanh_softplus(x: np.ndarray) -> np.ndarray:
    """``tanh(log(1 + exp(x)))`` (Mish's factor) as ``(e^2 + 2e) / (e^2 + 2e + 2)``, ``e = exp(x)``.

    With ``s = 1 + e``, ``tanh(log s) = (s^2 - 1) / (s^2 + 1)``: one exp and one division
    instead of exp, log1p and tanh (log1p has no vectorised NumPy loop: 12x an add per
    element, measured). ``x`` is capped at 20 first, where the value has rounded to 1 in
    float32 and float64 alike (``1 - 8.5e-18``), so ``e^2`` never overflows; NaN stays NaN.
    """
    e = np.exp(np.minimum(x, 20))
    n = e + 2
    n *= e                                                       # e^2 + 2e
    return n / (n + 2)


def blockwise(fn, *arrays: np.ndarray, dtype=None) -> np.ndarray:
    """``fn(*blocks)`` over flat blocks of same-shape arrays, gathered into one new array of
    ``dtype`` (default: the first array's). Small or non-contiguous inputs get one call."""
    first = arrays[0]
    dtype = first.dtype if dtype is None else dtype
    if first.size <= 2 * BLOCK or not all(a.flags.c_contiguous for a in arrays):
        return np.asarray(fn(*arrays), dtype=dtype)
    flat = [a.reshape(-1) for a in arrays]
    out = np.empty(first.shape, dtype)
    out_flat = out.reshape(-1)
    for k in range(0, first.size, BLOCK):
        out_flat[k:k + BLOCK] = fn(*(a[k:k + BLOCK] for a in flat))
    return out
