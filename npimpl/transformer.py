"""TransformerEncoderLayer: self-attention and a feed-forward block, each with a residual
connection and a LayerNorm (after, or with ``norm_first`` before, the residual branch); and
the activation argument every Transformer layer shares.

``activation`` is 'relu', 'gelu', an npimpl Module (its own backward), a pair
``(fn, grad)`` of NumPy callables with ``grad(x) = fn'(x)`` element-wise (the backward is
``dy * grad(x)``), or a plain callable ``fn`` (forward only: backward then raises, since
nothing says what its derivative is; torch's autograd would differentiate it).
"""
from __future__ import annotations

import numpy as np

from . import _checks
from .activation import ReLU
from .attention import MultiheadAttention
from .dropout import Dropout
from .grad_mode import is_grad_enabled
from .linear import Linear
from .module import Module
from .norm import LayerNorm
from .smooth import GELU
from .random import generator


class Elementwise(Module):
    """``y = fn(x)`` with backward ``dx = dy * grad(x)``: a callable activation made
    differentiable by its derivative (``grad`` None: forward only)."""

    def __init__(self, fn, grad=None, owner="Transformer"):
        super().__init__()
        if not callable(fn) or (grad is not None and not callable(grad)):
            raise TypeError(f"{owner}: activation must be 'relu', 'gelu', an npimpl Module, a "
                            f"callable or a pair (fn, grad) of callables, got {fn!r}, {grad!r}")
        self.fn, self.grad, self.owner = fn, grad, owner

    def forward(self, x):
        y = self.fn(x)
        if not isinstance(y, np.ndarray) or y.shape != x.shape:
            raise ValueError(f"{self.owner}: activation {self.fn!r} must map an array to one of "
                             f"the same shape {x.shape}, got {getattr(y, 'shape', type(y))}")
        self._cache = x
        return y.astype(x.dtype, copy=False)

    def backward(self, grad_output):
        x = self._saved()
        if self.grad is None:
            raise RuntimeError(f"{self.owner}: activation {self.fn!r} is a plain callable, so "
                               "its derivative is unknown; pass activation=(fn, grad) with "
                               "grad(x) = fn'(x), or an npimpl Module")
        return grad_output * self.grad(x)

    def extra_repr(self):
        return getattr(self.fn, "__name__", repr(self.fn))


def activation_module(activation, owner):
    """``(module, relu_or_gelu)``: the activation as an npimpl Module, and torch's
    ``activation_relu_or_gelu`` flag (1 relu, 2 gelu, 0 other), which decides its fast path."""
    if isinstance(activation, str):
        if activation not in ("relu", "gelu"):
            raise ValueError(f"{owner}: activation should be relu/gelu, not {activation!r}")
        activation = ReLU() if activation == "relu" else GELU()
    elif isinstance(activation, tuple):
        if len(activation) != 2:
            raise TypeError(f"{owner}: activation pair must be (fn, grad), got "
                            f"{len(activation)} items")
        activation = Elementwise(*activation, owner=owner)
    elif not isinstance(activation, Module):
        if not callable(activation):
            raise TypeError(f"{owner}: activation must be 'relu', 'gelu', an npimpl Module, a "
                            f"callable or a pair (fn, grad), got {type(activation).__name__}")
        activation = Elementwise(activation, owner=owner)
    # torch: F.relu / nn.ReLU -> 1, F.gelu / any nn.GELU (even approximate='tanh') -> 2
    flag = 1 if isinstance(activation, ReLU) else 2 if isinstance(activation, GELU) else 0
    return activation, flag


