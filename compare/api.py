"""The public check API: point lockstep at anyone's layer.

    >>> from compare import check, assert_lockstep
    >>> verdict = check(MyLinear(4, 3), torch.nn.Linear(4, 3), x)
    >>> verdict.passed, print(verdict)
    >>> assert_lockstep(MyLinear(4, 3), torch.nn.Linear(4, 3), x)   # AssertionError(text)

``check`` copies the torch module's weights into (a copy of) the NumPy module through
``load_state_dict``, runs forward on both sides, backward with one seeded upstream gradient
per output (or ``grad_output=``), and compares every output, input gradient, parameter
gradient and buffer — in each of ``dtypes``, in train mode and (``eval=True``) once more in
eval mode — then a second forward+backward without ``zero_grad`` (gradients must add up, as
torch's do). Options add a short optimizer trajectory (``optimizer=``, ``steps=``) and a
comparison of the two sides' default initialisations (``init=True``).

The NumPy module may be an ``npimpl.Module`` subclass or any object that follows the
protocol below; the arguments are never modified (both modules are deep-copied per dtype).

The layer protocol (what ``check`` calls):

    forward(*inputs) -> output            (or __call__; output: an array or a tuple of them)
    backward(grad_output) -> grad_input   (one array per forward input, a tuple when the
                                           forward took several; parameter gradients are
                                           *added* into each parameter's .grad)
    named_parameters() -> iterable of (name, p) with p.data (ndarray) and p.grad (ndarray or
                                           None); names as torch's named_parameters()
    load_state_dict(dict of name -> ndarray)
    optional: train() / eval(), named_buffers(), state_dict(), zero_grad(),
              reset_parameters() (for init=True)
"""
from __future__ import annotations

import copy
import dataclasses
import math
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from reference import to_numpy, torch_dtype

from .engine import (Case, Inputs, Row, _compare_params_and_buffers, _Recorder, guarded,
                     leaves, one_thread, run_case, _worst_per_quantity)
from .metrics import TOLERANCES, tolerance_for

ROW_COLUMNS = [f.name for f in dataclasses.fields(Row)]
PROTOCOL = ("backward", "named_parameters", "load_state_dict")


# --- the verdict ------------------------------------------------------------------------
@dataclass
class Verdict:
    """What :func:`check` found. ``passed``; ``rows``, a DataFrame with the columns of
    ``deviations.csv``; ``str(verdict)`` names the first failing quantity, its worst element,
    the NumPy and torch values there, max_abs, max_rel and the tolerance."""

    label: str
    row_objects: list = field(default_factory=list)
    notes: list = field(default_factory=list)

    @property
    def rows(self) -> pd.DataFrame:
        return pd.DataFrame([dataclasses.asdict(r) for r in self.row_objects],
                            columns=ROW_COLUMNS)

    @property
    def failures(self) -> list:
        return [r for r in self.row_objects if not r.passed]

    @property
    def passed(self) -> bool:
        return bool(self.row_objects) and not self.failures

    def __bool__(self) -> bool:
        return self.passed

    def __str__(self) -> str:
        rows = self.row_objects
        dtypes = ", ".join(dict.fromkeys(r.dtype for r in rows))
        modes = ", ".join(dict.fromkeys(r.case.rsplit("[", 1)[-1].rstrip("]") for r in rows))
        if self.passed:
            w = max(rows, key=lambda r: r.tol_ratio)
            text = (f"lockstep: {self.label} agrees with torch: {len(rows)} quantities compared "
                    f"({dtypes}; {modes}); the closest to its tolerance is {w.quantity} "
                    f"[{w.dtype}, {_mode(w)}] at {w.tol_ratio:.3g} of it")
        elif not rows:
            text = f"lockstep: {self.label}: nothing was compared"
        else:
            bad = self.failures
            text = (f"lockstep: {self.label} differs from torch: {len(bad)} of {len(rows)} "
                    f"quantities failed ({dtypes}; {modes})\n\n" + _describe(bad[0]))
            rest = [f"{r.quantity} [{r.dtype}, {_mode(r)}]" for r in bad[1:]]
            if rest:
                more = f" and {len(rest) - 12} more" if len(rest) > 12 else ""
                text += "\n\nalso failing: " + ", ".join(rest[:12]) + more
        if self.notes:
            text += "\n\n" + "\n".join(f"note: {n}" for n in self.notes)
        return text

    __repr__ = __str__


