"""The bugs issue 22 named as surviving the first catalogue, re-planted and run against the
units that must catch them now.

The issue listed 26 real bugs that got past both the catalogue and the test suite (wrong
initial bounds, a Dropout1d/3d mask of the wrong shape copied to the torch twin, paths no case
reached: ``Softmax(dim=None)``, cells with a bias at batch > 1, an empty BatchNorm batch, a
−inf logit, an Embedding row exactly at ``max_norm`` …). ``named.toml`` writes each as a
textual change of today's npimpl (``before`` → ``after`` inside one function) with the units
expected to kill it. :func:`check` plants each in this process (the function's code object
swapped, as :mod:`.patching` does for a generated mutant), runs its units unmutated (they must
pass) and mutated (one must fail), and restores the function.

A change whose ``before`` no longer occurs exactly once in its function is *stale*: the
check fails, so a rewrite of npimpl cannot quietly retire one of these bugs.
``lockstep mutate`` runs the list after a full run and ``reports/mutation.md`` shows it.
"""
from __future__ import annotations

import ast
import importlib
import os
import time
import tomllib
from contextlib import contextmanager
from dataclasses import dataclass

from .patching import ROOT, _code_objects, _find_def, clear_caches, set_defaults, swap_code, undo_all

NAMED = os.path.join(os.path.dirname(os.path.abspath(__file__)), "named.toml")


@dataclass
class Named:
    issue: str          # the issue's words
    file: str           # npimpl/linear.py
    where: str          # the function's qualified name: Linear.reset_parameters
    before: str
    after: str
    units: tuple        # unit keys expected to kill it: init:Linear, case:...

    @property
    def module(self) -> str:
        return self.file[:-3].replace("/", ".")


@dataclass
class NamedResult:
    named: Named
    verdict: str        # killed | survived | stale | broken (a unit fails unmutated)
    killer: str = ""
    detail: str = ""
    seconds: float = 0.0


def load(path: str = NAMED) -> list[Named]:
    with open(path, "rb") as fh:
        entries = tomllib.load(fh).get("named", [])
    out = []
    for e in entries:
        missing = [k for k in ("issue", "file", "where", "before", "after", "units")
                   if not e.get(k)]
        if missing:
            raise ValueError(f"{path}: an entry lacks {missing}: {e}")
        out.append(Named(e["issue"].strip(), e["file"], e["where"], e["before"], e["after"],
                         tuple(e["units"])))
    return out


def mutated_source(n: Named, root: str = ROOT) -> tuple[str, bool]:
    """The file's source with ``before`` replaced by ``after`` inside ``where``, and whether
    the change is in the def's signature (a default argument) rather than its body;
    ValueError when ``before`` is not there exactly once."""
    with open(os.path.join(root, n.file)) as fh:
        src = fh.read()
    if n.before.count("\n") != n.after.count("\n"):
        raise ValueError("before and after must span the same number of lines")
    try:
        node = _find_def(ast.parse(src), n.where)
    except StopIteration:
        raise ValueError(f"no function {n.where} in {n.file}") from None
    lines = src.splitlines(keepends=True)
    first = node.decorator_list[0].lineno if node.decorator_list else node.lineno
    head, body, tail = lines[:first - 1], "".join(lines[first - 1:node.end_lineno]), \
        lines[node.end_lineno:]
    found = body.count(n.before)
    if found != 1:
        raise ValueError(f"{n.before!r} occurs {found} times in {n.file}:{n.where}")
    line = first + body[:body.index(n.before)].count("\n")
    in_signature = line < node.body[0].lineno
    return "".join(head) + body.replace(n.before, n.after) + "".join(tail), in_signature


