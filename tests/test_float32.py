"""Float32 stays float32 (issue 19): in every float32 case of the catalogue, no float64 array
comes out of a layer or stays in it.

What is measured: after one forward and one backward of the NumPy side, every array the
layer hands out or keeps: the outputs, the input gradients, every parameter's gradient and
value, every buffer, every module's cache (walked through tuples, named tuples, lists and
dicts) and every array attribute of every submodule. A float64 array there is either a
float64 computation (a silent upcast: a Python int in ``np.where``, ``np.bincount``'s
weights, ``astype`` after the fact) or one that kept its result; it also doubles the memory
it holds.

Temporaries that die inside a call have no hook in NumPy; the second test watches what the
``numpy`` namespace's functions (``np.where``, ``np.ones``, ``np.full``, ...: not the
ufuncs, whose float32 inputs give float32) return to npimpl's code during forward and
backward, and flags a float64 array as large as the case's largest float input: a
full-size float64 temporary (a dropout draw in float64, an ``np.where`` with Python
numbers). Smaller float64 index arithmetic (a divisor per window, a causal mask) is fine.
"""
import numpy as np

from compare.catalogue import all_cases
from compare.engine import Case, Inputs, case_rng, leaves, like

F32 = np.dtype(np.float32)

#: float64 arrays a float32 layer keeps on purpose: (layer, where) -> why
ALLOWED = {}
#: full-size float64 temporaries on purpose: (layer, "module:function") -> why
ALLOWED_TEMPORARIES = {
    ("RReLU", "npimpl.prelu:forward"): "torch draws the slopes in double and rounds them to "
                                       "the input's dtype ((scalar_t)uniform): the same draw",
    ("Upsample", "npimpl.interpolate:source_index"): "one source position per output index of "
                                                     "an axis, (j + 0.5) in double as torch's "
                                                     "C++: the size of the data only when the "
                                                     "input is one long axis",
}


def float64_arrays(obj, path: str, seen: set) -> list[str]:
    """Paths of the float64 arrays reachable from ``obj``."""
    if id(obj) in seen:
        return []
    seen.add(id(obj))
    if isinstance(obj, np.ndarray):
        return [f"{path} {obj.shape}"] if obj.dtype == np.float64 else []
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += float64_arrays(v, f"{path}[{k!r}]", seen)
    elif isinstance(obj, (tuple, list)):
        fields = getattr(obj, "_fields", None) or range(len(obj))
        for f, v in zip(fields, obj):
            out += float64_arrays(v, f"{path}.{f}" if isinstance(f, str) else f"{path}[{f}]",
                                  seen)
    return out


def module_float64(np_mod) -> list[str]:
    out, seen = [], set()
    for name, m in np_mod.named_modules():
        for attr, v in vars(m).items():
            if attr in ("_parameters", "_modules"):
                continue
            out += float64_arrays(v, f"{name or type(np_mod).__name__}.{attr}", seen)
        for pname, p in m._parameters.items():
            if p is not None:
                out += float64_arrays((p.data, p.grad), f"{name}.{pname}(data, grad)", seen)
    return out


def run_float32(case: Case) -> list[str]:
    rng = case_rng(0, case.name, "float32")
    np_mod, _ = case.model(F32)
    inp = case.inputs(rng, F32)
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
    out = np_mod(*inp.args, **inp.kwargs)
    g = like(out, lambda o: rng.standard_normal(o.shape).astype(o.dtype)
             if isinstance(o, np.ndarray) and o.dtype.kind == "f" else None)
    ret = np_mod.backward(*g) if isinstance(out, tuple) else np_mod.backward(g)
    found = float64_arrays((out, ret), "output/grad", set()) + module_float64(np_mod)
    return [f for f in found if (case.layer, f.split(" ")[0]) not in ALLOWED]


def test_no_float32_case_makes_or_keeps_a_float64_array():
    cases = [c for c in all_cases() if isinstance(c, Case) and "float32" in c.dtypes]
    assert len(cases) > 300
    bad = {}
    for case in cases:
        found = run_float32(case)
        if found:
            bad[case.name] = found
    assert not bad, "float64 arrays in float32 cases:\n" + "\n".join(
        f"{k}: {v[:4]}" for k, v in bad.items())


