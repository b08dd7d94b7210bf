"""``lockstep report``: run the catalogue in lockstep and write ``reports/``.

Files written (the same seed gives byte-identical CSVs):

* ``deviations.csv`` — one row per case × dtype × quantity,
* ``trajectories.csv`` — one row per trajectory case × dtype × step,
* ``deviations.md`` — the readable report (see :mod:`compare.markdown`),
* ``plots/<case>.png`` — one plot per trajectory case, ``plots/float32-growth.png`` and
  ``plots/tol-ratio.png``,
* ``book/`` — the HTML textbook (see :mod:`compare.book`).

The folder is written as a unit (:func:`compare.io.replace_folder`): everything goes into a
sibling folder that is swapped in at the end, so a kill at any moment leaves the whole
previous report or the whole new one, and a second run on the same folder is refused
while the first holds its lock. Other files in the folder (``bench.md``, ``train-*``)
are kept.

Several seeds (``--seeds 0-19``): every case runs once per seed and, per case × dtype ×
quantity, the worst row over the seeds is kept (largest tol_ratio, a failure before a
pass, the earliest seed on ties), with the seed that gave it in a ``seed`` column; the
trajectory steps and plots are the first seed's, the self-tests run with the first seed.
``--jobs N`` runs the cases on a process pool (the standard library's, forked workers):
each case is seeded on its own, so the rows are the serial run's, in the same order.
"""
from __future__ import annotations

import dataclasses
import multiprocessing
import os
import shutil
import sys
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field

import pandas as pd
from tqdm import tqdm

from . import claims, plots
from .engine import Result, Row, one_thread, run
from .io import replace_folder, write_csv, write_text
from .badinput import matrix
from .mutants import mutation_score
from .init import catalogue_init_rows
from .oracle import fd_rows

#: the entries of an output folder the report owns: replaced by every run; anything else in
#: the folder (bench.md, train-*.csv ...) is carried over untouched
REPORT_FILES = {"deviations.csv", "deviations.md", "trajectories.csv", "plots", "book"}
ROW_COLUMNS = [f.name for f in dataclasses.fields(Row)]
STEP_COLUMNS = ["case", "dtype", "step", "loss_numpy", "loss_torch", "loss_abs_dev",
                "max_param_abs_dev", "max_param_rel_dev", "max_tol_ratio", "passed"]


@dataclass
class Run:
    """Everything one ``lockstep report`` run measured."""

    seed: int
    dtypes: tuple
    results: list = field(default_factory=list)          # [Result]
    extra_rows: list = field(default_factory=list)       # [Row] from the finite-difference oracle
    mutants: list = field(default_factory=list)          # [(Mutant, caught, Result)]
    badinput: list = field(default_factory=list)         # [dict]
    claims: list = field(default_factory=list)           # [compare.claims.Verdict]
    seeds: tuple = ()                                    # several seeds: every one run
    worst_seed: dict = field(default_factory=dict)       # id(row) -> the seed that gave it

    @property
    def seed_label(self) -> str:
        """``0`` for one seed, ``0-19 (20 seeds, worst row of each)`` for several."""
        if len(self.seeds) <= 1:
            return str(self.seed)
        return f"{_ranges(self.seeds)} ({len(self.seeds)} seeds, worst row of each)"

    @property
    def rows(self) -> pd.DataFrame:
        rows = [r for res in self.results for r in res.rows] + list(self.extra_rows)
        frame = pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=ROW_COLUMNS)
        if len(self.seeds) > 1:
            frame["seed"] = [self.worst_seed.get(id(r), self.seed) for r in rows]
        return frame

    @property
    def steps(self) -> pd.DataFrame:
        return pd.DataFrame([s for res in self.results for s in res.steps], columns=STEP_COLUMNS)

    @property
    def failures(self) -> list:
        frame = self.rows
        return frame[~frame["passed"].astype(bool)].to_dict("records")

    @property
    def survivors(self) -> list:
        return [m for m, caught, _ in self.mutants if not caught]

    @property
    def badinput_failures(self) -> list:
        return [b for b in self.badinput if b["outcome"].startswith("FAIL")]

    @property
    def claim_failures(self) -> list:
        return [v for v in self.claims if not v.passed]

    @property
    def ok(self) -> bool:
        return not (self.failures or self.survivors or self.badinput_failures
                    or self.claim_failures)


def _ranges(seeds) -> str:
    """``(0, 1, 2, 5)`` -> ``0-2,5``."""
    out, seeds = [], sorted(seeds)
    start = prev = seeds[0]
    for v in seeds[1:] + [None]:
        if v is not None and v == prev + 1:
            prev = v
            continue
        out.append(str(start) if start == prev else f"{start}-{prev}")
        if v is not None:
            start = prev = v
    return ",".join(out)


