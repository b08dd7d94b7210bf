"""The lockstep engine: run an npimpl module and its torch twin side by side.

A single-step :class:`Case` shares weights torch → NumPy, runs forward on both
sides with the same inputs, drives backward with the same upstream gradient,
and compares every forward output, every input gradient, every parameter
gradient and every buffer.

A :class:`Trajectory` adds a loss and an optimizer and runs K steps on both
sides from the same batches, comparing per step the loss, every parameter and
every buffer; the worst deviation over all steps becomes one report row per
quantity, and every step goes to ``trajectories.csv``.

The NumPy side always runs first, so a torch twin may reuse what the NumPy
module drew (a dropout mask).
"""
from __future__ import annotations

import traceback
import zlib
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

import npimpl.random
from npimpl.sparse import SparseGrad, dense
from reference import to_numpy, to_torch

from . import allowance
from .metrics import FromEvent, Metric, Tolerance, deviation, tolerance_for


@contextmanager
def one_thread():
    """Run torch on one intra-op thread meanwhile, and restore the caller's setting after.

    The cases are tiny: torch's threads only cost time here (on a loaded 2-core machine a
    parallel kernel such as batch_norm waits ~60 ms per call at its OpenMP barrier, 0.2 ms
    single-threaded), and one thread makes torch's reduction order independent of the
    machine's core count, so a seed gives the same report everywhere. Importing ``compare``
    changes nothing in torch's global state; only a comparison in progress does.
    """
    threads = torch.get_num_threads()
    if threads != 1:
        torch.set_num_threads(1)
    try:
        yield
    finally:
        if threads != 1:
            torch.set_num_threads(threads)


# --- case descriptions ----------------------------------------------------------------
@dataclass
class Inputs:
    """Forward arguments: ``args`` (differentiable when float) and ``kwargs`` (never)."""

    args: tuple
    kwargs: dict = field(default_factory=dict)


@dataclass
class Case:
    """One module compared for one forward and one backward.

    Attributes:
        name: unique id, e.g. ``linear-3d-nobias``.
        layer: the npimpl class under test (the report groups rows by it).
        family: the report section (``core``, ``activation``, ``loss``, ``conv`` …).
        model: ``dtype -> (npimpl module, torch module)`` with shared weights.
        inputs: ``(rng, dtype) -> tuple | Inputs``, seeded by the engine.
        grad: ``(rng, output) -> upstream gradient`` (default: standard normal per output).
        after_backward: optional ``(np_module, torch_module) -> None`` for extra checks.
        reference64: also run torch in float64 on the float32 run's inputs and judge both
            sides against it, so that a row can say "torch is off" (:mod:`compare.torchoff`).
        isolate: run in a child process, so that a crash inside torch (a segfault) becomes a
            failing row instead of the end of the report run (:mod:`compare.isolate`).
    """

    name: str
    layer: str
    family: str
    model: Callable
    inputs: Callable
    dtypes: tuple = ("float32", "float64")
    grad: Callable | None = None
    note: str = ""
    reference64: bool = False
    isolate: bool = False


@dataclass
class Trajectory:
    """K optimizer steps on both sides from the same batches.

    Attributes:
        loss: ``dtype -> (npimpl loss, torch loss)``.
        batches: ``(rng, dtype, step) -> (input, target)``; ``rng`` is the case's own stream.
        optimizer: ``(np_model, torch_model) -> (np_opt, torch_opt)``.
        scheduler: optional ``(np_opt, torch_opt) -> (np_sched, torch_sched)``, stepped after
            every optimizer step.
        after_backward: optional ``(np_model, torch_model) -> None`` run after both backwards
            and before the optimizer steps (gradient clipping).
        probe: optional ``dtype -> input``: after training, both models are put in eval mode
            and run on it; the outputs are compared and kept for the report.
        f32: the float32 allowance (a named :class:`Tolerance` with its reason, or a
            :class:`~compare.metrics.FromEvent` that holds only from the step where its event
            is detected); None keeps the single-step float32 tolerance.
    """

    name: str
    layer: str
    family: str
    model: Callable
    loss: Callable
    batches: Callable
    optimizer: Callable
    steps: int
    dtypes: tuple = ("float32", "float64")
    scheduler: Callable | None = None
    after_backward: Callable | None = None
    probe: Callable | None = None
    f32: Tolerance | FromEvent | None = None
    note: str = ""
    #: the optimizer re-evaluates the loss (LBFGS): ``step(closure)`` on both sides
    closure: bool = False
    #: the scheduler steps on a metric (ReduceLROnPlateau): ``sched.step(loss)``
    scheduler_metric: bool = False


