"""Element-wise activations in blocks: the output and the local derivative in cache-sized passes.

Why: ``Pointwise`` evaluates ``_f(x)`` in forward and ``_df(x, y)`` (or ``_grad``) in backward,
each a chain of whole-array NumPy operations, every one a pass over the batch in memory, and
the derivative recomputes what the forward had. A class that names one of these functions as
its ``_fast`` attribute runs it instead, one flat block of ``FAST_BLOCK`` elements at a time
with every operation written in place (``out=``), so a block's intermediate values stay in
the core's cache and no full-size temporary is made. Two shapes:

* smooth maps (SiLU, ELU/SELU/CELU, Softplus, Mish, LogSigmoid): ``_fast`` returns ``y`` and
  ``d = f'(x)`` made together (they share the exp), ``d`` is cached and the backward is the
  one product ``g * d``;
* piecewise-linear maps (LeakyReLU, Hardsigmoid, Hardswish, the shrinks, Threshold):
  ``_fast`` returns ``(y, None)`` and ``_fast_grad(m, g, x)`` recomputes the derivative block
  by block in the backward: two to five cheap passes in cache cost less than writing a
  cached ``d`` and reading it back (LeakyReLU's forward+backward: 7.3 ms caching d, 6.3
  recomputing it; the backward then reads g and x and writes dx, as torch's kernel does).

Each function evaluates the class's own ``_f`` and ``_df`` (``_grad``) formulas, or a rewriting
that gives the same bits (each docstring says why it does; tests/test_speed_paths.py checks
every class against its textbook to the bit), and selects are done on the bits, as
``_pointwise.select`` does them. Only the class that names ``_fast`` itself uses it: a
subclass that overrides ``_f`` or ``_df`` (a mutant of the gallery) runs its own textbook
maths.

Measured (``lockstep bench``'s step, forward+backward on 4096 x 1024 float32, one thread, CPU
time, the textbook or the previous fast path interleaved with this one in one process, at
load average 12 on the 2 cores, so slower than idle on both sides), before -> after (torch):
LeakyReLU 7.9 -> 6.2 ms (3.3), Hardsigmoid 11.7 -> 6.3 (3.8), Hardswish 16.1 -> 6.9 (4.2),
SiLU 11.5 -> 10.7 (4.7), ELU 20.5 -> 15.7 (8.8), CELU 20.2 -> 15.7 (8.5), SELU 20.5 -> 15.6
(8.6), Hardshrink 8.5 -> 6.7 (4.3), Softshrink 9.6 -> 5.3 (3.3), Threshold(0.1, 20) 10.6 ->
7.0 (3.5). SiLU is bound by its nine passes (exp and a division among them) for the same
bits as the textbook's ``x s`` and ``s (1 + x (1 - s))``.
"""
from __future__ import annotations

import numpy as np

from ._pointwise import _UINT, blockwise, select, sigmoid, tanh_softplus


#: elements per block of the passes below: 1 MiB of float32, the L2 cache of one core (measured
#: on LeakyReLU's forward+backward, 4096 x 1024 float32, the derivative recomputed: 7.3 ms in
#: blocks of 64K elements, 6.3 in 256K, 6.4 in 1M)
FAST_BLOCK = 1 << 18


def _in_blocks(inputs, body, outputs: int = 1, scratch: int = 0):
    """``outputs`` new arrays of the inputs' shape and dtype, written by ``body(*ins, *outs,
    *tmps)`` one flat block at a time: ``ins`` the inputs' blocks (arrays of one shape and
    dtype, flattened in C order), ``outs`` the outputs' blocks and ``tmps`` as many scratch
    blocks, all written in place (``out=``), so a block's intermediate values stay in cache and
    nothing is gathered afterwards (``_pointwise.blockwise`` copies what a block returns: one
    more pass per output). One array when ``outputs`` is 1, else a tuple."""
    flat = [np.ascontiguousarray(a).reshape(-1) for a in inputs]
    x = inputs[0]
    outs = tuple(np.empty(x.shape, x.dtype) for _ in range(outputs))
    flat_outs = [o.reshape(-1) for o in outs]
    size = flat[0].size
    tmps = [np.empty(min(FAST_BLOCK, size), x.dtype) for _ in range(scratch)]
    for k in range(0, size, FAST_BLOCK):
        n = min(FAST_BLOCK, size - k)
        body(*(f[k:k + n] for f in flat), *(o[k:k + n] for o in flat_outs),
             *(t[:n] for t in tmps))
    return outs[0] if outputs == 1 else outs


# --- piecewise-linear maps: y in forward, f'(x) recomputed in the backward's blocks ------------
# Their derivative is two or three cheap passes, cheaper to redo block by block in the backward
# than to write as a cached array in forward and read back (the backward then reads g and x and
# writes dx, as torch's kernel does). ``_fast`` returns (y, None) and ``_fast_grad`` gives dx.

