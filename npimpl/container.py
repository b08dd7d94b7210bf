"""Containers: Sequential, ModuleList, ModuleDict, ParameterList and ParameterDict.

torch keeps all five in ``torch/nn/modules/container.py``. A container registers what it
holds so that ``named_parameters()``, ``state_dict()``, ``train()``/``eval()`` and
``zero_grad()`` reach it, with dotted names made from the list index or the dict key
(``layers.0.weight``, ``heads.query.bias``, ``scales.1``) — exactly torch's keys, so
sharing weights stays one ``load_state_dict``. Only Sequential has a forward: the others
hold things for a module that decides how to use them (and runs their backward).

The list and dict containers keep their entries in ``_modules`` / ``_parameters`` only,
as torch does; ``Module.__getattr__`` finds them there (``layers[0]`` is also
``getattr(layers, '0')``).
"""
from __future__ import annotations

import operator
from collections import OrderedDict
from collections import abc

import numpy as np

from .module import Module, Parameter


def _check_name(owner: Module, name) -> str:
    """torch's ``add_module`` rules for a key: a non-empty str without '.', not an attribute."""
    cls = type(owner).__name__
    if not isinstance(name, str):
        raise TypeError(f"{cls}: a key must be a string, got {type(name).__name__} {name!r}")
    if name == "" or "." in name:
        raise KeyError(f"{cls}: a key must be a non-empty string without '.', got {name!r}")
    if name in owner.__dict__ or (hasattr(type(owner), name)):
        raise KeyError(f"{cls}: key {name!r} is already an attribute of the container "
                       "(torch: \"attribute already exists\"); choose another key")
    return name


def _check_module(owner: Module, module, where: str) -> Module:
    if not isinstance(module, Module):
        raise TypeError(f"{type(owner).__name__}: {where} must be an npimpl Module, got "
                        f"{type(module).__name__}")
    return module


def _iterable(owner: Module, values, method: str):
    if not isinstance(values, abc.Iterable) or isinstance(values, np.ndarray):
        raise TypeError(f"{type(owner).__name__}.{method} should be called with an iterable, "
                        f"got {type(values).__name__}")
    return values


def _pairs(owner: Module, items, ordered_types, sort_plain_dicts: bool):
    """The (key, value) pairs of ``update``'s argument, in torch's order."""
    cls = type(owner).__name__
    if not isinstance(items, abc.Iterable):
        raise TypeError(f"{cls}.update should be called with an iterable of key/value pairs, "
                        f"got {type(items).__name__}")
    if isinstance(items, ordered_types):
        return list(items.items())
    if isinstance(items, abc.Mapping):
        pairs = list(items.items())
        return sorted(pairs) if sort_plain_dicts else pairs
    out = []
    for j, p in enumerate(items):
        if not isinstance(p, abc.Iterable):
            raise TypeError(f"{cls}.update: sequence element #{j} should be an iterable "
                            f"(key, value) pair, got {type(p).__name__}")
        p = tuple(p)
        if len(p) != 2:
            raise ValueError(f"{cls}.update: sequence element #{j} has length {len(p)}; 2 is "
                             "required")
        out.append(p)
    return out


def _abs_index(owner: Module, idx, n: int) -> int:
    """A list index in ``[-n, n)`` as an int in ``[0, n)`` (IndexError outside, as torch)."""
    idx = operator.index(idx)
    if not -n <= idx < n:
        raise IndexError(f"{type(owner).__name__}: index {idx} is out of range for "
                         f"{n} entries")
    return idx % n


class Sequential(Module):
    """Chain modules: ``y = m_k(... m_1(m_0(x)))``; children are named ``'0'``, ``'1'``, ….

    Args:
        *modules: the modules in order, or one ``OrderedDict`` of name -> module.

    Shape:
        whatever the chain maps: the input of ``m_0`` to the output of ``m_k``.

    Backward:
        runs the children's backward in reverse order, each receiving the
        gradient returned by the module after it.

    What torch hides:
        nothing but bookkeeping: torch's Sequential is this loop; the children's names
        are the state_dict prefixes (``0.weight``), so inserting a layer renames every
        key after it.
    """

    def __init__(self, *modules: Module):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], (dict, OrderedDict)):
            for name, m in modules[0].items():
                self.add_module(str(name), m)
        else:
            for i, m in enumerate(modules):
                if not isinstance(m, Module):
                    raise TypeError(f"Sequential: argument {i} must be an npimpl Module, "
                                    f"got {type(m).__name__}")
                self.add_module(str(i), m)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __getitem__(self, i):
        mods = list(self._modules.values())
        if isinstance(i, slice):
            return Sequential(*mods[i])
        return mods[i]

    def append(self, m: Module) -> "Sequential":
        self.add_module(str(len(self)), m)
        return self

    def forward(self, x):
        for m in self._modules.values():
            x = m(x)
        self._cache = True
        return x

    def backward(self, grad_output):
        self._saved()
        g = grad_output
        for m in reversed(list(self._modules.values())):
            g = m.backward(g)
        return g


