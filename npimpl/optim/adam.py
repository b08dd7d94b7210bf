"""Adam (and, with ``decoupled_weight_decay=True``, AdamW), in torch's update order."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, lerp_, step_counter


def _check_adam_args(name, lr, betas, eps, weight_decay) -> None:
    if not 0.0 <= lr:
        raise ValueError(f"{name}: invalid learning rate {lr} (expected >= 0)")
    if not 0.0 <= eps:
        raise ValueError(f"{name}: invalid epsilon value {eps} (expected >= 0)")
    for i, b in enumerate(betas):
        if not 0.0 <= b < 1.0:
            raise ValueError(f"{name}: invalid beta parameter at index {i}: {b} "
                             "(expected 0 <= beta < 1)")
    if not 0.0 <= weight_decay:
        raise ValueError(f"{name}: invalid weight_decay value {weight_decay} (expected >= 0)")


def _hyperparameters(group) -> tuple:
    """``(lr, eps, weight_decay, beta1, beta2)`` of a param group, as Python floats."""
    beta1, beta2 = (float(b) for b in group["betas"])
    return float(group["lr"]), float(group["eps"]), float(group["weight_decay"]), beta1, beta2


def _lazy_state(optimizer: Optimizer, p, *moments: str) -> dict:
    """``p``'s state, created at its first step: ``step`` (0-d float32) and the named moments,
    zero arrays like ``p``."""
    state = optimizer.state.setdefault(p, {})
    if not state:
        state["step"] = step_counter()
        for name in moments:
            state[name] = np.zeros_like(p.data)
    return state


class Adam(Optimizer):
    r"""p <- p - lr/(1 - beta1^t) * m / (sqrt(v)/sqrt(1 - beta2^t) + eps), in torch's order.

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                 if maximize
        2. if weight_decay != 0:
               p = p * (1 - lr * weight_decay)    if decoupled_weight_decay (AdamW)
               g = g + weight_decay * p           otherwise (Adam: L2, enters the moments)
        3. m = lerp(m, g, 1 - beta1)              (= beta1 m + (1 - beta1) g)
        4. v = beta2 * v + (1 - beta2) * g * g
        5. step_size = lr / (1 - beta1^t)
           if amsgrad: v_max = max(v_max, v); use v_max for v below
           denom = sqrt(v) / sqrt(1 - beta2^t) + eps
        6. p = p - step_size * m / denom

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2), the decay rates of the two moments (default (0.9, 0.999)).
        eps: added to the bias-corrected sqrt(v), not inside the sqrt (default 1e-8).
        weight_decay: L2 coefficient (Adam) or decoupled decay (AdamW) (default 0).
        amsgrad: normalise by the running maximum of v.
        maximize: ascend instead of descend.
        decoupled_weight_decay: the AdamW rule.
        foreach, capturable, differentiable, fused: accepted and kept in the groups; ignored.

    State (per parameter): ``step`` (0-d float32), ``exp_avg`` (m), ``exp_avg_sq`` (v),
    ``max_exp_avg_sq`` (amsgrad only).

    Maths:
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad v_t = \beta_2 v_{t-1} + (1 - \beta_2) g_t^2
        p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot \frac{m_t}{\sqrt{v_t} / \sqrt{1 - \beta_2^t} + \epsilon}

    What torch hides:
        ``step`` is a float32 tensor, not an int; the bias corrections are
        Python floats (``beta ** step``), and eps is added after dividing
        sqrt(v) by sqrt(1 - beta2^t) (the same maths as sqrt(v_hat) + eps,
        in this order to the last bit). The first moment uses ``lerp``, which
        switches formula at weight 0.5. With L2 (Adam) the decay passes
        through the moments and is normalised away for weights with large
        gradients; AdamW shrinks p directly, before the moments.
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, amsgrad: bool = False, *,
                 foreach=None, maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False, fused=None, decoupled_weight_decay: bool = False):
        _check_adam_args(type(self).__name__, lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                                      weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize, foreach=foreach, capturable=capturable,
                                      differentiable=differentiable, fused=fused,
                                      decoupled_weight_decay=decoupled_weight_decay))

    def _update(self, p, grad, group) -> None:
        lr, eps, wd, beta1, beta2 = _hyperparameters(group)
        amsgrad = ("max_exp_avg_sq",) if group["amsgrad"] else ()
        state = _lazy_state(self, p, "exp_avg", "exp_avg_sq", *amsgrad)
        m, v = state["exp_avg"], state["exp_avg_sq"]

        g = -grad if group["maximize"] else grad                       # 1.
        state["step"] += 1
        if wd != 0:                                                    # 2.
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * wd
            else:
                g = g + wd * p.data
        lerp_(m, g, 1 - beta1)                                         # 3.
        v *= beta2                                                     # 4.
        v += (1 - beta2) * g * g
        step = float(state["step"])                                    # 5.
        bias_correction1 = 1 - beta1 ** step
        bias_correction2 = 1 - beta2 ** step
        step_size = lr / bias_correction1
        bias_correction2_sqrt = bias_correction2 ** 0.5
        if group["amsgrad"]:
            v_max = state["max_exp_avg_sq"]
            np.maximum(v_max, v, out=v_max)
            denom = np.sqrt(v_max) / bias_correction2_sqrt + eps
        else:
            denom = np.sqrt(v) / bias_correction2_sqrt + eps
        p.data += (-step_size) * m / denom                             # 6.
