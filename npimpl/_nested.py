"""TransformerEncoder's nested-tensor fast path, made visible.

Why it exists: torch's TransformerEncoder, in eval mode under ``no_grad`` with a key padding
mask, converts the padded batch into a *nested tensor* (each sequence only its valid
tokens), runs every layer's fused kernel on it and converts back with
``to_padded_tensor(0.0)``. Skipping the padding is faster on mostly padded batches; the
visible cost is the output: **padded rows are 0** (then the final norm's bias), where the
ordinary path computes numbers for them (a padded *query* still attends to the valid keys).

What it measured (torch 2.13, float64): valid rows agree with the ordinary path to 9e-16;
padded rows are exactly 0 before the norm and exactly its bias after; with
``mask_check=False`` and a mask that is not left-aligned torch takes each sequence's
*first* ``(~mask).sum()`` tokens, whatever the mask says; all three reproduced here.

How npimpl computes it: no nested tensors in NumPy, so the layers run on the padded batch
with the left-aligned mask of those lengths (the same numbers for every valid row), and
the padded rows are set to 0 afterwards.
"""
from __future__ import annotations

import warnings

import numpy as np

from ._pointwise import select
from .transformer import TransformerEncoderLayer


def canonical_mask(mask, name, dtype, owner, other=None, other_name=""):
    """torch's ``F._canonical_mask``: a bool mask becomes a float one (-inf where True), a
    float mask stays; a mask whose kind differs from ``other``'s is deprecated (a warning)."""
    if mask is None:
        return None
    if not isinstance(mask, np.ndarray):
        raise TypeError(f"{owner}: {name} must be a numpy.ndarray, got {type(mask).__name__}")
    if mask.dtype != np.bool_ and mask.dtype.kind != "f":
        raise TypeError(f"{owner}: only bool and floating types of {name} are supported, got "
                        f"{mask.dtype}")
    if isinstance(other, np.ndarray) and (other.dtype == np.bool_) != (mask.dtype == np.bool_):
        warnings.warn(f"Support for mismatched {name} and {other_name} is deprecated. Use same "
                      "type for both instead.", stacklevel=3)
    if mask.dtype == np.bool_:
        return select(mask, -np.inf, 0.0, dtype)
    return mask


def why_not_nested(layer) -> str:
    """torch's construction-time reasons (in its order) why an encoder of copies of ``layer``
    can never take the nested path ('' = it may)."""
    if not isinstance(layer, TransformerEncoderLayer):
        return "encoder_layer was not TransformerEncoderLayer"
    a = layer.self_attn
    for bad, why in ((layer.norm_first, "encoder_layer.norm_first was True"),
                     (not a.batch_first, "encoder_layer.self_attn.batch_first was not True(use "
                                         "batch_first for better inference performance)"),
                     (not a._qkv_same_embed_dim,
                      "encoder_layer.self_attn._qkv_same_embed_dim was not True"),
                     (a.in_proj_bias is None, "encoder_layer.self_attn was passed bias=False"),
                     (not layer.activation_relu_or_gelu,
                      "encoder_layer.activation_relu_or_gelu was not True"),
                     (layer.norm1.eps != layer.norm2.eps,
                      "encoder_layer.norm1.eps was not equal to encoder_layer.norm2.eps"),
                     (a.num_heads % 2 == 1, "encoder_layer.self_attn.num_heads is odd")):
        if bad:
            return why
    return ""


def nested_fast_path(layers, x, kpm):
    """The encoder's layers on the nested form of ``x`` (N, S, E) under the float key
    padding mask ``kpm`` (N, S); returns the padded result, zeros at the padding."""
    N, S, _ = x.shape
    if kpm.shape != (N, S):
        raise ValueError(f"TransformerEncoder: src_key_padding_mask must have shape {(N, S)}, "
                         f"got {kpm.shape}")
    lengths = (kpm == 0).sum(1)                    # torch: src_key_padding_mask.logical_not()
    pad = np.arange(S)[None, :] >= lengths[:, None]       # (N, S): the first `length` tokens
    out = x
    for layer in layers:
        # a copy changed after construction (back in training mode, say) would run its
        # attention on nested tensors outside the fused kernel: torch asserts there
        own = getattr(type(layer), "forward", None) is TransformerEncoderLayer.forward
        why = layer._why_not_fused(out) if own else ""
        if why:
            raise RuntimeError("TransformerEncoder: MultiheadAttention does not support "
                               "NestedTensor outside of its fast path. The fast path was not "
                               f"hit because {why} (in a layer changed after the encoder "
                               "was built)")
        out = layer(out, src_mask=None, src_key_padding_mask=pad, is_causal=False)
    return np.where(pad[..., None], 0, out).astype(x.dtype)   # to_padded_tensor(0.0)
