"""Parameter and Module: the skeleton every npimpl layer hangs on.

The API mirrors ``torch.nn.Module`` so that a reader can hold the torch docs
beside the code: parameters and buffers are registered by attribute
assignment, ``named_parameters()`` walks children with dotted names, and
``state_dict()`` has torch's keys, shapes and layouts.

What differs from torch is the one thing torch hides: there is no autograd.
Each module computes its own gradient in ``backward(grad_output)``, from what
its last ``forward`` cached, and *adds* parameter gradients into ``.grad``
(``+=``, as torch accumulates), returning the gradient of its input. Under
``npimpl.no_grad()`` (``grad_mode.py``) a call keeps no cache, as torch keeps no graph.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Mapping
from typing import Iterator, NamedTuple

import numpy as np

from . import _checks
from .grad_mode import is_grad_enabled


class _NoGradCache:
    """What a module holds after a forward under ``npimpl.no_grad()``: nothing to backward."""

    def __repr__(self) -> str:
        return "<no cache: forward ran under npimpl.no_grad()>"


NO_GRAD = _NoGradCache()


class IncompatibleKeys(NamedTuple):
    """What ``load_state_dict`` returns, as torch's ``_IncompatibleKeys``."""

    missing_keys: list
    unexpected_keys: list

    def __repr__(self) -> str:
        if not self.missing_keys and not self.unexpected_keys:
            return "<All keys matched successfully>"
        return (f"IncompatibleKeys(missing_keys={self.missing_keys}, "
                f"unexpected_keys={self.unexpected_keys})")


def _optional_key(key: str) -> bool:
    """Keys a checkpoint may lack: BatchNorm's ``num_batches_tracked`` (added in torch 0.4.1;
    torch's ``_NormBase._load_from_state_dict`` keeps the buffer's value when it is absent)."""
    return key.rsplit(".", 1)[-1] == "num_batches_tracked"


class Parameter:
    """A trainable array: ``.data`` (the value) and ``.grad`` (None until a backward).

    Like ``torch.nn.Parameter``; gradients are accumulated with :meth:`accumulate`
    so that a parameter used twice (weight tying) receives both contributions.
    """

    __slots__ = ("data", "grad")

    def __init__(self, data: np.ndarray):
        self.data = np.asarray(data)
        self.grad: np.ndarray | None = None

    @property
    def shape(self) -> tuple:
        return self.data.shape

    @property
    def dtype(self) -> np.dtype:
        return self.data.dtype

    def accumulate(self, g: np.ndarray) -> None:
        """``grad += g`` (``grad = g`` on the first backward), in the parameter's dtype.

        A :class:`npimpl.sparse.SparseGrad` accumulates as torch's sparse gradients do: onto
        another one by concatenation (still uncoalesced), onto a dense gradient densely."""
        from .sparse import SparseGrad
        if isinstance(g, SparseGrad):
            if g.shape != self.data.shape:
                raise ValueError(f"Parameter: sparse gradient of shape {g.shape} for a "
                                 f"parameter of shape {self.data.shape}")
            g = g.astype(self.data.dtype)
            if self.grad is None:
                self.grad = g.copy()
            elif isinstance(self.grad, SparseGrad):
                self.grad = self.grad + g
            else:
                self.grad += g.to_dense()
            return
        g = np.asarray(g, dtype=self.data.dtype)
        if g.shape != self.data.shape:
            raise ValueError(f"Parameter: gradient of shape {g.shape} for a parameter of shape "
                             f"{self.data.shape}")
        if self.grad is None:
            self.grad = g.copy()
        elif isinstance(self.grad, np.ndarray):
            self.grad += g
        else:                                   # a sparse gradient, then a dense one
            self.grad = self.grad.to_dense() + g

    def __repr__(self) -> str:
        return f"Parameter(shape={self.data.shape}, dtype={self.data.dtype})"


