"""What the bench times: :class:`BenchItem` (one row) and :class:`Bench` (a layer's registry entry).

A :class:`Bench` is the bad-input matrix's constructor entry at a realistic size: a spec, an
input shape, and for losses the target (``compare.badinput``'s generators are reused). It
becomes a :class:`BenchItem` through :func:`layer_steps`, which builds one forward+backward on
each side: parameter gradients reset, the same float32 input (and target, extra inputs) on
both, an upstream gradient on the first output only (a training step's shape), every float
input that NumPy differentiates marked ``requires_grad`` on the torch side.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

from reference import Spec, build, to_torch, torch_dtype

Step = Callable[[], None]


@dataclass
class BenchItem:
    """One row of the bench.

    Attributes:
        name: row id, e.g. ``Conv2d(16, 32, 3, padding=1) 32x16x32x32``.
        setup: ``() -> (numpy_step, torch_step)``: two zero-argument callables, each running
            one forward and one backward (built lazily, so registering costs nothing).
        flops: floating-point operations of one step (forward + backward), for GFLOP/s.
        gemm: ``(M, K, N)`` of the float32 GEMM to compare with (None: no GEMM column).
        quick: included in ``--quick`` runs (keep those tiny).
        target: the allowed ratio NumPy time / torch time (the issue's: 2.0 per layer).
        note: shown in bench.md (for a miss: what was measured, and why).
        layer: the npimpl class the row benchmarks ("" for model steps).
    """

    name: str
    setup: Callable[[], tuple[Step, Step]]
    flops: float = float("nan")
    gemm: tuple[int, int, int] | None = None
    quick: bool = False
    target: float | None = 2.0
    note: str = ""
    layer: str = ""


@dataclass
class Bench:
    """A layer's bench entry: how to build it at a realistic size and feed it.

    ``spec`` builds the pair (``reference.build``, weights shared); ``shape`` is the input's;
    ``target(rng, x)`` makes a loss's target, ``extra(rng, x)`` more positional inputs
    (attention's key and value), ``valid(rng, shape)`` the input itself (default standard
    normal; integer indices for Embedding). ``plain_torch`` builds the torch side as
    ``torch.nn.<name>(*args, **kwargs)`` instead of lockstep's twin (the dropout twins reuse
    the NumPy draw, which would hide torch's own sampling from the timing). ``flops`` (of
    one forward+backward) and ``gemm`` (the float32 GEMM the layer is bound by) give the
    GFLOP/s columns; ``note`` says what a miss measured.
    """

    spec: Spec
    shape: tuple
    target: Callable | None = None
    extra: Callable | None = None
    valid: Callable | None = None
    mode: str = "train"
    flops: float = float("nan")
    gemm: tuple | None = None
    note: str = ""
    plain_torch: bool = False
    target_ratio: float | None = 2.0
    label: str = ""
    kwargs: dict = field(default_factory=dict)

    def name(self) -> str:
        return self.label or (f"{self.spec!r} {'x'.join(map(str, self.shape))}"
                              + (" eval" if self.mode == "eval" else ""))

    def item(self, quick: bool = False) -> BenchItem:
        return BenchItem(self.name(), lambda: layer_steps(self), self.flops, self.gemm,
                         quick=quick, target=self.target_ratio, note=self.note,
                         layer=self.spec.name)


def _float32(a):
    return a.astype(np.float32) if isinstance(a, np.ndarray) and a.dtype.kind == "f" else a


def _pair(entry: Bench, dtype):
    np_mod, t_mod = build(entry.spec, dtype)
    if entry.plain_torch:
        t_mod = getattr(torch.nn, entry.spec.name)(*entry.spec.args, **entry.spec.kwargs)
        t_mod = t_mod.to(torch_dtype(dtype))
    if entry.mode == "eval":
        np_mod.eval()
        t_mod.eval()
    return np_mod, t_mod


def _first(out):
    while isinstance(out, (tuple, list)):
        out = out[0]
    return out


def _grad_struct(out, g):
    """``out``'s structure with ``g`` at the first leaf and None elsewhere."""
    if isinstance(out, (tuple, list)):           # a plain tuple (ASMoutput is a NamedTuple)
        return tuple(_grad_struct(o, g if i == 0 else None) for i, o in enumerate(out))
    return g


def layer_inputs(entry: Bench, seed: int = 0):
    """``(positional inputs, which of them are differentiated)``, float arrays in float32."""
    from compare.badinput import _valid        # the bad-input matrix's generators, reused

    rng = np.random.default_rng(seed)
    x, t, extra = _valid(entry, rng)
    args = [_float32(np.asarray(x))] + ([_float32(np.asarray(t))] if t is not None else [])
    args += [_float32(np.asarray(a)) for a in extra]
    return args, rng


def layer_steps(entry: Bench | Spec, shape=None, dtype=np.float32, seed: int = 0):
    """``(numpy_step, torch_step)`` for forward+backward of one layer (a :class:`Bench`, or a
    spec and an input shape)."""
    if not isinstance(entry, Bench):
        entry = Bench(entry, tuple(shape))
    np_mod, t_mod = _pair(entry, dtype)
    args, rng = layer_inputs(entry, seed)
    diff = getattr(np_mod, "grad_inputs", None) or (
        (0,) if entry.target is not None else range(len(args)))
    out = _first(np_mod(*args, **entry.kwargs))
    g = rng.standard_normal(out.shape).astype(out.dtype)
    t_args = [to_torch(a, requires_grad=i in diff) for i, a in enumerate(args)]
    leaves = [a for a in t_args if isinstance(a, torch.Tensor) and a.requires_grad]
    tg = to_torch(g)

    def np_step():
        np_mod.zero_grad()
        o = np_mod(*args, **entry.kwargs)
        if isinstance(o, tuple):
            np_mod.backward(*_grad_struct(o, g))
        else:
            np_mod.backward(g)

    np_step.module = np_mod             # the memory pass drops its cached activations first

    def torch_step():
        t_mod.zero_grad()
        for a in leaves:
            a.grad = None
        _first(t_mod(*t_args, **entry.kwargs)).backward(tg)

    torch_step.module, torch_step.leaves = t_mod, leaves    # the memory pass clears their grads
    return np_step, torch_step


BENCH_ITEMS: list[BenchItem] = []


def register(item: BenchItem) -> BenchItem:
    """Append ``item`` to :data:`BENCH_ITEMS` (names must be unique)."""
    if any(i.name == item.name for i in BENCH_ITEMS):
        raise ValueError(f"bench item {item.name!r} is already registered")
    BENCH_ITEMS.append(item)
    return item
