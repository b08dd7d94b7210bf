"""The bad-input matrix: every public npimpl class against odd and wrong inputs.

For each class (``npimpl.__all__``, built from :data:`TABLE`) and each variant
of its valid input (wrong rank, wrong size, int/bool/complex/object arrays,
NaN and ±inf, an empty batch, a non-contiguous view, a read-only array,
Fortran order, a Python list, the wrong float dtype, float16, ``np.matrix``, a
masked array; for losses also bad targets) the NumPy module must either

* **match torch**: torch accepts the input and the NumPy forward output and
  input gradient agree with torch's within the float64 tolerance (NaN where
  torch has NaN), or
* raise a **clear error**: a ValueError/TypeError/IndexError whose message
  names the module and says what it got (``"Linear: ... got shape (2, 5)"``).
  Refusing what torch accepts is allowed (npimpl refuses integer arrays
  everywhere; torch runs ReLU on them) and counted apart, as
  ``"clear error (torch accepts)"``, or
* be a **deviation by design**: npimpl accepts what torch refuses, for a reason
  written in :data:`TABLE` (``Entry.by_design``).

Each class's constructor is also called with odd arguments (every numeric argument of its
entry and every numeric default of its signature set to 0/-1 or -1.0/2.0): npimpl must
refuse clearly whatever torch refuses. And ``backward`` called before any ``forward`` must
raise a RuntimeError that says so (the contract).

Optimizers (``npimpl.optim``) get their own variants: an empty or non-Parameter
parameter list, a negative lr, NaN/inf/zero gradients and a gradient of the wrong
shape, with the parameters after one step compared to torch's.

Anything else is a ``FAIL``: a crash from inside NumPy (AttributeError,
a broadcasting ValueError that names no module), a silent success where torch
refuses the input, a silent success where torch broadcasts with only a warning
(MSELoss with a target of another shape), or a result that differs from torch's.
"""
from __future__ import annotations

import warnings
from collections import Counter
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import npimpl
from reference import Spec, build, seq, to_numpy

from .badinput_optim import SCHEDULER_ARGS, optimizer_matrix, scheduler_cells
from .badinput_verdict import _is_clear, clear_outcome, signature_cell
from .metrics import FLOAT64, deviation

@dataclass
class Entry:
    """How to build one class and a valid input for it.

    ``spec`` builds the pair; ``shape`` is the valid input's shape; ``target`` (losses) makes
    the valid target from ``(rng, input)``; ``mode`` is 'train' or 'eval'.
    """

    spec: Spec
    shape: tuple
    #: ``(rng, input) -> target`` for losses (the target variants apply to it)
    target: Callable | None = None
    #: ``(rng, input) -> [more positional args]`` (attention's key and value)
    extra: Callable | None = None
    mode: str = "train"
    #: variants (of the input or of the target) not to run, e.g. where torch's kernel has no
    #: bounds check and would corrupt memory
    skip: tuple = ()
    #: ``(rng, shape) -> valid input`` (default: standard normal floats)
    valid: Callable | None = None
    #: variants where npimpl accepts what torch refuses, on purpose: variant -> reason
    by_design: dict | None = None


def _classes(n):
    return lambda rng, x: rng.integers(0, n, x.shape[:1] + x.shape[2:]).astype(np.int64)


def _same(rng, x):
    return rng.standard_normal(x.shape)


def _indices(n):
    return lambda rng, shape: rng.integers(0, n, shape).astype(np.int64)


def _probabilities(rng, shape):
    return rng.uniform(0.05, 0.95, shape)


def _log_probabilities(rng, shape):
    return np.log(rng.dirichlet(np.ones(shape[-1]), shape[:-1]))


def _signs(rng, x):
    return np.where(rng.random(x.shape) < 0.5, -1.0, 1.0)


def _key_value(rng, x):
    return [x.copy(), x.copy()]


def _pointwise(*names):
    return {n: Entry(Spec(n), (2, 4)) for n in names}


