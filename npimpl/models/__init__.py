"""Whole models built from npimpl layers, trained in lockstep by ``lockstep train``.

* :class:`DigitsMLP` and :class:`DigitsCNN`: classifiers for scikit-learn's 8x8 digits;
* :class:`GPT`: a character-level, nanoGPT-style transformer with a weight-tied head.

Each is defined once here; its torch mirror lives in ``reference/models.py``.
"""
from .mlp import DigitsMLP
from .cnn import DigitsCNN
from .gpt import GPT, Block, CausalSelfAttention, GPTConfig, MLP

__all__ = ["DigitsMLP", "DigitsCNN", "GPT", "GPTConfig", "Block", "CausalSelfAttention", "MLP"]
