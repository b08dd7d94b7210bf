"""Transformer cases: TransformerDecoderLayer (every option, every mask), TransformerEncoder and
TransformerDecoder stacks, the whole Transformer (custom encoder/decoder included). The
inference fast paths are in ``transformer_fastpath.py``.

Every model's parameters are perturbed (torch side, then shared) so that LayerNorm weights
are not 1 and biases not 0: the final norm's bias is then visible in the padded rows, and
every bias gradient path carries a non-trivial value.
"""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from reference import Spec, share_weights

from ..badinput import Entry
from ..engine import Case, Inputs
from . import core
from .attention import bool_mask

ORDER = 71
E, HEADS, FF = 8, 2, 12


def perturbed(spec: Spec, eval_mode=False, seed=0):
    """``core.pair`` with torch's parameters moved by N(0, 0.2²) and shared again (the NumPy
    side's dropout rng seeded)."""
    base = core.pair(spec, eval_mode, seed)

    def make(dt):
        np_mod, t_mod = base(dt)
        gen = torch.Generator().manual_seed(1234)
        with torch.no_grad():
            for p in t_mod.parameters():
                p.add_(0.2 * torch.randn(p.shape, generator=gen, dtype=p.dtype))
        share_weights(np_mod, t_mod)
        return np_mod, t_mod
    return make


def _dtanh(x):
    return 1 - np.tanh(x) ** 2


def softsign(x):
    return x / (1 + np.abs(x))


softsign.torch = torch.nn.functional.softsign     # the twin, named (reference/transformer.py)


def _dsoftsign(x):
    return 1 / (1 + np.abs(x)) ** 2


def masks(rng, dt, T, S, N, batch_first, which):
    """Masks by name: tgt/src 'causal' (bool), 'causal-float', 'bool', 'float';
    'kpm' (tgt/src keys), 'mkpm' (memory keys), 'mmask' (memory_mask, T × S)."""
    kw = {}
    lead = () if N is None else (N,)
    for w in which:
        if w == "causal":
            kw["tgt_mask"] = np.triu(np.ones((T, T), bool), 1)
        elif w == "causal-float":
            kw["tgt_mask"] = npimpl.Transformer.generate_square_subsequent_mask(T, dtype=dt)
        elif w == "bool":
            kw["tgt_mask"] = bool_mask(rng, (T, T))
        elif w == "float":
            kw["tgt_mask"] = rng.standard_normal((T, T)).astype(dt)
        elif w == "kpm":
            kw["tgt_key_padding_mask"] = bool_mask(rng, lead + (T,))
        elif w == "mkpm":
            kw["memory_key_padding_mask"] = bool_mask(rng, lead + (S,))
        elif w == "mmask":
            kw["memory_mask"] = bool_mask(rng, (T, S))
        elif w == "bool-dead-row":                      # query 1 sees no tgt key
            m = bool_mask(rng, (T, T))
            m[1] = True
            kw["tgt_mask"] = m
        elif w == "mmask-dead-row":                     # query 1 sees no memory key
            m = bool_mask(rng, (T, S))
            m[1] = True
            kw["memory_mask"] = m
        elif w == "mmask-causal":
            kw["memory_mask"] = np.triu(np.ones((T, S), bool), 1)
    return kw


def seq_pair(T=5, S=7, N=2, batch_first=False, which=(), rename=None, **extra):
    """Inputs (tgt (T, N, E), memory (S, N, E)) in the layout, with masks; ``rename`` maps
    the decoder's mask names to another class's (the encoder's ``mask``, Transformer's
    ``src_*``)."""
    def gen(rng, dt):
        def seq(L):
            shape = (L, E) if N is None else ((N, L, E) if batch_first else (L, N, E))
            return rng.standard_normal(shape).astype(dt)
        a, b = seq(T), seq(S)
        kw = masks(rng, dt, T, S, N, batch_first, which)
        if rename:
            kw = {rename.get(k, k): v for k, v in kw.items()}
        return Inputs((a, b), {**kw, **extra})
    return gen


def _layer_spec(name, **kw):
    spec_kw = dict(dim_feedforward=FF, dropout=0.0)
    spec_kw.update(kw)
    return Spec(name, E, HEADS, **spec_kw)


