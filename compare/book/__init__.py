"""``lockstep book``: the HTML textbook under ``reports/book/`` (``lockstep report`` writes
it too).

One page per public npimpl class (layer, loss, optimizer, scheduler, model), built from its
docstring and from what the run measured, plus an index with a search box. The pages are
static files that open from the file system: maths is MathML produced at build time by
``latex2mathml``, code is highlighted by pygments, and the only script is the search box's.

    lockstep book [--reports DIR] [--seed N] [--screenshots]

builds the book from an existing report folder (its ``deviations.csv``, ``trajectories.csv``
and plots); the worked examples, the claims and the mutant exercises are computed on the
spot. ``--screenshots`` (``lockstep book`` or ``lockstep report``) also saves
``book/screenshots/Linear.png`` and ``LSTM.png`` through headless Chromium
(:mod:`compare.book.browser`): the committed pictures of the book, which the README shows
(opt-in: Chromium costs a few seconds and is not everywhere). The test suite takes its own
screenshots into a temporary folder.
"""
from __future__ import annotations

import argparse
import os
import platform
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .. import docs
from ..io import write_text
from . import pages, text, theme, worked
from .source import root

SCREENSHOTS = ("Linear", "LSTM")

#: index sections; a class is filed by the npimpl file that defines it (compare.markdown's
#: FILE_FAMILY), optimizers and schedulers apart, anything unknown under its file's name
BOOK_TITLES = {"optimizers": "Optimizers", "schedulers": "Learning-rate schedulers",
               "models": "Models", "core": "Core layers"}


@dataclass
class Context:
    """What the pages read: the run's rows and steps, the claims' verdicts, the mutants."""

    out_dir: str
    rows: pd.DataFrame
    steps: pd.DataFrame
    verdicts: list
    mutants: list                     # [(Mutant, caught | None, Result | None)]
    cases: list
    seed: int = 0
    stamp: str = ""
    root: str = field(default_factory=root)
    _uses: dict | None = field(default=None, repr=False)

    @property
    def book_dir(self) -> str:
        return os.path.join(self.out_dir, "book")

    def has_plot(self, name: str) -> bool:
        return os.path.exists(os.path.join(self.out_dir, "plots", name))

    def family_of(self, cls) -> tuple[str, str]:
        from ..docs import FILE_FAMILY
        from ..markdown import FAMILY_TITLES

        mod = cls.__module__.split(".")
        if mod[1:2] == ["optim"]:
            key = "schedulers" if mod[-1] in ("lr_scheduler", "_onecycle") else "optimizers"
        elif mod[1:2] == ["models"]:
            key = "models"
        else:
            key = FILE_FAMILY.get(mod[-1], mod[-1])
        title = BOOK_TITLES.get(key) or FAMILY_TITLES.get(key)
        return key, title or key.replace("_", " ").strip().capitalize()

    def verdicts_for(self, layer: str) -> list:
        return [v for v in self.verdicts if v.claim.layer == layer]

    def case_names(self, layer: str) -> list[str]:
        """The catalogue cases that exercise ``layer`` (for a scheduler: the trajectories
        whose factories name it)."""
        if self._uses is None:
            from .coverage import names_used

            self._uses = {}
            for c in self.cases:
                for name in names_used(c):
                    self._uses.setdefault(name, []).append(c.name)
        return self._uses.get(layer, [])

    def worked_for(self, layer: str):
        case = worked.pick([c for c in self.cases if c.layer == layer])
        return worked.run(case, self.seed) if case is not None else None

    def exercises_for(self, layer: str) -> list:
        from .coverage import exercise

        return [exercise(m, caught, res) for m, caught, res in self.mutants
                if m.case.layer == layer]


def _family_order(entries: dict) -> list:
    from ..markdown import FAMILY_TITLES

    order = [k for k in FAMILY_TITLES if k in entries and k not in ("optim",)]
    order += [k for k in ("optimizers", "schedulers", "models") if k in entries and k not in order]
    return order + sorted(k for k in entries if k not in order)


