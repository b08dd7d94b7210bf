"""Claims about the Transformer stacks, their inference fast paths, and packed sequences."""
from __future__ import annotations

import warnings

import numpy as np
import torch
from torch.nn.utils import rnn as T

import npimpl
from npimpl.utils import rnn as R
from reference import share_weights

from . import Measured, claim, same

E = 8


def _encoders(mask_check=True, activation="relu"):
    """A torch TransformerEncoder (2 layers, final norm with a non-zero bias, batch_first, eval)
    and its npimpl copy, float64."""
    torch.manual_seed(0)
    act_t = torch.nn.GELU("tanh") if activation == "gelu-tanh" else activation
    layer = torch.nn.TransformerEncoderLayer(E, 2, 16, dropout=0.0, batch_first=True,
                                             activation=act_t, dtype=torch.float64)
    t = torch.nn.TransformerEncoder(layer, 2, torch.nn.LayerNorm(E, dtype=torch.float64),
                                    mask_check=mask_check).eval()
    with torch.no_grad():
        t.norm.bias.normal_()
    act_n = npimpl.GELU("tanh") if activation == "gelu-tanh" else activation
    n = npimpl.TransformerEncoder(
        npimpl.TransformerEncoderLayer(E, 2, 16, dropout=0.0, batch_first=True,
                                       activation=act_n, dtype=np.float64),
        2, npimpl.LayerNorm(E, dtype=np.float64), mask_check=mask_check).eval()
    share_weights(n, t)
    return t, n


_KPM = np.array([[0, 0, 0, 1, 1], [0, 0, 0, 0, 0]], bool)


@claim("TransformerEncoder", "in eval mode under no_grad with a key padding mask, the padded "
                             "output rows are 0 before the final norm, so its bias after it, "
                             "where the ordinary path returns numbers")
def nested_padded_rows():
    t, n = _encoders()
    x = np.random.default_rng(0).standard_normal((2, 5, E))
    with torch.no_grad():
        fast = t(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(_KPM)).numpy()
    slow = t(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(_KPM)).detach().numpy()
    with npimpl.no_grad():
        ours = n(x, src_key_padding_mask=_KPM)
    bias = t.norm.bias.detach().numpy()
    gap = np.abs(fast[_KPM] - slow[_KPM]).max()
    valid = np.abs(fast[~_KPM] - slow[~_KPM]).max()
    return Measured(f"padded rows - norm.bias: {np.abs(fast[_KPM] - bias).max():.1e}; ordinary "
                    f"path differs there by {gap:.2f}, on valid rows by {valid:.1e}; npimpl - "
                    f"torch {np.abs(ours - fast).max():.1e}",
                    np.array_equal(fast[_KPM], np.broadcast_to(bias, fast[_KPM].shape))
                    and gap > 0.1 and valid < 1e-13 and same(ours, fast))


@claim("TransformerEncoder", "with mask_check=False a key padding mask that is not "
                             "left-aligned is not checked: each sequence keeps its first "
                             "(~mask).sum() tokens, whatever the mask says")
def nested_takes_first_tokens():
    t, n = _encoders(mask_check=False)
    x = np.random.default_rng(1).standard_normal((2, 5, E))
    holes = np.array([[1, 0, 0, 1, 0], [0, 0, 0, 0, 0]], bool)     # 3 valid, not a prefix
    with torch.no_grad():
        a = t(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(holes)).numpy()
        b = t(torch.from_numpy(x), src_key_padding_mask=torch.from_numpy(_KPM)).numpy()
    with npimpl.no_grad():
        ours = n(x, src_key_padding_mask=holes)
    return Measured(f"output with mask [1 0 0 1 0] - output with [0 0 0 1 1]: "
                    f"{np.abs(a - b).max():.1e}; npimpl - torch {np.abs(ours - a).max():.1e}",
                    np.abs(a - b).max() < 1e-13 and same(ours, a))


@claim("TransformerEncoderLayer", "its fused inference kernel gives NaN for a query row whose "
                                  "keys are all masked (the ordinary path gives numbers)")
def fused_nan_row():
    t, n = _encoders()
    tl, nl = t.layers[0], n.layers[0]
    x = torch.from_numpy(np.random.default_rng(2).standard_normal((1, 4, E)))
    m = torch.zeros(4, 4, dtype=torch.bool)
    m[1] = True
    with torch.no_grad():
        fused = tl(x, src_mask=m)
    slow = tl(x, src_mask=m)
    with npimpl.no_grad():
        ours = nl(x.numpy(), src_mask=m.numpy())
    return Measured(f"row 1 fused: {fused[0, 1, :2].tolist()}..., ordinary: "
                    f"{[round(v, 3) for v in slow[0, 1, :2].tolist()]}...; npimpl NaN rows "
                    f"{int(np.isnan(ours).any(-1).sum())}",
                    bool(torch.isnan(fused[0, 1]).all()) and not bool(torch.isnan(slow).any())
                    and same(ours, fused.numpy()))


