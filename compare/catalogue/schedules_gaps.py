"""The schedulers' less travelled roads, npimpl against torch: ``step(epoch)`` (the closed
forms), state_dict round trips into a fresh scheduler, a param group added mid-run,
ReduceLROnPlateau in every mode with metrics that tie its threshold exactly, one-scheduler
SequentialLR/ChainedScheduler, boundary arguments (``pct_start`` 0 and 1, a cycle of one
step, ``anneal_epochs`` 0 and 1), what a refused constructor leaves in the optimizer, and
AveragedModel with every averaging function on a model with integer buffers."""
from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import npimpl
from npimpl.optim import swa_utils as S

from ..engine import _worst_per_quantity, guarded
from ..metrics import tolerance_for
from .corners import Compared, _outcome
from .schedules import Schedule, record_groups, sched

ORDER = 83


@dataclass
class Side:
    """One side of a run: its scheduler module, its swa_utils and a fresh parameter."""

    lib: object
    swa: object
    param: Callable


SIDES = (("numpy", Side(npimpl.optim.lr_scheduler, S, lambda: npimpl.Parameter(np.zeros(2)))),
         ("torch", Side(torch.optim.lr_scheduler, torch.optim.swa_utils,
                        lambda: torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)))))


def _optimizer(side: Side, name: str):
    optim = npimpl.optim if side.lib is npimpl.optim.lr_scheduler else torch.optim
    kw = dict(momentum=0.9) if name == "SGD" else {}
    return getattr(optim, name)([{"params": [side.param()]},
                                 {"params": [side.param()], "lr": 0.3}], lr=0.1, **kw)


@dataclass
class Driven(Schedule):
    """A :class:`Schedule` built by ``make(side, opt)`` (a :class:`Side`, not a bare module)
    whose step ``k`` is ``drive(side, sched, opt, k)``, which returns the scheduler to go on
    with: an explicit epoch, a metric, a state_dict round trip into a new scheduler, a param
    group added. Besides the sequences, a ``last_epoch`` row: the
    scheduler's own count after each step (ReduceLROnPlateau and ``step(epoch)`` set it)."""

    drive: Callable | None = None

    def _trace(self) -> dict:
        out = {}
        for name, side in SIDES:
            opt = _optimizer(side, self.optimizer)
            seqs, epochs = {}, []
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch: step(epoch) is deprecated, etc.
                s = self.make(side, opt)
                for k in range(self.steps + 1):
                    record_groups(seqs, opt, self.cycles)
                    if hasattr(s, "last_epoch"):         # ChainedScheduler has none
                        epochs.append(float(s.last_epoch))
                    if k < self.steps:
                        s = self.drive(side, s, opt, k)
            out[name] = (seqs, epochs)
        return out

    def sequences(self) -> dict:
        return {name: seqs for name, (seqs, _) in self._trace().items()}

    def run(self, dtype: str, seed: int = 0):
        def body(rec, res):
            t = self._trace()
            for q, a in t["numpy"][0].items():
                rec.add(q, "schedule", np.array(a), np.array(t["torch"][0][q]))
            if t["numpy"][1] or t["torch"][1]:
                rec.add("last_epoch", "schedule", np.array(t["numpy"][1]),
                        np.array(t["torch"][1]))
        return guarded(self, dtype, tolerance_for(dtype), body, _worst_per_quantity)


def on(name, *args, **kw):
    """``make`` for a Driven case: ``side.lib.<name>(opt, ...)``."""
    return lambda side, opt: sched(name, *args, **kw)(side.lib, opt)


def step(side, s, opt, k):
    s.step()
    return s


def at_epochs(epoch: Callable):
    """Step ``k`` is ``step(epoch(k))``: the closed form, in any order."""
    def drive(side, s, opt, k):
        s.step(epoch(k))
        return s
    return drive


