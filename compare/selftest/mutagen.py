"""First-order mutants of a Python file, generated from its AST.

Each mutant is one small change at one place (the ``op`` column of ``mutation.csv``):

==========  ==============================================================================
arith       ``a + b`` ↔ ``a - b``, ``a * b`` ↔ ``a / b``, ``a // b`` → ``a / b``,
            ``a ** b`` → ``a * b``, ``a % b`` → ``a // b``, ``a & b`` ↔ ``a | b``
matmul      ``a @ b`` → ``b @ a``
augassign   ``x += y`` → ``x -= y`` (``*=`` ↔ ``/=``), → ``x = y`` (overwrite instead of
            accumulate), and the statement deleted
compare     ``<`` ↔ ``<=``, ``>`` ↔ ``>=``, ``==`` ↔ ``!=``, ``in`` ↔ ``not in``,
            ``is`` ↔ ``is not``
bool        ``and`` ↔ ``or``
unary       ``-x`` → ``x``, ``not x`` → ``x``, ``~m`` → ``m``
const       an int ``n`` → ``n + 1``, a float ``f`` → ``f + 1``, ``True`` ↔ ``False`` (not the
            1 of a ``-1`` given to ``reshape``: NumPy 2 reads any negative size as "infer")
call        ``sum`` ↔ ``mean``, ``max`` ↔ ``min``, ``amax`` ↔ ``amin``, ``maximum`` ↔
            ``minimum``, ``argmax`` ↔ ``argmin``, ``zeros`` ↔ ``ones`` (and ``_like``),
            ``exp`` ↔ ``expm1``, ``log`` ↔ ``log1p``, ``any`` ↔ ``all``, ``floor`` ↔ ``ceil``
axis        an ``axis=`` keyword dropped (the reduction runs over everything)
swap        ``f(..., a, b)`` → ``f(..., b, a)``: the last two positional arguments
            (not for symmetric functions such as ``maximum`` or ``multiply``, nor when one
            is a string: a label or an option name, so only a message or an error changes)
delete      a call statement deleted (``p.accumulate(g)``), or an assignment into an array
            (``out[mask] = 0``)
transpose   ``x.T`` → ``x``
==========  ==============================================================================

Not mutated, because no result depends on it or a comparison of results cannot see it:
docstrings and every string constant (error messages, einsum patterns, option names — a
comparison with an option name is mutated through its operator), f-strings, ``raise``
statements (the condition in front of one is mutated), ``assert``, ``warnings.warn`` calls
and an ``if`` that does nothing but warn (which warnings are emitted is not a result: torch's
own deprecation warnings differ between versions), annotations, imports, decorators, ``__all__`` and ``__doc__``, and the text-only methods ``__repr__``,
``__str__`` and ``extra_repr``.

Where a mutant sits decides how it is applied in a running process (:mod:`.patching`):
``function`` (inside a def: the function's code object is swapped), ``defaults`` (a default
argument of a def: ``__defaults__`` / ``__kwdefaults__`` are re-evaluated) or ``assign``
(a module- or class-level ``NAME = value``: the name is re-bound). Anything else at module
or class level is left alone.

A mutant is identified by its file and its index in this generator's walk, which is
deterministic for a given source text; :func:`site_tree` re-applies it from that pair.
"""
from __future__ import annotations

import ast
import copy
import os
from dataclasses import dataclass, field

#: operator swaps of ``arith`` / ``augassign``
BINOP_SWAP = {ast.Add: ast.Sub, ast.Sub: ast.Add, ast.Mult: ast.Div, ast.Div: ast.Mult,
              ast.FloorDiv: ast.Div, ast.Pow: ast.Mult, ast.Mod: ast.FloorDiv,
              ast.BitAnd: ast.BitOr, ast.BitOr: ast.BitAnd}
CMP_SWAP = {ast.Lt: ast.LtE, ast.LtE: ast.Lt, ast.Gt: ast.GtE, ast.GtE: ast.Gt,
            ast.Eq: ast.NotEq, ast.NotEq: ast.Eq, ast.In: ast.NotIn, ast.NotIn: ast.In,
            ast.Is: ast.IsNot, ast.IsNot: ast.Is}
