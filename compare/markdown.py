"""Render ``reports/deviations.md``: the checker's numbers laid out as a textbook.

Top: a one-screen summary. Then the article's experiment, every layer family
(maths, backward, what torch hides — read from the npimpl docstrings — and the
measured deviations), the trajectories, a float32-vs-float64 explainer built
from the measured rows, and the checker's self-tests.
"""
from __future__ import annotations

import os
import platform

import numpy as np
import pandas as pd
import torch

from . import article, docs
from .docs import section_of
from .torchoff import TORCH_OFF

FD = "finite-difference"  # the tolerance name of the oracle's rows
INIT = "init-ks"          # the tolerance name of the default-initialisation rows (compare/init.py)

#: report sections, in order
FAMILY_TITLES = {
    "article": "The article's experiment", "core": "Core layers",
    "distance": "Distances and bilinear maps", "activation": "Activations",
    "loss": "Losses", "conv": "Convolution", "pooling": "Pooling",
    "padding": "Padding", "resample": "Resampling and rearranging",
    "norm": "Normalization, dropout and embeddings", "recurrent": "Recurrent layers",
    "attention": "Attention and transformers", "optim": "Optimizers, schedules and clipping",
    "training": "Training runs", "models": "Models",
}



def _fmt(x) -> str:
    if x is None or (isinstance(x, float) and np.isnan(x)):
        return "–"
    if isinstance(x, (float, np.floating)):
        return "0" if x == 0 else ("inf" if np.isinf(x) else f"{x:.2e}")
    return str(x)


def _table(header: list, rows: list) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def _anchor(text: str) -> str:
    return "".join(c for c in text.lower().replace(" ", "-") if c.isalnum() or c in "-_")


def _worst(frame: pd.DataFrame):
    return None if frame.empty else frame.loc[frame["tol_ratio"].astype(float).idxmax()]