def dec(name, which=(), eval_mode=False, N=2, extra=None, **kw):
    spec = _layer_spec("TransformerDecoderLayer", **kw)
    return Case(f"decoderlayer-{name}", "TransformerDecoderLayer", "attention",
                perturbed(spec, eval_mode),
                seq_pair(N=N, batch_first=kw.get("batch_first", False), which=which,
                         **(extra or {})))


CASES = [
    dec("base"),
    dec("norm-first", norm_first=True),
    dec("batch-first", batch_first=True, which=("kpm", "mkpm")),
    dec("unbatched", N=None, which=("causal", "mkpm")),
    dec("nobias", bias=False, which=("causal",)),
    dec("gelu-eps1e-3", activation="gelu", layer_norm_eps=1e-3),
    dec("tanh-pair", activation=(np.tanh, _dtanh), which=("float",)),
    dec("softsign-pair", activation=(softsign, _dsoftsign), norm_first=True),
    dec("causal-hint", which=("causal",), extra=dict(tgt_is_causal=True)),
    dec("masks-bool", which=("bool", "kpm", "mkpm", "mmask")),
    dec("masks-float", which=("float", "mmask")),
    dec("memory-causal-hint", which=("mmask-causal",), extra=dict(memory_is_causal=True)),
    dec("memory-mask-dead-row", which=("mmask-dead-row",)),    # 0 there (sdpa), not NaN
    dec("tgt-mask-dead-row", which=("bool-dead-row",)),
    dec("dropout", dropout=0.3, which=("causal", "kpm")),
    dec("dropout-eval", dropout=0.3, eval_mode=True),
    dec("all-options", dropout=0.2, activation="gelu", norm_first=True, batch_first=True,
        bias=False, which=("causal", "kpm", "mkpm", "mmask")),
]


# --- the stacks -------------------------------------------------------------------------------
def _stack_spec(name, layer_name, num_layers=2, norm=True, layer_kw=None, **kw):
    if norm:
        kw["norm"] = Spec("LayerNorm", E)
    return Spec(name, _layer_spec(layer_name, **(layer_kw or {})), num_layers, **kw)


def src_only(S=6, N=2, batch_first=False, which=(), **extra):
    """One input src (S, N, E) with the encoder's masks: 'causal' (bool), 'causal-float',
    'float', 'kpm'."""
    def gen(rng, dt):
        shape = (S, E) if N is None else ((N, S, E) if batch_first else (S, N, E))
        kw = {}
        for w in which:
            if w == "causal":
                kw["mask"] = np.triu(np.ones((S, S), bool), 1)
            elif w == "causal-float":
                kw["mask"] = npimpl.Transformer.generate_square_subsequent_mask(S, dtype=dt)
            elif w == "float":
                kw["mask"] = rng.standard_normal((S, S)).astype(dt)
            elif w == "kpm":
                kw["src_key_padding_mask"] = bool_mask(rng, ((N,) if N else ()) + (S,))
        return Inputs((rng.standard_normal(shape).astype(dt),), {**kw, **extra})
    return gen


def enc(name, which=(), eval_mode=False, N=2, stack_kw=None, extra=None, **layer_kw):
    spec = _stack_spec("TransformerEncoder", "TransformerEncoderLayer", layer_kw=layer_kw,
                       **(stack_kw or {}))
    return Case(f"encoder-{name}", "TransformerEncoder", "attention", perturbed(spec, eval_mode),
                src_only(N=N, batch_first=layer_kw.get("batch_first", False), which=which,
                         **(extra or {})))


def decstack(name, which=(), N=2, stack_kw=None, extra=None, **layer_kw):
    spec = _stack_spec("TransformerDecoder", "TransformerDecoderLayer", layer_kw=layer_kw,
                       **(stack_kw or {}))
    return Case(f"decoder-{name}", "TransformerDecoder", "attention", perturbed(spec),
                seq_pair(N=N, batch_first=layer_kw.get("batch_first", False), which=which,
                         **(extra or {})))