#: ``call``: a function or method name and its replacement
CALL_SWAP = {"sum": "mean", "mean": "sum", "nansum": "nanmean", "max": "min", "min": "max",
             "amax": "amin", "amin": "amax", "maximum": "minimum", "minimum": "maximum",
             "fmax": "fmin", "fmin": "fmax", "argmax": "argmin", "argmin": "argmax",
             "zeros": "ones", "ones": "zeros", "zeros_like": "ones_like",
             "ones_like": "zeros_like", "exp": "expm1", "expm1": "exp", "log": "log1p",
             "log1p": "log", "any": "all", "all": "any", "floor": "ceil", "ceil": "floor",
             "cumsum": "cumprod", "prod": "sum"}
#: builtins among :data:`CALL_SWAP` (a bare ``sum(...)`` → ``mean(...)`` would only be a NameError)
BUILTIN_SWAP = {"max": "min", "min": "max", "any": "all", "all": "any"}
#: functions whose two arguments commute: swapping them cannot change anything
SYMMETRIC = {"maximum", "minimum", "fmax", "fmin", "add", "multiply", "max", "min", "hypot",
             "logaddexp", "isclose", "allclose", "array_equal", "logical_and", "logical_or",
             "logical_xor", "bitwise_and", "bitwise_or", "dict", "zip", "isinstance",
             "issubclass", "getattr", "setattr", "hasattr", "print", "broadcast_shapes",
             "result_type", "promote_types", "may_share_memory", "shares_memory",
             "swapaxes", "swapdims"}
#: methods never mutated: they only build text
TEXT_ONLY = {"__repr__", "__str__", "extra_repr", "__format__"}


@dataclass(frozen=True)
class Mutant:
    """One first-order change of one file (see the module docstring for the columns)."""

    file: str              # path relative to the repository root: npimpl/linear.py
    module: str            # npimpl.linear
    index: int             # position in the generator's walk of this file
    line: int
    col: int
    op: str
    before: str
    after: str
    scope: str             # 'function' | 'defaults' | 'assign'
    qualname: str          # the runtime function (Linear.backward) or the bound name
    first_line: int        # the function's co_firstlineno (scope function/defaults)
    lines: tuple = field(default=(), compare=False)  # lines whose execution may run it; () = any
    line_text: str = field(default="", compare=False)

    @property
    def id(self) -> str:
        return f"{self.file}#{self.index}"

    @property
    def mutation(self) -> str:
        return f"{self.before} -> {self.after}"


@dataclass
class _Site:
    path: tuple            # ((field, index-or-None), ...) from the module to the node
    make: object           # node -> replacement node (ast.Pass() deletes a statement)
    op: str
    node: ast.AST
    stmt: ast.stmt
    scope: str
    qualname: str
    first_line: int
    lines: tuple


def _short(text: str, n: int = 100) -> str:
    text = " ".join(text.split())
    return text if len(text) <= n else text[:n // 2 - 1] + " … " + text[-(n // 2 - 2):]


def _unparse(node) -> str:
    if isinstance(node, ast.Pass):
        return "(deleted)"
    try:
        return _short(ast.unparse(node))
    except Exception:  # noqa: BLE001 - only a label
        return type(node).__name__


def _func_name(call: ast.Call) -> str | None:
    f = call.func
    return f.attr if isinstance(f, ast.Attribute) else f.id if isinstance(f, ast.Name) else None


def _is_str(node) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant)
                                               and isinstance(node.value, (str, bytes)))


def _is_docstring(stmt, body, i) -> bool:
    return i == 0 and isinstance(stmt, ast.Expr) and _is_str(stmt.value)


def _is_warn(stmt) -> bool:
    if not (isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call)):
        return False
    return _func_name(stmt.value) == "warn"


def _warn_only(stmt) -> bool:
    """An ``if`` (with its ``elif``/``else`` chain) that does nothing but warn."""
    if _is_warn(stmt) or isinstance(stmt, ast.Pass):
        return True
    return (isinstance(stmt, ast.If) and all(_warn_only(s) for s in stmt.body)
            and all(_warn_only(s) for s in stmt.orelse))


