"""Optimizer base: parameter groups, per-parameter state and its state_dict, as
``torch.optim.Optimizer``.

Every optimizer here follows torch's ``_single_tensor_*`` code path (the one
torch takes on CPU): one parameter at a time, in group order, with torch's
order of floating-point operations, so that float64 trajectories agree with
torch to rounding over hundreds of steps.
"""
from __future__ import annotations

import copy

import numpy as np

from ..module import Parameter
from ..sparse import SparseGrad

#: torch keeps ``step`` as a 0-d float tensor of the default dtype (float32), not an int.
STEP_DTYPE = np.float32


def step_counter() -> np.ndarray:
    """A fresh ``step`` counter: a 0-d float32 array, as torch's ``torch.tensor(0.0)``."""
    return np.zeros((), dtype=STEP_DTYPE)


def scalar(value, name: str = "hyperparameter"):
    """A hyperparameter as torch uses it: a Python number stays a Python float; any
    one-element array or NumPy scalar (torch accepts a 1-element tensor for ``lr``,
    ``betas`` …) becomes a NumPy scalar *of its dtype*, so that what torch computes from a
    tensor (``lr / bias_correction1``, ``1 - lr * weight_decay``, NAdam's ``mu_product *=
    mu`` in float64) is computed in that dtype here too. (np.float64 is a Python float
    subclass: it is tested first, or a float64 tensor's arithmetic would be lost.)"""
    if isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be a number or a 1-element array, got {value!r}")
    if isinstance(value, (int, float)) and not isinstance(value, np.generic):
        return float(value)
    arr = np.asarray(value)
    if arr.size != 1 or arr.dtype.kind not in "iuf":
        raise ValueError(f"{name} must be a number or a 1-element array, got {value!r}")
    v = arr.reshape(-1)[0]
    return v if arr.dtype.kind == "f" else float(v)


def rdiv(number, x):
    """``number / x`` as torch computes a Python number over a 0-d tensor: when ``x`` is a
    NumPy float scalar (a tensor hyperparameter's arithmetic), as ``reciprocal(x) * number``
    in its dtype (torch's ``Tensor.__rtruediv__``); otherwise a plain division."""
    if isinstance(x, np.floating) and not isinstance(number, np.generic):
        one = x.dtype.type(1)
        return (one / x) * x.dtype.type(number)
    return number / x


def check_nonneg(owner: str, **values) -> None:
    """ValueError naming the option unless every value is >= 0 (torch's checks)."""
    for name, v in values.items():
        if not scalar(v, f"{owner}: {name}") >= 0.0:
            raise ValueError(f"{owner}: invalid {name.replace('_', ' ')} {v} (expected >= 0)")


def lazy_state(optimizer, p, *buffers: str) -> dict:
    """``p``'s state, created at its first step: ``step`` (0-d float32) and the named
    buffers, zero arrays like ``p``."""
    state = optimizer.state.setdefault(p, {})
    if not state:
        state["step"] = step_counter()
        for name in buffers:
            state[name] = np.zeros_like(p.data)
    return state


def decay_weights(p, g: np.ndarray, lr, weight_decay, decoupled: bool) -> np.ndarray:
    """Weight decay as Adam, RAdam and NAdam apply it: decoupled (AdamW's rule) shrinks
    ``p`` in place by ``1 - lr * weight_decay``; otherwise (L2) it returns
    ``g + weight_decay * p``, which then enters the moments."""
    if weight_decay == 0:
        return g
    if decoupled:
        p.data *= 1 - lr * weight_decay
        return g
    return g + weight_decay * p.data


def lerp_(start: np.ndarray, end: np.ndarray, weight: float) -> np.ndarray:
    """In place ``start += weight * (end - start)``, with torch's two-sided formula.

    torch's ``lerp`` computes ``start + w (end - start)`` when ``|w| < 0.5`` and
    ``end - (end - start)(1 - w)`` otherwise (better rounding near either end);
    Adam's ``exp_avg.lerp_(grad, 1 - beta1)`` is this, not ``beta1 m + (1 - beta1) g``.
    """
    weight = float(weight)
    if abs(weight) < 0.5:
        start += weight * (end - start)
    else:
        start[...] = end - (end - start) * (1.0 - weight)
    return start