#: the constructor table: one small, valid configuration per public class
TABLE: dict[str, Entry] = {
    "Sequential": Entry(seq(Spec("Linear", 4, 3), Spec("Tanh")), (2, 4)),
    "Identity": Entry(Spec("Identity"), (2, 4)),
    "Linear": Entry(Spec("Linear", 4, 3), (2, 4)),
    "ReLU": Entry(Spec("ReLU"), (2, 4)),
    "Sigmoid": Entry(Spec("Sigmoid"), (2, 4)),
    "Tanh": Entry(Spec("Tanh"), (2, 4)),
    "Softmax": Entry(Spec("Softmax", dim=1), (2, 4)),
    "LogSoftmax": Entry(Spec("LogSoftmax", dim=1), (2, 4)),
    "CrossEntropyLoss": Entry(Spec("CrossEntropyLoss"), (3, 4), _classes(4)),
    "NLLLoss": Entry(Spec("NLLLoss"), (3, 4), _classes(4)),
    "MSELoss": Entry(Spec("MSELoss"), (3, 4), _same),
    "Flatten": Entry(Spec("Flatten"), (2, 3, 4)),
    "Unflatten": Entry(Spec("Unflatten", 1, (2, 2)), (3, 4)),
    "Dropout": Entry(Spec("Dropout", 0.5), (2, 4)),
    "GELU": Entry(Spec("GELU"), (2, 4)),
    "LayerNorm": Entry(Spec("LayerNorm", 4), (2, 4)),
    "Embedding": Entry(Spec("Embedding", 10, 3), (2, 4), valid=_indices(10)),
    "EmbeddingBag": Entry(Spec("EmbeddingBag", 10, 3), (2, 4), valid=_indices(10), by_design={
        "empty dim 1": "bags of length 0 give zero vectors, as torch gives for empty bags "
                       "described by offsets; torch's 2-D path fails with 'step must be "
                       "nonzero', an implementation accident"}),
    "Conv1d": Entry(Spec("Conv1d", 2, 3, 3), (2, 2, 6)),
    "Conv2d": Entry(Spec("Conv2d", 2, 3, 3), (2, 2, 5, 5)),
    "ConvTranspose2d": Entry(Spec("ConvTranspose2d", 2, 3, 3), (2, 2, 4, 4)),
    "RNNCell": Entry(Spec("RNNCell", 4, 3), (2, 4)),
    "LSTMCell": Entry(Spec("LSTMCell", 4, 3), (2, 4)),
    "GRUCell": Entry(Spec("GRUCell", 4, 3), (2, 4)),
    "RNN": Entry(Spec("RNN", 4, 3), (5, 2, 4)),
    "LSTM": Entry(Spec("LSTM", 4, 3), (5, 2, 4)),
    "GRU": Entry(Spec("GRU", 4, 3), (5, 2, 4)),
    **_pointwise("Hardsigmoid", "Hardtanh", "LeakyReLU", "ReLU6", "Mish", "SiLU", "Softplus"),
    # 32 elements: torch's ELU and Hardswish backward give a NaN input a NaN gradient in their
    # SIMD loop but dy in the scalar tail (fewer than 16 doubles); npimpl gives NaN, so the
    # NaN variant must sit entirely in the SIMD loop to compare
    **{n: Entry(Spec(n), (4, 8)) for n in ("CELU", "ELU", "SELU", "Hardswish")},
    "Softmin": Entry(Spec("Softmin", dim=1), (2, 4)),
    "HuberLoss": Entry(Spec("HuberLoss"), (3, 4), _same),
    "L1Loss": Entry(Spec("L1Loss"), (3, 4), _same),
    "SmoothL1Loss": Entry(Spec("SmoothL1Loss"), (3, 4), _same),
    "KLDivLoss": Entry(Spec("KLDivLoss", reduction="batchmean"), (3, 4),
                       lambda rng, x: np.exp(_log_probabilities(rng, x.shape)),
                       valid=_log_probabilities),
    "MarginRankingLoss": Entry(Spec("MarginRankingLoss"), (3, 4),
                               extra=lambda rng, x: [rng.standard_normal(x.shape),
                                                     _signs(rng, x)]),
    "CosineEmbeddingLoss": Entry(Spec("CosineEmbeddingLoss"), (3, 4),
                                 extra=lambda rng, x: [rng.standard_normal(x.shape),
                                                       _signs(rng, x[:, 0])]),
    "GaussianNLLLoss": Entry(Spec("GaussianNLLLoss"), (3, 4), _same,
                             extra=lambda rng, x: [rng.uniform(0.1, 2.0, x.shape)]),
    "BCELoss": Entry(Spec("BCELoss"), (3, 4), lambda rng, x: rng.random(x.shape),
                     valid=_probabilities),
    "BCEWithLogitsLoss": Entry(Spec("BCEWithLogitsLoss"), (3, 4),
                               lambda rng, x: rng.random(x.shape)),
    "Dropout2d": Entry(Spec("Dropout2d", 0.5), (2, 3, 4, 4)),
    "Dropout1d": Entry(Spec("Dropout1d", 0.5), (2, 3, 4)),
    "Dropout3d": Entry(Spec("Dropout3d", 0.5), (2, 3, 2, 2, 2)),
    "RMSNorm": Entry(Spec("RMSNorm", 4), (2, 4)),
    "BatchNorm1d": Entry(Spec("BatchNorm1d", 4), (3, 4)),
    "BatchNorm2d": Entry(Spec("BatchNorm2d", 2), (2, 2, 3, 3)),
    "BatchNorm3d": Entry(Spec("BatchNorm3d", 2), (2, 2, 2, 3, 2)),
    "GroupNorm": Entry(Spec("GroupNorm", 2, 4), (2, 4, 3)),
    "InstanceNorm2d": Entry(Spec("InstanceNorm2d", 2, affine=True), (2, 2, 3, 3), by_design={
        "empty batch": "an empty batch gives an empty output, as every other norm layer and "
                       "torch's batch_norm do; torch's instance_norm fails inside select() "
                       "(an implementation accident)"}),
    "InstanceNorm1d": Entry(Spec("InstanceNorm1d", 2, affine=True), (2, 2, 5), by_design={
        "empty batch": "as InstanceNorm2d"}),
    "InstanceNorm3d": Entry(Spec("InstanceNorm3d", 2, affine=True), (2, 2, 2, 3, 2), by_design={
        "empty batch": "as InstanceNorm2d"}),
    "AdaptiveAvgPool2d": Entry(Spec("AdaptiveAvgPool2d", (2, 3)), (2, 2, 5, 5)),
    "AdaptiveMaxPool2d": Entry(Spec("AdaptiveMaxPool2d", (3, 2)), (2, 2, 5, 5)),
    "AvgPool2d": Entry(Spec("AvgPool2d", 2), (2, 2, 4, 4)),
    "MaxPool1d": Entry(Spec("MaxPool1d", 2), (2, 2, 6)),
    "MaxPool2d": Entry(Spec("MaxPool2d", 2), (2, 2, 4, 4)),
    "MultiheadAttention": Entry(Spec("MultiheadAttention", 4, 2), (3, 2, 4), extra=_key_value),
    "ScaledDotProductAttention": Entry(Spec("ScaledDotProductAttention"), (2, 3, 4),
                                       extra=_key_value),
    "TransformerEncoderLayer": Entry(Spec("TransformerEncoderLayer", 4, 2, dim_feedforward=8,
                                          dropout=0.0), (3, 2, 4)),
}

