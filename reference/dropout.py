"""Torch twins that reuse the dropout draw the NumPy side made."""
from __future__ import annotations

import torch

from .twins import register_twin


class SharedMaskDropout(torch.nn.Module):
    """``torch.nn.Dropout`` / ``Dropout1d/2d/3d`` that keeps the elements ``np_module`` kept.

    The engine runs the NumPy side first; this module reads *which* elements (or channels)
    the NumPy mask kept (``mask != 0``) and then scales as torch's CPU kernel does,
    ``noise = keep.div_(1 - p)`` in the input's dtype and ``x * 0`` for p = 1. Sharing only
    the Bernoulli draw, not the scaled mask, means a wrong scaling on the NumPy side is still
    caught; torch's random stream itself cannot be reproduced in NumPy.
    tests/test_dropout.py checks that real ``torch.nn.Dropout``/``Dropout2d`` compute this
    same formula with their own draw.
    """

    def __init__(self, np_module, p: float = 0.5):
        super().__init__()
        self.np_module, self.p = np_module, p

    def forward(self, x):
        if not self.training or self.p == 0 or x.numel() == 0:
            return x
        if self.p == 1:
            return x * torch.zeros((), dtype=x.dtype)
        mask = self.np_module.mask
        if mask is None:
            raise RuntimeError("SharedMaskDropout: the NumPy module drew no mask in training")
        noise = (torch.as_tensor(mask) != 0).to(x.dtype).div_(1 - self.p)
        return x * noise


@register_twin("Dropout")
@register_twin("Dropout1d")
@register_twin("Dropout2d")
@register_twin("Dropout3d")
def _dropout_twin(np_mod, args, kwargs, dtype):
    return SharedMaskDropout(np_mod, np_mod.p)