def _mode(r: Row) -> str:
    return r.case.rsplit("[", 1)[-1].rstrip("]")


def _describe(r: Row) -> str:
    mode = _mode(r) + (" mode" if _mode(r) in ("train", "eval") else "")
    lines = [f"first failure: {r.quantity} [{r.dtype}, {mode}] — {_WHAT.get(r.kind, r.kind)}"]
    if r.kind == "error":
        lines.append(f"  {r.note}")
        return "\n".join(lines)
    d = getattr(r, "detail", None)
    if r.kind == "init":
        lines.append(f"  {r.note}")
        return "\n".join(lines)
    if d and d.get("index") is not None:
        pct = 100 * d["mismatched"] / max(d["total"], 1)
        lines.append(f"  mismatched elements: {d['mismatched']} / {d['total']} ({pct:.1f}%)")
        lines.append(f"  worst element at index {d['index']}: numpy {d['numpy']!r}, "
                     f"torch {d['torch']!r}")
    if math.isfinite(r.max_abs):
        lines.append(f"  max_abs {r.max_abs:.6g}, max_rel {r.max_rel:.6g}, {r.tol_ratio:.3g}× "
                     f"the tolerance")
    lines.append(f"  tolerance: {r.tolerance} (|numpy - torch| <= {r.atol:g} + {r.rtol:g}·|torch|)")
    if r.worst_step is not None and not (isinstance(r.worst_step, float)
                                         and math.isnan(r.worst_step)):
        lines.append(f"  at optimizer step {int(r.worst_step)}")
    if r.note:
        lines.append(f"  note: {r.note}")
    return "\n".join(lines)


_WHAT = {"forward": "a forward output", "grad_input": "an input gradient",
         "grad_param": "a parameter gradient", "buffer": "a buffer",
         "accumulation": "after a second forward+backward without zero_grad (torch adds "
                         "gradients into .grad)",
         "parameter": "a parameter after optimizer steps", "trajectory": "the pseudo-loss "
         "sum(output * grad_output) during optimizer steps", "structure": "the module's "
         "structure", "error": "the comparison crashed", "init": "the default initialisation"}


# --- argument checks --------------------------------------------------------------------
def _check_module(np_module) -> None:
    import npimpl
    if isinstance(np_module, npimpl.Module):
        return
    missing = [m for m in PROTOCOL if not callable(getattr(np_module, m, None))]
    if not (callable(getattr(np_module, "forward", None)) or callable(np_module)):
        missing.insert(0, "forward (or __call__)")
    if missing:
        raise TypeError(f"compare.check: the NumPy module must be an npimpl.Module or follow "
                        f"the layer protocol (forward/__call__, backward, named_parameters, "
                        f"load_state_dict); {type(np_module).__name__} has no "
                        f"{', '.join(missing)}")


def _dtypes(dtypes) -> list[str]:
    if isinstance(dtypes, (str, np.dtype, type, torch.dtype)):
        dtypes = [dtypes]
    out = []
    for d in dtypes:
        name = str(d).replace("torch.", "") if isinstance(d, torch.dtype) else d
        try:
            name = np.dtype(name).name
        except TypeError:
            name = None
        if name not in TOLERANCES:
            raise ValueError(f"compare.check: dtypes must name float dtypes among "
                             f"{sorted(TOLERANCES)}, got {d!r}")
        out.append(name)
    if not out:
        raise ValueError("compare.check: dtypes is empty; give at least one of "
                         f"{sorted(TOLERANCES)}")
    return list(dict.fromkeys(out))


def _as_numpy_input(x, dt):
    """Float arrays (and tensors) in ``dt``; integers, masks and None as they are."""
    if isinstance(x, (tuple, list)):
        return type(x)(_as_numpy_input(v, dt) for v in x)
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu().numpy()
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(dt)
    if isinstance(x, float):
        return np.asarray(x, dtype=dt)
    return x


def _named(module, what: str):
    fn = getattr(module, what, None)
    return list(fn()) if callable(fn) else []


