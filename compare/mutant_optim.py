"""The buggy optimizers of the mutant gallery (each a subclass of the real ``npimpl.optim``
class with one bug, marked ``# BUG``); ``compare.mutants`` trains each against torch."""
from __future__ import annotations

import numpy as np

import npimpl


# --- optimizers ----------------------------------------------------------------------------
class DampenedFirstStepSGD(npimpl.optim.SGD):
    """SGD whose momentum buffer starts as ``(1 - dampening) g`` instead of ``g``."""

    def step(self):
        for group in self.param_groups:
            mu, damp, lr = group["momentum"], group["dampening"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                buf = state.get("momentum_buffer")
                if buf is None:
                    buf = state["momentum_buffer"] = (1 - damp) * p.grad   # BUG: torch copies g
                else:
                    buf *= mu
                    buf += (1 - damp) * p.grad
                p.data -= lr * buf


class KerasMomentumSGD(npimpl.optim.SGD):
    """Momentum as Keras and Sutskever et al. write it: ``v = mu v - lr g; p += v``.

    Identical to torch's ``b = mu b + g; p -= lr b`` while lr is constant; once lr
    changes, the old velocity keeps the old lr (torch rescales all of it)."""

    def step(self):
        for group in self.param_groups:
            mu, lr = group["momentum"], group["lr"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                state = self.state.setdefault(p, {})
                v = state.setdefault("velocity", np.zeros_like(p.data))
                v *= mu
                v -= lr * p.grad                  # BUG: torch keeps lr outside the buffer
                p.data += v



class NoBiasCorrectionAdam(npimpl.optim.Adam):
    """Adam without the bias corrections ``1 - beta^t``: the first steps are ~10x too small
    (m starts at 0 and needs ~1/(1 - beta1) steps to warm up)."""

    def _update(self, p, grad, group) -> None:
        from npimpl.optim.optimizer import lerp_, step_counter
        lr, eps = float(group["lr"]), float(group["eps"])
        beta1, beta2 = (float(b) for b in group["betas"])
        state = self.state.setdefault(p, {})
        if not state:
            state["step"] = step_counter()
            state["exp_avg"] = np.zeros_like(p.data)
            state["exp_avg_sq"] = np.zeros_like(p.data)
        m, v = state["exp_avg"], state["exp_avg_sq"]
        state["step"] += 1
        lerp_(m, grad, 1 - beta1)
        v *= beta2
        v += (1 - beta2) * grad * grad
        p.data += -lr * m / (np.sqrt(v) + eps)      # BUG: no / (1 - beta1^t), * sqrt(1 - beta2^t)


class L2AdamW(npimpl.optim.AdamW):
    """AdamW whose weight decay is added to the gradient (Adam's L2), so it passes through
    the moments and is normalised away; torch's AdamW shrinks p directly."""

    def _update(self, p, grad, group) -> None:
        super()._update(p, grad, {**group, "decoupled_weight_decay": False})   # BUG
