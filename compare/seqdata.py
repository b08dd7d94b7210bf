"""The synthetic sequence task of ``lockstep train seq2seq``, shipped in code: reverse a string
of digits. Strings have 2 to 6 digits (variable lengths, padded with PAD to 6 in the source
and to 7 in the targets), drawn uniformly; held-out strings come from another stream.
"""
from __future__ import annotations

import numpy as np

from npimpl.models.seq2seq import BOS, EOS, PAD

MIN_LEN, MAX_LEN = 2, 6
HELD_OUT = 200


def reverse_strings(rng: np.random.Generator, n: int):
    """``(src (n, MAX_LEN), tgt_in (n, MAX_LEN + 1), tgt_out (n, MAX_LEN + 1))`` int64:
    ``tgt_in = BOS + reversed``, ``tgt_out = reversed + EOS``, PAD after the end."""
    lengths = rng.integers(MIN_LEN, MAX_LEN + 1, n)
    src = np.full((n, MAX_LEN), PAD, np.int64)
    tgt_in = np.full((n, MAX_LEN + 1), PAD, np.int64)
    tgt_out = np.full((n, MAX_LEN + 1), PAD, np.int64)
    for i, L in enumerate(lengths):
        digits = rng.integers(3, 13, L)                  # tokens 3..12 are the digits 0..9
        src[i, :L] = digits
        tgt_in[i, 0], tgt_in[i, 1:L + 1] = BOS, digits[::-1]
        tgt_out[i, :L], tgt_out[i, L] = digits[::-1], EOS
    return src, tgt_in, tgt_out


def reverse_batches(steps: int, batch_size: int = 32):
    """``(seed, dtype) -> [(0, (src, tgt_in), tgt_out)] * steps``: teacher forcing."""
    def make(seed: int, dt):
        rng = np.random.default_rng([seed, 2])
        out = []
        for _ in range(steps):
            src, tgt_in, tgt_out = reverse_strings(rng, batch_size)
            out.append((0, (src, tgt_in), tgt_out))
        return out
    return make


def reverse_held_out(dt):
    """``(src, tgt_out)``: 200 strings from a stream the training never uses (seed 99)."""
    src, _, tgt_out = reverse_strings(np.random.default_rng(99), HELD_OUT)
    return src, tgt_out