class TransformerEncoderLayer(Module):
    """``x = norm1(x + SA(x)); x = norm2(x + FF(x))`` (norm_first: ``x = x + SA(norm1(x));
    x = x + FF(norm2(x))``) with ``SA = dropout1(MHA(x, x, x))`` and
    ``FF = dropout2(linear2(dropout(act(linear1(x)))))``.

    Args:
        d_model, nhead: embedding size E and number of heads.
        dim_feedforward: width of linear1 (default 2048, torch's).
        dropout: one probability for the attention weights and dropout, dropout1, dropout2.
        activation: 'relu', 'gelu', an npimpl Module, ``(fn, grad)`` or a callable (above).
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
        2048-wide feed-forward whatever d_model is; in eval mode without gradients (batched,
        batch_first, biases, relu/gelu, an even number of heads) torch replaces all of this
        by one fused kernel (_transformer_encoder_layer_fwd), and npimpl follows it under
        ``npimpl.no_grad()``: there a fully masked query row is NaN (plain softmax), an
        nn.GELU(approximate='tanh') activation runs as the exact GELU (a 1e-4 difference),
        and is_causal is ignored (only the mask counts). ``why_not_sparsity_fast_path`` says
        after each forward why the kernel did not run ('' when it did).
    """

    def __init__(self, d_model, nhead, dim_feedforward=2048, dropout=0.1, activation="relu",
                 layer_norm_eps=1e-5, batch_first=False, norm_first=False, bias=True,
                 device=None, dtype=np.float32, rng=None):
        super().__init__()
        rng = generator(rng)
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
        self.activation, self.activation_relu_or_gelu = activation_module(
            activation, "TransformerEncoderLayer")

    @property
    def rng(self):
        return self.self_attn.rng

    @rng.setter
    def rng(self, rng):
        for m in (self.self_attn, self.dropout, self.dropout1, self.dropout2):
            m.rng = rng

    def _sa_block(self, x, src_mask, src_key_padding_mask, is_causal, fused=False):
        # fused: the weights path's plain softmax (a fully masked row is NaN), is_causal ignored
        y, _ = self.self_attn(x, x, x, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                              need_weights=fused, is_causal=is_causal and not fused)
        return self.dropout1(y)

    def _sa_backward(self, g):
        gq, gk, gv = self.self_attn.backward(self.dropout1.backward(g))
        return gq + gk + gv                               # query, key and value are all x

    def _ff_block(self, x, activation):
        return self.dropout2(self.linear2(self.dropout(activation(self.linear1(x)))))

    def _ff_backward(self, g):
        g = self.dropout.backward(self.linear2.backward(self.dropout2.backward(g)))
        return self.linear1.backward(self.activation.backward(g))

    def _why_not_fused(self, x):
        """torch's conditions for its fused kernel, in its order ('' = the kernel runs)."""
        a = self.self_attn
        for bad, why in ((x.ndim != 3, f"input not batched; expected src.dim() of 3 but got "
                                       f"{x.ndim}"),
                         (self.training, "training is enabled"),
                         (not a.batch_first, "self_attn.batch_first was not True"),
                         (a.in_proj_bias is None, "self_attn was passed bias=False"),
                         (not a._qkv_same_embed_dim, "self_attn._qkv_same_embed_dim was not True"),
                         (not self.activation_relu_or_gelu, "activation_relu_or_gelu was not True"),
                         (self.norm1.eps != self.norm2.eps, "norm1.eps is not equal to norm2.eps"),
                         (a.num_heads % 2 == 1, "num_head is odd"),
                         (is_grad_enabled(), "grad is enabled (outside npimpl.no_grad())")):
            if bad:
                return why
        return ""

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        x = self._input(src, "src", self.linear1.weight.dtype)
        _checks.ndim(x, (2, 3), "TransformerEncoderLayer", "src")
        _checks.size(x, -1, self.self_attn.embed_dim, "TransformerEncoderLayer", "src")
        self.why_not_sparsity_fast_path = reason = self._why_not_fused(x)
        fused, act = not reason, self.activation
        if fused and self.activation_relu_or_gelu == 2:
            act = GELU()                      # torch's kernel knows one GELU, the exact one
        masks = (src_mask, src_key_padding_mask, is_causal, fused)
        if self.norm_first:
            x = x + self._sa_block(self.norm1(x), *masks)
            x = x + self._ff_block(self.norm2(x), act)
        else:
            x = self.norm1(x + self._sa_block(x, *masks))
            x = self.norm2(x + self._ff_block(x, act))
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
