"""Torch twins that reuse the dropout mask the NumPy side drew."""
from __future__ import annotations

import torch

from .twins import register_twin


class SharedMaskDropout(torch.nn.Module):
    """``torch.nn.Dropout`` / ``Dropout2d`` whose mask is the one ``np_module`` drew.

    The engine runs the NumPy side first; this module then multiplies by the same
    scaled mask (full shape for Dropout, ``(N, C, 1, 1)`` for Dropout2d, broadcast by
    torch), so both sides compute with one random draw (torch's own random stream
    cannot be reproduced in NumPy). It is therefore *not* torch's dropout kernel: what
    it checks is the gradient path and the eval identity; tests/test_dropout.py checks
    that real ``torch.nn.Dropout``/``Dropout2d`` compute the same formula with their mask.
    """

    def __init__(self, np_module, p: float = 0.5):
        super().__init__()
        self.np_module, self.p = np_module, p

    def forward(self, x):
        if not self.training or self.np_module.mask is None:
            return x
        return x * torch.from_numpy(self.np_module.mask).to(x.dtype)


@register_twin("Dropout")
@register_twin("Dropout2d")
def _dropout_twin(np_mod, args, kwargs, dtype):
    return SharedMaskDropout(np_mod, np_mod.p)