def _convert(np_module, dt: np.dtype):
    """A deep copy of the NumPy module with every float parameter and buffer cast to ``dt``
    (torch's ``.to(dtype)``); npimpl modules' ``dtype`` attributes follow."""
    import npimpl
    m = copy.deepcopy(np_module)
    seen = set()
    for _, p in _named(m, "named_parameters"):
        if id(p) in seen:
            continue
        seen.add(id(p))
        data = np.asarray(p.data)
        if data.dtype.kind == "f" and data.dtype != dt:
            p.data = data.astype(dt)
    if isinstance(m, npimpl.Module):
        for sub in m.modules():
            for name, b in list(sub._buffers.items()):
                if isinstance(b, np.ndarray) and b.dtype.kind == "f" and b.dtype != dt:
                    sub.register_buffer(name, b.astype(dt), name not in sub._non_persistent)
            if isinstance(sub.__dict__.get("dtype"), np.dtype):
                object.__setattr__(sub, "dtype", dt)
    return m


def _share(np_mod, t_mod) -> None:
    """torch → NumPy through ``load_state_dict``; refuses mismatched keys with both lists."""
    t_state = {k: v.detach().cpu().numpy() for k, v in t_mod.state_dict().items()}
    own = getattr(np_mod, "state_dict", None)
    if callable(own):
        keys = list(own().keys())
        np_only = [k for k in keys if k not in t_state]
        t_only = [k for k in t_state if k not in keys]
        if np_only or t_only:
            raise ValueError(f"compare.check: the two modules' state_dict keys differ: only in "
                             f"the NumPy module {np_only}, only in the torch module {t_only} "
                             f"(expected the torch keys {list(t_state)})")
    else:
        names = [n for n, _ in _named(np_mod, "named_parameters")]
        t_names = [n for n, _ in t_mod.named_parameters()]
        if sorted(names) != sorted(t_names):
            raise ValueError(f"compare.check: parameter names differ: NumPy {names}, torch "
                             f"{t_names} (named_parameters() must use torch's names)")
    np_mod.load_state_dict(t_state)


def _set_mode(mod, training: bool) -> bool:
    """Put ``mod`` in train or eval mode; False when it has no ``train()`` (a module without
    modes can only be checked as it is)."""
    fn = getattr(mod, "train", None)
    if callable(fn):
        fn(training)
        return True
    return False


def _grad_fn(grad_output, dt):
    """The engine's per-output-leaf upstream gradient: the given one (cast), or None for the
    engine's seeded standard normal."""
    if grad_output is None:
        return None
    if callable(grad_output):
        return grad_output
    given = [np.asarray(g).astype(dt) for _, g in leaves(_as_numpy_input(grad_output, dt))]
    state = {"i": 0}

    def make(rng, out):
        g = given[state["i"] % len(given)]
        state["i"] += 1
        if g.shape != out.shape:
            raise ValueError(f"compare.check: grad_output has shape {g.shape}, the output "
                             f"{out.shape}")
        return g.copy()
    return make


