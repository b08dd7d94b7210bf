"""Step-time benchmark items for the trained models: NumPy step time over torch step time.

A *step* is what ``lockstep train`` does per batch: zero_grad, forward, loss, backward,
(clip_grad_norm_), optimizer step, on one batch of the recipe, in float32 (torch's
default). The benchmark (``lockstep bench``) times ``numpy_step`` and ``torch_step``
alternately and reports the ratio; :func:`time_items` is a small stand-alone timer.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable

import numpy as np

from reference import to_torch

from . import recipes


@dataclass
class ModelBenchItem:
    """One model's training step on each side; ``target`` is the issue's allowed ratio."""

    name: str
    numpy_step: Callable[[], object]
    torch_step: Callable[[], object]
    target: float
    note: str = ""


TARGETS = {"digits-mlp": 1.5, "digits-cnn": 2.5, "char-gpt": 2.5}


def _item(name: str, dtype: str = "float32") -> ModelBenchItem:
    rc = recipes.get(name, max_steps=1)
    dt = np.dtype(dtype)
    np_model, t_model = rc.model(dt)
    np_crit, t_crit = rc.loss(dt)
    np_opt, t_opt = rc.optimizer(np_model, t_model)
    _, x, y = rc.batches(0, dt)[0]
    tx, ty = to_torch(x), to_torch(y)
    return ModelBenchItem(
        f"{name}-step", lambda: recipes.numpy_step(np_model, np_crit, np_opt, x, y, rc.clip),
        lambda: recipes.torch_step(t_model, t_crit, t_opt, tx, ty, rc.clip),
        TARGETS[name], f"one training step of `lockstep train {name}` ({dtype}, batch "
                       f"{tuple(x.shape)})")


def model_bench_items(names=tuple(TARGETS)) -> list[ModelBenchItem]:
    """A bench item per model whose layers are available (the CNN needs the conv family)."""
    out = []
    for name in names:
        try:
            out.append(_item(name))
        except (ImportError, AttributeError) as exc:   # a family not merged yet
            out.append(ModelBenchItem(f"{name}-step", None, None, TARGETS[name],
                                      f"unavailable: {exc}"))
    return out


def time_items(items, repeats: int = 5, number: int = 10) -> list[dict]:
    """Median over ``repeats`` of ``number`` calls, each side alternately; ratio = NumPy / torch."""
    rows = []
    for it in items:
        if it.numpy_step is None:
            rows.append(dict(name=it.name, numpy_ms=None, torch_ms=None, ratio=None,
                             target=it.target, note=it.note))
            continue
        it.numpy_step(), it.torch_step()                  # warm-up (allocations, lazy init)
        t_np, t_t = [], []
        for _ in range(repeats):
            for fn, acc in ((it.numpy_step, t_np), (it.torch_step, t_t)):
                t0 = time.perf_counter()
                for _ in range(number):
                    fn()
                acc.append((time.perf_counter() - t0) / number)
        a, b = float(np.median(t_np)) * 1e3, float(np.median(t_t)) * 1e3
        rows.append(dict(name=it.name, numpy_ms=a, torch_ms=b, ratio=a / b, target=it.target,
                         note=it.note))
    return rows