# --- results --------------------------------------------------------------------------
@dataclass
class Row:
    case: str
    family: str
    layer: str
    dtype: str
    quantity: str
    kind: str
    shape: str
    max_abs: float
    max_rel: float
    tol_ratio: float
    worst_index: str
    worst_step: int | None
    rtol: float
    atol: float
    tolerance: str
    passed: bool
    note: str = ""


@dataclass
class Result:
    case: Any
    dtype: str
    rows: list = field(default_factory=list)
    steps: list = field(default_factory=list)      # trajectory records, one dict per step
    probe: dict | None = None                       # {'input', 'numpy', 'torch'} for the report
    error: str | None = None
    traceback: str | None = None

    @property
    def passed(self) -> bool:
        return self.error is None and all(r.passed for r in self.rows)


def case_rng(seed: int, name: str, dtype: str) -> np.random.Generator:
    """One reproducible stream per (seed, case, dtype), independent of case order."""
    return np.random.default_rng([seed, zlib.crc32(name.encode()), zlib.crc32(dtype.encode())])


# --- structure helpers ----------------------------------------------------------------
def is_packed(obj) -> bool:
    """An npimpl or torch PackedSequence (a namedtuple whose one differentiable leaf is
    ``data``: the engine compares it, and the input gradient on it)."""
    return isinstance(obj, tuple) and hasattr(obj, "batch_sizes") and hasattr(obj, "data")


def leaves(obj, path: str = "") -> list[tuple[str, Any]]:
    """Flatten nested tuples/lists into ``[(path, leaf)]``: ``''``, ``'[0]'``, ``'[1][0]'`` …
    (a PackedSequence is one leaf, its ``data``: ``'[0].data'``)."""
    if is_packed(obj):
        return [(f"{path}.data", obj.data)]
    if isinstance(obj, (tuple, list)):
        out = []
        for i, o in enumerate(obj):
            out += leaves(o, f"{path}[{i}]")
        return out
    return [(path, obj)]


def like(obj, fn):
    """Map ``fn`` over the leaves of a nested tuple/list, keeping the structure (a namedtuple,
    such as AdaptiveLogSoftmaxWithLoss's ``(output, loss)``, stays one; a PackedSequence maps
    to ``fn(data)``: its gradient is the gradient of its data)."""
    if is_packed(obj):
        return fn(obj.data)
    if isinstance(obj, (tuple, list)):
        mapped = [like(o, fn) for o in obj]
        return type(obj)(*mapped) if hasattr(obj, "_fields") else type(obj)(mapped)
    return fn(obj)


def _is_float_array(x) -> bool:
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


# --- the engine -----------------------------------------------------------------------
class _Recorder:
    """Collects rows for one (case, dtype) run."""

    def __init__(self, case, dtype: str, tol: Tolerance):
        self.case, self.dtype, self.tol = case, dtype, tol
        self.rows: list[Row] = []
        #: ``{quantity: (numpy, torch)}``, kept only where compare.torchoff needs them
        self.values = {} if getattr(case, "reference64", False) and dtype == "float32" else None
        #: a FromEvent allowance's ``(step, what)`` once switched on, and the rows' note
        self.event, self.note_suffix = None, ""

    def add(self, quantity: str, kind: str, a, b, metric: Metric | None = None,
            step: int | None = None) -> Metric:
        m = metric or deviation(a, b, self.tol)
        shape = str(tuple(np.shape(b))) if b is not None else str(tuple(np.shape(a)))
        row = Row(self.case.name, self.case.family, self.case.layer, self.dtype,
                  quantity, kind, shape, m.max_abs, m.max_rel, m.tol_ratio,
                  str(m.worst_index), step, self.tol.rtol, self.tol.atol,
                  self.tol.name, m.passed, "; ".join(n for n in (m.note, self.note_suffix) if n))
        if not m.passed:
            row.detail = failure_detail(a, b, m, self.tol)   # not a column: for messages
        self.rows.append(row)
        if self.values is not None and metric is None:
            self.values[quantity] = (a, b)
        return m


