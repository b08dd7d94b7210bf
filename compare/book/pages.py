"""The book's pages: one per public npimpl class, and the index. Every page is built from
the class's docstring (any class: the ``Maths:`` and ``Derivation:`` sections are optional)
plus what the run measured."""
from __future__ import annotations

import html
import json
import os

import numpy as np
import pandas as pd

from .. import docs
from . import text
from .source import python_html, snippets

FD = "finite-difference"
INIT = "init-ks"              # compare.markdown.INIT: the default-initialisation rows
#: elements of one array shown in a worked example (the rest are summarised by max |diff|)
SHOW = 8


def esc(s) -> str:
    return html.escape(str(s), quote=True)


def layout(title: str, body: str, nav: str = "") -> str:
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{esc(title)} — lockstep book</title>"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
            "<link rel=\"stylesheet\" href=\"style.css\"></head><body>"
            f"<nav class=\"top\"><a href=\"index.html\">lockstep book</a>{nav}</nav>"
            f"<main>{body}</main></body></html>\n")


def page_name(cls_name: str) -> str:
    return f"{cls_name}.html"


def link(ctx, rel_path: str, line: int | None = None, label: str | None = None) -> str:
    """A link from a book page to a repository file (and line)."""
    target = os.path.relpath(os.path.join(ctx.root, rel_path), ctx.book_dir).replace(os.sep, "/")
    frag = f"#L{line}" if line else ""
    shown = label or (f"{rel_path}:{line}" if line else rel_path)
    return f'<a href="{esc(target + frag)}"><code>{esc(shown)}</code></a>'


def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    x = float(x)
    return "0" if x == 0 else ("inf" if np.isinf(x) else f"{x:.2e}")


# --- the sections of a class page ------------------------------------------------------------
def _computes(d: docs.LayerDoc) -> str:
    out = ["<h2 id=\"computes\">What it computes</h2>",
           f"<p class=\"lead\">{text.inline(d.summary)}</p>"]
    if d.sections.get("Maths"):
        out.append(text.display_block(d.sections["Maths"]))
    if d.body:
        out.append(text.paragraphs(d.body))
    for title, key in (("Arguments", "Args"), ("Attributes", "Attributes")):
        if d.sections.get(key):
            items = "".join(f"<dt>{esc(k)}</dt><dd>{text.inline(v)}</dd>" if k else
                            f"<dd>{text.inline(v)}</dd>"
                            for k, v in text.definitions(d.sections[key]))
            out.append(f"<h3>{title}</h3><dl class=\"args\">{items}</dl>")
    if d.sections.get("Shape"):
        out.append(f"<h2 id=\"shapes\">Shapes</h2>{text.paragraphs(d.sections['Shape'])}")
    return "".join(out)


def _ascii_maths(section: str) -> str:
    """A section of ASCII formulas (``Backward:``), as the docstring writes them, line by
    line, in a fixed-width block (its ``code`` marks dropped)."""
    body = html.escape(section.replace("``", "").strip(), quote=False)
    return f'<pre class="text">{body}</pre>'


def derivation(cls, d: docs.LayerDoc) -> str:
    """The class's ``Derivation:`` section; when its first step is numbered above 1, the
    steps before it come from the nearest base class whose docstring has them (the
    element-wise activations share ``Pointwise``'s first two steps)."""
    own = d.sections.get("Derivation", "")
    steps = text.steps(own)
    first = int(steps[0][0]) if steps and steps[0][0].isdigit() else 1
    if first == 1:
        return own
    for base in getattr(cls, "__mro__", ())[1:]:
        inherited = docs.parse_docstring(base.__doc__)[1].get("Derivation", "")
        before = [(n, t) for n, t in text.steps(inherited) if n.isdigit() and int(n) < first]
        if before:
            return "\n".join(f"{n}. {t}" for n, t in before) + "\n" + own
    return own


def _backward(cls, d: docs.LayerDoc) -> str:
    out = ["<h2 id=\"backward\">The backward, step by step</h2>"]
    steps = text.steps(derivation(cls, d))
    if steps:
        items = "".join(f"<li value=\"{esc(n)}\">{text.inline(t)}</li>" if n else
                        f"<p>{text.inline(t)}</p>" for n, t in steps)
        out.append(f"<ol class=\"derivation\">{items}</ol>")
        if d.backward:
            out.append("<p>What the code computes (the docstring's <em>Backward</em>):</p>")
    elif d.backward:
        out.append("<p class=\"note\">No step-by-step derivation in this class's docstring "
                   "yet; its gradient formulas:</p>")
    if d.backward:
        out.append(_ascii_maths(d.backward))
    if len(out) == 1:
        return ""
    return "".join(out)


