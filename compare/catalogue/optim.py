"""Optimizer, schedule and clipping trajectories: a small MLP trained for 200 full-batch
steps on the fixed blobs task, every optimizer with its interesting options, compared
step by step with torch; and a resume case (state_dicts saved at step 100, everything
rebuilt, training continued) that must agree exactly with the uninterrupted run."""
from __future__ import annotations

import copy
import traceback
from dataclasses import dataclass

import numpy as np
import torch

import npimpl
from reference import Spec, optimizer_pair, seq, to_numpy, to_torch

from ..engine import (Result, Trajectory, _compare_params_and_buffers, _Recorder,
                      _worst_per_quantity, case_rng)
from ..metrics import Metric, Tolerance, tolerance_for
from .core import blobs, full_batch, pair

ORDER = 80

STEPS = 200
#: 8 features -> 16 tanh units -> 3 classes: smooth (no ReLU kink to flip in float32)
MLP = seq(Spec("Linear", 8, 16), Spec("Tanh"), Spec("Linear", 16, 3))
_X, _Y = blobs()
BATCHES = full_batch(_X, _Y)
LOSS = pair(Spec("CrossEntropyLoss"))


def opt(name, groups=None, **kw):
    return lambda m, t: optimizer_pair(name, m, t, groups=groups, **kw)


def sched(name, *args, **kw):
    """The same scheduler on both sides: ``npimpl.optim.lr_scheduler.<name>`` and torch's."""
    return lambda o, t: (getattr(npimpl.optim.lr_scheduler, name)(o, *args, **kw),
                         getattr(torch.optim.lr_scheduler, name)(t, *args, **kw))


def clip_norm(max_norm, norm_type=2.0):
    def clip(m, t):
        npimpl.utils.clip_grad_norm_(m.parameters(), max_norm, norm_type)
        torch.nn.utils.clip_grad_norm_(t.parameters(), max_norm, norm_type)
    return clip


def clip_value(c):
    def clip(m, t):
        npimpl.utils.clip_grad_value_(m.parameters(), c)
        torch.nn.utils.clip_grad_value_(t.parameters(), c)
    return clip


def is_bias(name: str) -> bool:
    return name.endswith("bias")


def traj(name, layer, optimizer, scheduler=None, after_backward=None, f32=None, note=""):
    return Trajectory(name, layer, "optim", model=pair(MLP), loss=LOSS, batches=BATCHES,
                      optimizer=optimizer, steps=STEPS, scheduler=scheduler,
                      after_backward=after_backward, f32=f32, note=note)


# --- the resume case ---------------------------------------------------------------------
#: numpy resumed vs numpy uninterrupted: the same operations on the same numbers
EXACT = Tolerance(0.0, 1e-300, "exact", "a resumed run repeats the same float operations")


