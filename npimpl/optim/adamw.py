"""AdamW: Adam with the weight decay taken out of the gradient (decoupled)."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    """p <- p (1 - lr wd), then the Adam step on the plain gradient (torch's AdamW).

    For each parameter p with gradient g, at step t::

        1. g = -g                                  if maximize
        2. p = p * (1 - lr * weight_decay)         decoupled: never enters m or v
        3. m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g g
        4. denom = sqrt(v or v_max) / sqrt(1 - beta2^t) + eps
        5. p = p - lr / (1 - beta1^t) * m / denom

    Args:
        as :class:`Adam`, but ``weight_decay`` defaults to 1e-2 (torch's default) and
        ``decoupled_weight_decay`` is always True.

    What torch hides:
        AdamW is literally ``Adam(..., decoupled_weight_decay=True)`` in torch
        (the flag is saved in every param group); the decay is multiplied by lr,
        so a scheduler decays it too — it is not the paper's separate schedule
        multiplier eta_t times lambda with an lr-independent lambda.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