def from_tensors(obj):
    """``obj`` with every tensor-like leaf (``detach()`` and ``numpy()``) turned into a NumPy
    array of its dtype; dicts, lists and tuples walked; anything else kept."""
    if hasattr(obj, "detach") and hasattr(obj, "numpy"):
        return np.array(obj.detach().cpu().numpy(), copy=True)
    if isinstance(obj, dict):
        return {k: from_tensors(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return type(obj)(from_tensors(v) for v in obj)
    return obj


class Optimizer:
    """Holds ``param_groups`` (a list of dicts: ``params`` plus that group's options)
    and ``state`` (a dict keyed by Parameter with the per-parameter buffers).

    ``params`` may be an iterable of Parameters, of ``(name, Parameter)`` pairs
    (the names are kept under ``param_names``), or of dicts
    ``{'params': [...], 'lr': ...}``; options missing from a group are taken from
    ``defaults``, as in torch.

    Subclasses implement ``_update(p, grad, group)``: one parameter's update,
    called by :meth:`step` for every parameter whose ``.grad`` is not None.

    What torch hides:
        ``state_dict()`` replaces each Parameter by its position counted over
        all groups (``{'state': {0: {...}}, 'param_groups': [{..., 'params': [0, 1]}]}``);
        only parameters that have state appear under ``state``. Loading casts
        every state array to its parameter's dtype except ``step``, which keeps
        its own dtype; the group options (lr included) come from the saved dict.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        if isinstance(params, (Parameter, np.ndarray, set)):
            raise TypeError(f"{type(self).__name__}: params argument given to the optimizer "
                            f"should be an iterable of Parameters or dicts, got "
                            f"{type(params).__name__}")
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def _name(self) -> str:
        return type(self).__name__

    def add_param_group(self, param_group: dict) -> None:
        """Add a group; its missing options are filled from ``defaults``."""
        if not isinstance(param_group, dict):
            raise TypeError(f"{self._name()}: a parameter group must be a dict, got "
                            f"{type(param_group).__name__}")
        group = dict(param_group)
        ps = group["params"]
        if isinstance(ps, set):
            raise TypeError(f"{self._name()}: optimizer parameters need to be organized in "
                            "ordered collections, got a set")
        ps = [ps] if isinstance(ps, Parameter) else list(ps)
        if ps and all(isinstance(p, tuple) and len(p) == 2 for p in ps):
            group["param_names"] = [n for n, _ in ps]
            ps = [p for _, p in ps]
        group["params"] = ps
        for p in ps:
            if not isinstance(p, Parameter):
                raise TypeError(f"{self._name()}: can only optimize npimpl Parameters, "
                                f"got {type(p).__name__}")
        if len({id(p) for p in ps}) != len(ps):
            raise ValueError(f"{self._name()}: a parameter group contains the same parameter "
                             "twice")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in ps):
            raise ValueError(f"{self._name()}: some parameters appear in more than one "
                             "parameter group (expected each in one group only)")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    #: what a sparse gradient (``Embedding(sparse=True)``) gets, as in torch: "refuse" (most
    #: optimizers raise), "dense" (the update equals the dense one: SGD, Adagrad, except with
    #: weight_decay, which torch cannot add to a sparse gradient), "sparse" (SparseAdam)
    sparse_grads = "refuse"

    def _sparse_grad(self, grad: SparseGrad, group: dict):
        """What :meth:`step` hands to ``_update`` for a sparse gradient, or TypeError."""
        name = self._name()
        if self.sparse_grads == "sparse":
            return grad
        if self.sparse_grads == "dense":
            if group["weight_decay"]:               # SGD and Adagrad: always in the group
                raise TypeError(f"{name}: weight_decay is not compatible with sparse gradients "
                                "(torch refuses it too); expected weight_decay=0")
            return grad.to_dense()
        raise TypeError(f"{name} does not support sparse gradients, please consider SparseAdam "
                        "instead (expected a dense gradient)")

    def step(self, closure=None):
        """One update of every parameter that has a gradient; returns ``closure()`` if given."""
        loss = closure() if closure is not None else None
        for group in self.param_groups:
            for p in group["params"]:
                if isinstance(p.grad, SparseGrad):
                    self._update(p, self._sparse_grad(p.grad, group), group)
                elif p.grad is not None:
                    if np.shape(p.grad) != p.data.shape:     # would broadcast silently
                        raise ValueError(f"{type(self).__name__}: gradient of shape "
                                         f"{np.shape(p.grad)} for a parameter of shape "
                                         f"{p.data.shape} (expected the same shape)")
                    self._update(p, p.grad, group)
        return loss

    def _update(self, p: Parameter, grad: np.ndarray, group: dict) -> None:
        raise NotImplementedError

    # -- state_dict ------------------------------------------------------------------
    def state_dict(self) -> dict:
        """``{'state': {index: {name: array}}, 'param_groups': [{options..., 'params': [index]}]}``.

        Unlike torch (which hands out references) the arrays are copies, so a
        snapshot taken mid-run stays a snapshot.
        """
        index: dict[int, int] = {}
        groups = []
        for g in self.param_groups:
            packed = {k: copy.deepcopy(v) for k, v in g.items() if k != "params"}
            for p in g["params"]:
                index.setdefault(id(p), len(index))
            packed["params"] = [index[id(p)] for p in g["params"]]
            groups.append(packed)
        by_id = {id(p): p for g in self.param_groups for p in g["params"]}
        state = {}
        for p, s in self.state.items():
            key = index[id(p)] if id(p) in by_id else p
            state[key] = {k: (np.array(v, copy=True) if isinstance(v, np.ndarray)
                              else copy.deepcopy(v)) for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load a state_dict from :meth:`state_dict`, or torch's optimizer's ``state_dict()``
        as it is: its tensors (anything with ``detach()`` and ``numpy()``, so npimpl needs no
        torch) become arrays of their own dtype, a 0-d float32 ``step`` included."""
        if not isinstance(state_dict, dict) or not {"state", "param_groups"} <= set(state_dict):
            raise ValueError(f"{self._name()}: a state_dict is a dict with 'state' and "
                             f"'param_groups', got {type(state_dict).__name__} with keys "
                             f"{sorted(state_dict) if isinstance(state_dict, dict) else '-'}")
        state_dict = from_tensors(state_dict)
        saved = copy.deepcopy(state_dict["param_groups"])
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{self._name()}: loaded state dict has {len(saved)} parameter "
                             f"groups, the optimizer has {len(self.param_groups)}")
        for i, (g, s) in enumerate(zip(self.param_groups, saved)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{self._name()}: loaded parameter group {i} has "
                                 f"{len(s['params'])} parameters, the optimizer's has "
                                 f"{len(g['params'])}")
        id_map = {k: p for g, s in zip(self.param_groups, saved)
                  for k, p in zip(s["params"], g["params"])}
        state: dict = {}
        for k, v in state_dict["state"].items():
            if k not in id_map:
                state[k] = copy.deepcopy(v)
                continue
            p = id_map[k]
            state[p] = {name: self._cast_state(p, name, val) for name, val in v.items()}
        for g, s in zip(self.param_groups, saved):
            s["params"] = g["params"]
            if "param_names" in g and "param_names" not in s:
                s["param_names"] = g["param_names"]
        self.param_groups = saved
        self.state = state

    def _cast_state(self, p: Parameter, name: str, val):
        """torch's ``_process_value_according_to_param_policy``: every array in the state (in
        lists too: LBFGS's history) takes its parameter's dtype, except ``step``, which keeps
        its own (a plain number becomes a 0-d float32, as torch's ``tensor(step)``)."""
        if name == "step":
            if isinstance(val, np.ndarray):
                return np.array(val, copy=True)
            if isinstance(val, (float, np.floating)):
                return np.array(float(val), dtype=STEP_DTYPE)
            return copy.deepcopy(val)                   # SparseAdam's int step stays an int
        return self._cast_leaf(p, val)

    def _cast_leaf(self, p: Parameter, val):
        if isinstance(val, np.ndarray):     # torch: every tensor to a floating param's dtype
            return val.astype(p.data.dtype if p.data.dtype.kind == "f" else val.dtype, copy=True)
        if isinstance(val, (list, tuple)):
            return type(val)(self._cast_leaf(p, v) for v in val)
        return copy.deepcopy(val)

    def __repr__(self) -> str:
        lines = [f"{self._name()} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(g.items())
                      if k not in ("params", "param_names")]
        return "\n".join(lines + [")"])
