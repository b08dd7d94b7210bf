"""Rules every npimpl class shares (npimpl/_checks.py): float16 refused, the upstream
gradient checked against the forward output, across the whole catalogue. np.matrix and
masked arrays are variants of the bad-input matrix (tests/test_bad_input.py)."""
import inspect

import numpy as np
import pytest

import npimpl
from compare.badinput import table
from compare.badinput_verdict import CLEAR_ERRORS
from compare.catalogue import all_cases
from compare.engine import Case, Inputs, case_rng, leaves, like
from reference import Spec


def _dtype_classes():
    out = []
    for name, entry in sorted(table().items()):
        spec = entry.spec
        cls = getattr(npimpl, name, None)
        if isinstance(spec, Spec) and cls is not None \
                and "dtype" in inspect.signature(cls).parameters:
            out.append((name, spec))
    return out


@pytest.mark.parametrize("name,spec", _dtype_classes(), ids=[n for n, _ in _dtype_classes()])
def test_float16_is_refused_with_a_clear_error(name, spec):
    """issue 21 D13: refused, not computed op by op in float16 (see npimpl/_checks.py); a
    composite may let its first child say it."""
    cls = getattr(npimpl, name)
    with pytest.raises(TypeError, match=r"\w+: dtype float16 is not supported"):
        cls(*spec.args, **spec.kwargs, dtype=np.float16)


def _first_case_per_layer():
    """One single-step float64 case per layer (the catalogue's first) whose NumPy module is an
    npimpl class (not a user module written in the catalogue around one, as the containers'
    cases are)."""
    seen = {}
    for c in all_cases():
        if isinstance(c, Case) and not hasattr(c, "run") and "float64" in c.dtypes \
                and c.layer not in seen and c.family not in ("article", "mutant") \
                and type(c.model(np.dtype("float64"))[0]).__module__.startswith("npimpl"):
            seen[c.layer] = c
    return list(seen.values())


CASES = _first_case_per_layer()


def _forward(case):
    np_mod, _ = case.model(np.dtype("float64"))
    inp = case.inputs(case_rng(0, case.name, "float64"), np.dtype("float64"))
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    return np_mod, np_mod(*inp.args, **inp.kwargs)


def _backward(np_mod, out, make):
    g = like(out, lambda o: make(o) if isinstance(o, np.ndarray) and o.dtype.kind == "f"
             else None)
    return np_mod.backward(*g) if isinstance(out, tuple) else np_mod.backward(g)


WRONG = {"extra dim": lambda o: np.ones(o.shape + (2,)),
         "leading dim dropped or added": lambda o: np.ones(o.shape[1:] if o.ndim > 1
                                                           else (1,) + o.shape),
         "transposed": lambda o: np.ones(o.shape[::-1] if o.shape != o.shape[::-1]
                                         else o.shape + (1,))}


@pytest.mark.parametrize("case", CASES, ids=[c.layer for c in CASES])
def test_every_backward_refuses_a_gradient_of_another_shape(case):
    """issue 21 D6: a wrong-shape grad_output is a clear error in every class (torch refuses
    it too), never a broadcast or a reshape."""
    for what, make in WRONG.items():
        np_mod, out = _forward(case)
        with pytest.raises(CLEAR_ERRORS) as info:
            _backward(np_mod, out, make)
        # the module, a child, or the class it delegates to (LinearCrossEntropyLoss's
        # CrossEntropyLoss) names itself: never NumPy's own broadcasting message
        assert any(f"{n}:" in str(info.value) for n in npimpl.__all__), f"{what}: {info.value}"


@pytest.mark.parametrize("case", CASES, ids=[c.layer for c in CASES])
def test_a_float32_gradient_on_a_float64_module_never_gives_float32(case):
    """issue 21 D6b: torch's autograd casts the upstream gradient to the output's dtype; a
    class either does the same or refuses it clearly."""
    np_mod, out = _forward(case)
    try:
        ret = _backward(np_mod, out, lambda o: np.ones(o.shape, np.float32))
    except TypeError as exc:
        assert "float32" in str(exc)
        return
    dtypes = {x.dtype for _, x in leaves(ret) if isinstance(x, np.ndarray)}
    assert np.dtype(np.float32) not in dtypes
