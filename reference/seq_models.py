"""Torch mirrors of ``npimpl.models.Seq2SeqTransformer`` and ``PackedLSTMClassifier`` (the same
module names, so the state_dicts match key for key), and their ``dtype -> (npimpl, torch)``
pairs."""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn

from npimpl.models import PackedLSTMClassifier, Seq2SeqTransformer
from npimpl.models.seq2seq import BOS, EOS, PAD, VOCAB

from .models import _pair


class TorchSeq2SeqTransformer(nn.Module):
    """The torch side of :class:`npimpl.models.Seq2SeqTransformer`."""

    def __init__(self, vocab_size=VOCAB, d_model=32, nhead=4, num_encoder_layers=2,
                 num_decoder_layers=2, dim_feedforward=64, max_len=16, norm_first=False,
                 activation="relu",
                 dtype=torch.float32):
        super().__init__()
        self.src_tok = nn.Embedding(vocab_size, d_model, dtype=dtype)
        self.tgt_tok = nn.Embedding(vocab_size, d_model, dtype=dtype)
        self.src_pos = nn.Embedding(max_len, d_model, dtype=dtype)
        self.tgt_pos = nn.Embedding(max_len, d_model, dtype=dtype)
        self.transformer = nn.Transformer(d_model, nhead, num_encoder_layers, num_decoder_layers,
                                          dim_feedforward, dropout=0.0, batch_first=True,
                                       norm_first=norm_first, activation=activation,
                                          dtype=dtype)
        self.generator = nn.Linear(d_model, vocab_size, dtype=dtype)
        self.d_model = d_model

    def _embed(self, tok, pos, ids):
        return tok(ids) * math.sqrt(self.d_model) + pos(torch.arange(ids.shape[1]))

    def _causal(self, T, dtype):
        return nn.Transformer.generate_square_subsequent_mask(T, dtype=dtype)

    def forward(self, src, tgt=None):
        if tgt is None and isinstance(src, tuple):
            src, tgt = src
        if tgt is None:
            return self.greedy(src)
        pad_src = src == PAD
        x = self._embed(self.src_tok, self.src_pos, src)
        out = self.transformer(x, self._embed(self.tgt_tok, self.tgt_pos, tgt),
                               tgt_mask=self._causal(tgt.shape[1], x.dtype),
                               src_key_padding_mask=pad_src, tgt_key_padding_mask=tgt == PAD,
                               memory_key_padding_mask=pad_src)
        return self.generator(out)

    @torch.no_grad()
    def greedy(self, src, max_len=None):
        N, S = src.shape
        T = S + 1 if max_len is None else max_len
        pad_src = src == PAD
        x = self._embed(self.src_tok, self.src_pos, src)
        forced = torch.full((self.generator.out_features,), -math.inf, dtype=x.dtype)
        forced[PAD] = 0
        memory = self.transformer.encoder(x, src_key_padding_mask=pad_src)
        ys = torch.full((N, 1), BOS, dtype=torch.int64)
        done = torch.zeros(N, dtype=torch.bool)
        scores = []
        for t in range(T):
            out = self.transformer.decoder(self._embed(self.tgt_tok, self.tgt_pos, ys), memory,
                                           tgt_mask=self._causal(t + 1, x.dtype),
                                           memory_key_padding_mask=pad_src)
            s = torch.where(done[:, None], forced, self.generator(out[:, -1]))
            nxt = s.argmax(-1)
            done |= nxt == EOS
            ys = torch.cat([ys, nxt[:, None]], 1)
            scores.append(s)
        return torch.stack(scores, 1)


class TorchPackedLSTMClassifier(nn.Module):
    """The torch side of :class:`npimpl.models.PackedLSTMClassifier`."""

    def __init__(self, input_size, hidden_size, num_classes, num_layers=1, bidirectional=False,
                 dtype=torch.float32):
        super().__init__()
        self.lstm = nn.LSTM(input_size, hidden_size, num_layers=num_layers,
                            bidirectional=bidirectional, dtype=dtype)
        self.head = nn.Linear((2 if bidirectional else 1) * hidden_size, num_classes,
                              dtype=dtype)

    def forward(self, packed):
        _, (h_n, _) = self.lstm(packed)
        D = 2 if self.lstm.bidirectional else 1
        return self.head(torch.cat(list(h_n[-D:]), dim=-1))


def seq2seq_pair(dtype, **kw):
    """``(npimpl Seq2SeqTransformer, torch twin)``: torch's float32 init, cast, copied."""
    return _pair(Seq2SeqTransformer(**kw, dtype=np.dtype(dtype).type),
                 TorchSeq2SeqTransformer(**kw), dtype)


def packed_classifier_pair(dtype, *args, **kw):
    return _pair(PackedLSTMClassifier(*args, **kw, dtype=np.dtype(dtype).type),
                 TorchPackedLSTMClassifier(*args, **kw), dtype)
