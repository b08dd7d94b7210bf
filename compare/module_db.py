"""PyTorch's own module test inputs, run through npimpl.

``torch.testing._internal.common_modules.module_db`` is the list of ``ModuleInfo`` that
PyTorch's ``test_modules.py`` runs every module with: for each class a function that makes
``ModuleInput`` samples (a constructor input, a forward input, a description). This module
runs every sample of every class that npimpl has (the classes are found by name, so a class
added to npimpl later joins by itself) in lockstep, in float64:

1. build torch's module from the sample's constructor input (``.to(float64)``, as torch's
   own tests do) and npimpl's from the same input translated (tensors → ndarrays,
   ``torch.float64`` → ``np.float64``, ``F.gelu`` → ``'gelu'``), then share torch's weights;
2. run forward on both with the sample's forward input (train mode, and eval mode too for
   the classes that torch marks ``train_and_eval_differ``);
3. run backward with one seeded standard-normal upstream gradient per float output;
4. compare every output, every input gradient that npimpl's contract returns, every
   parameter gradient and every buffer, with the float64 tolerance (rtol 1e-10, atol 1e-12).

A sample that cannot apply is *skipped* with a reason from :data:`SKIP_REASONS` (each a real
inapplicability: a complex dtype, a torch module instance as a constructor argument ...);
anything else that does not agree is a *failure*, counted as such. :func:`counts` gives the
numbers the README states.
"""
from __future__ import annotations

import inspect
import warnings
import zlib
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from .engine import _is_float_array, leaves, like
from .metrics import FLOAT64, deviation

#: why a sample is not run: reason code -> explanation (the test lists every skip with it)
SKIP_REASONS = {
    "complex": "a complex tensor in the sample: npimpl is real-valued (float16/32/64 only)",
    "torch module argument": "a torch.nn.Module instance among the constructor arguments, "
                             "with no translation to an npimpl module",
    "torch callable argument": "a torch function among the constructor arguments with no "
                               "npimpl equivalent",
}

#: torch functions that npimpl names by string (torch accepts both forms, with one meaning)
CALLABLES = {F.relu: "relu", F.gelu: "gelu"}

#: classes whose samples fail today, with the finding (a failure stays a failure: it is counted
#: as failed, and tests/test_module_db.py requires it to keep failing until it is fixed here)
KNOWN_FAILURES: dict = {}


class Skip(Exception):
    """A sample that does not apply to npimpl: ``code`` is a key of :data:`SKIP_REASONS`."""

    def __init__(self, code: str):
        assert code in SKIP_REASONS, code
        super().__init__(code)
        self.code = code


@dataclass
class Sample:
    """One ``ModuleInput`` of one class, in one mode."""

    cls: str
    index: int
    training: bool
    desc: str
    module_input: object = field(repr=False)

    @property
    def id(self) -> str:
        mode = "train" if self.training else "eval"
        return f"{self.cls}-{self.index}-{mode}" + (f"-{self.desc}" if self.desc else "")


@dataclass
class Outcome:
    """``status`` is 'pass', 'skip' (``detail`` = the reason code) or 'fail' (``detail`` says
    which quantity missed, or the exception)."""

    sample: Sample
    status: str
    detail: str = ""
    rows: list = field(default_factory=list)


# --- which classes and samples -------------------------------------------------------------
@lru_cache(maxsize=1)
def module_infos() -> tuple:
    """The entries of torch's module_db (float64 ones) whose class npimpl has, by name."""
    from torch.testing._internal.common_modules import module_db
    have = set(npimpl.__all__)
    return tuple(mi for mi in module_db
                 if mi.module_cls.__name__ in have and torch.float64 in mi.dtypes)


def torch_classes() -> list[str]:
    """Every class name in torch's module_db (the denominator of the README's sentence)."""
    from torch.testing._internal.common_modules import module_db
    return sorted({mi.module_cls.__name__ for mi in module_db})


def _info(name: str):
    return next(mi for mi in module_infos() if mi.module_cls.__name__ == name)


def classes() -> list[str]:
    """The npimpl classes that torch's module_db covers."""
    return sorted({mi.module_cls.__name__ for mi in module_infos()})


def samples(name: str) -> list[Sample]:
    """Every sample of one class: train mode, and eval mode where torch says they differ.
    torch's sample makers draw random tensors: the generator is seeded per class and mode."""
    mi = _info(name)
    out = []
    for training in ((True, False) if mi.train_and_eval_differ else (True,)):
        torch.default_generator.manual_seed(zlib.crc32(f"{name}-{training}".encode()))
        made = mi.module_inputs_func(mi, device="cpu", dtype=torch.float64, requires_grad=True,
                                     training=training)
        out += [Sample(name, i, training, m.desc, m) for i, m in enumerate(made)]
    return out


