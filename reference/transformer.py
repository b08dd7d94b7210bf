"""Torch twins of npimpl's Transformer classes: the real ``torch.nn`` modules, with

* the activation translated (an npimpl ReLU/GELU module becomes torch's; a ``(fn, grad)`` pair
  or a plain callable becomes ``fn.torch`` if it has one, else ``torch.<fn.__name__>``:
  ``np.tanh`` → ``torch.tanh``);
* every layer's Dropout modules replaced by SharedMaskDropout over the matching NumPy layer's,
  and its attentions sharing the NumPy attention mask (as the MultiheadAttention twin); a
  stack re-wires each deep-copied layer to its own NumPy copy. None of this adds or renames
  a parameter, so the state_dicts stay torch's.
"""
from __future__ import annotations

import inspect
import types

import torch

import npimpl
from npimpl.transformer import Elementwise

from .attention import _mha_forward
from .dropout import SharedMaskDropout
from .twins import register_twin, torch_dtype


def torch_activation(act):
    """The torch twin of an npimpl layer's ``activation`` argument."""
    if isinstance(act, str) or act is None:
        return act
    if isinstance(act, npimpl.GELU):
        return torch.nn.GELU(approximate=act.approximate)
    if isinstance(act, npimpl.Module) and not isinstance(act, Elementwise):
        return getattr(torch.nn, type(act).__name__)()
    fn = act.fn if isinstance(act, Elementwise) else (act[0] if isinstance(act, tuple) else act)
    twin = getattr(fn, "torch", None) or getattr(torch, getattr(fn, "__name__", ""), None)
    if twin is None:
        raise TypeError(f"no torch twin for the activation {fn!r}: give it a .torch attribute")
    return twin


def _torch_kwargs(torch_cls, args, kwargs, dtype, accepts_dtype=True):
    """The npimpl call's arguments by name, for torch: no rng, activation translated."""
    bound = dict(kwargs)
    names = [n for n in inspect.signature(torch_cls).parameters]
    bound.update(zip(names, args))
    bound.pop("rng", None)
    if "activation" in bound:
        bound["activation"] = torch_activation(bound["activation"])
    if accepts_dtype:
        bound["dtype"] = torch_dtype(dtype)
    return bound


def wire_layer(np_layer, t_layer) -> None:
    """Make ``t_layer``'s dropouts and attentions reuse ``np_layer``'s draws."""
    for name in ("dropout", "dropout1", "dropout2", "dropout3"):
        np_drop = getattr(np_layer, name, None)
        if isinstance(np_drop, npimpl.Dropout) and hasattr(t_layer, name):
            setattr(t_layer, name, SharedMaskDropout(np_drop, np_drop.p))
    for name in ("self_attn", "multihead_attn"):
        np_attn, t_attn = getattr(np_layer, name, None), getattr(t_layer, name, None)
        if isinstance(np_attn, npimpl.MultiheadAttention) and t_attn is not None:
            object.__setattr__(t_attn, "_np_module", np_attn)
            object.__setattr__(t_attn, "forward", types.MethodType(_mha_forward, t_attn))


def wire_stack(np_stack, t_stack) -> None:
    """Wire every layer of an encoder/decoder (or of both stacks of a Transformer)."""
    for np_part, t_part in ((np_stack, t_stack),
                            (getattr(np_stack, "encoder", None), getattr(t_stack, "encoder", None)),
                            (getattr(np_stack, "decoder", None), getattr(t_stack, "decoder", None))):
        if hasattr(np_part, "layers") and hasattr(t_part, "layers"):
            for np_l, t_l in zip(np_part.layers, t_part.layers):
                wire_layer(np_l, t_l)


@register_twin("TransformerEncoderLayer")
@register_twin("TransformerDecoderLayer")
def _layer_twin(np_mod, args, kwargs, dtype):
    cls = getattr(torch.nn, type(np_mod).__name__)
    t = cls(**_torch_kwargs(cls, args, kwargs, dtype))
    wire_layer(np_mod, t)
    return t


@register_twin("TransformerEncoder")
@register_twin("TransformerDecoder")
def _stack_twin(np_mod, args, kwargs, dtype):
    """``args`` hold the torch halves of the layer (and norm) Specs; the copies torch makes
    are re-wired one by one to the NumPy copies."""
    cls = getattr(torch.nn, type(np_mod).__name__)
    t = cls(**_torch_kwargs(cls, args, kwargs, dtype, accepts_dtype=False)).to(torch_dtype(dtype))
    wire_stack(np_mod, t)
    return t


@register_twin("Transformer")
def _transformer_twin(np_mod, args, kwargs, dtype):
    t = torch.nn.Transformer(**_torch_kwargs(torch.nn.Transformer, args, kwargs, dtype))
    wire_stack(np_mod, t)
    return t
