"""Torch mirrors of ``npimpl.models`` and ``dtype -> (npimpl model, torch model)`` pairs.

The digits classifiers are plain ``torch.nn.Sequential``; the GPT is nanoGPT's
``model.py`` written with plain torch ops (no fused attention kernel), with the
same module names, so the two state_dicts match key for key.
"""
from __future__ import annotations

import math

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

import npimpl
from npimpl.models import DigitsCNN, DigitsMLP, GPT, GPTConfig

from .twins import share_weights, torch_dtype


# --- digits classifiers ----------------------------------------------------------------------
def torch_digits_mlp(in_features=64, hidden=64, num_classes=10, dtype=torch.float32):
    return nn.Sequential(nn.Linear(in_features, hidden, dtype=dtype), nn.ReLU(),
                         nn.Linear(hidden, num_classes, dtype=dtype))


def torch_digits_cnn(channels=(8, 16), num_classes=10, dtype=torch.float32):
    c1, c2 = channels
    return nn.Sequential(
        nn.Unflatten(1, (1, 8, 8)),
        nn.Conv2d(1, c1, 3, padding=1, dtype=dtype), nn.MaxPool2d(2), nn.ReLU(),
        nn.Conv2d(c1, c2, 3, padding=1, dtype=dtype), nn.MaxPool2d(2), nn.ReLU(),
        nn.Flatten(), nn.Linear(4 * c2, num_classes, dtype=dtype))


# --- nanoGPT -------------------------------------------------------------------------------
class TorchCausalSelfAttention(nn.Module):
    def __init__(self, config: GPTConfig, dtype=torch.float32):
        super().__init__()
        self.n_head, self.n_embd = config.n_head, config.n_embd
        self.c_attn = nn.Linear(config.n_embd, 3 * config.n_embd, bias=config.bias, dtype=dtype)
        self.c_proj = nn.Linear(config.n_embd, config.n_embd, bias=config.bias, dtype=dtype)

    def forward(self, x):
        B, T, C = x.size()
        q, k, v = self.c_attn(x).split(self.n_embd, dim=2)
        q = q.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)   # (B, nh, T, hs)
        k = k.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        v = v.view(B, T, self.n_head, C // self.n_head).transpose(1, 2)
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))    # (B, nh, T, T)
        causal = torch.tril(torch.ones(T, T, dtype=torch.bool))
        att = F.softmax(att.masked_fill(~causal, float("-inf")), dim=-1)
        y = (att @ v).transpose(1, 2).contiguous().view(B, T, C)
        return self.c_proj(y)


class TorchMLP(nn.Module):
    def __init__(self, config: GPTConfig, dtype=torch.float32):
        super().__init__()
        self.c_fc = nn.Linear(config.n_embd, 4 * config.n_embd, bias=config.bias, dtype=dtype)
        self.gelu = nn.GELU()
        self.c_proj = nn.Linear(4 * config.n_embd, config.n_embd, bias=config.bias, dtype=dtype)

    def forward(self, x):
        return self.c_proj(self.gelu(self.c_fc(x)))


class TorchBlock(nn.Module):
    def __init__(self, config: GPTConfig, dtype=torch.float32):
        super().__init__()
        self.ln_1 = nn.LayerNorm(config.n_embd, dtype=dtype)
        self.attn = TorchCausalSelfAttention(config, dtype)
        self.ln_2 = nn.LayerNorm(config.n_embd, dtype=dtype)
        self.mlp = TorchMLP(config, dtype)

    def forward(self, x):
        x = x + self.attn(self.ln_1(x))
        return x + self.mlp(self.ln_2(x))


class TorchGPT(nn.Module):
    """nanoGPT's GPT (no dropout), the torch mirror of :class:`npimpl.models.GPT`."""

    def __init__(self, config: GPTConfig, dtype=torch.float32):
        super().__init__()
        self.config = config
        self.transformer = nn.ModuleDict(dict(
            wte=nn.Embedding(config.vocab_size, config.n_embd, dtype=dtype),
            wpe=nn.Embedding(config.block_size, config.n_embd, dtype=dtype),
            h=nn.ModuleList([TorchBlock(config, dtype) for _ in range(config.n_layer)]),
            ln_f=nn.LayerNorm(config.n_embd, dtype=dtype)))
        self.lm_head = nn.Linear(config.n_embd, config.vocab_size, bias=False, dtype=dtype)
        self.lm_head.weight = self.transformer.wte.weight       # weight tying
        self.apply(self._init_weights)
        for name, p in self.named_parameters():
            if name.endswith("c_proj.weight"):
                nn.init.normal_(p, mean=0.0, std=0.02 / math.sqrt(2 * config.n_layer))

    @staticmethod
    def _init_weights(module):
        if isinstance(module, (nn.Linear, nn.Embedding)):
            nn.init.normal_(module.weight, mean=0.0, std=0.02)
            if getattr(module, "bias", None) is not None:
                nn.init.zeros_(module.bias)

    def forward(self, idx):
        B, T = idx.size()
        tr = self.transformer
        x = tr.wte(idx) + tr.wpe(torch.arange(T))
        for block in tr.h:
            x = block(x)
        return self.lm_head(tr.ln_f(x))


# --- pairs ---------------------------------------------------------------------------------
def _pair(np_model, t_model_f32, dtype):
    """Cast the torch model (initialised in float32) to ``dtype`` and copy its weights to NumPy:
    float32 -> float64 is exact, so a float32 and a float64 run start from the same weights
    and differ only in the arithmetic. ``.to()`` keeps tied Parameters tied."""
    t_model = t_model_f32.to(torch_dtype(dtype))
    share_weights(np_model, t_model)
    return np_model, t_model


def digits_mlp_pair(dtype, **kw):
    """``(npimpl DigitsMLP, torch Sequential)`` with torch's initial weights copied to NumPy."""
    return _pair(DigitsMLP(**kw, dtype=np.dtype(dtype).type), torch_digits_mlp(**kw), dtype)


def digits_cnn_pair(dtype, **kw):
    return _pair(DigitsCNN(**kw, dtype=np.dtype(dtype).type), torch_digits_cnn(**kw), dtype)


def gpt_pair(dtype, config: GPTConfig):
    return _pair(GPT(config, dtype=np.dtype(dtype).type), TorchGPT(config), dtype)


class FlatCrossEntropy(npimpl.CrossEntropyLoss):
    """Language-model loss: cross-entropy of logits ``(B, T, V)`` against targets ``(B, T)``,
    averaged over all ``B T`` positions (nanoGPT's ``logits.view(-1, V)``)."""

    def forward(self, input, target):
        x = self._x(input)
        self._shape = x.shape
        return super().forward(x.reshape(-1, x.shape[-1]), np.asarray(target).reshape(-1))

    def backward(self, grad_output=None):
        return super().backward(grad_output).reshape(self._shape)


class TorchFlatCrossEntropy(nn.CrossEntropyLoss):
    def forward(self, input, target):
        return super().forward(input.reshape(-1, input.shape[-1]), target.reshape(-1))


def lm_loss_pair(dtype):
    return FlatCrossEntropy(), TorchFlatCrossEntropy()