def _source(cls, d: docs.LayerDoc, ctx) -> str:
    extra = tuple(text.code_names(derivation(cls, d)))
    snips = snippets(cls, extra)
    if not snips:
        return ""
    out = ["<h2 id=\"code\">The code</h2>"]
    if d.source:
        out.append(f"<p>Class defined at {link(ctx, d.source, d.line)}.</p>")
    for s in snips:
        out.append(f"<p class=\"src\"><strong>{esc(s.name)}</strong> — "
                   f"{link(ctx, s.path, s.line)}</p>{s.html()}")
    return "".join(out)


def _hides(d: docs.LayerDoc, verdicts: list, ctx) -> str:
    if not d.hides and not verdicts:
        return ""
    out = ["<h2 id=\"hides\">What torch hides</h2>"]
    if d.hides:
        out.append(text.paragraphs(d.hides))
    if verdicts:
        out.append("<p>Measured by the registered checks (<code>compare/claims/</code>), run when "
                   "this book was built:</p><ul class=\"claims\">")
        for v in verdicts:
            mark = "✓" if v.passed else "✗"
            cls = "pass" if v.passed else "fail"
            out.append(f"<li class=\"{cls}\"><span class=\"{cls}\">{mark}</span> "
                       f"{text.inline(v.claim.text)}"
                       f"<span class=\"measured\">measured: {esc(v.value)}</span>"
                       f"<span class=\"note\">check: "
                       f"{link(ctx, v.claim.source, v.claim.line, v.claim.name)}</span></li>")
        out.append("</ul>")
    return "".join(out)


def _array_cells(a: np.ndarray) -> list[str]:
    flat = np.asarray(a).reshape(-1)
    return [f"{float(v):.10g}" if np.issubdtype(flat.dtype, np.floating) else str(v)
            for v in flat[:SHOW]] + (["…"] if flat.size > SHOW else [])


def _worked(w) -> str:
    if w is None:
        return ""
    out = ["<h2 id=\"worked\">Worked example</h2>",
           f"<p>Catalogue case <code>{esc(w.case)}</code> in float64, run forward and backward "
           "once on each side when this book was built (the first "
           f"{SHOW} elements of each array, flattened row-major).</p>"]
    if w.error:
        out.append(f"<p class=\"fail\">The example could not run: {esc(w.error)}</p>")
        return "".join(out)
    rows = []
    for q in w.quantities:
        shape = esc(tuple(np.shape(q.numpy)))
        if q.torch is None:
            rows.append(f"<tr><th>{esc(q.name)} {shape}</th><td>both</td>"
                        + "".join(f"<td class=\"num\">{c}</td>" for c in _array_cells(q.numpy))
                        + "</tr>")
            continue
        a, b = np.asarray(q.numpy, dtype=float), np.asarray(q.torch, dtype=float)
        with np.errstate(invalid="ignore"):
            diff = np.abs(a - b) if a.shape == b.shape else np.array([np.inf])
        worst = _fmt(np.nanmax(diff)) if diff.size else "0"
        rows.append(f"<tr><th rowspan=\"2\">{esc(q.name)} {shape}<br><span class=\"note\">"
                    f"max |Δ| {worst}</span></th><td>NumPy</td>"
                    + "".join(f"<td class=\"num\">{c}</td>" for c in _array_cells(a)) + "</tr>"
                    + "<tr><td>torch</td>"
                    + "".join(f"<td class=\"num\">{c}</td>" for c in _array_cells(b)) + "</tr>")
    out.append(f"<table class=\"worked\">{''.join(rows)}</table>")
    return "".join(out)


def deviation_table(rows: pd.DataFrame) -> str:
    """Per case and dtype: the worst quantity by tol_ratio, with max_abs, max_rel, tol_ratio."""
    if rows.empty:
        return "<p class=\"note\">No catalogue rows for this class in this run.</p>"
    body = []
    for (case, dt), d in rows.groupby(["case", "dtype"], sort=False):
        w = d.loc[d["tol_ratio"].astype(float).idxmax()]
        ok = bool(d["passed"].astype(bool).all())
        body.append(f"<tr><td><code>{esc(case)}</code></td><td>{esc(dt)}</td>"
                    f"<td class=\"num\">{len(d)}</td><td><code>{esc(w['quantity'])}</code></td>"
                    f"<td class=\"num\">{_fmt(w['max_abs'])}</td>"
                    f"<td class=\"num\">{_fmt(w['max_rel'])}</td>"
                    f"<td class=\"num\">{float(w['tol_ratio']):.3g}</td><td>{esc(w['tolerance'])}"
                    f"</td><td class=\"{'pass' if ok else 'fail'}\">{'pass' if ok else 'FAIL'}"
                    "</td></tr>")
    return ("<table><tr><th>case</th><th>dtype</th><th>quantities</th><th>worst quantity</th>"
            "<th>max_abs</th><th>max_rel</th><th>tol_ratio</th><th>tolerance</th><th>result</th>"
            "</tr>" + "".join(body) + "</table>")