class Module:
    """Base class of every npimpl layer, loss and model (mirrors ``torch.nn.Module``).

    Subclasses implement ``forward(*inputs)`` (caching what backward needs) and
    ``backward(*grad_outputs)``; see the design contract for the structure of
    both. Calling :meth:`backward` before any forward raises RuntimeError.
    """

    def __init__(self) -> None:
        object.__setattr__(self, "_parameters", OrderedDict())
        object.__setattr__(self, "_buffers", OrderedDict())
        object.__setattr__(self, "_non_persistent", set())
        object.__setattr__(self, "_modules", OrderedDict())
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_cache", None)

    # -- registration ------------------------------------------------------------
    def __setattr__(self, name: str, value) -> None:
        params = self.__dict__.get("_parameters")
        if params is None:
            raise RuntimeError(f"{type(self).__name__}: call Module.__init__() before "
                               "assigning attributes")
        if isinstance(value, Parameter):
            self._modules.pop(name, None)
            self._parameters[name] = value      # an existing key keeps its place, as in torch
        elif isinstance(value, Module):
            self._parameters.pop(name, None)
            self._modules[name] = value
        elif name in self._buffers:
            self._buffers[name] = value
        elif value is None and (name in params or name in ("weight", "bias")):
            self._modules.pop(name, None)  # torch keeps a parameter's place (and a layer's
            self._parameters[name] = None  # register_parameter('bias', None)) as None
        elif value is None and name in self._modules:
            self._modules[name] = None     # and a child's place
        else:
            self._parameters.pop(name, None)
            self._modules.pop(name, None)
        object.__setattr__(self, name, value)

    def __getattr__(self, name: str):
        """Called only when normal lookup fails: an entry a container registered in
        ``_parameters`` / ``_buffers`` / ``_modules`` without an attribute (``layers.0``)."""
        d = self.__dict__
        for store in ("_parameters", "_buffers", "_modules"):
            if name in d.get(store, ()):
                return d[store][name]
        raise AttributeError(f"'{type(self).__name__}' object has no attribute '{name}'")

    def __delattr__(self, name: str) -> None:
        """Unregister a parameter, buffer or child (as torch's ``__delattr__``)."""
        if name in self._parameters:
            del self._parameters[name]
        elif name in self._buffers:
            del self._buffers[name]
            self._non_persistent.discard(name)
        elif name in self._modules:
            del self._modules[name]
        else:
            object.__delattr__(self, name)
            return
        self.__dict__.pop(name, None)

    def register_buffer(self, name: str, value: np.ndarray | None, persistent: bool = True) -> None:
        """Register a non-trainable array (running statistics); in ``state_dict`` if persistent."""
        self._buffers[name] = value
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, value)

    def add_module(self, name: str, module: "Module | None") -> None:
        self._modules[name] = module
        object.__setattr__(self, name, module)

    # -- traversal -------------------------------------------------------------------
    def named_modules(self, prefix: str = "") -> Iterator[tuple[str, "Module"]]:
        yield prefix, self
        for name, m in self._modules.items():
            if m is not None:
                yield from m.named_modules(f"{prefix}.{name}" if prefix else name)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def children(self) -> Iterator["Module"]:
        return (m for m in self._modules.values() if m is not None)

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        """Yield ``(dotted_name, Parameter)``; a parameter shared by two modules appears once."""
        seen = set()
        mods = self.named_modules(prefix) if recurse else [(prefix, self)]
        for mod_prefix, m in mods:
            for name, p in m._parameters.items():
                if p is None or id(p) in seen:
                    continue
                seen.add(id(p))
                yield (f"{mod_prefix}.{name}" if mod_prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "") -> Iterator[tuple[str, np.ndarray]]:
        for mod_prefix, m in self.named_modules(prefix):
            for name, b in m._buffers.items():
                if b is not None:
                    yield (f"{mod_prefix}.{name}" if mod_prefix else name), b

    # -- state -----------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, np.ndarray]":
        """``{name: ndarray}`` with torch's keys: each module's parameters, then its
        persistent buffers, then its children (tied weights appear under every name)."""
        out: OrderedDict[str, np.ndarray] = OrderedDict()
        for mod_prefix, m in self.named_modules():
            pre = f"{mod_prefix}." if mod_prefix else ""
            for name, p in m._parameters.items():
                if p is not None:
                    out[pre + name] = p.data
            for name, b in m._buffers.items():
                if b is not None and name not in m._non_persistent:
                    out[pre + name] = b
        return out

    def load_state_dict(self, state_dict, strict: bool = True) -> "IncompatibleKeys":
        """Copy ``state_dict`` values into the existing arrays, keeping this module's dtype.

        Returns torch's named tuple ``(missing_keys, unexpected_keys)``. With ``strict``
        (the default) a missing or unexpected key raises ValueError naming them; a shape
        mismatch raises ValueError in either mode; a ``state_dict`` that is not a mapping
        raises TypeError. Nothing is copied when anything is wrong. As torch, a missing
        ``num_batches_tracked`` (older checkpoints lack BatchNorm's counter) is not an error:
        the buffer keeps its value.
        """
        name = type(self).__name__
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{name}.load_state_dict: expected a mapping of names to arrays, "
                            f"got {type(state_dict).__name__}")
        own = self.state_dict()
        missing = [k for k in own if k not in state_dict and not _optional_key(k)]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise ValueError(f"{name}.load_state_dict: missing keys {missing}, unexpected keys "
                             f"{unexpected} (expected exactly {list(own)})")
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = np.asarray(state_dict[k])
            if v.shape != target.shape:
                raise ValueError(f"{name}.load_state_dict: size mismatch for {k}: expected shape "
                                 f"{target.shape}, got {v.shape}")
            if v.dtype.kind not in "biuf":
                raise TypeError(f"{name}.load_state_dict: {k} must hold numbers, got dtype "
                                f"{v.dtype}")
            values[k] = v
        for k, v in values.items():
            np.copyto(own[k], v, casting="unsafe")
        return IncompatibleKeys(missing, unexpected)

    # -- modes and gradients -----------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", bool(mode))
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset every parameter gradient (to None, torch's default since 2.0)."""
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad[...] = 0

    # -- forward / backward ------------------------------------------------------------
    def __call__(self, *inputs, **kwargs):
        out = self.forward(*inputs, **kwargs)
        if not is_grad_enabled():          # npimpl.no_grad(): keep nothing for backward
            object.__setattr__(self, "_cache", NO_GRAD)
        return out

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def _saved(self):
        """The cache of the last forward; RuntimeError if there was none."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: "
                               "there is nothing to differentiate")
        if self._cache is NO_GRAD:
            raise RuntimeError(f"{type(self).__name__}.backward: the last forward ran under "
                               "npimpl.no_grad(), which keeps nothing for backward (torch: "
                               "'element 0 of tensors does not require grad'); run the "
                               "forward again outside no_grad()")
        return self._cache

    def _dtype(self, dtype) -> np.dtype:
        return _checks.float_dtype(dtype, type(self).__name__)

    def _input(self, x, name: str = "input", dtype=None) -> np.ndarray:
        return _checks.array(x, type(self).__name__, name, dtype)

    def _upstream(self, grad_output, shape: tuple, dtype, name: str = "grad_output"):
        """``grad_output`` checked against the forward output's ``shape`` and cast to its
        ``dtype`` (:func:`npimpl._checks.grad`): every backward calls this (or its own
        equivalent) before any arithmetic."""
        return _checks.grad(grad_output, type(self).__name__, shape, dtype, name)

    def extra_repr(self) -> str:
        return ""

    def __repr__(self) -> str:
        lines = [f"  ({n}): " + repr(m).replace("\n", "\n  ") for n, m in self._modules.items()]
        head = f"{type(self).__name__}({self.extra_repr()}"
        return head + ("\n" + "\n".join(lines) + "\n)" if lines else ")")


def __getattr__(name: str):
    # ``from npimpl.module import Sequential`` kept working after Sequential moved to
    # container.py (torch's file); imported lazily, since container.py imports this module
    if name == "Sequential":
        from .container import Sequential
        return Sequential
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
