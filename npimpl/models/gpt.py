"""A character-level GPT in the layout of nanoGPT's ``model.py``, with a hand-written backward.

``idx (B, T) -> token + position embeddings -> n_layer pre-norm blocks -> LayerNorm
-> lm_head (tied to the token embedding) -> logits (B, T, vocab_size)``.

The parameter names are nanoGPT's (``transformer.h.0.attn.c_attn.weight`` …), so
its state_dict and the torch mirror's (``reference/models.py``) match key for key.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
from einops import rearrange

from .. import _checks
from ..container import Sequential
from ..linear import Linear
from ..module import Module
from ..random import generator


@dataclass
class GPTConfig:
    """The hyper-parameters (nanoGPT's names); the defaults train 50 steps in seconds."""

    vocab_size: int
    block_size: int = 16      # longest context
    n_layer: int = 2
    n_head: int = 2
    n_embd: int = 32
    bias: bool = True         # biases in the Linears (LayerNorms always have one here)


# --- causal attention: the maths --------------------------------------------------------
class AttentionCache(NamedTuple):
    q: np.ndarray             # (B, nh, T, hs)
    k: np.ndarray             # (B, nh, T, hs)
    v: np.ndarray             # (B, nh, T, hs)
    att: np.ndarray           # (B, nh, T, T): the softmax probabilities (0 above the diagonal)
    scale: float              # 1 / sqrt(hs)


def causal_attention_forward(q: np.ndarray, k: np.ndarray, v: np.ndarray):
    """``y = softmax(mask(q k^T / sqrt(hs))) v`` per head; returns ``(y, cache)``."""
    T, hs = q.shape[-2], q.shape[-1]
    scale = 1.0 / math.sqrt(hs)
    att = (q @ k.swapaxes(-1, -2)) * scale                     # (B, nh, T, T)
    causal = np.tril(np.ones((T, T), dtype=bool))              # query t sees keys <= t
    att = np.where(causal, att, -np.inf)
    att = np.exp(att - att.max(axis=-1, keepdims=True))        # exp(-inf) = 0 above the diagonal
    att /= att.sum(axis=-1, keepdims=True)
    y = att @ v                                                # (B, nh, T, hs)
    return y, AttentionCache(q, k, v, att, scale)


def causal_attention_backward(dy: np.ndarray, cache: AttentionCache):
    """Return ``(dq, dk, dv)`` for ``dy`` of shape ``(B, nh, T, hs)``."""
    q, k, v, att, scale = cache
    # 3. forward was y = att v
    dv = att.swapaxes(-1, -2) @ dy                             # (B, nh, T, hs)
    datt = dy @ v.swapaxes(-1, -2)                             # (B, nh, T, T)
    # 2. forward was att = softmax(s): ds = att * (datt - sum_j datt_j att_j); masked att = 0
    ds = att * (datt - (datt * att).sum(axis=-1, keepdims=True))
    # 1. forward was s = (q k^T) * scale
    ds = ds * scale
    dq = ds @ k                                                # (B, nh, T, hs)
    dk = ds.swapaxes(-1, -2) @ q                               # (B, nh, T, hs)
    return dq, dk, dv


class CausalSelfAttention(Module):
    """Multi-head causal self-attention: ``c_proj(concat_h softmax(mask(q_h k_h^T / sqrt(hs))) v_h)``.

    Args:
        config: a :class:`GPTConfig` (``n_embd``, ``n_head``, ``bias``).
        dtype: NumPy float dtype of the parameters.

    Shape:
        input ``(B, T, n_embd)`` → output ``(B, T, n_embd)``; ``hs = n_embd / n_head``.

    Backward:
        dv = att^T dy;  datt = dy v^T;  ds = att * (datt - rowsum(datt * att)) / sqrt(hs);
        dq = ds k;  dk = ds^T q;  then through ``c_attn`` (one Linear producing q, k, v).

    What torch hides:
        ``F.scaled_dot_product_attention(is_causal=True)`` fuses all of this
        (flash / memory-efficient kernels never store the T x T matrix and
        recompute it in backward); here ``att`` is stored. q, k and v come from
        one ``(3 n_embd, n_embd)`` Linear, split in that order.
    """

    def __init__(self, config: GPTConfig, dtype=np.float32):
        super().__init__()
        if config.n_embd % config.n_head:
            raise ValueError(f"CausalSelfAttention: n_embd ({config.n_embd}) must be divisible "
                             f"by n_head ({config.n_head})")
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = Linear(config.n_embd, 3 * config.n_embd, bias=config.bias, dtype=dtype)
        self.c_proj = Linear(config.n_embd, config.n_embd, bias=config.bias, dtype=dtype)

    def forward(self, x: np.ndarray) -> np.ndarray:
        x = self._input(x)
        if x.ndim != 3 or x.shape[-1] != self.n_embd:
            raise ValueError(f"CausalSelfAttention: expected input (B, T, {self.n_embd}), got "
                             f"shape {x.shape}")
        qkv = self.c_attn(x)                                   # (B, T, 3C)
        q, k, v = (rearrange(t, "b t (h d) -> b h t d", h=self.n_head)
                   for t in np.split(qkv, 3, axis=-1))         # 3 x (B, nh, T, hs)
        y, self._cache = causal_attention_forward(q, k, v)
        return self.c_proj(rearrange(y, "b h t d -> b t (h d)"))   # (B, T, C)

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        cache = self._saved()
        dy = rearrange(self.c_proj.backward(grad_output), "b t (h d) -> b h t d", h=self.n_head)
        grads = causal_attention_backward(dy, cache)
        dqkv = np.concatenate([rearrange(g, "b h t d -> b t (h d)") for g in grads], axis=-1)
        return self.c_attn.backward(dqkv)                      # (B, T, C)


# --- the blocks ---------------------------------------------------------------------------
class MLP(Module):
    """``c_proj(gelu(c_fc(x)))`` with a 4x wider hidden layer.

    Backward:
        the three layers in reverse; GELU's ``dx = dy (Phi(x) + x phi(x))``.
    """

    def __init__(self, config: GPTConfig, dtype=np.float32):
        super().__init__()
        from .. import GELU                # the activation family's exact-erf GELU
        self.c_fc = Linear(config.n_embd, 4 * config.n_embd, bias=config.bias, dtype=dtype)
        self.gelu = GELU()
        self.c_proj = Linear(4 * config.n_embd, config.n_embd, bias=config.bias, dtype=dtype)

    def forward(self, x):
        self._cache = True
        return self.c_proj(self.gelu(self.c_fc(x)))

    def backward(self, grad_output):
        self._saved()
        return self.c_fc.backward(self.gelu.backward(self.c_proj.backward(grad_output)))


class Block(Module):
    """A pre-norm transformer block: ``x = x + attn(ln_1(x)); x = x + mlp(ln_2(x))``.

    Backward:
        a residual passes its gradient through unchanged and adds the branch's:
        ``dx_mid = dy + ln_2'(mlp'(dy))``, ``dx = dx_mid + ln_1'(attn'(dx_mid))``.
    """

    def __init__(self, config: GPTConfig, dtype=np.float32):
        super().__init__()
        from .. import LayerNorm
        self.ln_1 = LayerNorm(config.n_embd, dtype=dtype)
        self.attn = CausalSelfAttention(config, dtype=dtype)
        self.ln_2 = LayerNorm(config.n_embd, dtype=dtype)
        self.mlp = MLP(config, dtype=dtype)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        x = x + self.mlp(self.ln_2(x))
        self._cache = True
        return x

    def backward(self, grad_output):
        self._saved()
        d = grad_output + self.ln_2.backward(self.mlp.backward(grad_output))
        return d + self.ln_1.backward(self.attn.backward(d))


class ModuleDict(Module):
    """A named container (``torch.nn.ModuleDict``): only holds children, no forward."""

    def __init__(self, modules: dict):
        super().__init__()
        for name, m in modules.items():
            self.add_module(name, m)


# --- the model ------------------------------------------------------------------------------
class GPT(Module):
    """``logits = LayerNorm(blocks(wte[idx] + wpe[0..T-1])) wte^T`` — nanoGPT without dropout.

    Args:
        config: a :class:`GPTConfig`.
        dtype: NumPy float dtype of the parameters.

    Shape:
        idx ``(B, T)`` integer token ids, ``T <= block_size`` → logits ``(B, T, vocab_size)``.

    Attributes:
        transformer.wte.weight: ``(vocab_size, n_embd)``, shared with ``lm_head.weight``.
        Initialised as nanoGPT: every Linear and Embedding weight from N(0, 0.02),
        biases 0, the residual projections (``c_proj``) from N(0, 0.02 / sqrt(2 n_layer)),
        LayerNorms 1 and 0.

    Backward:
        dh = lm_head'(dlogits) (adds dlogits^T h into the tied weight), then ln_f,
        the blocks in reverse, and the embeddings: ``wte.grad[idx] += dx``,
        ``wpe.grad[t] += sum_b dx[b, t]``. The token embedding therefore receives
        two gradients, one as the head and one as the lookup table, summed.

    What torch hides:
        weight tying is one Parameter object referenced by two modules: autograd
        sums both uses' gradients, ``named_parameters()`` lists it once (as
        ``transformer.wte.weight``), and ``state_dict()`` lists it under both keys.
    """

    def __init__(self, config: GPTConfig, dtype=np.float32):
        super().__init__()
        from .. import Embedding, LayerNorm
        self.config = config
        self.transformer = ModuleDict(dict(
            wte=Embedding(config.vocab_size, config.n_embd, dtype=dtype),
            wpe=Embedding(config.block_size, config.n_embd, dtype=dtype),
            h=Sequential(*[Block(config, dtype=dtype) for _ in range(config.n_layer)]),
            ln_f=LayerNorm(config.n_embd, dtype=dtype)))
        self.lm_head = Linear(config.n_embd, config.vocab_size, bias=False, dtype=dtype)
        self.lm_head.weight = self.transformer.wte.weight      # weight tying: one Parameter
        self.reset_parameters()

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        """nanoGPT's ``_init_weights``; see the class docstring."""
        rng = generator(rng)
        std_proj = 0.02 / math.sqrt(2 * self.config.n_layer)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                p.data[...] = rng.normal(0.0, std_proj, p.shape)
            elif ".ln_" in name or name.startswith("transformer.ln_f"):
                p.data[...] = 1.0 if name.endswith("weight") else 0.0
            elif name.endswith("bias"):
                p.data[...] = 0.0
            else:
                p.data[...] = rng.normal(0.0, 0.02, p.shape)

    def forward(self, idx: np.ndarray) -> np.ndarray:
        idx = _checks.index_array(idx, "GPT", "idx")
        if idx.ndim != 2:
            raise ValueError(f"GPT: idx must be 2-D (B, T), got shape {idx.shape}")
        B, T = idx.shape
        if T > self.config.block_size:
            raise ValueError(f"GPT: cannot forward a sequence of length {T}, block size is "
                             f"only {self.config.block_size}")
        tr = self.transformer
        x = tr.wte(idx) + tr.wpe(np.arange(T))                  # (B, T, C) + (T, C)
        x = tr.ln_f(tr.h(x))                                    # (B, T, C)
        self._cache = True
        return self.lm_head(x)                                  # (B, T, vocab_size)

    def backward(self, grad_output: np.ndarray):
        """Accumulate every parameter gradient; returns None (token ids are not differentiable)."""
        self._saved()
        tr = self.transformer
        dx = tr.h.backward(tr.ln_f.backward(self.lm_head.backward(grad_output)))   # (B, T, C)
        tr.wte.backward(dx)
        tr.wpe.backward(dx.sum(axis=0))                         # (T, C): positions shared by b
        return None
