"""Apply one mutant of :mod:`.mutagen` to npimpl: in this process, or at import time.

In this process (:func:`applied`), nothing is re-imported: the mutated file is compiled and

* ``function`` mutants: the live function's ``__code__`` is replaced by the mutated code
  object of the same qualified name and first line (every caller, every subclass and every
  ``from .x import f`` alias runs the new code at once; nested functions and lambdas come
  with their outer function);
* ``defaults`` mutants: the def's default expressions are evaluated again and replace
  ``__defaults__`` / ``__kwdefaults__``;
* ``assign`` mutants: the module- or class-level name is re-bound (and every npimpl module
  that imported the same object under the same name).

Everything is restored on exit, and every ``functools.lru_cache`` of npimpl is cleared
before and after (a cached result computed by a mutant must not outlive it).

In a fresh process (:func:`install_import_hook`), before npimpl is imported, a
``sys.meta_path`` finder hands Python the mutated code for the mutant's module, exactly as
if the file had been edited: import-time effects (a default argument bound to a module
constant, a table built from one) are then mutated too. ``lockstep mutate`` re-checks every
in-process survivor that way.
"""
from __future__ import annotations

import ast
import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import os
import sys
import types
from contextlib import contextmanager

from .mutagen import Mutant, site_tree

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def mutated_code(m: Mutant, root: str = ROOT) -> tuple[types.CodeType, ast.Module]:
    path = os.path.join(root, m.file)
    tree = site_tree(path, m.index)
    return compile(tree, path, "exec", dont_inherit=True), tree


def _code_objects(code: types.CodeType):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _code_objects(c)


def _functions_of(obj, modname: str, seen: set):
    """Every plain function reachable from a module's namespace or a class body."""
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, types.FunctionType):
        yield obj
        wrapped = getattr(obj, "__wrapped__", None)
        if wrapped is not None:
            yield from _functions_of(wrapped, modname, seen)
    elif isinstance(obj, (staticmethod, classmethod)):
        yield from _functions_of(obj.__func__, modname, seen)
    elif isinstance(obj, property):
        for f in (obj.fget, obj.fset, obj.fdel):
            if f is not None:
                yield from _functions_of(f, modname, seen)
    elif isinstance(obj, type) and obj.__module__ == modname:
        for v in vars(obj).values():
            yield from _functions_of(v, modname, seen)
    elif hasattr(obj, "__wrapped__") and callable(obj):        # functools.lru_cache
        yield from _functions_of(obj.__wrapped__, modname, seen)


def live_function(module, qualname: str, first_line: int) -> types.FunctionType:
    seen: set = set()
    for v in list(vars(module).values()):
        for f in _functions_of(v, module.__name__, seen):
            c = f.__code__
            if c.co_qualname == qualname and c.co_firstlineno == first_line:
                return f
    raise LookupError(f"{module.__name__}: no live function {qualname} at line {first_line}")


def _find_def(tree: ast.Module, qualname: str):
    parts = qualname.split(".")
    body = tree.body
    node = None
    for p in parts:
        node = next(n for n in body if isinstance(n, (ast.ClassDef, ast.FunctionDef,
                                                      ast.AsyncFunctionDef)) and n.name == p)
        body = node.body
    return node


def _namespace(module, qualname: str) -> dict:
    """The globals a module- or class-level expression sees (class bodies on top)."""
    ns = dict(vars(module))
    obj = module
    for p in qualname.split(".")[:-1]:
        obj = getattr(obj, p)
        ns.update(vars(obj))
    return ns


def _namespace_owner(module, qualname: str):
    obj = module
    for p in qualname.split(".")[:-1]:
        obj = getattr(obj, p)
    return obj


def _rebuilt(f: types.FunctionType, code: types.CodeType) -> types.FunctionType:
    """A function running ``code`` whose free variables are taken from ``f``'s closure by name
    (the mutated code may need fewer of them than ``f`` had)."""
    cells = dict(zip(f.__code__.co_freevars, f.__closure__ or ()))
    g = types.FunctionType(code, f.__globals__, f.__name__, f.__defaults__,
                           tuple(cells[n] for n in code.co_freevars))
    g.__kwdefaults__, g.__qualname__ = f.__kwdefaults__, f.__qualname__
    g.__dict__.update(f.__dict__)
    return g


def _eval(node: ast.expr, ns: dict, filename: str):
    expr = ast.fix_missing_locations(ast.Expression(node))
    return eval(compile(expr, filename, "eval", dont_inherit=True), ns)   # noqa: S307