@dataclass
class Resume(Trajectory):
    """Train ``resume_at`` steps, save model, optimizer and scheduler state on both sides,
    go on to ``steps`` (the uninterrupted run); then rebuild everything from the saved
    state and train the same steps again (the resumed run).

    Rows: the first ``resume_at`` steps and the uninterrupted rest vs torch (``param.*``,
    ``loss``); the resumed NumPy run vs the resumed torch run (``resumed.*``, the case's
    tolerance); the resumed NumPy run vs the uninterrupted NumPy run (``resume-exact.*``,
    bit-for-bit).
    """

    resume_at: int = 100

    def run(self, dtype: str, seed: int = 0) -> Result:
        res = Result(self, dtype)
        tol = self.f32 if dtype == "float32" and self.f32 is not None else tolerance_for(dtype)
        rec, exact = _Recorder(self, dtype, tol), _Recorder(self, dtype, EXACT)
        try:
            self._run(np.dtype(dtype), seed, rec, exact, res)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed comparison
            res.error = f"{type(exc).__name__}: {exc}"
            rec.add("error", "error", None, None,
                    Metric(np.inf, np.inf, np.inf, (), False, res.error))
            res.traceback = traceback.format_exc()
        res.rows = _worst_per_quantity(rec.rows + exact.rows)
        return res

    def _build(self, dt):
        np_model, t_model = self.model(dt)
        np_crit, t_crit = self.loss(dt)
        np_opt, t_opt = self.optimizer(np_model, t_model)
        np_s, t_s = self.scheduler(np_opt, t_opt) if self.scheduler else (None, None)
        return (np_model, np_crit, np_opt, np_s), (t_model, t_crit, t_opt, t_s)

    def _step(self, np_side, t_side, x, y):
        (np_model, np_crit, np_opt, np_s), (t_model, t_crit, t_opt, t_s) = np_side, t_side
        np_opt.zero_grad()
        np_loss = np_crit(np_model(x), y)
        np_model.backward(np_crit.backward())
        t_opt.zero_grad()
        t_loss = t_crit(t_model(to_torch(x)), to_torch(y))
        t_loss.backward()
        if self.after_backward is not None:
            self.after_backward(np_model, t_model)
        np_opt.step()
        t_opt.step()
        if np_s is not None:
            np_s.step()
            t_s.step()
        return np.asarray(np_loss), t_loss

    def _record(self, rec, res, dtype, step, np_side, t_side, np_loss, t_loss, prefix):
        lm = rec.add(f"{prefix}loss", "trajectory", np_loss, to_numpy(t_loss), step=step)
        pm = _compare_params_and_buffers(rec, np_side[0], t_side[0], grads=False, values=True,
                                         prefix=prefix, step=step)
        worst = max(pm, key=lambda m: m.tol_ratio)
        res.steps.append(dict(case=self.name, dtype=dtype, step=step,
                              loss_numpy=float(np_loss), loss_torch=float(t_loss.item()),
                              loss_abs_dev=lm.max_abs, max_param_abs_dev=worst.max_abs,
                              max_param_rel_dev=max(m.max_rel for m in pm),
                              max_tol_ratio=max(lm.tol_ratio, worst.tol_ratio),
                              passed=lm.passed and all(m.passed for m in pm)))

    def _run(self, dt, seed, rec, exact, res):
        torch.manual_seed(seed)
        rng = case_rng(seed, self.name, dt.name)
        batches = [self.batches(rng, dt, k) for k in range(self.steps)]
        np_side, t_side = self._build(dt)
        uninterrupted = {}
        for k in range(self.steps):
            if k == self.resume_at:  # what a checkpoint holds: copies, not references
                saved = dict(np_model={n: a.copy() for n, a in np_side[0].state_dict().items()},
                             np_opt=np_side[2].state_dict(),
                             np_sched=np_side[3].state_dict() if np_side[3] else None,
                             t_model=copy.deepcopy(t_side[0].state_dict()),
                             t_opt=copy.deepcopy(t_side[2].state_dict()),
                             t_sched=copy.deepcopy(t_side[3].state_dict()) if t_side[3] else None)
            np_loss, t_loss = self._step(np_side, t_side, *batches[k])
            self._record(rec, res, dt.name, k, np_side, t_side, np_loss, t_loss, "")
            if k >= self.resume_at:
                uninterrupted[k] = (np_loss, {n: p.data.copy()
                                              for n, p in np_side[0].named_parameters()})
        # rebuild from scratch (fresh random init on both sides), then load the checkpoint;
        # schedulers are built before the optimizer state is loaded, as torch asks
        np_side, t_side = self._build(dt)
        np_side[0].load_state_dict(saved["np_model"])
        np_side[2].load_state_dict(saved["np_opt"])
        t_side[0].load_state_dict(saved["t_model"])
        t_side[2].load_state_dict(saved["t_opt"])
        if np_side[3] is not None:
            np_side[3].load_state_dict(saved["np_sched"])
            t_side[3].load_state_dict(saved["t_sched"])
        res.steps = res.steps[:self.resume_at]  # the report shows the resumed run after it
        for k in range(self.resume_at, self.steps):
            np_loss, t_loss = self._step(np_side, t_side, *batches[k])
            self._record(rec, res, dt.name, k, np_side, t_side, np_loss, t_loss, "resumed.")
            ref_loss, ref_params = uninterrupted[k]
            exact.add("resume-exact.loss", "trajectory", np_loss, ref_loss, step=k)
            for n, p in np_side[0].named_parameters():
                exact.add(f"resume-exact.param.{n}", "parameter", p.data, ref_params[n], step=k)


