"""The forward/backward code a page shows: the class's own ``forward``/``backward`` (or, for
an optimizer, ``step``; for a scheduler ``get_lr``/``_closed_form``) and the npimpl functions
they call by name (``linear_backward``, ``lstm_step_backward``, ``self._backward`` …), one
level deep, each highlighted by pygments with its file and first line.
"""
from __future__ import annotations

import inspect
import os
import re
import sys
import textwrap
from dataclasses import dataclass
from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexers import PythonLexer

import npimpl

ENTRY = ("forward", "backward", "step", "get_lr", "_get_closed_form_lr")
_CALL = re.compile(r"(?<![\w.])(self\.)?(_?[a-z]\w*)\(")
#: helpers every module calls, which teach nothing on a layer's page
_SKIP = {"_input", "_saved", "_x", "_dtype", "accumulate", "super", "isinstance", "len", "range",
         "tuple", "list", "dict", "float", "int", "zip", "getattr", "type", "enumerate"}
MAX_FUNCTIONS = 8


@dataclass
class Snippet:
    name: str          # qualified name, e.g. ``Linear.backward`` or ``linear_backward``
    path: str          # file relative to the repository root
    line: int          # first line of the definition in that file
    code: str          # dedented source

    def html(self) -> str:
        return python_html(self.code)


@lru_cache(maxsize=None)
def python_html(code: str, hl_lines: tuple = ()) -> str:
    """Python source highlighted by pygments (cached: pages share many functions)."""
    return highlight(code, PythonLexer(), HtmlFormatter(cssclass="code", hl_lines=hl_lines))


def root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(npimpl.__file__)))


def _snippet(obj, name: str) -> Snippet | None:
    try:
        lines, first = inspect.getsourcelines(obj)
        path = inspect.getsourcefile(obj)
    except (OSError, TypeError):
        return None
    if not path or not os.path.abspath(path).startswith(os.path.dirname(npimpl.__file__)):
        return None                                   # only npimpl's own code is shown
    rel = os.path.relpath(path, root()).replace(os.sep, "/")
    return Snippet(name, rel, first, textwrap.dedent("".join(lines)).rstrip())


def _own_method(cls, name: str):
    """``cls.name`` if an npimpl class (not the Module base) defines it."""
    for klass in cls.__mro__:
        if name in vars(klass):
            if klass.__module__ in ("npimpl.module", "npimpl.optim.optimizer") and \
                    name not in ("step",):
                return None, None
            return klass, vars(klass)[name]
    return None, None


def _npimpl_function(name: str):
    """The module-level function ``name`` of any loaded npimpl module (None if none)."""
    for mod_name, mod in sorted(sys.modules.items()):
        if mod_name.startswith("npimpl") and inspect.isfunction(getattr(mod, name, None)):
            return getattr(mod, name)
    return None


def snippets(cls, extra: tuple = ()) -> list[Snippet]:
    """The functions that make up ``cls``'s forward and backward (see the module docstring);
    ``extra`` names more functions to show (the derivation's ``code:`` references)."""
    out: list[Snippet] = []
    seen: set = set()

    def add(obj, name):
        key = getattr(obj, "__code__", obj)
        if key in seen:
            return None
        seen.add(key)
        s = _snippet(obj, name)
        if s is not None:
            out.append(s)
        return s

    first = []
    for entry in ENTRY:
        klass, fn = _own_method(cls, entry)
        if fn is not None and inspect.isfunction(fn):
            s = add(fn, f"{klass.__name__}.{entry}")
            if s is not None:
                first.append((fn, s))
    for name in extra:
        klass, obj = _own_method(cls, name)
        label = f"{klass.__name__}.{name}" if klass is not None else name
        if obj is None:
            obj = _npimpl_function(name)
        if inspect.isfunction(obj):
            add(obj, label)
    for fn, s in first:                               # one level of calls
        for m in _CALL.finditer(s.code):
            if len(out) >= MAX_FUNCTIONS:
                break
            is_self, name = m.group(1), m.group(2)
            if name in _SKIP or name in ENTRY:
                continue
            if is_self:
                klass, obj = _own_method(cls, name)
                label = f"{klass.__name__}.{name}" if klass is not None else name
            else:
                obj = fn.__globals__.get(name)
                label = name
            if inspect.isfunction(obj) and (obj.__module__ or "").startswith("npimpl"):
                add(obj, label)
    return out
