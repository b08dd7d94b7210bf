"""TransformerEncoder and TransformerDecoder: stacks of deep-copied layers, with torch's
state_dict keys (``layers.0.…``, a final ``norm``), its causal-mask detection, and the
nested-tensor fast path of the encoder made visible (``_nested.py``). The whole
encoder-decoder model is in ``transformer_model.py``.
"""
from __future__ import annotations

import copy
import warnings

import numpy as np

from . import _checks
from .container import ModuleList
from ._nested import canonical_mask, nested_fast_path, why_not_nested
from .grad_mode import is_grad_enabled
from .module import Module


def _clones(layer, n, owner):
    """``n`` deep copies of ``layer`` (identical weights, as torch), sharing its ``rng``."""
    if not isinstance(layer, Module):
        raise TypeError(f"{owner}: the layer must be an npimpl Module, got {type(layer).__name__}")
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 1:
        raise ValueError(f"{owner}: num_layers must be an int >= 1, got {n!r}")
    clones = [copy.deepcopy(layer) for _ in range(n)]
    if hasattr(layer, "rng"):                 # one stream of dropout draws, as torch's one RNG
        for c in clones:
            c.rng = layer.rng
    return ModuleList(clones)


class _Stack(Module):
    """What both stacks share: the layer copies' one ``rng`` (setting it reaches every
    dropout of every layer, as TransformerEncoderLayer's does)."""

    @property
    def rng(self):
        return getattr(self.layers[0], "rng", None)

    @rng.setter
    def rng(self, rng):
        for layer in self.layers:
            if hasattr(layer, "rng"):
                layer.rng = rng

    def extra_repr(self):
        return f"num_layers={self.num_layers}"


def _detect_is_causal_mask(mask, is_causal, size):
    """torch's rule: an explicit hint wins; with None, a mask equal to the causal mask
    (-inf above the diagonal, or True there for a bool mask) of the sequence's size is causal."""
    if is_causal is not None or mask is None:
        return is_causal is True
    causal = np.triu(np.ones((size, size), bool), 1)
    if mask.dtype != np.bool_:
        causal = np.where(causal, -np.inf, 0.0)
    return mask.shape == causal.shape and bool(np.all(mask == causal))


def _seq_len(x, batch_first):
    return x.shape[0] if x.ndim == 2 else x.shape[1 if batch_first else 0]


class TransformerEncoder(_Stack):
    """``x = layer_{n-1}(... layer_0(src)); out = norm(x)`` (norm optional).

    Args:
        encoder_layer: a TransformerEncoderLayer (or any npimpl Module with its forward
            signature and ``backward(g) -> grad_src``), deep-copied ``num_layers`` times.
        num_layers: number of copies (``layers.0`` … in the state_dict).
        norm: the final LayerNorm (or None).
        enable_nested_tensor, mask_check: torch's switches for the fast path (below).

    Shape:
        src (S, N, E) / (N, S, E) / (S, E); mask (S, S) or (N*nhead, S, S);
        src_key_padding_mask (N, S) or (S); output like src.

    Backward:
        the layers' backward in reverse order after the norm's: dx_k = layer_k'(dx_{k+1}).

    What torch hides:
        all copies start with the same weights; bool masks become float (-inf) masks before
        the layers see them; with is_causal=None a mask equal to the causal mask is detected
        and passed on as is_causal=True. The fast path: in eval mode under no_grad, with a
        key padding mask, no src mask, batch_first, an even number of heads, relu/gelu,
        post-norm and biases, torch packs the batch into a nested tensor (only the first
        ``(~mask).sum()`` tokens of each sequence, so with ``mask_check=False`` a mask that
        is not left-aligned silently drops valid tokens), runs the layers on it, skipping the
        padding (faster when much of the batch is padding), and pads back with **zeros**:
        padded output rows are 0, or after the final norm its bias, where the ordinary path
        returns numbers (a padded query still attends to the valid keys); valid rows agree.
        ``why_not_sparsity_fast_path`` says, after each forward,
        why the fast path was not taken ('' when it was).
    """

    def __init__(self, encoder_layer, num_layers, norm=None, enable_nested_tensor=True,
                 mask_check=True):
        super().__init__()
        self.layers = _clones(encoder_layer, num_layers, "TransformerEncoder")
        self.num_layers = int(num_layers)
        self.norm = norm
        self.enable_nested_tensor = enable_nested_tensor
        self.use_nested_tensor = enable_nested_tensor
        self.mask_check = mask_check
        self.why_not_sparsity_fast_path = ""
        why = why_not_nested(encoder_layer)
        if enable_nested_tensor and why:
            warnings.warn(f"enable_nested_tensor is True, but self.use_nested_tensor is False "
                          f"because {why}", stacklevel=2)
            self.use_nested_tensor = False

    def forward(self, src, mask=None, src_key_padding_mask=None, is_causal=None):
        cls, first = "TransformerEncoder", self.layers[0]
        x = self._input(src, "src")
        _checks.ndim(x, (2, 3), cls, "src")
        kpm = canonical_mask(src_key_padding_mask, "src_key_padding_mask", x.dtype, cls, mask,
                             "mask")
        mask = canonical_mask(mask, "mask", x.dtype, cls)
        batch_first = getattr(getattr(first, "self_attn", None), "batch_first", False)
        reason = self._why_not_fast_path(x, mask, kpm)
        self.why_not_sparsity_fast_path = reason
        if not reason:
            out = nested_fast_path(self.layers, x, kpm)
        else:
            causal = _detect_is_causal_mask(mask, is_causal, _seq_len(x, batch_first))
            out = x
            for layer in self.layers:
                out = layer(out, src_mask=mask, is_causal=causal, src_key_padding_mask=kpm)
        if self.norm is not None:
            out = self.norm(out)
        self._cache = True
        return out

    def _why_not_fast_path(self, x, mask, kpm):
        """torch's conditions for the nested-tensor path, in its order ('' = taken)."""
        if not self.use_nested_tensor:
            return "self.use_nested_tensor (set in init) was not True"
        if self.layers[0].training:
            return "self.layers[0] was in training mode"
        if x.ndim != 3:
            return f"input not batched; expected src.dim() of 3 but got {x.ndim}"
        if kpm is None:
            return "src_key_padding_mask was None"
        if self.mask_check and not _left_aligned(kpm):
            return ("mask_check enabled, and src and src_key_padding_mask was not left "
                    "aligned")
        if mask is not None:
            return "src_key_padding_mask and mask were both supplied"
        if is_grad_enabled():
            return "grad is enabled (outside npimpl.no_grad())"
        return ""

    def backward(self, grad_output):
        self._saved()
        g = grad_output if self.norm is None else self.norm.backward(grad_output)
        for layer in reversed(list(self.layers)):
            g = layer.backward(g)
        return g


