"""Muon, torch 2.13's (``torch.optim.Muon``): momentum, then an orthogonalised update."""
from __future__ import annotations

import math

import numpy as np

from ._bfloat16 import newton_schulz
from .optimizer import Optimizer, check_nonneg, lerp_, scalar

#: torch's defaults: the quintic Newton–Schulz coefficients (Keller Jordan's), 5 steps
NS_COEFFICIENTS = (3.4445, -4.7750, 2.0315)
NS_STEPS = 5
EPS = 1e-7


def adjust_lr(lr: float, adjust_lr_fn, shape: tuple) -> float:
    """torch's ``_adjust_lr``: ``lr · sqrt(max(1, A / B))`` ('original', the default) or
    ``lr · 0.2 · sqrt(max(A, B))`` ('match_rms_adamw') for an (A, B) parameter."""
    A, B = shape[:2]
    if adjust_lr_fn is None or adjust_lr_fn == "original":
        ratio = math.sqrt(max(1, A / B))
    elif adjust_lr_fn == "match_rms_adamw":
        ratio = 0.2 * math.sqrt(max(A, B))
    else:
        ratio = 1.0
    return lr * ratio


class Muon(Optimizer):
    r"""p <- p (1 - lr λ) - lr' · NS(momentum-averaged g): the update's singular values are
    pushed towards 1 by a Newton–Schulz iteration (Jordan et al. 2024), for 2-D parameters.

    For each (A, B) parameter p with gradient g::

        1. buf = lerp(buf, g, 1 - momentum)           (= momentum buf + (1 - momentum) g)
        2. u = lerp(g, buf, momentum)                 if nesterov, else u = buf
        3. O = NS(u): X = u / max(||u||_F, eps) (transposed to be wide), then ns_steps times
               A = X X^T;  B = b A + c A²;  X = a X + B X
           — in bfloat16, whatever p's dtype, rounded after every operation
        4. p = p * (1 - lr * weight_decay)            (decoupled decay, always applied)
        5. p = p - adjust_lr(lr, shape) * O

    Args:
        params: iterable of 2-D Parameters, of (name, Parameter) pairs or of group dicts.
        lr: learning rate (default 1e-3).
        weight_decay: decoupled decay (default 0.1).
        momentum: (default 0.95).
        nesterov: look-ahead momentum (default True).
        ns_coefficients: (a, b, c) of the quintic iteration (default (3.4445, -4.7750, 2.0315)).
        eps: floor of the norm (default 1e-7).
        ns_steps: Newton–Schulz iterations, < 100 (default 5).
        adjust_lr_fn: None/'original' (``sqrt(max(1, A/B))``) or 'match_rms_adamw'
            (``0.2 sqrt(max(A, B))``, so the update's RMS matches AdamW's).

    State (per parameter): ``momentum_buffer`` (no ``step``).

    Maths:
        b_t = \mu b_{t-1} + (1-\mu) g_t, \qquad u_t = \mu b_t + (1 - \mu) g_t \ (\text{nesterov}) \text{ or } b_t, \qquad X \leftarrow a X + \left(b\, XX^\top + c\, (XX^\top)^2\right) X \ (5\times)
        p \leftarrow p\,(1 - \eta\lambda) - \eta \sqrt{\max(1, A/B)}\; \operatorname{NS}(u_t)

    What torch hides:
        the orthogonalisation runs in **bfloat16** even for float64 parameters (an 8-bit
        significand: the update carries ~3 significant digits), and which kernel multiplies
        decides its last bits: ATen's own below m·k·n = 4096 (an accumulation order per
        operand layout), oneDNN's ``vdpbf16ps`` above; npimpl reproduces both bit for bit
        (``npimpl/optim/_bfloat16.py``, measured call by call in ``tests/test_muon_bf16.py``).
        A float32 Muon is therefore discontinuous in its input: a last-bit difference in
        the momentum can move a bfloat16 rounding, and the update by 2^-8 relative. The
        iteration does not converge to U V^T — its coefficients trade convergence for
        speed: for Gaussian gradients 98% of the singular values land in 0.68–1.14, but a
        direction far weaker than ||G||_F stays weak (the slope at 0, a = 3.4445, amplifies
        it at most a^5 ≈ 490 times in 5 steps); ``weight_decay``
        defaults to 0.1, not 0, and is applied to every parameter given; and there is no
        ``step`` counter in the state.
    """

    def __init__(self, params, lr: float = 1e-3, weight_decay: float = 0.1,
                 momentum: float = 0.95, nesterov: bool = True,
                 ns_coefficients: tuple = NS_COEFFICIENTS, eps: float = EPS,
                 ns_steps: int = NS_STEPS, adjust_lr_fn=None):
        name = type(self).__name__
        check_nonneg(name, lr=lr, momentum=momentum, weight_decay=weight_decay)
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, (int, np.integer)):
            raise TypeError(f"{name}: ns_steps must be an int (Newton-Schulz iterations), "
                            f"got {ns_steps!r}")
        if adjust_lr_fn is not None and adjust_lr_fn not in ("original", "match_rms_adamw"):
            raise ValueError(f"{name}: adjust_lr_fn must be None, 'original' or "
                             f"'match_rms_adamw', got {adjust_lr_fn!r}")
        super().__init__(params, dict(lr=lr, weight_decay=weight_decay, momentum=momentum,
                                      nesterov=nesterov, ns_coefficients=tuple(ns_coefficients),
                                      eps=eps, ns_steps=ns_steps, adjust_lr_fn=adjust_lr_fn))
        for g in self.param_groups:
            for p in g["params"]:
                if p.data.ndim != 2:
                    raise ValueError(f"{name}: only 2-D parameters are supported, got one of "
                                     f"shape {p.data.shape}")

    def _orthogonalise(self, u, coefficients, steps, eps) -> np.ndarray:
        """Step 3, torch's bfloat16 Newton–Schulz (a subclass may swap in another)."""
        return newton_schulz(u, coefficients, steps, eps)

    def _update(self, p, grad, group) -> None:
        lr, wd, momentum, eps = (scalar(group[k]) for k in
                                 ("lr", "weight_decay", "momentum", "eps"))
        if group["ns_steps"] >= 100:
            raise ValueError(f"{type(self).__name__}: ns_steps must be < 100, got "
                             f"{group['ns_steps']}")
        if grad.ndim != 2:              # a group added after construction: torch, at the step
            raise ValueError(f"{type(self).__name__}: only 2-D parameters are supported, got "
                             f"one of shape {p.data.shape}")
        state = self.state.setdefault(p, {})
        if "momentum_buffer" not in state:
            state["momentum_buffer"] = np.zeros_like(grad)
        buf = state["momentum_buffer"]
        lerp_(buf, grad, 1 - momentum)                                  # 1.
        if group["nesterov"]:                                           # 2.
            u = lerp_(np.array(grad, copy=True), buf, momentum)
        else:
            u = buf
        o = self._orthogonalise(u, group["ns_coefficients"], group["ns_steps"], eps)  # 3.
        p.data *= 1 - lr * wd                                           # 4.
        p.data += -adjust_lr(lr, group["adjust_lr_fn"], p.data.shape) * o.astype(p.data.dtype)