# --- sections -------------------------------------------------------------------------
def summary(run, rows: pd.DataFrame, out_dir: str) -> str:
    cases = {r.case.name: r.case for r in run.results}
    n_traj = len({r.case.name for r in run.results if r.steps})       # cases with steps
    lines = [("cases", f"{len(cases)} ({len(cases) - n_traj} single-step, {n_traj} "
                       f"trajectories) × dtypes {', '.join(run.dtypes)}"),
             ("quantities compared", f"{len(rows)} rows in [deviations.csv](deviations.csv)")]
    fd = rows[rows["tolerance"] == FD]
    init = rows[rows["tolerance"] == INIT]
    off = rows[rows["tolerance"] == TORCH_OFF]
    rows = rows[~rows["tolerance"].isin([FD, INIT, TORCH_OFF])]
    for dt in ("float64", "float32"):
        # "init" rows are statistics of draws (a KS distance, a mean-square ratio), not a
        # computation's rounding: they pass or fail but do not rank with the rest
        w = _worst(rows[(rows["dtype"] == dt) & (~rows["kind"].isin(["error", "init"]))])
        if w is not None:
            lines.append((f"worst {dt} (by tol_ratio)", f"tol_ratio {w['tol_ratio']:.3g} "
                          f"({w['tolerance']}): max_abs {_fmt(w['max_abs'])}, max_rel "
                          f"{_fmt(w['max_rel'])} — `{w['case']}` {w['quantity']}"))
    if not off.empty:
        lines.append(("torch is off", f"{len(off)} float32 rows of "
                      + ", ".join(f"`{c}`" for c in dict.fromkeys(off["case"]))
                      + ": torch's float32 kernel misses torch's own float64 answer on the same "
                      "inputs while NumPy is within the float32 tolerance of it "
                      "([compare/torchoff.py](../compare/torchoff.py); notes in deviations.csv)"))
    fails = rows[~rows["passed"].astype(bool)]
    lines.append(("failures", "**none**" if fails.empty else
                  f"**{len(fails)}**: " + ", ".join(sorted({f"`{c}`" for c in fails["case"]}))))
    if run.mutants:
        caught = sum(c for _, c, _ in run.mutants)
        surv = [m.name for m in run.survivors]
        lines.append(("mutation score", f"{caught}/{len(run.mutants)} mutants flagged"
                      + (f"; **survivors: {', '.join(surv)}**" if surv else "")))
    if os.path.exists(os.path.join(out_dir, "mutation.csv")):
        from .selftest.mutation_report import summary_cell
        lines.append(("systematic mutation", summary_cell(os.path.join(out_dir, "mutation.csv"))))
    if getattr(run, "claims", None):
        failed = [v.claim.layer for v in run.claims if not v.passed]
        lines.append(("claims", f"{len(run.claims) - len(failed)}/{len(run.claims)} measured "
                      "\"What torch hides\" claims hold ([Claims checked](#claims-checked))"
                      + (f"; **failed: {', '.join(failed)}**" if failed else "")))
    if not fd.empty:
        from .oracle import UNCHECKED
        bad = int((~fd["passed"].astype(bool)).sum())
        unchecked = int((fd["kind"] == UNCHECKED).sum())
        fd = fd[fd["kind"] != UNCHECKED]
        lines.append(("finite-difference oracle", f"{len(fd)} gradients of {fd['case'].nunique()} "
                      f"cases checked against central differences (float64, no torch): "
                      + ("all agree" if not bad else f"**{bad} disagree**")
                      + (f"; {unchecked} more compared no element (all NaN, kinks or "
                         "conventions) and are not counted" if unchecked else "")))
    if not init.empty:
        bad = int((~init["passed"].astype(bool)).sum())
        lines.append(("default initialisation", f"{len(init)} parameters and buffers of "
                      f"{init['layer'].nunique()} classes, each side built from its own "
                      "defaults (a two-sample KS test, or exact for constants and buffers): "
                      + ("all match torch's" if not bad else f"**{bad} differ**")))
    if run.badinput:
        outcomes = pd.Series([b["outcome"].split(":")[0] for b in run.badinput]).value_counts()
        lines.append(("bad-input matrix", f"{len(run.badinput)} inputs tried: " +
                      ", ".join(f"{n} {k}" for k, n in outcomes.items())))
    lines.append(("fuzzing", "hypothesis, in `tests/test_fuzz.py`: random shapes (size-1 and "
                  "empty dims), options and values (±0, tiny, huge, integers as floats) against "
                  "torch; `pytest tests/test_fuzz.py --hypothesis-profile=long` for 500 "
                  "examples per layer"))
    bench = os.path.join(out_dir, "bench.csv")
    if os.path.exists(bench):
        b = pd.read_csv(bench)
        targeted = b[b["target"].notna()] if "target" in b else b.iloc[:0]
        met = int((targeted["ratio"] <= targeted["target"]).sum())
        worst = b.sort_values("ratio", ascending=False).head(3)
        lines.append(("speed (numpy time / torch time)",
                      f"{len(b)} rows, median {b['ratio'].median():.2f}×, {met} of "
                      f"{len(targeted)} within their target; slowest: " + "; ".join(
                          f"{r['item']}: {r['ratio']:.2f}×" for _, r in worst.iterrows())
                      + " — [bench.md](bench.md)"))
    lines.append(("environment", f"numpy {np.__version__}, torch {torch.__version__}, "
                  f"python {platform.python_version()}, "
                  f"seed {getattr(run, 'seed_label', run.seed)}"))
    text = "## Summary\n\n" + _table(["", ""], [(f"**{k}**", v) for k, v in lines])
    if any(r.steps for r in run.results):
        text += ("\n\nEvery trajectory at a glance — the largest parameter deviation per step "
                 "(float32 left, float64 right; each case's own plot is further down):\n\n"
                 "![all trajectories](plots/float32-growth.png)")
    return text