class ModuleList(Module):
    """Holds modules in a list; the module that owns it decides how they are called.

    Args:
        modules: an iterable of npimpl Modules (default: empty).

    Shape:
        no forward of its own (calling it raises NotImplementedError, as torch).

    Backward:
        none of its own: the owner runs its children's backward in reverse order of use.

    What torch hides:
        the list index *is* the state_dict key (``layers.0.weight``), so deleting or
        inserting an entry renumbers every entry after it, and a checkpoint saved before
        no longer lines up. torch's ``insert`` does no bounds check (``insert(10, m)`` on
        3 entries leaves the keys 0, 1, 2, 10 and ``len`` 4, so ``[3]`` fails); npimpl
        inserts like ``list.insert``.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def _renumber(self, modules: list) -> None:
        self._modules.clear()
        for i, m in enumerate(modules):
            self._modules[str(i)] = m

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(list(self._modules.values())[idx])
        return self._modules[str(_abs_index(self, idx, len(self)))]

    def __setitem__(self, idx, module) -> None:
        key = str(_abs_index(self, idx, len(self)))
        self._modules[key] = _check_module(self, module, "the value")

    def __delitem__(self, idx) -> None:
        mods = list(self._modules.values())
        if isinstance(idx, slice):
            del mods[idx]
        else:
            del mods[_abs_index(self, idx, len(self))]
        self._renumber(mods)

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())

    def __iadd__(self, modules) -> "ModuleList":
        return self.extend(modules)

    def __add__(self, other) -> "ModuleList":
        return ModuleList(list(self) + list(_iterable(self, other, "__add__")))

    def insert(self, index: int, module: Module) -> None:
        mods = list(self._modules.values())
        mods.insert(operator.index(index), _check_module(self, module, "the module"))
        self._renumber(mods)

    def append(self, module: Module) -> "ModuleList":
        self._modules[str(len(self))] = _check_module(self, module, "the module")
        return self

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def extend(self, modules) -> "ModuleList":
        for i, m in enumerate(list(_iterable(self, modules, "extend"))):
            self.append(_check_module(self, m, f"element {i}"))
        return self


class ModuleDict(Module):
    """Holds modules in an ordered dict; the module that owns it decides how they are called.

    Args:
        modules: a mapping of str -> Module, or an iterable of (str, Module) pairs.

    Shape:
        no forward of its own (calling it raises NotImplementedError, as torch).

    Backward:
        none of its own: the owner runs the backward of the entries it used.

    What torch hides:
        the key is the state_dict prefix (``heads.query.weight``), so it must be a
        non-empty string without '.', and not the name of a Module attribute (``'train'``,
        ``'forward'``: torch raises "attribute already exists"). ``update`` keeps the
        order of a plain dict, unlike ParameterDict, which sorts it.
    """

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def __getitem__(self, key) -> Module:
        return self._modules[key]

    def __setitem__(self, key, module) -> None:
        if key not in self._modules:
            _check_name(self, key)
        self._modules[key] = _check_module(self, module, f"the value for {key!r}")

    def __delitem__(self, key) -> None:
        del self._modules[key]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules)

    def __contains__(self, key) -> bool:
        return key in self._modules

    def clear(self) -> None:
        self._modules.clear()

    def pop(self, key) -> Module:
        v = self[key]
        del self[key]
        return v

    def keys(self):
        return self._modules.keys()

    def items(self):
        return self._modules.items()

    def values(self):
        return self._modules.values()

    def update(self, modules) -> None:
        for key, m in _pairs(self, modules, (OrderedDict, ModuleDict), sort_plain_dicts=False):
            self[key] = m


def _as_parameter(value):
    """torch wraps a plain tensor into a Parameter; here a float ndarray."""
    if isinstance(value, np.ndarray):
        return Parameter(value)
    return value


class _ParameterStore(Module):
    """Puts a value under a name: a Parameter in ``_parameters``, anything else as a plain
    attribute (torch lets both containers hold arbitrary objects)."""

    def _put(self, name: str, value) -> None:
        value = _as_parameter(value)
        self.__dict__.pop(name, None)
        if isinstance(value, Parameter):
            self._parameters[name] = value       # an existing key keeps its place, as in torch
        else:
            self._parameters.pop(name, None)
            object.__setattr__(self, name, value)

    def _get(self, name: str):
        return self._parameters[name] if name in self._parameters else self.__dict__[name]

    def _drop(self, name: str) -> None:
        self._parameters.pop(name, None)
        self.__dict__.pop(name, None)

    def __call__(self, *args, **kwargs):
        raise RuntimeError(f"{type(self).__name__} should not be called: it holds parameters "
                           "for the module that owns it")


class ParameterList(_ParameterStore):
    """Holds parameters in a list; an ndarray added to it becomes a :class:`Parameter`.

    Args:
        values: an iterable of Parameters (or float ndarrays, wrapped into Parameters).

    Shape:
        no forward (calling it raises RuntimeError, as torch).

    Backward:
        none of its own: the owner accumulates each parameter's gradient.

    What torch hides:
        the entries are named ``'0'``, ``'1'``, … (``scales.1`` in a state_dict); a plain
        tensor is wrapped into a *new* Parameter, so the container does not share memory
        semantics with a tensor you keep; there is no ``insert``, ``pop`` or ``del``.
    """

    def __init__(self, values=None):
        super().__init__()
        object.__setattr__(self, "_size", 0)
        if values is not None:
            self.extend(values)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)([self[i] for i in range(*idx.indices(len(self)))])
        return self._get(str(_abs_index(self, idx, len(self))))

    def __setitem__(self, idx, value) -> None:
        self._put(str(_abs_index(self, idx, len(self))), value)

    def __len__(self) -> int:
        return self._size

    def __iter__(self):
        return iter(self[i] for i in range(len(self)))

    def __iadd__(self, values) -> "ParameterList":
        return self.extend(values)

    def append(self, value) -> "ParameterList":
        object.__setattr__(self, "_size", self._size + 1)
        self[self._size - 1] = value
        return self

    def extend(self, values) -> "ParameterList":
        for v in list(_iterable(self, values, "extend")):
            self.append(v)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({i}): {p!r}" for i, p in enumerate(self))


class ParameterDict(_ParameterStore):
    """Holds parameters in an ordered dict; an ndarray added to it becomes a :class:`Parameter`.

    Args:
        parameters: a mapping of str -> Parameter (or ndarray), or (str, value) pairs.

    Shape:
        no forward (calling it raises RuntimeError, as torch).

    Backward:
        none of its own: the owner accumulates each parameter's gradient.

    What torch hides:
        a plain ``dict`` given to the constructor or to ``update`` is added in *sorted* key
        order (``{'b': .., 'a': ..}`` lists 'a' first, so named_parameters and the
        state_dict follow the alphabet), while an OrderedDict, a ParameterDict or a list of
        pairs keeps its order; ModuleDict never sorts.
    """

    def __init__(self, parameters=None):
        super().__init__()
        object.__setattr__(self, "_keys", {})
        if parameters is not None:
            self.update(parameters)

    def _key(self, key) -> str:
        if not isinstance(key, str):
            raise TypeError(f"ParameterDict: a key must be a string, got "
                            f"{type(key).__name__} {key!r}")
        return key

    def __getitem__(self, key):
        if self._key(key) not in self._keys:
            raise KeyError(key)
        return self._get(key)

    def __setitem__(self, key, value) -> None:
        if self._key(key) not in self._keys:
            _check_name(self, key)
        self._keys[key] = None
        self._put(key, value)

    def __delitem__(self, key) -> None:
        del self._keys[self._key(key)]
        self._drop(key)

    def __len__(self) -> int:
        return len(self._keys)

    def __iter__(self):
        return iter(self._keys)

    def __reversed__(self):
        return reversed(self._keys)

    def __contains__(self, key) -> bool:
        return key in self._keys

    def copy(self) -> "ParameterDict":
        return ParameterDict(OrderedDict((k, self[k]) for k in self._keys))

    def setdefault(self, key, default=None):
        if key not in self:
            self[key] = default
        return self[key]

    def clear(self) -> None:
        for k in list(self._keys):
            del self[k]

    def pop(self, key):
        v = self[key]
        del self[key]
        return v

    def popitem(self):
        if not self._keys:
            raise KeyError("ParameterDict.popitem: the dictionary is empty")
        k = next(reversed(self._keys))
        return k, self.pop(k)

    def get(self, key, default=None):
        return self[key] if key in self else default

    def fromkeys(self, keys, default=None) -> "ParameterDict":
        return ParameterDict([(k, default) for k in keys])

    def keys(self):
        return self._keys.keys()

    def items(self):
        return ((k, self[k]) for k in self._keys)

    def values(self):
        return (self[k] for k in self._keys)

    def update(self, parameters) -> None:
        for key, p in _pairs(self, parameters, (OrderedDict, ParameterDict),
                             sort_plain_dicts=True):
            self[key] = p

    def __or__(self, other) -> "ParameterDict":
        out = self.copy()
        out.update(other)
        return out

    def __ror__(self, other) -> "ParameterDict":
        out = other.copy()
        out.update(self)
        return out

    def __ior__(self, other) -> "ParameterDict":
        self.update(other)
        return self

    def extra_repr(self) -> str:
        return "\n".join(f"  ({k}): {p!r}" for k, p in self.items())
