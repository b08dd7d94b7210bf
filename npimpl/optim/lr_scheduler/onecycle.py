"""OneCycleLR (Smith's 1cycle policy); import it from
``npimpl.optim.lr_scheduler`` as in torch."""
from __future__ import annotations

import math

from ..optimizer import Optimizer
from .base import LRScheduler, cycled_momenta, per_group


class OneCycleLR(LRScheduler):
    r"""1cycle: lr anneals initial_lr -> max_lr over pct_start of total_steps, then
    max_lr -> min_lr (closed form per step); momentum (or beta1) cycles the other way.

    initial_lr = max_lr / div_factor, min_lr = initial_lr / final_div_factor; phase
    ends at step ``pct_start * total_steps - 1`` and ``total_steps - 1`` (three_phase adds
    a symmetric descent to initial_lr before the final annealing).

    Maths:
        \eta = \eta_{\text{end}} + \frac{\eta_{\text{start}} - \eta_{\text{end}}}{2}\left(1 + \cos \frac{\pi\, (t - t_0)}{t_1 - t_0}\right) \quad \text{per phase: } \frac{\eta_{\max}}{\text{div}} \to \eta_{\max} \to \frac{\eta_{\max}}{\text{div} \cdot \text{final\_div}}

    What torch hides:
        the constructor overwrites the optimizer's lr (with max_lr/div_factor)
        and its momentum or ``betas[0]`` (with max_momentum), and stores
        ``initial_lr``, ``max_lr``, ``min_lr``, ``max_momentum`` and ``base_momentum``
        in every param group; stepping past total_steps raises.
    """

    def __init__(self, optimizer: Optimizer, max_lr, total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None,
                 pct_start: float = 0.3, anneal_strategy: str = "cos",
                 cycle_momentum: bool = True, base_momentum=0.85, max_momentum=0.95,
                 div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"OneCycleLR: {type(optimizer).__name__} is not an npimpl Optimizer")
        self.optimizer = optimizer
        if total_steps is not None:
            if not isinstance(total_steps, int) or total_steps <= 0:
                raise ValueError(f"OneCycleLR: expected positive integer total_steps, "
                                 f"got {total_steps}")
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            for n, v in (("epochs", epochs), ("steps_per_epoch", steps_per_epoch)):
                if not isinstance(v, int) or v <= 0:
                    raise ValueError(f"OneCycleLR: expected positive integer {n}, got {v}")
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: you must define either total_steps OR "
                             "(epochs AND steps_per_epoch)")
        phase = lambda end, lr0, lr1, m0, m1: dict(end_step=end, start_lr=lr0, end_lr=lr1,
                                                   start_momentum=m0, end_momentum=m1)
        T = self.total_steps
        if three_phase:
            self._schedule_phases = [
                phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum",
                      "base_momentum"),
                phase(float(2 * pct_start * T) - 2, "max_lr", "initial_lr", "base_momentum",
                      "max_momentum"),
                phase(T - 1, "initial_lr", "min_lr", "max_momentum", "max_momentum")]
        else:
            self._schedule_phases = [
                phase(float(pct_start * T) - 1, "initial_lr", "max_lr", "max_momentum",
                      "base_momentum"),
                phase(T - 1, "max_lr", "min_lr", "base_momentum", "max_momentum")]
        if pct_start < 0 or pct_start > 1 or not isinstance(pct_start, float):
            raise ValueError(f"OneCycleLR: expected float between 0 and 1 pct_start, "
                             f"got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be one of 'cos' or 'linear', "
                             f"got {anneal_strategy!r}")
        self._anneal_func_type = anneal_strategy
        max_lrs = per_group("OneCycleLR", "max_lr", optimizer, max_lr)
        if last_epoch == -1:
            for m_lr, group in zip(max_lrs, optimizer.param_groups):
                group["initial_lr"] = m_lr / div_factor
                group["max_lr"] = m_lr
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            self.use_beta1 = cycled_momenta("OneCycleLR", optimizer, base_momentum,
                                            max_momentum, last_epoch)[0]
        super().__init__(optimizer, last_epoch)

    def _anneal_func(self, start, end, pct):
        if self._anneal_func_type == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self) -> list:
        step_num = self.last_epoch
        if step_num > self.total_steps:
            raise ValueError(f"OneCycleLR: tried to step {step_num} times; the specified "
                             f"number of total steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, ph in enumerate(self._schedule_phases):
                end_step = ph["end_step"]
                if step_num <= end_step or i == len(self._schedule_phases) - 1:
                    pct = (step_num - start_step) / (end_step - start_step)
                    lr = self._anneal_func(group[ph["start_lr"]], group[ph["end_lr"]], pct)
                    if self.cycle_momentum:
                        mom = self._anneal_func(group[ph["start_momentum"]],
                                                group[ph["end_momentum"]], pct)
                    break
                start_step = ph["end_step"]
            lrs.append(lr)
            if self.cycle_momentum:
                if self.use_beta1:
                    group["betas"] = (mom, *group["betas"][1:])
                else:
                    group["momentum"] = mom
        return lrs