#: public names that are not layers (no forward to feed): with the reason
NOT_LAYERS = {
    "Module": "the abstract base class (forward raises NotImplementedError by design)",
    "Parameter": "a container for .data and .grad, not a layer",
    "optim": "a package: optimizers take Parameters, not inputs",
    "utils": "a package of helpers (gradient clipping, ...), not a layer",
    "LinearCrossEntropyOptions": "a frozen dataclass of LinearCrossEntropyLoss's chunking "
                                 "options, not a layer",
    **{name: "a container without a forward (its owner calls what it holds); the "
             "catalogue runs it inside small models (compare/catalogue/container.py)"
       for name in ("ModuleList", "ModuleDict", "ParameterList", "ParameterDict")},
    "scaled_dot_product_attention": "a pure function; its module form ScaledDotProductAttention "
                                    "is in the matrix",
    **{name: "the grad-mode switch (a context manager / query), not a layer"
       for name in ("no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled")},
    "manual_seed": "re-seeds the default generator (npimpl/random.py), not a layer",
}


# --- the variants ---------------------------------------------------------------------------
def _noncontiguous(x):
    big = np.zeros(x.shape[:-1] + (2 * x.shape[-1],), x.dtype) if x.ndim else None
    if big is None:
        return x
    big[..., ::2] = x
    return big[..., ::2]


