"""Adadelta, in torch's update order (``torch.optim.Adadelta``)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_nonneg, lazy_state, scalar


class Adadelta(Optimizer):
    r"""p <- p - lr * sqrt(u + eps) / sqrt(v + eps) * g, with running averages v of g² and u of
    the squared updates (Zeiler, 2012).

    For each parameter p with gradient g::

        1. g = -g                                  if maximize
        2. g = g + weight_decay * p                if weight_decay != 0
        3. v = rho * v + (1 - rho) * g * g         (square_avg)
        4. delta = sqrt(u + eps) / sqrt(v + eps) * g
        5. u = rho * u + (1 - rho) * delta * delta (acc_delta)
        6. p = p - lr * delta

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: scales the update (default 1.0: the paper has no learning rate).
        rho: decay of both running averages (default 0.9).
        eps: inside both square roots (default 1e-6).
        weight_decay: L2 coefficient (default 0).
        maximize: ascend instead of descend.
        foreach, capturable, differentiable: accepted and kept in the groups; they change
            how torch runs the maths, not the maths.

    State (per parameter): ``step`` (0-d float32), ``square_avg`` (v), ``acc_delta`` (u).

    Maths:
        v_t = \rho v_{t-1} + (1-\rho) g_t^2, \qquad \Delta_t = \frac{\sqrt{u_{t-1} + \epsilon}}{\sqrt{v_t + \epsilon}}\, g_t, \qquad u_t = \rho u_{t-1} + (1-\rho) \Delta_t^2
        p \leftarrow p - \eta\, \Delta_t

    What torch hides:
        the first update is ``sqrt(eps) / sqrt((1 - rho) g² + eps) · g``: for |g| well above
        sqrt(eps / (1 - rho)) ≈ 3e-3 that is ≈ 3e-3 · sign(g) whatever the gradient's scale,
        below it ≈ g. Adadelta's "unit correction" starts from eps, so ``eps`` acts as the
        initial learning rate.
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6,
                 weight_decay: float = 0, foreach=None, *, capturable: bool = False,
                 maximize: bool = False, differentiable: bool = False):
        name = type(self).__name__
        check_nonneg(name, lr=lr, eps=eps, weight_decay=weight_decay)
        if not 0.0 <= scalar(rho) <= 1.0:
            raise ValueError(f"{name}: invalid rho value {rho} (expected 0 <= rho <= 1)")
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay,
                                      maximize=maximize, capturable=capturable,
                                      foreach=foreach, differentiable=differentiable))

    def _update(self, p, grad, group) -> None:
        lr, rho, eps, wd = (scalar(group[k]) for k in ("lr", "rho", "eps", "weight_decay"))
        state = lazy_state(self, p, "square_avg", "acc_delta")
        v, u = state["square_avg"], state["acc_delta"]
        state["step"] += 1
        g = -grad if group["maximize"] else grad                       # 1.
        if wd != 0:
            g = g + wd * p.data                                        # 2.
        v *= rho                                                       # 3.
        v += (1 - rho) * g * g
        std = np.sqrt(v + eps)
        delta = np.sqrt(u + eps) / std * g                             # 4.
        u *= rho                                                       # 5.
        u += (1 - rho) * delta * delta
        p.data += -lr * delta                                          # 6.
