"""Scaled dot-product attention as pure functions, and a small module around them.

``sdpa_forward(...) -> (out, cache)`` and ``sdpa_backward(dout, cache) -> (dq, dk, dv)``
hold the maths; :func:`scaled_dot_product_attention` has torch's signature and
returns only the output. ``MultiheadAttention`` (``attention.py``) reuses both.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from einops import reduce, repeat

from . import _checks
from ._broadcast import broadcast_shape, sum_to
from ._pointwise import bernoulli_keep, select
from .module import Module
from .random import generator


def masked_softmax(s: np.ndarray, safe: bool) -> np.ndarray:
    """Softmax over the last axis. A row that is -inf everywhere gives NaN (``safe=False``,
    plain softmax, what torch's MultiheadAttention weights path does) or zeros (``safe=True``,
    torch's ``_safe_softmax`` inside scaled_dot_product_attention)."""
    m = s.max(axis=-1, keepdims=True, initial=-np.inf)   # no keys at all: a dead row
    dead = np.isneginf(m)
    if safe:
        m = np.where(dead, 0, m)
    with np.errstate(invalid="ignore"):
        e = np.exp(s - m)
        p = e / e.sum(axis=-1, keepdims=True)
    return np.where(dead, 0, p) if safe else p


def additive_mask(mask, L: int, S: int, dtype, *, keep_true: bool, owner: str):
    """A bool or float mask → float to add to the scores (bool: -inf where blocked).

    ``keep_true``: scaled_dot_product_attention's polarity (True = may attend);
    MultiheadAttention's is the opposite (True = blocked).
    """
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{owner}: mask must be a numpy.ndarray, got {type(mask).__name__}")
    if mask.ndim < 2 or mask.shape[-2:] not in ((L, S), (1, S), (L, 1), (1, 1)):
        raise ValueError(f"{owner}: mask must broadcast to (..., {L}, {S}), got {mask.shape}")
    if mask.dtype == np.bool_:
        blocked = ~mask if keep_true else mask
        return select(blocked, -np.inf, 0.0, dtype)                 # no float64 temporary
    if mask.dtype.kind != "f":
        raise TypeError(f"{owner}: mask must be bool or float, got {mask.dtype}")
    return mask.astype(dtype, copy=False)


def dropout_mask(rng, shape, p: float, dtype) -> np.ndarray:
    """Scaled Bernoulli mask ``m / (1 - p)`` (all zeros for p = 1), as npimpl.Dropout."""
    if p >= 1:
        return np.zeros(shape, dtype)
    keep = bernoulli_keep(rng, shape, p, dtype)
    return keep.astype(dtype) * np.dtype(dtype).type(1.0 / (1.0 - p))


class SDPACache(NamedTuple):
    q: np.ndarray            # (..., L, E)
    k: np.ndarray            # (..., S, E) after the GQA repeat
    v: np.ndarray            # (..., S, Ev) after the GQA repeat
    p: np.ndarray            # (..., L, S) softmax weights, before dropout
    drop: np.ndarray | None  # (..., L, S) scaled dropout mask
    scale: float
    groups: int              # GQA repeat factor (1 without it)
    out: np.ndarray          # (..., L, Ev) the output
    flash: bool              # backward as torch's flash kernel: Σ_j p dp = rowsum(dout * out)


def sdpa_forward(q, k, v, bias=None, scale=None, *, safe=True, drop=None, groups=1):
    """``out = (softmax(q k^T * scale + bias) * drop) v``; returns ``(out, weights, cache)``
    where weights are the probabilities after dropout (what MultiheadAttention returns)."""
    if groups > 1:                                        # each kv head serves `groups` q heads
        k = repeat(k, "... h s e -> ... (h g) s e", g=groups)
        v = repeat(v, "... h s e -> ... (h g) s e", g=groups)
    scale = 1.0 / math.sqrt(q.shape[-1]) if scale is None else scale
    s = (q @ np.swapaxes(k, -1, -2)) * scale             # (..., L, S)
    if bias is not None:
        s = s + bias
    p = masked_softmax(s, safe)
    w = p if drop is None else p * drop
    out = w @ v                                           # (..., L, Ev)
    # torch on CPU takes its flash kernel for 4-D inputs with equal batch and head dims and
    # no dropout; inputs that broadcast against each other go to the math kernel
    flash = (safe and drop is None and q.ndim == k.ndim == v.ndim == 4
             and q.shape[:2] == k.shape[:2] == v.shape[:2] and v.shape[-1] == q.shape[-1])
    return out, w, SDPACache(q, k, v, p, drop, scale, groups, out, flash)


def sdpa_backward(dout, cache: SDPACache, dweights=None):
    """``dv = w^T dout``; ``dw = dout v^T (+ dweights)``; ``dp = dw * drop``;
    ``ds = p (dp - Σ p dp)``; ``dq = ds k * scale``; ``dk = ds^T q * scale``.

    ``Σ_j p_j dp_j`` equals ``<dout, out>`` row by row; torch's CPU flash kernel uses the
    latter, its math kernel and softmax_backward the former. The two differ only by rounding,
    but when a softmax row saturates (one weight rounds to 1) dq and dk are pure cancellation
    and rounding is all there is, so each path follows the kernel torch would run."""
    q, k, v, p, drop, scale, groups, out, flash = cache
    w = p if drop is None else p * drop
    dv = np.swapaxes(w, -1, -2) @ dout                    # (..., S, Ev)
    dw = dout @ np.swapaxes(v, -1, -2)                    # (..., L, S)
    if dweights is not None:
        dw = dw + dweights
    dp = dw if drop is None else dw * drop
    # softmax backward p (dp - sum_j p_j dp_j), in dp's own (fresh) array: the (..., L, S)
    # temporaries are what attention's memory is made of (34 -> 26 MB at 16x8x128x128)
    if flash and dweights is None:                        # Σ_j p_j dp_j = <dout, out>, as
        dp -= (dout * out).sum(-1, keepdims=True)         # torch's flash backward has it
    else:
        dp -= np.einsum("...j,...j->...", dp, p)[..., None]
    dp *= p
    ds = dp
    dq = (ds @ k) * scale
    dk = (np.swapaxes(ds, -1, -2) @ q) * scale
    # a batch dim an input was broadcast along gets the sum of its copies' gradients
    dq, dk, dv = sum_to(dq, q.shape), sum_to(dk, k.shape), sum_to(dv, v.shape)
    if groups > 1:                                        # sum the repeated heads back
        dk = reduce(dk, "... (h g) s e -> ... h s e", "sum", g=groups)
        dv = reduce(dv, "... (h g) s e -> ... h s e", "sum", g=groups)
    return dq, dk, dv


def _prepare(query, key, value, attn_mask, is_causal, enable_gqa,
             owner="scaled_dot_product_attention"):
    """Check shapes; return the additive mask (or None) and the GQA repeat factor."""
    for name, a in (("query", query), ("key", key), ("value", value)):
        _checks.array(a, owner, name, query.dtype if name != "query" else None)
        if a.ndim < 2:
            raise ValueError(f"{owner}: {name} must be at least 2-D (..., seq, features), "
                             f"got shape {a.shape}")
    L, E = query.shape[-2:]
    S = key.shape[-2]
    if key.shape[-1] != E or value.shape[-2] != S:
        raise ValueError(f"{owner}: expected key (..., S, {E}) and value (..., S, Ev) with "
                         f"equal S, got key {key.shape}, value {value.shape}")
    groups = 1
    if enable_gqa and query.ndim >= 3 and key.shape[-3] != query.shape[-3]:
        hq, hk = query.shape[-3], key.shape[-3]
        if hq % hk or value.shape[-3] != hk:
            raise ValueError(f"{owner}: with enable_gqa the query heads ({hq}) must be a "
                             f"multiple of the key/value heads, got key {key.shape}, "
                             f"value {value.shape}")
        groups = hq // hk
    def repeated(a):                                      # the shape after the GQA repeat
        return a.shape[:-3] + (a.shape[-3] * groups,) + a.shape[-2:] if groups > 1 else a.shape
    # the batch dims broadcast, as torch's matmuls do: (H, L, E) with (N, H, S, E) is fine
    shapes = [query.shape[:-2], repeated(key)[:-2], repeated(value)[:-2]]
    if isinstance(attn_mask, np.ndarray) and attn_mask.ndim > 2:
        shapes.append(attn_mask.shape[:-2])
    try:
        batch = broadcast_shape(owner, *shapes)
    except ValueError:
        raise ValueError(f"{owner}: the batch dims of query, key and value (and attn_mask) "
                         f"must broadcast, got {query.shape}, {key.shape}, {value.shape}"
                         + (f", mask {attn_mask.shape}" if len(shapes) > 3 else "")) from None
    if is_causal and attn_mask is not None:
        raise ValueError(f"{owner}: explicit attn_mask should not be set when is_causal=True")
    if is_causal:
        attn_mask = np.tril(np.ones((L, S), dtype=bool))  # top-left aligned, as torch
    bias = additive_mask(attn_mask, L, S, query.dtype, keep_true=True, owner=owner)
    return bias, groups, batch


def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0,
                                 is_causal=False, scale=None, enable_gqa=False, rng=None):
    """``softmax(Q K^T / sqrt(E) + mask) V`` (see :class:`ScaledDotProductAttention`);
    returns only the output. Use :func:`sdpa_forward` / :func:`sdpa_backward` for gradients."""
    bias, groups, batch = _prepare(query, key, value, attn_mask, is_causal, enable_gqa)
    drop = None
    if dropout_p > 0:
        rng = generator(rng)
        drop = dropout_mask(rng, (*batch, query.shape[-2], key.shape[-2]), dropout_p,
                            query.dtype)
    out, _, _ = sdpa_forward(query, key, value, bias, scale, safe=True, drop=drop, groups=groups)
    return out


