"""Adamax: Adam with the infinity norm in place of the second moment."""
from __future__ import annotations

import numpy as np

from .adam import _check_adam_args, _hyperparameters, _lazy_state
from .optimizer import Optimizer, lerp_


class Adamax(Optimizer):
    r"""p <- p - lr / (1 - beta1^t) * m / u, u = max(beta2 u, |g| + eps).

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                  if maximize
        2. g = g + weight_decay * p                (L2, enters m and u)
        3. m = lerp(m, g, 1 - beta1)
        4. u = max(beta2 * u, |g| + eps)
        5. p = p - lr / (1 - beta1^t) * m / u

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (torch's default 2e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to |g| inside the max (default 1e-8).
        weight_decay: L2 coefficient (default 0).
        maximize: ascend instead of descend.
        foreach, differentiable, capturable: accepted and kept in the groups; ignored.

    State (per parameter): ``step`` (0-d float32), ``exp_avg`` (m), ``exp_inf`` (u).

    Maths:
        m_t = \beta_1 m_{t-1} + (1 - \beta_1) g_t, \qquad u_t = \max(\beta_2 u_{t-1}, |g_t| + \epsilon)
        p \leftarrow p - \frac{\eta}{1 - \beta_1^t} \cdot \frac{m_t}{u_t}

    What torch hides:
        eps is added to |g| before the max (so u >= eps and there is no
        division by zero), not to the denominator as in Adam; u needs no bias
        correction, only m does.
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, weight_decay: float = 0, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, capturable: bool = False):
        _check_adam_args("Adamax", lr, betas, eps, weight_decay)
        super().__init__(params, dict(lr=lr, betas=tuple(float(b) for b in betas), eps=eps,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, grad, group) -> None:
        lr, eps, wd, beta1, beta2 = _hyperparameters(group)
        state = _lazy_state(self, p, "exp_avg", "exp_inf")
        g = -grad if group["maximize"] else grad                      # 1.
        state["step"] += 1
        if wd != 0:
            g = g + wd * p.data                                       # 2.
        m, u = state["exp_avg"], state["exp_inf"]
        lerp_(m, g, 1 - beta1)                                        # 3.
        u *= beta2                                                    # 4.
        np.maximum(u, np.abs(g) + eps, out=u)
        clr = lr / (1 - beta1 ** float(state["step"]))                # 5.
        p.data += (-clr) * m / u
