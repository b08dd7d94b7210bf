"""The bad-input matrix: every public npimpl class either matches torch on an odd input or
refuses it with a clear error; and the matrix itself can tell a bad layer from a good one."""
import functools

import numpy as np
import pytest

import npimpl
from compare.badinput import (NOT_LAYERS, TABLE, Entry, counts, matrix, public_classes,
                              run_variant, table)
from compare.badinput_optim import OPTIMIZER_VARIANTS, optimizer_names
from compare.badinput_verdict import TORCH_ACCEPTS
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
    from compare.badinput_optim import constructor_kwargs
    # the variants, its constructor's odd arguments and its signature
    assert len(rows) == len(OPTIMIZER_VARIANTS) + len(constructor_kwargs(name)) + 1
    bad = [f"{r['variant']}: {r['outcome']}: {r['detail']}" for r in rows
           if r["outcome"].startswith("FAIL")]
    assert not bad, "\n".join(bad)


def test_a_refusal_of_what_torch_accepts_is_counted_apart():
    """npimpl refuses integer arrays everywhere; torch runs ReLU on them but not Linear: the
    first is a clear error torch does not make, the second one it makes too."""
    x = np.arange(8).reshape(2, 4)
    relu = run_variant("ReLU", TABLE["ReLU"], "int64 array", [x])
    linear = run_variant("Linear", TABLE["Linear"], "int64 array", [x])
    assert relu["outcome"] == TORCH_ACCEPTS, relu
    assert linear["outcome"] == "clear error", linear
    assert counts([relu, linear]) == {TORCH_ACCEPTS: 1, "clear error": 1}


@pytest.mark.parametrize("variant", ["negative index", "index too large"])
def test_an_out_of_range_index_is_refused_as_torch_refuses_it(variant):
    row = next(r for r in _matrix() if r["cls"] == "Embedding" and r["variant"] == variant)
    assert row["outcome"] == "clear error" and "IndexError" in row["detail"], row


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


def test_a_changed_default_is_caught_by_the_signature_cell(monkeypatch):
    """No case leaves Dropout's p out, but torch's default is part of the API."""
    import torch
    from compare.badinput import signature_cell
    assert signature_cell("Dropout", npimpl.Dropout, torch.nn.Dropout)["outcome"] == \
        "matches torch"
    init = npimpl.Dropout.__mro__[1].__init__
    monkeypatch.setattr(init, "__defaults__", (0.4,) + init.__defaults__[1:])
    row = signature_cell("Dropout", npimpl.Dropout, torch.nn.Dropout)
    assert row["outcome"] == "FAIL: differs from torch" and "p=0.4" in row["detail"], row


def test_constructor_odd_arguments_torch_refuses_are_refused_clearly():
    from compare.badinput import constructor_cells
    rows = {r["variant"]: r for r in constructor_cells("Dropout", TABLE["Dropout"])}
    assert rows["constructor arg 0 = 2.0"]["outcome"] == "clear error", rows
    assert rows["constructor arg 0 = -1.0"]["outcome"] == "clear error", rows


def test_schedulers_methods_and_functions_match_torch():
    """The schedulers' odd constructor arguments, and the signatures of what has no class
    entry (schedulers, clipping functions, Module's and Optimizer's methods)."""
    from compare.badinput import signature_rows
    from compare.badinput_optim import SCHEDULER_ARGS, scheduler_cells
    rows = [c for n in SCHEDULER_ARGS for c in scheduler_cells(n)] + signature_rows()
    assert len(rows) > 50
    bad = [f"{r['cls']} {r['variant']}: {r['outcome']}: {r['detail']}" for r in rows
           if r["outcome"].startswith("FAIL")]
    assert not bad, "\n".join(bad)