# --- check ------------------------------------------------------------------------------
def check(np_module, torch_module, *inputs, dtypes=("float32", "float64"), eval: bool = True,
          grad_output=None, seed: int = 0, kwargs: dict | None = None,
          accumulate: bool = True, optimizer=None, steps: int = 0, init: bool = False,
          label: str | None = None) -> Verdict:
    """Run ``np_module`` in lockstep with ``torch_module`` on ``inputs``; return a Verdict.

    Args:
        np_module: an ``npimpl.Module`` (a user's subclass too) or any object following the
            layer protocol (module docstring).
        torch_module: its ``torch.nn.Module`` twin; its weights are copied to the NumPy side.
        *inputs: the forward's positional inputs (NumPy arrays, tensors, nested tuples;
            float ones are cast to each dtype, integer ones are passed as they are).
        dtypes: float dtypes to check in (default float32 and float64); each has the
            contract's tolerance (float64 rtol 1e-10/atol 1e-12; float32 assert_close's).
        eval: also check in eval mode (after train mode).
        grad_output: the upstream gradient (an array, or a tuple per output); default a
            seeded standard normal per output.
        seed: seeds the upstream gradients.
        kwargs: keyword arguments for both forwards (masks …).
        accumulate: run a second forward+backward without zero_grad and check that every
            ``.grad`` is the sum of both (torch's rule).
        optimizer: ``(numpy_factory, torch_factory)``, each called with the parameters, e.g.
            ``(lambda p: npimpl.optim.SGD(p, lr=0.1), lambda p: torch.optim.SGD(p, lr=0.1))``;
            with ``steps`` > 0 both sides take that many steps on the pseudo-loss
            ``sum(output * grad_output)`` and the parameters are compared after each.
        init: also compare the two sides' default initialisations (re-drawn with
            ``reset_parameters()`` many times: a two-sample KS test per parameter).
        label: the name used in the verdict (default: the NumPy module's class name).
    """
    _check_module(np_module)
    if not isinstance(torch_module, torch.nn.Module):
        raise TypeError(f"compare.check: the torch module must be a torch.nn.Module, got "
                        f"{type(torch_module).__name__}")
    if not inputs:
        raise ValueError("compare.check: no inputs: pass the forward's inputs after the two "
                         "modules, e.g. check(mine, torch.nn.Linear(4, 3), x)")
    if optimizer is not None and (not isinstance(optimizer, (tuple, list)) or
                                  len(optimizer) != 2 or not all(map(callable, optimizer))):
        raise TypeError("compare.check: optimizer must be a pair (numpy_factory, "
                        "torch_factory) of callables taking the parameters")
    if not isinstance(steps, int) or steps < 0:
        raise ValueError(f"compare.check: steps must be a non-negative int, got {steps!r}")
    dts = _dtypes(dtypes)
    label = label or type(np_module).__name__
    verdict = Verdict(label)
    modes = [True, False] if eval else [True]
    with one_thread():
        for dt_name in dts:
            dt = np.dtype(dt_name)
            for training in modes:
                res = _single(np_module, torch_module, inputs, dt, training, grad_output,
                              seed, kwargs or {}, accumulate, label, verdict)
                if res is None:
                    break
                verdict.row_objects += res
            if optimizer is not None and steps:
                verdict.row_objects += _trajectory(np_module, torch_module, inputs, dt,
                                                   grad_output, seed, kwargs or {}, optimizer,
                                                   steps, label)
        if init:
            verdict.row_objects += _init_rows(np_module, torch_module, seed, label, verdict)
    return verdict


class _Protocol:
    """A duck-typed layer seen through the npimpl interface the engine calls (``__call__``,
    ``named_buffers`` …); every call goes to the user's object."""

    def __init__(self, obj):
        self.obj = obj
        self.grad_inputs = getattr(obj, "grad_inputs", None)

    def __call__(self, *args, **kwargs):
        fn = getattr(self.obj, "forward", None)
        return (fn if callable(fn) else self.obj)(*args, **kwargs)

    def backward(self, *grads):
        return self.obj.backward(*grads)

    def named_parameters(self):
        return _named(self.obj, "named_parameters")

    def parameters(self):
        return [p for _, p in self.named_parameters()]

    def named_buffers(self):
        return _named(self.obj, "named_buffers")


def _pair(np_module, torch_module, dt, training):
    import npimpl
    np_mod = _convert(np_module, dt)
    t_mod = copy.deepcopy(torch_module).to(torch_dtype(dt))
    _share(np_mod, t_mod)
    t_mod.train(training)
    has_modes = _set_mode(np_mod, training)
    if not isinstance(np_mod, npimpl.Module):
        np_mod = _Protocol(np_mod)
    return np_mod, t_mod, has_modes


def _single(np_module, torch_module, inputs, dt, training, grad_output, seed, kwargs,
            accumulate, label, verdict):
    np_mod, t_mod, has_modes = _pair(np_module, torch_module, dt, training)
    if not has_modes and not training:
        note = f"{label} has no train()/eval(): eval mode was not checked"
        if note not in verdict.notes:
            verdict.notes.append(note)
        return None
    mode = "train" if training else "eval"
    case = Case(f"{label}[{mode}]", label, "user", lambda _dt: (np_mod, t_mod),
                lambda rng, _dt: Inputs(tuple(_as_numpy_input(x, dt) for x in inputs),
                                        {k: _as_numpy_input(v, dt) for k, v in kwargs.items()}),
                dtypes=(dt.name,), grad=_grad_fn(grad_output, dt))
    return run_case(case, dt.name, seed, accumulate=accumulate).rows


