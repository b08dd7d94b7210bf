"""The bugs issue 22 named (compare/selftest/named.toml), planted in today's npimpl: every
one must be killed by the units named for it, and the planting must leave nothing behind."""
import warnings

import pytest

from compare.selftest import named


def test_every_bug_the_issue_named_is_killed_by_its_units():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        results = named.check()
    assert len(results) >= 26
    missed = [(r.named.file, r.named.where, r.named.issue, r.verdict, r.detail[:100])
              for r in results if r.verdict != "killed"]
    assert not missed, missed


def test_a_change_that_no_longer_applies_is_stale_not_passed():
    n = named.Named("x", "npimpl/linear.py", "Linear.reset_parameters",
                    "bound = 2.0 / math.sqrt(self.in_features)", "bound = 0", ("init:Linear",))
    (r,) = named.check([n], units=[])
    assert r.verdict == "stale" and "occurs 0 times" in r.detail
    with pytest.raises(ValueError, match="same number of lines"):
        named.mutated_source(named.Named("x", n.file, n.where, "bound", "a\nb", ()))


def test_planting_changes_the_running_code_and_restores_it():
    import npimpl
    entry = next(e for e in named.load() if e.where == "Linear.reset_parameters")
    lin = npimpl.Linear(400, 3)
    before = npimpl.Linear.reset_parameters.__code__
    with named.planted(entry):
        lin.reset_parameters()
        assert abs(lin.weight.data).max() > 1.0           # bound sqrt(400) = 20, not 1/20
    assert npimpl.Linear.reset_parameters.__code__ is before
    lin.reset_parameters()
    assert abs(lin.weight.data).max() <= 1 / 20


def test_planting_a_default_argument_restores_it():
    import npimpl
    entry = next(e for e in named.load() if e.where == "_DropoutNd.__init__")
    with named.planted(entry):
        assert npimpl.Dropout().p == 0.25
    assert npimpl.Dropout().p == 0.5
