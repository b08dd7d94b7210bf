"""The bad-input matrix for optimizers: odd parameter lists, options and gradients.

Each variant builds an ``npimpl.optim`` optimizer and its ``torch.optim`` twin on the
same values, assigns the gradient and takes one step; as for the layers
(:mod:`compare.badinput`), npimpl must match torch or raise a clear error. For an odd
constructor argument the clear error must name that option, and an option torch refuses at
construction must be refused there (not only at the step, or never).
"""
from __future__ import annotations

import warnings
from typing import Callable

import numpy as np
import torch

import npimpl
from reference import to_numpy

from .badinput_verdict import _is_clear, clear_outcome, signature_cell
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
    "parameter in two groups": lambda rng, shape: _two_groups(rng, shape),
}


def _two_groups(rng, shape):
    """Groups ``[p0]`` and ``[p0, p1]``: p0 in both (torch refuses it), p1 new."""
    (p0,), (t0,), _, (g0,), (tg0,) = _params(rng, shape)
    (p1,), (t1,), _, (g1,), (tg1,) = _params(rng, shape)
    return ([{"params": [p0]}, {"params": [p0, p1]}], [{"params": [t0]}, {"params": [t0, t1]}],
            {}, [g0, g1], [tg0, tg1])


#: boundary values of options that the generic odd values (-1, 0, 2, 2.5) do not reach
BOUNDARY_KWARGS = {"Muon": [("ns_steps", 100)]}


def constructor_kwargs(name: str) -> list[tuple[str, dict]]:
    """``(variant, kwargs)``: every numeric default of the optimizer's signature set to an odd
    value (a float -1, 0 or 2; an int -1, 0, 2 or 2.5; each element of a tuple such as
    ``betas`` to -1 or 1), and nesterov without momentum or with dampening: torch decides
    which it refuses."""
    import inspect

    out = []
    for p in inspect.signature(getattr(npimpl.optim, name)).parameters.values():
        d = p.default
        if isinstance(d, bool) or p.name in ("params",):
            continue
        if isinstance(d, int):          # a count: torch decides about 0, -1 and a float
            out += [(f"{p.name}={v}", {p.name: v}) for v in (-1, 0, 2, 2.5) if v != d]
        elif isinstance(d, float):
            out += [(f"{p.name}={v}", {p.name: v}) for v in (-1.0, 0.0, 2.0) if v != d]
        elif isinstance(d, tuple) and all(isinstance(e, float) for e in d):
            out += [(f"{p.name}[{j}]={v}", {p.name: d[:j] + (v,) + d[j + 1:]})
                    for j in range(len(d)) for v in (-1.0, 1.0)]
    out += [(f"{k}={v}", {k: v}) for k, v in BOUNDARY_KWARGS.get(name, [])]
    if "nesterov" in inspect.signature(getattr(npimpl.optim, name)).parameters:
        out += [("nesterov without momentum", dict(nesterov=True, momentum=0.0)),
                ("nesterov with dampening", dict(nesterov=True, momentum=0.9, dampening=0.5))]
    return out


def _optimizer_cell(name: str, variant: str, seed: int, kwargs: dict | None = None) -> dict:
    row = dict(cls=f"optim.{name}", variant=variant if kwargs is None else
               f"constructor {variant}")
    rng, shape = np.random.default_rng(seed), SHAPES.get(name, (3,))
    if kwargs is None:
        np_ps, t_ps, kw, np_gs, t_gs = OPTIMIZER_VARIANTS[variant](rng, shape)
    else:
        np_ps, t_ps, _, np_gs, t_gs = _params(rng, shape)
        kw = kwargs
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
    np_built = t_built = False
    try:
        opt = getattr(npimpl.optim, name)(np_ps, **kw)
        np_built = True
        opt.step(closure(_flat(np_ps), np_gs))
    except Exception as exc:  # noqa: BLE001
        np_exc = exc
    try:
        t_opt = getattr(torch.optim, name)(t_ps, **kw)
        t_built = True
        t_opt.step(closure(_flat(t_ps), t_gs))
    except Exception as exc:  # noqa: BLE001
        t_exc = exc
    if np_built and not t_built:
        # a refusal that only comes at the step (or not at all) is not torch's refusal: the
        # option itself went unchecked (SparseAdam's dense gradient refused either way)
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"constructed; torch refuses at construction: "
                          f"{type(t_exc).__name__}: {str(t_exc)[:120]}"
                          + (f"; npimpl at the step: {type(np_exc).__name__}: {np_exc}"
                             if np_exc is not None else "")}
    if np_exc is not None and kwargs is not None and not np_built \
            and not any(w in str(np_exc) for k in kwargs for w in _option_words(k)):
        return {**row, "outcome": "FAIL: unclear error",
                "detail": f"the message does not name the option {sorted(kwargs)}: "
                          f"{type(np_exc).__name__}: {np_exc}"}
    if np_exc is not None:
        outcome = clear_outcome(t_exc) if _is_clear(np_exc, name) else "FAIL: unclear error"
        return {**row, "outcome": outcome, "detail": f"{type(np_exc).__name__}: {np_exc}"}
    if t_exc is not None:
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"torch: {type(t_exc).__name__}: {str(t_exc)[:120]}"}
    for p, t in zip(_flat(np_ps), _flat(t_ps)):
        m = deviation(p.data, to_numpy(t), FLOAT64)
        if not m.passed:
            return {**row, "outcome": "FAIL: differs from torch",
                    "detail": f"parameter after one step max_abs={m.max_abs:.3g} {m.note}"}
    return {**row, "outcome": "matches torch", "detail": "parameters after one step"}


