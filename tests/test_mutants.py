"""The mutant gallery: the engine flags every planted bug, and only the bug.

Each mutant runs against the correct torch twin and must fail; its control (the same case
with the real npimpl class in the mutant's place) must pass, which shows that the failure
comes from the planted bug and not from the case.
"""
import pytest

from compare.engine import run
from compare.mutants import all_mutants, mutation_score

MUTANTS = all_mutants()

IDS = [m.name for m in MUTANTS]


def test_gallery_has_at_least_15_unique_mutants():
    assert len(set(IDS)) == len(IDS)
    assert len(MUTANTS) >= 15, f"only {len(MUTANTS)} mutants: {IDS}"


@pytest.mark.parametrize("mutant", MUTANTS, ids=IDS)
def test_mutant_is_flagged(mutant):
    results = [run(mutant.case, dt) for dt in mutant.case.dtypes]
    assert any(not r.passed for r in results), f"{mutant.name} survived: {mutant.bug}"
    # a mutant is flagged by a value comparison, or (symmetric 'same' padding) by an output
    # of the wrong shape; never by an unrelated crash
    assert all(r.error is None or "shape" in r.error for r in results), \
        [r.traceback for r in results]


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.control is not None],
                         ids=[m.name for m in MUTANTS if m.control is not None])
def test_control_passes(mutant):
    for dt in mutant.control.dtypes:
        res = run(mutant.control, dt)
        assert res.passed, [(r.quantity, r.max_abs, r.note) for r in res.rows if not r.passed]


def test_every_mutant_has_a_control_and_a_bug_line():
    for m in MUTANTS:
        assert m.control is not None, m.name
        assert len(m.bug) > 30 and m.origin in ("article", "classic")


def test_mutation_score_reports_each_mutant_once():
    results = mutation_score()
    assert [m.name for m, _, _ in results] == IDS
    assert all(caught for _, caught, _ in results)


# --- lockstep mutate: systematic first-order mutation ------------------------------------------
import os  # noqa: E402

import numpy as np  # noqa: E402

import npimpl  # noqa: E402
from compare.catalogue import select  # noqa: E402
from compare.selftest import mutagen, mutate, patching  # noqa: E402
from compare.selftest.mutation_report import frame, score, write  # noqa: E402
from compare.selftest.units import build_units, measure  # noqa: E402

SRC = '''"""A module."""
import warnings

import numpy as np

EPS = 1e-5


def f(x, axis=0):
    """Sum, shift, clip."""
    if x.ndim != 2:
        raise ValueError(f"f: expected 2-D, got {x.ndim}-D")
    if x.ndim == 3:
        warnings.warn("f: three dims")
    y = x.sum(axis=axis) + EPS
    y += 1
    return np.maximum(np.where(y > 0, y, -y), 0)


class A:
    k = 2

    def extra_repr(self):
        return f"k={self.k + 1}"

    def g(self, a, b):
        return a / b
'''


def test_generator_mutates_maths_and_nothing_else(tmp_path):
    (tmp_path / "m.py").write_text(SRC)
    ms = mutagen.generate(str(tmp_path), "m.py")
    got = {(m.op, m.before, m.after, m.scope) for m in ms}
    for expected in [("const", "1e-05", "1.00001", "assign"), ("const", "0", "1", "defaults"),
                     ("compare", "x.ndim != 2", "x.ndim == 2", "function"),
                     ("call", "x.sum(axis=axis)", "x.mean(axis=axis)", "function"),
                     ("axis", "x.sum(axis=axis)", "x.sum()", "function"),
                     ("arith", "x.sum(axis=axis) + EPS", "x.sum(axis=axis) - EPS", "function"),
                     ("augassign", "y += 1", "y -= 1", "function"),
                     ("augassign", "y += 1", "y = 1", "function"),
                     ("delete", "y += 1", "(deleted)", "function"),
                     ("swap", "np.where(y > 0, y, -y)", "np.where(y > 0, -y, y)", "function"),
                     ("call", "np.maximum(np.where(y > 0, y, -y), 0)",
                      "np.minimum(np.where(y > 0, y, -y), 0)", "function"),
                     ("unary", "-y", "y", "function"), ("const", "2", "3", "assign"),
                     ("arith", "a / b", "a * b", "function"), ("swap", "", "", "")][:-1]:
        assert expected in got, expected
    lines = {m.line for m in ms}
    text = SRC.splitlines()
    # never: the docstrings, the raise, the warning-only if, the text-only method
    for i, line in enumerate(text, 1):
        if any(k in line for k in ('"""', "raise", "warn", "x.ndim == 3", "k={self.k")):
            assert i not in lines, line
    # np.maximum(a, b) commutes: its arguments are not swapped
    assert not any(m.op == "swap" and m.before.startswith("np.maximum") for m in ms)
    # the walk is deterministic and every mutant compiles
    assert [m.id for m in mutagen.generate(str(tmp_path), "m.py")] == [m.id for m in ms]
    for m in ms:
        compile(mutagen.site_tree(str(tmp_path / "m.py"), m.index), "m.py", "exec")


