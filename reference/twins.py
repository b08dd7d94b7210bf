"""Specs, twin builders and weight sharing between npimpl and torch."""
from __future__ import annotations

import inspect
from dataclasses import dataclass, field
from typing import Callable

import numpy as np
import torch

import npimpl
from npimpl.utils.rnn import PackedSequence

_TORCH_DTYPES = {np.dtype(np.float16): torch.float16, np.dtype(np.float32): torch.float32,
                 np.dtype(np.float64): torch.float64}


def torch_dtype(dtype) -> torch.dtype:
    """The torch dtype of a NumPy float dtype."""
    return _TORCH_DTYPES[np.dtype(dtype)]


def to_torch(obj, requires_grad: bool = False):
    """Convert ndarrays (nested in tuples/lists/dicts) to tensors; float ones may require grad.
    An npimpl PackedSequence becomes torch's (its ``data`` the leaf that may require grad)."""
    if isinstance(obj, PackedSequence):
        return torch.nn.utils.rnn.PackedSequence(
            to_torch(obj.data, requires_grad), torch.from_numpy(obj.batch_sizes.copy()),
            *(None if i is None else torch.from_numpy(i.copy())
              for i in (obj.sorted_indices, obj.unsorted_indices)))
    if isinstance(obj, np.ndarray):
        t = torch.from_numpy(np.array(obj, copy=True))
        if requires_grad and t.is_floating_point():
            t.requires_grad_(True)
        return t
    if isinstance(obj, tuple):
        return tuple(to_torch(o, requires_grad) for o in obj)
    if isinstance(obj, list):
        return [to_torch(o, requires_grad) for o in obj]
    if isinstance(obj, dict):
        return {k: to_torch(v, requires_grad) for k, v in obj.items()}
    return obj


def to_numpy(obj):
    """Convert tensors (nested in tuples/lists) back to ndarrays; a torch PackedSequence
    becomes npimpl's."""
    if isinstance(obj, torch.Tensor):
        if obj.is_sparse:                   # a sparse gradient: compared as its dense table
            obj = obj.to_dense()
        return obj.detach().cpu().numpy()
    if isinstance(obj, torch.nn.utils.rnn.PackedSequence):
        return PackedSequence(*(None if t is None else to_numpy(t) for t in obj))
    if isinstance(obj, (tuple, list)):
        return type(obj)(to_numpy(o) for o in obj)
    return obj


def optimizer_state_to_torch(state_dict: dict) -> dict:
    """An npimpl optimizer's ``state_dict()`` in torch's form: every array a tensor (a 0-d
    ``step`` stays float32, as torch keeps it), ints, floats, None and lists kept — ready for
    ``torch.optim.<Name>.load_state_dict``. (The other way needs nothing: npimpl's
    ``load_state_dict`` takes torch's dict, tensors and all.)"""
    def conv(obj):
        if isinstance(obj, np.ndarray):
            return torch.from_numpy(np.array(obj, copy=True))
        if isinstance(obj, np.generic):
            return torch.tensor(obj.item(), dtype=torch_dtype(obj.dtype)) \
                if obj.dtype.kind == "f" else obj.item()
        if isinstance(obj, dict):
            return {k: conv(v) for k, v in obj.items()}
        if isinstance(obj, (list, tuple)):
            return type(obj)(conv(v) for v in obj)
        return obj
    return {"state": conv(state_dict["state"]), "param_groups": [
        {k: (conv(v) if k != "params" else list(v)) for k, v in g.items()}
        for g in state_dict["param_groups"]]}


def share_weights(np_mod: npimpl.Module, t_mod: torch.nn.Module) -> None:
    """Copy every parameter and buffer torch → NumPy (the contract's one line)."""
    np_mod.load_state_dict({k: v.detach().cpu().numpy() for k, v in t_mod.state_dict().items()})


@dataclass(frozen=True)
class Spec:
    """A constructor call that both libraries understand: ``Spec("Conv2d", 3, 8, 3, stride=2)``.

    ``name`` is looked up in ``npimpl`` and in ``torch.nn``; ndarray arguments
    (class weights) become tensors on the torch side; ``dtype`` is added by
    :func:`build`. ``Spec("Sequential", Spec(...), Spec(...))`` nests; so does any Spec
    argument (``Spec("TransformerEncoder", Spec("TransformerEncoderLayer", 8, 2), 2)``):
    it is built as a pair and each side gets its own half.
    """

    name: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)

    def __init__(self, name: str, *args, **kwargs):
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "args", args)
        object.__setattr__(self, "kwargs", kwargs)

    def __repr__(self) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        return f"{self.name}({', '.join(parts)})"


