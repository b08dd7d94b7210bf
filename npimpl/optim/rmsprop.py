"""RMSprop: divide the gradient by a running root-mean-square, in torch's update order."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, lerp_, step_counter


class RMSprop(Optimizer):
    r"""p <- p - lr * g / (sqrt(v - centered * a^2) + eps), v a running mean of g^2.

    For each parameter p with gradient g, every step::

        1. g = -g                                   if maximize
        2. g = g + weight_decay * p                 (L2, enters v and the buffer)
        3. v = alpha * v + (1 - alpha) * g * g
        4. if centered: a = lerp(a, g, 1 - alpha);  avg = sqrt(v - a * a)
           else:        avg = sqrt(v)
           avg = avg + eps
        5. if momentum > 0: b = momentum * b + g / avg;  p = p - lr * b
           else:            p = p - lr * g / avg

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (torch's default 1e-2).
        alpha: smoothing constant of the running mean of g^2 (default 0.99).
        eps: added to the root, outside the sqrt (default 1e-8).
        weight_decay: L2 coefficient (default 0).
        momentum: momentum factor (default 0).
        centered: subtract the squared running mean of g (an estimate of the variance).
        maximize: ascend instead of descend.
        capturable, foreach, differentiable: accepted and kept in the groups; ignored.

    State (per parameter): ``step`` (0-d float32, counted but unused), ``square_avg`` (v),
    ``momentum_buffer`` (momentum > 0), ``grad_avg`` (a, centered only).

    Maths:
        v_t = \alpha v_{t-1} + (1 - \alpha) g_t^2, \qquad p \leftarrow p - \eta\, \frac{g_t}{\sqrt{v_t} + \epsilon}

    What torch hides:
        v starts at zero and is never bias-corrected, so the first steps are
        large (g / sqrt(1 - alpha) |g|, ten times lr for alpha = 0.99); eps sits
        outside the sqrt (Hinton's slides and TensorFlow put it inside); the
        momentum buffer starts at zero (unlike SGD's) and accumulates g / avg,
        so lr multiplies the buffer. ``step`` is kept but no formula uses it.
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8,
                 weight_decay: float = 0, momentum: float = 0, centered: bool = False,
                 capturable: bool = False, foreach=None, maximize: bool = False,
                 differentiable: bool = False):
        for name, v in (("learning rate", lr), ("epsilon", eps), ("momentum", momentum),
                        ("weight_decay", weight_decay), ("alpha", alpha)):
            if not 0.0 <= v:
                raise ValueError(f"RMSprop: invalid {name} value {v} (expected >= 0)")
        super().__init__(params, dict(lr=lr, momentum=momentum, alpha=alpha, eps=eps,
                                      centered=centered, weight_decay=weight_decay,
                                      capturable=capturable, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable))

    def _update(self, p, grad, group) -> None:
        lr, alpha, eps = float(group["lr"]), float(group["alpha"]), float(group["eps"])
        wd, mu = float(group["weight_decay"]), float(group["momentum"])
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            state["square_avg"] = np.zeros_like(p.data)
            if mu > 0:
                state["momentum_buffer"] = np.zeros_like(p.data)
            if group["centered"]:
                state["grad_avg"] = np.zeros_like(p.data)
        g = -grad if group["maximize"] else grad                      # 1.
        state["step"] += 1
        if wd != 0:
            g = g + wd * p.data                                       # 2.
        v = state["square_avg"]
        v *= alpha                                                    # 3.
        v += (1 - alpha) * g * g
        if group["centered"]:                                         # 4.
            a = lerp_(state["grad_avg"], g, 1 - alpha)
            avg = np.sqrt(v + (-1.0) * a * a)
        else:
            avg = np.sqrt(v)
        avg += eps
        if mu > 0:                                                    # 5.
            buf = state["momentum_buffer"]
            buf *= mu
            buf += g / avg
            p.data -= lr * buf
        else:
            p.data += (-lr) * g / avg
