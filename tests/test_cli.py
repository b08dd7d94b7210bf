"""The command line: exit codes 0 (all agree), 1 (a deviation failed), 2 (bad usage)."""
import os
import subprocess
import sys

import numpy as np
import pytest

from compare import catalogue, cli
from compare.engine import Case
from compare.gen import args, normal
from compare.mutants import ArticleLinear
from reference import Spec, build


def test_report_exit_0_and_files(tmp_path):
    rc = cli.main(["report", "--cases", "linear-2d", "--dtypes", "float64", "--out",
                   str(tmp_path), "--no-progress"])
    assert rc == 0
    assert {"deviations.csv", "deviations.md", "trajectories.csv"} <= set(os.listdir(tmp_path))


@pytest.mark.parametrize("argv", [["report", "--cases", "no-such-case*"],
                                  ["report", "--dtypes", "float8"],
                                  ["report", "--bogus"], ["frobnicate"]],
                         ids=["unmatched-glob", "unknown-dtype", "unknown-option", "unknown-cmd"])
def test_bad_usage_exits_2(argv, tmp_path):
    assert cli.main(argv + ["--out", str(tmp_path)] if argv[0] == "report" and "--bogus" not in
                    argv else argv) == 2


def test_a_failing_case_exits_1(tmp_path, monkeypatch):
    def model(dt):
        good_np, t = build(Spec("Linear", 4, 4), dt)
        bad = ArticleLinear(4, 4, dtype=dt.type)
        bad.load_state_dict(good_np.state_dict())
        return bad, t
    bad_case = Case("bad-linear", "Linear", "core", model, args(normal(4, 4)),
                    dtypes=("float64",))
    monkeypatch.setattr(catalogue, "all_cases", lambda: [bad_case])
    rc = cli.main(["report", "--out", str(tmp_path), "--no-progress"])
    assert rc == 1


def test_python_dash_m_compare_lists_cases():
    out = subprocess.run([sys.executable, "-m", "compare", "list", "--cases", "linear-*"],
                         capture_output=True, text=True, check=True,
                         cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert "linear-2d" in out.stdout and "relu" not in out.stdout
