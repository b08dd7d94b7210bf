"""``lockstep report``: run the catalogue in lockstep and write ``reports/``.

Files written (atomically; the same seed gives byte-identical CSVs):

* ``deviations.csv`` — one row per case × dtype × quantity,
* ``trajectories.csv`` — one row per trajectory case × dtype × step,
* ``deviations.md`` — the readable report (see :mod:`compare.markdown`),
* ``plots/<case>.png`` — one plot per trajectory case, ``plots/float32-growth.png`` and
  ``plots/tol-ratio.png``,
* ``book/`` — the HTML textbook (see :mod:`compare.book`).
"""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field

import pandas as pd
from tqdm import tqdm

from . import claims, plots
from .engine import Row, one_thread, run
from .io import write_csv, write_text
from .badinput import matrix
from .mutants import mutation_score
from .init import catalogue_init_rows
from .oracle import fd_rows

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

    @property
    def rows(self) -> pd.DataFrame:
        rows = [r for res in self.results for r in res.rows] + list(self.extra_rows)
        return pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=ROW_COLUMNS)

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


def run_all(cases: list, dtypes: tuple, seed: int = 0, progress: bool = True,
            checks: bool = True) -> Run:
    """Run every case in every requested dtype it declares; then (``checks``) the checker's
    self-tests: the mutant gallery, the bad-input matrix, the claims of the docstrings
    (:mod:`compare.claims`), the default-initialisation comparison of the selected cases'
    classes and, with float64, the finite-difference oracle."""
    out = Run(seed, tuple(dtypes))
    jobs = [(c, dt) for c in cases for dt in c.dtypes if dt in dtypes]
    for case, dt in tqdm(jobs, desc="lockstep", unit="case", disable=not progress,
                         leave=False):
        out.results.append(run(case, dt, seed))
    if checks:
        with one_thread():
            out.mutants = mutation_score(seed)
            out.badinput = matrix(seed)
            if "float64" in dtypes:
                out.extra_rows = fd_rows(cases, seed)
            from .catalogue import all_cases
            subset = len(cases) < len(all_cases())
            out.extra_rows += catalogue_init_rows(seed, names={c.layer for c in cases}
                                                  if subset else None)
        out.claims = claims.check()
    return out


def write_reports(result: Run, out_dir: str) -> list[str]:
    """Write every report file into ``out_dir``; return their paths."""
    from . import book            # local: the book imports the catalogue and the gallery
    from .markdown import render  # local: markdown imports this module's Run

    os.makedirs(os.path.join(out_dir, "plots"), exist_ok=True)
    written = []
    path = os.path.join(out_dir, "deviations.csv")
    write_csv(path, result.rows)
    written.append(path)
    steps = result.steps
    path = os.path.join(out_dir, "trajectories.csv")
    write_csv(path, steps)
    written.append(path)
    cases = {r.case.name: r.case for r in result.results}
    for name, d in steps.groupby("case", sort=False):
        path = os.path.join(out_dir, "plots", f"{name}.png")
        plots.trajectory_plot(path, name, d, getattr(cases.get(name), "resume_at", None))
        written.append(path)
    if not steps.empty:
        path = os.path.join(out_dir, "plots", "float32-growth.png")
        plots.growth_plot(path, steps)
        written.append(path)
    path = os.path.join(out_dir, "plots", "tol-ratio.png")
    plots.tol_ratio_histogram(path, result.rows)
    written.append(path)
    path = os.path.join(out_dir, "deviations.md")
    write_text(path, render(result, out_dir))
    written.append(path)
    written += book.write(result, out_dir)
    return written