def article_section(run, rows: pd.DataFrame) -> str:
    res = [r for r in run.results if r.case.family == "article"]
    if not res:
        return ""
    out = ["## The article's experiment", "",
           "The seed article trains `Linear(2, 2)` + softmax cross-entropy with plain SGD "
           "(lr 0.1, 500 full-batch steps) on ten 2-D points. Here the NumPy model and its torch "
           "twin start from the same weights and every step is compared.", ""]
    for name in dict.fromkeys(r.case.name for r in res):
        out += [f"![{name}](plots/{name}.png)", ""]
    for r in res:
        if r.probe is not None:
            x, a, b = r.probe["input"], r.probe["numpy"], r.probe["torch"]
            pa = np.exp(a - a.max(1, keepdims=True))
            pa /= pa.sum(1, keepdims=True)
            pb = np.exp(b - b.max(1, keepdims=True))
            pb /= pb.sum(1, keepdims=True)
            out.append(f"Predictions after training ({r.dtype}), softmax of the logits:")
            out.append("")
            out.append(_table(["query", "numpy p(class 1)", "torch p(class 1)", "numpy class",
                               "torch class"],
                              [(str([int(v) for v in q]), f"{pa[i, 1]:.9f}", f"{pb[i, 1]:.9f}",
                                int(a[i].argmax()), int(b[i].argmax()))
                               for i, q in enumerate(x)]))
            out.append("")
    out += ["### The article's code beside ours", ""]
    for topic, theirs, ours in article.SIDE_BY_SIDE:
        out += [f"**{topic}** — the article:", "", "```python", theirs, "```", "",
                f"npimpl (`{ours}`):", "", "```python", _source(ours), "```", ""]
    gallery = {m.name: caught for m, caught, _ in run.mutants}
    out += ["### The article's bugs, and what catches each", ""]
    table = []
    for wrote, wrong, catcher in article.BUGS:
        if catcher.startswith("mutant:"):
            name = catcher.split(":", 1)[1]
            status = ("flagged" if gallery[name] else "**survived**") if name in gallery \
                else "not in the gallery yet"
            catcher = f"mutant `{name}` ({status})"
        else:
            catcher = f"`{catcher}`"
        table.append((wrote, wrong, catcher))
    out.append(_table(["the article wrote", "what goes wrong", "caught by"], table))
    return "\n".join(out)


def _source(dotted: str) -> str:
    """The source of ``npimpl.<module>.<name>[.<method>]``, dedented."""
    import importlib
    import inspect
    import textwrap

    parts = dotted.split(".")
    obj = importlib.import_module(".".join(parts[:2]))
    for p in parts[2:]:
        obj = getattr(obj, p)
    return textwrap.dedent(inspect.getsource(obj)).rstrip()


def layer_section(layer: str, lrows: pd.DataFrame, out_dir: str) -> str:
    cls = docs.find_class(layer)
    out = [f"### {layer}", ""]
    if cls is not None:
        d = docs.layer_doc(cls)
        out.append(f"*{docs.one_line(d.summary)}*")
        out.append("")
        if d.sections.get("Maths"):
            out += ["```math", d.sections["Maths"], "```", ""]
        if d.sections.get("Shape"):
            out += [f"**Shape:** {docs.one_line(d.sections['Shape'])}", ""]
        if d.backward:
            out += ["**Backward:**", "", "```text", d.backward.replace("``", ""), "```", ""]
        elif d.body and layer in _optimizers():
            out += ["**Update rule:**", "", "```text", d.body.replace("``", ""), "```", ""]
        if d.hides:
            out += [f"**What torch hides:** {docs.one_line(d.hides)}", ""]
        links = [f"[the book's page](book/{layer}.html) (derivation, code, worked example, "
                 "measured claims)"]
        if d.source:
            rel = os.path.relpath(os.path.join(_root(), d.source), os.path.abspath(out_dir))
            links.insert(0, f"source: [{d.source}]({rel.replace(os.sep, '/')}#L{d.line})")
        line = "; ".join(links)
        out += [line[0].upper() + line[1:] + ".", ""]
    for case in dict.fromkeys(lrows["case"]):
        if str(case).startswith("schedule-"):      # drawn by the report (schedule_plot);
            # the prefix is the Schedule cases' (compare/catalogue/schedules.py): no other
            # case may take it
            out += [f"![{case}](plots/{case}-schedule.png)", ""]
    table = []
    for case, crows in lrows.groupby("case", sort=False):
        cells = [f"`{case}`"]
        for dt in ("float32", "float64"):
            w = _worst(crows[(crows["dtype"] == dt) & (crows["tolerance"] != TORCH_OFF)])
            cells += (["–", "–"] if w is None else
                      [f"{float(w['tol_ratio']):.3g} (`{docs.one_line(w['quantity'], True)}`)",
                       _fmt(w["max_rel"])])
        cells.append(str(len(crows)))
        n_off = int((crows["tolerance"] == TORCH_OFF).sum())
        cells.append(("pass" if crows["passed"].astype(bool).all() else "**FAIL**")
                     + (f" (torch is off: {n_off})" if n_off else ""))
        table.append(cells)
    out.append(_table(["case", "float32 worst tol_ratio (quantity)", "float32 max_rel",
                       "float64 worst tol_ratio (quantity)", "float64 max_rel", "quantities",
                       "result"], table))
    return "\n".join(out)