class ScaledDotProductAttention(Module):
    r"""``out = softmax(Q K^T * scale + mask) V``, scale = 1/sqrt(E) unless given.

    Args:
        dropout_p: probability of zeroing an attention weight (applied whenever > 0, as the
            torch function; the module applies it only in training).
        is_causal: use the lower-triangular (top-left aligned) mask; no attn_mask then.
        scale: the score scale (default 1/sqrt(E)).
        enable_gqa: key/value may have fewer heads (dim -3) that each serve a group of
            query heads (torch's repeat_interleave order).
        rng: ``np.random.Generator`` for the dropout mask, kept in ``self.mask``.

    Shape:
        query (..., L, E), key (..., S, E), value (..., S, Ev) → (..., L, Ev), where the
        batch dims ``...`` of the three (and of attn_mask) broadcast against each other,
        as torch's matmuls do (a 3-D query with a 4-D key and value is fine);
        attn_mask broadcastable to (..., L, S).

    Maths:
        S = s\, Q K^\top + M, \quad P = \mathrm{softmax}_{\text{rows}}(S), \quad O = P V, \quad s = 1/\sqrt{E}

    Derivation:
        1. $O = PV$ is a matrix product: $\bar V = P^\top \bar O$ and $\bar P = \bar O V^\top$.
        2. Each row of $P$ is a softmax of the row of $S$ (see Softmax):
           $\bar S = P \odot \left(\bar P - \textstyle\sum_j P \odot \bar P\right)$ per row.
        3. $S = s\,Q K^\top$: $\bar Q = s\,\bar S K$ and $\bar K = s\,\bar S^\top Q$ (the mask is a
           constant) (``sdpa_backward()``):
           $$\bar V = P^\top \bar O, \quad \bar S = P \odot (\bar P - \mathrm{rowsum}(P \odot \bar P)), \quad \bar Q = s \bar S K, \quad \bar K = s \bar S^\top Q$$

    Backward:
        dV = W^T dO;  dW = dO V^T;  dS = P (dW - Σ_j P dW);  dQ = dS K scale;  dK = dS^T Q scale,
        each summed over the batch dims its input was broadcast along.
        ``backward(g)`` returns ``(g_query, g_key, g_value)``.

    What torch hides:
        a *boolean* attn_mask here means True = may attend (MultiheadAttention's means
        True = blocked); a float mask is added to the scores; a query row with every key
        masked returns zeros (torch's _safe_softmax), not NaN; dropout draws from torch's
        RNG inside the fused kernel (so lockstep compares dropout_p = 0 only); on CPU,
        4-D inputs with equal batch and head dims and no dropout go to a flash kernel (online
        softmax, backward with rowsum(dO * O)), anything else (broadcast batch dims included)
        to the math kernel.
    """

    def __init__(self, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False, rng=None,
                 dtype=None):
        super().__init__()
        self.dropout_p, self.is_causal, self.scale = dropout_p, is_causal, scale
        self.enable_gqa = enable_gqa
        self.rng = generator(rng)
        self.dtype = None if dtype is None else self._dtype(dtype)
        self.mask = None

    def forward(self, query, key, value, attn_mask=None):
        q = self._input(query, "query", self.dtype)
        bias, groups, batch = _prepare(q, key, value, attn_mask, self.is_causal,
                                       self.enable_gqa, "ScaledDotProductAttention")
        self.mask = None
        if self.training and self.dropout_p > 0:
            self.mask = dropout_mask(self.rng, (*batch, q.shape[-2], key.shape[-2]),
                                     self.dropout_p, q.dtype)
        out, _, self._cache = sdpa_forward(q, key, value, bias, self.scale, safe=True,
                                           drop=self.mask, groups=groups)
        return out

    def backward(self, grad_output):
        cache = self._saved()
        g = self._input(grad_output, "grad_output", cache.q.dtype)
        if g.shape != cache.out.shape:
            raise ValueError(f"ScaledDotProductAttention: grad_output must have shape "
                             f"{cache.out.shape}, got {g.shape}")
        return sdpa_backward(g, cache)