def failure_detail(a, b, m: Metric, tol: Tolerance) -> dict | None:
    """For a failing comparison of two arrays of one shape: the values at the worst index
    and how many elements miss the tolerance (``compare.check``'s message shows them)."""
    try:
        a, b = np.asarray(a), np.asarray(b)
    except Exception:  # noqa: BLE001
        return None
    if a.shape != b.shape or a.dtype.kind not in "fiub" or b.dtype.kind not in "fiub":
        return None
    af, bf = a.astype(np.float64), b.astype(np.float64)
    with np.errstate(invalid="ignore", over="ignore"):
        bad = ~((np.abs(af - bf) <= tol.atol + tol.rtol * np.abs(bf)) |
                (np.isnan(af) & np.isnan(bf)) | (af == bf))
    idx = tuple(m.worst_index) if len(m.worst_index) == a.ndim else None
    if idx is None or (a.size and not bad[idx]):
        idx = np.unravel_index(int(np.argmax(bad)), a.shape) if bad.any() else None
    return dict(mismatched=int(bad.sum()), total=int(a.size),
                index=None if idx is None else tuple(int(i) for i in idx),
                numpy=None if idx is None else a[idx].item(),
                torch=None if idx is None else b[idx].item())


def _np_grads_of_inputs(ret, n_inputs: int, args: tuple | None = None) -> tuple:
    """The contract: backward returns one array for a one-input forward (or a loss's input
    gradient), else a tuple in input order. A recurrent layer called without its optional
    state returns ``(grad_input, grad_h0)`` all the same: with ``args`` given, a tuple whose
    first entry is an array of the one input's shape is read that way (the rest are the
    gradients of optional inputs left out)."""
    if isinstance(ret, tuple) and n_inputs > 1:
        return tuple(ret) + (None,) * (n_inputs - len(ret))
    one = None if args is None or len(args) != 1 else (
        args[0].data if is_packed(args[0]) else args[0])     # a PackedSequence: its data
    if (isinstance(ret, tuple) and ret and isinstance(one, np.ndarray)
            and isinstance(ret[0], np.ndarray) and ret[0].shape == one.shape):
        return (ret[0],)
    return (ret,) + (None,) * (n_inputs - 1)


def _compare_params_and_buffers(rec: _Recorder, np_mod, t_mod, *, grads: bool, values: bool,
                                prefix: str = "", step: int | None = None) -> list[Metric]:
    metrics = []
    np_p = dict(np_mod.named_parameters())
    t_p = dict(t_mod.named_parameters())
    if list(np_p) != list(t_p):
        metrics.append(rec.add(f"{prefix}parameter names", "structure", None, None,
                               Metric(np.inf, np.inf, np.inf, (), False,
                                      f"numpy {list(np_p)} vs torch {list(t_p)}"), step))
    for name in t_p:
        if name not in np_p:
            continue
        if values:
            metrics.append(rec.add(f"{prefix}param.{name}", "parameter", np_p[name].data,
                                   to_numpy(t_p[name]), step=step))
        if grads:
            tg = t_p[name].grad
            ng = np_p[name].grad
            if tg is None and ng is None:
                continue
            metrics.append(rec.add(f"grad.{name}", "grad_param", dense(ng),
                                   None if tg is None else to_numpy(tg), step=step))
            if isinstance(ng, SparseGrad) or (tg is not None and tg.is_sparse):
                metrics.append(_sparse_rows(rec, name, ng, tg, step))
    np_b = dict(np_mod.named_buffers())
    for name, tb in t_mod.named_buffers():
        metrics.append(rec.add(f"{prefix}buffer.{name}", "buffer", np_b.get(name), to_numpy(tb),
                               step=step))
    return metrics