def _optimizers() -> set:
    import npimpl.optim
    return set(getattr(npimpl.optim, "__all__", []))


def _root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(docs.npimpl.__file__)))


def families(run, rows: pd.DataFrame, out_dir: str) -> str:
    out = []
    cases = rows[~rows["case"].isin([r.case.name for r in run.results
                                     if r.case.family == "article"])]
    cases = cases[~cases["tolerance"].isin([FD, INIT])]
    first_family = cases.groupby("layer", sort=False)["family"].first()
    sections = {layer: section_of(layer, fam) for layer, fam in first_family.items()}
    order = list(FAMILY_TITLES) + sorted(set(sections.values()) - set(FAMILY_TITLES))
    for fam in order:
        layers = [layer for layer, f in sections.items() if f == fam]
        if not layers:
            continue
        out += [f"## {FAMILY_TITLES.get(fam, fam.capitalize())}", ""]
        for layer in layers:
            out += [layer_section(layer, cases[cases["layer"] == layer], out_dir), ""]
    return "\n".join(out)


def trajectories(run) -> str:
    res = [r for r in run.results if r.steps and r.case.family != "article"]
    if not res:
        return ""
    out = ["## Trajectories", "",
           "Per step: the loss on both sides and the largest parameter deviation; "
           "[trajectories.csv](trajectories.csv) has every step.", ""]
    seen = []
    for r in res:
        if r.case.name not in seen:
            seen.append(r.case.name)
            note = f" — {r.case.note}" if r.case.note else ""
            out += [f"**{r.case.name}**{note}", "", f"![{r.case.name}](plots/{r.case.name}.png)", ""]
    return "\n".join(out)


def explainer(run, rows: pd.DataFrame) -> str:
    single = rows[(rows["worst_step"].isna()) & (~rows["kind"].isin(["error", "init"]))]
    out = ["## float32 vs float64: why the rows differ", ""]
    for dt in ("float32", "float64"):
        d = single[single["dtype"] == dt]["max_rel"].astype(float)
        d = d[np.isfinite(d) & (d > 0)]
        if len(d):
            out.append(f"- single-step {dt} rows: median max_rel {np.median(d):.2e}, "
                       f"95th percentile {np.percentile(d, 95):.2e}, max {d.max():.2e} "
                       f"(machine epsilon {np.finfo(dt).eps:.1e}).")
    out += ["",
            "Both sides compute the same formulas, but not in the same order: torch reduces "
            "with vectorised kernels that split a sum into SIMD lanes and blocks, NumPy uses "
            "pairwise summation for `sum` and whatever blocking its BLAS chooses for `@`. "
            "Floating-point addition is not associative, so each reordering changes the last "
            "bits: about one unit in the last place per operation, which is ~1e-7 relative in "
            "float32 and ~1e-16 in float64. The float64 tolerance (rtol 1e-10) is therefore a "
            "million times looser than rounding and only a wrong formula can miss it.", "",
            "Over a trajectory every step starts from the previous step's slightly different "
            "parameters, so the deviations compound. " + _growth_sentence(run), "",
            "![float32 growth](plots/float32-growth.png)"]
    return "\n".join(out)


