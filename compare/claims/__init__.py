"""Claims are checks: every measurable "What torch hides" sentence has a function that
measures it.

A claim is registered with :func:`claim`::

    @claim("LayerNorm", "torch's autograd node saves the input, weight, bias, mean and rstd")
    def layernorm_saved_tensors():
        ...                                   # run torch (and npimpl), measure
        return Measured("saved: input, weight, bias, mean, rstd", ok=names == expected)

The function returns :class:`Measured`: the value it measured, written for a reader
(``"grad at x = 0: 0.16666667163"``), and whether the claim holds. :func:`check` runs
claims (a crash is a failed claim, with the error as its value); ``lockstep report`` fails
on a failed claim exactly as on a deviation, and the book shows each claim beside its
layer with its mark and its number.

Every module of this package is imported by :func:`all_claims`, so a family adds its
claims in a new file here (``compare/claims/<family>.py``) without editing this one.
"""
from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch


@dataclass(frozen=True)
class Measured:
    """What a claim's check measured (``value``, for the reader) and whether the claim holds."""

    value: str
    ok: bool


@dataclass(frozen=True)
class Claim:
    layer: str            # the npimpl class the claim is about (its book page)
    text: str             # the statement, as the book prints it
    check: Callable[[], Measured]
    name: str             # the check function's name
    source: str           # file of the check, relative to the repository root
    line: int


@dataclass(frozen=True)
class Verdict:
    claim: Claim
    value: str
    passed: bool
    seconds: float = 0.0


_REGISTRY: dict[str, Claim] = {}


def claim(layer: str, text: str):
    """Register the decorated function as the check of ``text`` about ``layer``."""
    def register(fn):
        src = inspect.getsourcefile(fn)
        root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
        key = f"{fn.__module__}.{fn.__name__}"
        _REGISTRY[key] = Claim(layer, " ".join(text.split()), fn, fn.__name__,
                               os.path.relpath(src, root).replace(os.sep, "/"),
                               inspect.getsourcelines(fn)[1])
        return fn
    return register


def all_claims() -> list[Claim]:
    """Every registered claim (each module of this package imported once), in file order."""
    for m in pkgutil.iter_modules(__path__):
        importlib.import_module(f"{__name__}.{m.name}")
    return list(_REGISTRY.values())


def for_layer(layer: str) -> list[Claim]:
    return [c for c in all_claims() if c.layer == layer]


def check(claims: list[Claim] | None = None) -> list[Verdict]:
    """Run each claim's check (one torch thread; torch's random state and default dtype are
    restored after each)."""
    out = []
    threads, default = torch.get_num_threads(), torch.get_default_dtype()
    torch.set_num_threads(1)
    try:
        for c in all_claims() if claims is None else claims:
            t0 = time.perf_counter()
            try:
                # a check may seed or draw from torch's global generator: not the caller's
                with np.errstate(all="ignore"), torch.random.fork_rng(devices=[]):
                    m = c.check()
                value, ok = m.value, bool(m.ok)
            except Exception as exc:  # noqa: BLE001 - a crashing check is a failed claim
                value, ok = f"the check raised {type(exc).__name__}: {exc}", False
            finally:
                torch.set_default_dtype(default)
            out.append(Verdict(c, value, ok, time.perf_counter() - t0))
    finally:
        torch.set_num_threads(threads)
    return out


# --- small helpers shared by the claim files ------------------------------------------------
def t64(*values) -> torch.Tensor:
    """A float64 leaf tensor that requires grad."""
    return torch.tensor(values, dtype=torch.float64, requires_grad=True)


def torch_grad(fn, x: torch.Tensor) -> np.ndarray:
    """d sum(fn(x)) / dx as a NumPy array."""
    fn(x).sum().backward()
    return x.grad.detach().numpy().copy()


def npimpl_grad(module, x: np.ndarray) -> np.ndarray:
    """The input gradient an npimpl module returns for an upstream gradient of ones."""
    y = module(x)
    return module.backward(np.ones_like(y))


def same(a, b, rtol: float = 1e-12, atol: float = 1e-14) -> bool:
    """NumPy and torch agree to rounding (float64)."""
    return bool(np.allclose(np.asarray(a), np.asarray(b), rtol=rtol, atol=atol, equal_nan=True))