@claim("TransformerEncoderLayer", "its fused inference kernel runs an nn.GELU(approximate="
                                  "'tanh') activation as the exact GELU")
def fused_gelu_exact():
    t, n = _encoders(activation="gelu-tanh")
    tl, nl = t.layers[0], n.layers[0]
    x = torch.from_numpy(np.random.default_rng(3).standard_normal((2, 4, E)) * 3)
    with torch.no_grad():
        fused = tl(x)
    tanh = tl(x.clone().requires_grad_())                      # grad enabled: ordinary path
    tl.activation = torch.nn.GELU()                            # the exact one, same weights
    exact = tl(x.clone().requires_grad_())
    with npimpl.no_grad():
        ours = nl(x.numpy())
    d_exact, d_tanh = ((fused - e).abs().max().item() for e in (exact, tanh))
    return Measured(f"fused - ordinary exact GELU: {d_exact:.1e}; fused - ordinary tanh GELU: "
                    f"{d_tanh:.1e}; npimpl - torch {np.abs(ours - fused.numpy()).max():.1e}",
                    d_exact < 1e-13 and d_tanh > 1e-6 and same(ours, fused.numpy()))


@claim("Transformer", "after building both stacks every parameter with more than one dimension "
                      "is re-drawn by xavier_uniform_, so the encoder's layers are no longer "
                      "copies (TransformerEncoder alone keeps them equal)")
def transformer_xavier():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t = torch.nn.Transformer(E, 2, 2, 1, 16)
        enc = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, 2, 16), 2)
        n = npimpl.Transformer(E, 2, 2, 1, 16)
    w = [m.linear1.weight for m in t.encoder.layers]
    same_copies = torch.equal(enc.layers[0].linear1.weight, enc.layers[1].linear1.weight)
    bound = (6 / (E + 16)) ** 0.5
    return Measured(f"Transformer: layer 0 vs 1 linear1 equal: {torch.equal(*w)}; "
                    f"TransformerEncoder: {same_copies}; max |w| {w[0].abs().max().item():.3f} "
                    f"<= xavier bound {bound:.3f}",
                    not torch.equal(*w) and same_copies and w[0].abs().max() <= bound
                    and not np.array_equal(*(m.linear1.weight.data for m in n.encoder.layers)))


@claim("LSTM", "with a PackedSequence h_n is each sequence's state after its own last step, "
               "in the caller's batch order, although the kernel ran the sequences sorted by "
               "length (stably: ties keep their order)")
def packed_h_n():
    torch.manual_seed(0)
    lstm = torch.nn.LSTM(3, 4, dtype=torch.float64)
    lengths = [2, 5, 1, 5]
    x = torch.randn(5, 4, 3, dtype=torch.float64)
    p = T.pack_padded_sequence(x, lengths, enforce_sorted=False)
    _, (h, _) = lstm(p)
    alone = torch.stack([lstm(x[:n, b])[1][0][0] for b, n in enumerate(lengths)])
    padded = lstm(x)[1][0][0]                                  # the last padded step instead
    gap = (padded[0] - h[0, 0]).abs().max().item()
    return Measured(f"sorted_indices {p.sorted_indices.tolist()}; |h_n - each sequence alone| "
                    f"{(h[0] - alone).abs().max().item():.1e}; padded input's h_n for the "
                    f"length-2 sequence differs by {gap:.2f}",
                    p.sorted_indices.tolist() == [1, 3, 0, 2]
                    and (h[0] - alone).abs().max().item() < 1e-14 and gap > 1e-3)


@claim("LSTM", "torch's pack_padded_sequence does not check a length past the padded input: "
               "its batch_sizes then sum past the rows of data (npimpl refuses)")
def pack_unchecked_length():
    q = T.pack_padded_sequence(torch.zeros(4, 3, 1), [5, 2, 1])
    try:
        R.pack_padded_sequence(np.zeros((4, 3, 1)), [5, 2, 1])
        refused = False
    except ValueError:
        refused = True
    return Measured(f"lengths [5, 2, 1] on 4 padded steps: sum(batch_sizes) = "
                    f"{int(q.batch_sizes.sum())}, data rows {q.data.shape[0]}; npimpl refuses: "
                    f"{refused}", int(q.batch_sizes.sum()) > q.data.shape[0] and refused)
