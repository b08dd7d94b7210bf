"""Twins of the losses whose torch constructor cannot take the NumPy side's arguments as they are.

* ``LinearCrossEntropyLoss``: ``options`` is an ``npimpl.LinearCrossEntropyOptions``; the twin
  gets a ``torch.nn.LinearCrossEntropyOptions`` with the same fields (``acc_dtype`` mapped).
* ``TripletMarginWithDistanceLoss``: ``distance_function`` is a NumPy ``(fn, grad_fn)`` pair or
  module; the twin gets the torch function registered for it with :func:`register_distance`
  (the default, None, stays None: torch's ``pairwise_distance``).
* ``NLLLoss2d``: torch's constructor warns (FutureWarning) that it is deprecated; the twin is
  built with that expected warning silenced.
"""
from __future__ import annotations

import dataclasses
import warnings
from typing import Callable

import torch

from npimpl.triplet import PairwiseDistanceFn

from .twins import register_twin, to_torch, torch_dtype

#: id of a NumPy distance (the pair's ``fn``, or the module) -> its torch function
DISTANCE_TWINS: dict[int, Callable] = {}


def register_distance(np_distance, torch_fn: Callable):
    """Declare ``torch_fn`` the torch twin of a NumPy distance (a ``(fn, grad_fn)`` pair or a
    module); returns ``np_distance`` so that a catalogue can write it inline."""
    key = np_distance[0] if isinstance(np_distance, (tuple, list)) else np_distance
    DISTANCE_TWINS[id(key)] = torch_fn
    return np_distance


def torch_distance(np_distance):
    """The torch twin of a NumPy distance; a PairwiseDistanceFn maps to pairwise_distance."""
    if np_distance is None:
        return None
    if isinstance(np_distance, PairwiseDistanceFn):
        p, eps = np_distance
        return lambda x1, x2: torch.nn.functional.pairwise_distance(x1, x2, p, eps)
    key = np_distance[0] if isinstance(np_distance, (tuple, list)) else np_distance
    if id(key) not in DISTANCE_TWINS:
        raise KeyError(f"no torch twin registered for the distance {np_distance!r} "
                       f"(reference.losses.register_distance)")
    return DISTANCE_TWINS[id(key)]


@register_twin("TripletMarginWithDistanceLoss")
def _triplet_with_distance_twin(np_mod, args, kwargs, dtype):
    kw = dict(kwargs)
    kw["distance_function"] = torch_distance(kw.get("distance_function"))
    return torch.nn.TripletMarginWithDistanceLoss(*args, **kw)


@register_twin("LinearCrossEntropyLoss")
def _linear_ce_twin(np_mod, args, kwargs, dtype):
    kw = dict(kwargs)
    opts = kw.get("options")
    if opts is not None:
        fields = dataclasses.asdict(opts)
        if fields["acc_dtype"] is not None:
            fields["acc_dtype"] = torch_dtype(fields["acc_dtype"])
        kw["options"] = torch.nn.LinearCrossEntropyOptions(**fields)
    t_mod = torch.nn.LinearCrossEntropyLoss(*args, **to_torch(kw), dtype=torch_dtype(dtype))
    return t_mod.to(torch_dtype(dtype))                     # the class-weight buffer too


@register_twin("NLLLoss2d")
def _nll2d_twin(np_mod, args, kwargs, dtype):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        return torch.nn.NLLLoss2d(*to_torch(args), **to_torch(kwargs)).to(torch_dtype(dtype))


__all__ = ["DISTANCE_TWINS", "register_distance", "torch_distance"]