def on_metric(metric: Callable, epoch: Callable | None = None, add_group: int | None = None,
              reload: int | None = None, make: Callable | None = None):
    """ReduceLROnPlateau's step ``k``: ``step(metric(k))`` (with ``epoch=epoch(k)`` if
    given); a third param group (lr 0.2) joins before step ``add_group``; after step
    ``reload`` its state_dict goes into a fresh scheduler built by ``make``."""
    def drive(side, s, opt, k):
        if k == add_group:
            opt.add_param_group({"params": [side.param()], "lr": 0.2})
        if epoch is None:
            s.step(metric(k))
        else:
            s.step(metric(k), epoch(k))
        return reloaded(side, s, opt, make) if k == reload else s
    return drive


def reloaded(side, s, opt, make):
    """``s``'s state_dict loaded into a new scheduler ``make(side, opt)``, the groups' lrs
    kept (as an optimizer checkpoint would restore them)."""
    state, lrs = s.state_dict(), [g["lr"] for g in opt.param_groups]
    new = make(side, opt)
    new.load_state_dict(state)
    for g, lr in zip(opt.param_groups, lrs):
        g["lr"] = lr
    return new


def round_trip(at: int, make: Callable):
    """Plain steps, with a state_dict round trip into ``make(side, opt)`` after step ``at``."""
    def drive(side, s, opt, k):
        s.step()
        return reloaded(side, s, opt, make) if k == at else s
    return drive


def _seq(values):
    return lambda k: float(values[k % len(values)])


NAN = float("nan")
#: mode max, rel 0.25: 1.25 x best ties exactly (binary fractions)
MAX_REL = [1.0, 1.25, 1.25, 1.0, 2.0, 2.5, 2.5, 2.5, 3.5, 3.0, 4.375, 4.0, 4.0, 4.0, 6.0, 5.0,
           7.5, 7.5, 7.0, 9.375, 1.0, 1.0, 12.0, 15.0, 15.0, 10.0, 18.75, 18.75, 18.0, 30.0]
#: mode min, abs 0.25: two NaNs first (not an improvement over inf), then best - 0.25 ties
MIN_ABS = [NAN, NAN, 4.0, 3.75, 3.5, 3.25, 3.25, 3.0, 3.0, 3.0, 2.75, 2.5, 2.25, 2.5, 2.5,
           2.0, 2.0, 2.0, 2.0, 1.75, 1.5, 1.25, 1.25, 1.25, 1.25, 1.0, 1.0, 1.0, 1.0, 1.0]
#: mode max, abs 0.25: best + 0.25 ties
MAX_ABS = [0.5, 0.75, 0.75, 1.0, 1.5, 1.75, 1.75, 1.75, 1.75, 2.0, 2.25, 2.25, 2.0, 2.5,
           2.5, 2.5, 2.5, 3.0, 3.25, 3.0, 3.0, 3.0, 3.5, 3.75, 3.75, 3.75, 3.75, 4.0, 4.0, 4.0]
#: mode min, rel with threshold 0: an equal metric is no improvement
MIN_TIES = [1.0, 0.5, 0.5, 0.5, 0.25, 0.25, 0.125, 0.125, 0.125, 0.125, 0.0625, 0.0625,
            0.0625, 0.0625, 0.03125, 0.03125, 0.03125, 0.03125, 0.03125, 0.03125, 0.015625,
            0.015625, 0.015625, 0.015625, 0.0078125, 0.0078125, 0.0078125, 0.0078125,
            0.0078125, 0.0078125]

_PLATEAU_MIN_TIES = on("ReduceLROnPlateau", factor=0.5, patience=1, threshold=0.0,
                       min_lr=[0.001, 0.002])


def _sequential_single(side, opt):
    return side.lib.SequentialLR(opt, [side.lib.ExponentialLR(opt, 0.9)], milestones=[])


def _chained_single(side, opt):
    return side.lib.ChainedScheduler([side.lib.StepLR(opt, 4, 0.5)])


