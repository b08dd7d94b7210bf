"""TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual
connection and a LayerNorm (after, or with ``norm_first`` before, the residual branch)."""
from __future__ import annotations

import numpy as np

from . import _checks
from .activation import ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .linear import Linear
from .module import Module
from .norm import LayerNorm
from .smooth import GELU


class TransformerEncoderLayer(Module):
    """``x = norm1(x + SA(x)); x = norm2(x + FF(x))`` (norm_first: ``x = x + SA(norm1(x));
    x = x + FF(norm2(x))``) with ``SA = dropout1(MHA(x, x, x))`` and
    ``FF = dropout2(linear2(dropout(act(linear1(x)))))``.

    Args:
        d_model, nhead: embedding size E and number of heads.
        dim_feedforward: width of linear1 (default 2048, torch's).
        dropout: one probability for the attention weights and dropout, dropout1, dropout2.
        activation: 'relu' or 'gelu' (or an npimpl activation module).
        layer_norm_eps: eps of norm1 and norm2 (default 1e-5).
        batch_first: (N, L, E) instead of (L, N, E).
        norm_first: pre-norm (normalise the input of each branch) instead of post-norm.
        bias: biases of every Linear, of the attention projections and of both LayerNorms.
        rng: ``np.random.Generator`` shared by the attention dropout and the three Dropouts
            (each keeps its mask in ``.mask`` for the torch twin).

    Shape:
        src (L, N, E), (N, L, E) with batch_first, or unbatched (L, E) → same shape.
        src_mask (L, S) or (N*nhead, L, S), True = blocked or float added;
        src_key_padding_mask (N, S), True = padding.

    Backward:
        post-norm: g2 = norm2'(g); g1 = norm1'(g2 + FF'(g2)); dx = g1 + Σ SA'(g1) (the three
        gradients of MHA(x, x, x) are summed); pre-norm: g1 = g + norm2'(FF'(g));
        dx = g1 + norm1'(Σ SA'(g1)).

    What torch hides:
        the self-attention is called with need_weights=False, so torch runs its
        scaled_dot_product_attention path (a fully masked row gives 0, not NaN); is_causal
        is a hint that still needs src_mask; the default is post-norm with dropout 0.1 and a
        2048-wide feed-forward whatever d_model is; in eval mode without gradients torch
        replaces all of this by one fused kernel (_transformer_encoder_layer_fwd).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=np.float32, rng=None):
        super().__init__()
        rng = rng if rng is not None else np.random.default_rng()
        self.self_attn = MultiheadAttention(d_model, nhead, dropout=dropout, bias=bias,
                                            batch_first=batch_first, dtype=dtype, rng=rng)
        self.linear1 = Linear(d_model, dim_feedforward, bias=bias, dtype=dtype)
        self.dropout = Dropout(dropout, rng=rng)
        self.linear2 = Linear(dim_feedforward, d_model, bias=bias, dtype=dtype)
        self.norm_first = norm_first
        self.norm1 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.norm2 = LayerNorm(d_model, eps=layer_norm_eps, bias=bias, dtype=dtype)
        self.dropout1 = Dropout(dropout, rng=rng)
        self.dropout2 = Dropout(dropout, rng=rng)
        if isinstance(activation, str):
            if activation not in ("relu", "gelu"):
                raise ValueError(f"TransformerEncoderLayer: activation should be relu/gelu, "
                                 f"not {activation!r}")
            activation = ReLU() if activation == "relu" else GELU()
        if not isinstance(activation, Module):
            raise TypeError(f"TransformerEncoderLayer: activation must be 'relu', 'gelu' or an "
                            f"npimpl Module, got {type(activation).__name__}")
        self.activation = activation

    @property
    def rng(self):
        return self.self_attn.rng

    @rng.setter
    def rng(self, rng):
        for m in (self.self_attn, self.dropout, self.dropout1, self.dropout2):
            m.rng = rng

    def _sa_block(self, x, src_mask, src_key_padding_mask, is_causal):
        y, _ = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                              need_weights=False, is_causal=is_causal)
        return self.dropout1(y)

    def _sa_backward(self, g):
        gq, gk, gv = self.self_attn.backward(self.dropout1.backward(g))
        return gq + gk + gv                               # query, key and value are all x

    def _ff_block(self, x):
        return self.dropout2(self.linear2(self.dropout(self.activation(self.linear1(x)))))

    def _ff_backward(self, g):
        g = self.dropout.backward(self.linear2.backward(self.dropout2.backward(g)))
        return self.linear1.backward(self.activation.backward(g))

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = self._input(src, "src", self.linear1.weight.dtype)
        _checks.ndim(x, (2, 3), "TransformerEncoderLayer", "src")
        _checks.size(x, -1, self.self_attn.embed_dim, "TransformerEncoderLayer", "src")
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), src_mask, src_key_padding_mask, is_causal)
            x = x + self._ff_block(self.norm2(x))
        else:
            x = self.norm1(x + self._sa_block(x, src_mask, src_key_padding_mask, is_causal))
            x = self.norm2(x + self._ff_block(x))
        self._cache = True
        return x

    def backward(self, grad_output):
        self._saved()
        g = self._input(grad_output, "grad_output", self.linear1.weight.dtype)
        if self.norm_first:
            g1 = g + self.norm2.backward(self._ff_backward(g))       # d x1, x1 = x + SA(norm1 x)
            return g1 + self.norm1.backward(self._sa_backward(g1))
        g2 = self.norm2.backward(g)                                # d (x1 + FF(x1))
        g1 = self.norm1.backward(g2 + self._ff_backward(g2))       # d (x + SA(x))
        return g1 + self._sa_backward(g1)

    def extra_repr(self):
        return f"norm_first={self.norm_first}"
