"""Short optimizer trajectories for what the long ones leave out: the optimizers' own state
compared with torch's after every step (ASGD's average, the step counters, which buffers
exist), boundary options torch accepts (rho 0 and 1, lr and eps 0, beta2_decay 0), maximize,
tensor betas, Adafactor on a 3-d (convolution) weight, Muon's Newton-Schulz on the shapes
where torch's bfloat16 kernels change, L-BFGS's strong-Wolfe zoom phase, SparseAdam on a
gradient of one row, and a checkpoint loaded twice. Same blobs task as ``optim.py``."""
from __future__ import annotations

import copy
from dataclasses import dataclass, replace

import numpy as np
import torch

import npimpl
from reference import Spec, seq, to_numpy

from npimpl.optim._bfloat16 import matmul_bf16, round_bf16

from ..engine import (Metric, Result, Trajectory, _worst_per_quantity, allowance, build_sides,
                      case_rng, guarded, record_step, seed_libraries, train_step,
                      trajectory_tolerance)
from ..metrics import Tolerance
from .core import pair
from .optim import BATCHES, LOSS, MLP, Resume, is_bias, opt, sched
from .optim_more import (BAG_MLP, _TOK, _TOK_Y, Muon64, Several, TorchMuon64, is_matrix,
                         lbfgs, split_opt)

ORDER = 82

STEPS = 12


def _leaves(value, path=""):
    """``(path, leaf)`` of a state value: lists (LBFGS's history) walked, tensors to arrays."""
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _leaves(v, f"{path}[{i}]")
    elif isinstance(value, torch.Tensor):
        yield path, to_numpy(value)
    else:
        yield path, value


def _fail(note: str) -> Metric:
    return Metric(np.inf, np.inf, np.inf, (), False, note)


def compare_state(rec, np_opt, t_opt, step: int) -> None:
    """Rows ``state.<param index>.<name>``: every per-parameter state entry of the NumPy
    optimizer against torch's, both from ``state_dict()``; an entry only one side has (or a
    parameter with state on one side only) is a failing row."""
    np_sds, t_sds = np_opt.state_dict(), t_opt.state_dict()
    if not isinstance(np_sds, list):
        np_sds, t_sds = [np_sds], [t_sds]
    for j, (a, b) in enumerate(zip(np_sds, t_sds)):
        sa, sb = a["state"], b["state"]
        for i in sorted(set(sa) | set(sb)):
            ea, eb = sa.get(i, {}), sb.get(i, {})
            for name in sorted(set(ea) | set(eb)):
                q = f"state.{j}.{i}.{name}"
                if name not in ea or name not in eb:
                    rec.add(q, "buffer", None, None,
                            _fail(f"only {'torch' if name in eb else 'numpy'} has it"), step)
                    continue
                la, lb = list(_leaves(ea[name])), list(_leaves(eb[name]))
                if [p for p, _ in la] != [p for p, _ in lb]:
                    rec.add(q, "buffer", None, None, _fail("structure differs"), step)
                    continue
                for (path, x), (_, y) in zip(la, lb):
                    if x is None or y is None or isinstance(x, str) or isinstance(y, str):
                        m = (Metric(0.0, 0.0, 0.0, (), True) if x == y
                             else _fail(f"{x!r} vs torch {y!r}"))
                        rec.add(q + path, "buffer", None, None, m, step)
                    else:
                        rec.add(q + path, "buffer", np.asarray(x), np.asarray(y), step=step)


@dataclass
class StateTrajectory(Trajectory):
    """A trajectory that also compares the optimizers' state after every step
    (:func:`compare_state`): what the parameters alone do not show (ASGD's average ``ax``,
    ``step`` counters no update reads, buffers created for nothing)."""

    def run(self, dtype: str, seed: int = 0) -> Result:
        return guarded(self, dtype, trajectory_tolerance(self, dtype),
                       lambda rec, res: self._run(dtype, seed, rec, res), _worst_per_quantity)

    def _run(self, dtype, seed, rec, res):
        rng = case_rng(seed, self.name, dtype)
        seed_libraries(seed)
        dt = np.dtype(dtype)
        npx, tx = build_sides(self, dt)
        for k in range(self.steps):
            x, y = self.batches(rng, dt, k)
            allowance.before_step(self, rec, npx.model, tx.model, x, k)
            np_loss, t_loss = train_step(self, npx, tx, x, y)
            record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss)
            compare_state(rec, npx.opt, tx.opt, k)


