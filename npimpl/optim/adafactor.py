"""Adafactor, torch 2.13's variant (``torch.optim.Adafactor``): factored second moments."""
from __future__ import annotations

import numpy as np

from .optimizer import Optimizer, check_nonneg, lerp_, scalar, step_counter


class Adafactor(Optimizer):
    r"""Adam-like steps whose second moment of an (…, R, C) gradient is kept as a row vector
    (…, R, 1) and a column vector (…, 1, C) instead of R·C numbers (Shazeer & Stern 2018).

    For each parameter p with gradient g, at step t (t counts from 1)::

        1. g = -g                                   if maximize
        2. beta2_t = 1 - t^beta2_decay  (the lerp weight is w_t = t^beta2_decay, 1 at t = 1)
           rho_t = min(lr, 1 / sqrt(t))
           alpha = max(eps2, RMS(p)) * rho_t        (relative step size; RMS(p) = ||p|| / sqrt(n))
        3. p = p * (1 - lr * weight_decay)          if weight_decay != 0
        4. a matrix (or stack of matrices) g:
               r = lerp(r, mean(g², dim=-1), w_t)   (row_var, (…, R, 1))
               c = lerp(c, mean(g², dim=-2), w_t)   (col_var, (…, 1, C))
               v_hat = (r @ c) / max(mean(r, dim=-2), eps1)   (a rank-1 estimate of E[g²])
           a vector g:
               v = lerp(v, g², w_t);  v_hat = v
        5. u = g / sqrt(max(v_hat, eps1²))
        6. p = p - alpha / max(1, RMS(u) / d) * u   (update clipping at d)

    Args:
        params: iterable of Parameters, of (name, Parameter) pairs or of group dicts.
        lr: caps the relative step size rho_t (default 1e-2).
        beta2_decay: the exponent of the second-moment decay schedule, <= 0 (default -0.8).
        eps: (eps1, eps2): eps1 floors the variance estimate (None: the dtype's machine
            epsilon), eps2 floors RMS(p) in the step size (default (None, 1e-3)).
        d: the update-clipping threshold, >= 1 (default 1.0).
        weight_decay: decoupled decay coefficient (default 0).
        maximize: ascend instead of descend.
        foreach: accepted and kept in the groups; no effect on the maths.

    State (per parameter): ``step`` (0-d float32); ``row_var`` and ``col_var`` for a
    parameter of 2 or more dims, ``variance`` for a vector.

    Maths:
        R_t = \hat\beta_t R_{t-1} + (1 - \hat\beta_t) \operatorname{mean}_{\text{cols}} g_t^2, \quad C_t = \hat\beta_t C_{t-1} + (1 - \hat\beta_t) \operatorname{mean}_{\text{rows}} g_t^2, \quad \hat\beta_t = 1 - t^{-0.8}
        \hat v_t = \frac{R_t C_t}{\operatorname{mean}(R_t)}, \qquad u_t = \frac{g_t}{\sqrt{\hat v_t}}
        p \leftarrow p - \frac{\max(\epsilon_2, \operatorname{RMS}(p))\, \min(\eta, 1/\sqrt t)}{\max(1, \operatorname{RMS}(u_t)/d)}\, u_t

    What torch hides:
        torch's Adafactor is not the paper's nor Hugging Face's: it has no first moment at
        all, its second-moment decay 1 - t^-0.8 starts at 0 (the first step sees only g²),
        the step size is relative to the parameter's RMS (floored at eps2 = 1e-3, so a
        zero-initialised bias moves by at most 1e-3 · rho_t per step), and the factored
        estimate divides by the mean of the row factors, not of the whole matrix.
    """

    def __init__(self, params, lr: float = 1e-2, beta2_decay: float = -0.8,
                 eps: tuple = (None, 1e-3), d: float = 1.0, weight_decay: float = 0.0, *,
                 foreach=None, maximize: bool = False):
        name = type(self).__name__
        check_nonneg(name, lr=lr, weight_decay=weight_decay)
        if not 0.0 >= scalar(beta2_decay):
            raise ValueError(f"{name}: beta2_decay should be <= 0, got {beta2_decay}")
        if eps[0] is not None and not scalar(eps[0]) >= 0:
            raise ValueError(f"{name}: epsilon1 should be >= 0, got {eps[0]}")
        if not scalar(eps[1]) >= 0:
            raise ValueError(f"{name}: epsilon2 should be >= 0, got {eps[1]}")
        if not 1.0 <= scalar(d):
            raise ValueError(f"{name}: clipping threshold d should be >= 1, got {d}")
        super().__init__(params, dict(lr=lr, beta2_decay=beta2_decay, eps=tuple(eps), d=d,
                                      weight_decay=weight_decay, foreach=foreach,
                                      maximize=maximize))

    def _update(self, p, grad, group) -> None:
        lr, beta2_decay, d, wd = (scalar(group[k]) for k in
                                  ("lr", "beta2_decay", "d", "weight_decay"))
        eps1, eps2 = group["eps"]
        eps1 = float(np.finfo(p.data.dtype).eps) if eps1 is None else scalar(eps1)
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            if grad.ndim > 1:
                state["row_var"] = np.zeros(grad.shape[:-1] + (1,), dtype=grad.dtype)
                state["col_var"] = np.zeros(grad.shape[:-2] + (1, grad.shape[-1]),
                                            dtype=grad.dtype)
            else:
                state["variance"] = np.zeros_like(grad)
        g = -grad if group["maximize"] else grad                       # 1.
        state["step"] += 1
        t = float(state["step"])
        w = t ** beta2_decay                                           # 2.
        rho = min(lr, 1 / (t ** 0.5))
        alpha = max(scalar(eps2), float(np.linalg.norm(p.data.ravel())) / p.data.size ** 0.5) * rho
        if wd != 0:
            p.data *= 1 - lr * wd                                      # 3.
        if g.ndim > 1:                                                 # 4.
            r, c = state["row_var"], state["col_var"]
            lerp_(r, np.square(np.linalg.norm(g, axis=-1, keepdims=True)) / g.shape[-1], w)
            lerp_(c, np.square(np.linalg.norm(g, axis=-2, keepdims=True)) / g.shape[-2], w)
            v_hat = (r @ c) / np.maximum(r.mean(axis=-2, keepdims=True), eps1)
        else:
            v = state["variance"]
            lerp_(v, g * g, w)
            v_hat = v.copy()
        u = 1 / np.sqrt(np.maximum(v_hat, eps1 * eps1)) * g            # 5.
        denom = max(1.0, float(np.linalg.norm(u.ravel())) / (u.size ** 0.5 * d))
        p.data += (-alpha / denom) * u                                 # 6.
