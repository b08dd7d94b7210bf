"""Rprop, resilient backpropagation, in torch's update order (``torch.optim.Rprop``)."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_nonneg, scalar, step_counter


def _sign(x: np.ndarray) -> np.ndarray:
    """torch's ``sign``: (x > 0) - (x < 0), so sign(NaN) = 0 where NumPy's is NaN."""
    return (x > 0).astype(x.dtype) - (x < 0).astype(x.dtype)


class Rprop(Optimizer):
    r"""p <- p - sign(g) * step_size, each element's step size grown by etaplus while the
    gradient keeps its sign and shrunk by etaminus when it flips (Riedmiller & Braun 1993).

    For each parameter p with gradient g::

        1. g = -g                                     if maximize
        2. s = sign(g * prev)
           factor = etaplus where s > 0, etaminus where s < 0, 1 where s == 0
        3. step_size = clamp(step_size * factor, step_size_min, step_size_max)
        4. g = 0 where s < 0                          (after a sign flip: no move this step,
                                                       and no flip counted at the next)
        5. p = p - sign(g) * step_size
        6. prev = g

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: the initial step size of every element (default 1e-2).
        etas: (etaminus, etaplus), with 0 < etaminus < 1 < etaplus (default (0.5, 1.2)).
        step_sizes: (min, max) step size (default (1e-6, 50)).
        maximize: ascend instead of descend.
        capturable, foreach, differentiable: accepted and kept in the groups; no effect on
            the maths.

    State (per parameter): ``step`` (0-d float32), ``prev`` (the last gradient used),
    ``step_size`` (one per element, starting at lr).

    Maths:
        s_t = \begin{cases} \min(\eta^+ s_{t-1},\, s_{\max}) & g_t g_{t-1} > 0 \\ \max(\eta^- s_{t-1},\, s_{\min}) & g_t g_{t-1} < 0 \\ s_{t-1} & \text{otherwise} \end{cases}
        p \leftarrow p - \operatorname{sign}(g_t)\, s_t \qquad (g_t := 0 \text{ after a sign flip})

    What torch hides:
        only the gradient's sign is used, so Rprop is blind to the gradient's scale (it was
        made for full-batch training: with noisy mini-batch gradients the signs flip at
        random); and lr is only the step sizes' starting value, read once, at the first step
        — a scheduler that changes lr later has no effect.
    """

    def __init__(self, params, lr: float = 1e-2, etas: tuple = (0.5, 1.2),
                 step_sizes: tuple = (1e-6, 50), *, capturable: bool = False, foreach=None,
                 maximize: bool = False, differentiable: bool = False):
        name = type(self).__name__
        check_nonneg(name, lr=lr)
        etaminus, etaplus = (scalar(e, f"{name}: etas") for e in etas)
        if not 0.0 < etaminus < 1.0 < etaplus:
            raise ValueError(f"{name}: invalid eta values {etaminus}, {etaplus} (expected "
                             "0 < etaminus < 1 < etaplus)")
        super().__init__(params, dict(lr=lr, etas=(etaminus, etaplus),
                                      step_sizes=tuple(scalar(s, f"{name}: step_sizes")
                                                       for s in step_sizes),
                                      foreach=foreach, maximize=maximize,
                                      differentiable=differentiable, capturable=capturable))

    def _update(self, p, grad, group) -> None:
        etaminus, etaplus = group["etas"]
        lo, hi = group["step_sizes"]
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            state["prev"] = np.zeros_like(p.data)
            state["step_size"] = np.full_like(grad, scalar(group["lr"]), dtype=p.data.dtype)
        g = -grad if group["maximize"] else grad                       # 1.
        state["step"] += 1
        s = _sign(g * state["prev"])                                   # 2.
        factor = np.where(s > 0, etaplus, np.where(s < 0, etaminus, 1.0)).astype(p.data.dtype)
        step_size = state["step_size"]
        step_size *= factor                                            # 3.
        np.clip(step_size, lo, hi, out=step_size)
        g = np.where(s < 0, 0, g).astype(p.data.dtype)                 # 4.
        p.data += -(_sign(g) * step_size)                              # 5.
        state["prev"][...] = g                                         # 6.
