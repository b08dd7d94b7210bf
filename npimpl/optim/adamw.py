"""AdamW: Adam with the weight decay taken out of the gradient (decoupled)."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    r"""p <- p (1 - lr wd), then the Adam step on the plain gradient (torch's AdamW).

    For each parameter p with gradient g, at step t::

        1. g = -g                                  if maximize
        2. p = p * (1 - lr * weight_decay)         decoupled: never enters m or v
        3. m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g g
        4. denom = sqrt(v or v_max) / sqrt(1 - beta2^t) + eps
        5. p = p - lr / (1 - beta1^t) * m / denom

    Args:
        as :class:`Adam`, but ``weight_decay`` defaults to 1e-2 (torch's default) and
        ``decoupled_weight_decay`` is always True.

    Maths:
        p \leftarrow p\,(1 - \eta\lambda), \text{ then the Adam step on } g_t \text{ (no } \lambda p \text{ in } m, v)
        \text{paper (Loshchilov \& Hutter): } p \leftarrow p - \eta_t\big(\alpha\, \hat m_t / (\sqrt{\hat v_t} + \epsilon) + \lambda p\big)

    What torch hides:
        AdamW is literally ``Adam(..., decoupled_weight_decay=True)`` in torch
        (the flag is saved in every param group). The decay is ``lr * weight_decay``:
        torch's lr plays the role of the paper's alpha * eta_t (base step size times schedule
        multiplier), and in the paper eta_t also scales lambda, so a scheduler decays the
        decay in both; the difference is the extra factor of the base step size alpha: the
        paper shrinks p by eta_t * lambda, torch by alpha * eta_t * lambda, so torch's
        weight_decay must be 1/alpha times the paper's lambda (0.01 in torch at lr 1e-3 is
        the paper's 1e-5).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 1e-2, amsgrad: bool = False, *,
                 maximize: bool = False, foreach=None, capturable: bool = False,
                 differentiable: bool = False, fused=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach,
                         maximize=maximize, capturable=capturable,
                         differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True)
