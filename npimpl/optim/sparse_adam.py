"""SparseAdam: Adam for sparse gradients, updating only the rows present
(``torch.optim.SparseAdam``)."""
from __future__ import annotations

import math

import numpy as np

from ..sparse import SparseGrad
from .optimizer import Optimizer, scalar


class SparseAdam(Optimizer):
    r"""Adam where only the rows present in a sparse gradient (``Embedding(sparse=True)``)
    have their moments and values updated; every other row is left exactly as it is.

    For each parameter p with sparse gradient g, at step t (t counts from 1)::

        1. g = -g if maximize; g = coalesce(g): rows R sorted, duplicates summed
        2. on the rows R only:
               m[R] += (g - m[R]) (1 - beta1)
               v[R] += (g² - v[R]) (1 - beta2)
        3. step_size = lr sqrt(1 - beta2^t) / (1 - beta1^t)
        4. p[R] -= step_size m[R] / (sqrt(v[R]) + eps)

    Args:
        params: iterable of Parameters (with sparse gradients), of (name, Parameter) pairs
            or of group dicts.
        lr: learning rate (default 1e-3).
        betas: (beta1, beta2) (default (0.9, 0.999)).
        eps: added to sqrt(v) (default 1e-8).
        maximize: ascend instead of descend.

    State (per parameter): ``step`` (a Python int, not a tensor), ``exp_avg``,
    ``exp_avg_sq`` (dense, like p).

    Maths:
        m_R \leftarrow \beta_1 m_R + (1-\beta_1) g_R, \qquad v_R \leftarrow \beta_2 v_R + (1-\beta_2) g_R^2 \qquad (R: \text{the rows present})
        p_R \leftarrow p_R - \frac{\eta \sqrt{1-\beta_2^t}}{1-\beta_1^t} \cdot \frac{m_R}{\sqrt{v_R} + \epsilon}

    What torch hides:
        this is not Adam on the dense gradient with zeros elsewhere: a row absent from the
        batch keeps its moments frozen instead of decaying them, so a rare word's momentum
        survives until it is seen again — and the bias correction uses the global step t,
        not how often that row was updated. ``step`` is a plain int here, unlike every other
        optimizer's float32 tensor. A dense gradient is refused.
    """

    sparse_grads = "sparse"

    def __init__(self, params, lr: float = 1e-3, betas: tuple = (0.9, 0.999),
                 eps: float = 1e-8, maximize: bool = False):
        name = type(self).__name__
        if not 0.0 < scalar(lr, f"{name}: lr"):                     # torch: lr > 0, not >= 0
            raise ValueError(f"{name}: invalid learning rate {lr} (expected > 0)")
        if not 0.0 < scalar(eps):
            raise ValueError(f"{name}: invalid epsilon value {eps} (expected > 0)")
        betas = tuple(scalar(b, f"{name}: betas") for b in betas)
        for i, b in enumerate(betas):
            if not 0.0 <= b < 1.0:
                raise ValueError(f"{name}: invalid beta parameter at index {i}: {b} "
                                 "(expected 0 <= beta < 1)")
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, maximize=maximize))

    def _update(self, p, grad, group) -> None:
        if not isinstance(grad, SparseGrad):
            raise TypeError(f"{type(self).__name__} does not support dense gradients, please "
                            "consider Adam instead (expected a SparseGrad from "
                            "Embedding(sparse=True))")
        lr, eps = scalar(group["lr"]), scalar(group["eps"])
        beta1, beta2 = group["betas"]
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = 0
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        state["step"] += 1
        g = (-grad if group["maximize"] else grad).coalesce()          # 1.
        if g.nnz == 0:
            return
        rows, values = g.indices, g.values
        m, v = state["exp_avg"], state["exp_avg_sq"]
        old_m, old_v = m[rows], v[rows]                                 # 2.
        m_update = (values - old_m) * (1 - beta1)
        m[rows] = old_m + m_update
        v_update = (values ** 2 - old_v) * (1 - beta2)
        v[rows] = old_v + v_update
        numer = m_update + old_m
        denom = np.sqrt(v_update + old_v) + eps
        t = state["step"]                                               # 3.
        step_size = lr * math.sqrt(1 - beta2 ** t) / (1 - beta1 ** t)
        p.data[rows] += -step_size * (numer / denom)                    # 4.
