"""Adagrad: per-coordinate learning rates from the sum of all squared gradients."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, step_counter


class Adagrad(Optimizer):
    r"""p <- p - lr_t * g / (sqrt(sum of g^2) + eps), lr_t = lr / (1 + (t - 1) lr_decay).

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                  if maximize
        2. g = g + weight_decay * p                (L2, enters the sum)
        3. clr = lr / (1 + (t - 1) * lr_decay)
        4. s = s + g * g
        5. p = p - clr * g / (sqrt(s) + eps)

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (torch's default 1e-2).
        lr_decay: inverse-time decay of the learning rate (default 0).
        weight_decay: L2 coefficient (default 0).
        initial_accumulator_value: the starting value of every s (default 0).
        eps: added to sqrt(s) (torch's default 1e-10, not Adam's 1e-8).
        maximize: ascend instead of descend.
        foreach, differentiable, fused: accepted and kept in the groups; ignored.

    State (per parameter): ``step`` (0-d float32), ``sum`` (s).

    Maths:
        s_t = s_{t-1} + g_t^2, \qquad p \leftarrow p - \frac{\eta}{1 + (t - 1)\,\delta} \cdot \frac{g_t}{\sqrt{s_t} + \epsilon}

    What torch hides:
        the state is created in the constructor, for every parameter (a
        state_dict taken before the first step already lists each one with
        step 0 and sum = initial_accumulator_value), where every other
        optimizer creates it lazily at the first step with a gradient; the
        step counter is a float, and lr_decay uses t - 1, so step 1 runs at lr.
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0, weight_decay: float = 0,
                 initial_accumulator_value: float = 0, eps: float = 1e-10, foreach=None, *,
                 maximize: bool = False, differentiable: bool = False, fused=None):
        for name, v in (("learning rate", lr), ("lr_decay", lr_decay),
                        ("weight_decay", weight_decay),
                        ("initial_accumulator_value", initial_accumulator_value),
                        ("epsilon", eps)):
            if not 0.0 <= v:
                raise ValueError(f"Adagrad: invalid {name} value {v} (expected >= 0)")
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, eps=eps,
                                      weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value,
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, fused=fused))

    def add_param_group(self, param_group: dict) -> None:
        """Add a group and create its state at once (torch does this in the constructor)."""
        super().add_param_group(param_group)
        group = self.param_groups[-1]
        for p in group["params"]:
            self.state[p] = {"step": step_counter(),
                             "sum": np.full_like(p.data, group["initial_accumulator_value"])}

    def _update(self, p, grad, group) -> None:
        lr, eps, wd = float(group["lr"]), float(group["eps"]), float(group["weight_decay"])
        state = self.state[p]
        state["step"] += 1
        step = float(state["step"])
        g = -grad if group["maximize"] else grad                      # 1.
        if wd != 0:
            g = g + wd * p.data                                       # 2.
        clr = lr / (1 + (step - 1) * float(group["lr_decay"]))        # 3.
        s = state["sum"]
        s += 1.0 * g * g                                              # 4.
        std = np.sqrt(s) + eps
        p.data += (-clr) * g / std                                    # 5.
