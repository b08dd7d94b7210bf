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
