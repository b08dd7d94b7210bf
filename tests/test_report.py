"""Report files: written, reproducible byte for byte, atomic, and the markdown links resolve."""
import filecmp
import os
import re

import numpy as np
import pandas as pd
import pytest

from compare import docs
from compare.catalogue import select
from compare.report import run_all, write_reports

SMALL = "linear-2d,relu-kink,crossentropy-mean,article-toy"


@pytest.fixture(scope="module")
def two_runs(tmp_path_factory):
    outs = []
    for i in range(2):
        out = str(tmp_path_factory.mktemp(f"rep{i}"))
        # checks=False: the mutant gallery and the oracle have their own tests
        run = run_all(select(SMALL), ("float32", "float64"), seed=3, progress=False,
                      checks=False)
        write_reports(run, out)
        outs.append((out, run))
    return outs


def test_files_written_with_the_contract_columns(two_runs):
    out, run = two_runs[0]
    dev = pd.read_csv(os.path.join(out, "deviations.csv"))
    for col in ("case", "dtype", "quantity", "max_abs", "max_rel", "worst_index", "passed"):
        assert col in dev.columns
    assert set(dev["case"]) == {"linear-2d", "relu-kink", "crossentropy-mean", "article-toy"}
    traj = pd.read_csv(os.path.join(out, "trajectories.csv"))
    assert set(traj["case"]) == {"article-toy"}
    assert traj.groupby("dtype")["step"].max().to_dict() == {"float32": 499, "float64": 499}
    assert os.path.getsize(os.path.join(out, "plots", "article-toy.png")) > 1000
    assert run.ok


def test_same_seed_gives_byte_identical_csvs(two_runs):
    (a, _), (b, _) = two_runs
    for name in ("deviations.csv", "trajectories.csv"):
        assert filecmp.cmp(os.path.join(a, name), os.path.join(b, name), shallow=False), name


def test_no_temporary_files_left_behind(two_runs):
    out, _ = two_runs[0]
    leftovers = [f for _, _, fs in os.walk(out) for f in fs if f.startswith(".tmp-")]
    assert not leftovers


def test_markdown_links_and_images_resolve(two_runs):
    out, _ = two_runs[0]
    text = open(os.path.join(out, "deviations.md"), encoding="utf-8").read()
    targets = re.findall(r"\]\(([^)#\s]+)(?:#L\d+)?\)", text)
    assert targets
    missing = [t for t in targets if not os.path.exists(os.path.normpath(os.path.join(out, t)))]
    assert not missing


def test_markdown_teaches_each_layer_from_its_docstring(two_runs):
    out, _ = two_runs[0]
    text = open(os.path.join(out, "deviations.md"), encoding="utf-8").read()
    lin = docs.layer_doc(docs.find_class("Linear"))
    assert docs.one_line(lin.hides) in text and lin.backward.replace("``", "") in text
    assert "```math\n" + lin.sections["Maths"] in text
    assert "## The article's experiment" in text and "[0, 4]" in text


def _markdown(two_runs):
    return open(os.path.join(two_runs[0][0], "deviations.md"), encoding="utf-8").read()


def test_markdown_contents_link_to_existing_headings(two_runs):
    text = _markdown(two_runs)
    toc = text.split("## Contents", 1)[1].split("\n## ", 1)[0]
    anchors = re.findall(r"\]\(#([^)]+)\)", toc)
    heads = {re.sub(r"[^a-z0-9_-]", "", h.lower().replace(" ", "-"))
             for h in re.findall(r"^#{2,3} (.+)$", text, re.M)}
    assert {"summary", "core-layers", "linear", "activations", "relu"} <= set(anchors)
    assert set(anchors) <= heads


def test_markdown_tables_show_tol_ratio_and_pipes_are_escaped_only_in_tables(two_runs):
    text = _markdown(two_runs)
    tables = [ln for ln in text.splitlines() if ln.startswith("| case |")]
    assert tables and all("tol_ratio" in ln for ln in tables)
    prose = [ln for ln in text.splitlines() if not ln.startswith("|") and "\\|" in ln]
    assert not prose                                   # `\|` outside a table shows literally
    unfenced = re.sub(r"```.*?```", "", text, flags=re.S)
    assert not re.search(r"``", unfenced)              # RST code marks became markdown's


def test_max_rel_is_not_blown_up_by_exact_zeros():
    from compare.metrics import FLOAT64, deviation

    torch_side = np.array([0.0, 2.0, -4.0])
    numpy_side = np.array([1e-17, 2.0, -4.0])
    m = deviation(numpy_side, torch_side, FLOAT64)
    assert m.max_abs == 1e-17 and m.max_rel == pytest.approx(1e-17 / 4) and m.passed
    assert deviation(np.zeros(2), np.zeros(2), FLOAT64).max_rel == 0
    assert deviation(np.array([1e-300, 0.0]), np.zeros(2), FLOAT64).max_rel == np.inf


def test_docstring_parser_splits_sections():
    summary, sections = docs.parse_docstring('''``y = f(x)``.

    Args:
        a: thing.

    Backward:
        dx = dy

    What torch hides:
        a secret.
    ''')
    assert summary == "``y = f(x)``."
    assert sections == {"Args": "a: thing.", "Backward": "dx = dy",
                        "What torch hides": "a secret."}