def state_traj(name, layer, optimizer, steps=STEPS, scheduler=None, **kw):
    return StateTrajectory(name, layer, "optim", model=pair(MLP), loss=LOSS, batches=BATCHES,
                           optimizer=optimizer, steps=steps, scheduler=scheduler, **kw)


def short(name, layer, optimizer, steps=STEPS, **kw):
    return Trajectory(name, layer, "optim", model=pair(MLP), loss=LOSS, batches=BATCHES,
                      optimizer=optimizer, steps=steps, **kw)


def tensor_betas(name: str, betas: tuple, **kw):
    """``betas`` as 0-d float32 arrays / float32 tensors (torch's tensor-betas form): the
    bias corrections are float32 on both sides (``lr / bias_correction1`` is torch's
    ``reciprocal(bc1) * lr``)."""
    def make(m, t):
        return (getattr(npimpl.optim, name)(m.parameters(),
                                            betas=tuple(np.asarray(b, np.float32) for b in betas),
                                            **kw),
                getattr(torch.optim, name)(t.parameters(),
                                           betas=tuple(torch.tensor(b) for b in betas), **kw))
    return make


# --- Adafactor on a convolution: a 3-d weight, factored over its last two axes --------------
#: (N, 2, 6) inputs from the blobs' 8 features (two channels of 4, zero-padded to 6)
CONV_MLP = seq(Spec("Conv1d", 2, 4, 3), Spec("Tanh"), Spec("Flatten"), Spec("Linear", 16, 3))


def _conv_batches(rng, dt, step):
    x, y = BATCHES(rng, dt, step)
    x = np.concatenate([x.reshape(len(x), 2, 4), np.zeros((len(x), 2, 2), x.dtype)], axis=2)
    return x, y


# --- Muon: every layout and size where torch's bfloat16 gemm changes its order ----------------
#: weights (16, 8) tall, (16, 16) square (m*k*n = 4096: the last size ATen keeps), (17, 16)
#: tall (16*17*16 = 4352: oneDNN), (100, 17) (oneDNN), (3, 100) wide with k = 100 (ATen's
#: 64-element main loop and its 16-element tail)
MUON_MLP = seq(Spec("Linear", 8, 16), Spec("Tanh"), Spec("Linear", 16, 16), Spec("Tanh"),
               Spec("Linear", 16, 17), Spec("Tanh"), Spec("Linear", 17, 100), Spec("Tanh"),
               Spec("Linear", 100, 3))


@dataclass
class GemmBf16:
    """npimpl's bfloat16 matrix products (``npimpl.optim._bfloat16.matmul_bf16``, Muon's
    Newton-Schulz arithmetic) against torch's bfloat16 ``mm`` and ``addmm``, bit for bit, on
    adversarial products (a row holds 1 and 2^-8 among tiny terms: the float32 accumulation
    order decides on which side of a bfloat16 midpoint the sum lands), each operand
    row-major or a transposed view, at sizes on both sides of ATen's oneDNN threshold
    (m*k*n = 4096 stays in ATen, 4352 goes to oneDNN) and with ATen's 64-element main loop
    (k = 70). oneDNN's order is the one of CPUs with AVX512-BF16: its sizes run only there
    (tests/test_muon_bf16.py, which checks every call of the iteration too)."""

    name: str
    layer: str
    family: str
    sizes: tuple
    dtypes: tuple = ("float32",)
    note: str = ""

    def run(self, dtype: str, seed: int = 0) -> Result:
        return guarded(self, dtype, BIT_FOR_BIT, lambda rec, res: self._run(seed, rec),
                       _worst_per_quantity)

    def _run(self, seed, rec):
        rng = np.random.default_rng([seed, 22])
        for d, (m, k, n) in enumerate(self.sizes):
            a, b, c = _adversarial(rng, m, k, n)
            for layout in ("nn", "nt", "tn", "tt"):
                ta = (torch.from_numpy(a).bfloat16() if layout[0] == "n"
                      else torch.from_numpy(a.T.copy()).bfloat16().T)
                tb = (torch.from_numpy(b).bfloat16() if layout[1] == "n"
                      else torch.from_numpy(b.T.copy()).bfloat16().T)
                flags = dict(a_transposed=layout[0] == "t", b_transposed=layout[1] == "t")
                q = f"{layout}.{m}x{k}x{n}.{d}"
                rec.add(f"mm.{q}", "forward", matmul_bf16(a, b, **flags),
                        (ta @ tb).float().numpy())
                rec.add(f"addmm.{q}", "forward",
                        matmul_bf16(a, b, m=c, beta=-4.775, alpha=2.0315, **flags),
                        torch.addmm(torch.from_numpy(c).bfloat16(), ta, tb, beta=-4.775,
                                    alpha=2.0315).float().numpy())


