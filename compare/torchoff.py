"""When torch is the one that is off: judge a float32 case against torch in float64.

A float32 comparison measures the distance between two roundings of the same
maths. Usually that is all there is to it; but on degenerate input a fused
float32 kernel can be far from the exact answer while the NumPy side is not
(torch's LayerNorm on a constant row of 1e5 is off by ~1e3 in the input
gradient, NumPy within 1e-4; on rows of 1e20 torch's output is 0 or NaN). The
contract forbids hiding that behind a wider tolerance, and flagging NumPy
would be wrong. A case that opts in (``Case(..., reference64=True)``) is
therefore also run by torch in float64 on the float32 run's exact inputs,
weights and upstream gradient: the truth to ~1e-16. For every quantity the
engine then records

* the usual row (NumPy float32 vs torch float32); when it misses the float32
  tolerance while NumPy is within that tolerance of the float64 truth and torch
  is not, its verdict becomes **torch is off** (``tolerance`` = ``torch-off``,
  passed, both deviations in the note) instead of a failure;
* a row ``<quantity>@float64``: NumPy float32 against the float64 truth under
  the float32 tolerance, which must pass (NumPy is held to the truth, not to
  torch), its note giving torch's own deviation from the truth.
"""
from __future__ import annotations

import copy

import numpy as np
import torch

from reference import to_numpy, to_torch

from .metrics import Metric, deviation

#: the ``tolerance`` of a row whose verdict is "torch is off"
TORCH_OFF = "torch-off"
#: suffix of the rows comparing NumPy with torch in float64
SUFFIX = "@float64"


def _as64(x):
    """Float arrays (in any nesting) to float64; anything else as it is."""
    if isinstance(x, (tuple, list)):
        return type(x)(_as64(v) for v in x)
    if isinstance(x, dict):
        return {k: _as64(v) for k, v in x.items()}
    if isinstance(x, np.ndarray) and x.dtype.kind == "f":
        return x.astype(np.float64)
    return x


def reference_values(t_mod, inp, g_struct, diff, leaves, input_grads) -> dict:
    """torch in float64 on the float32 run's inputs, weights and upstream gradients:
    ``{quantity: float64 array}`` for every forward output, input gradient and parameter
    gradient, under the engine's quantity names (``leaves`` and ``input_grads`` are the
    engine's own helpers, so the names cannot drift)."""
    t64 = copy.deepcopy(t_mod).double()
    t64.zero_grad(set_to_none=True)
    args = _as64(tuple(inp.args))
    t_args = tuple(to_torch(a, requires_grad=i in diff) for i, a in enumerate(args))
    out = t64(*t_args, **to_torch(_as64(dict(inp.kwargs))))
    ref = {f"out{path}": to_numpy(o).astype(np.float64)
           for path, o in leaves(out) if isinstance(o, torch.Tensor)}
    outs, grads = [], []
    for (_, o), (_, g) in zip(leaves(out), leaves(g_struct)):
        if isinstance(o, torch.Tensor) and o.requires_grad and g is not None:
            outs.append(o)
            grads.append(torch.from_numpy(g.astype(np.float64)))
    if outs:
        torch.autograd.backward(outs, grads)
    none = (None,) * len(args)
    for name, x, _, t in input_grads(type(inp)(args, inp.kwargs), none, t_args, diff):
        tg = t.grad if isinstance(t, torch.Tensor) else None
        ref[name] = np.zeros_like(x) if tg is None else to_numpy(tg)
    for name, p in t64.named_parameters():
        if p.grad is not None:
            ref[f"grad.{name}"] = to_numpy(p.grad)
    return ref


def judge(rec, values: dict, ref: dict) -> None:
    """Add a ``<quantity>@float64`` row per quantity and turn a failing row into a
    "torch is off" verdict where the float64 truth says so (see the module docstring).
    ``values`` holds ``{quantity: (numpy value, torch value)}`` of the float32 run."""
    tol = rec.tol
    for row in list(rec.rows):
        q = row.quantity
        if q not in ref or q not in values:
            continue
        a, b = values[q]
        truth = ref[q]
        m_np = deviation(_as64(a), truth, tol)
        m_t = deviation(_as64(b), truth, tol)
        torch_says = (f"torch float32 vs float64: max_abs {m_t.max_abs:.3g}, tol ratio "
                      f"{m_t.tol_ratio:.3g}" + (f" ({m_t.note})" if m_t.note else ""))
        np_says = (f"numpy float32 vs float64: max_abs {m_np.max_abs:.3g}, tol ratio "
                   f"{m_np.tol_ratio:.3g}" + (f" ({m_np.note})" if m_np.note else ""))
        rec.add(f"{q}{SUFFIX}", "reference64", _as64(a), truth,
                Metric(m_np.max_abs, m_np.max_rel, m_np.tol_ratio, m_np.worst_index,
                       m_np.passed, f"{np_says}; {torch_says}"))
        if not row.passed and m_np.passed and not m_t.passed:
            row.passed = True
            row.tolerance = TORCH_OFF
            row.note = f"torch is off: {torch_says}; {np_says}"
            if hasattr(row, "detail"):
                del row.detail
