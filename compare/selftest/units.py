"""What ``lockstep report`` runs, cut into units a mutant can be run against.

A unit is one check the report makes and fails on:

* ``case:<name>`` — one catalogue case in lockstep with torch, in each of its dtypes;
* ``oracle:<name>`` — the finite-difference oracle on that case (float64, no torch);
* ``badinput:<class>`` — the bad-input matrix's cells of one public class (or optimizer);
* ``init:<class>`` — the default-initialisation comparison of one class with parameters
  or buffers (:mod:`compare.init`).

The mutant gallery is not a unit: its classes are subclasses with a planted bug, so a
change to npimpl can only make them look *more* wrong.

:func:`measure` runs every unit once on the unmutated library under a line tracer: the
npimpl lines it executes (so a mutant only runs against the units that execute its line),
its time (for the time limits and the order) and whether it passes (a unit that already
fails cannot kill anything and is left out, with the reason).
"""
from __future__ import annotations

import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Callable

from .patching import ROOT

KINDS = ("case", "oracle", "badinput", "init")


@dataclass
class Unit:
    kind: str
    name: str
    layer: str
    fn: Callable[[], str | None]        # None when everything passed, else what failed
    #: measured on the unmutated library by :func:`measure`
    lines: dict = field(default_factory=dict)   # rel path -> frozenset of line numbers
    seconds: float = 0.0
    baseline: str | None = None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.name}"


def _first_failure(results) -> str | None:
    for res in results:
        if res.error is not None:
            return f"[{res.dtype}] error: {res.error[:160]}"
        bad = [r for r in res.rows if not r.passed]
        if bad:
            r = bad[0]
            return f"[{r.dtype}] {r.quantity}: max_rel={r.max_rel:.3g} {r.note[:100]}".rstrip()
    return None


def _case_fn(case, seed):
    from compare.engine import run

    return lambda: _first_failure([run(case, dt, seed) for dt in case.dtypes])


def _oracle_fn(case, seed):
    from compare.oracle import fd_rows

    def fn():
        bad = [r for r in fd_rows([case], seed) if not r.passed]
        return None if not bad else (f"{bad[0].quantity}: tol_ratio={bad[0].tol_ratio:.3g} "
                                     f"{bad[0].note[:100]}")
    return fn


def _cells_fn(cells):
    def fn():
        bad = [r for r in cells() if r["outcome"].startswith("FAIL")]
        return None if not bad else f"{bad[0]['variant']}: {bad[0]['outcome']}"
    return fn


def _init_fn(name, seed):
    from compare.init import catalogue_init_rows

    def fn():
        bad = [r for r in catalogue_init_rows(seed, names={name}) if not r.passed]
        return None if not bad else f"{bad[0].quantity}: {bad[0].note[:140]}"
    return fn


def _init_units(seed) -> list[Unit]:
    """``init:<class>``: :func:`compare.init.catalogue_init_rows` of one class (a class
    without parameters or buffers gives no rows and passes)."""
    from compare.badinput import table

    return [Unit("init", n, n, _init_fn(n, seed)) for n in sorted(table())]


def build_units(seed: int = 0, kinds=KINDS, cases=None) -> list[Unit]:
    """Every unit of the catalogue (or of ``cases``), in report order."""
    from compare import badinput
    from compare.badinput_optim import optimizer_cells, optimizer_names
    from compare.catalogue import all_cases
    from compare.engine import Case
    from compare.oracle import EXCLUDED

    cases = all_cases() if cases is None else cases
    units = []
    if "case" in kinds:
        units += [Unit("case", c.name, c.layer, _case_fn(c, seed)) for c in cases]
    if "oracle" in kinds:
        units += [Unit("oracle", c.name, c.layer, _oracle_fn(c, seed)) for c in cases
                  if isinstance(c, Case) and not hasattr(c, "run") and c.name not in EXCLUDED]
    if "badinput" in kinds:
        table = badinput.table()
        units += [Unit("badinput", n, n, _cells_fn(lambda n=n: badinput.class_cells(n, table[n],
                                                                                   seed)))
                  for n in badinput.public_classes() if n in table]
        units += [Unit("badinput", f"optim.{n}", n, _cells_fn(
            lambda n=n: optimizer_cells(n, seed))) for n in optimizer_names()]
        units.append(Unit("badinput", "signatures", "", _cells_fn(badinput.signature_rows)))
        from compare.badinput_optim import SCHEDULER_ARGS, scheduler_cells
        units += [Unit("badinput", f"lr_scheduler.{n}", n, _cells_fn(
            lambda n=n: scheduler_cells(n))) for n in SCHEDULER_ARGS]
    if "init" in kinds:
        units += _init_units(seed)
    return units


class _Timeout(BaseException):
    """Raised by the alarm: a BaseException, so the engine's ``except Exception`` (which
    turns a crash into a failing row) cannot swallow it."""


def run_unit(unit: Unit, limit: float | None = None) -> str | None:
    """Run one unit (warnings silenced); ``'timeout'`` when it runs past ``limit`` seconds."""
    import signal

    def alarm(signum, frame):
        raise _Timeout()

    old = signal.signal(signal.SIGALRM, alarm) if limit else None
    try:
        if limit:
            signal.setitimer(signal.ITIMER_REAL, limit)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return unit.fn()
    except _Timeout:
        return "timeout"
    except Exception as exc:  # noqa: BLE001 - a crash outside the engine's guard still fails
        return f"crash: {type(exc).__name__}: {str(exc)[:160]}"
    finally:
        if limit:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, old)


def _rel(filename: str, prefix: str) -> str | None:
    return filename[len(prefix):] if filename.startswith(prefix) else None


def measure(units: list[Unit], progress=None) -> None:
    """Run every unit once, unmutated, under a line tracer restricted to npimpl; fill in
    ``lines``, ``seconds`` and ``baseline`` (None when it passed)."""
    import numpy as np

    prefix = os.path.join(ROOT, "")
    npdir = os.path.join(ROOT, "npimpl", "")
    hits: set = set()

    def local(frame, event, arg):
        if event == "line":
            hits.add((frame.f_code.co_filename, frame.f_lineno))
        return local

    def global_(frame, event, arg):
        if frame.f_code.co_filename.startswith(npdir):
            return local
        return None

    for i, u in enumerate(units):
        hits.clear()
        t0 = time.perf_counter()
        sys.settrace(global_)
        try:
            with np.errstate(all="ignore"):
                u.baseline = run_unit(u)
        finally:
            sys.settrace(None)
        u.seconds = time.perf_counter() - t0
        per_file: dict = {}
        for fname, line in hits:
            per_file.setdefault(_rel(fname, prefix), set()).add(line)
        u.lines = {k: frozenset(v) for k, v in per_file.items() if k}
        if progress:
            progress(i + 1, len(units), u)