#: bfloat16 products are claimed bit for bit
BIT_FOR_BIT = Tolerance(0.0, 1e-300, "bit for bit", "npimpl emulates torch's bfloat16 kernels")


def _adversarial(rng, m, k, n):
    a = rng.choice([-1.0, 1.0], (m, k)) * 2.0 ** rng.integers(-30, -18, (m, k))
    for row in a:
        i, j = rng.choice(k, 2, replace=False)
        row[i], row[j] = 1.0, 2.0 ** -8
    b = 1.0 + rng.integers(0, 2, (k, n)) * 2.0 ** -7
    return round_bf16(a), round_bf16(b), round_bf16(rng.standard_normal((m, n)) * 2.0 ** -9)


def _has_avx512_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read() and torch.backends.mkldnn.is_available()
    except OSError:
        return False


#: three draws at each size next to the threshold: one draw leaves some layouts' products
#: where every accumulation order rounds alike
GEMM_SIZES = ((9, 13, 7), (14, 16, 7), (4, 70, 9)) + ((16, 16, 16),) * 3 + (
    ((16, 17, 16),) * 3 + ((20, 37, 9),) if _has_avx512_bf16() else ())


def lbfgs_schedule(name, lrs: tuple, note: str, **kw):
    """L-BFGS with the strong-Wolfe line search, float64, one outer step per entry of
    ``lrs`` with that lr (a LambdaLR): lr sets the first trial step, and so which branches of
    the bracketing and zoom phases the line search takes."""
    return replace(lbfgs(name, steps=len(lrs), line_search_fn="strong_wolfe",
                         tolerance_grad=1e-5, note=note, **kw),
                   scheduler=sched("LambdaLR", lambda e: lrs[e % len(lrs)]))


# --- SparseAdam: some steps' gradients touch a single embedding row -----------------------
def _bag_batches(rng, dt, step):
    if step % 3 == 1:                 # every bag is the same token: one row of the gradient
        return np.full_like(_TOK, 7), _TOK_Y
    return _TOK, _TOK_Y


# --- a checkpoint loaded twice ---------------------------------------------------------------
#: a state entry under a key that is no parameter's index: torch's load_state_dict keeps it
#: as it is (and its state_dict hands it back), so npimpl's must too
STRAY = 99


def _as_float32(saved: dict) -> dict:
    """The checkpoint with the optimizers' per-parameter buffers stored in float32 (``step``
    and the stray entry as they are): both libraries cast them back to the parameters'
    dtype on loading."""
    out = dict(saved)
    for key, is_torch in (("np_opt", False), ("t_opt", True)):
        sd = copy.deepcopy(saved[key]) if is_torch else dict(saved[key])
        state = {}
        for i, entry in sd["state"].items():
            if i == STRAY:
                state[i] = entry
                continue
            state[i] = {n: (v if n == "step" else
                            v.float() if is_torch else v.astype(np.float32))
                        for n, v in entry.items()}
        out[key] = {**sd, "state": state}
    return out


