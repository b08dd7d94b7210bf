"""Broadcasting between two inputs, forward and backward.

Where torch lets two inputs broadcast (the distances, attention's batch dims), the forward
needs the common shape (with torch's error when there is none) and the backward needs the
adjoint of the broadcast: a gradient of the common shape summed back to each input's shape.
"""
from __future__ import annotations

import numpy as np


def broadcast_shape(owner: str, *shapes: tuple) -> tuple:
    """The shape that ``shapes`` broadcast to; ValueError naming ``owner`` if none."""
    try:
        return tuple(np.broadcast_shapes(*shapes))
    except ValueError:
        raise ValueError(f"{owner}: the input shapes {', '.join(map(str, shapes))} must "
                         "broadcast (each dim equal or 1, aligned from the right), got "
                         "ones that do not") from None


def sum_to(g: np.ndarray, shape: tuple) -> np.ndarray:
    """Sum ``g`` (of a broadcast shape) back to ``shape``: over the leading dims ``shape``
    lacks and over every dim where ``shape`` has 1 and ``g`` does not (torch's
    ``sum_to_size``, the adjoint of ``broadcast_to``)."""
    shape = tuple(shape)
    lead = g.ndim - len(shape)
    if lead:
        g = g.sum(axis=tuple(range(lead)))
    axes = tuple(i for i, n in enumerate(shape) if n == 1 and g.shape[i] != 1)
    if axes:
        g = g.sum(axis=axes, keepdims=True)
    return np.asarray(g).reshape(shape)
