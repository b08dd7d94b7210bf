"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    r"""p <- p - lr * (momentum buffer or gradient), in torch's update order.

    For each parameter p with gradient g, every step::

        1. g = -g                                   if maximize
        2. g = g + weight_decay * p                 (L2 penalty, added to the gradient)
        3. if momentum != 0:
               b = g  (a copy)                      at the first step: no dampening!
               b = momentum * b + (1 - dampening) * g     afterwards
               g = g + momentum * b                 if nesterov, else g = b
        4. p = p - lr * g

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (torch's default 1e-3).
        momentum: momentum factor (default 0: no buffer is kept).
        dampening: dampening of the gradient entering the buffer (default 0).
        weight_decay: L2 penalty coefficient (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.
        foreach, differentiable, fused: accepted and kept in the groups, as torch; ignored.

    State (per parameter): ``momentum_buffer`` (only when momentum != 0).

    Maths:
        b_1 = g_1, \qquad b_t = \mu\, b_{t-1} + (1 - \tau)\, g_t, \qquad g_t = \nabla_p L + \lambda p
        p \leftarrow p - \eta\, b_t \quad \text{(nesterov: } p \leftarrow p - \eta\,(g_t + \mu b_t)\text{)}

    What torch hides:
        the momentum buffer starts as a copy of the first gradient, not as
        zeros, and dampening is not applied to that first step; this velocity
        form (lr multiplies the buffer, not the gradient) differs from
        Sutskever's ``v = mu v - lr g`` as soon as lr changes. Weight decay is
        folded into the gradient before the buffer, so the buffer carries it.
        The layer never updates its own weights: the article's Linear does,
        which couples the layer to one optimizer and cannot express momentum.
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0, dampening: float = 0,
                 weight_decay: float = 0, nesterov: bool = False, *, maximize: bool = False,
                 foreach=None, differentiable: bool = False, fused=None):
        for name, v in (("lr", lr), ("momentum", momentum), ("weight_decay", weight_decay)):
            if v < 0.0:
                raise ValueError(f"SGD: invalid {name} value {v} (expected >= 0)")
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError("SGD: Nesterov momentum requires a momentum and zero dampening, "
                             f"got momentum={momentum}, dampening={dampening}")
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov,
                                      maximize=maximize, foreach=foreach,
                                      differentiable=differentiable, fused=fused))

    def _update(self, p, grad, group) -> None:
        lr, mu, damp = float(group["lr"]), float(group["momentum"]), float(group["dampening"])
        wd = float(group["weight_decay"])
        g = -grad if group["maximize"] else grad                        # 1.
        if wd != 0:
            g = g + wd * p.data                                         # 2.
        if mu != 0:                                                     # 3.
            state = self.state.setdefault(p, {})
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = np.array(g, copy=True)
            else:
                buf *= mu
                buf += (1 - damp) * g
            g = g + mu * buf if group["nesterov"] else buf
        p.data -= lr * g                                                # 4.
