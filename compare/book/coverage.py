"""What covers a class: the test functions that name it, and the gallery's mutants of it
turned into exercises ("change this line, run this command, watch lockstep catch it")."""
from __future__ import annotations

import ast
import glob
import inspect
import os
import re
from dataclasses import dataclass
from functools import lru_cache

import npimpl

from .source import root


@dataclass
class TestRef:
    path: str        # relative to the repository root
    name: str
    line: int


@lru_cache(maxsize=1)
def _tests() -> tuple:
    """``(path, name, line, words)`` of every test function in ``tests/`` (``words``: the
    identifiers its source, decorators included, contains)."""
    out = []
    for path in sorted(glob.glob(os.path.join(root(), "tests", "test_*.py"))):
        text = open(path, encoding="utf-8").read()
        try:
            tree = ast.parse(text)
        except SyntaxError:
            continue
        rel = os.path.relpath(path, root()).replace(os.sep, "/")
        lines = text.splitlines()
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    node.name.startswith("test"):
                first = min([node.lineno] + [d.lineno for d in node.decorator_list])
                src = "\n".join(lines[first - 1:node.end_lineno])   # decorators included
                out.append((rel, node.name, node.lineno, frozenset(re.findall(r"\w+", src))))
    return tuple(out)


def tests_naming(cls_name: str) -> list[TestRef]:
    """Test functions whose code (decorators included) names the class as a word."""
    return [TestRef(p, n, ln) for p, n, ln, words in _tests() if cls_name in words]


@dataclass
class Exercise:
    name: str                 # the mutant's name
    bug: str
    origin: str
    layer: str
    code: str                 # the mutant's source (the overriding class)
    bug_lines: list           # numbers (1-based, in ``code``) of the lines marked ``# BUG``
    overrides: list           # [(qualified name, path, line)] of the npimpl methods it replaces
    caught: bool | None = None
    first: str = ""           # the first failing quantity and its tol_ratio


def _closure_values(obj, depth: int = 0):
    """Everything a factory's closures hold (strings, classes, nested factories)."""
    if depth > 4:
        return
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            value = cell.cell_contents
        except ValueError:       # an empty cell
            continue
        yield value
        if callable(value) and not inspect.isclass(value):
            yield from _closure_values(value, depth + 1)
        elif isinstance(value, dict):
            yield from value.values()


def names_used(case) -> set:
    """The class names a catalogue case exercises: its layer, and (for the schedulers, which
    ride on an optimizer's trajectory) the names its optimizer/scheduler factories hold."""
    out = {case.layer}
    for attr in ("scheduler", "optimizer"):
        fn = getattr(case, attr, None)
        if fn is not None:
            for v in _closure_values(fn):
                name = v if isinstance(v, str) else getattr(v, "__name__", None)
                if isinstance(name, str):
                    out.add(name)
    return out


def _mutant_class(obj, depth: int = 0):
    """The planted class inside a mutant case's factories: a subclass of an npimpl class
    defined outside npimpl (found through the factories' closures)."""
    if depth > 4:
        return None
    if inspect.isclass(obj):
        if not obj.__module__.startswith("npimpl") and any(
                b.__module__.startswith("npimpl") for b in obj.__mro__[1:]):
            return obj
        return None
    for cell in getattr(obj, "__closure__", None) or ():
        try:
            found = _mutant_class(cell.cell_contents, depth + 1)
        except ValueError:       # an empty cell
            continue
        if found is not None:
            return found
    return None


def _overridden(mcls) -> list:
    """``(qualified name, path, line)`` of each npimpl method the mutant class overrides."""
    out = []
    for name, fn in vars(mcls).items():
        if not inspect.isfunction(fn):
            continue
        for base in mcls.__mro__[1:]:
            real = vars(base).get(name)
            if real is not None and base.__module__.startswith("npimpl"):
                try:
                    line = inspect.getsourcelines(real)[1]
                    path = os.path.relpath(inspect.getsourcefile(real), root())
                except (OSError, TypeError):
                    break
                out.append((f"{base.__name__}.{name}", path.replace(os.sep, "/"), line))
                break
    return out


def exercise(mutant, caught=None, result=None) -> Exercise:
    """The mutant as an exercise; ``result`` (the run that caught it) gives the number."""
    mcls = _mutant_class(mutant.case.model) or _mutant_class(getattr(mutant.case, "optimizer",
                                                                     None))
    code, bugs, overrides = "", [], []
    if mcls is not None:
        code = inspect.getsource(mcls).rstrip()
        bugs = [k + 1 for k, ln in enumerate(code.splitlines()) if "# BUG" in ln]
        overrides = _overridden(mcls)
    first = ""
    if result is not None:
        bad = [r for r in result.rows if not r.passed]
        if bad:
            w = max(bad, key=lambda r: r.tol_ratio)
            first = f"{w.quantity}: tol_ratio {w.tol_ratio:.3g}" + (f" ({w.note})" if w.note
                                                                     else "")
        elif result.error:
            first = f"error: {result.error}"
    return Exercise(mutant.name, mutant.bug, mutant.origin, mutant.case.layer, code, bugs,
                    overrides, caught, first)


def npimpl_path(cls) -> str:
    try:
        return os.path.relpath(inspect.getsourcefile(cls), root()).replace(os.sep, "/")
    except TypeError:
        return os.path.relpath(npimpl.__file__, root())
