"""Torch twins that reuse the dropout draw the NumPy side made."""
from __future__ import annotations

import torch

from .twins import register_twin


def noise_shape(kind: str, shape: tuple) -> tuple:
    """The shape of torch's Bernoulli draw for ``torch.nn.<kind>`` on an input of ``shape``,
    as ``torch.nn.functional`` builds it: Dropout draws per element; Dropout1d/2d/3d call
    ``feature_dropout``, one draw per (dim 0, dim 1) pair of the input *after* the batch dim
    they add — Dropout1d to a 2-D input, Dropout3d to anything that is not 5-D, Dropout2d
    never (pytorch/pytorch#77081) — and remove that dim again."""
    if kind == "Dropout":
        return tuple(shape)
    nd = len(shape)
    if kind == "Dropout1d" and nd not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {nd}D input")
    added = (kind == "Dropout1d" and nd == 2) or (kind == "Dropout3d" and nd != 5)
    full = ((1,) if added else ()) + tuple(shape)
    if len(full) < 2:
        raise RuntimeError("Feature dropout requires at least 2 dimensions in the input")
    noise = full[:2] + (1,) * (len(full) - 2)
    return noise[1:] if added else noise


class SharedMaskDropout(torch.nn.Module):
    """``torch.nn.Dropout`` / ``Dropout1d/2d/3d`` that keeps the elements ``np_module`` kept.

    The engine runs the NumPy side first; this module works out *which shape* torch's draw
    has for this input (:func:`noise_shape`, from torch's own rules, never from the NumPy
    side), requires the NumPy mask to have exactly that shape, reads which elements (or
    channels) it kept (``mask != 0``) and then scales as torch's CPU kernel does,
    ``noise = keep.div_(1 - p)`` in the input's dtype and ``x * 0`` for p = 1. Sharing only
    the Bernoulli draw — not its shape, not the scaled mask — means a mask of the wrong
    shape (per element where torch draws per channel, per sample where it draws per
    channel) or a wrong scaling on the NumPy side is still caught; torch's random stream
    itself cannot be reproduced in NumPy. tests/test_dropout.py checks that real
    ``torch.nn.Dropout``/``Dropout2d`` compute this same formula with their own draw.
    """

    def __init__(self, np_module, p: float = 0.5, kind: str = "Dropout"):
        super().__init__()
        self.np_module, self.p, self.kind = np_module, p, kind

    def forward(self, x):
        shape = noise_shape(self.kind, tuple(x.shape))       # torch refuses before anything
        if not self.training or self.p == 0 or x.numel() == 0:
            return x
        if self.p == 1:
            return x * torch.zeros((), dtype=x.dtype)
        mask = self.np_module.mask
        if mask is None:
            raise RuntimeError("SharedMaskDropout: the NumPy module drew no mask in training")
        if tuple(mask.shape) != shape:
            raise RuntimeError(f"SharedMaskDropout: torch's {self.kind} draws a mask of shape "
                               f"{shape} for an input of shape {tuple(x.shape)}; the NumPy "
                               f"mask has shape {tuple(mask.shape)}")
        noise = (torch.as_tensor(mask) != 0).to(x.dtype).div_(1 - self.p)
        return x * noise


@register_twin("Dropout")
@register_twin("Dropout1d")
@register_twin("Dropout2d")
@register_twin("Dropout3d")
def _dropout_twin(np_mod, args, kwargs, dtype):
    kind = next(c.__name__ for c in type(np_mod).__mro__
                if c.__name__ in ("Dropout", "Dropout1d", "Dropout2d", "Dropout3d"))
    # p from torch's own constructor (its default when the spec gives none), never from the
    # NumPy module: a wrong default p on the NumPy side is then a wrong scaling, caught
    torch_kw = {k: v for k, v in kwargs.items() if k in ("p", "inplace")}
    return SharedMaskDropout(np_mod, getattr(torch.nn, kind)(*args, **torch_kw).p, kind)
