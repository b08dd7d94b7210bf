"""TransformerDecoderLayer: masked self-attention over the target, cross-attention to the
encoder's output (the memory), and a feed-forward block; each with a residual connection and
a LayerNorm (after, or with ``norm_first`` before, the residual branch)."""
from __future__ import annotations

import numpy as np

from . import _checks
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .norm import LayerNorm
from .transformer import activation_module
from .random import generator


class TransformerDecoderLayer(Module):
    """``x = norm1(x + SA(x)); x = norm2(x + CA(x, m)); x = norm3(x + FF(x))`` (norm_first:
    ``x = x + SA(norm1 x); x = x + CA(norm2 x, m); x = x + FF(norm3 x)``) with
    ``SA = dropout1(MHA(x, x, x))``, ``CA = dropout2(MHA(x, m, m))``,
    ``FF = dropout3(linear2(dropout(act(linear1(x)))))``.

    Args:
        d_model, nhead: embedding size E and number of heads (of both attentions).
        dim_feedforward: width of linear1 (default 2048, torch's).
        dropout: one probability for both attentions' weights and dropout, dropout1..3.
        activation: 'relu', 'gelu', an npimpl Module, ``(fn, grad)`` or a callable (as
            TransformerEncoderLayer).
        layer_norm_eps: eps of norm1, norm2, norm3 (default 1e-5).
        batch_first: (N, T, E) instead of (T, N, E), for tgt, memory and the output.
        norm_first: pre-norm instead of post-norm.
        bias: biases of every Linear, of both attentions' projections and of the LayerNorms.
        rng: ``np.random.Generator`` shared by both attention dropouts and the four Dropouts.

    Shape:
        tgt (T, N, E) / (N, T, E) / unbatched (T, E); memory (S, N, E) in the same layout;
        tgt_mask (T, T) or (N*nhead, T, T); memory_mask (T, S) or (N*nhead, T, S);
        tgt_key_padding_mask (N, T); memory_key_padding_mask (N, S) (True = padding, or
        float added); output like tgt.

    Backward:
        post-norm: g3 = norm3'(g); g2 = norm2'(g3 + FF'(g3)); (gq, gk, gv) = CA'(g2);
        g1 = norm1'(g2 + gq); d tgt = g1 + Σ SA'(g1); d memory = gk + gv.
        pre-norm: g2 = g + norm3'(FF'(g)); g1 = g2 + norm2'(gq) with (gq, gk, gv) = CA'(g2);
        d tgt = g1 + norm1'(Σ SA'(g1)); d memory = gk + gv.
        ``backward(g)`` returns ``(grad_tgt, grad_memory)``.

    What torch hides:
        both attentions run with need_weights=False (the scaled_dot_product_attention path:
        a fully masked row gives 0, not NaN); tgt_is_causal / memory_is_causal are hints that
        still need the mask, and replace it by the causal mask only when there is no key
        padding mask; the memory feeds the keys and values of every decoder layer, so its
        gradient is the sum over layers of both; the decoder layer has no fused fast path
        (the encoder layer has one).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=np.float32, rng=None):
        super().__init__()
        rng = generator(rng)
        kw = dict(dropout=dropout, batch_first=batch_first, bias=bias, dtype=dtype, rng=rng)
        self.self_attn = MultiheadAttention(d_model, nhead, **kw)
        self.multihead_attn = MultiheadAttention(d_model, nhead, **kw)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm3 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        self.dropout3 = Dropout(dropout, rng=rng)
        self.activation, _ = activation_module(activation, "TransformerDecoderLayer")

    @property
    def rng(self):
        return self.self_attn.rng

    @rng.setter
    def rng(self, rng):
        for m in (self.self_attn, self.multihead_attn, self.dropout, self.dropout1,
                  self.dropout2, self.dropout3):
            m.rng = rng

    # -- the three blocks and their backward ---------------------------------------------------
    def _sa_block(self, x, attn_mask, key_padding_mask, is_causal):
        y, _ = self.self_attn(x, x, x, attn_mask=attn_mask, key_padding_mask=key_padding_mask,
                              is_causal=is_causal, need_weights=False)
        return self.dropout1(y)

    def _sa_backward(self, g):
        gq, gk, gv = self.self_attn.backward(self.dropout1.backward(g))
        return gq + gk + gv                               # query, key and value are all x

    def _mha_block(self, x, mem, attn_mask, key_padding_mask, is_causal):
        y, _ = self.multihead_attn(x, mem, mem, attn_mask=attn_mask,
                                   key_padding_mask=key_padding_mask, is_causal=is_causal,
                                   need_weights=False)
        return self.dropout2(y)

    def _mha_backward(self, g):
        """``(d x, d memory)``: the memory is both the key and the value."""
        gq, gk, gv = self.multihead_attn.backward(self.dropout2.backward(g))
        return gq, gk + gv

    def _ff_block(self, x):
        return self.dropout3(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _ff_backward(self, g):
        g = self.dropout.backward(self.linear2.backward(self.dropout3.backward(g)))
        return self.linear1.backward(self.activation.backward(g))

    # -- forward / backward --------------------------------------------------------------------
    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=False, memory_is_causal=False):
        cls, dt = "TransformerDecoderLayer", self.linear1.weight.dtype
        x = self._input(tgt, "tgt", dt)
        m = self._input(memory, "memory", dt)
        _checks.ndim(x, (2, 3), cls, "tgt")
        _checks.size(x, -1, self.self_attn.embed_dim, cls, "tgt")
        _checks.ndim(m, (x.ndim,), cls, "memory")
        _checks.size(m, -1, self.self_attn.embed_dim, cls, "memory")
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), tgt_mask, tgt_key_padding_mask, tgt_is_causal)
            x = x + self._mha_block(self.norm2(x), m, memory_mask, memory_key_padding_mask,
                                    memory_is_causal)
            x = x + self._ff_block(self.norm3(x))
        else:
            x = self.norm1(x + self._sa_block(x, tgt_mask, tgt_key_padding_mask, tgt_is_causal))
            x = self.norm2(x + self._mha_block(x, m, memory_mask, memory_key_padding_mask,
                                               memory_is_causal))
            x = self.norm3(x + self._ff_block(x))
        self._cache = x.shape                                      # all backward checks
        return x

    def backward(self, grad_output):
        shape = self._saved()
        g = self._input(grad_output, "grad_output", self.linear1.weight.dtype)
        if g.shape != shape:
            raise ValueError(f"TransformerDecoderLayer: grad_output must have the output's "
                             f"shape {shape}, got {g.shape}")
        if self.norm_first:
            g2 = g + self.norm3.backward(self._ff_backward(g))       # d x2, x2 = x1 + CA(...)
            gq, g_mem = self._mha_backward(g2)
            g1 = g2 + self.norm2.backward(gq)                        # d x1, x1 = x + SA(...)
            return g1 + self.norm1.backward(self._sa_backward(g1)), g_mem
        g3 = self.norm3.backward(g)                                # d (x2 + FF(x2))
        g2 = self.norm2.backward(g3 + self._ff_backward(g3))       # d (x1 + CA(x1, m))
        gq, g_mem = self._mha_backward(g2)
        g1 = self.norm1.backward(g2 + gq)                          # d (x + SA(x))
        return g1 + self._sa_backward(g1), g_mem

    def extra_repr(self):
        return f"norm_first={self.norm_first}"
