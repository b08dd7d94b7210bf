"""Torch twins of AlphaDropout and FeatureAlphaDropout that reuse the NumPy side's draw."""
from __future__ import annotations

import math

import torch

from npimpl.alpha_dropout import ALPHA

from .dropout import SharedMaskDropout
from .twins import register_twin


class SharedMaskAlphaDropout(SharedMaskDropout):
    """``torch.nn.AlphaDropout`` / ``FeatureAlphaDropout`` keeping the units ``np_module`` kept.

    As :class:`reference.SharedMaskDropout` (whose identity and ``p = 1`` shortcuts, torch's
    own for both, it inherits): only the Bernoulli draw is shared (which units were kept:
    ``mask != 0``); the affine map is computed here with torch ops in the order of torch's
    ``_dropout_impl`` (``b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p)``,
    ``noise.mul_(a)``, ``input * noise + b``), so a wrong constant on the NumPy side is still
    caught. tests/test_alpha_dropout.py checks that the real torch modules compute this
    formula with their own draw.
    """

    def forward(self, x):
        if not self.training or self.p in (0, 1) or x.numel() == 0:
            return super().forward(x)
        mask = self.np_module.mask
        if mask is None:
            raise RuntimeError("SharedMaskAlphaDropout: the NumPy module drew no mask")
        noise = (torch.as_tensor(mask) != 0).to(x.dtype)
        a = 1.0 / math.sqrt((ALPHA * ALPHA * self.p + 1) * (1 - self.p))
        b = noise.add(-1).mul_(ALPHA * a).add_(ALPHA * a * self.p)
        noise.mul_(a)
        return (x * noise).add_(b)


@register_twin("AlphaDropout")
@register_twin("FeatureAlphaDropout")
def _alpha_dropout_twin(np_mod, args, kwargs, dtype):
    return SharedMaskAlphaDropout(np_mod, np_mod.p)