def _sparse_rows(rec, name: str, ng, tg, step):
    """A sparse gradient is also compared as sparse: the rows it holds (coalesced: sorted,
    duplicates summed) must be torch's, exactly (row ``grad.<name>.indices``)."""
    a = ng.coalesce().indices if isinstance(ng, SparseGrad) else None
    b = (tg.coalesce().indices()[0].numpy() if tg is not None and tg.is_sparse else None)
    if a is None or b is None:
        return rec.add(f"grad.{name}.indices", "grad_param", None, None,
                       Metric(np.inf, np.inf, np.inf, (), False,
                              f"numpy gradient is {type(ng).__name__}, torch's is "
                              f"{'sparse' if b is not None else 'dense'}"), step)
    return rec.add(f"grad.{name}.indices", "grad_param", a, b, step=step)


def guarded(case, dtype: str, tol: Tolerance, body, aggregate=None) -> Result:
    """Run ``body(rec, res)`` with a recorder; a crash becomes a failing ``error`` row (a
    crash is a failed comparison, reported, never a dead report). ``aggregate`` post-processes
    the rows (trajectories keep the worst step per quantity)."""
    res = Result(case, dtype)
    rec = _Recorder(case, dtype, tol)
    try:
        body(rec, res)
    except Exception as exc:  # noqa: BLE001
        res.error = f"{type(exc).__name__}: {exc}"
        rec.add("error", "error", None, None,
                Metric(np.inf, np.inf, np.inf, (), False, res.error))
        res.traceback = traceback.format_exc()
    res.rows = aggregate(rec.rows) if aggregate else rec.rows
    return res


def run_case(case: Case, dtype: str, seed: int = 0, accumulate: bool | None = None,
             capture: dict | None = None) -> Result:
    """Run one single-step case in one dtype.

    ``accumulate`` runs the second forward+backward without ``zero_grad`` (default: in
    float64, where rounding cannot hide a lost contribution); ``capture``, a dict, receives
    torch's side of everything compared (inputs, weights, upstream gradients, outputs, input
    and parameter gradients) under the quantity names of ``deviations.csv`` (``lockstep
    export``)."""
    return guarded(case, dtype, tolerance_for(dtype),
                   lambda rec, res: _run_case(case, dtype, seed, rec, res, accumulate, capture))


def seed_libraries(seed: int) -> None:
    """Seed what a case draws from besides its own ``rng``: torch's global generator (weights
    a torch twin makes) and npimpl's default generator (modules built without ``rng=``)."""
    torch.manual_seed(seed)
    npimpl.random.manual_seed(seed)


def _run_case(case: Case, dtype: str, seed: int, rec: _Recorder, res: Result,
              accumulate: bool | None = None, capture: dict | None = None) -> None:
    rng = case_rng(seed, case.name, dtype)
    seed_libraries(seed)
    np_mod, t_mod = case.model(np.dtype(dtype))
    inp = case.inputs(rng, np.dtype(dtype))
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    if capture is not None:
        _capture_inputs(capture, inp, t_mod)

    # which positional inputs are differentiated (a loss's target is not): torch must agree
    diff = getattr(np_mod, "grad_inputs", None) or range(len(inp.args))
    t_args = tuple(to_torch(a, requires_grad=i in diff) for i, a in enumerate(inp.args))
    t_kwargs = to_torch(inp.kwargs)

    # 1.-2. forward (NumPy first) and backward with one upstream gradient per float output
    np_gin, g_struct = _forward_backward(case, rec, rng, np_mod, t_mod, inp, t_args, t_kwargs,
                                         capture=capture)

    # 3. input gradients (and the structure backward returned them in)
    _record_structure(rec, inp, np_gin)
    for name, x, g, t in _input_grads(inp, np_gin, t_args, diff):
        tg = t.grad if isinstance(t, torch.Tensor) else None
        tg = np.zeros_like(x) if tg is None else to_numpy(tg)
        rec.add(name, "grad_input", g, tg)
        if capture is not None:
            capture[name] = tg

    # 4. parameter gradients and buffers
    _compare_params_and_buffers(rec, np_mod, t_mod, grads=True, values=False)
    if capture is not None:
        for name, p in t_mod.named_parameters():
            if p.grad is not None:
                capture[f"grad.{name}"] = to_numpy(p.grad)

    # 4b. is torch the one that is off? torch in float64 judges both sides (opt-in)
    if rec.values is not None:
        from . import torchoff
        torchoff.judge(rec, rec.values, torchoff.reference_values(
            t_mod, inp, g_struct, diff, leaves, _input_grads))

    # 5. accumulation: a second forward+backward without zero_grad must leave every .grad
    #    equal to the sum of both passes (torch's rule), and the buffers updated twice
    if accumulate is None:
        accumulate = dtype == "float64"
    if accumulate:
        _accumulation_pass(case, rec, rng, np_mod, t_mod, inp, t_args, t_kwargs, diff, np_gin)


