"""Activation cases: every element-wise activation with each option alone and combined,
values exactly at the kinks, extreme inputs, and the softmax family along several dims."""
from __future__ import annotations

import numpy as np

from reference import Spec, build

from ..engine import Case
from ..gen import args, fixed, normal

ORDER = 20


def pair(spec: Spec):
    return lambda dt: build(spec, dt)


def case(name, spec, *gens, layer=None):
    return Case(name, layer or spec.name, "activation", pair(spec), args(*gens))


def with_values(values, *shape, scale=3.0):
    """Normal values (times ``scale``) with the leading elements replaced by ``values``:
    the kinks themselves go through both libraries."""
    vals = np.asarray(values, dtype=np.float64)

    def gen(rng, dt):
        x = rng.standard_normal(shape) * scale
        x.reshape(-1)[:len(vals)] = vals
        return x.astype(dt)
    return gen


KINKS = {  # values where a derivative jumps, fed exactly
    "ReLU": [0.0], "LeakyReLU": [0.0], "ELU": [0.0], "SELU": [0.0], "CELU": [0.0],
    "Hardtanh": [-1.0, 1.0], "ReLU6": [0.0, 6.0], "Hardsigmoid": [-3.0, 3.0],
    "Hardswish": [-3.0, 3.0], "Softplus": [20.0, 20.5, 19.5],
}
TAILS = [0.0, -10.0, 10.0, -40.0, 40.0, -100.0, 100.0]

CASES = [
    case("gelu-2d", Spec("GELU"), normal(4, 7, scale=2.0)),
    case("gelu-3d-wide", Spec("GELU"), normal(2, 3, 5, scale=6.0)),
    case("gelu-tails", Spec("GELU"), with_values(TAILS, 3, 4)),
    case("gelu-tanh-2d", Spec("GELU", approximate="tanh"), normal(4, 7, scale=2.0)),
    case("gelu-tanh-batch1", Spec("GELU", approximate="tanh"), normal(1, 9, scale=3.0)),
    case("gelu-tanh-tails", Spec("GELU", approximate="tanh"), with_values(TAILS, 3, 4)),
]

# every element-wise activation, each option alone and combined: one case per option with its
# kinks fed exactly among normal values (shapes rotate), plus one case of extremes per class
SPECS = {
    "relu": Spec("ReLU"),
    "leakyrelu": Spec("LeakyReLU"),
    "leakyrelu-slope0.2": Spec("LeakyReLU", 0.2),
    "leakyrelu-slope-neg": Spec("LeakyReLU", negative_slope=-0.5),
    "leakyrelu-slope1.5": Spec("LeakyReLU", 1.5),
    "elu": Spec("ELU"),
    "elu-alpha0.5": Spec("ELU", alpha=0.5),
    "selu": Spec("SELU"),
    "celu": Spec("CELU"),
    "celu-alpha2": Spec("CELU", alpha=2.0),
    "celu-alpha0.3": Spec("CELU", 0.3),
    "silu": Spec("SiLU"),
    "mish": Spec("Mish"),
    "softplus": Spec("Softplus"),
    "softplus-beta2": Spec("Softplus", beta=2.0),
    "softplus-threshold5": Spec("Softplus", threshold=5.0),
    "softplus-beta0.5-threshold3": Spec("Softplus", 0.5, 3.0),
    "hardtanh": Spec("Hardtanh"),
    "hardtanh-bounds": Spec("Hardtanh", -2.0, 0.5),
    "relu6": Spec("ReLU6"),
    "hardsigmoid": Spec("Hardsigmoid"),
    "hardswish": Spec("Hardswish"),
    "sigmoid": Spec("Sigmoid"),
    "tanh": Spec("Tanh"),
}
SHAPES = [(4, 7), (2, 3, 5), (9,), (1, 3, 4)]


def kinks_of(spec: Spec) -> list:
    if spec.name == "Hardtanh" and spec.args:
        return list(spec.args)
    if spec.name == "Softplus":
        beta = spec.args[0] if spec.args else spec.kwargs.get("beta", 1.0)
        thr = spec.args[1] if len(spec.args) > 1 else spec.kwargs.get("threshold", 20.0)
        return [thr / beta, thr / beta * 1.01, thr / beta * 0.99]
    if spec.name == "CELU":
        return [0.0, -(spec.args[0] if spec.args else spec.kwargs.get("alpha", 1.0))]
    return list(KINKS.get(spec.name, [0.0]))


extremes_done = set()
for i, (tag, spec) in enumerate(SPECS.items()):
    CASES.append(case(f"{tag}-kinks", spec, with_values(kinks_of(spec) * 2, *SHAPES[i % 4])))
    if spec.name not in extremes_done:
        extremes_done.add(spec.name)
        CASES.append(case(f"{tag}-extremes", spec, with_values(TAILS, 2, 6, scale=30.0)))

# softmax family: along several dims, batch 1, the implicit dim, logits of 1e4
for name in ("Softmax", "LogSoftmax", "Softmin"):
    low = name.lower()
    CASES += [
        case(f"{low}-4d-dim2", Spec(name, dim=2), normal(2, 3, 4, 2)),
        case(f"{low}-dim-neg2", Spec(name, dim=-2), normal(3, 4, 5)),
        case(f"{low}-logits-1e4", Spec(name, dim=1), normal(3, 6, scale=1e4)),
        case(f"{low}-ties-1d", Spec(name, dim=0), fixed([1e4, 1e4, -1e4, 0.0, 3.0])),
    ]