def seq(*specs: Spec) -> Spec:
    """``Spec("Sequential", *specs)``."""
    return Spec("Sequential", *specs)


def _accepts_dtype(cls) -> bool:
    try:
        return "dtype" in inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return False


def _default_torch(name: str, args: tuple, kwargs: dict, dtype) -> torch.nn.Module:
    cls = getattr(torch.nn, name)
    kw = dict(kwargs)
    if _accepts_dtype(cls):
        kw["dtype"] = torch_dtype(dtype)
    return cls(*to_torch(args), **to_torch(kw)).to(torch_dtype(dtype))


TWINS: dict[str, Callable] = {}


def register_twin(name: str):
    """Decorator: ``fn(np_module, args, kwargs, dtype) -> torch.nn.Module`` builds the twin of
    ``npimpl.<name>`` when ``torch.nn.<name>(*args, **kwargs)`` is not it (for instance a
    twin that must reuse the dropout mask the NumPy side drew)."""
    def deco(fn):
        TWINS[name] = fn
        return fn
    return deco


def _split(value, dtype):
    """``(numpy value, torch value)``: a nested Spec builds a pair, anything else is shared."""
    if isinstance(value, Spec):
        return _build_pair(value, dtype)
    return value, value


def _build_pair(spec: Spec, dtype):
    if spec.name == "Sequential":
        pairs = [_build_pair(s, dtype) for s in spec.args]
        return (npimpl.Sequential(*[p[0] for p in pairs]),
                torch.nn.Sequential(*[p[1] for p in pairs]))
    # a Spec argument (TransformerEncoder's layer, its norm) is built as a pair first
    args = [_split(a, dtype) for a in spec.args]
    kwargs = {k: _split(v, dtype) for k, v in spec.kwargs.items()}
    np_args, t_args = tuple(a for a, _ in args), tuple(b for _, b in args)
    np_kw, t_kw = {k: a for k, (a, _) in kwargs.items()}, {k: b for k, (_, b) in kwargs.items()}
    np_cls = getattr(npimpl, spec.name)
    if _accepts_dtype(np_cls):
        np_kw["dtype"] = np.dtype(dtype).type
    np_mod = np_cls(*np_args, **np_kw)
    if spec.name in TWINS:
        t_mod = TWINS[spec.name](np_mod, t_args, t_kw, dtype)
    else:
        t_mod = _default_torch(spec.name, t_args, t_kw, dtype)
    return np_mod, t_mod


def build(spec: Spec, dtype) -> tuple[npimpl.Module, torch.nn.Module]:
    """Build ``(npimpl module, torch twin)`` from one spec, weights shared torch → NumPy."""
    np_mod, t_mod = _build_pair(spec, dtype)
    share_weights(np_mod, t_mod)
    return np_mod, t_mod


def optimizer_pair(name: str, np_model: npimpl.Module, t_model: torch.nn.Module,
                   groups: list[tuple[Callable[[str], bool], dict]] | None = None, **defaults):
    """Build ``(npimpl.optim.<name>, torch.optim.<name>)`` over the two models' parameters.

    ``groups``, if given, is a list of ``(predicate on the parameter name, options)``: each
    parameter goes to the first group whose predicate accepts its name, as torch param groups.
    """
    np_named = list(np_model.named_parameters())
    t_named = list(t_model.named_parameters())
    if [n for n, _ in np_named] != [n for n, _ in t_named]:
        raise ValueError(f"optimizer_pair: parameter names differ: {[n for n, _ in np_named]} vs "
                         f"{[n for n, _ in t_named]}")

    def grouped(named):
        if groups is None:
            return [p for _, p in named]
        out = [{"params": [], **opts} for _, opts in groups]
        for n, p in named:
            k = next(i for i, (pred, _) in enumerate(groups) if pred(n))
            out[k]["params"].append(p)
        return out

    np_opt = getattr(npimpl.optim, name)(grouped(np_named), **defaults)
    t_opt = getattr(torch.optim, name)(grouped(t_named), **defaults)
    return np_opt, t_opt