def _forward_backward(case, rec, rng, np_mod, t_mod, inp, t_args, t_kwargs, prefix: str = "",
                      capture: dict | None = None):
    """One forward (NumPy first, so a twin may reuse what the NumPy side drew) and one
    backward on both sides; records the forward outputs (unless ``prefix`` marks a repeat
    pass) and returns the NumPy input gradients (one per positional input)."""
    np_out = np_mod(*inp.args, **inp.kwargs)
    t_out = t_mod(*t_args, **t_kwargs)
    np_leaves, t_leaves = leaves(np_out), leaves(t_out)
    if len(np_leaves) != len(t_leaves):
        raise ValueError(f"output structure differs: numpy {len(np_leaves)} leaves, torch "
                         f"{len(t_leaves)}")
    for (path, a), (_, b) in zip(np_leaves, t_leaves):
        rec.add(f"{prefix}out{path}", "forward", a, to_numpy(b))
        if capture is not None:
            capture[f"out{path}"] = to_numpy(b)
    make_grad = case.grad or (lambda r, o: r.standard_normal(o.shape).astype(o.dtype))
    g_struct = like(np_out, lambda o: make_grad(rng, o) if _is_float_array(o) else None)
    g_leaves = leaves(g_struct)
    t_outs, t_grads = [], []
    for (path, t), (_, g) in zip(t_leaves, g_leaves):
        if isinstance(t, torch.Tensor) and t.requires_grad and g is not None:
            t_outs.append(t)
            t_grads.append(torch.from_numpy(g.copy()))
        if capture is not None and g is not None:
            capture[f"grad_output{path}"] = g.copy()
    if t_outs:
        torch.autograd.backward(t_outs, t_grads)
    ret = np_mod.backward(*g_struct) if isinstance(np_out, tuple) else np_mod.backward(g_struct)
    return _np_grads_of_inputs(ret, len(inp.args), inp.args), g_struct


def grad_structure_errors(inp: Inputs, np_gin: tuple) -> list[str]:
    """What is wrong with the structure of backward's return, input by input: the gradient
    of an input has that input's structure (one array for an array, a tuple for a tuple),
    and a non-float leaf (indices, masks, ``None``) gets ``None`` — never a list where an
    array belongs, or ``(None, None)`` for one integer input."""
    errors = []
    for i, (a_arg, g) in enumerate(zip(inp.args, np_gin)):
        if g is None:
            continue
        if is_packed(a_arg):                 # a PackedSequence's gradient is its data's
            a_arg = a_arg.data
        a_leaves, g_leaves = leaves(a_arg), leaves(g)
        if [p for p, _ in a_leaves] != [p for p, _ in g_leaves]:
            errors.append(f"input {i} is {_shape_of(a_arg)} but its gradient is "
                          f"{_shape_of(g)}")
            continue
        for (path, x), (_, gx) in zip(a_leaves, g_leaves):
            if not _is_float_array(x) and gx is not None:
                errors.append(f"input {i}{path} is not differentiable ({type(x).__name__}"
                              f"{'' if not isinstance(x, np.ndarray) else ' of ' + str(x.dtype)})"
                              f" but its gradient is {type(gx).__name__}, not None")
            elif _is_float_array(x) and gx is not None and not isinstance(gx, np.ndarray):
                errors.append(f"input {i}{path} is an array but its gradient is a "
                              f"{type(gx).__name__}")
    return errors


