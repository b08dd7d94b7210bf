"""Optimizer, schedule and clipping trajectories: a small MLP trained for 200 full-batch
steps on the fixed blobs task, every optimizer with its interesting options, compared
step by step with torch; and a resume case (state_dicts saved at step 100, everything
rebuilt, training continued) that must agree exactly with the uninterrupted run."""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch

import npimpl
from reference import Spec, optimizer_pair, seq

from ..engine import (Result, Trajectory, _Recorder, _worst_per_quantity, build_sides,
                      case_rng, guarded, record_step, train_step, trajectory_tolerance)
from ..metrics import Tolerance
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
    #: the rows of the resumed NumPy run against the uninterrupted one
    RESUME_PREFIX = "resume-exact."

    def resume_tolerance(self, dtype: str) -> Tolerance:
        """The resumed NumPy run repeats the uninterrupted one's float operations: exactly."""
        return EXACT

    def run(self, dtype: str, seed: int = 0) -> Result:
        again = _Recorder(self, dtype, self.resume_tolerance(dtype))

        def body(rec, res):
            self._run(np.dtype(dtype), seed, rec, again, res)
            rec.rows += again.rows
        return guarded(self, dtype, trajectory_tolerance(self, dtype), body,
                       _worst_per_quantity)

    def checkpoint(self, npx, tx) -> dict:
        """What a checkpoint holds (copies, not references): each side's own state."""
        return dict(np_model={n: a.copy() for n, a in npx.model.state_dict().items()},
                    np_opt=npx.opt.state_dict(),
                    np_sched=npx.sched.state_dict() if npx.sched else None,
                    t_model=copy.deepcopy(tx.model.state_dict()),
                    t_opt=copy.deepcopy(tx.opt.state_dict()),
                    t_sched=copy.deepcopy(tx.sched.state_dict()) if tx.sched else None)

    def restore(self, npx, tx, saved: dict) -> None:
        """Load the checkpoint into freshly built sides (schedulers after the optimizers'
        state, as torch asks)."""
        npx.model.load_state_dict(saved["np_model"])
        npx.opt.load_state_dict(saved["np_opt"])
        tx.model.load_state_dict(saved["t_model"])
        tx.opt.load_state_dict(saved["t_opt"])
        if npx.sched is not None:
            npx.sched.load_state_dict(saved["np_sched"])
            tx.sched.load_state_dict(saved["t_sched"])

    def _run(self, dt, seed, rec, again, res):
        torch.manual_seed(seed)
        rng = case_rng(seed, self.name, dt.name)
        batches = [self.batches(rng, dt, k) for k in range(self.steps)]
        npx, tx = build_sides(self, dt)
        uninterrupted = {}
        for k in range(self.steps):
            if k == self.resume_at:
                saved = self.checkpoint(npx, tx)
            np_loss, t_loss = train_step(self, npx, tx, *batches[k])
            record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss)
            if k >= self.resume_at:
                uninterrupted[k] = (np_loss, {n: p.data.copy()
                                              for n, p in npx.model.named_parameters()})
        npx, tx = build_sides(self, dt)          # fresh random init on both sides, then load
        self.restore(npx, tx, saved)
        res.steps = res.steps[:self.resume_at]  # the report shows the resumed run after it
        for k in range(self.resume_at, self.steps):
            np_loss, t_loss = train_step(self, npx, tx, *batches[k])
            record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss, "resumed.")
            ref_loss, ref_params = uninterrupted[k]
            again.add(f"{self.RESUME_PREFIX}loss", "trajectory", np_loss, ref_loss, step=k)
            for n, p in npx.model.named_parameters():
                again.add(f"{self.RESUME_PREFIX}param.{n}", "parameter", p.data, ref_params[n],
                          step=k)


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
