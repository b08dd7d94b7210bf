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


CASES = [
    case("gelu-2d", Spec("GELU"), normal(4, 7, scale=2.0)),
    case("gelu-3d-wide", Spec("GELU"), normal(2, 3, 5, scale=6.0)),
    case("gelu-tails", Spec("GELU"), with_values([0.0, -10.0, 10.0, -40.0, 40.0], 3, 4)),
    case("gelu-tanh-2d", Spec("GELU", approximate="tanh"), normal(4, 7, scale=2.0)),
    case("gelu-tanh-batch1", Spec("GELU", approximate="tanh"), normal(1, 9, scale=3.0)),
    case("gelu-tanh-tails", Spec("GELU", approximate="tanh"),
         with_values([0.0, -10.0, 10.0, -40.0, 40.0], 3, 4)),
]
