"""A sequence-to-sequence Transformer for a synthetic task (reversing digit strings), trained
with teacher forcing and decoded greedily: ``lockstep train seq2seq``.

Tokens: ``PAD = 0`` (padding, ignored by the loss), ``BOS = 1`` (starts every decoder input),
``EOS = 2`` (ends every target), digits 0-9 as 3-12. A source ``4 0 7`` gives the decoder
input ``BOS 7 0 4`` and the target ``7 0 4 EOS``; shorter strings are padded with PAD.
"""
from __future__ import annotations

import math

import numpy as np

from ..embedding import Embedding
from ..grad_mode import no_grad
from ..linear import Linear
from ..module import Module
from ..transformer_model import Transformer

PAD, BOS, EOS = 0, 1, 2
VOCAB = 13                                   # PAD, BOS, EOS and ten digits


class Seq2SeqTransformer(Module):
    """``logits = generator(Transformer(emb_src(src), emb_tgt(tgt)))`` with
    ``emb(t) = tok(t) * sqrt(d_model) + pos(position)`` (learned positions, one table per
    side) and masks built from the tokens: PAD keys ignored on both sides, causal targets.

    Args:
        vocab_size, d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward:
            the sizes (defaults: the recipe's 13, 32, 4, 2, 2, 64).
        max_len: rows of the position tables.

    Shape:
        ``model((src, tgt))`` or ``model(src, tgt)``: src (N, S), tgt (N, T) int64 →
        logits (N, T, vocab_size) (teacher forcing); ``model(src)`` → greedy decoding
        (:meth:`greedy`).

    Backward:
        generator, then ``(d src_emb, d tgt_emb) = Transformer'(g)``; each token table gets
        ``sqrt(d_model) * d emb`` scattered to its rows, each position table the sum over the
        batch. ``backward(g)`` returns None (the inputs are token ids).

    What torch hides:
        in greedy decoding (eval, no_grad, batch_first, an even number of heads, a padding
        mask) torch's encoder takes its nested-tensor path, so the memory's padded rows are
        the final norm's bias, not numbers; the memory padding mask hides them from the
        decoder, so the decoded strings do not change (npimpl reproduces both).
    """

    def __init__(self, vocab_size=VOCAB, d_model=32, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=64, max_len=16, norm_first=False,
                 activation="relu",
                 dtype=np.float32,
                 rng=None):
        super().__init__()
        self.src_tok = Embedding(vocab_size, d_model, dtype=dtype)
        self.tgt_tok = Embedding(vocab_size, d_model, dtype=dtype)
        self.src_pos = Embedding(max_len, d_model, dtype=dtype)
        self.tgt_pos = Embedding(max_len, d_model, dtype=dtype)
        self.transformer = Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
                                       dim_feedforward, dropout=0.0, batch_first=True,
                                       norm_first=norm_first, activation=activation,
                                       dtype=dtype, rng=rng)
        self.generator = Linear(d_model, vocab_size, dtype=dtype)
        self.d_model = d_model
        self.dtype = np.dtype(dtype)

    def _embed(self, tok, pos, ids):
        return tok(ids) * math.sqrt(self.d_model) + pos(np.arange(ids.shape[1]))  # (N, L, E)

    def _causal(self, T):
        return Transformer.generate_square_subsequent_mask(T, dtype=self.dtype)

    def forward(self, src, tgt=None):
        if tgt is None and isinstance(src, tuple):
            src, tgt = src
        if tgt is None:
            return self.greedy(src)
        pad_src = src == PAD
        out = self.transformer(self._embed(self.src_tok, self.src_pos, src),
                               self._embed(self.tgt_tok, self.tgt_pos, tgt),
                               tgt_mask=self._causal(tgt.shape[1]),
                               src_key_padding_mask=pad_src, tgt_key_padding_mask=tgt == PAD,
                               memory_key_padding_mask=pad_src)
        self._cache = True
        return self.generator(out)                                   # (N, T, V)

    def backward(self, grad_output):
        self._saved()
        g_src, g_tgt = self.transformer.backward(self.generator.backward(grad_output))
        scale = g_src.dtype.type(math.sqrt(self.d_model))
        for tok, pos, g in ((self.src_tok, self.src_pos, g_src),
                            (self.tgt_tok, self.tgt_pos, g_tgt)):
            tok.backward(g * scale)
            pos.backward(g.sum(0))
        return None

    def greedy(self, src, max_len=None):
        """Decode ``src`` (N, S) one token at a time, under ``no_grad``: each step feeds the
        tokens so far and takes the argmax of the last position. Returns the scores
        (N, max_len, V) whose argmax is the decoded string; once a string has produced EOS
        its later scores are forced to PAD (0 for PAD, -inf elsewhere). max_len: S + 1."""
        N, S = src.shape
        T = S + 1 if max_len is None else max_len
        pad_src = src == PAD
        forced = np.full(self.generator.weight.shape[0], -np.inf, self.dtype)
        forced[PAD] = 0
        with no_grad():
            memory = self.transformer.encoder(self._embed(self.src_tok, self.src_pos, src),
                                              src_key_padding_mask=pad_src)
            ys = np.full((N, 1), BOS, np.int64)
            done = np.zeros(N, bool)
            scores = []
            for t in range(T):
                out = self.transformer.decoder(self._embed(self.tgt_tok, self.tgt_pos, ys),
                                               memory, tgt_mask=self._causal(t + 1),
                                               memory_key_padding_mask=pad_src)
                s = self.generator(out[:, -1])                         # (N, V)
                s = np.where(done[:, None], forced, s)
                nxt = s.argmax(-1)
                done |= nxt == EOS
                ys = np.concatenate([ys, nxt[:, None]], 1)
                scores.append(s)
        return np.stack(scores, 1)                                     # (N, T, V)


def decode(ids) -> str:
    """Token ids → the digit string they spell, up to the first EOS (PAD and BOS skipped)."""
    out = []
    for i in np.asarray(ids).tolist():
        if i == EOS:
            break
        if i > EOS:
            out.append(str(i - 3))
    return "".join(out)
