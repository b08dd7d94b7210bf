"""The closed-form and recursive schedules: LambdaLR, MultiplicativeLR, StepLR, MultiStepLR,
ConstantLR, LinearLR, ExponentialLR, PolynomialLR, CosineAnnealingLR (torch's names,
signatures and arithmetic; see :mod:`.base` for the step protocol)."""
from __future__ import annotations

import copy
import math
import types
from bisect import bisect_right
from collections import Counter

from ..optimizer import Optimizer
from .base import LRScheduler, per_group



class LambdaLR(LRScheduler):
    r"""``lr_t = base_lr * lr_lambda(t)`` (closed form; one lambda per group or one for all).

    Args:
        optimizer: the npimpl optimizer.
        lr_lambda: ``epoch -> factor``, or a list with one function per param group.
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0 \cdot \lambda(t)

    What torch hides:
        ``state_dict()`` cannot save plain functions (they come back as None);
        only callable objects keep their ``__dict__``.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.optimizer = optimizer
        self.lr_lambdas = per_group("LambdaLR", "lr_lambdas", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def state_dict(self) -> dict:
        """As torch: plain functions are not saved (None); callable objects save their __dict__."""
        sd = {k: copy.deepcopy(v) for k, v in self.__dict__.items()
              if k not in ("optimizer", "lr_lambdas")}
        sd["lr_lambdas"] = [None if isinstance(fn, types.FunctionType) else dict(fn.__dict__)
                            for fn in self.lr_lambdas]
        return sd

    def load_state_dict(self, state_dict: dict) -> None:
        sd = dict(state_dict)
        lambdas = sd.pop("lr_lambdas")
        self.__dict__.update(copy.deepcopy(sd))
        for fn, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                fn.__dict__.update(saved)

    def get_lr(self) -> list:
        return [base_lr * lmbda(self.last_epoch)
                for lmbda, base_lr in zip(self.lr_lambdas, self.base_lrs)]


class StepLR(LRScheduler):
    r"""``lr_t = lr_{t-1} * gamma`` when t is a positive multiple of step_size, else ``lr_{t-1}``.

    Args:
        optimizer: the npimpl optimizer.
        step_size: epochs between two decays.
        gamma: the decay factor (default 0.1).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0\, \gamma^{\lfloor t / \text{step\_size} \rfloor}
    """

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.step_size = step_size
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** (self.last_epoch // self.step_size)
                for base_lr in self.base_lrs]


class MultiStepLR(LRScheduler):
    r"""``lr_t = lr_{t-1} * gamma^(times t appears in milestones)``, else ``lr_{t-1}``.

    Args:
        optimizer: the npimpl optimizer.
        milestones: epochs at which to decay; a repeated milestone decays that many times.
        gamma: the decay factor (default 0.1).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0\, \gamma^{\#\{m \in \text{milestones}:\; m \le t\}}
    """

    def __init__(self, optimizer: Optimizer, milestones, gamma: float = 0.1,
                 last_epoch: int = -1):
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch not in self.milestones:
            return self._group_lrs()
        return [group["lr"] * self.gamma ** self.milestones[self.last_epoch]
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        milestones = sorted(self.milestones.elements())
        return [base_lr * self.gamma ** bisect_right(milestones, self.last_epoch)
                for base_lr in self.base_lrs]


class ExponentialLR(LRScheduler):
    r"""``lr_t = lr_{t-1} * gamma`` (``lr_0`` = the optimizer's lr).

    Args:
        optimizer: the npimpl optimizer.
        gamma: the factor applied at every step.
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0\, \gamma^{t}
    """

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial:
            return self._group_lrs()
        return [group["lr"] * self.gamma for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * self.gamma ** self.last_epoch for base_lr in self.base_lrs]


class LinearLR(LRScheduler):
    r"""``lr_t = base_lr * (start + (end - start) * min(t, total_iters) / total_iters)``,
    computed recursively as ``lr_{t-1} * (1 + (end - start) / (total_iters start + (t-1)(end - start)))``.

    Args:
        optimizer: the npimpl optimizer.
        start_factor: the factor at epoch 0, in (0, 1] (default 1/3).
        end_factor: the factor from total_iters on, in [0, 1] (default 1).
        total_iters: the length of the ramp (default 5).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0 \left(s + (e - s)\frac{\min(t, T)}{T}\right)
    """

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3,
                 end_factor: float = 1.0, total_iters: int = 5, last_epoch: int = -1):
        if start_factor > 1.0 or start_factor <= 0:
            raise ValueError(f"LinearLR: start_factor expected in (0, 1], got {start_factor}")
        if end_factor > 1.0 or end_factor < 0:
            raise ValueError(f"LinearLR: end_factor expected in [0, 1], got {end_factor}")
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return [group["lr"] * self.start_factor for group in self.optimizer.param_groups]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        d = self.end_factor - self.start_factor
        return [group["lr"] * (1.0 + d / (self.total_iters * self.start_factor
                                          + (self.last_epoch - 1) * d))
                for group in self.optimizer.param_groups]

    def _get_closed_form_lr(self) -> list:
        return [base_lr * (self.start_factor + (self.end_factor - self.start_factor)
                           * min(self.total_iters, self.last_epoch) / self.total_iters)
                for base_lr in self.base_lrs]


class CosineAnnealingLR(LRScheduler):
    r"""``eta_t = eta_min + (base_lr - eta_min)(1 + cos(pi t / T_max)) / 2``, computed recursively:
    ``lr_t = (1 + cos(pi t/T)) / (1 + cos(pi (t-1)/T)) * (lr_{t-1} - eta_min) + eta_min``.

    Args:
        optimizer: the npimpl optimizer.
        T_max: the half period, in steps.
        eta_min: the lowest lr (default 0).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_{\min} + \frac{\eta_0 - \eta_{\min}}{2}\left(1 + \cos\frac{\pi t}{T_{\max}}\right)

    What torch hides:
        past T_max the recursion does not stop: the lr climbs back to base_lr
        at 2 T_max (SGDR without restarts), and at t - 1 - T_max = 0 mod 2 T_max,
        where the ratio would divide by zero, torch adds the closed-form
        increment instead.
    """

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0,
                 last_epoch: int = -1):
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial:
            return self._group_lrs()
        groups = self.optimizer.param_groups
        if self._step_count == 1 and self.last_epoch > 0:
            return [self.eta_min + (base_lr - self.eta_min)
                    * (1 + math.cos(self.last_epoch * math.pi / self.T_max)) / 2
                    for base_lr in self.base_lrs]
        if (self.last_epoch - 1 - self.T_max) % (2 * self.T_max) == 0:
            return [group["lr"] + (base_lr - self.eta_min)
                    * (1 - math.cos(math.pi / self.T_max)) / 2
                    for base_lr, group in zip(self.base_lrs, groups)]
        return [(1 + math.cos(math.pi * self.last_epoch / self.T_max))
                / (1 + math.cos(math.pi * (self.last_epoch - 1) / self.T_max))
                * (group["lr"] - self.eta_min) + self.eta_min
                for group in groups]

    def _get_closed_form_lr(self) -> list:
        return [self.eta_min + (base_lr - self.eta_min)
                * (1 + math.cos(math.pi * self.last_epoch / self.T_max)) / 2
                for base_lr in self.base_lrs]


class MultiplicativeLR(LRScheduler):
    r"""``lr_t = lr_{t-1} * lr_lambda(t)`` (recursive; one function per group or one for all).

    Args:
        optimizer: the npimpl optimizer.
        lr_lambda: ``epoch -> factor``, or a list with one function per param group.
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_{t-1} \cdot \lambda(t)

    What torch hides:
        unlike LambdaLR, the factor multiplies the *current* lr, so a constant lambda of 0.95
        is exponential decay; at construction no factor is applied (the lr stays); as with
        LambdaLR, ``state_dict()`` saves callable objects' ``__dict__`` and plain functions
        as None.
    """

    def __init__(self, optimizer: Optimizer, lr_lambda, last_epoch: int = -1):
        self.optimizer = optimizer
        self.lr_lambdas = per_group("MultiplicativeLR", "lr_lambdas", optimizer,
                                    lr_lambda)
        for fn in self.lr_lambdas:
            if not callable(fn):
                raise TypeError(f"MultiplicativeLR: lr_lambda should be a function, got "
                                f"{type(fn).__name__}")
        super().__init__(optimizer, last_epoch)

    state_dict = LambdaLR.state_dict
    load_state_dict = LambdaLR.load_state_dict

    def get_lr(self) -> list:
        if self._is_initial:
            return self._group_lrs()
        return [g["lr"] * fn(self.last_epoch)
                for fn, g in zip(self.lr_lambdas, self.optimizer.param_groups)]


class ConstantLR(LRScheduler):
    r"""lr_t = base_lr * factor for t < total_iters, then base_lr.

    Args:
        optimizer: the npimpl optimizer.
        factor: in [0, 1] (default 1/3).
        total_iters: steps at the reduced lr (default 5).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0 \cdot \begin{cases} \text{factor} & t < T \\ 1 & t \ge T \end{cases}

    What torch hides:
        the recursive form divides by ``factor`` at t = total_iters to restore the lr, so
        factor = 0 is accepted at construction and gives ``0 * (1 / 0)``: a division by
        zero at the switch (torch raises ZeroDivisionError there, so does npimpl).
    """

    def __init__(self, optimizer: Optimizer, factor: float = 1.0 / 3, total_iters: int = 5,
                 last_epoch: int = -1):
        if factor > 1.0 or factor < 0:
            raise ValueError(f"ConstantLR: factor expected to be between 0 and 1, got {factor}")
        self.factor, self.total_iters = factor, total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self.last_epoch == 0:
            return [lr * self.factor for lr in self._group_lrs()]
        if self.last_epoch != self.total_iters:
            return self._group_lrs()
        return [lr * (1.0 / self.factor) for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base * (self.factor + (self.last_epoch >= self.total_iters) * (1 - self.factor))
                for base in self.base_lrs]


class PolynomialLR(LRScheduler):
    r"""lr_t = base_lr * (1 - min(t, total_iters) / total_iters) ** power.

    Args:
        optimizer: the npimpl optimizer.
        total_iters: steps until the lr reaches 0 (default 5).
        power: of the polynomial (default 1.0, linear decay).
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \eta_0 \left(1 - \frac{\min(t, T)}{T}\right)^{p}

    What torch hides:
        computed recursively as ``lr_{t-1} * ((1 - t/T) / (1 - (t-1)/T)) ** power``, which
        reaches exactly 0 at t = T (the numerator is 0) and stays there.
    """

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0,
                 last_epoch: int = -1):
        self.total_iters, self.power = total_iters, power
        super().__init__(optimizer, last_epoch)

    def get_lr(self) -> list:
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._group_lrs()
        decay = ((1.0 - self.last_epoch / self.total_iters)
                 / (1.0 - (self.last_epoch - 1) / self.total_iters)) ** self.power
        return [lr * decay for lr in self._group_lrs()]

    def _get_closed_form_lr(self) -> list:
        return [base * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters)
                ** self.power for base in self.base_lrs]
