"""Every learning-rate scheduler on its own: the lr of two parameter groups (and the momentum
or beta1 a scheduler cycles) after each of its steps, npimpl against torch. No model: the
schedule is the quantity. The report draws each one (``plots/<case>-schedule.png``); the
optimizer trajectories (``optim.py``, ``optim_more.py``) check that the lr written is the
one the next step uses."""
from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

import npimpl
from npimpl.optim import swa_utils as S

from ..engine import Result, _worst_per_quantity, guarded
from ..metrics import tolerance_for

ORDER = 82


def record_groups(seqs: dict, opt, cycles) -> None:
    """Append each param group's lr (and its momentum / beta1 when ``cycles`` names them) to
    the sequences ``lr.<i>``, ``momentum.<i>``, ``beta1.<i>``."""
    for i, g in enumerate(opt.param_groups):
        seqs.setdefault(f"lr.{i}", []).append(float(g["lr"]))
        if "momentum" in cycles:
            seqs.setdefault(f"momentum.{i}", []).append(float(g["momentum"]))
        if "beta1" in cycles:
            seqs.setdefault(f"beta1.{i}", []).append(float(g["betas"][0]))


@dataclass
class Schedule:
    """``make(lib, optimizer) -> scheduler`` with ``lib`` npimpl's ``lr_scheduler`` or
    torch's; stepped ``steps`` times (with ``metric(step)`` for ReduceLROnPlateau) on an
    ``optimizer`` ('SGD' with momentum 0.9, or 'Adam') of two groups (lr 0.1 and 0.3).

    Rows: ``lr.<group>`` and, where the scheduler cycles it, ``momentum.<group>`` or
    ``beta1.<group>``, each the whole sequence (initial value included) against torch's at
    the dtype's tolerance (the arithmetic is Python floats: float64)."""

    name: str
    layer: str
    make: Callable
    steps: int = 60
    optimizer: str = "SGD"
    metric: Callable | None = None
    family: str = "optim"
    dtypes: tuple = ("float64",)
    note: str = ""
    cycles: tuple = field(default=())        # hyperparameters besides lr that it moves

    def sequences(self) -> dict:
        """``{'numpy': {quantity: [...]}, 'torch': {...}}`` over the steps."""
        out = {}
        for side, lib, optim, param in (
                ("numpy", npimpl.optim.lr_scheduler, npimpl.optim,
                 lambda: npimpl.Parameter(np.zeros(2))),
                ("torch", torch.optim.lr_scheduler, torch.optim,
                 lambda: torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)))):
            kw = dict(momentum=0.9) if self.optimizer == "SGD" else {}
            opt = getattr(optim, self.optimizer)([{"params": [param()]},
                                                  {"params": [param()], "lr": 0.3}],
                                                 lr=0.1, **kw)
            seqs: dict = {}
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch: step() before optimizer.step()
                sched = self.make(lib, opt)
                for k in range(self.steps + 1):
                    record_groups(seqs, opt, self.cycles)
                    if k < self.steps:
                        if self.metric is None:
                            sched.step()
                        else:
                            sched.step(self.metric(k))
            out[side] = seqs
        return out

    def run(self, dtype: str, seed: int = 0) -> Result:
        def body(rec, res):
            seq = self.sequences()
            for q, a in seq["numpy"].items():
                rec.add(q, "schedule", np.array(a), np.array(seq["torch"][q]))
        return guarded(self, dtype, tolerance_for(dtype), body, _worst_per_quantity)


def sched(name, *args, **kw):
    return lambda lib, opt: getattr(lib, name)(opt, *args, **kw)


def _plateau_metric(k: int) -> float:
    """Falls, stalls, wobbles, rises: every branch of ReduceLROnPlateau's bookkeeping."""
    return float(np.r_[np.linspace(1, 0.4, 10), [0.4] * 10, 0.4 + 0.01 * np.sin(np.arange(20)),
                       np.linspace(0.4, 1.5, 20)][k])