@dataclass
class ResumeTwice(Resume):
    """As :class:`Resume`, but the resumed run is done twice from the same checkpoint: the
    NumPy side loads the very same saved arrays again (its ``load_state_dict`` copies, so the
    first resumed run must not have changed them); torch's side gets a fresh deep copy each
    time (torch's loading shares the tensors). The second time the buffers are stored in
    float32 (:func:`_as_float32`): loading casts them to the parameters' dtype. The checkpoint also carries a stray state
    entry (key :data:`STRAY`). Rows as :class:`Resume`'s, the second resumed run's under
    ``again.*``, and its optimizer state against torch's after every step (``state.*``,
    the stray entry included)."""

    def _run(self, dt, seed, rec, again, res):
        super()._run(dt, seed, rec, again, res)
        kept = res.steps                        # the report's trajectory: the first run's
        batches = [self.batches(case_rng(seed, self.name, dt.name), dt, k)
                   for k in range(self.steps)]
        npx, tx = build_sides(self, dt)
        self.restore(npx, tx, _as_float32(self._saved))
        for k in range(self.resume_at, self.steps):
            np_loss, t_loss = train_step(self, npx, tx, *batches[k])
            record_step(rec, res, k, npx.model, tx.model, np_loss, t_loss, "again.")
            compare_state(rec, npx.opt, tx.opt, k)
        res.steps = kept

    def checkpoint(self, npx, tx) -> dict:
        saved = super().checkpoint(npx, tx)
        saved["np_opt"]["state"][STRAY] = {"kept": np.arange(3.0)}
        saved["t_opt"]["state"][STRAY] = {"kept": torch.arange(3.0, dtype=torch.float64)}
        self._saved = saved
        return saved

    def restore(self, npx, tx, saved: dict) -> None:
        fresh = {k: (copy.deepcopy(v) if k.startswith("t_") else v) for k, v in saved.items()}
        super().restore(npx, tx, fresh)