def _mutant(file, before, after):
    return next(m for m in mutagen.generate(patching.ROOT, file)
                if m.before == before and m.after == after)


def test_a_mutant_applied_in_process_is_live_and_then_gone():
    m = _mutant("npimpl/linear.py", "dy2.sum(axis=0)", "dy2.mean(axis=0)")
    case = next(c for c in select("linear-2d"))
    assert run(case, "float64").passed
    with patching.applied(m):
        assert not run(case, "float64").passed
    assert run(case, "float64").passed
    d = _mutant("npimpl/dropout.py", "False", "True")         # a default argument
    with patching.applied(d):
        assert npimpl.Dropout().inplace is True
    assert npimpl.Dropout().inplace is False
    a = _mutant("npimpl/bce.py", "-100.0", "100.0")           # a module-level constant
    with patching.applied(a):
        assert npimpl.bce.LOG_FLOOR == 100.0
    assert npimpl.bce.LOG_FLOOR == -100.0


def test_a_run_scores_kills_and_survivors_and_writes_its_reports(tmp_path):
    units = build_units(kinds=("case",), cases=select("linear-2d,linear-nobias"))
    outcomes, info = mutate.run(["npimpl/linear.py"], per_file=12, seed=1, fresh=False,
                                progress=False, units=units)
    verdicts = {o.verdict for o in outcomes}
    assert len(outcomes) == 12 and "killed" in verdicts
    # two Linear cases cannot see a wrong initialisation: survivors, so the command fails
    assert mutate.unexplained(outcomes) and verdicts <= {"killed", "timeout", "survived",
                                                         "not executed", "equivalent"}
    s = score(frame(outcomes))
    assert s["killed"] == sum(o.killed for o in outcomes) and 0 < s["score"] < 1
    write(outcomes, info, str(tmp_path))
    df = frame(outcomes)
    assert set(df["verdict"]) == verdicts
    assert (df.loc[df["verdict"] == "killed", "killer"].str.startswith("case:linear")).all()
    assert "non-equivalent mutants killed" in (tmp_path / "mutation.md").read_text()


def test_the_fresh_process_imports_the_mutated_file():
    """What the fresh re-check relies on: with the hook installed before npimpl is imported,
    the mutated source is what Python loads, import-time effects included (a module constant
    bound into another module's namespace)."""
    import json
    import subprocess
    import sys
    m = _mutant("npimpl/bce.py", "-100.0", "100.0")
    code = ("import json, sys; from compare.selftest import mutagen, patching; "
            "m = mutagen.Mutant(**json.loads(sys.argv[1])); patching.install_import_hook(m); "
            "import npimpl.bce; print(npimpl.bce.LOG_FLOOR)")
    fields = {k: getattr(m, k) for k in m.__dataclass_fields__}
    out = subprocess.run([sys.executable, "-c", code, json.dumps(fields)], capture_output=True,
                         text=True, cwd=patching.ROOT, timeout=120,
                         env={**os.environ, "PYTHONPATH": patching.ROOT})
    assert out.stdout.strip() == "100.0", out.stderr
    with pytest.raises(RuntimeError, match="already imported"):
        patching.install_import_hook(m)


def test_every_equivalent_entry_names_a_mutant_and_says_why():
    entries = mutate.load_equivalents()
    by_file = {}
    for e in entries:
        ms = by_file.setdefault(e["file"], mutagen.generate(patching.ROOT, e["file"]))
        assert any(mutate.equivalence(m, [e]) for m in ms), f"stale entry: {e}"
        assert len(e["reason"].split()) >= 8, f"a reason says why no input can tell: {e}"


def test_per_file_samples_depend_on_the_seed_and_the_file_only():
    ms = mutagen.generate(patching.ROOT, "npimpl/linear.py")
    a = mutate.sample(ms, 10, seed=3)
    assert a == mutate.sample(ms, 10, seed=3) and len(a) == 10
    assert a != mutate.sample(ms, 10, seed=4)
    assert mutate.select_files("linear.py,optim/sgd.py") == ["npimpl/linear.py",
                                                              "npimpl/optim/sgd.py"]
    assert os.path.exists(mutate.EQUIVALENTS)
    assert np.isclose(score(frame([])).get("score"), 1.0)


def test_ids_names_mutants_or_an_earlier_runs_survivors(tmp_path):
    assert mutate.parse_ids(None) is None
    assert mutate.parse_ids("npimpl/linear.py#3, npimpl/conv.py#7") == {"npimpl/linear.py#3",
                                                                         "npimpl/conv.py#7"}
    csv_path = tmp_path / "mutation.csv"
    csv_path.write_text("id,verdict\nnpimpl/a.py#1,killed\nnpimpl/a.py#2,survived\n"
                        "npimpl/b.py#5,not executed\nnpimpl/b.py#6,equivalent\n")
    assert mutate.parse_ids(f"@{csv_path}") == {"npimpl/a.py#2", "npimpl/b.py#5"}
