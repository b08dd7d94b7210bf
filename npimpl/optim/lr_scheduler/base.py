"""The scheduler base class, with torch's names and step protocol
(``torch.optim.lr_scheduler.LRScheduler``).

A scheduler rewrites ``group['lr']`` of its optimizer each time ``step()`` is
called (after ``optimizer.step()``, once per epoch or per batch). torch
computes most schedules *recursively*, from the group's current lr
(``lr_t = lr_{t-1} * gamma``), not from the closed form
(``lr_t = base_lr * gamma^t``); the two differ in the last bits, and an lr
someone else changed in between is kept and scaled. Each ``get_lr`` is
torch's recursive form; ``step(epoch)`` (deprecated in torch) uses the closed
form where torch has one.
"""
from __future__ import annotations

import copy

from ..optimizer import Optimizer



def per_group(owner: str, name: str, optimizer, value) -> list:
    """One value per param group (torch's ``_format_param``): a list or tuple must have one
    per group, anything else is repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{owner}: {name} must have one value per param group: "
                             f"{len(value)} values, {len(optimizer.param_groups)} groups")
        return list(value)
    return [value] * len(optimizer.param_groups)



def cycled_momenta(owner: str, optimizer, base_momentum, max_momentum,
                   last_epoch: int) -> tuple[bool, list, list]:
    """What CyclicLR and OneCycleLR do to the momentum they cycle: ``momentum`` (SGD,
    RMSprop) or Adam's ``betas[0]`` (``use_beta1``), set to max_momentum in every group at a
    fresh start, with ``max_momentum``/``base_momentum`` stored in the groups. Returns
    ``(use_beta1, base momenta, max momenta)``, one per group."""
    if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
        raise ValueError(f"{owner}: optimizer must support momentum or beta1 with "
                         "cycle_momentum=True")
    use_beta1 = "betas" in optimizer.defaults
    base_ms = per_group(owner, "base_momentum", optimizer, base_momentum)
    max_ms = per_group(owner, "max_momentum", optimizer, max_momentum)
    if last_epoch == -1:
        for m_max, m_base, group in zip(max_ms, base_ms, optimizer.param_groups):
            if use_beta1:
                group["betas"] = (m_max, *group["betas"][1:])
            else:
                group["momentum"] = m_max
            group["max_momentum"], group["base_momentum"] = m_max, m_base
    return use_beta1, base_ms, max_ms


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
        self._update_lr(epoch)

    def _update_lr(self, epoch: int | None = None) -> None:
        """One step of the schedule (``epoch`` given: jump there, closed form if any)."""
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