def _shape_of(obj) -> str:
    if isinstance(obj, (tuple, list)):
        return f"a {type(obj).__name__} of {len(obj)}"
    return "None" if obj is None else f"a {type(obj).__name__}"


def _record_structure(rec, inp: Inputs, np_gin: tuple, prefix: str = "") -> None:
    errors = grad_structure_errors(inp, np_gin)
    if errors:
        rec.add(f"{prefix}grad_in structure", "structure", None, None,
                Metric(np.inf, np.inf, np.inf, (), False, "; ".join(errors)))


def _input_grads(inp: Inputs, np_gin: tuple, t_args: tuple, diff):
    """``(quantity name, input leaf, numpy gradient, torch leaf)`` for every differentiated
    float input leaf."""
    for i, (a_arg, np_g, t_arg) in enumerate(zip(inp.args, np_gin, t_args)):
        np_leaves = (leaves(np_g) if np_g is not None
                     else [(p, None) for p, _ in leaves(a_arg)])
        for (path, x), (_, g), (_, t) in zip(leaves(a_arg), np_leaves, leaves(t_arg)):
            if not _is_float_array(x) or i not in diff:
                continue
            name = "grad_in" if len(inp.args) == 1 and not path else f"grad_in[{i}]{path}"
            yield name, x, g, t


def _snapshot_grads(mod) -> dict:
    return {n: None if p.grad is None else np.array(dense(p.grad), copy=True)
            for n, p in mod.named_parameters()}


def _accumulation_pass(case, rec, rng, np_mod, t_mod, inp, t_args, t_kwargs, diff, np_gin1):
    """Run forward+backward once more without zero_grad and compare the accumulated
    gradients (rows ``accum.grad.<name>``, ``accum.grad_in…``) and the buffers after two
    updates (``accum.buffer.<name>``). A mismatch whose NumPy value equals the second pass's
    own contribution is named: the gradient was overwritten, not accumulated."""
    np_g1 = _snapshot_grads(np_mod)
    t_g1 = {n: None if p.grad is None else p.grad.detach().clone()
            for n, p in t_mod.named_parameters()}
    t_in1 = {}
    for name, _, _, t in _input_grads(inp, np_gin1, t_args, diff):
        if isinstance(t, torch.Tensor) and t.grad is not None:
            t_in1[name] = t.grad.detach().clone()
    np_gin2, _ = _forward_backward(case, rec, rng, np_mod, t_mod, inp, t_args, t_kwargs,
                                   prefix="accum.")
    # input gradients: torch's leaves accumulate; the NumPy side returns each pass's own
    _record_structure(rec, inp, np_gin2, prefix="accum.")
    g1 = {n: g for n, _, g, _ in _input_grads(inp, np_gin1, t_args, diff)}
    for name, x, g2, t in _input_grads(inp, np_gin2, t_args, diff):
        tg = t.grad if isinstance(t, torch.Tensor) else None
        tg = np.zeros_like(x) if tg is None else to_numpy(tg)
        a, b = g1.get(name), g2
        total = None if a is None and b is None else (
            (np.zeros_like(x) if a is None else a) + (np.zeros_like(x) if b is None else b))
        rec.add(f"accum.{name}", "accumulation", total, tg)
    # parameter gradients
    t_params = dict(t_mod.named_parameters())
    for name, p in np_mod.named_parameters():
        tp = t_params.get(name)
        if tp is None or (tp.grad is None and p.grad is None):
            continue
        tg = None if tp.grad is None else to_numpy(tp.grad)
        ng = None if p.grad is None else dense(p.grad)
        m = rec.add(f"accum.grad.{name}", "accumulation", ng, tg)
        if not m.passed and tg is not None and ng is not None and t_g1.get(name) is not None:
            second = tg - to_numpy(t_g1[name])               # torch's second contribution
            if np.allclose(ng, second, rtol=1e-6, atol=1e-9):
                rec.rows[-1].note = ("overwritten, not accumulated: after two backward passes "
                                     ".grad holds only the second pass's contribution")
            elif np_g1.get(name) is not None and np.allclose(ng, np_g1[name], rtol=1e-6,
                                                              atol=1e-9):
                rec.rows[-1].note = ("the second backward added nothing to .grad")
    for name, tb in t_mod.named_buffers():
        rec.add(f"accum.buffer.{name}", "accumulation", dict(np_mod.named_buffers()).get(name),
                to_numpy(tb))