def set_defaults(f, tree: ast.Module, module, qualname: str, filename: str) -> list:
    """Give ``f`` the default arguments its def in ``tree`` evaluates to; returns the undo
    list ``[(f, attribute, old value)]``."""
    d = _find_def(tree, qualname)
    ns = _namespace(module, qualname)
    undo = [(f, "__defaults__", f.__defaults__), (f, "__kwdefaults__", f.__kwdefaults__)]
    if d.args.defaults:
        f.__defaults__ = tuple(_eval(x, ns, filename) for x in d.args.defaults)
    kw = {a.arg: _eval(x, ns, filename) for a, x in zip(d.args.kwonlyargs, d.args.kw_defaults)
          if x is not None}
    if kw:
        f.__kwdefaults__ = kw
    return undo


def clear_caches() -> None:
    """``cache_clear()`` every ``functools.lru_cache`` in npimpl's modules."""
    for name, mod in list(sys.modules.items()):
        if name == "npimpl" or name.startswith("npimpl."):
            for v in list(vars(mod).values()):
                if callable(getattr(v, "cache_clear", None)):
                    v.cache_clear()


@contextmanager
def applied(m: Mutant, root: str = ROOT):
    """Run the body with mutant ``m`` live in this process; restore everything after."""
    module = importlib.import_module(m.module)
    code, tree = mutated_code(m, root)
    undo = []
    try:
        if m.scope == "function":
            f = live_function(module, m.qualname, m.first_line)
            new = next(c for c in _code_objects(code)
                       if c.co_qualname == m.qualname and c.co_firstlineno == m.first_line)
            undo += swap_code(f, new, module, m.qualname)
        elif m.scope == "defaults":
            f = live_function(module, m.qualname, m.first_line)
            undo += set_defaults(f, tree, module, m.qualname, m.file)
        else:                                                  # assign
            *owner_path, name = m.qualname.split(".")
            owner = module
            for p in owner_path:
                owner = getattr(owner, p)
            node = next(n for n in ast.walk(tree) if isinstance(n, ast.Assign)
                        and n.lineno == m.first_line)
            value = _eval(node.value, _namespace(module, m.qualname), m.file)
            old = getattr(owner, name)
            owners = [owner]
            if owner is module:        # `from .bce import EPSILON` elsewhere binds the object
                owners += [mod for mname, mod in list(sys.modules.items())
                           if (mname == "npimpl" or mname.startswith("npimpl."))
                           and mod is not module and getattr(mod, name, None) is old]
            for o in owners:
                undo.append((o, name, old))
                setattr(o, name, value)
        clear_caches()
        yield
    finally:
        undo_all(undo)


def swap_code(f, new, module, qualname: str) -> list:
    """Make the live function ``f`` run the code object ``new``; returns the undo list. A
    code with other free variables (e.g. a mutant deleted the only ``super()`` call) gets a
    new function in ``f``'s place."""
    if new.co_freevars == f.__code__.co_freevars:
        old = f.__code__
        f.__code__ = new
        return [(f, "__code__", old)]
    owner = _namespace_owner(module, qualname)
    name = qualname.split(".")[-1]
    undo = [(owner, name, vars(owner)[name])]
    setattr(owner, name, _rebuilt(f, new))
    return undo


def undo_all(undo: list) -> None:
    """Restore what :func:`applied` or :func:`.named.planted` changed, newest first."""
    for obj, attr, old in reversed(undo):
        setattr(obj, attr, old)
    clear_caches()


class _MutantLoader(importlib.machinery.SourceFileLoader):
    """Loads one module from a mutated code object (never writes bytecode)."""

    def __init__(self, fullname, path, code):
        super().__init__(fullname, path)
        self._code = code

    def get_code(self, fullname):
        return self._code


class _MutantFinder(importlib.abc.MetaPathFinder):
    def __init__(self, m: Mutant, root: str):
        self.m, self.root = m, root

    def find_spec(self, fullname, path, target=None):
        if fullname != self.m.module:
            return None
        file = os.path.join(self.root, self.m.file)
        code, _ = mutated_code(self.m, self.root)
        is_pkg = os.path.basename(file) == "__init__.py"
        return importlib.util.spec_from_file_location(
            fullname, file, loader=_MutantLoader(fullname, file, code),
            submodule_search_locations=[os.path.dirname(file)] if is_pkg else None)


def install_import_hook(m: Mutant, root: str = ROOT) -> None:
    """Make the next import of ``m.module`` load the mutated code (call before importing
    npimpl; refuses when the module is already imported)."""
    if m.module in sys.modules:
        raise RuntimeError(f"{m.module} is already imported: the hook would not apply")
    sys.meta_path.insert(0, _MutantFinder(m, root))
