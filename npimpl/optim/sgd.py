"""Stochastic gradient descent with momentum, dampening, Nesterov and weight decay."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent, in torch's update order.

    For each parameter p with gradient g, at step t::

        g = -g                      if maximize
        g = g + weight_decay * p    (L2 penalty, added to the gradient)
        if momentum != 0:
            b = g                                     at the first step (no dampening!)
            b = momentum * b + (1 - dampening) * g    afterwards
            g = g + momentum * b    if nesterov  else  g = b
        p = p - lr * g

    Args:
        params: iterable of Parameters or of parameter-group dicts.
        lr: learning rate (torch's default 1e-3).
        momentum, dampening, weight_decay: as above (default 0).
        nesterov: Nesterov momentum (needs momentum > 0 and dampening = 0).
        maximize: ascend instead of descend.

    What torch hides:
        the momentum buffer starts as a copy of the first gradient, not as
        zeros, and dampening is not applied to that first step; this velocity
        form differs from Sutskever's ``v = mu v - lr g`` when lr changes.
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
                                      maximize=maximize))

    def step(self) -> None:
        for group in self.param_groups:
            lr, mu, damp = group["lr"], group["momentum"], group["dampening"]
            wd, nesterov, maximize = group["weight_decay"], group["nesterov"], group["maximize"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                g = -p.grad if maximize else p.grad
                if wd != 0:
                    g = g + wd * p.data
                if mu != 0:
                    state = self.state.setdefault(p, {})
                    buf = state.get("momentum_buffer")
                    if buf is None:
                        buf = state["momentum_buffer"] = np.array(g, copy=True)
                    else:
                        buf *= mu
                        buf += (1 - damp) * g
                    g = g + mu * buf if nesterov else buf
                p.data -= lr * g