def scope(cases: list) -> set | None:
    """The class names a subset run's self-tests are limited to; None for the whole
    catalogue (every mutant, the whole bad-input matrix)."""
    from .catalogue import all_cases
    return None if len(cases) >= len(all_cases()) else {c.layer for c in cases}


def run_all(cases: list, dtypes: tuple, seed: int = 0, progress: bool = True,
            checks: bool = True, jobs: int = 1, seeds: tuple | None = None) -> Run:
    """Run every case in every requested dtype it declares (for each of ``seeds``, on
    ``jobs`` processes); then (``checks``) the checker's self-tests, limited to the selected
    cases' classes when they are not the whole catalogue: the mutant gallery, the bad-input
    matrix, the default-initialisation comparison and, with float64, the finite-difference
    oracle; and the claims of the docstrings (:mod:`compare.claims`, all of them)."""
    seeds = tuple(seeds) if seeds else (seed,)
    out = Run(seeds[0], tuple(dtypes), seeds=seeds if len(seeds) > 1 else ())
    pairs = [(i, dt) for i, c in enumerate(cases) for dt in c.dtypes if dt in dtypes]
    tasks = [(i, dt, s) for s in seeds for i, dt in pairs]
    results = run_tasks(cases, tasks, jobs, progress)
    if len(seeds) == 1:
        out.results = results
    else:
        by_pair: dict = {}
        for (i, dt, _), res in zip(tasks, results):
            by_pair.setdefault((i, dt), []).append(res)
        for pair in pairs:
            out.results.append(_worst_over_seeds(by_pair[pair], seeds, out.worst_seed))
    if checks:
        layers = scope(cases)
        with one_thread():
            out.mutants = mutation_score(seeds[0], layers)
            out.badinput = matrix(seeds[0], layers)
            if "float64" in dtypes:
                out.extra_rows = fd_rows(cases, seeds[0])
            out.extra_rows += catalogue_init_rows(seeds[0], names=layers)
        out.claims = claims.check()
    return out


def _worst_over_seeds(results: list, seeds: tuple, worst_seed: dict) -> Result:
    """One Result per case × dtype: per quantity the row of the seed with the largest
    tol_ratio (a failing row before a passing one; the earliest seed on ties); the steps,
    the probe and the first error of the first seed that has one."""
    best: dict = {}
    for s, res in zip(seeds, results):
        for r in res.rows:
            key = (not r.passed, r.tol_ratio)
            if r.quantity not in best or key > best[r.quantity][0]:
                best[r.quantity] = (key, r, s)
    first = results[0]
    merged = Result(first.case, first.dtype, steps=first.steps, probe=first.probe)
    for _, r, s in best.values():
        merged.rows.append(r)
        worst_seed[id(r)] = s
    failing = next((res for res in results if res.error), None)
    if failing is not None:
        merged.error, merged.traceback = failing.error, failing.traceback
    return merged


#: the cases a forked pool worker runs (set before the pool forks: no pickling of cases)
_POOL_CASES: list = []


def _pool_task(task):
    i, dt, s = task
    res = run(_POOL_CASES[i], dt, s)
    return res.rows, res.steps, res.probe, res.error, res.traceback


def run_tasks(cases: list, tasks: list, jobs: int = 1, progress: bool = False) -> list:
    """``run(cases[i], dtype, seed)`` for each task ``(i, dtype, seed)``, in task order.

    ``jobs > 1``: on a ``concurrent.futures`` process pool of forked workers (the workers
    inherit the cases, lambdas and all; only the rows travel back). A worker that dies (a
    crash inside torch) breaks the pool: the tasks it took with it are run again one by one
    in isolated children (:mod:`compare.isolate`), so the crash becomes that case's error row.
    """
    bar = dict(desc="lockstep", unit="case", disable=not progress, leave=False,
               file=sys.stderr, total=len(tasks))
    if jobs <= 1 or len(tasks) <= 1:
        return [run(cases[i], dt, s) for i, dt, s in tqdm(tasks, **bar)]
    from .isolate import run_isolated

    global _POOL_CASES
    _POOL_CASES = cases
    payloads: list = [None] * len(tasks)
    try:
        with ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as ex:
            futures = {ex.submit(_pool_task, t): k for k, t in enumerate(tasks)}
            for f in tqdm(as_completed(futures), **bar):
                try:
                    payloads[futures[f]] = f.result()
                except Exception:  # noqa: BLE001 - a dead worker: rerun isolated below
                    pass
    finally:
        _POOL_CASES = []
    out = []
    for (i, dt, s), payload in zip(tasks, payloads):
        if payload is None:
            out.append(run_isolated(cases[i], dt, s, run))
            continue
        res = Result(cases[i], dt)
        res.rows, res.steps, res.probe, res.error, res.traceback = payload
        out.append(res)
    return out


