"""Normalisation, dropout and embedding cases: every option alone and combined, and an MLP
with BatchNorm1d + Dropout trained in lockstep, then probed in eval mode."""
from __future__ import annotations

import numpy as np
import torch

from reference import Spec, build, share_weights

from ..engine import Case
from ..gen import args, fixed, normal

ORDER = 50


def randomized(spec: Spec, train: bool = True):
    """``dtype -> (npimpl, torch)`` with torch's affine parameters (ones/zeros by default,
    which would hide a transposed or missing weight) redrawn from N(1, 0.5) / N(0, 0.5) and
    shared again. The engine seeds torch before building, so the draw is reproducible."""
    def model(dt):
        np_mod, t_mod = build(spec, dt)
        with torch.no_grad():
            for name, p in t_mod.named_parameters():
                p.copy_(torch.randn_like(p) * 0.5 + (1.0 if name.endswith("weight") else 0.0))
        share_weights(np_mod, t_mod)
        return (np_mod, t_mod) if train else (np_mod.eval(), t_mod.eval())
    return model


def single(name, spec, inputs, layer=None, family="norm", train=True, note=""):
    return Case(name, layer or spec.name, family, randomized(spec, train), inputs, note=note)


CASES = [
    # LayerNorm: one trailing dim, several, without affine, without bias, an odd eps
    single("layernorm-last", Spec("LayerNorm", 6), args(normal(4, 6, scale=2.0, shift=1.0))),
    single("layernorm-3d", Spec("LayerNorm", 5), args(normal(2, 3, 5))),
    single("layernorm-2dims", Spec("LayerNorm", (3, 4)), args(normal(2, 3, 4))),
    single("layernorm-unbatched", Spec("LayerNorm", [7]), args(normal(7))),
    single("layernorm-noaffine", Spec("LayerNorm", 6, elementwise_affine=False),
           args(normal(4, 6))),
    single("layernorm-nobias", Spec("LayerNorm", 6, bias=False), args(normal(4, 6))),
    single("layernorm-eps-nobias-2dims", Spec("LayerNorm", (2, 5), eps=1e-2, bias=False),
           args(normal(3, 2, 5, scale=0.1))),
]


# --- Embedding / EmbeddingBag ------------------------------------------------------------------
def repeated(*shape, n: int, hits=(2, 0)):
    """Integer indices in [0, n) with ``hits`` forced in: index 2 three times (repeated
    gradients add up) and the padding candidate 0 at least once."""
    def gen(rng, dt):
        idx = rng.integers(0, n, shape).astype(np.int64)
        flat = idx.reshape(-1)
        flat[:3] = hits[0]
        flat[-1] = hits[1]
        return idx
    return gen


def emb(name, spec, inputs, layer=None):
    return single(name, spec, inputs, layer=layer, family="embedding")


def bag_offsets(*offsets):
    return lambda rng, dt: np.array(offsets, dtype=np.int64)


CASES += [
    emb("embedding-plain", Spec("Embedding", 7, 4), args(repeated(3, 5, n=7))),
    emb("embedding-1d", Spec("Embedding", 5, 3), args(repeated(6, n=5))),
    emb("embedding-padding", Spec("Embedding", 7, 4, padding_idx=0), args(repeated(3, 5, n=7))),
    emb("embedding-padding-negative", Spec("Embedding", 7, 4, padding_idx=-7),
        args(repeated(3, 5, n=7))),
    emb("embedding-maxnorm", Spec("Embedding", 7, 4, max_norm=2.0), args(repeated(3, 5, n=7))),
    emb("embedding-maxnorm-l1", Spec("Embedding", 7, 4, max_norm=3.0, norm_type=1.0),
        args(repeated(3, 5, n=7))),
    emb("embedding-freq", Spec("Embedding", 7, 4, scale_grad_by_freq=True),
        args(repeated(3, 5, n=7))),
    emb("embedding-all", Spec("Embedding", 7, 4, padding_idx=0, max_norm=2.0,
                              scale_grad_by_freq=True), args(repeated(2, 3, 4, n=7))),
]
for mode in ("sum", "mean", "max"):
    CASES += [
        emb(f"embeddingbag-{mode}-2d", Spec("EmbeddingBag", 7, 4, mode=mode),
            args(repeated(3, 4, n=7))),
        emb(f"embeddingbag-{mode}-offsets", Spec("EmbeddingBag", 7, 4, mode=mode),
            args(repeated(9, n=7), bag_offsets(0, 2, 2, 6))),   # bag 1 is empty
        emb(f"embeddingbag-{mode}-padding", Spec("EmbeddingBag", 7, 4, mode=mode, padding_idx=2),
            args(repeated(3, 4, n=7))),                          # bag 0 is all padding
        emb(f"embeddingbag-{mode}-lastoffset-maxnorm",
            Spec("EmbeddingBag", 7, 4, mode=mode, include_last_offset=True, max_norm=2.0),
            args(repeated(8, n=7), bag_offsets(0, 3, 5, 8))),
    ]
CASES += [
    emb("embeddingbag-sum-psw", Spec("EmbeddingBag", 7, 4, mode="sum"),
        args(repeated(9, n=7), bag_offsets(0, 4, 4, 7), normal(9))),
    emb("embeddingbag-sum-psw-2d-padding", Spec("EmbeddingBag", 7, 4, mode="sum", padding_idx=0),
        args(repeated(3, 4, n=7), lambda rng, dt: None, normal(3, 4))),
    # scale_grad_by_freq: torch 2.13's CPU EmbeddingBag divides by the wrong count when a
    # repeated index is not the largest one (pytorch/pytorch#190063), so these cases repeat
    # only the largest index; tests/test_embedding.py checks mixed counts against F.embedding.
    emb("embeddingbag-mean-freq-padding",
        Spec("EmbeddingBag", 7, 4, mode="mean", scale_grad_by_freq=True, padding_idx=0),
        args(fixed([0, 6, 2, 6, 1, 6, 3, 6, 4, 5]), bag_offsets(0, 5, 9))),
    emb("embeddingbag-sum-freq-psw-maxnorm",
        Spec("EmbeddingBag", 7, 4, mode="sum", scale_grad_by_freq=True, max_norm=1.5),
        args(fixed([6, 1, 6, 0, 2, 6, 3, 5, 4, 6]), bag_offsets(0, 3, 7), normal(10))),
]