def test_the_check_sees_a_float64_cache():
    import npimpl

    class Upcast(npimpl.Tanh):
        def _f(self, x):
            return np.tanh(x.astype(np.float64)).astype(x.dtype)

        def forward(self, input):
            y = super().forward(input)
            self._cache = self._cache._replace(y=self._cache.y.astype(np.float64))   # kept
            return y

    m = Upcast()
    m(np.ones((2, 3), np.float32))
    assert module_float64(m) == ["Upcast._cache.y (2, 3)"]
    assert float64_arrays(([np.ones(2)], {"a": np.ones(1, np.float32)}), "x", set()) == \
        ["x[0][0] (2,)"]


class Float64Probe:
    """Wraps every function of the ``numpy`` namespace (ufuncs excepted) for the duration of
    a ``with``: while ``active``, a float64 array returned to code in ``npimpl`` with at
    least ``min_size`` elements is recorded as ``module:function``."""

    def __init__(self, monkeypatch):
        self.active, self.min_size, self.hits = False, 0, set()
        import numpy.fft  # noqa: F401  (numpy's lazy submodules, loaded before patching)
        import numpy.linalg  # noqa: F401
        import numpy.ma  # noqa: F401
        for name in dir(np):
            f = getattr(np, name)
            if callable(f) and not isinstance(f, (type, np.ufunc)) and not name.startswith("_"):
                monkeypatch.setattr(np, name, self._wrap(f))

    def _wrap(self, f):
        import functools
        import sys

        @functools.wraps(f)
        def w(*a, **k):
            r = f(*a, **k)
            if self.active and isinstance(r, np.ndarray) and r.dtype == np.float64 \
                    and r.size >= self.min_size:
                frame = sys._getframe(1)
                mod = frame.f_globals.get("__name__", "")
                if mod.startswith("npimpl"):
                    self.hits.add(f"{mod}:{frame.f_code.co_name}")
            return r
        return w


def test_no_float32_case_makes_a_full_size_float64_temporary(monkeypatch):
    cases = [c for c in all_cases() if isinstance(c, Case) and "float32" in c.dtypes]
    probe = Float64Probe(monkeypatch)
    bad = {}
    for case in cases:
        rng = case_rng(0, case.name, "float32")
        np_mod, _ = case.model(F32)
        inp = case.inputs(rng, F32)
        inp = inp if isinstance(inp, Inputs) else Inputs(
            tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))
        sizes = [a.size for a in leaves(list(inp.args))[0:] for a in [a[1]]
                 if isinstance(a, np.ndarray) and a.dtype.kind == "f"]
        probe.min_size, probe.hits = max(sizes + [2]), set()
        probe.active = True
        out = np_mod(*inp.args, **inp.kwargs)
        probe.active = False
        g = like(out, lambda o: rng.standard_normal(o.shape).astype(o.dtype)
                 if isinstance(o, np.ndarray) and o.dtype.kind == "f" else None)
        probe.active = True
        np_mod.backward(*g) if isinstance(out, tuple) else np_mod.backward(g)
        probe.active = False
        hits = sorted(h for h in probe.hits if (case.layer, h) not in ALLOWED_TEMPORARIES)
        if hits:
            bad[case.name] = hits
    assert not bad, "full-size float64 temporaries in float32 cases:\n" + "\n".join(
        f"{k}: {v}" for k, v in bad.items())


def test_the_probe_sees_a_full_size_float64_temporary_in_npimpl_code(monkeypatch):
    probe = Float64Probe(monkeypatch)
    planted = {"__name__": "npimpl.planted", "np": np}
    exec("def mask(x):\n    return np.where(x > 0, 1.0, 0.0).astype(x.dtype)\n"
         "def small(x):\n    return np.ones(2).astype(x.dtype)\n", planted)
    x = np.ones(4, np.float32)
    probe.min_size, probe.active = 4, True
    planted["mask"](x), planted["small"](x)
    probe.active = False
    assert probe.hits == {"npimpl.planted:mask"}          # not the 2-element one
