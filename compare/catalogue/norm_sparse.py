"""Sparse embedding gradients in one forward and backward (the optimizers' trajectories take
them in :mod:`.optim_more`): ``Embedding(sparse=True)`` with and without a padding row, and
``EmbeddingBag(sparse=True)``; the engine compares ``weight.grad`` densely and by its coalesced
rows, and in float64 a second pass accumulates onto the first (two sparse gradients added).
Then :class:`npimpl.sparse.SparseGrad`'s own arithmetic against torch's sparse COO tensors,
an Embedding's padding row at initialisation, and EmbeddingBag's ``include_last_offset`` on
an empty input.
"""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from npimpl.sparse import SparseGrad
from reference import Spec

from ..gen import args
from .corners import Compared, _outcome
from .norm import bag_offsets, emb, repeated

ORDER = 52

CASES = [
    emb("embedding-sparse", Spec("Embedding", 7, 4, sparse=True), args(repeated(3, 5, n=7))),
    emb("embedding-sparse-padding", Spec("Embedding", 7, 4, padding_idx=0, sparse=True),
        args(repeated(3, 5, n=7))),
    emb("embeddingbag-sparse-mean-offsets", Spec("EmbeddingBag", 7, 4, mode="mean", sparse=True),
        args(repeated(9, n=7), bag_offsets(0, 2, 2, 6))),
]


# --- SparseGrad against torch's sparse COO tensor ----------------------------------------------
_IDX = ([3, 0, 3, 4], [1, 3])               # uncoalesced: index 3 twice


def _pair_of(dt, shape_b=(5, 3)):
    rng = np.random.default_rng(3)
    va, vb = (rng.standard_normal((len(i), 3)).astype(dt) for i in _IDX)
    a, b = SparseGrad(_IDX[0], va, (5, 3)), SparseGrad(_IDX[1], vb, shape_b)
    ta = torch.sparse_coo_tensor(torch.tensor([_IDX[0]]), torch.from_numpy(va), (5, 3),
                                 check_invariants=True)
    tb = torch.sparse_coo_tensor(torch.tensor([_IDX[1]]), torch.from_numpy(vb), shape_b,
                                 check_invariants=True)
    return a, b, ta, tb


def sparse_arithmetic(dt):
    a, b, ta, tb = _pair_of(dt)
    a6, b6, ta6, tb6 = _pair_of(dt, (6, 3))
    return [
        ("add", (a + b).to_dense(), (ta + tb).to_dense().numpy()),
        ("neg", (-a).to_dense(), (-ta).to_dense().numpy()),
        ("coalesce.values", a.coalesce().values, ta.coalesce().values().numpy()),
        ("add other shape", _outcome(lambda: (a6 + b6).to_dense()),
         _outcome(lambda: (ta6 + tb6).to_dense().numpy())),
    ]


def padding_row_at_init(dt):
    """A fresh Embedding's padding row, and after reset_parameters(): zeros on both sides."""
    np_mod = npimpl.Embedding(5, 3, padding_idx=1, dtype=dt.type)
    t_mod = torch.nn.Embedding(5, 3, padding_idx=1, dtype=getattr(torch, dt.name))
    rows = [("weight[padding_idx]", np_mod.weight.data[1].copy(),
             t_mod.weight.detach()[1].numpy().copy())]
    np_mod.reset_parameters()
    t_mod.reset_parameters()
    return rows + [("reset weight[padding_idx]", np_mod.weight.data[1],
                    t_mod.weight.detach()[1].numpy())]


def last_offset_empty_input(dt):
    """include_last_offset with an empty input and offsets [0]: zero bags on both sides."""
    np_mod = npimpl.EmbeddingBag(6, 3, mode="sum", include_last_offset=True, dtype=dt.type)
    t_mod = torch.nn.EmbeddingBag(6, 3, mode="sum", include_last_offset=True,
                                  dtype=getattr(torch, dt.name))
    idx, off = np.zeros(0, np.int64), np.array([0])
    return [("out", _outcome(lambda: np_mod(idx, off)),
             _outcome(lambda: t_mod(torch.from_numpy(idx), torch.from_numpy(off))
                      .detach().numpy()))]


CASES += [
    Compared("sparsegrad-arithmetic", "Embedding", "norm", sparse_arithmetic,
             note="SparseGrad's +, unary -, coalesce against torch's sparse COO tensors; "
                  "adding gradients of different shapes raises on both sides"),
    Compared("embedding-padding-row-at-init", "Embedding", "norm", padding_row_at_init,
             note="npimpl's own init (not torch's weights copied): the padding row is zero"),
    Compared("embeddingbag-lastoffset-empty-input", "EmbeddingBag", "norm",
             last_offset_empty_input),
]
