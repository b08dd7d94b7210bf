"""torch's deprecated aliases, kept so that old code (and old checkpoints) find their class."""
from __future__ import annotations

import warnings

from .crossentropy import NLLLoss


class NLLLoss2d(NLLLoss):
    """``NLLLoss`` under its pre-0.4 name for images: ``l = -w[t] x[n, t, h, w]`` per pixel.

    Args:
        weight: per-class weights ``(C,)`` or None (a buffer).
        size_average: deprecated flag (see reduction).
        ignore_index: targets equal to it contribute nothing (default -100).
        reduce: deprecated flag (see reduction).
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        as NLLLoss: input ``(N, C, H, W)`` (or any ``(N, C, d1, ..., dK)``, ``(N, C)``,
        ``(C)``), target ``(N, H, W)`` of class indices; output ``()`` or ``(N, H, W)``.

    Backward:
        as NLLLoss: ``dx[n, t, h, w] = -w[t] dl`` (÷ the sum of the target weights for
        'mean'), 0 elsewhere.

    What torch hides:
        it is NLLLoss itself, with the arguments in the same order (weight, size_average,
        ignore_index, reduce, reduction): the "2d" is history from when NLLLoss took only
        ``(N, C)``. Constructing one warns (FutureWarning), in torch and here; it accepts
        any rank NLLLoss does.
    """

    def __init__(self, weight=None, size_average=None, ignore_index: int = -100, reduce=None,
                 reduction: str = "mean", dtype=None):
        warnings.warn("`NLLLoss2d` has been deprecated. Please use `NLLLoss` instead as a "
                      "drop-in replacement.", FutureWarning, stacklevel=2)
        super().__init__(weight, size_average, ignore_index, reduce, reduction, dtype)
