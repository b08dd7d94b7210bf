"""The engine itself: it must flag a wrong layer, and report what it compared."""
import numpy as np
import pytest

from compare.engine import Case, run
from compare.gen import args, normal
from compare.metrics import FLOAT32, FLOAT64, deviation
from compare.mutants import ArticleLinear, article_linear_case, mutation_score
from reference import Spec, build, seq


def test_article_linear_is_flagged_by_the_engine():
    """The article's Linear (backward returns dW) inside a two-layer net fails the comparison,
    on the input gradient and on the first layer's parameter gradients."""
    res = run(article_linear_case(), "float64")
    failing = {r.quantity for r in res.rows if not r.passed}
    assert res.error is None
    assert "grad_in" in failing
    assert {"grad.0.weight", "grad.0.bias"} <= failing
    assert "out" not in failing  # the forward pass of the mutant is right


def test_same_net_without_the_mutant_passes():
    spec = seq(Spec("Linear", 4, 4), Spec("Tanh"), Spec("Linear", 4, 4))
    res = run(Case("two-linear", "Linear", "core", lambda dt: build(spec, dt),
                   args(normal(4, 4)), dtypes=("float64",)), "float64")
    assert res.passed, [r for r in res.rows if not r.passed]


def test_article_linear_with_mismatched_shapes_is_an_error_row():
    """With batch != features the article's gradient has the wrong shape: the next layer's
    check refuses it, and the engine records the crash as a failing ``error`` row."""
    spec = seq(Spec("Linear", 3, 5), Spec("Tanh"), Spec("Linear", 5, 2))

    def model(dt):
        np_seq, t_seq = build(spec, dt)
        bad = ArticleLinear(5, 2, dtype=dt.type)
        bad.load_state_dict(np_seq[2].state_dict())
        np_seq.add_module("2", bad)
        return np_seq, t_seq
    res = run(Case("shape-crash", "Linear", "mutant", model, args(normal(7, 3)),
                   dtypes=("float64",)), "float64")
    assert not res.passed
    assert res.error is not None and "grad_output must have shape (7, 5)" in res.error


def test_mutation_score_flags_every_mutant():
    results = mutation_score()
    assert results
    survivors = [m.name for m, caught, _ in results if not caught]
    assert not survivors


@pytest.mark.parametrize("tol", [FLOAT32, FLOAT64], ids=["float32", "float64"])
def test_deviation_passes_within_and_fails_beyond_tolerance(tol):
    b = np.array([1.0, -2.0, 0.0, 1e3])
    within = b + (tol.atol + tol.rtol * np.abs(b)) * 0.5
    beyond = b.copy()
    beyond[3] += (tol.atol + tol.rtol * 1e3) * 2
    assert deviation(within, b, tol).passed
    m = deviation(beyond, b, tol)
    assert not m.passed and m.worst_index == (3,)
    assert m.tol_ratio == pytest.approx(2.0)


def test_deviation_nan_and_inf_rules():
    b = np.array([np.nan, np.inf, -np.inf, 1.0])
    assert deviation(b.copy(), b, FLOAT64).passed                      # NaN where torch has NaN
    moved = np.array([1.0, np.inf, -np.inf, np.nan])
    assert not deviation(moved, b, FLOAT64).passed                     # NaN elsewhere
    flipped = np.array([np.nan, -np.inf, -np.inf, 1.0])
    assert not deviation(flipped, b, FLOAT64).passed                   # inf of the other sign


def test_deviation_refuses_shape_and_dtype_mismatch():
    a = np.zeros((2, 3))
    assert "shape" in deviation(a, np.zeros((3, 2)), FLOAT64).note
    assert "dtype" in deviation(a.astype(np.float32), a, FLOAT64).note
    assert not deviation(None, a, FLOAT64).passed


def test_same_seed_same_rows_and_other_seed_other_inputs():
    case = Case("lin", "Linear", "core", lambda dt: build(Spec("Linear", 5, 3), dt),
                args(normal(4, 5)), dtypes=("float32",))
    r1, r2, r3 = run(case, "float32", 1), run(case, "float32", 1), run(case, "float32", 2)
    key = [(r.quantity, r.max_abs, r.worst_index) for r in r1.rows]
    assert key == [(r.quantity, r.max_abs, r.worst_index) for r in r2.rows]
    assert key != [(r.quantity, r.max_abs, r.worst_index) for r in r3.rows]


def test_second_backward_accumulates_and_names_an_overwrite():
    """The engine's accumulation pass: float64 cases get ``accum.*`` rows; a LayerNorm that
    assigns ``.grad`` passes the first backward and fails the second, with a note saying so."""
    from compare.mutant_accum import OverwritingLayerNorm
    from compare.mutants import mutated

    good = run(Case("ln", "LayerNorm", "norm", lambda dt: build(Spec("LayerNorm", 6), dt),
                    args(normal(3, 6)), dtypes=("float64",)), "float64")
    accum = {r.quantity for r in good.rows if r.quantity.startswith("accum.")}
    assert {"accum.grad_in", "accum.grad.weight", "accum.grad.bias"} <= accum
    assert good.passed
    bad = run(Case("ln-bad", "LayerNorm", "norm", mutated(Spec("LayerNorm", 6),
                                                          OverwritingLayerNorm),
                   args(normal(3, 6)), dtypes=("float64",)), "float64")
    failing = {r.quantity: r.note for r in bad.rows if not r.passed}
    assert set(failing) == {"accum.grad.weight", "accum.grad.bias"}
    assert all("overwritten" in n for n in failing.values())


def test_importing_compare_leaves_torch_threads_alone():
    import subprocess
    import sys
    code = ("import torch; torch.set_num_threads(2); import compare, compare.engine, "
            "compare.report, compare.catalogue; compare.catalogue.all_cases(); "
            "print(torch.get_num_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "2"


@pytest.mark.parametrize("ret,words", [
    (lambda dx: [dx], "gradient is a list of 1"),
    (lambda dx: (None, None), "gradient is a tuple of 2"),
], ids=["list-for-an-array", "pair-of-None-for-indices"])
def test_backward_return_structure_is_checked(ret, words):
    """backward must return an input's gradient in that input's structure: an array for an
    array (a list passes no value comparison's notice otherwise), None for indices."""
    import npimpl
    from compare.engine import grad_structure_errors

    class Wrapped(npimpl.Linear):
        def backward(self, g):
            return ret(super().backward(g))
    res = run(Case("wrapped", "Linear", "core", lambda dt: (lambda n, t: (
        Wrapped(5, 3, dtype=dt.type), t))(*build(Spec("Linear", 5, 3), dt)), args(normal(2, 5)),
        dtypes=("float64",)), "float64")
    from compare.engine import Inputs
    errors = grad_structure_errors(Inputs((np.zeros((2, 5)),)), (ret(np.zeros((2, 5))),))
    assert errors and words in errors[0]
    assert not res.passed
    assert any(r.quantity == "grad_in structure" and words in r.note for r in res.rows)
    ok = grad_structure_errors(Inputs((np.zeros(3, dtype=np.int64),)), (None,))
    assert ok == []