# --- translation torch -> npimpl ------------------------------------------------------------
def to_np(obj):
    """A constructor or forward argument as npimpl takes it."""
    if isinstance(obj, torch.Tensor):
        if obj.is_complex():
            raise Skip("complex")
        return obj.detach().cpu().numpy().copy()
    if isinstance(obj, torch.dtype):
        if obj.is_complex:
            raise Skip("complex")
        return np.dtype(str(obj).removeprefix("torch.")).type
    if isinstance(obj, torch.nn.Module):
        raise Skip("torch module argument")
    if callable(obj) and not isinstance(obj, type):
        if obj in CALLABLES:
            return CALLABLES[obj]
        raise Skip("torch callable argument")
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_np(o) for o in obj)
    if isinstance(obj, dict):
        return {k: to_np(v) for k, v in obj.items()}
    return obj


def _fresh(obj):
    """The sample's tensors cloned (leaf tensors keep requires_grad), so a run starts clean."""
    if isinstance(obj, torch.Tensor):
        return obj.detach().clone().requires_grad_(obj.requires_grad)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_fresh(o) for o in obj)
    if isinstance(obj, dict):
        return {k: _fresh(v) for k, v in obj.items()}
    return obj


def build(sample: Sample):
    """``(npimpl module, torch module)`` with torch's weights copied to npimpl, in the
    sample's mode."""
    ci = sample.module_input.constructor_input
    np_args, np_kwargs = to_np(ci.args), to_np(ci.kwargs)
    np_kwargs.pop("device", None)                 # npimpl is CPU-only: 'cpu' is its default
    np_cls = getattr(npimpl, sample.cls)
    if "dtype" in _signature(np_cls).parameters and "dtype" not in np_kwargs:
        np_kwargs["dtype"] = np.float64
    torch.default_generator.manual_seed(0)      # (torch.manual_seed costs ~4 ms a call)
    t_mod = _info(sample.cls).module_cls(*ci.args, **ci.kwargs).to(torch.float64)
    np_mod = np_cls(*np_args, **np_kwargs)
    np_mod.load_state_dict({k: v.detach().numpy() for k, v in t_mod.state_dict().items()})
    np_mod.train(sample.training)
    t_mod.train(sample.training)
    return np_mod, t_mod


# --- one sample ----------------------------------------------------------------------------
@lru_cache(maxsize=None)
def _signature(fn) -> inspect.Signature:
    return inspect.signature(fn)


def _positional(t_mod, args, kwargs) -> tuple[list, dict]:
    """Bind the forward input to torch's forward signature: keyword arguments that can be
    positional become positional (``Linear(input=x)``), so the input gradients line up with
    npimpl's ``backward``, which returns them in positional order."""
    bound = _signature(type(t_mod).forward).bind(t_mod, *args, **kwargs)
    return list(bound.args[1:]), dict(bound.kwargs)


def run_sample(sample: Sample) -> Outcome:
    """Run one sample; never raises (a crash is a failure, a :class:`Skip` a skip)."""
    try:
        return _run(sample)
    except Skip as s:
        return Outcome(sample, "skip", s.code)
    except Exception as exc:  # noqa: BLE001 - a crash is a failed comparison
        return Outcome(sample, "fail", f"{type(exc).__name__}: {exc}")


