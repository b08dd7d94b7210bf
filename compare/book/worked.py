"""A worked example per class, computed when the book is built: the smallest float64 catalogue
case of the class, run once forward and once backward on both sides, every number kept.

The engine (:mod:`compare.engine`) compares and forgets; this keeps the values a student can
follow by hand: the input, the output, the upstream gradient, and each gradient, NumPy beside
torch.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from reference import to_numpy, to_torch

from ..engine import (Case, Inputs, _is_float_array, _np_grads_of_inputs, case_rng, leaves,
                      like, seed_libraries)


@dataclass
class Quantity:
    name: str
    numpy: np.ndarray
    torch: np.ndarray | None = None      # None for what both sides share (inputs, dy)


@dataclass
class Worked:
    case: str
    quantities: list = field(default_factory=list)
    error: str = ""


def _size(case: Case) -> int:
    try:
        inp = case.inputs(np.random.default_rng(0), np.dtype("float64"))
    except Exception:  # noqa: BLE001 - a case whose inputs cannot be drawn is not chosen
        return 1 << 60
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    args = inp.args
    return sum(np.size(x) for _, x in leaves(tuple(args)))


#: a worked example wants a few numbers, but not a degenerate input (a length-1 sequence,
#: one pixel): the smallest case with at least this many input elements is chosen
MIN_ELEMENTS = 6


def pick(cases: list) -> Case | None:
    """The single-step float64 case with the fewest input elements, at least
    :data:`MIN_ELEMENTS` of them where a case has that many (first on ties)."""
    single = [(_size(c), i, c) for i, c in enumerate(cases)
              if type(c) is Case and "float64" in c.dtypes]
    if not single:
        return None
    big = [s for s in single if s[0] >= MIN_ELEMENTS]
    return min(big or single, key=lambda s: s[:2])[2]


#: (id(case), seed) -> (case, Worked): a case's example is deterministic, and a process that
#: builds the book twice (the tests) computes it once; the case is kept so its id stays its own
_DONE: dict = {}


def run(case: Case, seed: int = 0) -> Worked:
    """Forward and backward once on both sides in float64, keeping every value."""
    key = (id(case), seed)
    if key in _DONE and _DONE[key][0] is case:
        return _DONE[key][1]
    out = Worked(case.name)
    _DONE[key] = (case, out)
    try:
        _run(case, seed, out)
    except Exception as exc:  # noqa: BLE001 - the page says so instead of failing the book
        out.error = f"{type(exc).__name__}: {exc}"
    return out


def _run(case: Case, seed: int, out: Worked) -> None:
    dt = np.dtype("float64")
    rng = case_rng(seed, case.name, dt.name)
    seed_libraries(seed)
    np_mod, t_mod = case.model(dt)
    inp = case.inputs(rng, dt)
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    for i, a in enumerate(inp.args):
        for path, x in leaves(a):
            if isinstance(x, np.ndarray):
                out.quantities.append(Quantity(_name("x", i, path, len(inp.args)), x))
    np_out = np_mod(*inp.args, **inp.kwargs)
    diff = getattr(np_mod, "grad_inputs", None) or range(len(inp.args))
    t_args = tuple(to_torch(a, requires_grad=i in diff) for i, a in enumerate(inp.args))
    t_out = t_mod(*t_args, **to_torch(inp.kwargs))
    t_leaves = leaves(t_out)
    for (path, a), (_, b) in zip(leaves(np_out), t_leaves):
        out.quantities.append(Quantity(f"y{path}", np.asarray(a), to_numpy(b)))
    make_grad = case.grad or (lambda r, o: r.standard_normal(o.shape).astype(o.dtype))
    g = like(np_out, lambda o: make_grad(rng, o) if _is_float_array(o) else None)
    t_outs, t_grads = [], []
    for (path, t), (_, gl) in zip(t_leaves, leaves(g)):
        if isinstance(t, torch.Tensor) and t.requires_grad and gl is not None:
            t_outs.append(t)
            t_grads.append(torch.from_numpy(gl.copy()))
            out.quantities.append(Quantity(f"dy{path}", gl))
    if t_outs:
        torch.autograd.backward(t_outs, t_grads)
    ret = np_mod.backward(*g) if isinstance(np_out, tuple) else np_mod.backward(g)
    for i, (a, ng, ta) in enumerate(zip(inp.args, _np_grads_of_inputs(ret, len(inp.args)),
                                        t_args)):
        if i not in diff or ng is None:
            continue
        for (path, x), (_, gx), (_, tx) in zip(leaves(a), leaves(ng), leaves(ta)):
            if _is_float_array(x) and isinstance(tx, torch.Tensor) and tx.grad is not None:
                out.quantities.append(Quantity("d" + _name("x", i, path, len(inp.args)),
                                               np.asarray(gx), to_numpy(tx.grad)))
    t_params = dict(t_mod.named_parameters()) if hasattr(t_mod, "named_parameters") else {}
    for name, p in np_mod.named_parameters():
        tp = t_params.get(name)
        if p.grad is not None and tp is not None and tp.grad is not None:
            out.quantities.append(Quantity(f"d{name}", p.grad, to_numpy(tp.grad)))


def _name(base: str, i: int, path: str, n: int) -> str:
    return (base if n == 1 else f"{base}{i}") + path