#: why the RMSprop cases keep torch's alpha = 0.99
RMSPROP_NOTE = ("alpha=0.99: with alpha=0.9 the run is ill-conditioned near convergence (g / "
                "sqrt(v) for gradients that are tiny cancellation residues, or sqrt(v - a^2) "
                "cancelling when centered): last-bit differences (torch's CPU kernels fuse "
                "multiply-adds) grow to 3e-8 in float64 by step 185; that measures the "
                "problem's conditioning, not the code")

CASES = [
    traj("sgd-momentum-dampening-wd-multisteplr", "SGD",
         opt("SGD", lr=0.1, momentum=0.9, dampening=0.1, weight_decay=1e-3),
         sched("MultiStepLR", milestones=[60, 120, 120], gamma=0.3)),
    traj("sgd-nesterov-wd-clipnorm", "SGD",
         opt("SGD", lr=0.1, momentum=0.9, nesterov=True, weight_decay=5e-4),
         after_backward=clip_norm(0.5)),
    traj("adam-amsgrad-l2-cosine", "Adam",
         opt("Adam", lr=1e-2, amsgrad=True, weight_decay=1e-2),
         sched("CosineAnnealingLR", T_max=150, eta_min=1e-4)),
    traj("adam-groups-clipvalue-steplr", "Adam",
         opt("Adam", groups=[(is_bias, dict(lr=3e-2, weight_decay=0.0)),
                             (lambda n: True, dict(weight_decay=1e-2, betas=(0.8, 0.99)))],
             lr=1e-2),
         sched("StepLR", step_size=50, gamma=0.5), after_backward=clip_value(0.05),
         note="per-group lr, betas and weight decay (none on biases)"),
    traj("adamw-onecycle", "AdamW", opt("AdamW", lr=1e-2, weight_decay=0.1),
         sched("OneCycleLR", max_lr=3e-2, total_steps=STEPS),
         note="OneCycleLR also cycles beta1"),
    traj("rmsprop-centered-momentum-wd-clipnorm-inf-exponentiallr", "RMSprop",
         opt("RMSprop", lr=3e-3, momentum=0.8, centered=True, weight_decay=1e-3),
         sched("ExponentialLR", gamma=0.99), after_backward=clip_norm(0.1, float("inf")),
         note=RMSPROP_NOTE),
    traj("adagrad-lrdecay-wd-init-linearlr", "Adagrad",
         opt("Adagrad", lr=0.1, lr_decay=1e-2, weight_decay=1e-3, initial_accumulator_value=0.1),
         sched("LinearLR", start_factor=0.5, total_iters=50)),
    traj("adamax-wd-lambdalr", "Adamax", opt("Adamax", lr=2e-2, weight_decay=1e-3),
         sched("LambdaLR", lambda e: 1.0 / (1.0 + 0.02 * e))),
    traj("nadam-decoupled-wd", "NAdam",
         opt("NAdam", lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True)),
    Resume("adam-resume-at-100", "Adam", "optim", model=pair(MLP), loss=LOSS, batches=BATCHES,
           optimizer=opt("Adam", lr=1e-2, amsgrad=True, weight_decay=1e-3), steps=STEPS,
           scheduler=sched("CosineAnnealingLR", T_max=STEPS), after_backward=clip_norm(1.0),
           resume_at=100,
           note="state_dicts of model, optimizer and scheduler saved at step 100 (clipping on), "
                "everything rebuilt and reloaded; the NumPy side must repeat its uninterrupted "
                "run bit for bit"),
]
