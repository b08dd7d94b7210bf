"""MultiheadAttention: project, split into heads, scaled dot-product attention, merge, project.

The attention core (softmax, masks, dropout, its backward) lives in ``sdpa.py``;
this file follows ``torch.nn.functional.multi_head_attention_forward`` step by step
so that every torch quirk (bias_k/bias_v, the zero-attention slot, the two code paths
for fully masked rows) sits where torch has it.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from einops import rearrange

from . import _checks
from ._pointwise import select
from .linear import Linear
from .module import Module, Parameter
from .sdpa import additive_mask, dropout_mask, sdpa_backward, sdpa_forward
from .random import generator


class MHACache(NamedTuple):
    xq: np.ndarray           # (L, N, E) query, time-major
    xk: np.ndarray           # (S, N, kdim)
    xv: np.ndarray           # (S, N, vdim)
    heads: tuple             # (N, H, L, hd) attention output before the merge
    core: tuple              # the SDPACache
    avg: bool                # weights averaged over heads
    need_weights: bool
    unbatched: bool


class MultiheadAttention(Module):
    r"""``MHA = concat_h[softmax(Q W_q^h (K W_k^h)^T / sqrt(d) + mask) V W_v^h] W_o^T + b_o``.

    Args:
        embed_dim, num_heads: E and H (E divisible by H; head_dim d = E / H).
        dropout: probability of zeroing an attention weight (training).
        bias: in_proj_bias and out_proj.bias.
        add_bias_kv: learned bias_k, bias_v (1, 1, E) appended to the projected keys/values.
        add_zero_attn: a zero key/value appended to every head (after bias_kv).
        kdim, vdim: key/value feature sizes (default E); if either differs from E the
            projections are separate q_proj_weight, k_proj_weight, v_proj_weight.
        batch_first: (N, L, E) instead of (L, N, E).
        rng: ``np.random.Generator`` for the attention dropout; ``self.mask`` keeps the
            scaled (N, H, L, S') mask of the last forward (S' counts bias_kv/zero slots).

    Shape:
        query (L, N, E) / (N, L, E) / unbatched (L, E); key (S, N, kdim); value (S, N, vdim);
        key_padding_mask (N, S) or (S); attn_mask (L, S) or (N*H, L, S) (bool, or float of the
        query's dtype: torch refuses a float32 mask on float64 too);
        output (attn_output like query, weights (N, L, S') averaged or (N, H, L, S') or None).

    Maths:
        Q = x_q W_q^\top + b_q, \quad K = x_k W_k^\top + b_k, \quad V = x_v W_v^\top + b_v \quad (\text{rows of in\_proj\_weight})
        \text{head}_h = \mathrm{softmax}\left(Q_h K_h^\top / \sqrt{d} + M\right) V_h, \qquad y = [\text{head}_1 \dots \text{head}_H]\, W_o^\top + b_o

    Derivation:
        1. The output projection is a Linear: $\bar W_o \mathrel{\text{+=}} \bar y^\top [\text{heads}]$,
           $\bar b_o \mathrel{\text{+=}} \sum \bar y$, $\overline{[\text{heads}]} = \bar y W_o$.
        2. Split that gradient into the $H$ heads; each head runs the attention core's backward
           (ScaledDotProductAttention, ``sdpa_backward()``): $\bar Q_h, \bar K_h, \bar V_h$.
        3. A gradient for the returned weights adds to $\bar P$ (divided by $H$ when averaged).
        4. Merge the heads and undo each input projection as a Linear:
           $$\bar x_q = \bar Q W_q, \quad \bar W_q \mathrel{\text{+=}} \bar Q^\top x_q, \quad \text{likewise } k, v$$

    Backward:
        out_proj as Linear; per head the sdpa backward (dV = W^T dO, dS = P(dW - ΣP dW),
        dQ = dS K/sqrt(d), dK = dS^T Q/sqrt(d)); a gradient for the returned weights adds to
        dW (divided by H when they were averaged); dbias_k = Σ_N dk[S]; then each input
        projection as Linear.  ``backward(g_out, g_weights=None)`` returns
        ``(g_query, g_key, g_value)``, three arrays even when query is key is value (the
        caller adds them: torch's autograd sums them into the one tensor).

    What torch hides:
        q, k, v projections are packed in one in_proj_weight (3E, E) (rows q, k, v) when
        kdim = vdim = E; mask polarity is True = *blocked* (scaled_dot_product_attention's
        boolean mask means the opposite) and a float mask is added; the returned weights are
        averaged over heads unless average_attn_weights=False, and are taken after dropout;
        with need_weights=True a fully masked query row is NaN (plain softmax), with
        need_weights=False torch routes through scaled_dot_product_attention and the row is
        0 (then out_proj.bias); is_causal is only a hint that needs attn_mask, and it replaces
        attn_mask by the causal mask only when need_weights=False and no key_padding_mask
        (scaled_dot_product_attention's own, top-left aligned over every key slot: the
        bias_k and zero-attention keys appended at S, S + 1 are hidden from queries i < S).
        Init: in_proj_weight is xavier_uniform_ over the packed (3E, E) matrix (bound
        sqrt(6 / 4E), not each projection's sqrt(6 / 2E)); out_proj keeps Linear's default
        U(-1/sqrt(E), 1/sqrt(E)); in_proj_bias and out_proj.bias are zero; bias_k/bias_v
        xavier_normal_.
    """

    def __init__(self, embed_dim, num_heads, dropout=0.0, bias=True, add_bias_kv=False,
                 add_zero_attn=False, kdim=None, vdim=None, batch_first=False, device=None,
                 dtype=np.float32, rng=None):
        super().__init__()
        if embed_dim <= 0 or num_heads <= 0:
            raise ValueError(f"MultiheadAttention: embed_dim and num_heads must be greater than "
                             f"0, got embed_dim={embed_dim} and num_heads={num_heads}")
        if embed_dim % num_heads:
            raise ValueError(f"MultiheadAttention: embed_dim ({embed_dim}) must be divisible by "
                             f"num_heads ({num_heads})")
        dt = self._dtype(dtype)
        E = self.embed_dim = embed_dim
        self.kdim = kdim if kdim is not None else E
        self.vdim = vdim if vdim is not None else E
        self._qkv_same_embed_dim = self.kdim == E and self.vdim == E
        self.num_heads, self.dropout, self.batch_first = num_heads, float(dropout), batch_first
        self.head_dim = E // num_heads
        self.add_zero_attn = add_zero_attn
        self.rng = generator(rng)
        self.mask = None
        if self._qkv_same_embed_dim:
            self.in_proj_weight = Parameter(np.empty((3 * E, E), dt))
            self.q_proj_weight = self.k_proj_weight = self.v_proj_weight = None
        else:
            self.in_proj_weight = None
            self.q_proj_weight = Parameter(np.empty((E, E), dt))
            self.k_proj_weight = Parameter(np.empty((E, self.kdim), dt))
            self.v_proj_weight = Parameter(np.empty((E, self.vdim), dt))
        self.in_proj_bias = Parameter(np.zeros(3 * E, dt)) if bias else None
        self.out_proj = Linear(E, E, bias=bias, dtype=dt)
        if add_bias_kv:
            self.bias_k = Parameter(np.empty((1, 1, E), dt))
            self.bias_v = Parameter(np.empty((1, 1, E), dt))
        else:
            self.bias_k = self.bias_v = None
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """xavier_uniform_ in-projections, zero biases, xavier_normal_ bias_k/bias_v (torch)."""
        rng = generator(rng)
        self.out_proj.reset_parameters(rng)
        for w in self._proj_weights():
            fan_out, fan_in = w.shape
            a = math.sqrt(6.0 / (fan_in + fan_out))
            w.data[...] = rng.uniform(-a, a, w.shape)
        if self.in_proj_bias is not None:
            self.in_proj_bias.data[...] = 0
            self.out_proj.bias.data[...] = 0
        for b in (self.bias_k, self.bias_v):
            if b is not None:                   # (1, 1, E): fan_in = fan_out = E
                b.data[...] = rng.normal(0, math.sqrt(2.0 / (2 * self.embed_dim)), b.shape)

    def _proj_weights(self):
        if self._qkv_same_embed_dim:
            return [self.in_proj_weight]
        return [self.q_proj_weight, self.k_proj_weight, self.v_proj_weight]

    def _wb(self, i):
        """Weight and bias of projection i (0 = q, 1 = k, 2 = v) as views."""
        E = self.embed_dim
        w = (self.in_proj_weight.data[i * E:(i + 1) * E] if self._qkv_same_embed_dim
             else self._proj_weights()[i].data)
        b = None if self.in_proj_bias is None else self.in_proj_bias.data[i * E:(i + 1) * E]
        return w, b

    # -- input checks -------------------------------------------------------------------------
    def _inputs(self, query, key, value):
        cls, dt = "MultiheadAttention", self.out_proj.weight.dtype
        q = self._input(query, "query", dt)
        k, v = self._input(key, "key", dt), self._input(value, "value", dt)
        _checks.ndim(q, (2, 3), cls, "query")
        unbatched = q.ndim == 2
        for name, a, f in (("query", q, self.embed_dim), ("key", k, self.kdim),
                           ("value", v, self.vdim)):
            if a.ndim != q.ndim or a.shape[-1] != f:
                raise ValueError(f"{cls}: expected {name} {q.ndim}-D with {f} features, "
                                 f"got shape {a.shape}")
        if unbatched:
            q, k, v = q[:, None], k[:, None], v[:, None]
        elif self.batch_first:
            q, k, v = (a.transpose(1, 0, 2) for a in (q, k, v))
        if k.shape[:2] != v.shape[:2] or k.shape[1] != q.shape[1]:
            raise ValueError(f"{cls}: key {key.shape} and value {value.shape} must share "
                             f"sequence and batch dims with each other (and batch with query "
                             f"{query.shape})")
        return q, k, v, unbatched

    def _masks(self, kpm, attn_mask, L, S, N, unbatched, dt):
        """Both masks as float additions: kpm (N, 1, 1, S), attn (1 | N, 1 | H, L, S)."""
        cls, H = "MultiheadAttention", self.num_heads
        for name, m in (("key_padding_mask", kpm), ("attn_mask", attn_mask)):
            m = _checks.plain(m)
            if isinstance(m, np.ndarray) and m.dtype.kind == "f" and m.dtype != dt:
                raise TypeError(f"{cls}: a float {name} must have the query's dtype {dt} "
                                f"(torch: 'Input dtypes must be the same'), got {m.dtype}")
        if kpm is not None:
            want = (S,) if unbatched else (N, S)
            if not isinstance(kpm, np.ndarray) or kpm.shape != want:
                raise ValueError(f"{cls}: key_padding_mask must be an array of shape {want}, "
                                 f"got {getattr(kpm, 'shape', type(kpm).__name__)}")
            kpm = additive_mask(kpm.reshape(N, 1, 1, S), 1, S, dt, keep_true=False, owner=cls)
        if attn_mask is not None:
            if not isinstance(attn_mask, np.ndarray) or attn_mask.shape not in (
                    (L, S), (N * H, L, S)):
                raise ValueError(f"{cls}: attn_mask must have shape {(L, S)} or "
                                 f"{(N * H, L, S)}, got "
                                 f"{getattr(attn_mask, 'shape', type(attn_mask).__name__)}")
            attn_mask = additive_mask(attn_mask.reshape(-1, H, L, S) if attn_mask.ndim == 3
                                      else attn_mask, L, S, dt, keep_true=False, owner=cls)
        return kpm, attn_mask

    # -- forward / backward -------------------------------------------------------------------
    def forward(self, query, key, value, key_padding_mask=None, need_weights=True,
                attn_mask=None, average_attn_weights=True, is_causal=False):
        xq, xk, xv, unbatched = self._inputs(query, key, value)
        L, N, E = xq.shape
        S, H, dt = xk.shape[0], self.num_heads, xq.dtype
        kpm, am = self._masks(key_padding_mask, attn_mask, L, S, N, unbatched, dt)
        if is_causal and attn_mask is None:
            raise ValueError("MultiheadAttention: is_causal=True needs attn_mask (torch treats "
                             "is_causal as a hint about attn_mask), got attn_mask=None")
        # the hint replaces attn_mask by scaled_dot_product_attention's own causal mask, built
        # below over every key slot: the bias_k / zero-attention slots are keys S, S + 1
        causal = is_causal and kpm is None and not need_weights
        # 1. input projections (time-major)
        q, k, v = (x @ w.T + (0 if b is None else b)
                   for x, (w, b) in zip((xq, xk, xv), map(self._wb, range(3))))
        extra = []                                        # mask columns to pad with 0
        # 2. bias_k / bias_v: one more key/value slot, shared across the batch
        if self.bias_k is not None:
            k = np.concatenate([k, np.broadcast_to(self.bias_k.data, (1, N, E))])
            v = np.concatenate([v, np.broadcast_to(self.bias_v.data, (1, N, E))])
            extra.append(0)
        # 3. split heads: (T, N, E) -> (N, H, T, d)
        q, k, v = (rearrange(a, "t n (h d) -> n h t d", h=H) for a in (q, k, v))
        if self.add_zero_attn:                            # a zero key/value per head
            z = np.zeros((N, H, 1, self.head_dim), dt)
            k, v = np.concatenate([k, z], 2), np.concatenate([v, z], 2)
            extra.append(0)
        S2 = k.shape[2]
        if causal:                                        # top-left: row i sees keys j <= i
            am = select(np.tril(np.ones((L, S2), bool)), 0.0, -np.inf, dt)
        bias = None
        for m in (am, kpm):
            if m is not None:
                pad = [(0, 0)] * 3 + [(0, S2 - m.shape[-1])]
                m = np.pad(m.reshape((1,) * (4 - m.ndim) + m.shape), pad)
                bias = m if bias is None else bias + m
        # 4. attention; torch's weights path uses plain softmax, its sdpa path _safe_softmax
        self.mask = None
        if self.training and self.dropout > 0:
            self.mask = dropout_mask(self.rng, (N, H, L, S2), self.dropout, dt)
        heads, w, core = sdpa_forward(q, k, v, bias, 1.0 / math.sqrt(self.head_dim),
                                      safe=not need_weights, drop=self.mask)
        # 5. merge heads and project out
        merged = rearrange(heads, "n h l d -> l n (h d)")
        out = self.out_proj(merged)                       # (L, N, E)
        self._cache = MHACache(xq, xk, xv, heads, core, average_attn_weights, need_weights,
                               unbatched)
        if unbatched:
            out = out[:, 0]
        elif self.batch_first:
            out = out.transpose(1, 0, 2)
        if not need_weights:
            return out, None
        w = w.mean(axis=1) if average_attn_weights else w  # (N, L, S2) or (N, H, L, S2)
        return out, (w[0] if unbatched else w)

    def backward(self, grad_output, grad_weights=None):
        c = self._saved()
        L, N, E = c.xq.shape
        H, dt = self.num_heads, c.xq.dtype
        want = (L, E) if c.unbatched else ((N, L, E) if self.batch_first else (L, N, E))
        g = self._upstream(grad_output, want, dt)
        g = g[:, None] if c.unbatched else (g.transpose(1, 0, 2) if self.batch_first else g)
        # 5. out_proj and the head merge
        d_heads = rearrange(self.out_proj.backward(g), "l n (h d) -> n h l d", h=H)
        # 4. attention (plus a gradient on the returned weights)
        dw = None
        if grad_weights is not None and c.need_weights:
            S2 = c.core.p.shape[-1]
            gw = self._input(grad_weights, "grad_weights", dt)
            wshape = (N, L, S2) if c.avg else (N, H, L, S2)
            gw = gw[None] if c.unbatched else gw
            if gw.shape != wshape:
                want = wshape[1:] if c.unbatched else wshape
                raise ValueError(f"MultiheadAttention: grad_weights must have shape {want}, "
                                 f"got {grad_weights.shape}")
            dw = np.broadcast_to(gw[:, None] / H, (N, H, L, S2)) if c.avg else gw
        dq, dk, dv = sdpa_backward(d_heads, c.core, dw)
        # 3. zero slot and heads
        if self.add_zero_attn:
            dk, dv = dk[:, :, :-1], dv[:, :, :-1]
        dq, dk, dv = (rearrange(a, "n h t d -> t n (h d)") for a in (dq, dk, dv))
        # 2. bias_k / bias_v receive the gradient of their slot, summed over the batch
        if self.bias_k is not None:
            self.bias_k.accumulate(dk[-1].sum(0)[None, None])
            self.bias_v.accumulate(dv[-1].sum(0)[None, None])
            dk, dv = dk[:-1], dv[:-1]
        # 1. input projections
        grads_in, dws, dbs = [], [], []
        for i, (x, d) in enumerate(((c.xq, dq), (c.xk, dk), (c.xv, dv))):
            w, _ = self._wb(i)
            grads_in.append(d @ w)
            dws.append(np.einsum("tne,tnf->ef", d, x))
            dbs.append(d.sum((0, 1)))
        if self._qkv_same_embed_dim:
            self.in_proj_weight.accumulate(np.concatenate(dws))
        else:
            for p, dW in zip(self._proj_weights(), dws):
                p.accumulate(dW)
        if self.in_proj_bias is not None:
            self.in_proj_bias.accumulate(np.concatenate(dbs))
        if c.unbatched:
            return tuple(a[:, 0] for a in grads_in)
        if self.batch_first:
            return tuple(a.transpose(1, 0, 2) for a in grads_in)
        return tuple(grads_in)

    def extra_repr(self):
        return f"embed_dim={self.embed_dim}, num_heads={self.num_heads}"
