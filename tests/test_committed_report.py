"""The committed report is a product: its links resolve, it names every npimpl class, every
number of its summary is what its CSVs say, and its rows are what `lockstep report`
produces today (a seeded sample of the catalogue is run again and diffed row by row).

The full report takes minutes, too long for the suite: the summary is checked against the
committed CSVs in full, the CSV rows against a fresh run for every case whose name hashes
into :data:`SAMPLE` (a twentieth of the single-step cases; ~2 s). ``LOCKSTEP_REPORT_DIR`` points
the tests at another report folder (a fresh ``lockstep report --out DIR``).
"""
import os
import re
import zlib

import pandas as pd
import pytest

from compare import docs
from compare.catalogue import all_cases
from compare.engine import Case, run
from compare.io import write_csv
from compare.oracle import NAME as FD, UNCHECKED, fd_rows
from compare.torchoff import TORCH_OFF

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DIR = os.environ.get("LOCKSTEP_REPORT_DIR", os.path.join(ROOT, "reports"))
REPORT = os.path.join(DIR, "deviations.md")
#: a case is re-run when crc32(name) % SAMPLE[0] == SAMPLE[1]
SAMPLE = (20, 3)
INIT = "init-ks"


def _read(name):
    path = os.path.join(DIR, name)
    if not os.path.exists(path):
        pytest.fail(f"{path} is missing: run `lockstep report` and commit it")
    if name.endswith(".csv"):
        return pd.read_csv(path, dtype=str, keep_default_na=False)
    return open(path, encoding="utf-8").read()


@pytest.fixture(scope="module")
def text():
    return _read("deviations.md")


@pytest.fixture(scope="module")
def csv():
    return _read("deviations.csv")


def test_every_link_and_image_resolves(text):
    targets = re.findall(r"\]\(([^)#\s]+)(?:#L\d+)?\)", text)
    assert len(targets) > 10
    # a link resolves from the report's folder (or, into the repository, from reports/)
    missing = [t for t in targets if not t.startswith("http") and not any(
        os.path.exists(os.path.normpath(os.path.join(d, t)))
        for d in (DIR, os.path.join(ROOT, "reports")))]
    assert not missing


def test_every_public_npimpl_class_appears(text):
    absent = [n for n in docs.public_classes() if f"`{n}`" not in text and f"### {n}" not in text]
    assert not absent, f"not in reports/deviations.md: {absent} (rerun `lockstep report`)"


def test_source_links_point_at_the_class(text):
    for path, line in re.findall(r"\]\(\.\./(npimpl/[\w/]+\.py)#L(\d+)\)", text):
        src = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
        assert src[int(line) - 1].lstrip().startswith("class "), (path, line)


