"""Claims about pooling, Flatten, GroupNorm, Dropout2d and EmbeddingBag."""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from . import Measured, claim, same


@claim("AvgPool2d", "the divisor is per output pixel: with count_include_pad the padded "
                    "window counts, without it only the real inputs")
def avgpool_divisor():
    x = torch.ones(1, 1, 3, 3, dtype=torch.float64)
    incl = F.avg_pool2d(x, 3, 1, 1, count_include_pad=True)[0, 0, 0, 0].item()
    excl = F.avg_pool2d(x, 3, 1, 1, count_include_pad=False)[0, 0, 0, 0].item()
    n = npimpl.AvgPool2d(3, 1, 1, count_include_pad=True)(x.numpy())[0, 0, 0, 0]
    return Measured(f"corner of a 3x3 ones image, 3x3 window, padding 1: {incl:.6f} with "
                    f"count_include_pad (4/9), {excl:g} without (npimpl {n:.6f})",
                    abs(incl - 4 / 9) < 1e-15 and excl == 1 and same(n, incl))


def _first_tie(torch_pool, np_module) -> Measured:
    """Where the gradient of a 2x2 window of equal values goes, on both sides."""
    x = torch.ones(1, 1, 2, 2, dtype=torch.float64, requires_grad=True)
    torch_pool(x).sum().backward()
    np_module(np.ones((1, 1, 2, 2)))
    n = np_module.backward(np.ones((1, 1, 1, 1)))
    g = x.grad.numpy()[0, 0]
    return Measured(f"gradient of a 2x2 window of ones: {g.tolist()} (npimpl {n[0, 0].tolist()})",
                    g[0, 0] == 1 and g.sum() == 1 and same(n[0, 0], g))


@claim("MaxPool2d", "a tie routes the gradient to the first maximum in row-major order")
def maxpool_first_tie():
    return _first_tie(lambda x: F.max_pool2d(x, 2), npimpl.MaxPool2d(2))


@claim("AdaptiveMaxPool2d", "ties go to the first maximum in row-major order")
def adaptive_max_first_tie():
    return _first_tie(lambda x: F.adaptive_max_pool2d(x, 1), npimpl.AdaptiveMaxPool2d(1))


@claim("Flatten", "Flatten defaults to start_dim=1, torch.flatten to 0")
def flatten_default():
    x = torch.zeros(2, 3, 4)
    module = tuple(torch.nn.Flatten()(x).shape)
    function = tuple(torch.flatten(x).shape)
    n = npimpl.Flatten()(np.zeros((2, 3, 4))).shape
    return Measured(f"(2, 3, 4): nn.Flatten() -> {module} (npimpl {n}), torch.flatten -> "
                    f"{function}", module == (2, 12) == n and function == (24,))


@claim("GroupNorm", "G = 1 is LayerNorm over (C, *) (before the per-channel affine)")
def groupnorm_one_group():
    x = torch.randn(2, 3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))
    g = F.group_norm(x, 1)
    ln = F.layer_norm(x, (3, 4))
    return Measured(f"max |group_norm(x, 1) - layer_norm(x, (C, L))| = "
                    f"{(g - ln).abs().max().item():.1e}", torch.allclose(g, ln, rtol=0,
                                                                         atol=1e-14))


@claim("Dropout2d", "an unbatched (C, H, W) input gets one Bernoulli per (C, H) row, not per "
                    "channel")
def dropout2d_unbatched_rows():
    torch.manual_seed(0)
    with warnings.catch_warnings():             # torch warns about the 3-D input
        warnings.simplefilter("ignore")
        y = F.dropout2d(torch.ones(4, 6, 5), 0.5, training=True)
    rows = y.reshape(4 * 6, 5)
    whole_rows = bool(((rows == 0).all(1) | (rows != 0).all(1)).all())
    mixed = [int((y[c, :, 0] == 0).sum()) for c in range(4)]
    return Measured(f"every (c, h) row all kept or all dropped: {whole_rows}; dropped rows per "
                    f"channel (of 6): {mixed}", whole_rows and any(0 < k < 6 for k in mixed))


@claim("EmbeddingBag", "mode='mean' divides by the number of non-padding entries")
def embeddingbag_mean_padding():
    w = torch.arange(8, dtype=torch.float64).reshape(4, 2)
    out = F.embedding_bag(torch.tensor([[1, 0, 3]]), w, mode="mean", padding_idx=0)
    n = npimpl.EmbeddingBag(4, 2, padding_idx=0, dtype=np.float64)
    n.weight.data[...] = w.numpy()
    ours = n(np.array([[1, 0, 3]]))
    return Measured(f"bag [1, 0, 3], padding 0: {out[0].tolist()} = (w1 + w3) / 2 "
                    f"(npimpl {ours[0].tolist()})",
                    out[0].tolist() == ((w[1] + w[3]) / 2).tolist() and same(ours, out.numpy()))