def _run(sample: Sample) -> Outcome:
    fi = sample.module_input.forward_input
    t_in, t_kw = _fresh(fi.args), _fresh(fi.kwargs)
    np_in, np_kw = to_np(t_in), to_np(t_kw)
    np_mod, t_mod = build(sample)
    t_args, t_kwargs = _positional(t_mod, t_in, t_kw)
    np_args, np_kwargs = _positional(t_mod, np_in, np_kw)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        np_out = np_mod(*np_args, **np_kwargs)
        t_out = t_mod(*t_args, **t_kwargs)
    rows = []

    def add(quantity, a, b):
        with np.errstate(all="ignore"):                   # inf - inf while measuring
            rows.append((quantity, deviation(a, b, FLOAT64)))

    np_leaves, t_leaves = leaves(np_out), leaves(t_out)
    if len(np_leaves) != len(t_leaves):
        raise ValueError(f"output structure differs: numpy {len(np_leaves)} leaves, torch "
                         f"{len(t_leaves)}")
    for (path, a), (_, b) in zip(np_leaves, t_leaves):
        add(f"out{path}", a, None if b is None else b.detach().numpy())

    # backward: one seeded upstream gradient per float output, the same on both sides
    rng = np.random.default_rng(zlib.crc32(sample.id.encode()))
    g_struct = like(np_out, lambda o: rng.standard_normal(np.shape(o)).astype(o.dtype)
                    if _is_float_array(o) else None)
    outs, grads = [], []
    for (_, t), (_, g) in zip(t_leaves, leaves(g_struct)):
        if isinstance(t, torch.Tensor) and t.requires_grad and g is not None:
            outs.append(t)
            grads.append(torch.from_numpy(g.copy()))
    if outs:
        torch.autograd.backward(outs, grads)
    ret = np_mod.backward(*g_struct) if isinstance(np_out, tuple) else np_mod.backward(g_struct)

    # input gradients: those npimpl's contract returns (a loss's target is data, not a variable)
    n = len(np_args)
    np_grads = tuple(ret) + (None,) * (n - len(ret)) if isinstance(ret, tuple) and n > 1 \
        else (ret,) + (None,) * (n - 1)
    diff = getattr(np_mod, "grad_inputs", None) or range(n)
    for i in diff:
        t_leaf_list = leaves(t_args[i])
        np_leaf_list = leaves(np_grads[i]) if np_grads[i] is not None else \
            [(p, None) for p, _ in t_leaf_list]
        for (path, t), (_, g) in zip(t_leaf_list, np_leaf_list):
            if isinstance(t, torch.Tensor) and t.requires_grad:
                tg = np.zeros(tuple(t.shape)) if t.grad is None else t.grad.numpy()
                add(f"grad_in[{i}]{path}", g, tg)

    np_p = dict(np_mod.named_parameters())
    for name, p in t_mod.named_parameters():
        if name not in np_p:
            raise ValueError(f"parameter {name} missing on the npimpl side")
        if p.grad is not None or np_p[name].grad is not None:
            add(f"grad.{name}", np_p[name].grad, None if p.grad is None else p.grad.numpy())
    np_b = dict(np_mod.named_buffers())
    for name, b in t_mod.named_buffers():
        add(f"buffer.{name}", np_b.get(name), b.numpy())

    bad = [f"{q}: max_abs={m.max_abs:.3g} tol_ratio={m.tol_ratio:.3g} at {m.worst_index} "
           f"{m.note}" for q, m in rows if not m.passed]
    return Outcome(sample, "fail" if bad else "pass", "; ".join(bad), rows)


def run_class(name: str) -> list[Outcome]:
    return [run_sample(s) for s in samples(name)]


def skipped(outcomes: list[Outcome]) -> list[tuple[str, str]]:
    """``[(sample id, reason)]`` for every skipped sample."""
    return [(o.sample.id, SKIP_REASONS[o.detail]) for o in outcomes if o.status == "skip"]


def sentence(c: dict) -> str:
    """The README's sentence, from :func:`counts`."""
    return (f"{c['classes_passing']} of torch's {c['torch_classes']} module classes and "
            f"{c['passed']} samples pass ({c['classes']} classes that npimpl has, {c['samples']} "
            f"samples: {c['skipped']} skipped, {c['failed']} failed)")


def counts(outcomes: list[Outcome] | None = None) -> dict:
    """``{torch_classes, classes, samples, passed, skipped, failed, classes_passing}``: what
    the README states (every npimpl class that torch's module_db has, all of its samples)."""
    if outcomes is None:
        outcomes = [o for name in classes() for o in run_class(name)]
    by_cls: dict[str, list[str]] = {}
    for o in outcomes:
        by_cls.setdefault(o.sample.cls, []).append(o.status)
    status = [o.status for o in outcomes]
    return dict(torch_classes=len(torch_classes()), classes=len(by_cls),
                classes_passing=sum("fail" not in s for s in by_cls.values()),
                samples=len(status), passed=status.count("pass"),
                skipped=status.count("skip"), failed=status.count("fail"))


if __name__ == "__main__":                 # python -m compare.module_db: the README's numbers
    everything = [o for name in classes() for o in run_class(name)]
    print(sentence(counts(everything)))
    for sid, why in skipped(everything):
        print(f"skipped {sid}: {why}")
    for o in everything:
        if o.status == "fail":
            print(f"failed {o.sample.id}: {o.detail}")