def _header_end(stmt) -> int:
    """The last line of a statement's own text: the header of a compound statement
    (``if test:``), the whole of a simple one."""
    parts = {ast.If: ("test",), ast.While: ("test",), ast.For: ("target", "iter"),
             ast.AsyncFor: ("target", "iter"), ast.With: ("items",), ast.AsyncWith: ("items",),
             ast.Try: (), ast.FunctionDef: (), ast.ClassDef: (), ast.AsyncFunctionDef: ()}
    names = parts.get(type(stmt))
    if names is None:
        return stmt.end_lineno
    end = stmt.lineno
    for n in names:
        v = getattr(stmt, n)
        for x in (v if isinstance(v, list) else [v]):
            end = max(end, getattr(x, "end_lineno", None) or getattr(
                getattr(x, "context_expr", None), "end_lineno", end))
    return end


def _first_line(fn) -> int:
    return min([fn.lineno] + [d.lineno for d in fn.decorator_list])


def _children(name: str, value, path: tuple):
    """``(child, its path)`` for one field of a node: each AST item of a list, or the node."""
    if isinstance(value, list):
        return [(v, path + ((name, j),)) for j, v in enumerate(value) if isinstance(v, ast.AST)]
    return [(value, path + ((name, None),))] if isinstance(value, ast.AST) else []


