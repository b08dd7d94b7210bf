"""The bad-input matrix for optimizers: odd parameter lists, options and gradients.

Each variant builds an ``npimpl.optim`` optimizer and its ``torch.optim`` twin on the
same values, assigns the gradient and takes one step; as for the layers
(:mod:`compare.badinput`), npimpl must match torch or raise a clear error.
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch

import npimpl
from reference import to_numpy

from .badinput import _is_clear
from .metrics import FLOAT64, deviation


# --- optimizers ---------------------------------------------------------------------------------
#: odd optimizer set-ups: name -> (rng) -> (np params, torch params, kwargs, np grads, t grads)
#: optimizers that take only some parameter shapes get a valid one (Muon: matrices)
SHAPES = {"Muon": (3, 2)}


def _params(rng, shape=(3,), grad_shape=None, grad_value=None):
    w = rng.standard_normal(shape)
    grad_shape = shape if grad_shape is None else grad_shape
    g = rng.standard_normal(grad_shape) if grad_value is None else np.full(grad_shape, grad_value)
    p = npimpl.Parameter(w.copy())
    t = torch.nn.Parameter(torch.from_numpy(w.copy()))
    return [p], [t], {}, [g], [torch.from_numpy(np.array(g, copy=True))]


OPTIMIZER_VARIANTS: dict[str, Callable] = {
    "empty parameter list": lambda rng, shape: ([], [], {}, [], []),
    "ndarray instead of Parameter": lambda rng, shape: ([np.zeros(shape)], [np.zeros(shape)],
                                                        {}, [], []),
    "negative lr": lambda rng, shape: (*_params(rng, shape)[:2], {"lr": -1.0},
                                       *_params(rng, shape)[3:]),
    "NaN gradient": lambda rng, shape: _params(rng, shape, grad_value=np.nan),
    "+inf gradient": lambda rng, shape: _params(rng, shape, grad_value=np.inf),
    "gradient of the wrong shape": lambda rng, shape: _params(rng, shape, grad_shape=(1,)),
    "zero gradient": lambda rng, shape: _params(rng, shape, grad_value=0.0),
}


def _optimizer_cell(name: str, variant: str, seed: int) -> dict:
    row = dict(cls=f"optim.{name}", variant=variant)
    np_ps, t_ps, kw, np_gs, t_gs = OPTIMIZER_VARIANTS[variant](np.random.default_rng(seed),
                                                               SHAPES.get(name, (3,)))
    np_exc = t_exc = None
    def closure(ps, gs):
        """Set the gradients (again) and return the loss of which they are the gradient,
        sum(p * g): what LBFGS re-evaluates; the other optimizers take it too."""
        def f():
            for p, g in zip(ps, gs):
                p.grad = g
            return float(sum(np.sum(np.asarray(to_numpy(p.data)) * np.asarray(to_numpy(g)))
                             for p, g in zip(ps, gs)))
        return f
    try:
        opt = getattr(npimpl.optim, name)(np_ps, **kw)
        opt.step(closure(np_ps, np_gs))
    except Exception as exc:  # noqa: BLE001
        np_exc = exc
    try:
        t_opt = getattr(torch.optim, name)(t_ps, **kw)
        t_opt.step(closure(t_ps, t_gs))
    except Exception as exc:  # noqa: BLE001
        t_exc = exc
    if np_exc is not None:
        outcome = "clear error" if _is_clear(np_exc, name) else "FAIL: unclear error"
        return {**row, "outcome": outcome, "detail": f"{type(np_exc).__name__}: {np_exc}"}
    if t_exc is not None:
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"torch: {type(t_exc).__name__}: {str(t_exc)[:120]}"}
    for p, t in zip(np_ps, t_ps):
        m = deviation(p.data, to_numpy(t), FLOAT64)
        if not m.passed:
            return {**row, "outcome": "FAIL: differs from torch",
                    "detail": f"parameter after one step max_abs={m.max_abs:.3g} {m.note}"}
    return {**row, "outcome": "matches torch", "detail": "parameters after one step"}


def optimizer_names() -> list[str]:
    """Every public optimizer class (the base class and the schedulers take no gradients)."""
    return [n for n in npimpl.optim.__all__ if isinstance(getattr(npimpl.optim, n), type)
            and issubclass(getattr(npimpl.optim, n), npimpl.optim.Optimizer)
            and n != "Optimizer"]


def optimizer_matrix(seed: int = 0, names: set | None = None) -> list[dict]:
    """Every optimizer (or those in ``names``) against every variant."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return [_optimizer_cell(n, v, seed) for n in optimizer_names()
                if names is None or n in names for v in OPTIMIZER_VARIANTS]