CASES += [
    enc("base", which=("kpm",)),
    enc("no-norm-1layer", stack_kw=dict(norm=False, num_layers=1)),
    enc("causal-detected", which=("causal",)),          # bool triu -> float -> is_causal
    enc("causal-float-kpm", which=("causal-float", "kpm"), batch_first=True),
    enc("mask-float-norm-first", which=("float",), norm_first=True),
    enc("unbatched-gelu", N=None, which=("kpm",), activation="gelu"),
    enc("dropout", which=("kpm",), dropout=0.3, batch_first=True),
    enc("kpm-eval-with-grad", which=("kpm",), eval_mode=True, batch_first=True),
    decstack("base", which=("causal-float", "kpm", "mkpm")),
    decstack("no-norm-1layer-bool-masks", which=("bool", "mmask"),
             stack_kw=dict(norm=False, num_layers=1)),
    decstack("batch-first-norm-first", which=("causal",), batch_first=True, norm_first=True),
    decstack("dropout", which=("causal",), dropout=0.3),
]


# --- the whole Transformer ----------------------------------------------------------------------
_TO_TRANSFORMER = {"kpm": "tgt_key_padding_mask"}


def transformer(name, which=(), src_which=(), N=2, **kw):
    kw = {**dict(num_encoder_layers=2, num_decoder_layers=2, dim_feedforward=FF, dropout=0.0),
          **kw}
    spec = Spec("Transformer", E, HEADS, **kw)
    bf = kw.get("batch_first", False)

    def gen(rng, dt):
        inp = seq_pair(T=5, S=7, N=N, batch_first=bf, which=which)(rng, dt)
        src, tgt = inp.args[1], inp.args[0]            # src (S=7), tgt (T=5)
        lead = () if N is None else (N,)
        kwargs = dict(inp.kwargs)
        if "src-kpm" in src_which:
            kwargs["src_key_padding_mask"] = kwargs.get("memory_key_padding_mask",
                                                        bool_mask(rng, lead + (7,)))
        if "src-causal" in src_which:
            kwargs["src_mask"] = np.triu(np.ones((7, 7), bool), 1)
        return Inputs((src, tgt), kwargs)
    return Case(f"transformer-{name}", "Transformer", "attention", perturbed(spec), gen)


CASES += [
    transformer("base-1+1", which=("causal-float",), num_encoder_layers=1, num_decoder_layers=1),
    transformer("all-masks", which=("causal", "kpm", "mkpm", "mmask"),
                src_which=("src-kpm", "src-causal")),
    transformer("batch-first-padding", which=("causal-float", "kpm", "mkpm"),
                src_which=("src-kpm",), batch_first=True, num_encoder_layers=1),
    transformer("unbatched", N=None, which=("causal",), num_encoder_layers=1,
                num_decoder_layers=1),
    transformer("norm-first-gelu-nobias", which=("causal",), norm_first=True, activation="gelu",
                bias=False, num_encoder_layers=1),
    transformer("dropout", which=("causal", "kpm"), dropout=0.2, num_decoder_layers=1),
    transformer("custom-encoder-decoder", which=("causal",),
                custom_encoder=_stack_spec("TransformerEncoder", "TransformerEncoderLayer",
                                           num_layers=1, norm=False),
                custom_decoder=_stack_spec("TransformerDecoder", "TransformerDecoderLayer",
                                           num_layers=1)),
]


# --- the bad-input matrix ---------------------------------------------------------------------
def _second(T):
    return lambda rng, x: [rng.standard_normal((T,) + x.shape[1:])]


_TINY = dict(dim_feedforward=8, dropout=0.0)
BAD_INPUT = {
    "TransformerDecoderLayer": Entry(Spec("TransformerDecoderLayer", 4, 2, **_TINY), (3, 2, 4),
                                     extra=_second(5)),
    "TransformerEncoder": Entry(Spec("TransformerEncoder",
                                     Spec("TransformerEncoderLayer", 4, 2, **_TINY), 2,
                                     norm=Spec("LayerNorm", 4)), (3, 2, 4)),
    "TransformerDecoder": Entry(Spec("TransformerDecoder",
                                     Spec("TransformerDecoderLayer", 4, 2, **_TINY), 2,
                                     norm=Spec("LayerNorm", 4)), (3, 2, 4), extra=_second(5)),
    "Transformer": Entry(Spec("Transformer", 4, 2, 1, 1, **_TINY), (5, 2, 4), extra=_second(3)),
}
