"""Torch twins of npimpl's MultiheadAttention and ScaledDotProductAttention (the Transformer
layers' twins, which reuse ``_mha_forward``, are in ``transformer.py``).

Attention dropout: torch draws it from its own RNG (``F.dropout`` on the weights when
need_weights=True, inside the fused ``scaled_dot_product_attention`` kernel otherwise). The
MultiheadAttention twin is the real ``torch.nn.MultiheadAttention``; only while it runs in
training mode with ``dropout > 0`` does it swap, inside ``torch.nn.functional``,

* ``dropout`` for a multiplication by the NumPy side's scaled mask, and
* ``scaled_dot_product_attention`` for its math formulation written with torch ops
  (scores, additive mask, ``torch._safe_softmax``, times the NumPy mask, times V),

so that both sides use one draw. Every other case runs torch's own code unchanged.
"""
from __future__ import annotations

import contextlib
import math
import types

import torch
import torch.nn.functional as F

from .twins import register_twin, torch_dtype


def kept_noise(np_mask, x: torch.Tensor, p: float) -> torch.Tensor:
    """torch's dropout noise for ``x`` from the elements the NumPy side kept: one Bernoulli
    per element of x (torch's own view of it: MultiheadAttention folds (N, H) into one dim),
    scaled as torch scales, ``keep.div_(1 - p)`` in x's dtype (``x * 0`` for p = 1) — never
    the NumPy mask's values, so a wrong scaling on the NumPy side is still caught."""
    if np_mask.size != x.numel():
        raise RuntimeError(f"shared dropout: torch draws one Bernoulli per element of "
                           f"{tuple(x.shape)}; the NumPy mask has shape {tuple(np_mask.shape)}")
    if p >= 1:
        return torch.zeros((), dtype=x.dtype)
    return (torch.from_numpy(np_mask) != 0).view(x.shape).to(x.dtype).div_(1 - p)


def _sdpa_math(mask):
    """``scaled_dot_product_attention`` with dropout = the kept elements of ``mask``."""
    def sdpa(q, k, v, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
             enable_gqa=False):
        L, S = q.shape[-2], k.shape[-2]
        s = q @ k.transpose(-2, -1) * (1.0 / math.sqrt(q.shape[-1]) if scale is None else scale)
        if is_causal:
            attn_mask = torch.ones(L, S, dtype=torch.bool).tril()
        if attn_mask is not None:
            s = s + (torch.zeros_like(attn_mask, dtype=s.dtype).masked_fill(~attn_mask, -math.inf)
                     if attn_mask.dtype == torch.bool else attn_mask)
        w = torch._safe_softmax(s, -1)
        return (w * kept_noise(mask, w, dropout_p)) @ v
    return sdpa


@contextlib.contextmanager
def shared_attention_dropout(np_mask):
    """Within the block, torch.nn.functional's attention dropout keeps the elements
    ``np_mask`` kept (:func:`kept_noise`)."""
    saved = F.dropout, F.scaled_dot_product_attention
    F.dropout = lambda x, p=0.5, training=True, inplace=False: x * kept_noise(np_mask, x, p)
    F.scaled_dot_product_attention = _sdpa_math(np_mask)
    try:
        yield
    finally:
        F.dropout, F.scaled_dot_product_attention = saved


def _mha_forward(self, *args, **kwargs):
    mask = self._np_module.mask
    if not self.training or self.dropout == 0 or mask is None:
        return type(self).forward(self, *args, **kwargs)
    with shared_attention_dropout(mask):
        return type(self).forward(self, *args, **kwargs)


@register_twin("MultiheadAttention")
def _mha_twin(np_mod, args, kwargs, dtype):
    kw = {k: v for k, v in kwargs.items() if k != "rng"}
    t = torch.nn.MultiheadAttention(*args, **kw, dtype=torch_dtype(dtype))
    object.__setattr__(t, "_np_module", np_mod)
    object.__setattr__(t, "forward", types.MethodType(_mha_forward, t))
    return t


class TorchSDPA(torch.nn.Module):
    """``torch.nn.functional.scaled_dot_product_attention`` as a module (dropout_p = 0 only)."""

    def __init__(self, dropout_p=0.0, is_causal=False, scale=None, enable_gqa=False):
        super().__init__()
        self.dropout_p, self.is_causal, self.scale = dropout_p, is_causal, scale
        self.enable_gqa = enable_gqa

    def forward(self, query, key, value, attn_mask=None):
        return F.scaled_dot_product_attention(query, key, value, attn_mask=attn_mask,
                                              dropout_p=self.dropout_p, is_causal=self.is_causal,
                                              scale=self.scale, enable_gqa=self.enable_gqa)


@register_twin("ScaledDotProductAttention")
def _sdpa_twin(np_mod, args, kwargs, dtype):
    return TorchSDPA(np_mod.dropout_p, np_mod.is_causal, np_mod.scale, np_mod.enable_gqa)
