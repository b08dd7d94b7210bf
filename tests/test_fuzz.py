"""Property-based fuzzing: random shapes, options and values, compared with torch in float64.

Two kinds of properties:

* per layer: hypothesis draws the shape (size-1 and empty dims where torch allows them), the
  options and the values (±0, tiny, subnormal, huge, ±inf/NaN for element-wise layers,
  integers stored as floats), builds an ad-hoc :class:`compare.engine.Case` and runs it;
* every catalogue case (so every layer family, as it lands): the case's own input with its
  values fuzzed (rounded to integers, elements set to ±0 or subnormal, rescaled by 10^k).

Profiles (tests/conftest.py): the default is small and derandomized for CI;
``pytest tests/test_fuzz.py --hypothesis-profile=long`` draws 500 fresh examples per test.
"""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from compare.catalogue import all_cases
from compare.engine import Case, Inputs, run
from reference import Spec, build

#: values that break careless code: signed zeros, subnormals, integers, large and small
SPECIAL = [0.0, -0.0, 5e-324, -5e-324, 1e-300, 1.0, -1.0, 2.0, -3.0, 7.0, 0.5, 1e-8]


def values(max_abs: float, nonfinite: bool = False):
    """Float64 elements: special values, integers stored as floats, and uniform reals."""
    parts = [st.sampled_from(SPECIAL),
             st.integers(-int(min(max_abs, 1e6)), int(min(max_abs, 1e6))).map(float),
             st.floats(-max_abs, max_abs, allow_nan=False, allow_infinity=False)]
    if nonfinite:
        parts.append(st.sampled_from([np.inf, -np.inf, np.nan]))
    return st.one_of(*parts)


def shapes(min_dims=0, max_dims=3, min_side=0, max_side=4):
    return st.lists(st.integers(min_side, max_side), min_size=min_dims,
                    max_size=max_dims).map(tuple)


def check(name, spec, *inputs, layer=None):
    """Run an ad-hoc case on fixed inputs in float64 and assert it agrees with torch."""
    case = Case(f"fuzz-{name}", layer or spec.name, "fuzz", lambda dt: build(spec, dt),
                lambda rng, dt: Inputs(tuple(a.copy() for a in inputs)),
                dtypes=("float64",))
    res = run(case, "float64")
    bad = [f"{r.quantity}: max_abs={r.max_abs:.3g} tol_ratio={r.tol_ratio:.3g} at "
           f"{r.worst_index} {r.note}" for r in res.rows if not r.passed]
    assert res.error is None, res.traceback
    assert not bad, f"{spec}: " + "; ".join(bad)


# --- element-wise activations: any shape, any value -----------------------------------------
@pytest.mark.parametrize("name", ["ReLU", "Sigmoid", "Tanh"])
@given(data=st.data())
def test_elementwise(name, data):
    x = data.draw(arrays(np.float64, shapes(), elements=values(1e300, nonfinite=True)))
    check(name, Spec(name), x)


# --- softmax family: random dim, large logits, empty dims -----------------------------------
@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax"])
@given(data=st.data())
def test_softmax_family(name, data):
    shape = data.draw(shapes(min_dims=1, min_side=0))
    dim = data.draw(st.integers(-len(shape), len(shape) - 1))
    x = data.draw(arrays(np.float64, shape, elements=values(1e4)))
    check(name, Spec(name, dim=dim), x)


# --- Linear: any leading dims (including empty), size-1 features, bias or not --------------
@given(data=st.data())
def test_linear(data):
    lead = data.draw(shapes(min_dims=0, max_dims=3))
    n_in, n_out = data.draw(st.integers(1, 6)), data.draw(st.integers(1, 6))
    bias = data.draw(st.booleans())
    x = data.draw(arrays(np.float64, lead + (n_in,), elements=values(100.0)))
    check("linear", Spec("Linear", n_in, n_out, bias=bias), x)