def _readonly(x):
    y = x.copy()
    y.setflags(write=False)
    return y


def _with(value):
    def f(x):
        y = x.copy()
        y.reshape(-1)[::3] = value
        return y
    return f


def _signed_zeros(x):
    """+0 and -0 in two of every three elements, the valid input in the third.

    Not *all* zeros: an all-zero input makes every token of an attention layer identical,
    so its input gradient is an exact cancellation (softmax over equal scores) whose
    rounding residue, amplified to ~1e-12 by the projections, is all either side returns,
    and NumPy's residue even changes with the memory alignment of its SIMD sums (measured:
    4 of 40 runs of TransformerEncoderLayer at 1.0e-12 to 5.1e-12 against atol 1e-12).
    That compares noise, not ±0 handling, which the two zero thirds still exercise."""
    k = np.arange(x.size).reshape(x.shape) % 3
    return np.where(k == 0, 0.0, np.where(k == 1, -0.0, x))


def _masked(x):
    """A masked array hiding every third element (torch.as_tensor reads the data underneath;
    NumPy's masked reductions would skip them)."""
    if x.ndim == 0:
        return None
    k = np.arange(x.size).reshape(x.shape) % 3 == 0
    return np.ma.masked_array(x, mask=k)


def _object(x):
    y = np.empty(x.shape, dtype=object)
    y[...] = x
    return y


def _one_value(x, value):
    """A float input with only its first element set to ``value``."""
    if x.dtype.kind != "f" or x.size == 0:
        return None
    y = x.copy()
    y.reshape(-1)[0] = value
    return y


def _one_index(x, value):
    """An integer (index) input with its first element set to ``value`` (None: the largest
    index plus one thousand); not applicable to float inputs."""
    if x.dtype.kind != "i" or x.size == 0:
        return None
    y = x.copy()
    y.reshape(-1)[0] = x.max() + 1000 if value is None else value
    return y


def _resize(axis):
    def f(x):
        if x.ndim <= (axis if axis >= 0 else -axis - 1):
            return None
        pad = [(0, 0)] * x.ndim
        pad[axis] = (0, 1)
        return np.pad(x, pad, constant_values=0.5)
    return f


#: input variants: name -> ndarray -> odd input (None: not applicable to this shape)
VARIANTS: dict[str, Callable] = {
    "rank 0": lambda x: np.asarray(x.reshape(-1)[0]),
    "rank +2": lambda x: x[None, None],
    "rank -1": lambda x: x[0] if x.ndim > 1 else None,
    "wrong size (last dim)": _resize(-1),
    "wrong size (dim 1)": _resize(1),
    "int64 array": lambda x: np.round(x).astype(np.int64),
    "bool array": lambda x: x > 0,
    "complex array": lambda x: x.astype(np.complex128),
    "object array": _object,
    "float32 input": lambda x: x.astype(np.float32),
    "float16 input": lambda x: x.astype(np.float16),
    "np.matrix": lambda x: np.asmatrix(x) if x.ndim == 2 else None,
    "masked array": _masked,
    "NaN input": _with(np.nan),
    "one NaN element": lambda x: _one_value(x, np.nan),
    "+inf input": _with(np.inf),
    "-inf input": _with(-np.inf),
    "signed zeros": _signed_zeros,
    "empty batch": lambda x: x[:0] if x.ndim else None,
    "empty dim 1": lambda x: x[:, :0] if x.ndim > 1 else None,
    "non-contiguous view": _noncontiguous,
    "read-only array": _readonly,
    "Fortran order": np.asfortranarray,
    "Python list": lambda x: x.tolist(),
    # index inputs (Embedding): one index of -1 (NumPy would silently read the last row;
    # torch raises IndexError) or one past the end
    "negative index": lambda x: _one_index(x, -1),
    "index too large": lambda x: _one_index(x, None),
}

