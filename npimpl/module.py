"""Parameter and Module: the skeleton every npimpl layer hangs on.

The API mirrors ``torch.nn.Module`` so that a reader can hold the torch docs
beside the code: parameters and buffers are registered by attribute
assignment, ``named_parameters()`` walks children with dotted names, and
``state_dict()`` has torch's keys, shapes and layouts.

What differs from torch is the one thing torch hides: there is no autograd.
Each module computes its own gradient in ``backward(grad_output)``, from what
its last ``forward`` cached, and *adds* parameter gradients into ``.grad``
(``+=``, as torch accumulates), returning the gradient of its input.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from . import _checks


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
        """``grad += g`` (``grad = g`` on the first backward), in the parameter's dtype."""
        g = np.asarray(g, dtype=self.data.dtype)
        if g.shape != self.data.shape:
            raise ValueError(f"Parameter: gradient of shape {g.shape} for a parameter of shape "
                             f"{self.data.shape}")
        if self.grad is None:
            self.grad = g.copy()
        else:
            self.grad += g

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
        elif value is None and name in ("weight", "bias"):
            self._modules.pop(name, None)
            self._parameters[name] = None  # torch registers an absent bias as None
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

    def load_state_dict(self, state_dict, strict: bool = True) -> None:
        """Copy ``state_dict`` values into the existing arrays, keeping this module's dtype.

        Raises KeyError naming the missing or unexpected keys (when ``strict``) and
        ValueError on a shape mismatch, before anything is copied.
        """
        own = self.state_dict()
        name = type(self).__name__
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        if strict and (missing or unexpected):
            raise KeyError(f"{name}.load_state_dict: missing keys {missing}, unexpected keys "
                           f"{unexpected} (expected exactly {list(own)})")
        values = {}
        for k, target in own.items():
            if k not in state_dict:
                continue
            v = np.asarray(state_dict[k])
            if v.shape != target.shape:
                raise ValueError(f"{name}.load_state_dict: size mismatch for {k}: expected shape "
                                 f"{target.shape}, got {v.shape}")
            values[k] = v
        for k, v in values.items():
            np.copyto(own[k], v, casting="unsafe")

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
        return self.forward(*inputs, **kwargs)

    def forward(self, *inputs):
        raise NotImplementedError(f"{type(self).__name__}.forward")

    def backward(self, *grad_outputs):
        raise NotImplementedError(f"{type(self).__name__}.backward")

    def _saved(self):
        """The cache of the last forward; RuntimeError if there was none."""
        if self._cache is None:
            raise RuntimeError(f"{type(self).__name__}.backward called before forward: "
                               "there is nothing to differentiate")
        return self._cache

    def _dtype(self, dtype) -> np.dtype:
        return _checks.float_dtype(dtype, type(self).__name__)

    def _input(self, x, name: str = "input", dtype=None) -> np.ndarray:
        return _checks.array(x, type(self).__name__, name, dtype)

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