def leaky_relu(m, x):
    """LeakyReLU's ``_f`` for a slope ``a`` in [0, 1] (the textbook's y and f'(x) otherwise):
    ``y = x clip([x > 0], a, 1)``, which is ``max(x, a x)`` (x where x > 0; ``a x`` elsewhere,
    NaN too)."""
    a = m.negative_slope
    if not 0 <= a <= 1:
        y = np.asarray(m._f(x), dtype=x.dtype)
        return y, m._df(x, y)

    def body(v, y):
        np.greater(v, 0, out=y)
        np.clip(y, a, 1, out=y)
        y *= v
    return _in_blocks((x,), body), None


def leaky_relu_grad(m, g, x):
    """``g * select(x > 0, 1, a)`` (LeakyReLU's ``_grad``): ``clip([x > 0], a, 1)`` is that
    select, 1 where x > 0 and a elsewhere (for a in [0, 1])."""
    a = m.negative_slope

    def body(gv, v, dx):
        np.greater(v, 0, out=dx)
        np.clip(dx, a, 1, out=dx)
        dx *= gv
    return _in_blocks((g, x), body)


def hardsigmoid(m, x):
    """Hardsigmoid's ``_f``, ``clip(x + 3, 0, 6) / 6``, in blocks."""
    def body(v, y):
        np.add(v, 3, out=y)
        np.clip(y, 0, 6, out=y)
        y /= 6
    return _in_blocks((x,), body), None


def hardsigmoid_grad(m, g, x):
    """``g * select(-3 < x < 3, slope, 0)``: ``|x| < 3`` is that open band (NaN outside it),
    and the band (1 or 0) times the slope is the select."""
    slope = m._SLOPE

    def body(gv, v, dx):
        np.abs(v, out=dx)
        np.less(dx, 3, out=dx)
        dx *= slope
        dx *= gv
    return _in_blocks((g, x), body)


def hardswish(m, x):
    """Hardswish's ``_f``, ``x clip(x + 3, 0, 6) / 6``, in blocks."""
    def body(v, y):
        np.add(v, 3, out=y)
        np.clip(y, 0, 6, out=y)
        y *= v
        y /= 6
    return _in_blocks((x,), body), None


def hardswish_grad(m, g, x):
    """``g * f'(x)`` with Hardswish's ``_df`` made without a select.

    ``q = clip(x, -3, 3) / 3`` is ``x / 3`` inside the band and exactly -1 (1) at and beyond
    -3 (3), while ``|q| < 1`` inside (the largest float below 3, divided by 3, stays below 1),
    so ``trunc(q)`` is -1, 0 or 1. ``q + 0.5`` is the middle formula inside and -1/2 (3/2) at
    the ends; adding ``-trunc(q) / 2`` makes those 0 and 1 exactly and adds a zero inside (which
    leaves every value, +0 included, unchanged). NaN stays NaN (the middle formula, as the
    textbook's selects give). 7 passes in cache; the correction by two comparisons took 9
    (5.5 -> 3.9 ms on 4096 x 1024 float32, standard normal or 4x wider, the same bits)."""
    def body(gv, v, dx, t):
        np.clip(v, -3, 3, out=dx)
        dx /= 3
        np.trunc(dx, out=t)
        dx += 0.5
        t *= -0.5
        dx += t
        dx *= gv
    return _in_blocks((g, x), body, scratch=1)


# --- shrinks and Threshold: the selects on the bits (``_pointwise.select``), in blocks --------
# In a block, a comparison written into an unsigned integer block is 0/1; subtracting 1 or
# negating makes it all ones or all zeros, and one ``&`` picks the value or +0.0: the bits
# ``select`` gives, with the mask made once per block and no full-size temporaries.

def hardshrink(m, x):
    """Hardshrink's ``_f``, ``select(|x| <= lambd, 0, x)``: ``x & ~band``; NaN is outside the
    band and stays NaN."""
    u = _UINT[x.dtype.itemsize]

    def body(v, y, t):
        tu = t.view(u)
        np.abs(v, out=y)
        np.less_equal(y, m.lambd, out=tu)
        tu -= 1                                 # all ones outside the band, 0 inside
        np.bitwise_and(v.view(u), tu, out=y.view(u))
    return _in_blocks((x,), body, scratch=1), None


def softshrink(m, x):
    """Softshrink's ``_f``, ``x - clip(x, -lambd, lambd)``, in blocks."""
    def body(v, y):
        np.clip(v, -m.lambd, m.lambd, out=y)
        np.subtract(v, y, out=y)
    return _in_blocks((x,), body), None


def shrink_grad(m, g, x):
    """The shrinks' ``_grad``, ``select(|x| > lambd, g, 0)``: ``g & [|x| > lambd]``."""
    u = _UINT[x.dtype.itemsize]

    def body(gv, v, dx, t):
        du = dx.view(u)
        np.abs(v, out=t)
        np.greater(t, m.lambd, out=du)
        np.negative(du, out=du)                 # all ones where |x| > lambd
        du &= gv.view(u)
    return _in_blocks((g, x), body, scratch=1)