#: how a message may name an option besides its own name (``weight_decay`` or "weight decay")
OPTION_WORDS = {"eps": ("epsilon",), "lr": ("learning rate",), "betas": ("beta",),
                "etas": ("eta",), "step_sizes": ("step size",)}


def _option_words(option: str) -> tuple:
    return (option, option.replace("_", " ")) + OPTION_WORDS.get(option, ())


def _flat(ps) -> list:
    """The parameters of a parameter list or of a list of groups, each once."""
    out = []
    for p in (p for q in ps for p in (q["params"] if isinstance(q, dict) else [q])):
        if not any(p is o for o in out):
            out.append(p)
    return out


def optimizer_names() -> list[str]:
    """Every public optimizer class (the base class and the schedulers take no gradients)."""
    return [n for n in npimpl.optim.__all__ if isinstance(getattr(npimpl.optim, n), type)
            and issubclass(getattr(npimpl.optim, n), npimpl.optim.Optimizer)
            and n != "Optimizer"]


def optimizer_matrix(seed: int = 0, names: set | None = None) -> list[dict]:
    """Every optimizer (or those in ``names``): its variants, odd constructor arguments and
    signature."""
    return [c for n in optimizer_names() if names is None or n in names
            for c in optimizer_cells(n, seed)]


def optimizer_cells(name: str, seed: int = 0) -> list[dict]:
    """Every variant of one optimizer, and its signature against torch's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return ([_optimizer_cell(name, v, seed) for v in OPTIMIZER_VARIANTS]
                + [_optimizer_cell(name, v, seed, kw) for v, kw in constructor_kwargs(name)]
                + [signature_cell(f"optim.{name}", getattr(npimpl.optim, name),
                                  getattr(torch.optim, name))])


# --- learning-rate schedulers: odd constructor arguments ------------------------------------------
#: the arguments each scheduler needs (the odd values replace these and the signature's
#: numeric defaults one at a time)
SCHEDULER_ARGS = {
    "StepLR": dict(step_size=2), "MultiStepLR": dict(milestones=[2, 4]),
    "ExponentialLR": dict(gamma=0.9), "CosineAnnealingLR": dict(T_max=5),
    "LambdaLR": dict(lr_lambda=lambda e: 0.5 ** e), "LinearLR": {},
    "OneCycleLR": dict(max_lr=0.1, total_steps=10),
}


def scheduler_cells(name: str) -> list[dict]:
    """A scheduler built with each numeric argument set odd (-1, 0 or 2; an int also 2.5)
    beside torch's: npimpl must refuse clearly what torch refuses, and where both accept,
    the learning rates of five steps must agree."""
    import inspect

    import npimpl.optim.lr_scheduler as np_sched

    base = SCHEDULER_ARGS.get(name)
    if base is None:
        return []
    params = inspect.signature(getattr(np_sched, name)).parameters
    variants = []
    for pname, p in params.items():
        v = base.get(pname, p.default)
        if isinstance(v, bool) or not isinstance(v, (int, float)) or pname == "last_epoch":
            continue
        odd = (0, -1, 2.5) if isinstance(v, int) else (-1.0, 0.0, 2.0)
        variants += [(f"constructor {pname}={o}", {**base, pname: o}) for o in odd if o != v]
    return [_scheduler_cell(name, v, kw) for v, kw in variants]


def _scheduler_cell(name: str, variant: str, kw: dict) -> dict:
    import npimpl.optim.lr_scheduler as np_sched

    row = dict(cls=f"lr_scheduler.{name}", variant=variant)
    w = np.zeros(3)
    np_opt = npimpl.optim.SGD([npimpl.Parameter(w.copy())], lr=0.1, momentum=0.9)
    t_opt = torch.optim.SGD([torch.nn.Parameter(torch.from_numpy(w.copy()))], lr=0.1,
                            momentum=0.9)
    np_lrs, t_lrs, np_exc, t_exc = [], [], None, None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            s = getattr(np_sched, name)(np_opt, **kw)
            for _ in range(5):
                np_opt.step()
                s.step()
                np_lrs.append(np_opt.param_groups[0]["lr"])
        except Exception as exc:  # noqa: BLE001
            np_exc = exc
        try:
            s = getattr(torch.optim.lr_scheduler, name)(t_opt, **kw)
            for _ in range(5):
                t_opt.step()
                s.step()
                t_lrs.append(t_opt.param_groups[0]["lr"])
        except Exception as exc:  # noqa: BLE001
            t_exc = exc
    if np_exc is not None:
        outcome = (clear_outcome(t_exc) if _is_clear(np_exc, name) else
                   "same error as torch" if type(np_exc) is type(t_exc) else
                   "FAIL: unclear error")      # torch's own ZeroDivisionError, for instance
        return {**row, "outcome": outcome, "detail": f"{type(np_exc).__name__}: {np_exc}"}
    if t_exc is not None:
        return {**row, "outcome": "FAIL: silent (torch refuses)",
                "detail": f"torch: {type(t_exc).__name__}: {str(t_exc)[:120]}"}
    m = deviation(np.asarray(np_lrs, np.float64), np.asarray(t_lrs, np.float64), FLOAT64)
    if not m.passed:
        return {**row, "outcome": "FAIL: differs from torch",
                "detail": f"learning rates {np_lrs} vs torch {t_lrs}"}
    return {**row, "outcome": "matches torch", "detail": "five steps' learning rates"}