def _left_aligned(kpm):
    """True when every row's valid keys (mask == 0) come before its padded ones."""
    valid = kpm == 0
    return bool(np.all(valid[..., :-1] | ~valid[..., 1:]))


class TransformerDecoder(_Stack):
    """``x = layer_{n-1}(... layer_0(tgt, memory), memory); out = norm(x)`` (norm optional).

    Args:
        decoder_layer: a TransformerDecoderLayer (or any npimpl Module with its signature and
            ``backward(g) -> (grad_tgt, grad_memory)``), deep-copied ``num_layers`` times.
        num_layers: number of copies; norm: the final LayerNorm (or None).

    Shape:
        as TransformerDecoderLayer.

    Backward:
        d tgt through the layers in reverse; d memory = Σ over layers of each layer's
        d memory (every layer attends to the same memory). ``backward(g)`` returns
        ``(grad_tgt, grad_memory)``.

    What torch hides:
        masks pass to every layer unchanged (bool stays bool, unlike the encoder);
        tgt_is_causal=None detects a causal tgt_mask; all copies start with the same weights.
    """

    def __init__(self, decoder_layer, num_layers, norm=None):
        super().__init__()
        self.layers = _clones(decoder_layer, num_layers, "TransformerDecoder")
        self.num_layers = int(num_layers)
        self.norm = norm

    def forward(self, tgt, memory, tgt_mask=None, memory_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, tgt_is_causal=None, memory_is_causal=False):
        x = self._input(tgt, "tgt")
        _checks.ndim(x, (2, 3), "TransformerDecoder", "tgt")
        attn = getattr(self.layers[0], "self_attn", None)
        causal = _detect_is_causal_mask(tgt_mask, tgt_is_causal,
                                        _seq_len(x, getattr(attn, "batch_first", False)))
        for layer in self.layers:
            x = layer(x, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                      tgt_key_padding_mask=tgt_key_padding_mask,
                      memory_key_padding_mask=memory_key_padding_mask, tgt_is_causal=causal,
                      memory_is_causal=memory_is_causal)
        if self.norm is not None:
            x = self.norm(x)
        self._cache = True
        return x

    def backward(self, grad_output):
        self._saved()
        g = grad_output if self.norm is None else self.norm.backward(grad_output)
        g_mem = 0
        for layer in reversed(list(self.layers)):
            g, gm = layer.backward(g)
            g_mem = g_mem + gm
        return g, g_mem