def threshold(m, x):
    """Threshold's ``_f``, ``select(x <= threshold, value, x)``: ``x ^ ((value ^ x) & mask)``."""
    u = _UINT[x.dtype.itemsize]
    value = np.asarray(m.value, x.dtype).view(u)

    def body(v, y, t):
        tu, yu, vu = t.view(u), y.view(u), v.view(u)
        np.less_equal(v, m.threshold, out=tu)
        np.negative(tu, out=tu)                 # all ones where x <= threshold
        np.bitwise_xor(vu, value, out=yu)
        yu &= tu
        yu ^= vu
    return _in_blocks((x,), body, scratch=1), None


def threshold_grad(m, g, x):
    """Threshold's ``_grad``, ``select(x <= threshold, 0, g)``: ``g & ~[x <= threshold]`` (NaN
    passes g, as torch's ``threshold_backward``)."""
    u = _UINT[x.dtype.itemsize]

    def body(gv, v, dx):
        du = dx.view(u)
        np.less_equal(v, m.threshold, out=du)
        du -= 1                                 # all ones where not x <= threshold
        du &= gv.view(u)
    return _in_blocks((g, x), body)


# --- smooth maps: y and f'(x) made together, f'(x) cached (its exp is dear to redo) ---------

def silu(m, x):
    """``y = x s``, ``d = s (1 + x (1 - s))``, ``s = sigmoid(x)`` (SiLU's _f, _df), in place."""
    def body(v, y, d, s):
        np.negative(v, out=s)                       # _pointwise.sigmoid's steps
        np.exp(s, out=s)
        s += 1
        np.reciprocal(s, out=s)
        np.multiply(v, s, out=y)
        np.subtract(1, s, out=d)
        d *= v
        d += 1
        d *= s
    with np.errstate(over="ignore"):
        return _in_blocks((x,), body, outputs=2, scratch=1)


def elu(m, x):
    """ELU, SELU and CELU's ``_f`` and ``_df``, sharing ``min(x, 0)``, the two selects on the
    bits in place (``_pointwise.select``'s ``b ^ ((a ^ b) & mask)``)."""
    u = _UINT[x.dtype.itemsize]
    coef, s = m.alpha * m._scale, m._input_scale_bwd
    scale = np.asarray(m._scale, x.dtype).view(u)

    def body(v, y, d, neg, t):
        yu, du, tu, nu = y.view(u), d.view(u), t.view(u), neg.view(u)
        np.minimum(v, 0, out=neg)
        np.multiply(neg, m._input_scale, out=y)
        np.expm1(y, out=y)
        y *= coef                               # the negative branch of _f
        np.multiply(neg, s, out=d)
        np.exp(d, out=d)
        d *= s * coef                           # the negative branch of _df
        np.less(v, 0, out=nu)                   # torch: elu(+-0) = +-0 (the positive
        np.negative(nu, out=nu)                 # branch), for any alpha: ones where x < 0
        np.multiply(v, m._scale, out=t)         # the positive branch of _f
        yu ^= tu
        yu &= nu
        yu ^= tu                                # y: the negative branch where x < 0
        np.greater(v, 0, out=nu)
        np.negative(nu, out=nu)                 # all ones where x > 0
        np.bitwise_xor(du, scale, out=tu)
        tu &= nu
        du ^= tu                                # d: scale where x > 0
    with np.errstate(over="ignore", invalid="ignore"):
        return _in_blocks((x,), body, outputs=2, scratch=2)


def softplus(m, x):
    """Softplus's ``_f`` and ``_df``, sharing ``exp(beta x)``."""
    def block(v):
        xb = v * m.beta
        z = np.exp(xb)
        above = xb > m.threshold
        return select(above, v, np.log1p(z) / m.beta), select(above, 1, z / (z + 1))
    with np.errstate(over="ignore", invalid="ignore"):
        return blockwise(block, x, 2)


def mish(m, x):
    """Mish's ``_f`` and ``_df``, sharing ``tanh(softplus(x))``."""
    def block(v):
        t = tanh_softplus(v)
        return v * t, t + v * sigmoid(v) * (1 - t * t)
    return blockwise(block, x, 2)


def logsigmoid(m, x):
    """LogSigmoid's ``_f`` and ``_grad``, sharing ``z = exp(-|x|)`` (torch's saved buffer)."""
    def block(v):
        z = np.exp(-np.abs(v))
        neg = v < 0
        d = neg.astype(v.dtype) - select(neg, 1, -1, v.dtype) * (z / (1 + z))
        return np.minimum(v, 0) - np.log1p(z), d
    return blockwise(block, x, 2)
