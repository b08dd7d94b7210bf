"""Whole models built from npimpl layers, trained in lockstep by ``lockstep train``.

* :class:`DigitsMLP` and :class:`DigitsCNN`: classifiers for scikit-learn's 8x8 digits;
* :class:`GPT`: a character-level, nanoGPT-style transformer with a weight-tied head;
* :class:`Seq2SeqTransformer`: an encoder-decoder Transformer reversing digit strings;
* :class:`PackedLSTMClassifier`: an LSTM classifying variable-length (packed) sequences.

Each is defined once here; its torch mirror lives in ``reference/models.py``.
"""
from .mlp import DigitsMLP
from .cnn import DigitsCNN
from .gpt import GPT, Block, CausalSelfAttention, GPTConfig, MLP
from .seq2seq import Seq2SeqTransformer
from .rnn_classifier import PackedLSTMClassifier

__all__ = ["DigitsMLP", "DigitsCNN", "GPT", "GPTConfig", "Block", "CausalSelfAttention", "MLP",
           "Seq2SeqTransformer", "PackedLSTMClassifier"]