def _sequential(lib, opt):
    return lib.SequentialLR(opt, [lib.LinearLR(opt, start_factor=0.1, total_iters=10),
                                  lib.CosineAnnealingLR(opt, T_max=20),
                                  lib.ExponentialLR(opt, 0.95)], milestones=[10, 35])


def _chained(lib, opt):
    return lib.ChainedScheduler([lib.ConstantLR(opt, factor=0.5, total_iters=15),
                                 lib.ExponentialLR(opt, 0.97), lib.StepLR(opt, 20, 0.5)])


def _swalr(lib, opt):
    if lib is npimpl.optim.lr_scheduler:
        return S.SWALR(opt, swa_lr=[0.02, 0.05], anneal_epochs=20)
    return torch.optim.swa_utils.SWALR(opt, swa_lr=[0.02, 0.05], anneal_epochs=20)


CASES = [
    Schedule("schedule-lambdalr", "LambdaLR", sched("LambdaLR", lambda e: 1 / (1 + 0.05 * e))),
    Schedule("schedule-multiplicativelr", "MultiplicativeLR",
             sched("MultiplicativeLR", lambda e: 0.95 if e < 30 else 1.02)),
    Schedule("schedule-steplr", "StepLR", sched("StepLR", step_size=12, gamma=0.5)),
    Schedule("schedule-multisteplr", "MultiStepLR",
             sched("MultiStepLR", milestones=[10, 25, 25, 45], gamma=0.4)),
    Schedule("schedule-constantlr", "ConstantLR", sched("ConstantLR", factor=0.25,
                                                        total_iters=20)),
    Schedule("schedule-linearlr", "LinearLR", sched("LinearLR", start_factor=0.1,
                                                    end_factor=0.8, total_iters=40)),
    Schedule("schedule-exponentiallr", "ExponentialLR", sched("ExponentialLR", 0.95)),
    Schedule("schedule-polynomiallr", "PolynomialLR", sched("PolynomialLR", total_iters=45,
                                                            power=2.0)),
    Schedule("schedule-cosineannealinglr", "CosineAnnealingLR",
             sched("CosineAnnealingLR", T_max=25, eta_min=0.01),
             note="T_max 25 over 60 steps: past T_max the lr climbs back"),
    Schedule("schedule-onecyclelr", "OneCycleLR",
             sched("OneCycleLR", max_lr=[0.5, 1.0], total_steps=61), cycles=("momentum",)),
    Schedule("schedule-cycliclr", "CyclicLR",
             sched("CyclicLR", base_lr=[0.01, 0.05], max_lr=[0.1, 0.3], step_size_up=8,
                   step_size_down=12, mode="triangular2"), cycles=("momentum",)),
    Schedule("schedule-cycliclr-adam", "CyclicLR",
             sched("CyclicLR", base_lr=1e-3, max_lr=1e-2, step_size_up=10, mode="exp_range",
                   gamma=0.99), optimizer="Adam", cycles=("beta1",),
             note="on Adam: beta1 cycles instead of momentum"),
    Schedule("schedule-cosineannealingwarmrestarts", "CosineAnnealingWarmRestarts",
             sched("CosineAnnealingWarmRestarts", T_0=5, T_mult=2, eta_min=0.01)),
    Schedule("schedule-reducelronplateau", "ReduceLROnPlateau",
             sched("ReduceLROnPlateau", factor=0.5, patience=3, cooldown=2,
                   min_lr=[0.01, 0.05]), metric=_plateau_metric,
             note="on a metric that falls, stalls, wobbles and rises"),
    Schedule("schedule-sequentiallr", "SequentialLR", _sequential,
             note="LinearLR warm-up, cosine, then exponential decay (milestones 10, 35)"),
    Schedule("schedule-chainedscheduler", "ChainedScheduler", _chained),
    Schedule("schedule-swalr", "SWALR", _swalr, note="cosine annealing to swa_lr in 20 steps"),
]
