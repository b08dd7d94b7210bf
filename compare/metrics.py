"""Deviation metrics and the tolerances of the design contract.

``deviation(a, b, tol)`` compares a NumPy result ``a`` with torch's ``b``:

* ``max_abs`` = max |a - b| over the finite elements,
* ``max_rel`` = max |a - b| / max |b|: the largest deviation relative to the largest
  magnitude in torch's tensor (normwise, in the max-norm), so an exact zero in torch's
  tensor cannot blow it up (an element-wise |a - b| / |b| turned a 1e-16 difference on an
  exact-zero gradient into 1e+291); 0 when both tensors are all zero, inf when only
  torch's is. Pass/fail never reads it: that is ``tol_ratio``,
* ``tol_ratio`` = max |a - b| / (atol + rtol |b|): the pass criterion of
  ``torch.testing.assert_close`` is ``tol_ratio <= 1``,
* ``worst_index`` = the element with the largest ``tol_ratio``.

NaN must sit at the same positions on both sides (equal_nan) and infinities
must match in position and sign; anything else fails with a note.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Tolerance:
    """``|a - b| <= atol + rtol * |b|``, element-wise. ``name`` says where the numbers come from."""

    rtol: float
    atol: float
    name: str
    why: str = ""


#: float64: the maths must agree to rounding, trajectories included.
FLOAT64 = Tolerance(1e-10, 1e-12, "float64", "the maths must agree to rounding")
#: float32: torch.testing.assert_close's defaults for float32.
FLOAT32 = Tolerance(1.3e-6, 1e-5, "float32", "torch.testing.assert_close defaults")
FLOAT16 = Tolerance(1e-3, 1e-5, "float16", "torch.testing.assert_close defaults")

TOLERANCES = {"float64": FLOAT64, "float32": FLOAT32, "float16": FLOAT16}


def tolerance_for(dtype) -> Tolerance:
    return TOLERANCES[np.dtype(dtype).name]


@dataclass
class Metric:
    max_abs: float
    max_rel: float
    tol_ratio: float
    worst_index: tuple
    passed: bool
    note: str = ""


def _fail(note: str) -> Metric:
    return Metric(float("inf"), float("inf"), float("inf"), (), False, note)


def deviation(a, b, tol: Tolerance) -> Metric:
    """Compare ``a`` (NumPy side) with ``b`` (torch side) under ``tol``."""
    if a is None or b is None:
        if a is None and b is None:
            return Metric(0.0, 0.0, 0.0, (), True, "both None")
        return _fail(f"{'numpy' if a is None else 'torch'} side is None")
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape:
        return _fail(f"shape {a.shape} vs torch {b.shape}")
    if a.dtype != b.dtype:
        return _fail(f"dtype {a.dtype} vs torch {b.dtype}")
    if a.size == 0:
        return Metric(0.0, 0.0, 0.0, (), True, "empty")
    if a.dtype.kind not in "fc":
        bad = a != b
        if bad.any():
            k = np.unravel_index(np.argmax(bad), a.shape)
            return Metric(float("inf"), float("inf"), float("inf"), tuple(int(i) for i in k),
                          False, "exact values differ")
        return Metric(0.0, 0.0, 0.0, (), True)
    af, bf = a.astype(np.float64), b.astype(np.float64)
    notes, ok = [], True
    nan_a, nan_b = np.isnan(af), np.isnan(bf)
    if (nan_a != nan_b).any():
        k = np.unravel_index(np.argmax(nan_a != nan_b), a.shape)
        notes.append(f"NaN on one side only at {tuple(int(i) for i in k)}")
        ok = False
    inf_any = np.isinf(af) | np.isinf(bf)
    if (inf_any & (af != bf) & ~(nan_a | nan_b)).any():
        k = np.unravel_index(np.argmax(inf_any & (af != bf)), a.shape)
        notes.append(f"infinity differs at {tuple(int(i) for i in k)}")
        ok = False
    finite = np.isfinite(af) & np.isfinite(bf)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.where(finite, np.abs(af - bf), 0.0)
    absb = np.abs(np.where(finite, bf, 0.0))
    ratio = diff / (tol.atol + tol.rtol * absb)
    k = int(np.argmax(ratio))
    max_abs, scale = float(diff.max()), float(absb.max())
    max_rel = max_abs / scale if scale > 0 else (0.0 if max_abs == 0 else float("inf"))
    tol_ratio = float(ratio.flat[k])
    ok = ok and tol_ratio <= 1.0
    return Metric(max_abs, max_rel, tol_ratio,
                  tuple(int(i) for i in np.unravel_index(k, a.shape)), ok, "; ".join(notes))