def _capture_inputs(capture: dict, inp: Inputs, t_mod) -> None:
    """For ``lockstep export``: the inputs and the shared weights, before anything runs."""
    for i, a in enumerate(inp.args):
        for path, x in leaves(a):
            if isinstance(x, np.ndarray):
                capture[f"input[{i}]{path}"] = np.array(x, copy=True)
    for k, v in inp.kwargs.items():
        for path, x in leaves(v):
            if isinstance(x, np.ndarray):
                capture[f"input.{k}{path}"] = np.array(x, copy=True)
    for name, v in t_mod.state_dict().items():
        capture[f"param.{name}"] = to_numpy(v).copy()


def trajectory_tolerance(case, dtype: str) -> Tolerance:
    """The contract's tolerance, or the case's named float32 allowance (a FromEvent one starts
    at the contract's: see :mod:`compare.allowance`)."""
    if dtype == "float32" and isinstance(case.f32, Tolerance):
        return case.f32
    return tolerance_for(dtype)


def run_trajectory(case: Trajectory, dtype: str, seed: int = 0) -> Result:
    """Run K optimizer steps on both sides."""
    return guarded(case, dtype, trajectory_tolerance(case, dtype),
                   lambda rec, res: _run_trajectory(case, dtype, seed, rec, res),
                   _worst_per_quantity)


def _worst_per_quantity(rows: list[Row]) -> list[Row]:
    """Keep, per quantity, the row of the step with the largest tol_ratio (first on ties)."""
    best: dict[str, Row] = {}
    failed: dict[str, bool] = {}
    for r in rows:
        failed[r.quantity] = failed.get(r.quantity, False) or not r.passed
        cur = best.get(r.quantity)
        if cur is None or r.tol_ratio > cur.tol_ratio:
            best[r.quantity] = r
    out = []
    for q, r in best.items():
        if failed[q] and r.passed:  # a structural failure elsewhere with a smaller ratio
            r.passed = False
        out.append(r)
    return out


@dataclass
class Side:
    """One side's training objects: model, criterion, optimizer and (optional) scheduler."""

    model: Any
    crit: Any
    opt: Any
    sched: Any = None


def build_sides(case: Trajectory, dt: np.dtype) -> tuple[Side, Side]:
    """Build the NumPy and the torch side of a trajectory case, weights shared."""
    np_model, t_model = case.model(dt)
    np_crit, t_crit = case.loss(dt)
    np_opt, t_opt = case.optimizer(np_model, t_model)
    np_sched, t_sched = case.scheduler(np_opt, t_opt) if case.scheduler else (None, None)
    return Side(np_model, np_crit, np_opt, np_sched), Side(t_model, t_crit, t_opt, t_sched)