def _sequential_from_1(side, opt):
    L = side.lib
    return L.SequentialLR(opt, [L.ConstantLR(opt, factor=0.5, total_iters=3),
                                L.PolynomialLR(opt, total_iters=8, power=2.0),
                                L.CosineAnnealingLR(opt, T_max=10, eta_min=0.01)],
                          milestones=[1, 6])


def _chained_cosine(side, opt):
    L = side.lib
    return L.ChainedScheduler([L.CosineAnnealingLR(opt, T_max=10, eta_min=0.01),
                               L.ExponentialLR(opt, 0.97)])


def _swalr(**kw):
    return lambda side, opt: side.swa.SWALR(opt, **kw)


SCHEDULES = [
    Driven("schedule-plateau-max-rel", "ReduceLROnPlateau",
           on("ReduceLROnPlateau", mode="max", factor=0.5, patience=1, threshold=0.25,
              cooldown=1, min_lr=0.01), steps=30,
           drive=on_metric(_seq(MAX_REL), add_group=12),
           note="mode max, threshold 0.25 rel: metrics at 1.25 x best exactly; a third "
                "group joins at step 12 (the scalar min_lr is repeated for it)"),
    Driven("schedule-plateau-min-abs", "ReduceLROnPlateau",
           on("ReduceLROnPlateau", factor=0.5, patience=1, threshold=0.25,
              threshold_mode="abs", eps=0.02), steps=30,
           drive=on_metric(_seq(MIN_ABS)),
           note="mode min, threshold 0.25 abs, two NaN metrics first; eps 0.02 stops the "
                "cuts once they would be smaller"),
    Driven("schedule-plateau-max-abs-epochs", "ReduceLROnPlateau",
           on("ReduceLROnPlateau", mode="max", factor=0.5, patience=2, threshold=0.25,
              threshold_mode="abs", cooldown=2), steps=30,
           drive=on_metric(_seq(MAX_ABS), epoch=lambda k: 3 * k + 5),
           note="mode max, threshold 0.25 abs: metrics at best + 0.25 exactly; step(metric, "
                "epoch) with explicit epochs"),
    Driven("schedule-plateau-ties-reload", "ReduceLROnPlateau", _PLATEAU_MIN_TIES, steps=30,
          
           drive=on_metric(_seq(MIN_TIES), reload=8, make=_PLATEAU_MIN_TIES),
           note="threshold 0: an equal metric is no improvement; state_dict into a fresh "
                "scheduler mid-plateau"),
    Driven("schedule-sequentiallr-one", "SequentialLR", _sequential_single, steps=12,
           drive=step, note="one scheduler, no milestones"),
    Driven("schedule-chainedscheduler-one", "ChainedScheduler", _chained_single, steps=12,
           drive=step, note="one scheduler"),
    Driven("schedule-sequentiallr-reload", "SequentialLR", _sequential_from_1, steps=24,
           drive=round_trip(9, _sequential_from_1),
           note="first milestone at step 1; state_dict (children included) into a fresh "
                "SequentialLR after step 9"),
    Driven("schedule-chainedscheduler-cosine-reload", "ChainedScheduler", _chained_cosine,
           steps=30, drive=round_trip(14, _chained_cosine),
           note="recursive cosine times exponential decay; state_dict round trip after "
                "step 14"),
    Driven("schedule-constantlr-epochs", "ConstantLR",
           on("ConstantLR", factor=0.25, total_iters=6), steps=20,
           drive=at_epochs(lambda k: (5 * k) % 13), note="step(epoch), jumping across "
                                                         "total_iters both ways"),
    Driven("schedule-polynomiallr-epochs", "PolynomialLR",
           on("PolynomialLR", total_iters=10, power=2.0), steps=20,
           drive=at_epochs(lambda k: (3 * k) % 14), note="step(epoch), past total_iters too"),
    Driven("schedule-warmrestarts-epochs", "CosineAnnealingWarmRestarts",
           on("CosineAnnealingWarmRestarts", T_0=3, T_mult=2, eta_min=0.01), steps=60,
           drive=at_epochs(lambda k: 0.7 * k),
           note="step(epoch) with fractional epochs: periods 3, 6, 12, 24 found in closed form"),
    Driven("schedule-warmrestarts-epochs-tmult1", "CosineAnnealingWarmRestarts",
           on("CosineAnnealingWarmRestarts", T_0=4), steps=20,
           drive=at_epochs(lambda k: 1.5 * k), note="T_mult 1: epoch mod T_0"),
    Driven("schedule-cycliclr-one-step-cycle", "CyclicLR",
           on("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=1, step_size_down=0,
              scale_fn=lambda x: 0.9 ** x, scale_mode="iterations"),
           steps=12, drive=step, cycles=("momentum",),
           note="a cycle of one step (up 1, down 0), a custom scale_fn over iterations"),
    Driven("schedule-onecyclelr-pct0-epochs", "OneCycleLR",
           on("OneCycleLR", max_lr=[0.5, 1.0], epochs=1, steps_per_epoch=30, pct_start=0.0,
              anneal_strategy="linear"), steps=30, optimizer="Adam", drive=step,
           cycles=("beta1",), note="pct_start 0 (no warm-up), epochs 1, linear, on Adam"),
    Driven("schedule-onecyclelr-pct1", "OneCycleLR",
           on("OneCycleLR", max_lr=0.5, total_steps=25, pct_start=1.0), steps=20,
           drive=step, cycles=("momentum",), note="pct_start 1: all warm-up"),
    Driven("schedule-swalr-defaults-linear", "SWALR",
           _swalr(swa_lr=0.05, anneal_strategy="linear"), steps=14, drive=step,
           note="default anneal_epochs (10)"),
    Driven("schedule-swalr-anneal1", "SWALR", _swalr(swa_lr=[0.02, 0.05], anneal_epochs=1),
           steps=6, drive=step),
    Driven("schedule-swalr-anneal0", "SWALR", _swalr(swa_lr=[0.02, 0.05], anneal_epochs=0),
           steps=6, drive=step, note="anneal_epochs 0: swa_lr at once"),
]