CASES = [
    state_traj("asgd-t0-3-state", "ASGD", opt("ASGD", lr=0.05, t0=3, lambd=1e-2),
               note="t0=3: ax averages from step 4 on; the state (eta, mu, ax, step) compared "
                    "with torch's after every step"),
    state_traj("adadelta-rho-0-and-1-wd1-state", "Adadelta",
               split_opt(is_matrix, ("Adadelta", dict(rho=0.0, weight_decay=1.0)),
                         ("Adadelta", dict(rho=1.0, lr=0.5))),
               note="rho=0 (no memory, weight_decay 1) on the weights and rho=1 (the averages "
                    "stay 0: SGD with lr) on the biases, both accepted by torch"),
    replace(state_traj("rprop-maximize-state", "Rprop", opt("Rprop", lr=1e-3, maximize=True)),
            dtypes=("float64",)),
    state_traj("rmsprop-no-momentum-state", "RMSprop", opt("RMSprop", lr=1e-3, momentum=0.0),
               note="momentum 0: torch keeps no momentum_buffer"),
    state_traj("radam-maximize", "RAdam", opt("RAdam", lr=1e-2, maximize=True)),
    short("adam-lr0-eps0-groups", "Adam",
          opt("Adam", groups=[(is_bias, dict()), (lambda n: True, dict(lr=1e-2))],
              lr=0.0, eps=0.0),
          note="lr 0 (the biases' group: frozen) and eps 0, both accepted by torch"),
    short("adamax-tensor-betas", "Adamax", tensor_betas("Adamax", (0.8, 0.99), lr=1e-2)),
    StateTrajectory("adafactor-conv1d-wd1-beta2decay0-eps0", "Adafactor", "optim",
                    model=pair(CONV_MLP), loss=LOSS, batches=_conv_batches,
                    optimizer=opt("Adafactor", lr=1e-2, beta2_decay=0.0, eps=(0.0, 1e-3),
                                  weight_decay=1.0),
                    steps=STEPS,
                    note="a Conv1d's (4, 2, 3) weight: factored over its last two axes; "
                         "beta2_decay 0, eps1 0 and weight_decay 1, all accepted by torch"),
    replace(Trajectory("muon-gemm-shapes", "Muon", "optim", model=pair(MUON_MLP), loss=LOSS,
                       batches=BATCHES,
                       optimizer=split_opt(is_matrix, ("Muon", dict(lr=5e-3)),
                                           ("AdamW", dict(lr=1e-2))),
                       steps=6,
                       note="Newton-Schulz in bfloat16 on both sides, on weights of shapes "
                            "(16, 8), (16, 16), (17, 16), (100, 17), (3, 100)"),
            dtypes=("float64",)),
    replace(lbfgs("lbfgs-strong-wolfe-zoom", steps=7, line_search_fn="strong_wolfe",
                  history_size=2, max_iter=2, max_eval=5, tolerance_grad=1e-5,
                  note="lr 30 (the first trial overshoots: the zoom phase and its "
                       "insufficient-progress guard), then 0.05 and 5 (seeds 0-5: worst "
                       "tol_ratio 0.19; run on to a loss of 1e-6 the iterates part, as "
                       "LBFGS_F64_NOTE says)"),
            scheduler=sched("LambdaLR", lambda e: (30, 30, 30, 30, 0.05, 5, 30)[e % 7])),
    lbfgs("lbfgs-strong-wolfe-short-steps", steps=5, line_search_fn="strong_wolfe",
          history_size=2, max_iter=3, lr=0.02, tolerance_grad=1e-5,
          note="lr 0.02: every trial step is too short, the bracketing phase extrapolates "
               "until the evaluations (max_eval 3) run out"),
    lbfgs_schedule("lbfgs-strong-wolfe-bracket-reversed", (3, 0.05, 1, 30, 30, 100),
                   max_iter=2, max_eval=10, history_size=4,
                   note="a zoom step lands past the minimum below the low end: the bracket's "
                        "ends swap (cubic interpolation with x1 > x2); the zoom runs out of "
                        "evaluations (seeds 0-5: worst tol_ratio 0.24)"),
    lbfgs_schedule("lbfgs-strong-wolfe-low-end-second", (0.3, 100, 1, 0.05, 10, 0.05, 0.01),
                   max_iter=4, max_eval=10, history_size=2,
                   note="a bracket whose low end is its second point (seeds 0-5: worst "
                        "tol_ratio 0.08)"),
    StateTrajectory("sparseadam-maximize-one-row", "SparseAdam", "optim", model=pair(BAG_MLP),
                    loss=LOSS, batches=_bag_batches,
                    optimizer=split_opt(lambda n: n.startswith("0."),
                                        ("SparseAdam", dict(lr=1e-2, betas=(0.0, 0.99),
                                                            maximize=True)),
                                        ("Adam", dict(lr=1e-2))),
                    steps=STEPS,
                    note="maximize, beta1 0 (accepted by torch); every third step all bags "
                         "are one token, so the embedding's gradient has a single row"),
    GemmBf16("bf16-gemm-adversarial", "Muon", "optim", GEMM_SIZES,
             note="Muon's bfloat16 products against torch's mm/addmm, bit for bit, in every "
                  "layout, at sizes either side of ATen's oneDNN threshold (oneDNN's only on "
                  "CPUs with AVX512-BF16)"),
    Trajectory("adagrad-sparse-embeddingbag", "Adagrad", "optim", model=pair(BAG_MLP),
               loss=LOSS, batches=_bag_batches,
               optimizer=split_opt(lambda n: n.startswith("0."), ("Adagrad", dict(lr=0.1)),
                                   ("SGD", dict(lr=0.1, momentum=0.9))),
               steps=STEPS,
               note="Adagrad on the EmbeddingBag's sparse gradient (torch's sparse update: "
                    "the same as the dense one), SGD on the rest"),
    ResumeTwice("adam-resume-twice", "Adam", "optim", model=pair(MLP), loss=LOSS,
                batches=BATCHES, optimizer=opt("Adam", lr=1e-2), steps=10, resume_at=5,
                note="the same checkpoint loaded twice: the second resumed run must repeat "
                     "the first"),
]