# --- losses: every reduction, empty batches, ignored targets, K-dim ---------------------------
@pytest.mark.parametrize("name", ["CrossEntropyLoss", "NLLLoss"])
@given(data=st.data())
def test_class_losses(name, data):
    n = data.draw(st.integers(0, 5))
    c = data.draw(st.integers(1, 5))
    extra = data.draw(shapes(min_dims=0, max_dims=2, min_side=1, max_side=3))
    reduction = data.draw(st.sampled_from(["none", "mean", "sum"]))
    ignore = data.draw(st.sampled_from([-100, 0]))
    x = data.draw(arrays(np.float64, (n, c) + extra, elements=values(50.0)))
    t = data.draw(arrays(np.int64, (n,) + extra, elements=st.integers(0, c - 1)))
    check(name.lower(), Spec(name, reduction=reduction, ignore_index=ignore), x, t)


@given(data=st.data())
def test_mse(data):
    shape = data.draw(shapes())
    reduction = data.draw(st.sampled_from(["none", "mean", "sum"]))
    x = data.draw(arrays(np.float64, shape, elements=values(1e100)))
    y = data.draw(arrays(np.float64, shape, elements=values(1e100)))
    check("mse", Spec("MSELoss", reduction=reduction), x, y)


# --- shape layers and dropout -----------------------------------------------------------------
@given(data=st.data())
def test_flatten(data):
    shape = data.draw(shapes(min_dims=1, max_dims=4))
    n = len(shape)
    start = data.draw(st.integers(-n, n - 1))
    end = data.draw(st.integers(-n, n - 1))
    if start % n > end % n:
        start, end = end, start
    x = data.draw(arrays(np.float64, shape, elements=values(1e300, nonfinite=True)))
    check("flatten", Spec("Flatten", start, end), x)


@given(data=st.data())
def test_dropout(data):
    p = data.draw(st.sampled_from([0.0, 0.1, 0.5, 0.9, 1.0]))
    x = data.draw(arrays(np.float64, shapes(), elements=values(1e300)))
    check("dropout", Spec("Dropout", p), x)


# --- every catalogue case, its values fuzzed ----------------------------------------------------
CASES = [c for c in all_cases() if isinstance(c, Case) and not hasattr(c, "run")]
#: fewer examples per case than per layer test: there are many cases
PER_CASE = max(2, settings.default.max_examples // 6)


def fuzz_values(x: np.ndarray, data) -> np.ndarray:
    """One of: integers stored as floats, random elements set to ±0 or ±subnormal, or the
    whole tensor rescaled by 10^k (k in [-3, 3])."""
    how = data.draw(st.sampled_from(["integers", "zeros", "subnormal", "rescale"]))
    y = x.copy()
    if how == "integers":
        return np.round(y)
    if how == "rescale":
        return y * 10.0 ** data.draw(st.integers(-3, 3))
    if y.size:
        mask = data.draw(arrays(np.bool_, y.shape))
        fill = [0.0, -0.0] if how == "zeros" else [5e-324, -5e-324]
        y[mask] = data.draw(st.sampled_from(fill))
    return y


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
@settings(max_examples=PER_CASE)
@given(data=st.data())
def test_catalogue_case_with_fuzzed_values(case, data):
    rng = np.random.default_rng(0)
    inp = case.inputs(rng, np.dtype("float64"))
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    args = tuple(fuzz_values(a, data) if isinstance(a, np.ndarray) and a.dtype.kind == "f"
                 else a for a in inp.args)
    fuzzed = Case(case.name, case.layer, case.family, case.model,
                  lambda r, dt: Inputs(tuple(a.copy() if isinstance(a, np.ndarray) else a
                                             for a in args), inp.kwargs),
                  dtypes=("float64",), grad=case.grad)
    res = run(fuzzed, "float64")
    bad = [f"{r.quantity}: max_abs={r.max_abs:.3g} tol_ratio={r.tol_ratio:.3g} {r.note}"
           for r in res.rows if not r.passed]
    assert res.error is None, res.traceback
    assert not bad, "; ".join(bad)
