"""The finite-difference oracle: every npimpl gradient is the derivative of its own forward,
checked without torch, and the oracle itself fails on a wrong gradient."""
import numpy as np
import pytest

import npimpl
from compare.catalogue import all_cases
from compare.engine import Case
from compare.gen import args, normal
from compare.mutants import MUTANTS, article_linear_case
from compare.oracle import EXCLUDED, RTOL, UNCHECKED, fd_case, fd_rows
from reference import Spec, build

CASES = [c for c in all_cases() if isinstance(c, Case) and not hasattr(c, "run")]


def _failures(rows):
    return [f"{r.quantity}: max_abs={r.max_abs:.3g} tol_ratio={r.tol_ratio:.3g} at "
            f"{r.worst_index} ({r.note})" for r in rows if not r.passed]


@pytest.mark.parametrize("case", [c for c in CASES if c.name not in EXCLUDED],
                         ids=lambda c: c.name)
def test_every_catalogue_case_passes_the_oracle(case):
    rows = fd_rows([case], max_per_tensor=4, budget=20)     # the report runs the full sample
    assert rows, "a case with nothing to differentiate proves nothing"
    assert all(r.tolerance == "finite-difference" and r.dtype == "float64" for r in rows)
    assert not _failures(rows), "\n".join(_failures(rows))


def test_every_excluded_name_exists_and_has_a_reason():
    names = {c.name for c in CASES}
    for name, why in EXCLUDED.items():
        assert name in names, f"stale exclusion {name}"
        assert len(why.split()) >= 8, f"{name}: an exclusion says why"


@pytest.mark.parametrize("name", sorted(EXCLUDED), ids=str)
def test_every_exclusion_is_needed(name):
    """An excluded case fails the oracle when it is checked anyway (kinks, domain edges and
    conventions are skipped element by element, so only a real disagreement justifies it)."""
    case = next(c for c in CASES if c.name == name)
    assert any(not r.passed for r in fd_case(case)), f"{name} passes: drop the exclusion"


def test_oracle_catches_the_article_linear():
    """The article's Linear returns dW where dx belongs: the oracle flags the input gradient and
    the gradients of the layer below it, not the mutant's own (correct) weight gradients."""
    rows = {r.quantity: r for r in fd_rows([article_linear_case()])}
    assert not rows["fd_grad_input"].passed and rows["fd_grad_input"].max_abs > 1e-2
    assert not rows["fd_grad_0.weight"].passed
    assert rows["fd_grad_2.weight"].passed


class SlightlyWrongTanh(npimpl.Tanh):
    """dx = dy (1 - y^2)(1 + 1e-4): a gradient off by one part in 10^4."""

    def backward(self, grad_output):
        return super().backward(grad_output) * (1 + 1e-4)


def test_oracle_catches_a_gradient_off_by_one_part_in_1e4():
    case = Case("tanh-off", "Tanh", "test", lambda dt: (SlightlyWrongTanh(), None),
                args(normal(3, 4)))
    rows = fd_case(case)
    assert len(rows) == 1 and not rows[0].passed
    assert rows[0].max_rel == pytest.approx(1e-4, rel=1e-2)


def test_kinks_are_skipped_and_counted():
    """ReLU at exact zeros: those elements are kinks, skipped; the others are checked."""
    kink = next(c for c in all_cases() if c.name == "relu-kink")
    rows = fd_case(kink, max_per_tensor=28)
    assert len(rows) == 1 and rows[0].passed
    assert "kink(s) or domain edge(s) skipped" in rows[0].note


def test_tolerance_holds_the_truncation_error_of_a_smooth_function():
    """exp(x) at x = 3: the central difference's truncation and rounding errors stay inside
    the tolerance (the derivation in the module docstring), and a relative error of ten
    times RTOL does not."""
    x = np.full((1, 1), 3.0)

    def rows(factor):
        class Exp(npimpl.Tanh):
            def forward(self, input):
                self._cache = np.exp(input)
                return self._cache.copy()

            def backward(self, grad_output):
                return grad_output * self._cache * factor
        return fd_case(Case("exp", "Tanh", "test", lambda dt: (Exp(), None),
                            lambda r, dt: (x.copy(),), grad=lambda r, o: np.ones_like(o)))

    (exact,) = rows(1.0)
    assert exact.passed and exact.kind == "fd_grad_input", exact
    (off,) = rows(1 + 10 * RTOL)
    assert not off.passed, off