def test_the_readme_quotes_this_summary(text):
    """README's "From its summary" block is copied from this report: regenerate both."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    quoted = [q[2:] for q in readme.splitlines() if q.startswith("> | **")]
    assert quoted
    stale = [q for q in quoted if q not in text.splitlines()]
    assert not stale, f"README quotes lines the committed report no longer has: {stale}"


# --- the summary says what the CSVs say ---------------------------------------------------------
def summary_cells(md: str) -> dict:
    """``{key: value}`` of the summary table (``| **key** | value |``)."""
    part = md.split("## Summary", 1)[1].split("\n## ", 1)[0]
    return dict(re.findall(r"^\| \*\*(.+?)\*\* \| (.*) \|$", part, re.M))


def section(md: str, title: str) -> str:
    return md.split(f"\n## {title}\n", 1)[1].split("\n## ", 1)[0] if f"\n## {title}\n" in md \
        else ""


def _int(pattern, text):
    m = re.search(pattern, text)
    return None if m is None else int(m.group(1))


def summary_problems(md: str, dev: pd.DataFrame, traj: pd.DataFrame,
                     mutation: pd.DataFrame | None = None) -> list:
    """Every number of the summary that its CSVs (and its own tables) contradict."""
    cells, out = summary_cells(md), []
    engine = dev[~dev["tolerance"].isin([FD, INIT])]
    passed = engine["passed"] == "True"

    def expect(key, pattern, value):
        got = _int(pattern, cells.get(key, ""))
        if got != value:
            out.append(f"{key}: the summary says {got}, the CSVs say {value}")

    n_traj = traj["case"].nunique()
    expect("cases", r"^(\d+) \(", engine["case"].nunique())
    expect("cases", r"\((\d+) single-step", engine["case"].nunique() - n_traj)
    expect("cases", r"(\d+) trajectories", n_traj)
    expect("quantities compared", r"^(\d+) rows", len(dev))
    for dt in ("float64", "float32"):
        # the torch-off rows (a reference64 in place of torch) have their own line
        d = engine[(engine["dtype"] == dt) & (~engine["kind"].isin(["error", "init"]))
                   & (engine["tolerance"] != TORCH_OFF)]
        if d.empty:
            continue
        w = d.loc[d["tol_ratio"].astype(float).idxmax()]
        cell = next((v for k, v in cells.items() if k.startswith(f"worst {dt}")), "")
        if f"`{w['case']}` {w['quantity']}" not in cell:
            out.append(f"worst {dt}: the CSV's worst row is {w['case']} {w['quantity']}")
    fails = cells.get("failures", "")
    if passed.all() != (fails == "**none**"):
        out.append(f"failures: the summary says {fails!r}, the CSV has {(~passed).sum()} failed "
                   "rows")
    elif not passed.all():
        expect("failures", r"^\*\*(\d+)\*\*", int((~passed).sum()))
    fd = dev[dev["tolerance"] == FD]
    if not fd.empty:
        checked = fd[fd["kind"] != UNCHECKED]
        expect("finite-difference oracle", r"^(\d+) gradients", len(checked))
        expect("finite-difference oracle", r"gradients of (\d+) cases", checked["case"].nunique())
        if (fd["passed"] == "True").all() != ("all agree" in cells.get("finite-difference "
                                                                      "oracle", "")):
            out.append("finite-difference oracle: 'all agree' contradicts the CSV")
    init = dev[dev["tolerance"] == INIT]
    if not init.empty:
        expect("default initialisation", r"^(\d+) parameters", len(init))
    gallery = section(md, "The mutant gallery")
    rows = [r for r in gallery.splitlines() if r.startswith("| `")]
    expect("mutation score", r"^(\d+)/", sum("| flagged |" in r for r in rows))
    expect("mutation score", r"/(\d+) mutants", len(rows))
    bad = section(md, "Bad-input matrix")
    table = [r.strip("|").split("|") for r in bad.splitlines() if r.startswith("| ")]
    if table:
        header = [h.strip() for h in table[0]]
        sums = {h: sum(int(r[i]) for r in table[1:] if r[i].strip().isdigit())
                for i, h in enumerate(header) if i}
        cell = cells.get("bad-input matrix", "")
        expect("bad-input matrix", r"^(\d+) inputs", sum(sums.values()))
        for h, n in sums.items():
            expect("bad-input matrix", rf"(\d+) {re.escape(h)}(?=,|$)", n)
        if not cell:
            out.append("bad-input matrix: no summary line")
    if mutation is not None:
        from compare.selftest.mutation_report import score
        s = score(mutation)
        expect("systematic mutation", r"^(\d+)/", s["killed"])
        expect("systematic mutation", r"/(\d+) non-equivalent", s["run"] - s["equivalent"])
    return out


def _mutation():
    path = os.path.join(DIR, "mutation.csv")
    return pd.read_csv(path, dtype=str, keep_default_na=False) if os.path.exists(path) else None


def test_the_summary_is_what_the_csvs_say(text, csv):
    problems = summary_problems(text, csv, _read("trajectories.csv"), _mutation())
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("tamper", ["999 cases", "17 failed", "3/21 mutants",
                                    "rows set to failed", "oracle count", "bad-input count"])
def test_a_tampered_report_is_caught(text, csv, tamper):
    """The checks above can fail: each tampering the issue tried is caught."""
    md, dev = text, csv.copy()
    cells = summary_cells(md)
    if tamper == "999 cases":
        md = md.replace(f"| **cases** | {cells['cases']}",
                        "| **cases** | 999" + cells["cases"][cells["cases"].index(" ("):])
    elif tamper == "17 failed":
        md = md.replace("| **failures** | **none** |", "| **failures** | **17**: `x` |")
    elif tamper == "3/21 mutants":
        md = re.sub(r"\| \*\*mutation score\*\* \| \d+/", "| **mutation score** | 3/", md)
    elif tamper == "rows set to failed":
        dev.loc[dev.index[:199], "passed"] = "False"
    elif tamper == "oracle count":
        md = re.sub(r"(\| \*\*finite-difference oracle\*\* \| )\d+", r"\g<1>12345", md)
    else:
        md = re.sub(r"(\| \*\*bad-input matrix\*\* \| )\d+", r"\g<1>12345", md)
    assert md != text or not dev.equals(csv), "the tampering did not apply"
    assert summary_problems(md, dev, _read("trajectories.csv"), _mutation())


# --- the rows are what the code produces today ----------------------------------------------------
def sampled_cases() -> list:
    return [c for c in all_cases() if isinstance(c, Case) and not hasattr(c, "run")
            and zlib.crc32(c.name.encode()) % SAMPLE[0] == SAMPLE[1]]


def fresh_rows(cases, tmp_path) -> pd.DataFrame:
    """What `lockstep report` writes for ``cases`` (seed 0), through the same CSV writer."""
    import dataclasses

    from compare.report import ROW_COLUMNS
    rows = [r for c in cases for dt in c.dtypes for r in run(c, dt, 0).rows] + fd_rows(cases, 0)
    path = os.path.join(tmp_path, "sample.csv")
    write_csv(path, pd.DataFrame([dataclasses.asdict(r) for r in rows], columns=ROW_COLUMNS))
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def test_the_committed_rows_are_what_the_code_produces(csv, tmp_path):
    cases = sampled_cases()
    assert len(cases) >= 20
    names = {c.name for c in cases}
    missing = sorted(names - set(csv["case"]))
    assert not missing, f"cases the committed report lacks (rerun `lockstep report`): {missing}"
    fresh = fresh_rows(cases, str(tmp_path))
    old = csv[csv["case"].isin(names)].reset_index(drop=True)
    key = ["case", "dtype", "quantity"]
    merged = old.merge(fresh, on=key, how="outer", suffixes=("_committed", "_now"),
                       indicator=True)
    only = merged[merged["_merge"] != "both"]
    assert only.empty, f"rows in one but not the other:\n{only[key + ['_merge']]}"
    diffs = [f"{r['case']} [{r['dtype']}] {r['quantity']}: {c} {r[c + '_committed']} -> "
             f"{r[c + '_now']}" for _, r in merged.iterrows()
             for c in fresh.columns if c not in key and r[c + "_committed"] != r[c + "_now"]]
    assert not diffs, "\n".join(diffs[:30])
