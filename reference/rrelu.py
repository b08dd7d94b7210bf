"""The torch twin of RReLU in training: the NumPy side draws the slopes, torch applies them."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .twins import register_twin


class _RReLUWithNoise(torch.autograd.Function):
    """Forward ``x * noise``; backward torch's own ``rrelu_with_noise_backward`` kernel."""

    @staticmethod
    def forward(ctx, x, noise, lower, upper):
        ctx.save_for_backward(x, noise)
        ctx.bounds = (lower, upper)
        return x * noise

    @staticmethod
    def backward(ctx, grad):
        x, noise = ctx.saved_tensors
        lower, upper = ctx.bounds
        dx = torch.ops.aten.rrelu_with_noise_backward(grad, x, noise, lower, upper, True, False)
        return dx, None, None, None


class SharedNoiseRReLU(torch.nn.Module):
    """``torch.nn.RReLU`` whose training slopes are the ones ``np_module`` drew.

    torch's ``rrelu_with_noise`` cannot be handed a draw, so in training this twin takes the
    NumPy side's uniform draw ``slopes`` (one per element) and applies torch's own rule to it:
    ``noise = slopes where x <= 0, else 1`` (zero included), output ``x * noise``, and torch's
    backward kernel ``rrelu_with_noise_backward`` for the gradient. In eval it is ``F.rrelu``
    itself.
    tests/test_prelu.py checks that the real ``torch.nn.RReLU`` computes this formula with its
    own draw.
    """

    def __init__(self, np_module, lower: float, upper: float):
        super().__init__()
        self.np_module, self.lower, self.upper = np_module, lower, upper

    def forward(self, x):
        if not self.training:
            return F.rrelu(x, self.lower, self.upper, training=False)
        slopes = self.np_module.slopes
        if slopes is None:
            raise RuntimeError("SharedNoiseRReLU: the NumPy module drew no slopes")
        noise = torch.where(x <= 0, torch.as_tensor(slopes).to(x.dtype),
                            torch.ones((), dtype=x.dtype))
        return _RReLUWithNoise.apply(x, noise, self.lower, self.upper)


@register_twin("RReLU")
def _rrelu_twin(np_mod, args, kwargs, dtype):
    return SharedNoiseRReLU(np_mod, np_mod.lower, np_mod.upper)