def _trajectory(np_module, torch_module, inputs, dt, grad_output, seed, kwargs, optimizer,
                steps, label):
    """``steps`` optimizer steps on both sides, the parameters compared after each."""
    case = Case(f"{label}[optimizer]", label, "user", None, None, dtypes=(dt.name,))

    def body(rec, res):
        np_mod, t_mod, _ = _pair(np_module, torch_module, dt, True)
        np_params = [p for _, p in _named(np_mod, "named_parameters")]
        np_opt, t_opt = optimizer[0](np_params), optimizer[1](t_mod.parameters())
        rng = np.random.default_rng([seed, 7])
        make = _grad_fn(grad_output, dt) or (lambda r, o: r.standard_normal(o.shape).astype(o.dtype))
        args = tuple(_as_numpy_input(x, dt) for x in inputs)
        kw = {k: _as_numpy_input(v, dt) for k, v in kwargs.items()}
        from reference import to_torch
        for step in range(steps):
            np_opt.zero_grad()
            t_opt.zero_grad()
            out = np_mod(*args, **kw)
            t_out = t_mod(*to_torch(args), **to_torch(kw))
            g = [make(rng, o) if isinstance(o, np.ndarray) and o.dtype.kind == "f" else None
                 for _, o in leaves(out)]
            t_leaves = [t for _, t in leaves(t_out)]
            pairs = [(t, gi) for t, gi in zip(t_leaves, g) if gi is not None and
                     isinstance(t, torch.Tensor) and t.requires_grad]
            np_loss = sum(float(np.sum(o * gi)) for (_, o), gi in zip(leaves(out), g)
                          if gi is not None)
            t_loss = sum(float((t.detach() * torch.from_numpy(gi)).sum()) for t, gi in pairs)
            torch.autograd.backward([t for t, _ in pairs],
                                    [torch.from_numpy(gi.copy()) for _, gi in pairs])
            it = iter(g)
            g_struct = _rebuild(out, it)
            if isinstance(out, tuple):
                np_mod.backward(*g_struct)
            else:
                np_mod.backward(g_struct)
            np_opt.step()
            t_opt.step()
            rec.add("loss", "trajectory", np.asarray(np_loss, dtype=dt),
                    np.asarray(t_loss, dtype=dt), step=step)
            _compare_params_and_buffers(rec, np_mod, t_mod, grads=False, values=True, step=step)

    return guarded(case, dt.name, tolerance_for(dt), body, _worst_per_quantity).rows


def _rebuild(obj, it):
    if isinstance(obj, (tuple, list)):
        return type(obj)(_rebuild(o, it) for o in obj)
    return next(it)


def _init_rows(np_module, torch_module, seed, label, verdict) -> list:
    """Both modules re-drawn from their own ``reset_parameters()`` many times (``compare.init``)."""
    from . import init as init_mod
    if not callable(getattr(np_module, "reset_parameters", None)) and not any(
            callable(getattr(m, "reset_parameters", None))
            for m in getattr(np_module, "modules", lambda: [])()):
        verdict.notes.append(f"{label} has no reset_parameters(): its initialisation was not "
                             "compared")
        return []

    def build_pair():
        n = copy.deepcopy(np_module)
        subs = list(n.modules()) if callable(getattr(n, "modules", None)) else [n]
        for m in reversed(subs):                  # children first, as torch constructs them
            if callable(getattr(m, "reset_parameters", None)):
                m.reset_parameters()
        t = copy.deepcopy(torch_module)
        for m in reversed(list(t.modules())):
            for fn in ("reset_parameters", "_reset_parameters"):
                if callable(getattr(m, fn, None)):
                    getattr(m, fn)()
                    break
        return n, t
    return init_mod.init_rows(f"{label}[init]", label, "user", build_pair, seed)


def assert_lockstep(np_module, torch_module, *inputs, **options) -> Verdict:
    """:func:`check`, raising ``AssertionError(str(verdict))`` unless it passed."""
    __tracebackhide__ = True          # pytest: show the verdict, not this frame
    verdict = check(np_module, torch_module, *inputs, **options)
    if not verdict.passed:
        raise AssertionError(str(verdict))
    return verdict