class _Walker:
    """Enumerates mutation sites in a deterministic order."""

    def __init__(self):
        self.sites: list[_Site] = []
        self.inferred: set = set()      # ids of the 1 in a -1 given to reshape

    # -- statements at module / class level -------------------------------------------------
    def module(self, tree: ast.Module):
        self._body(tree.body, (), "body", [])

    def _body(self, body, parent, fld, classes):
        for i, stmt in enumerate(body):
            p = parent + ((fld, i),)
            if isinstance(stmt, ast.ClassDef):
                self._body(stmt.body, p, "body", classes + [stmt.name])
            elif isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):
                self._function(stmt, p, classes)
            elif isinstance(stmt, ast.Assign) and stmt.value is not None and all(
                    isinstance(t, ast.Name) for t in stmt.targets) and not any(
                    t.id in ("__all__", "__doc__") for t in stmt.targets) \
                    and not _is_str(stmt.value):
                name = ".".join(classes + [stmt.targets[0].id])
                ctx = dict(stmt=stmt, scope="assign", qualname=name, first_line=stmt.lineno,
                           lines=())
                self._expr(stmt.value, p + (("value", None),), ctx)

    def _function(self, fn, path, classes):
        if fn.name in TEXT_ONLY:
            return
        qual = ".".join(classes + [fn.name])
        first = _first_line(fn)
        body_lines = tuple(range(fn.body[0].lineno, fn.end_lineno + 1))
        dctx = dict(stmt=fn, scope="defaults", qualname=qual, first_line=first, lines=body_lines)
        for i, d in enumerate(fn.args.defaults):
            self._expr(d, path + (("args", None), ("defaults", i)), dctx)
        for i, d in enumerate(fn.args.kw_defaults):
            if d is not None:
                self._expr(d, path + (("args", None), ("kw_defaults", i)), dctx)
        self._stmts(fn.body, path, "body", dict(scope="function", qualname=qual,
                                                first_line=first))

    # -- inside a function ----------------------------------------------------------------
    def _stmts(self, body, parent, fld, fctx):
        for i, stmt in enumerate(body):
            p = parent + ((fld, i),)
            if _is_docstring(stmt, body, i) or isinstance(
                    stmt, (ast.Raise, ast.Assert, ast.Import, ast.ImportFrom, ast.Global,
                           ast.Nonlocal, ast.Pass, ast.Break, ast.Continue)) or _warn_only(stmt):
                continue
            lines = tuple(range(stmt.lineno, _header_end(stmt) + 1))
            ctx = dict(fctx, stmt=stmt, lines=lines)
            self._statement(stmt, p, ctx, fctx)

    def _statement(self, stmt, p, ctx, fctx):
        if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef)):     # nested def
            if stmt.name in TEXT_ONLY:
                return
            for i, d in enumerate(stmt.args.defaults):
                self._expr(d, p + (("args", None), ("defaults", i)), ctx)
            self._stmts(stmt.body, p, "body", fctx)
            return
        if isinstance(stmt, ast.ClassDef):
            return
        if isinstance(stmt, ast.AugAssign):
            self._augassign(stmt, p, ctx)
            self._expr(stmt.value, p + (("value", None),), ctx)
            self._expr(stmt.target, p + (("target", None),), ctx, store=True)
            return
        if isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Call):
            self._add(p, lambda n: ast.Pass(), "delete", stmt, ctx)
        if (isinstance(stmt, ast.Assign) and len(stmt.targets) == 1
                and isinstance(stmt.targets[0], ast.Subscript)):
            self._add(p, lambda n: ast.Pass(), "delete", stmt, ctx)
        for name, value in ast.iter_fields(stmt):
            if name in ("annotation", "returns", "type_comment", "decorator_list"):
                continue
            if isinstance(value, list) and value and isinstance(value[0], ast.stmt):
                self._stmts(value, p, name, fctx)
            else:
                for v, vp in _children(name, value, p):
                    self._node(v, vp, ctx)

    def _node(self, node, path, ctx):
        if isinstance(node, ast.expr):
            self._expr(node, path, ctx)
        elif isinstance(node, ast.ExceptHandler):
            self._stmts(node.body, path, "body", {k: ctx[k] for k in
                                                  ("scope", "qualname", "first_line")})
        elif isinstance(node, (ast.withitem, ast.comprehension, ast.keyword, ast.arguments)):
            for name, value in ast.iter_fields(node):
                for v, vp in _children(name, value, path):
                    if isinstance(v, ast.expr):
                        self._expr(v, vp, ctx)
        elif isinstance(node, ast.match_case):
            pass

    # -- expressions ------------------------------------------------------------------------
    def _add(self, path, make, op, node, ctx):
        self.sites.append(_Site(path, make, op, node, ctx["stmt"], ctx["scope"],
                                ctx["qualname"], ctx["first_line"], ctx["lines"]))

    def _augassign(self, stmt, p, ctx):
        new = BINOP_SWAP.get(type(stmt.op))
        if new is not None and not isinstance(stmt.op, (ast.BitAnd, ast.BitOr)):
            self._add(p, lambda n, new=new: ast.AugAssign(n.target, new(), n.value),
                      "augassign", stmt, ctx)
        self._add(p, lambda n: ast.Assign([n.target], n.value, lineno=n.lineno), "augassign",
                  stmt, ctx)
        self._add(p, lambda n: ast.Pass(), "delete", stmt, ctx)

    def _expr(self, node, path, ctx, store=False):
        if _is_str(node):
            return
        if isinstance(node, ast.Call) and _func_name(node) == "warn":
            return
        if isinstance(node, ast.BinOp) and not (_is_str(node.left) or _is_str(node.right)):
            if isinstance(node.op, ast.MatMult):
                self._add(path, lambda n: ast.BinOp(n.right, ast.MatMult(), n.left), "matmul",
                          node, ctx)
            elif type(node.op) in BINOP_SWAP:
                new = BINOP_SWAP[type(node.op)]
                self._add(path, lambda n, new=new: ast.BinOp(n.left, new(), n.right), "arith",
                          node, ctx)
        elif isinstance(node, ast.Compare):
            for k, o in enumerate(node.ops):
                new = CMP_SWAP.get(type(o))
                if new is not None:
                    self._add(path, lambda n, k=k, new=new: ast.Compare(
                        n.left, n.ops[:k] + [new()] + n.ops[k + 1:], n.comparators),
                        "compare", node, ctx)
        elif isinstance(node, ast.BoolOp):
            new = ast.Or if isinstance(node.op, ast.And) else ast.And
            self._add(path, lambda n, new=new: ast.BoolOp(new(), n.values), "bool", node, ctx)
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.Not,
                                                                      ast.Invert)):
            self._add(path, lambda n: n.operand, "unary", node, ctx)
        elif isinstance(node, ast.Constant):
            v = node.value
            if id(node) in self.inferred:
                return
            if isinstance(v, bool):
                self._add(path, lambda n: ast.Constant(not n.value), "const", node, ctx)
            elif isinstance(v, (int, float)):
                self._add(path, lambda n: ast.Constant(n.value + 1), "const", node, ctx)
            return
        elif isinstance(node, ast.Attribute) and node.attr == "T" and not store:
            self._add(path, lambda n: n.value, "transpose", node, ctx)
        elif isinstance(node, ast.Call):
            self._call(node, path, ctx)
        elif isinstance(node, (ast.Lambda,)):
            self._expr(node.body, path + (("body", None),), ctx)
            return
        for name, value in ast.iter_fields(node):
            for v, vp in _children(name, value, path):
                if isinstance(value, ast.expr):         # a single child expression
                    self._expr(v, vp, ctx, store=isinstance(getattr(v, "ctx", None), ast.Store))
                else:
                    self._node(v, vp, ctx)

    def _call(self, node, path, ctx):
        name = _func_name(node)
        f = node.func
        if name == "reshape":           # NumPy reads any negative size as "infer this one"
            self.inferred |= {id(n.operand) for a in node.args for n in ast.walk(a)
                              if isinstance(n, ast.UnaryOp) and isinstance(n.op, ast.USub)
                              and isinstance(n.operand, ast.Constant)}
        if isinstance(f, ast.Attribute) and f.attr in CALL_SWAP:
            new = CALL_SWAP[f.attr]
            self._add(path, lambda n, new=new: ast.Call(ast.Attribute(n.func.value, new,
                                                                      ast.Load()),
                                                        n.args, n.keywords), "call", node, ctx)
        elif isinstance(f, ast.Name) and f.id in BUILTIN_SWAP:
            new = BUILTIN_SWAP[f.id]
            self._add(path, lambda n, new=new: ast.Call(ast.Name(new, ast.Load()), n.args,
                                                        n.keywords), "call", node, ctx)
        for k, kw in enumerate(node.keywords):
            if kw.arg == "axis":
                self._add(path, lambda n, k=k: ast.Call(n.func, n.args,
                                                        n.keywords[:k] + n.keywords[k + 1:]),
                          "axis", node, ctx)
        pos = node.args
        if (len(pos) >= 2 and not any(isinstance(a, ast.Starred) for a in pos[-2:])
                and name not in SYMMETRIC and not any(_is_str(a) for a in pos[-2:])
                and not all(isinstance(a, ast.Constant) for a in pos[-2:])
                and ast.dump(pos[-1]) != ast.dump(pos[-2])):
            self._add(path, lambda n: ast.Call(n.func, n.args[:-2] + [n.args[-1], n.args[-2]],
                                               n.keywords), "swap", node, ctx)


