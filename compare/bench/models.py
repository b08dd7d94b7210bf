"""Bench items for the trained models: one training step in NumPy against one in torch.

A *step* is what ``lockstep train`` does per batch: zero_grad, forward, loss, backward,
(clip_grad_norm_), optimizer step, on the recipe's first batch, in float32 (torch's
default). ``compare.bench.layers.all_items`` adds these rows after the layers; the issue's
targets are in each item's name.
"""
from __future__ import annotations

import numpy as np

from reference import to_torch

from .. import recipes
from .item import BenchItem

#: the issue's targets: NumPy step time / torch step time at most this
TARGETS = {"digits-mlp": 1.5, "digits-cnn": 2.5, "char-gpt": 2.5}


def model_steps(name: str, dtype=np.float32):
    """``(numpy_step, torch_step)``: one training step of recipe ``name`` on each side; each
    returns ``(loss, logits)``. The two models keep training, in lockstep, as they are called."""
    rc = recipes.get(name, max_steps=1)
    dt = np.dtype(dtype)
    np_model, t_model = rc.model(dt)
    np_crit, t_crit = rc.loss(dt)
    np_opt, t_opt = rc.optimizer(np_model, t_model)
    _, x, y = rc.batches(0, dt)[0]
    tx, ty = to_torch(x), to_torch(y)

    def np_step():
        return recipes.numpy_step(np_model, np_crit, np_opt, x, y, rc.clip)

    def torch_step():
        return recipes.torch_step(t_model, t_crit, t_opt, tx, ty, rc.clip)

    np_step.module, torch_step.module = np_model, t_model     # the memory pass clears them
    return np_step, torch_step


def model_bench_items(names=tuple(TARGETS)) -> list:
    """One ``compare.bench.BenchItem`` per model (built lazily: registering costs nothing)."""
    return [BenchItem(f"{n} train step (target <= {TARGETS[n]}x)",
                      lambda n=n: model_steps(n), float("nan"), target=TARGETS[n],
                      note=f"`lockstep train {n}`: forward, loss, backward, optimizer step")
            for n in names]
