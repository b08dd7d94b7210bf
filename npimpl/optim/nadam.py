"""NAdam: Adam with Nesterov momentum and Dozat's momentum-decay schedule."""
from __future__ import annotations

import numpy as np

from .adam import _check_adam_args
from .optimizer import Optimizer, STEP_DTYPE, lerp_, step_counter


class NAdam(Optimizer):
    r"""``p <- p - lr [(1 - mu_t) g / (1 - P_t) + mu_{t+1} m / (1 - P_t mu_{t+1})] / denom``.

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                  if maximize
        2. if weight_decay != 0:
               p = p * (1 - lr * weight_decay)     if decoupled_weight_decay
               g = g + weight_decay * p            otherwise (L2)
        3. mu_t = beta1 (1 - 0.5 * 0.96^(t * momentum_decay)),  mu_{t+1} likewise
           P_t = P_{t-1} * mu_t                    (mu_product, a float32 scalar)
        4. m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g g
        5. denom = sqrt(v / (1 - beta2^t)) + eps
        6. p = p - lr (1 - mu_t) / (1 - P_t) * g / denom
           p = p - lr mu_{t+1} / (1 - P_t mu_{t+1}) * m / denom

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (torch's default 2e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to the root (default 1e-8).
        weight_decay: L2 or decoupled decay coefficient (default 0).
        momentum_decay: the psi of the mu_t schedule (default 4e-3).
        decoupled_weight_decay: AdamW-style decay (torch's NAdamW).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: accepted and kept in the groups; ignored.

    State (per parameter): ``step`` (0-d float32), ``mu_product`` (0-d float32),
    ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Maths:
        \mu_t = \beta_1\left(1 - \tfrac{1}{2}\, 0.96^{t \psi}\right), \qquad P_t = \textstyle\prod_{k \le t} \mu_k
        p \leftarrow p - \eta \left(\frac{(1 - \mu_t)\, g_t}{1 - P_t} + \frac{\mu_{t+1} m_t}{1 - P_t \mu_{t+1}}\right) \Big/ \left(\sqrt{v_t / (1 - \beta_2^t)} + \epsilon\right)

    What torch hides:
        ``mu_product`` is a 0-d tensor of the default dtype (float32) even for
        float64 parameters, so a float64 run carries float32 rounding in
        1 - P_t; loading a state_dict casts it to the parameter's dtype, so a
        resumed float64 run is then (slightly) more precise than an
        uninterrupted one. Unlike Adam, v is divided by its bias correction
        before the sqrt, and the update is two separate addcdiv steps.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, momentum_decay: float = 4e-3,
                 decoupled_weight_decay: bool = False, *, foreach=None, maximize: bool = False,
                 capturable: bool = False, differentiable: bool = False):
        _check_adam_args("NAdam", lr, betas, eps, weight_decay)
        if not 0.0 <= momentum_decay:
            raise ValueError(f"NAdam: invalid momentum_decay value {momentum_decay} "
                             "(expected >= 0)")
        super().__init__(params, dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                                      weight_decay=weight_decay, momentum_decay=momentum_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize, foreach=foreach,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, p, grad, group) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        beta1, beta2 = (float(b) for b in group["betas"])
        psi = float(group["momentum_decay"])
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            state["mu_product"] = np.ones((), dtype=STEP_DTYPE)
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        g = -grad if group["maximize"] else grad                      # 1.
        state["step"] += 1
        step = float(state["step"])
        bias_correction2 = 1 - beta2 ** step
        if wd != 0:                                                   # 2.
            if group["decoupled_weight_decay"]:
                p.data *= 1 - lr * wd
            else:
                g = g + wd * p.data
        mu = beta1 * (1.0 - 0.5 * (0.96 ** (step * psi)))             # 3.
        mu_next = beta1 * (1.0 - 0.5 * (0.96 ** ((step + 1) * psi)))
        state["mu_product"] *= mu                                     # rounded to its dtype
        mu_product = float(state["mu_product"])
        m, v = state["exp_avg"], state["exp_avg_sq"]
        lerp_(m, g, 1 - beta1)                                        # 4.
        v *= beta2
        v += (1 - beta2) * g * g
        denom = np.sqrt(v / bias_correction2) + eps                   # 5.
        mu_product_next = mu_product * mu_next                        # 6.
        p.data += (-lr * (1.0 - mu) / (1.0 - mu_product)) * g / denom
        p.data += ((-lr * mu_next) / (1.0 - mu_product_next)) * m / denom
