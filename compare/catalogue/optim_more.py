"""The rest of torch.optim in lockstep: Adadelta, ASGD, RAdam, Rprop, Adafactor, Muon, LBFGS
and SparseAdam with their main flags, every scheduler torch has beyond the first seven,
tensor-valued hyperparameters, resumes from torch's own checkpoints, and stochastic weight
averaging on the digits MLP. Same task as ``optim.py``: the blobs MLP, full batch, compared
with torch after every step."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import npimpl
from reference import Spec, optimizer_pair, optimizer_state_to_torch, seq
from reference.models import digits_mlp_pair

from ..engine import (Result, Trajectory, _worst_per_quantity, build_sides,
                      case_rng, guarded, record_step, train_step, trajectory_tolerance)
from .core import pair
from .optim import BATCHES, LOSS, MLP, STEPS, Resume, opt, sched, traj

ORDER = 81


class Several:
    """Two or more optimizers driven as one (a Muon for the matrices and an AdamW for the
    rest, SparseAdam for an embedding and Adam for the rest): what a training loop does."""

    def __init__(self, *opts):
        self.opts = opts

    def zero_grad(self):
        for o in self.opts:
            o.zero_grad()

    def step(self, closure=None):
        for o in self.opts:
            o.step()

    def state_dict(self):
        return [o.state_dict() for o in self.opts]

    def load_state_dict(self, sd):
        for o, s in zip(self.opts, sd):
            o.load_state_dict(s)


def split_opt(rule, first: tuple, rest: tuple):
    """``first = (name, kwargs)`` for the parameters whose name ``rule`` accepts, ``rest`` for
    the others, on both sides."""
    def make(m, t):
        a = [p for n, p in m.named_parameters() if rule(n)]
        b = [p for n, p in m.named_parameters() if not rule(n)]
        ta = [p for n, p in t.named_parameters() if rule(n)]
        tb = [p for n, p in t.named_parameters() if not rule(n)]
        np_opt = Several(getattr(npimpl.optim, first[0])(a, **first[1]),
                         getattr(npimpl.optim, rest[0])(b, **rest[1]))
        t_opt = Several(getattr(torch.optim, first[0])(ta, **first[1]),
                        getattr(torch.optim, rest[0])(tb, **rest[1]))
        return np_opt, t_opt
    return make


def is_matrix(name: str) -> bool:
    return name.endswith("weight")


def tensor_lr(name: str, lr: float, **kw):
    """``lr`` as a 0-d float32 array on the NumPy side and a float32 tensor on torch's
    (torch's tensor-lr form): the lr-derived arithmetic happens in float32 on both sides."""
    def make(m, t):
        return (getattr(npimpl.optim, name)(m.parameters(), lr=np.asarray(lr, np.float32), **kw),
                getattr(torch.optim, name)(t.parameters(), lr=torch.tensor(lr), **kw))
    return make


def plateau(**kw):
    return lambda o, t: (npimpl.optim.lr_scheduler.ReduceLROnPlateau(o, **kw),
                         torch.optim.lr_scheduler.ReduceLROnPlateau(t, **kw))


def composite(kind: str, parts, **kw):
    """SequentialLR / ChainedScheduler over ``parts = [(name, args, kwargs), ...]``."""
    def build(lib, o):
        children = [getattr(lib, n)(o, *a, **k) for n, a, k in parts]
        if kind == "SequentialLR":
            return lib.SequentialLR(o, children, **kw)
        return lib.ChainedScheduler(children)
    return lambda o, t: (build(npimpl.optim.lr_scheduler, o), build(torch.optim.lr_scheduler, t))


# --- LBFGS and SparseAdam: their own models ------------------------------------------------
def lbfgs(name, steps=20, **kw):
    """LBFGS: one outer ``step(closure)`` is up to ``max_iter`` iterations (20 by default), so
    20 steps are ~400 evaluations of loss and gradient."""
    return Trajectory(name, "LBFGS", "optim", model=pair(MLP), loss=LOSS, batches=BATCHES,
                      optimizer=opt("LBFGS", **kw), steps=steps, closure=True,
                      note="20 outer steps, each up to max_iter L-BFGS iterations with "
                           "closure re-evaluations")


#: 30 bags of 5 token ids from a 20-word vocabulary; the class is the most frequent id mod 3
_TOK = np.random.default_rng(11).integers(0, 20, (30, 5))
_TOK_Y = np.array([np.bincount(r, minlength=20).argmax() % 3 for r in _TOK], dtype=np.int64)
BAG_MLP = seq(Spec("EmbeddingBag", 20, 8, mode="mean", sparse=True), Spec("Tanh"),
              Spec("Linear", 8, 3))


def sparse_adam(name, **kw):
    return Trajectory(name, "SparseAdam", "optim", model=pair(BAG_MLP), loss=LOSS,
                      batches=lambda rng, dt, step: (_TOK, _TOK_Y),
                      optimizer=split_opt(lambda n: n.startswith("0."), ("SparseAdam", kw),
                                          ("Adam", dict(lr=1e-2))),
                      steps=STEPS, note="SparseAdam on the EmbeddingBag's sparse gradient "
                                        "(rows of the 5-token bags), Adam on the rest")


# --- resume from torch's checkpoint ----------------------------------------------------------
@dataclass
class ResumeFromTorch(Resume):
    """As :class:`Resume`, but the rebuilt NumPy side loads *torch's* checkpoint (model
    weights and the optimizer's ``state_dict()``, tensors and all) and the rebuilt torch side
    loads the *NumPy* one (through ``reference.optimizer_state_to_torch``): each resumes from
    the other library's state and must go on exactly as the uninterrupted NumPy run."""

    def _run(self, dt, seed, rec, exact, res):
        _swap_checkpoint(self, dt, seed, rec, exact, res)


def _swap_checkpoint(case, dt, seed, rec, exact, res):
    """The body of :class:`ResumeFromTorch`: :class:`Resume`'s, with the checkpoints crossed."""
    torch.manual_seed(seed)
    rng = case_rng(seed, case.name, dt.name)
    batches = [case.batches(rng, dt, k) for k in range(case.steps)]
    npx, tx = build_sides(case, dt)
    uninterrupted = {}
    for k in range(case.steps):
        if k == case.resume_at:
            t_model = {n: v.detach().numpy().copy() for n, v in tx.model.state_dict().items()}
            t_opt = _torch_state_copy(tx.opt.state_dict())
            np_model = {n: a.copy() for n, a in npx.model.state_dict().items()}
            np_opt = npx.opt.state_dict()
            np_sched = npx.sched.state_dict() if npx.sched else None
            t_sched = tx.sched.state_dict() if tx.sched else None
        np_loss, t_loss = train_step(case, npx, tx, *batches[k])
        record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss)
        if k >= case.resume_at:
            uninterrupted[k] = (np_loss, {n: p.data.copy()
                                          for n, p in npx.model.named_parameters()})
    npx, tx = build_sides(case, dt)
    npx.model.load_state_dict(t_model)                         # torch -> NumPy
    npx.opt.load_state_dict(t_opt)
    tx.model.load_state_dict({n: torch.from_numpy(a) for n, a in np_model.items()})
    tx.opt.load_state_dict(optimizer_state_to_torch(np_opt))   # NumPy -> torch
    if npx.sched is not None:
        npx.sched.load_state_dict(np_sched)
        tx.sched.load_state_dict(t_sched)
    res.steps = res.steps[:case.resume_at]
    for k in range(case.resume_at, case.steps):
        np_loss, t_loss = train_step(case, npx, tx, *batches[k])
        record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss, "resumed.")
        ref_loss, ref_params = uninterrupted[k]
        exact.add("resume-exact.loss", "trajectory", np_loss, ref_loss, step=k)
        for n, p in npx.model.named_parameters():
            exact.add(f"resume-exact.param.{n}", "parameter", p.data, ref_params[n], step=k)


