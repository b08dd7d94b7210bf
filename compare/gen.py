"""Seeded input generators for the case catalogue: each returns ``(rng, dtype) -> array``."""
from __future__ import annotations

import numpy as np


def normal(*shape, scale: float = 1.0, shift: float = 0.0):
    """Standard normal values times ``scale`` plus ``shift``, in the case's dtype."""
    return lambda rng, dt: (rng.standard_normal(shape) * scale + shift).astype(dt)


def uniform(*shape, low: float = 0.0, high: float = 1.0):
    return lambda rng, dt: rng.uniform(low, high, shape).astype(dt)


def classes(*shape, n: int):
    """Integer class indices in ``[0, n)`` (int64, like torch's ``long`` targets)."""
    return lambda rng, dt: rng.integers(0, n, shape).astype(np.int64)


def fixed(array):
    """A constant array (cast to the case's dtype when it is a float array)."""
    a = np.asarray(array)
    return lambda rng, dt: a.astype(dt) if a.dtype.kind == "f" else a.copy()


def args(*gens):
    """Combine generators into the tuple of forward arguments."""
    return lambda rng, dt: tuple(g(rng, dt) for g in gens)