# --- what both sides refuse, and what a refused constructor leaves behind ------------------
def _both(fn):
    """``[(numpy outcome), (torch outcome)]`` of ``fn(side)``: its value, or the exception."""
    out = []
    for _, side in SIDES:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            out.append(_outcome(lambda: fn(side)))
    return out


def _built(make):
    """0.0 once ``make(side, opt)`` returns (the scheduler itself is not a value)."""
    def fn(side):
        make(side, _optimizer(side, "SGD"))
        return 0.0
    return fn


def _groups_after(make, optimizer="SGD"):
    """The groups' lr, momentum or beta1, and whether ``initial_lr`` was stored, after
    ``make(side, opt)`` ran (and raised or not)."""
    def fn(side):
        opt = _optimizer(side, optimizer)
        _outcome(lambda: make(side, opt))
        return [(float(g["lr"]), float(g["betas"][0] if "betas" in g else g["momentum"]),
                 "initial_lr" in g) for g in opt.param_groups]
    return fn


def _other_optimizer_child(side, opt):
    other = _optimizer(side, "SGD")
    return side.lib.SequentialLR(opt, [side.lib.ExponentialLR(opt, 0.9),
                                       side.lib.StepLR(other, 2)], milestones=[3])


def _plateau_bad_state(side, opt):
    s = side.lib.ReduceLROnPlateau(opt)
    state = s.state_dict()
    state["mode"] = "sideways"
    s.load_state_dict(state)