def would_shrink(out_dir: str, cases: list, dtypes: tuple) -> str | None:
    """Why a subset run must not replace the report in ``out_dir`` (a sentence), or None.

    A run over the whole catalogue in both dtypes may replace anything; a smaller run may
    not drop case × dtype results that the report there holds (the README's own
    ``--cases 'linear-*,lstm*' --out reports`` used to delete most of the committed report).
    """
    from .catalogue import all_cases
    from .options import DTYPES

    catalogue = {c.name for c in all_cases()}
    if len(cases) >= len(catalogue) and set(DTYPES) <= set(dtypes):
        return None
    path = os.path.join(out_dir, "deviations.csv")
    if not os.path.exists(path):
        return None
    try:
        old = pd.read_csv(path, usecols=["case", "dtype"])
    except (ValueError, pd.errors.ParserError, pd.errors.EmptyDataError):
        return None
    old = old[old["case"].isin(catalogue)]          # not the init-* rows of the self-tests
    new = {(c.name, dt) for c in cases for dt in c.dtypes if dt in dtypes}
    dropped = sorted(set(zip(old["case"], old["dtype"])) - new)
    if not dropped:
        return None
    return (f"{out_dir} holds a report of {old['case'].nunique()} cases; this run would drop "
            f"{len(dropped)} of its case x dtype results (e.g. {dropped[0][0]} "
            f"[{dropped[0][1]}]): write the subset elsewhere (--out DIR) or pass --force")


def write_reports(result: Run, out_dir: str) -> list[str]:
    """Write the whole report as a unit into ``out_dir`` (see the module docstring); return
    the paths written, as they are in ``out_dir``."""
    with replace_folder(out_dir, REPORT_FILES) as dest:
        written = _write_files(result, dest, out_dir)
        _keep_screenshots(out_dir, dest)
    return [os.path.join(out_dir, os.path.relpath(p, dest)) for p in written]


def _keep_screenshots(out_dir: str, dest: str) -> None:
    """The book is rewritten by every run, but its screenshots (the README's pictures, taken
    by ``lockstep report --screenshots``, which retakes them afterwards) stay until retaken."""
    old = os.path.join(out_dir, "book", "screenshots")
    if not os.path.isdir(old):
        return
    new = os.path.join(dest, "book", "screenshots")
    os.makedirs(new, exist_ok=True)
    for name in os.listdir(old):
        if name.endswith(".png") and not os.path.exists(os.path.join(new, name)):
            shutil.copy2(os.path.join(old, name), os.path.join(new, name))


def _write_files(result: Run, dest: str, out_dir: str) -> list[str]:
    """Every report file into the fresh folder ``dest``; ``out_dir`` is where it will live
    (the markdown's relative links and its bench.csv are read from there)."""
    from . import book            # local: the book imports the catalogue and the gallery
    from .markdown import render  # local: markdown imports this module's Run

    os.makedirs(os.path.join(dest, "plots"), exist_ok=True)
    written = []
    path = os.path.join(dest, "deviations.csv")
    write_csv(path, result.rows)
    written.append(path)
    steps = result.steps
    path = os.path.join(dest, "trajectories.csv")
    write_csv(path, steps)
    written.append(path)
    cases = {r.case.name: r.case for r in result.results}
    for name, d in steps.groupby("case", sort=False):
        path = os.path.join(dest, "plots", f"{name}.png")
        plots.trajectory_plot(path, name, d, getattr(cases.get(name), "resume_at", None))
        written.append(path)
    for case in cases.values():
        if hasattr(case, "sequences"):      # a scheduler on its own (catalogue/schedules.py)
            path = os.path.join(dest, "plots", f"{case.name}-schedule.png")
            plots.schedule_plot(path, case.name, case.sequences())
            written.append(path)
    if not steps.empty:
        path = os.path.join(dest, "plots", "float32-growth.png")
        plots.growth_plot(path, steps)
        written.append(path)
    path = os.path.join(dest, "plots", "tol-ratio.png")
    plots.tol_ratio_histogram(path, result.rows)
    written.append(path)
    path = os.path.join(dest, "deviations.md")
    write_text(path, render(result, out_dir))
    written.append(path)
    written += book.write(result, dest)
    return written
