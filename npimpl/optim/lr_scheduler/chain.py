"""Schedulers made of schedulers: SequentialLR (one after another, switching at milestones)
and ChainedScheduler (all at once, their factors multiplying)."""
from __future__ import annotations

from bisect import bisect_right

from ..optimizer import Optimizer
from .base import LRScheduler
from .plateau import ReduceLROnPlateau


def _check_schedulers(owner: str, schedulers, optimizer) -> None:
    if len(schedulers) < 1:
        raise ValueError(f"{owner} expects at least one scheduler, got none")
    for i, s in enumerate(schedulers):
        if not hasattr(s, "optimizer"):
            raise TypeError(f"{owner}: the scheduler at index {i} should have `optimizer` as "
                            "its attribute")
        if isinstance(s, ReduceLROnPlateau):
            raise ValueError(f"{owner} does not support ReduceLROnPlateau (its step needs a "
                             f"metric), got one at index {i}")
        if s.optimizer is not optimizer:
            raise ValueError(f"{owner} expects all schedulers to belong to the same optimizer, "
                             f"but the scheduler at index {i} ({type(s).__name__}) has another")


def _state_with_children(self) -> dict:
    state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
    state["_schedulers"] = [s.state_dict() for s in self._schedulers]
    return state


def _load_with_children(self, state_dict: dict) -> None:
    state = dict(state_dict)
    children = state.pop("_schedulers")
    self.__dict__.update(state)
    for s, sd in zip(self._schedulers, children):
        s.load_state_dict(sd)


class SequentialLR(LRScheduler):
    r"""Scheduler i runs from milestone i-1 to milestone i; at each milestone the next one
    starts from its own step 0 (its lr computed afresh from the groups' ``initial_lr``).

    Args:
        optimizer: the npimpl optimizer all the schedulers belong to.
        schedulers: the schedulers, in order (each already constructed, which stepped them).
        milestones: ``len(schedulers) - 1`` step numbers where the next one takes over.
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = S_i(t - M_{i-1}) \quad \text{for } M_{i-1} \le t < M_i \qquad (M_0 = 0)

    What torch hides:
        constructing the children already moved the lr (each constructor takes a step);
        SequentialLR resets every group to ``initial_lr``, undoes one step of every child
        and replays the first child's initial step; at a milestone the next child is
        stepped with ``epoch=0`` (its closed form at 0), not by one step.
    """

    def __init__(self, optimizer: Optimizer, schedulers: list, milestones: list,
                 last_epoch: int = -1):
        _check_schedulers("SequentialLR", schedulers, optimizer)
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR expects one more scheduler than milestones, got "
                             f"{len(schedulers)} schedulers and {len(milestones)} milestones")
        self._schedulers, self._milestones = list(schedulers), list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        self.recursive_undo()
        idx = bisect_right(self._milestones, 0)
        self._schedulers[idx]._initial_step()
        self._last_lr = self._schedulers[idx].get_last_lr()

    def recursive_undo(self, sched=None) -> None:
        """Undo one step of every child (recursively into nested SequentialLRs)."""
        scheds = self if sched is None else sched
        if hasattr(scheds, "_schedulers"):
            for s in scheds._schedulers:
                self.recursive_undo(s)
        elif hasattr(scheds, "last_epoch"):
            scheds.last_epoch -= 1

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler._update_lr(0)
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    state_dict = _state_with_children
    load_state_dict = _load_with_children


class ChainedScheduler(LRScheduler):
    r"""Every step, step all the schedulers in order: their (recursive) factors multiply.

    Args:
        schedulers: the schedulers to chain (all on one optimizer).
        optimizer: that optimizer (default: the first scheduler's).

    Maths:
        \eta_t = S_K(\cdots S_2(S_1(\eta_{t-1}))) \qquad \text{(each child's step in turn, on the same lr)}

    What torch hides:
        it takes no step at construction (its children already did) and the order matters
        for closed-form children: one that *sets* the lr (CyclicLR, LambdaLR) overwrites
        what the earlier ones multiplied.
    """

    def __init__(self, schedulers, optimizer: Optimizer | None = None):
        if len(schedulers) < 1:
            raise ValueError("ChainedScheduler expects at least one scheduler to be chained, "
                             "got none")
        optimizer = optimizer or schedulers[0].optimizer
        _check_schedulers("ChainedScheduler", schedulers, optimizer)
        self._schedulers, self.optimizer = list(schedulers), optimizer
        self._last_lr = self._group_lrs()

    def step(self) -> None:
        for s in self._schedulers:
            s.step()
        self._last_lr = self._group_lrs()

    state_dict = _state_with_children
    load_state_dict = _load_with_children
