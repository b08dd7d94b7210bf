"""ASGD, averaged stochastic gradient descent, in torch's update order (``torch.optim.ASGD``)."""
from __future__ import annotations

import numpy as np

from .optimizer import STEP_DTYPE, Optimizer, check_nonneg, scalar, step_counter


class ASGD(Optimizer):
    r"""SGD with a decaying step ``eta`` and a running average ``ax`` of the iterates
    (Polyak & Juditsky 1992; Bottou 2012).

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                  if maximize
        2. g = g + weight_decay * p                if weight_decay != 0
        3. p = p * (1 - lambd * eta)               (decay)
           p = p - eta * g
        4. ax = ax + mu * (p - ax)                 (ax = p while mu == 1)
        5. eta = lr / (1 + lambd * lr * t) ** alpha
           mu  = 1 / max(1, t - t0)

    ``ax`` (the averaged parameters) is only state: the parameters themselves follow plain
    decayed SGD; copy ``ax`` into the model to use the average.

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: the first step size (default 1e-2).
        lambd: decay term (default 1e-4).
        alpha: power of the step-size decay (default 0.75).
        t0: the step from which averaging starts (default 1e6).
        weight_decay: L2 coefficient (default 0).
        maximize: ascend instead of descend.
        foreach, differentiable, capturable: accepted and kept in the groups; no effect on
            the maths.

    State (per parameter): ``step``, ``eta``, ``mu`` (0-d float32 each) and ``ax``.

    Maths:
        p \leftarrow p\,(1 - \lambda \eta_t) - \eta_t g_t, \qquad \bar p \leftarrow \bar p + \mu_t (p - \bar p)
        \eta_{t+1} = \frac{\eta_0}{(1 + \lambda \eta_0 t)^{\alpha}}, \qquad \mu_{t+1} = \frac{1}{\max(1,\, t - t_0)}

    What torch hides:
        ``eta`` and ``mu`` are stored as float32 tensors (torch's default scalar dtype) and
        read back with ``.item()``, so even a float64 model steps with a float32-rounded
        learning rate: lr=0.1 becomes 0.10000000149011612.
    """

    def __init__(self, params, lr: float = 1e-2, lambd: float = 1e-4, alpha: float = 0.75,
                 t0: float = 1e6, weight_decay: float = 0, foreach=None,
                 maximize: bool = False, differentiable: bool = False,
                 capturable: bool = False):
        check_nonneg(type(self).__name__, lr=lr, weight_decay=weight_decay)
        super().__init__(params, dict(lr=lr, lambd=lambd, alpha=alpha, t0=t0,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize, differentiable=differentiable,
                                      capturable=capturable))

    def _update(self, p, grad, group) -> None:
        lr, lambd, alpha, t0, wd = (scalar(group[k]) for k in
                                    ("lr", "lambd", "alpha", "t0", "weight_decay"))
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            state["eta"] = np.asarray(lr, dtype=STEP_DTYPE)
            state["mu"] = np.ones((), dtype=STEP_DTYPE)
            state["ax"] = np.zeros_like(p.data)
        g = -grad if group["maximize"] else grad                       # 1.
        state["step"] += 1
        if wd != 0:
            g = g + wd * p.data                                        # 2.
        eta = float(state["eta"])
        p.data *= 1 - lambd * eta                                      # 3.
        p.data += -eta * g
        if float(state["mu"]) != 1:                                    # 4.
            state["ax"] += (p.data - state["ax"]) * float(state["mu"])
        else:
            state["ax"][...] = p.data
        t = float(state["step"])                                       # 5.
        state["eta"] = np.asarray(lr / ((1 + lambd * lr * t) ** alpha), dtype=STEP_DTYPE)
        state["mu"] = np.asarray(1 / max(1, t - t0), dtype=STEP_DTYPE)
