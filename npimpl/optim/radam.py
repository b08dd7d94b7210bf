"""RAdam, rectified Adam, in torch's update order (``torch.optim.RAdam``)."""
from __future__ import annotations


import numpy as np

from .optimizer import Optimizer, check_nonneg, decay_weights, lazy_state, lerp_, scalar


class RAdam(Optimizer):
    r"""Adam whose adaptive step is switched on only once the variance of its second moment
    is tractable, and then scaled by a rectification term r_t (Liu et al. 2020).

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                          if maximize
        2. p = p * (1 - lr * weight_decay)                 if decoupled_weight_decay
           g = g + weight_decay * p                        elif weight_decay != 0
        3. m = lerp(m, g, 1 - beta1);  v = beta2 v + (1 - beta2) g²
        4. m_hat = m / (1 - beta1^t)
           rho_inf = 2 / (1 - beta2) - 1
           rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
        5. if rho_t > 5:
               r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
               p = p - m_hat * lr * sqrt(1 - beta2^t) / (sqrt(v) + eps) * r_t
           else:
               p = p - m_hat * lr                          (SGD with momentum)

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to sqrt(v) (default 1e-8).
        weight_decay: L2 coefficient, or the decoupled decay (default 0).
        decoupled_weight_decay: AdamW-style decay (RAdamW).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: accepted and kept in the groups; no effect on
            the maths.

    State (per parameter): ``step`` (0-d float32), ``exp_avg`` (m), ``exp_avg_sq`` (v).

    Maths:
        \rho_\infty = \frac{2}{1-\beta_2} - 1, \qquad \rho_t = \rho_\infty - \frac{2 t \beta_2^t}{1 - \beta_2^t}, \qquad r_t = \sqrt{\frac{(\rho_t - 4)(\rho_t - 2)\,\rho_\infty}{(\rho_\infty - 4)(\rho_\infty - 2)\,\rho_t}}
        p \leftarrow p - \eta\, \hat m_t \cdot \begin{cases} r_t \sqrt{1-\beta_2^t} / (\sqrt{v_t} + \epsilon) & \rho_t > 5 \\ 1 & \text{otherwise} \end{cases}

    What torch hides:
        with the default beta2 = 0.999, rho_t first exceeds 5 at t = 6: the first five
        steps are plain momentum SGD with step lr · m_hat, which is why RAdam needs no
        warm-up; eps is added to sqrt(v) before the bias correction is applied (unlike Adam,
        which adds it after).
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0,
                 decoupled_weight_decay: bool = False, *, foreach=None,
                 maximize: bool = False, capturable: bool = False,
                 differentiable: bool = False):
        name = type(self).__name__
        check_nonneg(name, lr=lr, eps=eps, weight_decay=weight_decay)
        betas = tuple(scalar(b, f"{name}: betas") for b in betas)
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {b} "
                                 "(expected 0 <= beta < 1)")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay,
                                      foreach=foreach, maximize=maximize,
                                      capturable=capturable, differentiable=differentiable))

    def _update(self, p, grad, group) -> None:
        lr, eps, wd = (scalar(group[k]) for k in ("lr", "eps", "weight_decay"))
        beta1, beta2 = group["betas"]
        state = lazy_state(self, p, "exp_avg", "exp_avg_sq")
        m, v = state["exp_avg"], state["exp_avg_sq"]
        g = -grad if group["maximize"] else grad                       # 1.
        state["step"] += 1
        t = float(state["step"])
        g = decay_weights(p, g, lr, wd, group["decoupled_weight_decay"])   # 2.
        lerp_(m, g, 1 - beta1)                                         # 3.
        v *= beta2
        v += (1 - beta2) * g * g
        bias_correction1 = 1 - beta1 ** t                              # 4.
        bias_correction2 = 1 - beta2 ** t
        m_hat = m / bias_correction1
        rho_inf = 2 / (1 - beta2) - 1
        rho_t = rho_inf - 2 * t * (beta2 ** t) / bias_correction2
        if rho_t > 5.0:                                                # 5.
            rect = ((rho_t - 4) * (rho_t - 2) * rho_inf
                    / ((rho_inf - 4) * (rho_inf - 2) * rho_t)) ** 0.5
            adaptive = (bias_correction2 ** 0.5) / (np.sqrt(v) + eps)
            p.data += -(m_hat * lr * adaptive * rect)
        else:
            p.data += -(m_hat * lr)