#: extra variants of a loss's target: name -> (rng, valid target) -> odd target
TARGET_VARIANTS: dict[str, Callable] = {
    "target wrong size": lambda t: np.concatenate([t, t[:1]]),
    "target wrong rank": lambda t: t[..., None],
    "target float": lambda t: t.astype(np.float64) if t.dtype.kind != "f" else t.astype(np.float32),
    "target out of range": lambda t: t + 100 if t.dtype.kind == "i" else None,
    "target Python list": lambda t: t.tolist(),
    "target masked array": _masked,
}


# --- running one variant ----------------------------------------------------------------------
def _torch_arg(a):
    """A tensor for every array torch can hold; anything else (a list, an object array) is
    passed as it is, and the torch module decides."""
    if isinstance(a, np.ndarray) and a.dtype.kind in "biufc":
        t = torch.from_numpy(np.array(a, copy=True))
        if t.is_floating_point() or t.is_complex():
            t.requires_grad_(True)
        return t
    return a





def _torch_side(t_mod, args):
    """torch's forward (and input gradient of sum(out) when it has one), or the exception."""
    try:
        targs = [_torch_arg(a) for a in args]
        out = t_mod(*targs)
        out0 = out[0] if isinstance(out, tuple) else out
        grad = None
        if targs and isinstance(targs[0], torch.Tensor) and targs[0].requires_grad \
                and out0.requires_grad and not out0.is_complex():
            out0.sum().backward()
            grad = None if targs[0].grad is None else to_numpy(targs[0].grad)
        return (to_numpy(out0) if isinstance(out0, torch.Tensor) else out0), grad, None
    except Exception as exc:  # noqa: BLE001 - torch refusing is a result
        return None, None, exc


def _numpy_side(np_mod, args):
    out = np_mod(*args)
    out0 = out[0] if isinstance(out, tuple) else out
    grad = None
    if isinstance(out0, np.ndarray) and out0.dtype.kind == "f":
        g = np.ones_like(out0)
        ret = np_mod.backward(g) if not isinstance(out, tuple) else np_mod.backward(g, None)
        grad = ret[0] if isinstance(ret, tuple) else ret
    return out0, grad


