"""The bad-input matrix: every public npimpl class either matches torch on an odd input or
refuses it with a clear error; and the matrix itself can tell a bad layer from a good one."""
import functools

import numpy as np
import pytest

import npimpl
from compare.badinput import NOT_LAYERS, TABLE, Entry, counts, matrix, public_classes, run_variant, table
from compare.badinput_optim import OPTIMIZER_VARIANTS, optimizer_names
from reference import Spec


def test_every_public_class_is_covered():
    missing = [n for n in public_classes() if n not in table()]
    assert not missing, f"add these to compare.badinput.TABLE: {missing}"
    assert set(NOT_LAYERS) <= set(npimpl.__all__)


@functools.lru_cache(maxsize=1)
def _matrix():
    return matrix()


@pytest.mark.parametrize("name", sorted(table()), ids=str)
def test_no_cell_fails(name):
    rows = [r for r in _matrix() if r["cls"] == name]
    assert len(rows) >= 15
    bad = [f"{r['variant']}: {r['outcome']}: {r['detail']}" for r in rows
           if r["outcome"].startswith("FAIL")]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("name", optimizer_names(), ids=str)
def test_no_optimizer_cell_fails(name):
    rows = [r for r in _matrix() if r["cls"] == f"optim.{name}"]
    assert len(rows) == len(OPTIMIZER_VARIANTS)
    bad = [f"{r['variant']}: {r['outcome']}: {r['detail']}" for r in rows
           if r["outcome"].startswith("FAIL")]
    assert not bad, "\n".join(bad)


def test_matrix_counts_add_up():
    rows = _matrix()
    c = counts(rows)
    assert sum(c.values()) == len(rows)
    assert c["matches torch"] > 0 and c["clear error"] > 0


class BroadcastingMSELoss(npimpl.MSELoss):
    """MSELoss without its shape check: a (3, 4) input and a (4,) target broadcast."""

    def _target(self, target, x):
        return target                       # the shape check left out


class AttributeErrorLinear(npimpl.Linear):
    """Linear with no input check: a Python list dies inside NumPy with an AttributeError."""

    def forward(self, input):
        self._cache = None
        return input.reshape(-1, self.in_features) @ self.weight.data.T


def test_a_silent_broadcast_is_a_fail(monkeypatch):
    monkeypatch.setattr(npimpl, "MSELoss", BroadcastingMSELoss)
    x = np.random.default_rng(0).standard_normal((3, 4))
    row = run_variant("MSELoss", Entry(Spec("MSELoss"), (3, 4)), "target wrong rank",
                      [x, x[0]])
    assert row["outcome"] == "FAIL: silent broadcast", row


def test_an_error_from_inside_numpy_is_a_fail(monkeypatch):
    monkeypatch.setattr(npimpl, "Linear", AttributeErrorLinear)
    row = run_variant("Linear", TABLE["Linear"], "Python list", [[[1.0] * 4] * 2])
    assert row["outcome"] == "FAIL: unclear error" and "AttributeError" in row["detail"]