def _worked_steps(layer: str, ctx) -> str:
    """For a class only trajectories exercise (optimizers, schedulers): the first steps of
    its first float64 trajectory, NumPy's loss beside torch's."""
    names = ctx.case_names(layer)
    steps = ctx.steps[ctx.steps["case"].isin(names) & (ctx.steps["dtype"] == "float64")]
    if steps.empty:
        return ""
    case = steps["case"].iloc[0]
    d = steps[steps["case"] == case].sort_values("step").head(SHOW)
    body = "".join(
        f"<tr><td class=\"num\">{int(r['step'])}</td><td class=\"num\">{r['loss_numpy']:.12g}"
        f"</td><td class=\"num\">{r['loss_torch']:.12g}</td><td class=\"num\">"
        f"{_fmt(r['loss_abs_dev'])}</td><td class=\"num\">{_fmt(r['max_param_abs_dev'])}</td></tr>"
        for _, r in d.iterrows())
    return ("<h2 id=\"worked\">Worked example</h2>"
            f"<p>The first steps of the trajectory <code>{esc(case)}</code> in float64, both "
            "sides training from the same weights on the same batches:</p>"
            "<table><tr><th>step</th><th>loss NumPy</th><th>loss torch</th>"
            "<th>|Δ loss|</th><th>max |Δ param|</th></tr>" + body + "</table>")


def _check_line(what: str, unit: str, rows: pd.DataFrame) -> str:
    """One line for a self-check's rows of this class (empty when it has none)."""
    if rows.empty:
        return ""
    ok = bool(rows["passed"].astype(bool).all())
    return (f"<p>{what}: {len(rows)} {unit} of {rows['case'].nunique()} case(s), worst "
            f"tol_ratio {rows['tol_ratio'].astype(float).max():.3g} — <span class=\""
            f"{'pass' if ok else 'fail'}\">{'pass' if ok else 'FAIL'}</span>.</p>")


def _deviations(layer: str, ctx) -> str:
    rows = ctx.rows[ctx.rows["case"].isin(ctx.case_names(layer)) | (ctx.rows["layer"] == layer)]
    fd = rows[rows["tolerance"] == FD]
    init = rows[rows["tolerance"] == INIT]
    rows = rows[~rows["tolerance"].isin([FD, INIT])]
    out = ["<h2 id=\"deviations\">Deviations from torch</h2>",
           "<p><code>tol_ratio</code> = max |numpy − torch| / (atol + rtol |torch|): a row "
           "passes when it is at most 1. <code>max_rel</code> = max |numpy − torch| / max "
           "|torch| over the tensor (see <a href=\"../deviations.md\">deviations.md</a>).</p>",
           deviation_table(rows)]
    out.append(_check_line("Finite-difference oracle (float64, no torch)", "gradients", fd))
    out.append(_check_line("Default initialisation against torch's (bounds and a "
                           "Kolmogorov–Smirnov test per parameter)", "parameters and buffers",
                           init))
    plots = [c for c in dict.fromkeys(ctx.steps.loc[ctx.steps["case"].isin(rows["case"]),
                                                    "case"])
             if os.path.exists(os.path.join(ctx.out_dir, "plots", f"{c}.png"))]
    if plots:
        out.append("<h3>Trajectories</h3>")
        out += [f"<p><img class=\"plot\" src=\"../plots/{esc(c)}.png\" alt=\"{esc(c)}\"></p>"
                for c in plots]
    return "".join(out)


def _coverage(layer: str, ctx) -> str:
    from .coverage import tests_naming

    cases = ctx.case_names(layer)
    tests = tests_naming(layer)
    out = ["<h2 id=\"coverage\">Cases and tests</h2>"]
    if cases:
        glob = layer if any(c.layer == layer for c in ctx.cases) else ",".join(cases)
        out.append(f"<p>{len(cases)} catalogue case(s), run with <code>lockstep report --cases "
                   f"{esc(glob)}</code>: " + ", ".join(f"<code>{esc(c)}</code>" for c in cases)
                   + ".</p>")
    if tests:
        out.append("<p>Tests that name it:</p><ul>" + "".join(
            f"<li>{link(ctx, t.path, t.line, f'{t.path}::{t.name}')}</li>" for t in tests)
            + "</ul>")
    return "".join(out) if len(out) > 1 else ""