def run_variant(name: str, entry: Entry, variant: str, args: list) -> dict:
    """One cell of the matrix: ``{cls, variant, outcome, detail}``."""
    row = dict(cls=name, variant=variant)
    np_mod, t_mod = build(entry.spec, np.float64)
    if entry.mode == "eval":
        np_mod.eval()
        t_mod.eval()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            a, ga = _numpy_side(np_mod, args)
            np_exc = None
        except Exception as exc:  # noqa: BLE001
            np_exc = exc
        n_np = len(caught)
        b, gb, t_exc = _torch_side(t_mod, args)
    t_warned = [str(w.message) for w in caught[n_np:] if "broadcast" in str(w.message)]
    if np_exc is not None:
        detail = f"{type(np_exc).__name__}: {np_exc}"
        # a composite (Sequential, TransformerEncoderLayer) may let the child that checks
        # the input name itself (``MultiheadAttention: query must be 2-D or 3-D``)
        owners = {type(m).__name__ for m in np_mod.modules()}
        if any(_is_clear(np_exc, owner) for owner in owners):
            return {**row, "outcome": clear_outcome(t_exc), "detail": detail}
        return {**row, "outcome": "FAIL: unclear error", "detail": detail}
    if t_exc is not None and variant in (entry.by_design or {}):
        return {**row, "outcome": "deviation by design", "detail": entry.by_design[variant]}
    if t_exc is not None:
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"torch: {type(t_exc).__name__}: {str(t_exc)[:120]}"}
    if t_warned:
        return {**row, "outcome": "FAIL: silent broadcast",
                "detail": f"torch only warns: {t_warned[0][:120]}"}
    if type(a) is not type(b) and not (isinstance(b, np.ndarray) and isinstance(a, np.ndarray)):
        return {**row, "outcome": "FAIL: differs from torch",
                "detail": f"forward returned {type(a).__name__}, torch {type(b).__name__}"}
    if gb is not None and not isinstance(ga, np.ndarray):
        return {**row, "outcome": "FAIL: differs from torch",
                "detail": f"backward returned {type(ga).__name__}, torch an array"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        m = deviation(a, b, FLOAT64)
        mg = deviation(ga, gb, FLOAT64) if gb is not None else None
    if not m.passed:
        return {**row, "outcome": "FAIL: differs from torch",
                "detail": f"forward max_abs={m.max_abs:.3g} {m.note}"}
    if mg is not None:
        if not mg.passed:
            return {**row, "outcome": "FAIL: differs from torch",
                    "detail": f"input gradient max_abs={mg.max_abs:.3g} {mg.note}"}
    return {**row, "outcome": "matches torch", "detail": f"output shape {np.shape(a)}"}


def _valid(entry: Entry, rng):
    """``(input, target or None, extra args)``."""
    x = (entry.valid or (lambda r, shape: r.standard_normal(shape)))(rng, entry.shape)
    t = entry.target(rng, x) if entry.target is not None else None
    return x, t, (entry.extra(rng, x) if entry.extra is not None else [])


def cells(name: str, entry: Entry, seed: int = 0) -> list[dict]:
    """Every applicable variant of one class."""
    out = []
    for variant, make in VARIANTS.items():
        if variant in entry.skip:
            continue
        rng = np.random.default_rng(seed)
        x, t, extra = _valid(entry, rng)
        try:
            bad = make(x)
        except (ValueError, TypeError, OverflowError):   # NaN into an index array: n/a
            bad = None
        if bad is None:
            continue
        args = ([bad] if t is None else [bad, t]) + extra
        out.append(run_variant(name, entry, variant, args))
    if entry.extra is not None:                 # the second input (x2, key) alone wrong
        for variant in ("rank +2", "rank -1", "wrong size (last dim)"):
            rng = np.random.default_rng(seed)
            x, t, extra = _valid(entry, rng)
            if not extra or not isinstance(extra[0], np.ndarray) or extra[0].dtype.kind != "f":
                continue
            bad = VARIANTS[variant](extra[0])
            if bad is None:
                continue
            out.append(run_variant(name, entry, f"second input: {variant}",
                                   [x] + ([] if t is None else [t]) + [bad] + extra[1:]))
    if entry.target is not None:
        for variant, make in TARGET_VARIANTS.items():
            if variant in entry.skip:
                continue
            rng = np.random.default_rng(seed)
            x, t, extra = _valid(entry, rng)
            bad = make(t)
            if bad is None:
                continue
            out.append(run_variant(name, entry, variant, [x, bad] + extra))
    return out


# --- constructor arguments --------------------------------------------------------------------
def constructor_variants(spec: Spec) -> list[tuple[str, tuple, dict]]:
    """``(variant, args, kwargs)``: each numeric argument of the entry's valid constructor call,
    and each numeric default of the npimpl class's signature it leaves out, replaced by an
    odd value — an int by 0, -1 and 2.5 (sizes, counts, dims, paddings), a float by -1.0, 0.0
    and 2.0 (a probability, an eps, a momentum, a slope, a bound), one element of a tuple of
    ints at a time, a string option by an unknown name: torch decides which are valid. Where
    both accept, the valid input then runs through both and is compared."""
    import inspect

    out = []

    def odd(v):
        if isinstance(v, tuple) and all(isinstance(e, int) and not isinstance(e, bool)
                                        for e in v):
            # a tuple of ints (kernel size, output size): one element odd at a time
            return tuple(v[:j] + (o,) + v[j + 1:] for j in range(len(v)) for o in (0, -1, 2.5))
        if isinstance(v, str):
            return ("bogus",)                   # an option name torch does not know
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            return ()
        return (0, -1, 2.5) if isinstance(v, int) else tuple(o for o in (-1.0, 0.0, 2.0)
                                                             if o != v)
    for i, a in enumerate(spec.args):
        for v in odd(a):
            out.append((f"constructor arg {i} = {v}", spec.args[:i] + (v,) + spec.args[i + 1:],
                        spec.kwargs))
    for k, a in spec.kwargs.items():
        for v in odd(a):
            out.append((f"constructor {k}={v}", spec.args, {**spec.kwargs, k: v}))
    params = list(inspect.signature(getattr(npimpl, spec.name)).parameters.values())
    for p in params[len(spec.args):]:
        if p.name in spec.kwargs or p.kind not in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY):
            continue
        for v in odd(p.default):
            out.append((f"constructor {p.name}={v}", spec.args, {**spec.kwargs, p.name: v}))
    return out


