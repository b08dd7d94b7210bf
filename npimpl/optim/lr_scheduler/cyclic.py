"""Cyclical schedules: CyclicLR (Smith 2017) and CosineAnnealingWarmRestarts (SGDR,
Loshchilov & Hutter 2017), with torch's names, signatures and arithmetic."""
from __future__ import annotations

import math
import types

from ..optimizer import Optimizer
from .base import LRScheduler, cycled_momenta, per_group


class CyclicLR(LRScheduler):
    r"""The lr runs between base_lr and max_lr in triangles of step_size_up + step_size_down
    steps, each triangle's height scaled by ``scale_fn``; momentum runs the other way.

    At step t (``last_epoch``)::

        cycle = floor(1 + t / total),  x = 1 + t / total - cycle        (position in [0, 1))
        s = x / r  if x <= r  else  (x - 1) / (r - 1)                    (r = up / total)
        lr = base_lr + (max_lr - base_lr) * s * scale_fn(cycle or t)
        momentum = max_m - (max_m - base_m) * s * scale_fn(...)          (cycle_momentum)

    Args:
        optimizer: the npimpl optimizer (with ``momentum`` or ``betas`` for cycle_momentum).
        base_lr, max_lr: bounds, one for all groups or a list per group.
        step_size_up: steps from base_lr to max_lr (default 2000).
        step_size_down: steps back down (default: step_size_up).
        mode: 'triangular' (scale 1), 'triangular2' (halved every cycle), 'exp_range'
            (gamma ** t); ignored when ``scale_fn`` is given.
        gamma: of 'exp_range' (default 1.0).
        scale_fn: a custom ``x -> factor``; ``scale_mode`` says whether x is the cycle
            number ('cycle') or the step ('iterations').
        cycle_momentum: also cycle ``momentum`` (SGD, RMSprop) or ``betas[0]`` (Adam family),
            between base_momentum and max_momentum (defaults 0.8, 0.9).
        last_epoch: -1 to start afresh.

    Maths:
        c = \left\lfloor 1 + \frac{t}{T} \right\rfloor, \quad x = 1 + \frac{t}{T} - c, \quad h = \begin{cases} x / r & x \le r \\ (x - 1)/(r - 1) & x > r \end{cases}
        \eta_t = \eta_{\text{base}} + (\eta_{\max} - \eta_{\text{base}})\, h\, \sigma, \qquad m_t = m_{\max} - (m_{\max} - m_{\text{base}})\, h\, \sigma

    What torch hides:
        the constructor overwrites every group's lr with base_lr and its momentum (or beta1)
        with max_momentum, and stores ``base_momentum``/``max_momentum`` in the groups; the
        schedule is closed-form (no recursion), so an lr set by hand is overwritten at the
        next step.
    """

    def __init__(self, optimizer: Optimizer, base_lr, max_lr, step_size_up: int = 2000,
                 step_size_down=None, mode: str = "triangular", gamma: float = 1.0,
                 scale_fn=None, scale_mode: str = "cycle", cycle_momentum: bool = True,
                 base_momentum: float = 0.8, max_momentum: float = 0.9,
                 last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"CyclicLR: {type(optimizer).__name__} is not an npimpl Optimizer")
        self.optimizer = optimizer
        base_lrs = per_group("CyclicLR", "base_lr", optimizer, base_lr)
        if last_epoch == -1:
            for lr, group in zip(base_lrs, optimizer.param_groups):
                group["lr"] = lr
        self.max_lrs = per_group("CyclicLR", "max_lr", optimizer, max_lr)
        step_size_up = float(step_size_up)
        step_size_down = float(step_size_down) if step_size_down is not None else step_size_up
        self.total_size = step_size_up + step_size_down
        if not self.total_size > 0:                   # torch: ZeroDivisionError here
            raise ValueError(f"CyclicLR: step_size_up + step_size_down must be > 0, got "
                             f"{step_size_up:g} + {step_size_down:g}")
        self.step_ratio = step_size_up / self.total_size
        if mode not in ("triangular", "triangular2", "exp_range") and scale_fn is None:
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or "
                             f"'exp_range' when scale_fn is None, got {mode!r}")
        self.mode, self.gamma = mode, gamma
        self._scale_fn_custom = scale_fn
        self.scale_mode = scale_mode
        self._init_scale_fn()
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1, self.base_momentums, self.max_momentums = cycled_momenta(
                "CyclicLR", optimizer, base_momentum, max_momentum, last_epoch)
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _init_scale_fn(self) -> None:
        if self._scale_fn_custom is not None:
            return
        self.scale_mode = "iterations" if self.mode == "exp_range" else "cycle"

    def scale_fn(self, x) -> float:
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self) -> list:
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle
        if x <= self.step_ratio:
            scale_factor = x / self.step_ratio
        else:
            scale_factor = (x - 1) / (self.step_ratio - 1)
        arg = cycle if self.scale_mode == "cycle" else self.last_epoch
        lrs = [base + (top - base) * scale_factor * self.scale_fn(arg)
               for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, m_base, m_max in zip(self.optimizer.param_groups, self.base_momentums,
                                            self.max_momentums):
                momentum = m_max - (m_max - m_base) * scale_factor * self.scale_fn(arg)
                if self.use_beta1:
                    group["betas"] = (momentum, *group["betas"][1:])
                else:
                    group["momentum"] = momentum
        return lrs

    def state_dict(self) -> dict:
        state = super().state_dict()
        fn = state.pop("_scale_fn_custom")
        state["_scale_fn_custom"] = (None if fn is None or isinstance(fn, types.FunctionType)
                                     else dict(fn.__dict__))
        return state

    def load_state_dict(self, state_dict: dict) -> None:
        state = dict(state_dict)
        fn = state.pop("_scale_fn_custom")
        super().load_state_dict(state)
        if fn is not None:
            self._scale_fn_custom.__dict__.update(fn)
        self._init_scale_fn()


class CosineAnnealingWarmRestarts(LRScheduler):
    r"""lr = eta_min + (base_lr - eta_min) (1 + cos(pi T_cur / T_i)) / 2, restarting (T_cur = 0)
    after T_i steps, each period T_mult times the last.

    Args:
        optimizer: the npimpl optimizer.
        T_0: the first period, a positive int.
        T_mult: growth of the period, an int >= 1 (default 1).
        eta_min: the lowest lr (default 0).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_{\min} + \frac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\frac{\pi\, T_{\text{cur}}}{T_i}\right), \qquad T_i = T_0\, T_{\text{mult}}^{\,i}

    What torch hides:
        ``step(epoch)`` accepts a *fractional* epoch (per-batch updates, ``epoch + i / n``)
        and finds its period in closed form, ``n = floor(log_{T_mult}(epoch / T_0 (T_mult - 1)
        + 1))``, while ``step()`` counts whole steps; ``last_epoch`` stores ``floor(epoch)``.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0,
                 last_epoch: int = -1):
        if not isinstance(T_0, int) or T_0 <= 0:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected positive integer T_0, "
                             f"got {T_0!r}")
        if not isinstance(T_mult, int) or T_mult < 1:
            raise ValueError(f"CosineAnnealingWarmRestarts: expected integer T_mult >= 1, "
                             f"got {T_mult!r}")
        if not isinstance(eta_min, (float, int)):
            raise ValueError(f"CosineAnnealingWarmRestarts: expected float or int eta_min, "
                             f"got {eta_min!r}")
        self.T_0, self.T_i, self.T_mult, self.eta_min = T_0, T_0, T_mult, eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        return [self.eta_min + (base - self.eta_min)
                * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2 for base in self.base_lrs]

    def step(self, epoch=None) -> None:
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts: expected non-negative epoch, "
                                 f"got {epoch}")
            if epoch >= self.T_0:
                if self.T_mult == 1:
                    self.T_cur = epoch % self.T_0
                else:
                    n = int(math.log((epoch / self.T_0 * (self.T_mult - 1) + 1), self.T_mult))
                    self.T_cur = epoch - self.T_0 * (self.T_mult ** n - 1) / (self.T_mult - 1)
                    self.T_i = self.T_0 * self.T_mult ** n
            else:
                self.T_i = self.T_0
                self.T_cur = epoch
        self.last_epoch = math.floor(epoch)
        for group, lr in zip(self.optimizer.param_groups, self.get_lr()):
            group["lr"] = lr
        self._last_lr = self._group_lrs()