@contextmanager
def planted(n: Named, root: str = ROOT):
    """Run the body with ``n`` live in this process; restore the function after."""
    module = importlib.import_module(n.module)
    src, in_signature = mutated_source(n, root)
    path = os.path.join(root, n.file)
    code = compile(src, path, "exec", dont_inherit=True)
    f = next(_live_candidates(module, n.where))
    new = next(c for c in _code_objects(code) if c.co_qualname == n.where
               and c.co_firstlineno == f.__code__.co_firstlineno)
    undo = []
    try:
        if in_signature:            # a default argument: evaluate the new defaults
            undo += set_defaults(f, ast.parse(src), module, n.where, path)
        else:
            undo += swap_code(f, new, module, n.where)
        clear_caches()
        yield
    finally:
        undo_all(undo)


def _live_candidates(module, qualname: str):
    from .patching import _functions_of

    seen: set = set()
    for v in list(vars(module).values()):
        for f in _functions_of(v, module.__name__, seen):
            if f.__code__.co_qualname == qualname:
                yield f


def units_for(keys, seed: int = 0) -> list:
    """The units of the given keys only (a key naming nothing is left out), without building
    the report's every unit."""
    from compare import badinput
    from compare.catalogue import all_cases

    from .units import Unit, _case_fn, _cells_fn, _init_fn, _oracle_fn

    cases = {c.name: c for c in all_cases()}
    table = badinput.table() if any(k.startswith("badinput:") for k in keys) else {}
    out = []
    for key in dict.fromkeys(keys):
        kind, name = key.split(":", 1)
        if kind in ("case", "oracle") and name in cases:
            fn = (_case_fn if kind == "case" else _oracle_fn)(cases[name], seed)
            out.append(Unit(kind, name, cases[name].layer, fn))
        elif kind == "init" and name in table:
            out.append(Unit("init", name, name, _init_fn(name, seed)))
        elif kind == "badinput" and name in table:
            out.append(Unit("badinput", name, name, _cells_fn(
                lambda n=name: badinput.class_cells(n, table[n], seed))))
    return out


def check(entries: list[Named] | None = None, seed: int = 0, units=None) -> list[NamedResult]:
    """Plant every entry and run its units; one :class:`NamedResult` each."""
    import numpy as np

    from .units import run_unit

    entries = load() if entries is None else entries
    if units is None:
        units = units_for([k for n in entries for k in n.units], seed)
    by_key = {u.key: u for u in units}
    results = []
    for n in entries:
        t0 = time.perf_counter()
        res = NamedResult(n, "survived")
        missing = [k for k in n.units if k not in by_key]
        try:
            mutated_source(n)
        except ValueError as exc:
            res.verdict, res.detail = "stale", str(exc)
        if res.verdict == "survived" and missing:
            res.verdict, res.detail = "stale", f"no unit {', '.join(missing)}"
        if res.verdict == "survived":
            with np.errstate(all="ignore"):
                base = [(k, run_unit(by_key[k])) for k in n.units]
            bad = [(k, r) for k, r in base if r is not None]
            if bad:
                res.verdict, res.killer, res.detail = "broken", bad[0][0], bad[0][1]
            else:
                with planted(n), np.errstate(all="ignore"):
                    for k in n.units:
                        r = run_unit(by_key[k])
                        if r is not None:
                            res.verdict, res.killer, res.detail = "killed", k, r
                            break
        res.seconds = time.perf_counter() - t0
        results.append(res)
    return results


def markdown(results: list[NamedResult]) -> list[str]:
    """The section of ``mutation.md``."""
    killed = sum(r.verdict == "killed" for r in results)
    lines = [f"## The bugs issue 22 named: {killed} of {len(results)} killed", "",
             "Each bug the issue found past the first catalogue, planted again in today's "
             "npimpl (`compare/selftest/named.toml`) and run against the units that must "
             "catch it (unmutated, they pass):", "",
             "| the issue's words | where | change | verdict | killed by |",
             "|---|---|---|---|---|"]

    def code(s):
        return "`" + s.replace("|", "\\|").replace("\n", " ") + "`"

    for r in results:
        n = r.named
        lines.append(f"| {n.issue} | [{n.file}](../{n.file}) {code(n.where)} | "
                     f"{code(n.before)} → {code(n.after)} | {r.verdict} | "
                     f"{code(r.killer) if r.killer else r.detail[:120]} |")
    return lines + [""]