def constructor_cell(name: str, entry: Entry, variant: str, args: tuple, kwargs: dict) -> dict:
    """Build npimpl's class and torch's with odd arguments: npimpl must refuse (clearly) what
    torch refuses; refusing what torch accepts is counted apart, as for inputs."""
    import inspect

    row = dict(cls=name, variant=variant)
    np_cls, t_cls = getattr(npimpl, name), getattr(torch.nn, name)
    kw = dict(kwargs)
    if "dtype" in inspect.signature(np_cls).parameters and \
            inspect.signature(np_cls).parameters["dtype"].default is not None:
        kw["dtype"] = np.float64
    np_exc = t_exc = None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            np_cls(*args, **kw)
        except Exception as exc:  # noqa: BLE001
            np_exc = exc
        try:
            t_cls(*args, **kwargs)
        except Exception as exc:  # noqa: BLE001
            t_exc = exc
    if np_exc is not None:
        detail = f"{type(np_exc).__name__}: {np_exc}"
        # a composite's constructor builds its children: the child that refuses may name itself
        if any(_is_clear(np_exc, owner) for owner in [name] + list(npimpl.__all__)):
            return {**row, "outcome": clear_outcome(t_exc), "detail": detail}
        return {**row, "outcome": "FAIL: unclear error", "detail": detail}
    if t_exc is not None and variant not in (entry.by_design or {}):
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"torch: {type(t_exc).__name__}: {str(t_exc)[:120]}"}
    if t_exc is not None:
        return {**row, "outcome": "deviation by design", "detail": entry.by_design[variant]}
    # both accept: the entry's valid input through both, compared as any other cell
    import dataclasses
    odd = dataclasses.replace(entry, spec=Spec(name, *args, **kwargs))
    x, t, extra = _valid(entry, np.random.default_rng(0))
    return run_variant(name, odd, variant, ([x] if t is None else [x, t]) + extra)


def backward_first_cell(name: str, entry: Entry) -> dict:
    """``backward`` called before any ``forward`` must raise a RuntimeError that names the
    module itself (not only a child that happens to have nothing cached) and says a forward
    is missing (the contract); an AttributeError on an empty cache, or a silent result, is
    a FAIL."""
    row = dict(cls=name, variant="backward before forward")
    np_mod, _ = build(entry.spec, np.float64)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if entry.target is not None:
                np_mod.backward()
            else:
                np_mod.backward(np.ones(entry.shape))
    except Exception as exc:  # noqa: BLE001
        msg = str(exc)
        if isinstance(exc, RuntimeError) and "forward" in msg and type(np_mod).__name__ in msg:
            return {**row, "outcome": "clear error", "detail": f"RuntimeError: {msg}"}
        return {**row, "outcome": "FAIL: unclear error", "detail": f"{type(exc).__name__}: {msg}"}
    return {**row, "outcome": "FAIL: silent", "detail": "backward returned with nothing cached"}