#: the text of every file read, by absolute path: a run applies its mutants to the source it
#: generated them from, even if the file changes on disk meanwhile
SOURCES: dict[str, str] = {}


def source(path: str) -> str:
    path = os.path.abspath(path)
    if path not in SOURCES:
        with open(path, encoding="utf-8") as fh:
            SOURCES[path] = fh.read()
    return SOURCES[path]


def _parse(path: str) -> ast.Module:
    return ast.parse(source(path), filename=path)


def sites(path: str) -> list[_Site]:
    """Every mutation site of the file at ``path``, in walk order."""
    w = _Walker()
    w.module(_parse(path))
    return w.sites


def _get(tree, path):
    node = tree
    for name, idx in path:
        node = getattr(node, name)
        if idx is not None:
            node = node[idx]
    return node


def _set(tree, path, new):
    parent = _get(tree, path[:-1])
    name, idx = path[-1]
    if idx is None:
        setattr(parent, name, new)
    else:
        getattr(parent, name)[idx] = new


def site_tree(path: str, index: int) -> ast.Module:
    """The module at ``path`` with mutant ``index`` applied (a fresh tree)."""
    tree = _parse(path)
    site = _Walker()
    site.module(tree)
    s = site.sites[index]
    node = _get(tree, s.path)
    new = s.make(copy.deepcopy(node))
    _set(tree, s.path, ast.copy_location(new, node) if not isinstance(new, ast.Pass)
         else ast.copy_location(new, node))
    return ast.fix_missing_locations(tree)


def module_name(rel: str) -> str:
    """``npimpl/optim/sgd.py`` → ``npimpl.optim.sgd``; ``npimpl/__init__.py`` → ``npimpl``."""
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


def generate(root: str, rel: str) -> list[Mutant]:
    """Every mutant of the file ``rel`` (relative to ``root``), in walk order."""
    path = os.path.join(root, rel)
    src = source(path).splitlines()
    out = []
    for k, s in enumerate(sites(path)):
        new = s.make(copy.deepcopy(s.node))
        before = _unparse(s.node)
        after = _unparse(new)
        if before == after:
            continue            # a no-op (int 1 -> 1.0 cannot happen; kept as a guard)
        out.append(Mutant(rel, module_name(rel), k, s.node.lineno, s.node.col_offset, s.op,
                          before, after, s.scope, s.qualname, s.first_line, s.lines,
                          src[s.node.lineno - 1].strip()))
    return out