def _growth_sentence(run) -> str:
    """The measured spread of the last step's parameter deviation, per dtype."""
    steps = run.steps
    if steps.empty:
        return ""
    last = steps.sort_values("step").groupby(["case", "dtype"]).tail(1)
    parts = []
    for dt in ("float32", "float64"):
        d = last[last["dtype"] == dt]["max_param_abs_dev"].astype(float)
        d = d[d > 0]
        if len(d):
            parts.append(f"{dt} ends between {d.min():.1e} and {d.max():.1e}")
    return ("After the last step the largest parameter deviation of each trajectory: "
            + "; ".join(parts) + " (plot: float32 left, float64 right).")


def mutant_section(run) -> str:
    if not run.mutants:
        return ""
    rows = []
    for m, caught, res in run.mutants:
        bad = [r for r in res.rows if not r.passed]
        first = (f"`{bad[0].quantity}` (tol_ratio {bad[0].tol_ratio:.3g})" if bad else "–")
        rows.append((f"`{m.name}`", m.origin, docs.one_line(m.bug, True),
                     "flagged" if caught else "**SURVIVED**", first))
    return "\n".join(["## The mutant gallery", "",
                      "Deliberately wrong layers, one bug each, run against the correct torch "
                      "twin. Every one must be flagged, or the checker proves nothing.", "",
                      _table(["mutant", "origin", "bug", "result", "first failing quantity"],
                             rows)])


def badinput_section(run) -> str:
    if not run.badinput:
        return ""
    frame = pd.DataFrame(run.badinput)
    frame["result"] = frame["outcome"].str.split(":").str[0]
    counts = frame.pivot_table(index="variant", columns="result", values="cls",
                               aggfunc="count", fill_value=0)
    header = ["variant"] + list(counts.columns)
    return "\n".join(["## Bad-input matrix", "",
                      f"{len(frame)} odd inputs across {frame['cls'].nunique()} public classes; "
                      "each either matches torch or raises a clear error.", "",
                      _table(header, [[v] + [int(x) for x in r] for v, r in counts.iterrows()])])


def init_section(rows: pd.DataFrame) -> str:
    init = rows[rows["tolerance"] == INIT]
    if init.empty:
        return ""
    from . import init as init_mod
    table = []
    for layer, d in init.groupby("layer", sort=False):
        w = _worst(d)
        table.append((f"`{layer}`", len(d), f"{w['tol_ratio']:.2f} ({w['quantity']})",
                      "pass" if d["passed"].astype(bool).all() else "**FAIL**"))
    return "\n".join(["## Default initialisation", "",
                      docs.one_line(docs.parse_docstring(init_mod.__doc__)[0]) + " Both "
                      "sides are built from their own defaults, many times over; constants and "
                      "buffers must be equal, random parameters must pass a two-sample "
                      f"Kolmogorov–Smirnov test at alpha {init_mod.ALPHA:g} and stay within "
                      "torch's range (see [compare/init.py](../compare/init.py)).", "",
                      _table(["class", "parameters and buffers", "worst fraction of tolerance",
                              "result"], table)])


def oracle_section(rows: pd.DataFrame) -> str:
    fd = rows[rows["tolerance"] == FD]
    if fd.empty:
        return ""
    from . import oracle
    table = []
    for layer, d in fd.groupby("layer", sort=False):
        w = _worst(d)
        table.append((f"`{layer}`", d["case"].nunique(), len(d), f"{w['tol_ratio']:.2e}",
                      "pass" if d["passed"].astype(bool).all() else "**FAIL**"))
    doc = docs.parse_docstring(oracle.__doc__)[0]
    excluded = [(f"`{k}`", v) for k, v in getattr(oracle, "EXCLUDED", {}).items()]
    out = ["## Finite-difference oracle", "", docs.one_line(doc), "",
           f"Central differences with h = {oracle.H:g}, rtol {oracle.RTOL:g}; the derivation of "
           "the tolerance is in [compare/oracle.py](../compare/oracle.py). "
           + getattr(oracle, "NOT_CHECKED", ""), "",
           _table(["layer", "cases", "gradients checked", "worst fraction of tolerance",
                   "result"], table)]
    if excluded:
        out += ["", "Excluded cases and why:", "", _table(["case", "reason"], excluded)]
    return "\n".join(out)


