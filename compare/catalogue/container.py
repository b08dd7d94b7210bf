"""Containers in use: small models that hold their layers or parameters in a ModuleList,
ModuleDict, ParameterList or ParameterDict, written twice (npimpl, torch) with the same
names, so the engine compares torch's state_dict keys (``layers.0.weight``, ``heads.query.bias``,
``scales.1``, ``params.scale``) as well as every gradient.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

import npimpl
from reference import share_weights, torch_dtype

from ..engine import Case
from ..gen import args, normal

ORDER = 12


# --- ModuleList: an MLP whose layers are a list --------------------------------------------
class ListMLP(npimpl.Module):
    """``x -> Linear -> Tanh -> Linear -> Tanh -> Linear``, the layers in a ModuleList built
    with append, extend and insert (so the numbering is what torch's would be)."""

    def __init__(self, sizes=(3, 5, 4, 2), dtype=np.float64):
        super().__init__()
        lin = [npimpl.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        self.layers = npimpl.ModuleList([lin[0], npimpl.Tanh()])
        self.layers.extend([lin[1], lin[2]])
        self.layers.insert(3, npimpl.Tanh())

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        self._cache = True
        return x

    def backward(self, g):
        self._saved()
        for m in reversed(list(self.layers)):
            g = m.backward(g)
        return g


class TorchListMLP(nn.Module):
    def __init__(self, sizes=(3, 5, 4, 2), dtype=torch.float64):
        super().__init__()
        lin = [nn.Linear(a, b, dtype=dtype) for a, b in zip(sizes[:-1], sizes[1:])]
        self.layers = nn.ModuleList([lin[0], nn.Tanh()])
        self.layers.extend([lin[1], lin[2]])
        self.layers.insert(3, nn.Tanh())

    def forward(self, x):
        for m in self.layers:
            x = m(x)
        return x


# --- ModuleDict: two named heads, multiplied ------------------------------------------------
class GatedHeads(npimpl.Module):
    """``y = heads['value'](x) * sigmoid(heads['gate'](x))``."""

    def __init__(self, n_in=4, n_out=3, dtype=np.float64):
        super().__init__()
        self.heads = npimpl.ModuleDict({"value": npimpl.Linear(n_in, n_out, dtype=dtype)})
        self.heads.update([("gate", npimpl.Linear(n_in, n_out, dtype=dtype))])
        self.act = npimpl.Sigmoid()

    def forward(self, x):
        v = self.heads["value"](x)
        s = self.act(self.heads["gate"](x))
        self._cache = (v, s)
        return v * s

    def backward(self, g):
        v, s = self._saved()
        dx = self.heads["value"].backward(g * s)
        return dx + self.heads["gate"].backward(self.act.backward(g * v))


class TorchGatedHeads(nn.Module):
    def __init__(self, n_in=4, n_out=3, dtype=torch.float64):
        super().__init__()
        self.heads = nn.ModuleDict({"value": nn.Linear(n_in, n_out, dtype=dtype)})
        self.heads.update([("gate", nn.Linear(n_in, n_out, dtype=dtype))])

    def forward(self, x):
        return self.heads["value"](x) * torch.sigmoid(self.heads["gate"](x))


# --- ParameterList: per-feature affine maps, chained ------------------------------------------
class ListAffine(npimpl.Module):
    """``y = (x * w0 + b0) * w1 + b1`` with ``[w0, b0, w1, b1]`` a ParameterList."""

    def __init__(self, n=4, dtype=np.float64):
        super().__init__()
        self.scales = npimpl.ParameterList([np.ones(n, dtype), np.zeros(n, dtype)])
        self.scales += [npimpl.Parameter(np.ones(n, dtype)), np.zeros(n, dtype)]

    def forward(self, x):
        w0, b0, w1, b1 = (p.data for p in self.scales)
        h = x * w0 + b0
        self._cache = (x, h)
        return h * w1 + b1

    def backward(self, g):
        x, h = self._saved()
        w0, _, w1, _ = (p.data for p in self.scales)
        lead = tuple(range(g.ndim - 1))
        dh = g * w1
        for p, grad in zip(self.scales, (np.sum(dh * x, lead), np.sum(dh, lead),
                                         np.sum(g * h, lead), np.sum(g, lead))):
            p.accumulate(grad)
        return dh * w0


class TorchListAffine(nn.Module):
    def __init__(self, n=4, dtype=torch.float64):
        super().__init__()
        self.scales = nn.ParameterList([torch.randn(n, dtype=dtype), torch.randn(n, dtype=dtype)])
        self.scales += [nn.Parameter(torch.randn(n, dtype=dtype)), torch.randn(n, dtype=dtype)]

    def forward(self, x):
        w0, b0, w1, b1 = self.scales
        return (x * w0 + b0) * w1 + b1


# --- ParameterDict: given as a plain dict, so both sides sort its keys -----------------------
class DictAffine(npimpl.Module):
    """``y = x * params['scale'] + params['shift']``; the dict is given shift-first, and both
    libraries register it in sorted order (scale, shift)."""

    def __init__(self, n=4, dtype=np.float64):
        super().__init__()
        self.params = npimpl.ParameterDict({"shift": np.zeros(n, dtype),
                                            "scale": np.ones(n, dtype)})

    def forward(self, x):
        self._cache = x
        return x * self.params["scale"].data + self.params["shift"].data

    def backward(self, g):
        x = self._saved()
        lead = tuple(range(g.ndim - 1))
        self.params["scale"].accumulate(np.sum(g * x, lead))
        self.params["shift"].accumulate(np.sum(g, lead))
        return g * self.params["scale"].data


class TorchDictAffine(nn.Module):
    def __init__(self, n=4, dtype=torch.float64):
        super().__init__()
        self.params = nn.ParameterDict({"shift": torch.randn(n, dtype=dtype),
                                        "scale": torch.randn(n, dtype=dtype)})

    def forward(self, x):
        return x * self.params["scale"] + self.params["shift"]


def pair(np_cls, torch_cls):
    """``dtype -> (npimpl model, torch model)``, torch's (seeded) weights shared."""
    def make(dt):
        np_mod, t_mod = np_cls(dtype=np.dtype(dt).type), torch_cls(dtype=torch_dtype(dt))
        share_weights(np_mod, t_mod)
        return np_mod, t_mod
    return make


def case(name, layer, np_cls, torch_cls, *gens):
    return Case(name, layer, "core", pair(np_cls, torch_cls), args(*gens))


CASES = [
    case("modulelist-mlp", "ModuleList", ListMLP, TorchListMLP, normal(6, 3)),
    case("modulelist-mlp-3d", "ModuleList", ListMLP, TorchListMLP, normal(2, 3, 3)),
    case("moduledict-gated-heads", "ModuleDict", GatedHeads, TorchGatedHeads, normal(5, 4)),
    case("parameterlist-affine", "ParameterList", ListAffine, TorchListAffine, normal(3, 4)),
    case("parameterdict-sorted-affine", "ParameterDict", DictAffine, TorchDictAffine,
         normal(2, 3, 4)),
]