def _exercises(exercises: list, ctx) -> str:
    if not exercises:
        return ""
    out = ["<h2 id=\"exercises\">Exercises: plant a bug, watch lockstep catch it</h2>"]
    for k, e in enumerate(exercises, 1):
        where = ", ".join(link(ctx, p, ln, q) for q, p, ln in e.overrides) or "npimpl"
        code = python_html(e.code, tuple(e.bug_lines)) if e.code else ""
        result = ""
        if e.caught is not None:
            result = (f"<p>In this build lockstep <span class=\"{'pass' if e.caught else 'fail'}"
                      f"\">{'flagged' if e.caught else 'MISSED'}</span> it"
                      + (f": {esc(e.first)}" if e.first else "") + ".</p>")
        out.append(f"<div class=\"exercise\"><h3>Exercise {k}: {esc(e.bug)}</h3>"
                   f"<p>1. Change the highlighted line in {where} as the gallery's mutant "
                   f"<code>{esc(e.name)}</code> ({esc(e.origin)}) does:</p>{code}"
                   f"<p>2. Run <code>lockstep report --cases {esc(e.layer)} --out "
                   f"/tmp/exercise</code> (or, without editing anything, "
                   f"<code>pytest tests/test_mutants.py -k '{esc(e.name)}'</code>).</p>"
                   f"<p>3. Watch it fail: the comparison with torch names the quantity the bug "
                   f"broke.</p>{result}</div>")
    return "".join(out)


def class_page(cls, ctx, d: docs.LayerDoc | None = None) -> str:
    d = d or docs.layer_doc(cls)
    fam, title = ctx.family_of(cls)
    parts = [f"<p class=\"family\"><a href=\"index.html#{esc(fam)}\">{esc(title)}</a></p>",
             f"<h1>{esc(cls.__name__)}</h1>", _computes(d), _backward(cls, d), _source(cls, d, ctx),
             _hides(d, ctx.verdicts_for(cls.__name__), ctx),
             _worked(ctx.worked_for(cls.__name__)) or _worked_steps(cls.__name__, ctx),
             _deviations(cls.__name__, ctx), _coverage(cls.__name__, ctx),
             _exercises(ctx.exercises_for(cls.__name__), ctx)]
    return layout(cls.__name__, "".join(p for p in parts if p),
                  f"<a href=\"index.html#{esc(fam)}\">{esc(title)}</a>")


def index_page(entries: list, ctx) -> str:
    """``entries``: ``[(family key, family title, [(class name, summary)])]``."""
    fams = []
    for key, title, classes in entries:
        items = "".join(f"<li><a href=\"{esc(page_name(n))}\">{esc(n)}</a></li>"
                        for n, _ in classes)
        fams.append(f"<section id=\"{esc(key)}\"><h3>{esc(title)}</h3><ul>{items}</ul></section>")
    body = ("<h1>The lockstep book</h1><p class=\"lead\">Every NumPy layer, loss, optimizer and "
            "scheduler of <code>npimpl</code>: its maths, its backward derived step by step, its "
            "code, what torch hides (each claim measured), a worked example with NumPy and torch "
            "side by side, and how far the two sides are apart.</p>"
            f"<p class=\"note\">{esc(ctx.stamp)}</p>"
            "<p><label for=\"search\">Search: </label><input id=\"search\" type=\"search\" "
            "placeholder=\"LSTM, softmax, eps, running_var …\" autocomplete=\"off\"></p>"
            "<ul id=\"hits\"></ul><h2>Families</h2><div class=\"families\">" + "".join(fams)
            + "</div><h2>The whole run</h2><p><a href=\"../deviations.md\">deviations.md</a> — "
            "every case's numbers; the distribution of <code>tol_ratio</code> over all rows:</p>"
            + ("<p><img class=\"plot\" src=\"../plots/tol-ratio.png\" alt=\"tol_ratio "
               "histogram\"></p>" if ctx.has_plot("tol-ratio.png") else "")
            + "<script src=\"search-index.js\"></script><script src=\"search.js\"></script>")
    return layout("index", body)


def search_index(entries: list) -> str:
    data = []
    for _, title, classes in entries:
        for name, words in classes:
            data.append({"name": name, "family": title, "href": page_name(name),
                         "summary": words[0], "text": words[1]})
    return "window.BOOK_INDEX = " + json.dumps(data, ensure_ascii=False, indent=0) + ";\n"