def _resumed_cosine_get_lr(side):
    """CosineAnnealingLR resumed at epoch 2: its first get_lr() (before any step) is the
    closed form at epoch 3."""
    opt = _optimizer(side, "SGD")
    for g in opt.param_groups:
        g["initial_lr"] = g["lr"]
    s = side.lib.CosineAnnealingLR(opt, T_max=10, eta_min=0.01, last_epoch=2)
    return np.array(s.get_lr(), dtype=np.float64)


_ZERO_PHASE = dict(max_lr=0.5, total_steps=10, pct_start=0.1)   # warm-up of 0 steps: 0 / 0

REFUSALS = [
    ("ReduceLROnPlateau factor=1", _built(on("ReduceLROnPlateau", factor=1.0))),
    ("ReduceLROnPlateau.load_state_dict mode='sideways'",
     lambda side: _plateau_bad_state(side, _optimizer(side, "SGD"))),
    ("CyclicLR mode='bogus'", _built(on("CyclicLR", base_lr=0.01, max_lr=0.1, mode="bogus"))),
    ("CosineAnnealingWarmRestarts T_0=0", _built(on("CosineAnnealingWarmRestarts", T_0=0))),
    ("CosineAnnealingWarmRestarts T_0=2.5",
     _built(on("CosineAnnealingWarmRestarts", T_0=2.5))),
    ("SequentialLR, a child on another optimizer", _built(_other_optimizer_child)),
    ("OneCycleLR epochs=0", _built(on("OneCycleLR", max_lr=0.5, epochs=0,
                                      steps_per_epoch=5))),
    ("OneCycleLR epochs=0: groups", _groups_after(on("OneCycleLR", max_lr=0.5, epochs=0,
                                                     steps_per_epoch=5))),
    ("OneCycleLR warm-up of 0 steps", _built(on("OneCycleLR", **_ZERO_PHASE))),
    ("OneCycleLR warm-up of 0 steps: groups (SGD)",
     _groups_after(on("OneCycleLR", **_ZERO_PHASE))),
    ("OneCycleLR warm-up of 0 steps: groups (Adam)",
     _groups_after(on("OneCycleLR", **_ZERO_PHASE), "Adam")),
    ("CosineAnnealingLR resumed: get_lr()", _resumed_cosine_get_lr),
    ("AveragedModel avg_fn and multi_avg_fn",
     lambda side: side.swa.AveragedModel(
         _model(side, np.random.default_rng(0)), avg_fn=side.swa.get_swa_avg_fn(),
         multi_avg_fn=side.swa.get_swa_multi_avg_fn()) and 0.0),
]


def _refusals(dt):
    return [(q, *_both(fn)) for q, fn in REFUSALS]


# --- AveragedModel with every averaging function -------------------------------------------
def _model(side, rng):
    """Linear(3, 4) then BatchNorm1d(4) in float64, the same weights on both sides."""
    w = [rng.normal(size=(4, 3)), rng.normal(size=4)]
    if side.swa is S:
        m = npimpl.Sequential(npimpl.Linear(3, 4, dtype=np.float64),
                              npimpl.BatchNorm1d(4, dtype=np.float64))
        m[0].weight.data[...], m[0].bias.data[...] = w
    else:
        m = torch.nn.Sequential(torch.nn.Linear(3, 4, dtype=torch.float64),
                                torch.nn.BatchNorm1d(4, dtype=torch.float64))
        with torch.no_grad():
            m[0].weight.copy_(torch.from_numpy(w[0]))
            m[0].bias.copy_(torch.from_numpy(w[1]))
    return m


def _averaged(side, model):
    """``{tag: (averaged model, the model it follows)}``."""
    A = side.swa
    empty = npimpl.Sequential() if A is S else torch.nn.Sequential()
    avgs = {"ema-avg-fn-buffers": A.AveragedModel(model, avg_fn=A.get_ema_avg_fn(),
                                                  use_buffers=True),
            "swa-buffers": A.AveragedModel(model, use_buffers=True),
            "ema-multi-buffers": A.AveragedModel(
                model, multi_avg_fn=A.get_ema_multi_avg_fn(0.5), use_buffers=True),
            "swa-multi": A.AveragedModel(model, multi_avg_fn=A.get_swa_multi_avg_fn()),
            "no-parameters": A.AveragedModel(empty)}
    return {tag: (avg, empty if tag == "no-parameters" else model)
            for tag, avg in avgs.items()}


