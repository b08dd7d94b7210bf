"""Attention cases: MultiheadAttention (every option alone, then combined; masks of both
kinds; need_weights both ways; dropout sharing the NumPy mask) and scaled_dot_product_attention.

Random boolean masks always leave key 0 open, except in the cases named ``fully-masked``,
which block one query row completely (torch: NaN with need_weights, zeros without).
"""
from __future__ import annotations

from functools import partial

import numpy as np

from reference import Spec

from ..engine import Case, Inputs
from . import core

ORDER = 70

E, HEADS = 8, 2

pair = partial(core.pair, seed=0)        # the NumPy side's dropout rng always seeded


def bool_mask(rng, shape, p=0.3):
    """Random True (= blocked in MHA) with the first key always open."""
    m = rng.random(shape) < p
    m[..., 0] = False
    return m


def mha_inputs(L=13, S=13, N=1, kdim=E, vdim=E, batch_first=False, kpm=None, attn=None,
               heads=HEADS, full_row=False, **kwargs):
    """``kpm``/``attn`` are None, 'bool' or 'float'; ``attn`` may also be 'bool3d', 'causal'."""
    def gen(rng, dt):
        def seq(T, f):
            if N is None:
                return rng.standard_normal((T, f)).astype(dt)
            return rng.standard_normal((N, T, f) if batch_first else (T, N, f)).astype(dt)
        q, k, v = seq(L, E), seq(S, kdim), seq(S, vdim)
        kw = dict(kwargs)
        if kpm is not None:
            shape = (S,) if N is None else (N, S)
            m = bool_mask(rng, shape)
            kw["key_padding_mask"] = m if kpm == "bool" else np.where(
                m, -2.0, rng.standard_normal(shape)).astype(dt)
        if attn is not None:
            nb = 1 if N is None else N
            if attn == "causal":
                m = np.triu(np.ones((L, S), bool), 1)
            else:
                m = bool_mask(rng, (nb * heads, L, S) if attn == "bool3d" else (L, S))
            if full_row:
                m[..., L // 2, :] = True
            kw["attn_mask"] = m if attn != "float" else np.where(
                m, -np.inf, rng.standard_normal(m.shape)).astype(dt)
        return Inputs((q, k, v), kw)
    return gen


def mha(name, spec_kw=None, eval_mode=False, **inp):
    kw = dict(spec_kw or {})
    spec = Spec("MultiheadAttention", E, kw.pop("num_heads", HEADS), **kw)
    return Case(f"mha-{name}", "MultiheadAttention", "attention", pair(spec, eval_mode),
                mha_inputs(batch_first=kw.get("batch_first", False), kdim=kw.get("kdim") or E,
                           vdim=kw.get("vdim") or E, heads=spec.args[1], **inp))


CASES = [
    mha("base"),
    mha("len1", L=1, S=1),
    mha("cross-len13-src5", S=5),
    mha("kdim5-vdim6", dict(kdim=5, vdim=6), S=7),
    mha("kdim-only", dict(kdim=6)),
    mha("nobias", dict(bias=False)),
    mha("bias-kv", dict(add_bias_kv=True)),
    mha("zero-attn", dict(add_zero_attn=True)),
    mha("batch-first", dict(batch_first=True)),
    mha("unbatched", N=None),
    mha("heads1", dict(num_heads=1)),
    mha("heads4", dict(num_heads=4)),
    mha("no-weights", need_weights=False),
    mha("per-head-weights", average_attn_weights=False),
    mha("kpm-bool", kpm="bool"),
    mha("kpm-float", kpm="float"),
    mha("mask-bool", attn="bool"),
    mha("mask-float", attn="float"),
    mha("mask-bool3d", attn="bool3d"),
    mha("mask-both", kpm="bool", attn="bool"),
    mha("mask-both-no-weights", kpm="bool", attn="bool", need_weights=False),
    mha("causal-hint-no-weights", attn="causal", is_causal=True, need_weights=False),
    mha("causal-hint-weights", attn="causal", is_causal=True),
    # the hint's causal mask covers the appended key slots too (rows before them see none)
    mha("causal-hint-bias-kv-zero-attn", dict(add_bias_kv=True, add_zero_attn=True), N=2,
        attn="causal", is_causal=True, need_weights=False),
    mha("fully-masked-row-weights", attn="bool", full_row=True),
    mha("fully-masked-row-no-weights", attn="bool", full_row=True, need_weights=False),
    mha("dropout-weights", dict(dropout=0.3)),
    mha("dropout-no-weights", dict(dropout=0.3), need_weights=False, attn="bool"),
    mha("dropout-eval", dict(dropout=0.3), eval_mode=True),
    mha("all-options", dict(kdim=5, vdim=6, add_bias_kv=True, add_zero_attn=True,
                            batch_first=True, dropout=0.2),
        N=3, S=7, kpm="bool", attn="bool3d", average_attn_weights=False),
    mha("all-options-no-weights", dict(add_bias_kv=True, add_zero_attn=True, dropout=0.2,
                                       num_heads=4),
        N=3, S=7, kpm="float", attn="float", need_weights=False),
    mha("all-options-unbatched", dict(kdim=5, add_bias_kv=True, add_zero_attn=True),
        N=None, L=1, S=13, kpm="bool", attn="bool3d"),
]


# --- scaled_dot_product_attention -----------------------------------------------------------
def sdpa_inputs(shape_q, shape_k, shape_v, mask=None):
    def gen(rng, dt):
        q, k, v = (rng.standard_normal(s).astype(dt) for s in (shape_q, shape_k, shape_v))
        kw = {}
        L, S = shape_q[-2], shape_k[-2]
        if mask == "bool":                                # True = may attend (sdpa polarity)
            kw["attn_mask"] = ~bool_mask(rng, (*shape_q[:-2], L, S))
        elif mask == "float":
            kw["attn_mask"] = rng.standard_normal((L, S)).astype(dt)
        elif mask == "dead-row":
            m = ~bool_mask(rng, (L, S))
            m[L // 2] = False
            kw["attn_mask"] = m
        return Inputs((q, k, v), kw)
    return gen


def sdpa(name, shapes, mask=None, **kw):
    return Case(f"sdpa-{name}", "ScaledDotProductAttention", "attention",
                pair(Spec("ScaledDotProductAttention", **kw)), sdpa_inputs(*shapes, mask=mask))


_B = ((1, 2, 13, 4), (1, 2, 13, 4), (1, 2, 13, 4))
CASES += [
    sdpa("base", _B),
    sdpa("len1", ((1, 2, 1, 4), (1, 2, 1, 4), (1, 2, 1, 4))),
    sdpa("cross-ev6", ((1, 2, 13, 4), (1, 2, 5, 4), (1, 2, 5, 6))),
    sdpa("3d", ((1, 13, 4), (1, 7, 4), (1, 7, 4))),
    sdpa("mask-bool", _B, mask="bool"),
    sdpa("mask-float", _B, mask="float"),
    sdpa("causal", _B, is_causal=True),
    sdpa("causal-rect", ((1, 2, 13, 4), (1, 2, 5, 4), (1, 2, 5, 4)), is_causal=True),
    sdpa("scale", _B, scale=0.3),
    sdpa("gqa", ((1, 4, 13, 4), (1, 2, 13, 4), (1, 2, 13, 4)), enable_gqa=True),
    sdpa("fully-masked-row", _B, mask="dead-row"),
    sdpa("gqa-causal-scale", ((2, 6, 13, 4), (2, 2, 7, 4), (2, 2, 7, 5)), enable_gqa=True,
         is_causal=True, scale=0.7),
]


# --- TransformerEncoderLayer ----------------------------------------------------------------
def tel_inputs(L=13, N=1, batch_first=False, kpm=False, mask=None, heads=HEADS, **kw):
    def gen(rng, dt):
        shape = (L, E) if N is None else ((N, L, E) if batch_first else (L, N, E))
        kwargs = dict(kw)
        if kpm:
            kwargs["src_key_padding_mask"] = bool_mask(rng, (L,) if N is None else (N, L))
        if mask == "causal":
            kwargs["src_mask"] = np.triu(np.ones((L, L), bool), 1)
        elif mask == "float":
            kwargs["src_mask"] = rng.standard_normal((L, L)).astype(dt)
        elif mask == "bool":
            kwargs["src_mask"] = bool_mask(rng, (L, L))
        return Inputs((rng.standard_normal(shape).astype(dt),), kwargs)
    return gen


def tel(name, eval_mode=False, dropout=0.0, **kw):
    spec_kw = {k: kw.pop(k) for k in ("activation", "batch_first", "norm_first", "bias",
                                      "layer_norm_eps") if k in kw}
    spec = Spec("TransformerEncoderLayer", E, HEADS, dim_feedforward=16, dropout=dropout,
                **spec_kw)
    return Case(f"encoderlayer-{name}", "TransformerEncoderLayer", "attention",
                pair(spec, eval_mode),
                tel_inputs(batch_first=spec_kw.get("batch_first", False), **kw))


CASES += [
    tel("base"),
    tel("len1", L=1),
    tel("gelu", activation="gelu"),
    tel("norm-first", norm_first=True),
    tel("batch-first", batch_first=True),
    tel("unbatched", N=None),
    tel("nobias", bias=False),
    tel("eps1e-3", layer_norm_eps=1e-3),
    tel("kpm", kpm=True),
    tel("mask-float", mask="float"),
    tel("causal", mask="causal", is_causal=True),
    tel("dropout", dropout=0.2),
    tel("dropout-eval", dropout=0.2, eval_mode=True),
    tel("all-options", dropout=0.2, activation="gelu", norm_first=True, batch_first=True,
        N=3, kpm=True, mask="bool"),
    tel("all-options-postnorm", dropout=0.3, bias=False, N=3, kpm=True, mask="causal",
        is_causal=True),
]
