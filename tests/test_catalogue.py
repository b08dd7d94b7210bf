"""Every catalogue case, in every dtype it declares, agrees with torch within its tolerance.

This is the equivalence suite: one test per (case, dtype), id ``<case>-<dtype>``.
A failure prints the rows that missed, with their worst element.
"""
import pytest

from compare.catalogue import all_cases
from compare.engine import run

PARAMS = [pytest.param(c, dt, id=f"{c.name}-{dt}") for c in all_cases() for dt in c.dtypes]


@pytest.mark.parametrize("case,dtype", PARAMS)
def test_case_agrees_with_torch(case, dtype):
    res = run(case, dtype, seed=0)
    bad = [f"{r.quantity}: max_abs={r.max_abs:.3g} max_rel={r.max_rel:.3g} "
           f"tol_ratio={r.tol_ratio:.3g} at {r.worst_index} step={r.worst_step} {r.note}"
           for r in res.rows if not r.passed]
    assert res.error is None, res.traceback
    assert res.rows, "a case that compares nothing proves nothing"
    assert not bad, "\n".join(bad)