def test_nan_outputs_do_not_hide_a_wrong_gradient(monkeypatch):
    """maxpool2d-nan has NaN inputs, so some outputs are NaN: the finite ones are still
    differentiated (a NaN made every difference NaN, and a NaN ratio never failed), so
    a backward returning 3 g + 1 fails."""
    case = next(c for c in all_cases() if c.name == "maxpool2d-nan")
    good = fd_case(case)
    assert good and all(r.passed and r.kind != UNCHECKED for r in good), good
    assert "non-finite input element(s) skipped" in good[0].note
    real = npimpl.MaxPool2d.backward
    monkeypatch.setattr(npimpl.MaxPool2d, "backward",
                        lambda self, *g: 3 * real(self, *g) + 1)
    assert any(not r.passed for r in fd_case(case))


def test_a_nan_gradient_of_a_finite_forward_is_a_mismatch():
    class NaNTanh(npimpl.Tanh):
        def backward(self, grad_output):
            g = super().backward(grad_output)
            g[...] = np.nan
            return g

    (row,) = fd_case(Case("tanh-nan", "Tanh", "test", lambda dt: (NaNTanh(), None),
                          args(normal(2, 3))))
    assert not row.passed and row.tol_ratio == np.inf


@pytest.mark.parametrize("name", ["crossentropy-all-ignored", "nll-zero-total-weight"])
def test_a_case_with_no_finite_output_checks_nothing_and_says_so(name):
    case = next(c for c in all_cases() if c.name == name)
    rows = fd_case(case)
    assert rows and all(r.kind == UNCHECKED and r.note.startswith("nothing compared")
                        for r in rows), rows


def test_a_row_whose_elements_are_all_skipped_is_unchecked():
    """Every element a kink: the row compared nothing and is not a passing check."""
    rows = fd_case(Case("relu-zeros", "ReLU", "test", lambda dt: build(Spec("ReLU"), dt),
                        lambda r, dt: (np.zeros((2, 3), dt),)))
    assert rows[0].kind == UNCHECKED and "0 of 6 elements compared" in rows[0].note


def test_rows_do_not_depend_on_what_ran_before():
    """A case whose weights torch draws (the norm family's randomize_) gets the engine's
    weights: the oracle seeds torch as the engine does, so the report is reproducible."""
    import torch
    case = next(c for c in CASES if c.name == "batchnorm3d-5d-nobias-train")
    first = fd_case(case)
    torch.rand(7)                                   # anything else that used torch's stream
    assert fd_case(case) == first


def test_dropout_mask_is_the_same_in_every_evaluation():
    """Dropout draws a fresh mask per forward; the oracle restores its rng, so the function
    differentiated is one fixed mask (otherwise this row would fail by O(1))."""
    case = Case("dropout-fd", "Dropout", "test", lambda dt: build(Spec("Dropout", 0.5), dt),
                args(normal(4, 6)))
    rows = fd_case(case)
    assert rows[0].passed and rows[0].max_abs < 1e-6


def test_trajectories_and_mutant_cases_run_or_are_skipped():
    trajectories = [c for c in all_cases() if not isinstance(c, Case)]
    assert fd_rows(trajectories) == []
    assert len(fd_rows([m.case for m in MUTANTS[:1]])) > 0


#: mutants whose backward is not the derivative of their forward: the oracle alone catches them
BACKWARD_BUGS = {"article-linear-returns-dW", "article-fused-missing-1/N",
                 "sigmoid-derivative-of-input", "logsoftmax-backward-no-sum",
                 "mse-gradient-without-2", "layernorm-eps-outside-sqrt"}
#: mutants that are self-consistent (a wrong forward with its exact derivative, a convention):
#: only the comparison with torch catches them
CONSISTENT = {"article-softmax-no-max-shift", "article-ce-class-average",
              "nll-mean-over-N-with-ignored", "lstm-gate-order", "gru-reset-before-matmul",
              "conv-same-symmetric-even-kernel", "relu-slope-1-at-0",
              "embedding-padding-gets-gradient"}


@pytest.mark.parametrize("mutant", [m for m in MUTANTS if m.name in BACKWARD_BUGS | CONSISTENT],
                         ids=lambda m: m.name)
def test_oracle_and_torch_comparison_are_complementary(mutant):
    """The oracle flags exactly the mutants whose backward is wrong for their own forward."""
    rows = fd_rows([mutant.case])
    assert all(r.quantity != "fd_error" for r in rows), rows
    assert (not all(r.passed for r in rows)) == (mutant.name in BACKWARD_BUGS)
