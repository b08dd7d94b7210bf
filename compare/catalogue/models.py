"""Whole models: the GPT's pieces for one step, and short versions of ``lockstep train``.

The training cases reuse the recipes of ``compare/recipes.py`` (same data, model
pair, optimizer and clipping), cut to a few steps so that CI stays fast; the full
runs are ``lockstep train MODEL``.
"""
from __future__ import annotations

import numpy as np

from npimpl.models import Block, CausalSelfAttention, GPTConfig
from reference import share_weights, torch_dtype
from reference.models import TorchBlock, TorchCausalSelfAttention, gpt_pair

from .. import recipes
from ..engine import Case, Trajectory
from ..gen import args, normal

ORDER = 90


def mirrored(np_cls, torch_cls, config: GPTConfig):
    """``dtype -> (np_cls(config), torch_cls(config))`` with torch's weights copied to NumPy."""
    def make(dt):
        np_m = np_cls(config, dtype=np.dtype(dt).type)
        t_m = torch_cls(config, dtype=torch_dtype(dt))
        share_weights(np_m, t_m)
        return np_m, t_m
    return make


def tokens(*shape, vocab: int):
    return lambda rng, dt: (rng.integers(0, vocab, shape).astype(np.int64),)


def short(name: str, steps: int) -> Trajectory:
    """The recipe ``name`` as a catalogue trajectory of its first ``steps`` steps.

    A few steps stay within the single-step float32 tolerance, so the recipe's float32
    allowance (sized for the full run) is not used here."""
    tr = recipes.as_trajectory(recipes.get(name, max_steps=steps), name=f"{name}-train")
    tr.note = f"first {steps} steps of `lockstep train {name}`: {tr.note}"
    return tr


_SMALL = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=8)
_1HEAD = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=1, n_embd=6, bias=False)

CASES = [
    Case("causalselfattention-2heads", "CausalSelfAttention", "models",
         mirrored(CausalSelfAttention, TorchCausalSelfAttention, _SMALL), args(normal(3, 5, 8))),
    Case("causalselfattention-1head-nobias-T1", "CausalSelfAttention", "models",
         mirrored(CausalSelfAttention, TorchCausalSelfAttention, _1HEAD), args(normal(2, 1, 6))),
    Case("block-2heads", "Block", "models", mirrored(Block, TorchBlock, _SMALL),
         args(normal(2, 5, 8))),
    # the whole GPT: the tied weight's gradient is the head's plus the lookup table's
    Case("gpt-2layers", "GPT", "models", lambda dt: gpt_pair(dt, _SMALL), tokens(3, 8, vocab=11)),
    Case("gpt-1head-nobias-short", "GPT", "models", lambda dt: gpt_pair(dt, _1HEAD),
         tokens(2, 3, vocab=11)),
    short("digits-mlp", 5),
    short("digits-cnn", 3),
    short("char-gpt", 3),
    short("seq2seq", 3),
]