def constructor_cells(name: str, entry: Entry) -> list[dict]:
    """The constructor variants of one class (none for a composite spec or a class torch.nn
    does not have)."""
    spec = entry.spec
    if spec.name != name or not hasattr(torch.nn, name):
        return []
    return [constructor_cell(name, entry, v, a, k) for v, a, k in constructor_variants(spec)
            if v not in entry.skip]


# --- signatures (the cell itself: compare/badinput_verdict.py) --------------------------------
def signature_rows() -> list[dict]:
    """The signature cells of what the matrix has no class entry for: the lr schedulers and
    the gradient-clipping functions."""
    import npimpl.optim.lr_scheduler as np_sched

    pairs = [(f"lr_scheduler.{n}", getattr(np_sched, n), getattr(torch.optim.lr_scheduler, n))
             for n in np_sched.__all__ if hasattr(torch.optim.lr_scheduler, n)]
    pairs += [(f"utils.{n}", getattr(npimpl.utils, n), getattr(torch.nn.utils, n))
              for n in ("clip_grad_norm_", "clip_grad_value_")]
    # the methods whose defaults a user relies on
    pairs += [(f"Module.{n}", getattr(npimpl.Module, n), getattr(torch.nn.Module, n))
              for n in ("zero_grad", "train", "load_state_dict", "named_parameters",
                        "parameters", "named_modules")]
    pairs += [(f"Optimizer.{n}", getattr(npimpl.optim.Optimizer, n),
               getattr(torch.optim.Optimizer, n)) for n in ("zero_grad", "step")]
    pairs.append(("LRScheduler.step", np_sched.LRScheduler.step,
                  torch.optim.lr_scheduler.LRScheduler.step))
    return [signature_cell(*p) for p in pairs]


def class_cells(name: str, entry: Entry, seed: int = 0) -> list[dict]:
    """Every cell of one class: its inputs, its constructor's arguments and signature,
    backward first."""
    sig = [signature_cell(name, getattr(npimpl, name), getattr(torch.nn, name))] \
        if hasattr(torch.nn, name) else []
    return (cells(name, entry, seed) + constructor_cells(name, entry) + sig
            + [backward_first_cell(name, entry)])


def table() -> dict[str, Entry]:
    """:data:`TABLE` plus every ``BAD_INPUT`` dict that a catalogue family module defines
    (``compare/catalogue/<family>.py``), so a family adds its classes' entries beside its
    cases. Built on each call (the catalogue imports this module, so not at import time)."""
    from .catalogue import family_attr      # lazy: catalogue modules import Entry from here

    out = dict(TABLE)
    for mod_name, extra in family_attr("BAD_INPUT"):
        clash = sorted(set(extra) & set(out))
        if clash:
            raise ValueError(f"bad-input entries for {clash} are defined twice "
                             f"(compare.badinput.TABLE and {mod_name})")
        out.update(extra)
    return out


def public_classes() -> list[str]:
    """Every public npimpl name that is a layer (see :data:`NOT_LAYERS`)."""
    return [n for n in npimpl.__all__ if n not in NOT_LAYERS]


def matrix(seed: int = 0, classes: set | None = None) -> list[dict]:
    """The whole matrix: one dict per (class, variant), the layers then the optimizers
    (``optim.SGD`` ...); a layer with no :data:`TABLE` entry gets one ``FAIL: not covered``
    row. ``classes`` limits it to those class names (a subset run's layers)."""
    rows = []
    entries = table()
    for name in public_classes():
        if classes is not None and name not in classes:
            continue
        entry = entries.get(name)
        if entry is None:
            rows.append(dict(cls=name, variant="-", outcome="FAIL: not covered",
                             detail="add a constructor entry to compare.badinput.TABLE or to "
                                    "a catalogue family's BAD_INPUT"))
            continue
        rows += class_cells(name, entry, seed)
    rows += optimizer_matrix(seed, classes)
    if classes is None:                 # a subset run's matrix: its layers and optimizers only
        rows += signature_rows() + [c for n in SCHEDULER_ARGS for c in scheduler_cells(n)]
    return rows


def counts(rows: list[dict]) -> Counter:
    """``{outcome: count}`` for the report."""
    return Counter(r["outcome"] for r in rows)
