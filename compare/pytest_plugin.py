"""The ``lockstep`` pytest fixture (installed with the package as a ``pytest11`` plugin).

A user's test file needs nothing else::

    def test_my_linear(lockstep):
        x = np.random.default_rng(0).standard_normal((5, 4))
        lockstep.assert_(MyLinear(4, 3), torch.nn.Linear(4, 3), x)

On failure pytest shows the verdict's text (the first failing quantity, its worst element,
both values, max_abs, max_rel, the tolerance), not a repr. ``lockstep.check(...)`` returns the
:class:`compare.Verdict` instead; both take :func:`compare.check`'s options.
"""
from __future__ import annotations

import pytest


class Lockstep:
    """What the ``lockstep`` fixture gives a test: :meth:`check` and :meth:`assert_`."""

    def check(self, np_module, torch_module, *inputs, **options):
        """:func:`compare.check`: the Verdict, whatever it says."""
        from .api import check
        return check(np_module, torch_module, *inputs, **options)

    def assert_(self, np_module, torch_module, *inputs, **options):
        """:func:`compare.assert_lockstep`: fails the test with the verdict's text."""
        __tracebackhide__ = True
        from .api import check
        verdict = check(np_module, torch_module, *inputs, **options)
        if not verdict.passed:
            pytest.fail(str(verdict), pytrace=False)
        return verdict


@pytest.fixture
def lockstep() -> Lockstep:
    """Compare a NumPy layer with its torch twin: ``lockstep.assert_(mine, twin, x)``."""
    return Lockstep()
