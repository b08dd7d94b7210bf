"""Torch twins that reuse the dropout mask the NumPy side drew."""
from __future__ import annotations

import torch

from .twins import register_twin


class SharedMaskDropout(torch.nn.Module):
    """``torch.nn.Dropout`` whose mask is the one ``np_module`` drew in its last forward.

    The engine runs the NumPy side first; this module then multiplies by the same
    scaled mask, so both sides compute with one random draw (torch's own random
    stream cannot be reproduced in NumPy).
    """

    def __init__(self, np_module, p: float = 0.5):
        super().__init__()
        self.np_module, self.p = np_module, p

    def forward(self, x):
        if not self.training or self.np_module.mask is None:
            return x
        return x * torch.from_numpy(self.np_module.mask).to(x.dtype)


@register_twin("Dropout")
def _dropout_twin(np_mod, args, kwargs, dtype):
    return SharedMaskDropout(np_mod, np_mod.p)