def train_step(case: Trajectory, npx: Side, tx: Side, x, y):
    """One optimizer step on both sides (NumPy first); returns ``(np_loss, torch_loss)``.

    With ``case.closure`` the optimizers call the forward+backward themselves as often as
    they need (LBFGS), and the loss returned is the one at the step's start (torch's)."""
    def np_closure():
        npx.opt.zero_grad()
        loss = npx.crit(npx.model(x), y)
        npx.model.backward(npx.crit.backward())
        return loss

    def t_closure():
        tx.opt.zero_grad()
        loss = tx.crit(tx.model(to_torch(x)), to_torch(y))
        loss.backward()
        return loss

    if getattr(case, "closure", False):
        if case.after_backward is not None:
            raise ValueError(f"{case.name}: after_backward cannot run inside an optimizer's "
                             "closure; give the closure case none")
        np_loss = npx.opt.step(np_closure)
        t_loss = tx.opt.step(t_closure)
    else:
        np_loss = np_closure()
        t_loss = t_closure()
        if case.after_backward is not None:
            case.after_backward(npx.model, tx.model)
        npx.opt.step()
        tx.opt.step()
    if npx.sched is not None:
        if getattr(case, "scheduler_metric", False):
            npx.sched.step(float(np.asarray(np_loss)))
            tx.sched.step(float(t_loss.item()))
        else:
            npx.sched.step()
            tx.sched.step()
    return np.asarray(np_loss), t_loss.detach() if isinstance(t_loss, torch.Tensor) else t_loss


def record_step(rec: _Recorder, res: Result, step: int, np_model, t_model, np_loss, t_loss,
                prefix: str = "") -> None:
    """Compare the loss, every parameter and every buffer after ``step``; append the
    step's record (for ``trajectories.csv`` and the plots) to ``res.steps``."""
    lm = rec.add(f"{prefix}loss", "trajectory", np_loss, to_numpy(t_loss), step=step)
    pm = _compare_params_and_buffers(rec, np_model, t_model, grads=False, values=True,
                                     prefix=prefix, step=step)
    worst = max(pm, key=lambda m: m.tol_ratio) if pm else Metric(0, 0, 0, (), True)
    res.steps.append(dict(case=rec.case.name, dtype=rec.dtype, step=step,
                          loss_numpy=float(np_loss), loss_torch=float(t_loss.item()),
                          loss_abs_dev=lm.max_abs, max_param_abs_dev=worst.max_abs,
                          max_param_rel_dev=max((m.max_rel for m in pm), default=0.0),
                          max_tol_ratio=max(lm.tol_ratio, worst.tol_ratio),
                          passed=lm.passed and all(m.passed for m in pm)))


def _run_trajectory(case: Trajectory, dtype: str, seed: int, rec: _Recorder, res: Result):
    rng = case_rng(seed, case.name, dtype)
    seed_libraries(seed)
    dt = np.dtype(dtype)
    npx, tx = build_sides(case, dt)
    for step in range(case.steps):
        x, y = case.batches(rng, dt, step)
        allowance.before_step(case, rec, npx.model, tx.model, x, step)
        np_loss, t_loss = train_step(case, npx, tx, x, y)
        record_step(rec, res, step, npx.model, tx.model, np_loss, t_loss)
    if case.probe is not None:
        xq = case.probe(dt)
        npx.model.eval()
        tx.model.eval()
        a = npx.model(xq)
        with torch.no_grad():
            b = to_numpy(tx.model(to_torch(xq)))
        rec.add("probe.out", "forward", a, b)
        res.probe = {"input": xq, "numpy": a, "torch": b}


def run(case, dtype: str, seed: int = 0) -> Result:
    """Run a :class:`Case`, a :class:`Trajectory`, or any case object with its own
    ``run(dtype, seed) -> Result`` (for comparisons neither shape fits, e.g. a resumed run).

    torch runs on one thread meanwhile (:func:`one_thread`). A case with ``isolate=True``
    runs in a child process (:mod:`compare.isolate`).
    """
    if getattr(case, "isolate", False):
        from .isolate import run_isolated
        return run_isolated(case, dtype, seed, _run_here)
    return _run_here(case, dtype, seed)


def _run_here(case, dtype: str, seed: int) -> Result:
    with one_thread():
        if hasattr(case, "run"):
            return case.run(dtype, seed)
        if isinstance(case, Trajectory):
            return run_trajectory(case, dtype, seed)
        return run_case(case, dtype, seed)