def _torch_state_copy(sd):
    """A deep copy of torch's optimizer state_dict (tensors cloned), as a checkpoint holds."""
    def conv(o):
        if isinstance(o, torch.Tensor):
            return o.detach().clone()
        if isinstance(o, dict):
            return {k: conv(v) for k, v in o.items()}
        if isinstance(o, (list, tuple)):
            return type(o)(conv(v) for v in o)
        return o
    return conv(sd)


# --- SWA on the digits MLP -----------------------------------------------------------------
@dataclass
class SWARun(Trajectory):
    """Train the digits MLP with SGD; from ``swa_start`` on, SWALR anneals the lr and an
    AveragedModel (SWA, or EMA with ``ema``) folds in the weights after every step; at the
    end ``update_bn`` and a forward of both averaged models on the test images. Rows: the
    training run (``loss``, ``param.*``), the averaged weights after every update (``swa.*``)
    and the averaged model's logits on the test split (``probe.out``)."""

    swa_start: int = 40
    ema: bool = False

    def run(self, dtype: str, seed: int = 0) -> Result:
        return guarded(self, dtype, trajectory_tolerance(self, dtype),
                       lambda rec, res: self._run(np.dtype(dtype), seed, rec, res),
                       _worst_per_quantity)

    def _run(self, dt, seed, rec, res):
        from npimpl.optim import swa_utils as S
        from torch.optim import swa_utils as TS

        from ..recipes import digits_batches, digits_test
        torch.manual_seed(seed)
        npx, tx = build_sides(self, dt)
        kw_n = dict(multi_avg_fn=S.get_ema_multi_avg_fn(0.95)) if self.ema else {}
        kw_t = dict(multi_avg_fn=TS.get_ema_multi_avg_fn(0.95)) if self.ema else {}
        avg_n, avg_t = S.AveragedModel(npx.model, **kw_n), TS.AveragedModel(tx.model, **kw_t)
        swa_n = S.SWALR(npx.opt, swa_lr=0.02, anneal_epochs=10)
        swa_t = TS.SWALR(tx.opt, swa_lr=0.02, anneal_epochs=10)
        batches = digits_batches(1, max_steps=self.steps)(seed, dt)
        for k, (_, x, y) in enumerate(batches):
            np_loss, t_loss = train_step(self, npx, tx, x, y)
            record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss)
            if k >= self.swa_start:
                avg_n.update_parameters(npx.model)
                avg_t.update_parameters(tx.model)
                swa_n.step()
                swa_t.step()
                t_state = avg_t.state_dict()
                for name, a in avg_n.state_dict().items():
                    rec.add(f"swa.{name}", "parameter", np.asarray(a),
                            t_state[name].detach().numpy(), step=k)
        loader = [x for _, x, _ in batches[:5]]
        S.update_bn(loader, avg_n)
        TS.update_bn([torch.from_numpy(x) for x in loader], avg_t)
        xq, _ = digits_test(dt)
        avg_n.eval()
        avg_t.eval()
        with torch.no_grad():
            b = avg_t(torch.from_numpy(xq)).numpy()
        a = avg_n(xq)
        rec.add("probe.out", "forward", a, b)
        res.probe = {"input": xq[:4], "numpy": a[:4], "torch": b[:4]}