def build(ctx: Context, classes: dict | None = None) -> list[str]:
    """Write every page into ``ctx.book_dir``; return the paths written."""
    classes = docs.public_classes() if classes is None else classes
    os.makedirs(ctx.book_dir, exist_ok=True)
    written = []

    def put(name: str, content: str) -> None:
        path = os.path.join(ctx.book_dir, name)
        write_text(path, content)
        written.append(path)

    families: dict = {}
    for name, cls in classes.items():
        key, title = ctx.family_of(cls)
        d = docs.layer_doc(cls)
        words = text.plain(" ".join([d.summary] + [d.sections.get(s, "") for s in
                                                    ("Maths", "Backward", "What torch hides")]))
        families.setdefault(key, (title, []))[1].append((name, (text.plain(d.summary)[:160],
                                                                words)))
        put(pages.page_name(name), pages.class_page(cls, ctx, d))
    entries = [(k, families[k][0], families[k][1]) for k in _family_order(families)]
    put("index.html", pages.index_page(entries, ctx))
    put("search-index.js", pages.search_index(entries))
    put("search.js", theme.SEARCH_JS)
    put("style.css", theme.CSS)
    return written


def _stamp(seed: int) -> str:
    import torch

    return (f"Built from a lockstep run with seed {seed}: numpy {np.__version__}, torch "
            f"{torch.__version__}, python {platform.python_version()}.")


def write(run, out_dir: str) -> list[str]:
    """The book for a :class:`compare.report.Run` (``lockstep report``'s writer call;
    ``lockstep report --screenshots`` adds the screenshots)."""
    from ..catalogue import all_cases

    ctx = Context(out_dir, run.rows, run.steps, list(run.claims),
                  list(run.mutants), all_cases(), run.seed, _stamp(run.seed))
    return build(ctx)


def browser_path() -> str | None:
    from .browser import find_chromium

    return find_chromium()


def take_screenshots(book_dir: str) -> list[str]:
    """``screenshots/<Class>.png`` of the pages in :data:`SCREENSHOTS` (headless Chromium)."""
    from .browser import Browser

    shots = os.path.join(book_dir, "screenshots")
    os.makedirs(shots, exist_ok=True)
    out = []
    with Browser() as b:
        for name in SCREENSHOTS:
            path = os.path.join(shots, f"{name}.png")
            b.screenshot(os.path.join(book_dir, pages.page_name(name)), path)
            out.append(path)
    return out


def from_reports(reports: str, seed: int = 0, checks: bool = True) -> Context:
    """A context from a report folder's CSVs; claims and mutants run now (``checks``)."""
    from .. import claims
    from ..catalogue import all_cases
    from ..mutants import mutation_score

    rows = pd.read_csv(os.path.join(reports, "deviations.csv"))
    steps_path = os.path.join(reports, "trajectories.csv")
    steps = pd.read_csv(steps_path) if os.path.exists(steps_path) else pd.DataFrame(
        columns=["case", "dtype", "step"])
    verdicts = claims.check() if checks else []
    mutants = mutation_score(seed) if checks else []
    return Context(reports, rows, steps, verdicts, mutants, all_cases(), seed, _stamp(seed))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="lockstep book", description="Write the HTML book from a "
                                "report folder (run `lockstep report` first).")
    p.add_argument("--reports", default="reports", help="report folder (default reports); "
                   "the book goes to <reports>/book")
    p.add_argument("--seed", type=int, default=0, help="seed of the worked examples and "
                   "mutants (default 0)")
    p.add_argument("--screenshots", action="store_true", help="also save screenshots of the "
                   f"{' and '.join(SCREENSHOTS)} pages (needs Chromium)")
    a = p.parse_args(argv)
    if not os.path.exists(os.path.join(a.reports, "deviations.csv")):
        p.error(f"{a.reports}/deviations.csv not found: run `lockstep report --out {a.reports}`")
    if a.screenshots and not browser_path():
        p.error("--screenshots needs Chromium (apt-get install chromium)")
    ctx = from_reports(a.reports, a.seed)
    paths = build(ctx)
    if a.screenshots:
        paths += take_screenshots(ctx.book_dir)
    failed = [v for v in ctx.verdicts if not v.passed]
    for v in failed:
        print(f"  CLAIM {v.claim.layer}: {v.claim.text} -- measured: {v.value}", file=sys.stderr)
    print(f"wrote {len(paths)} files to {ctx.book_dir}/ ({len(ctx.verdicts)} claims checked, "
          f"{len(failed)} failed); open {os.path.join(ctx.book_dir, 'index.html')}")
    return 1 if failed else 0
