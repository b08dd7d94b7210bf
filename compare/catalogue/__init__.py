"""The case catalogue: every module in this package that defines ``CASES`` contributes.

A family adds ``compare/catalogue/<family>.py`` with a list ``CASES`` of
:class:`compare.engine.Case` / :class:`compare.engine.Trajectory` and an
``ORDER`` number (the report lists families in that order); nothing else
needs to be edited. The same module may define ``BAD_INPUT`` (a dict of
:class:`compare.badinput.Entry`, merged into the bad-input matrix) and
``MUTANTS`` (a list of :class:`compare.mutants.Mutant`, added to the gallery).
"""
from __future__ import annotations

import fnmatch
import importlib
import pkgutil


def _modules():
    mods = [importlib.import_module(f"{__name__}.{m.name}") for m in pkgutil.iter_modules(__path__)]
    return sorted(mods, key=lambda m: (getattr(m, "ORDER", 100), m.__name__))


def family_attr(attr: str) -> list[tuple[str, object]]:
    """``[(module name, module.<attr>)]`` for every family module that defines ``attr``:
    ``BAD_INPUT`` (entries of the bad-input matrix) and ``MUTANTS`` (gallery mutants) live
    beside a family's cases."""
    return [(m.__name__, getattr(m, attr)) for m in _modules() if hasattr(m, attr)]


def all_cases() -> list:
    """Every case of every family, in report order; names are unique."""
    cases, seen = [], set()
    for mod in _modules():
        for c in getattr(mod, "CASES", []):
            if c.name in seen:
                raise ValueError(f"duplicate case name {c.name!r} in {mod.__name__}")
            seen.add(c.name)
            cases.append(c)
    return cases


def select(pattern: str | None = None) -> list:
    """Cases whose name (or layer, or family) matches the glob ``pattern`` (comma-separated)."""
    cases = all_cases()
    if not pattern:
        return cases
    pats = [p.strip() for p in pattern.split(",") if p.strip()]
    return [c for c in cases
            if any(fnmatch.fnmatchcase(v, p) for p in pats for v in (c.name, c.layer, c.family))]