def _state(mod) -> dict:
    """A copy of ``mod``'s state_dict (its arrays are the live ones, updated in place)."""
    return {k: np.array(v.detach().numpy() if isinstance(v, torch.Tensor) else v)
            for k, v in mod.state_dict().items()}


def _averaging(dt):
    """Four updates of every AveragedModel of one model whose weights are redrawn and which
    runs three training batches (its running statistics and num_batches_tracked move)
    between them; then update_bn on the EMA average, left in eval mode.

    get_swa_multi_avg_fn on the integer num_batches_tracked (``use_buffers``) crashes torch
    (an integer addcdiv); npimpl applies the historic rule torch's error message spells out,
    ``(input + trunc(tensor1 / tensor2)).to(input.dtype)``, which the torch side computes
    with torch's own operations."""
    rows = {}
    for name, side in SIDES:
        rng = np.random.default_rng(7)
        model = _model(side, rng)
        avgs = _averaged(side, model)
        historic = (S.AveragedModel(model, multi_avg_fn=S.get_swa_multi_avg_fn(),
                                    use_buffers=True) if side.swa is S else None)
        hist = None                                  # torch's side of that average
        out = rows.setdefault(name, {})
        for k in range(4):
            for p in model.parameters():
                new = rng.normal(size=tuple(p.shape))
                if isinstance(p, torch.Tensor):
                    with torch.no_grad():
                        p.copy_(torch.from_numpy(new))
                else:
                    p.data[...] = new
            for _ in range(3):
                x = rng.normal(size=(5, 3))
                model(torch.from_numpy(x) if side.swa is not S else x)
            for tag, (avg, followed) in avgs.items():
                if tag == "no-parameters" and k:
                    continue    # torch's second update of nothing fails (an empty foreach)
                avg.update_parameters(followed)
                for key, v in _state(avg).items():
                    out[f"{tag}.{key}.update{k}"] = v
            if historic is not None:
                historic.update_parameters(model)
                nbt = np.array(historic.module[1].num_batches_tracked)
            else:
                current = model[1].num_batches_tracked
                hist = current.clone() if hist is None else (
                    hist + torch.trunc((current - hist) / torch.tensor(k + 1))).to(torch.int64)
                nbt = hist.numpy().copy()
            out[f"swa-multi-buffers.num_batches_tracked.update{k}"] = nbt
        ema = avgs["ema-multi-buffers"][0]
        ema.eval()
        loader = [rng.normal(size=(6, 3)) for _ in range(2)]
        side.swa.update_bn([torch.from_numpy(x) for x in loader] if side.swa is not S
                           else loader, ema)
        for key, v in _state(ema).items():
            out[f"update_bn.{key}"] = v
        out["update_bn.training"] = np.array(ema.training)
    return [(q, a, rows["torch"][q]) for q, a in rows["numpy"].items()]


CASES = SCHEDULES + [
    Compared("lr-scheduler-refusals", "lr_scheduler", "optim", _refusals, dtypes=("float64",),
             note="what both refuse (a raise on each side), the groups a refused constructor "
                  "leaves, a resumed CosineAnnealingLR's get_lr()"),
    Compared("swa-averagedmodel-variants", "AveragedModel", "optim", _averaging,
             dtypes=("float64",),
             note="get_ema_avg_fn, the default average, get_ema_multi_avg_fn and "
                  "get_swa_multi_avg_fn, buffers averaged (int64 num_batches_tracked); "
                  "a model without parameters (one update); update_bn on an averaged model "
                  "in eval mode"),
]
