"""Normalisation, dropout and embedding cases: every option alone and combined, and an MLP
with BatchNorm1d + Dropout trained in lockstep, then probed in eval mode."""
from __future__ import annotations

import numpy as np
import torch

from reference import Spec, build, share_weights

from ..engine import Case
from ..gen import args, normal

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