def undocumented(rows: pd.DataFrame) -> str:
    seen = set(rows["layer"])
    rest = [(n, c) for n, c in sorted(docs.public_classes().items()) if n not in seen]
    if not rest:
        return ""
    table = [(f"`{n}`", docs.one_line(docs.layer_doc(c).summary, True)) for n, c in rest]
    return "\n".join(["## Everything else in npimpl", "",
                      "Classes exercised through the cases above rather than by their own:", "",
                      _table(["class", "what it is"], table)])


def claims_section(run) -> str:
    verdicts = getattr(run, "claims", [])
    if not verdicts:
        return ""
    held = sum(v.passed for v in verdicts)
    rows = [(f"`{v.claim.layer}`", docs.one_line(v.claim.text, True),
             docs.one_line(v.value, True), "✓" if v.passed else "**✗ FAILED**")
            for v in verdicts]
    return "\n".join(["## Claims checked", "",
                      f"Every measurable \"What torch hides\" sentence has a check in "
                      f"`compare/claims/` that runs torch (and npimpl) and measures it: "
                      f"{held} of {len(verdicts)} hold in this run. A claim that fails "
                      "fails `lockstep report`, as a deviation does.", "",
                      _table(["class", "claim", "measured", "holds"], rows)])


def contents(text: str) -> str:
    """A table of contents of the ``##`` sections, each family listing its ``###`` layers,
    linked by GitHub's heading anchors (a repeated heading gets ``-1``, ``-2`` …)."""
    seen: dict = {}
    out, current = [], None
    for line in text.splitlines():
        level = 2 if line.startswith("## ") else 3 if line.startswith("### ") else 0
        if not level:
            continue
        title = line[level + 1:].strip()
        slug = _anchor(title)
        n = seen.get(slug, 0)
        seen[slug] = n + 1
        link = f"[{title}](#{slug}{f'-{n}' if n else ''})"
        if level == 2:
            current = [f"- {link}"]
            out.append(current)
        elif current is not None:
            current.append(link)
    lines = [c[0] + (": " + " · ".join(c[1:]) if len(c) > 1 else "") for c in out]
    return "## Contents\n\n" + "\n".join(lines)


def render(run, out_dir: str) -> str:
    rows = run.rows
    body = "\n".join([
        summary(run, rows, out_dir), "",
        article_section(run, rows), "",
        families(run, rows, out_dir), "",
        trajectories(run), "",
        explainer(run, rows), "",
        claims_section(run), "",
        mutant_section(run), "",
        oracle_section(rows), "",
        init_section(rows), "",
        badinput_section(run), "",
        undocumented(rows), ""])
    parts = ["# lockstep report", "",
             "NumPy layers run in lockstep with their `torch.nn` twins on shared weights. "
             "Every forward output, input gradient, parameter gradient, buffer and optimizer "
             "step is compared. Per compared tensor: `max_abs` = max |numpy − torch|; "
             "`max_rel` = max |numpy − torch| / max |torch|, relative to the "
             "largest magnitude in torch's tensor (so an exact zero in it cannot blow the "
             "figure up; 0 when both are all zero, inf when only torch's is); `tol_ratio` = "
             "max |numpy − torch| / (atol + rtol |torch|), element-wise: a row "
             "passes when `tol_ratio` ≤ 1, and every table shows it. The same layers as an "
             "HTML book, with derivations, code and worked examples: "
             "[book/index.html](book/index.html). Generated by `lockstep report`.", "",
             contents(body), "", body]
    text = "\n".join(parts)
    while "\n\n\n" in text:
        text = text.replace("\n\n\n", "\n\n")
    return text
