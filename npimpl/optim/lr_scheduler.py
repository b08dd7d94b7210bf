"""Learning-rate schedules with torch's names, signatures and arithmetic
(``torch.optim.lr_scheduler``).

A scheduler rewrites ``group['lr']`` of its optimizer each time ``step()`` is
called (after ``optimizer.step()``, once per epoch or per batch). torch
computes most schedules *recursively*, from the group's current lr
(``lr_t = lr_{t-1} * gamma``), not from the closed form
(``lr_t = base_lr * gamma^t``); the two differ in the last bits, and an lr
someone else changed in between is kept and scaled. Each ``get_lr`` below is
torch's recursive form; ``step(epoch)`` (deprecated in torch) uses the closed
form where torch has one.
"""
from __future__ import annotations

import math
from bisect import bisect_right
from collections import Counter
import copy
import types

from .optimizer import Optimizer


class LRScheduler:
    """Base class: ``initial_lr`` is saved in every group, ``base_lrs`` is read from it,
    and the constructor takes one step (``last_epoch`` -1 -> 0), as torch.

    Args:
        optimizer: the npimpl optimizer whose ``param_groups`` are scheduled.
        last_epoch: index of the last epoch; -1 starts afresh, anything else resumes
            (each group must then already hold ``initial_lr``).

    What torch hides:
        the constructor already calls ``step()`` once (so the lr at epoch 0 is
        the schedule's, e.g. ``start_factor * lr`` for LinearLR); the recursive
        formulas make the lr sequence depend on float rounding of every
        earlier step; ``state_dict()`` is the scheduler's ``__dict__`` without the
        optimizer.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"{type(self).__name__}: {type(optimizer).__name__} is not an "
                            "npimpl Optimizer")
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param 'initial_lr' is not specified "
                                   f"in param_groups[{i}] when resuming with last_epoch >= 0")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._is_initial = False
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list:
        raise NotImplementedError

    def get_last_lr(self) -> list:
        """The lr of each group after the last ``step()``."""
        return self._last_lr

    def step(self, epoch: int | None = None) -> None:
        self._step_count += 1
        if epoch is None:
            self.last_epoch += 1
            values = self.get_lr()
        else:
            self.last_epoch = epoch
            closed = getattr(self, "_get_closed_form_lr", None)
            values = closed() if closed is not None else self.get_lr()
        for group, lr in zip(self.optimizer.param_groups, values):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _group_lrs(self) -> list:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict:
        return {k: copy.deepcopy(v) for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict) -> None:
        self.__dict__.update(copy.deepcopy(state_dict))


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
        if isinstance(lr_lambda, (list, tuple)):
            if len(lr_lambda) != len(optimizer.param_groups):
                raise ValueError(f"LambdaLR: expected {len(optimizer.param_groups)} lr_lambdas, "
                                 f"got {len(lr_lambda)}")
            self.lr_lambdas = list(lr_lambda)
        else:
            self.lr_lambdas = [lr_lambda] * len(optimizer.param_groups)
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


from ._onecycle import OneCycleLR  # noqa: E402  (it subclasses LRScheduler)

__all__ = ["LRScheduler", "LambdaLR", "StepLR", "MultiStepLR", "ExponentialLR",
           "LinearLR", "CosineAnnealingLR", "OneCycleLR"]