CASES = [
    traj("adadelta-wd-exponentiallr", "Adadelta",
         opt("Adadelta", lr=1.0, rho=0.9, weight_decay=1e-3), sched("ExponentialLR", 0.99)),
    traj("adadelta-maximize-eps", "Adadelta",
         opt("Adadelta", lr=0.5, eps=1e-5, maximize=True),
         note="maximize: gradient ascent on the loss, for 200 steps"),
    traj("asgd-t0-wd-constantlr", "ASGD",
         opt("ASGD", lr=0.05, lambd=1e-3, alpha=0.7, t0=50, weight_decay=1e-3),
         sched("ConstantLR", factor=0.5, total_iters=40),
         note="t0=50: the averaging of ax starts at step 50; eta and mu are float32 in torch"),
    traj("radam-multiplicativelr", "RAdam",
         opt("RAdam", lr=1e-2), sched("MultiplicativeLR", lambda e: 0.995)),
    traj("radam-decoupled-wd-polynomiallr", "RAdam",
         opt("RAdam", lr=1e-2, weight_decay=1e-2, decoupled_weight_decay=True),
         sched("PolynomialLR", total_iters=150, power=2.0)),
    traj("rprop-etas-stepsizes", "Rprop",
         opt("Rprop", lr=1e-2, etas=(0.4, 1.1), step_sizes=(1e-5, 0.5))),
    traj("adafactor-defaults", "Adafactor", opt("Adafactor")),
    traj("adafactor-wd-d-eps-warmrestarts", "Adafactor",
         opt("Adafactor", lr=2e-2, weight_decay=1e-2, d=2.0, eps=(1e-25, 1e-2)),
         sched("CosineAnnealingWarmRestarts", T_0=20, T_mult=2, eta_min=1e-3)),
    traj("muon-adamw-rest", "Muon",
         split_opt(is_matrix, ("Muon", dict(lr=2e-2)), ("AdamW", dict(lr=1e-2))),
         note="Muon on the weight matrices (Newton-Schulz in bfloat16 on both sides), AdamW "
              "on the biases"),
    traj("muon-no-nesterov-match-rms", "Muon",
         split_opt(is_matrix, ("Muon", dict(lr=2e-2, nesterov=False, momentum=0.9,
                                            weight_decay=0.0, adjust_lr_fn="match_rms_adamw")),
                   ("SGD", dict(lr=0.1)))),
    lbfgs("lbfgs-plain", history_size=10),
    lbfgs("lbfgs-strong-wolfe", line_search_fn="strong_wolfe", history_size=5, max_iter=10),
    sparse_adam("sparseadam-embeddingbag"),
    sparse_adam("sparseadam-betas-maximize", lr=3e-2, betas=(0.8, 0.95)),
    traj("sgd-cycliclr-momentum", "SGD", opt("SGD", lr=0.01, momentum=0.9),
         sched("CyclicLR", base_lr=0.01, max_lr=0.1, step_size_up=20, mode="triangular2"),
         note="CyclicLR also cycles SGD's momentum between 0.8 and 0.9"),
    traj("adam-cycliclr-beta1-exprange", "Adam", opt("Adam", lr=1e-3),
         sched("CyclicLR", base_lr=1e-3, max_lr=1e-2, step_size_up=15, step_size_down=25,
               mode="exp_range", gamma=0.99),
         note="CyclicLR cycles Adam's beta1 (cycle_momentum)"),
    Trajectory("sgd-reducelronplateau", "SGD", "optim", model=pair(MLP), loss=LOSS,
               batches=BATCHES, optimizer=opt("SGD", lr=0.5, momentum=0.9), steps=STEPS,
               scheduler=plateau(factor=0.5, patience=5, threshold=1e-3, cooldown=3,
                                 min_lr=1e-3), scheduler_metric=True,
               note="ReduceLROnPlateau on the training loss: patience 5, cooldown 3"),
    traj("adam-sequentiallr-warmup-cosine", "Adam", opt("Adam", lr=1e-2),
         composite("SequentialLR", [("LinearLR", (), dict(start_factor=0.1, total_iters=20)),
                                    ("CosineAnnealingLR", (), dict(T_max=180))],
                   milestones=[20]),
         note="warm-up then cosine: SequentialLR switches at step 20"),
    traj("sgd-chainedscheduler", "SGD", opt("SGD", lr=0.1, momentum=0.5),
         composite("ChainedScheduler", [("ConstantLR", (), dict(factor=0.5, total_iters=30)),
                                        ("ExponentialLR", (0.99,), {})])),
    traj("adamw-tensor-lr", "AdamW", tensor_lr("AdamW", 1e-2, weight_decay=0.1),
         note="lr a 0-d float32 array / tensor: lr / bias_correction1 and 1 - lr * "
              "weight_decay computed in float32 on both sides"),
    Resume("radam-resume-at-100", "RAdam", "optim", model=pair(MLP), loss=LOSS,
           batches=BATCHES, optimizer=opt("RAdam", lr=1e-2, weight_decay=1e-2), steps=STEPS,
           scheduler=sched("PolynomialLR", total_iters=STEPS), resume_at=100),
    ResumeFromTorch("adafactor-resume-from-torch", "Adafactor", "optim", model=pair(MLP),
                    loss=LOSS, batches=BATCHES, optimizer=opt("Adafactor", weight_decay=1e-3),
                    steps=STEPS, resume_at=100,
                    note="at step 100 each side reloads the OTHER library's checkpoint"),
    ResumeFromTorch("asgd-resume-from-torch", "ASGD", "optim", model=pair(MLP), loss=LOSS,
                    batches=BATCHES, optimizer=opt("ASGD", lr=0.05, t0=40), steps=STEPS,
                    resume_at=100),
    SWARun("digits-mlp-swa", "AveragedModel", "optim", model=digits_mlp_pair, loss=LOSS,
           batches=None, optimizer=opt("SGD", lr=0.1, momentum=0.9), steps=80,
           note="SGD for 40 steps, then SWALR and an AveragedModel (SWA) updated every step; "
                "update_bn and the averaged model on the test split"),
    SWARun("digits-mlp-ema", "AveragedModel", "optim", model=digits_mlp_pair, loss=LOSS,
           batches=None, optimizer=opt("SGD", lr=0.1, momentum=0.9), steps=60, ema=True,
           swa_start=10, note="an EMA (decay 0.95) of the weights instead of the mean"),
]
