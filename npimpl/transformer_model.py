"""Transformer: an encoder stack and a decoder stack (``transformer_stack.py``) joined by the
memory, with torch's xavier re-initialisation, custom encoder/decoder and
``generate_square_subsequent_mask``."""
from __future__ import annotations

import math

import numpy as np

from . import _checks
from .module import Module
from .norm import LayerNorm
from .transformer import TransformerEncoderLayer
from .transformer_decoder import TransformerDecoderLayer
from .transformer_stack import TransformerDecoder, TransformerEncoder
from .random import generator


class Transformer(Module):
    """``out = decoder(tgt, encoder(src))`` with a final LayerNorm in each stack.

    Args:
        d_model, nhead, num_encoder_layers, num_decoder_layers, dim_feedforward, dropout,
        activation, layer_norm_eps, batch_first, norm_first, bias: as the layers (torch's
            defaults: 512, 8, 6, 6, 2048, 0.1, relu, 1e-5, False, False, True).
        custom_encoder, custom_decoder: npimpl Modules used instead (same call signatures;
            backward ``g -> grad_src`` and ``g -> (grad_tgt, grad_memory)``).
        rng: ``np.random.Generator`` for every dropout (and reset_parameters).

    Shape:
        src (S, N, E), tgt (T, N, E) (batch_first: (N, ·, E); unbatched (·, E)); masks and
        key padding masks as the encoder and decoder; output like tgt.

    Backward:
        (d tgt, d memory) = decoder'(g); d src = encoder'(d memory).
        ``backward(g)`` returns ``(grad_src, grad_tgt)``.

    What torch hides:
        after building both stacks every parameter with more than one dimension, custom
        encoder and decoder included, is re-drawn by xavier_uniform_ (so the layers are no
        longer copies); the encoder is built with enable_nested_tensor=True, so it warns when
        batch_first is False and may take the nested fast path in eval under no_grad.
    """

    def __init__(self, d_model=512, nhead=8, num_encoder_layers=6, num_decoder_layers=6,
                 dim_feedforward=2048, dropout=0.1, activation="relu", custom_encoder=None,
                 custom_decoder=None, layer_norm_eps=1e-5, batch_first=False, norm_first=False,
                 bias=True, device=None, dtype=np.float32, rng=None):
        super().__init__()
        rng = generator(rng)
        kw = dict(dropout=dropout, activation=activation, layer_norm_eps=layer_norm_eps,
                  batch_first=batch_first, norm_first=norm_first, bias=bias, dtype=dtype, rng=rng)
        if custom_encoder is not None:
            self.encoder = custom_encoder
        else:
            self.encoder = TransformerEncoder(
                TransformerEncoderLayer(d_model, nhead, dim_feedforward, **kw),
                num_encoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype))
        if custom_decoder is not None:
            self.decoder = custom_decoder
        else:
            self.decoder = TransformerDecoder(
                TransformerDecoderLayer(d_model, nhead, dim_feedforward, **kw),
                num_decoder_layers, LayerNorm(d_model, layer_norm_eps, bias=bias, dtype=dtype))
        self.d_model, self.nhead, self.batch_first = d_model, nhead, batch_first
        self._reset_parameters(rng)

    @property
    def rng(self):
        return getattr(self.encoder, "rng", None)

    @rng.setter
    def rng(self, rng):
        for stack in (self.encoder, self.decoder):
            if hasattr(stack, "rng"):
                stack.rng = rng

    def _reset_parameters(self, rng=None):
        """xavier_uniform_ on every parameter with more than one dimension (torch's)."""
        rng = generator(rng)
        for p in self.parameters():
            if p.data.ndim > 1:                 # torch's fans: a kernel's size counts twice
                receptive = int(np.prod(p.shape[2:]))
                fan_in, fan_out = p.shape[1] * receptive, p.shape[0] * receptive
                a = math.sqrt(6.0 / (fan_in + fan_out))
                p.data[...] = rng.uniform(-a, a, p.shape)

    def reset_parameters(self, rng=None):
        """Every submodule's own initialisation, then xavier_uniform_ on the matrices."""
        for m in self.modules():
            if m is not self and hasattr(m, "reset_parameters"):
                m.reset_parameters(rng)
        self._reset_parameters(rng)

    def forward(self, src, tgt, src_mask=None, tgt_mask=None, memory_mask=None,
                src_key_padding_mask=None, tgt_key_padding_mask=None,
                memory_key_padding_mask=None, src_is_causal=None, tgt_is_causal=None,
                memory_is_causal=False):
        cls = "Transformer"
        s, t = self._input(src, "src"), self._input(tgt, "tgt")
        _checks.ndim(s, (2, 3), cls, "src")
        _checks.ndim(t, (s.ndim,), cls, "tgt")
        if s.ndim == 3 and s.shape[0 if self.batch_first else 1] != \
                t.shape[0 if self.batch_first else 1]:
            raise ValueError(f"{cls}: the batch number of src and tgt must be equal, got src "
                             f"{s.shape} and tgt {t.shape} (batch_first={self.batch_first})")
        if s.shape[-1] != self.d_model or t.shape[-1] != self.d_model:
            raise ValueError(f"{cls}: the feature number of src and tgt must be equal to "
                             f"d_model={self.d_model}, got src {s.shape} and tgt {t.shape}")
        memory = self.encoder(s, mask=src_mask, src_key_padding_mask=src_key_padding_mask,
                              is_causal=src_is_causal)
        out = self.decoder(t, memory, tgt_mask=tgt_mask, memory_mask=memory_mask,
                           tgt_key_padding_mask=tgt_key_padding_mask,
                           memory_key_padding_mask=memory_key_padding_mask,
                           tgt_is_causal=tgt_is_causal, memory_is_causal=memory_is_causal)
        self._cache = True
        return out

    def backward(self, grad_output):
        self._saved()
        g_tgt, g_memory = self.decoder.backward(grad_output)
        return self.encoder.backward(g_memory), g_tgt

    @staticmethod
    def generate_square_subsequent_mask(sz, device=None, dtype=None):
        """The causal mask (sz, sz): -inf above the diagonal, 0 elsewhere (float32 default)."""
        dt = np.dtype(np.float32 if dtype is None else dtype)
        return np.triu(np.full((sz, sz), -np.inf, dt), 1)
