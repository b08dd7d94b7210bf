"""Claims about the recurrent layers, attention and the transformer layer."""
from __future__ import annotations

import math

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from . import Measured, claim, same


def _sig(v):
    return 1 / (1 + np.exp(-v))


def _cell_pair(np_cls, t_cls, seed=0):
    """An npimpl cell (1 input, 1 hidden unit, float64) with the torch cell's weights."""
    torch.manual_seed(seed)
    t = t_cls(1, 1, dtype=torch.float64)
    n = np_cls(1, 1, dtype=np.float64)
    n.load_state_dict({k: v.detach().numpy() for k, v in t.state_dict().items()})
    return n, t, {k: v.detach().numpy().ravel() for k, v in t.state_dict().items()}


@claim("LSTMCell", "the four gates are packed in one (4H, ·) matrix in the row order i, f, g, o")
def lstm_gate_order():
    n, t, p = _cell_pair(npimpl.LSTMCell, torch.nn.LSTMCell)
    x, h, c = 0.7, -0.4, 0.9
    a = p["weight_ih"] * x + p["bias_ih"] + p["weight_hh"] * h + p["bias_hh"]   # 4 rows

    def c_next(order):                      # the cell state if the rows were in this order
        r = dict(zip(order, a))
        return _sig(r["f"]) * c + _sig(r["i"]) * np.tanh(r["g"])

    xt = torch.tensor([[x]], dtype=torch.float64)
    _, ct = t(xt, (torch.tensor([[h]], dtype=torch.float64),
                   torch.tensor([[c]], dtype=torch.float64)))
    ct = ct.item()
    ifgo, igfo = abs(ct - c_next("ifgo")), abs(ct - c_next("igfo"))
    _, cn = n(np.array([[x]]), (np.array([[h]]), np.array([[c]])))
    return Measured(f"|c' - c'(rows i,f,g,o)| = {ifgo:.1e}; read as i,g,f,o (TF1's i,j,f,o): "
                    f"{igfo:.2f}; npimpl c' - torch c' = {cn.item() - ct:.1e}",
                    ifgo < 1e-15 and igfo > 1e-3 and same(cn.item(), ct))


@claim("LSTM", "gate rows are packed i, f, g, o in weight_ih_l0 (4H, ·) and weight_hh_l0 "
               "(4H, H_out)")
def lstm_layer_packing():
    t = torch.nn.LSTM(3, 5, proj_size=2)
    n = npimpl.LSTM(3, 5, proj_size=2)
    shapes = {k: tuple(v.shape) for k, v in t.state_dict().items()}
    ours = {k: tuple(v.shape) for k, v in n.state_dict().items()}
    return Measured(f"LSTM(3, 5, proj_size=2): {shapes} (npimpl the same: {ours == shapes})",
                    shapes["weight_ih_l0"] == (20, 3) and shapes["weight_hh_l0"] == (20, 2)
                    and ours == shapes)


@claim("GRUCell", "rows are packed r, z, n and the reset gate multiplies W_hn h + b_hn after "
                  "the matmul and its bias, not the paper's W_hn (r * h)")
def gru_reset_after_matmul():
    n, t, p = _cell_pair(npimpl.GRUCell, torch.nn.GRUCell)
    x, h = 0.7, -0.4
    gi = p["weight_ih"] * x + p["bias_ih"]
    gh = p["weight_hh"] * h + p["bias_hh"]
    r, z = _sig(gi[0] + gh[0]), _sig(gi[1] + gh[1])
    torch_form = np.tanh(gi[2] + r * gh[2])
    paper_form = np.tanh(gi[2] + p["weight_hh"][2] * (r * h) + p["bias_hh"][2])
    ht = t(torch.tensor([[x]], dtype=torch.float64),
           torch.tensor([[h]], dtype=torch.float64)).item()
    ours = n(np.array([[x]]), np.array([[h]])).item()
    d_torch = abs(ht - ((1 - z) * torch_form + z * h))
    d_paper = abs(ht - ((1 - z) * paper_form + z * h))
    return Measured(f"|h' - h'(r * (W_hn h + b_hn))| = {d_torch:.1e}; with W_hn (r * h) + b_hn: "
                    f"{d_paper:.2e}; npimpl - torch = {ours - ht:.1e}",
                    d_torch < 1e-15 and d_paper > 1e-6 and same(ours, ht))


@claim("RNNCell", "every weight and bias is drawn from U(-1/sqrt(H), 1/sqrt(H))")
def rnn_init_bound():
    torch.manual_seed(0)
    H = 64
    t = torch.nn.RNNCell(16, H)
    n = npimpl.RNNCell(16, H)
    k = 1 / math.sqrt(H)
    mt = max(p.abs().max().item() for p in t.parameters())
    mn = max(np.abs(p.data).max() for p in n.parameters())
    return Measured(f"RNNCell(16, 64): max |param| torch {mt:.4f}, npimpl {mn:.4f}, bound "
                    f"1/sqrt(64) = {k:.4f}", 0.97 * k < mt <= k and 0.97 * k < mn <= k)


@claim("MultiheadAttention", "init: in_proj_weight is xavier_uniform_ over the packed (3E, E) "
                             "matrix, out_proj keeps Linear's default U(-1/sqrt(E), 1/sqrt(E)), "
                             "both biases are zero")
def mha_init():
    torch.manual_seed(0)
    E = 64
    t = torch.nn.MultiheadAttention(E, 4)
    n = npimpl.MultiheadAttention(E, 4)
    xavier_packed = math.sqrt(6 / (E + 3 * E))
    linear = 1 / math.sqrt(E)
    xavier_square = math.sqrt(6 / (2 * E))

    def bounds(m, tensor):
        w_in = tensor(m.in_proj_weight)
        w_out = tensor(m.out_proj.weight)
        biases = max(np.abs(tensor(m.in_proj_bias)).max(), np.abs(tensor(m.out_proj.bias)).max())
        return np.abs(w_in).max(), np.abs(w_out).max(), biases

    ti, to, tb = bounds(t, lambda p: p.detach().numpy())
    ni, no, nb = bounds(n, lambda p: p.data)
    ok = all(0.97 * xavier_packed < v <= xavier_packed for v in (ti, ni)) and \
        all(0.97 * linear < v <= linear for v in (to, no)) and tb == 0 == nb
    return Measured(f"E = 64: max |in_proj_weight| {ti:.4f} (npimpl {ni:.4f}) ≤ sqrt(6/4E) = "
                    f"{xavier_packed:.4f}; max |out_proj.weight| {to:.4f} (npimpl {no:.4f}) ≤ "
                    f"1/sqrt(E) = {linear:.4f}, not xavier's {xavier_square:.4f}; max |bias| "
                    f"{tb:g}", ok)


@claim("MultiheadAttention", "key_padding_mask True means blocked (scaled_dot_product_attention's "
                             "boolean mask means the opposite)")
def mha_mask_polarity():
    torch.manual_seed(0)
    mha = torch.nn.MultiheadAttention(4, 1, batch_first=True)
    x = torch.randn(1, 3, 4)
    _, w = mha(x, x, x, key_padding_mask=torch.tensor([[False, True, False]]))
    q = torch.randn(1, 1, 3, 4)
    sd = F.scaled_dot_product_attention(q, q, q, attn_mask=torch.tensor([[True, False, False]] * 3))
    only_first = (sd - q[..., :1, :]).abs().max().item()
    return Measured(f"MHA weights on the key marked True: {w[0, :, 1].abs().max().item():g}; "
                    f"SDPA with only key 0 True returns value 0 exactly (|diff| {only_first:g})",
                    w[0, :, 1].abs().max().item() == 0 and only_first < 1e-7)


@claim("ScaledDotProductAttention", "a query row with every key masked returns zeros, not NaN")
def sdpa_fully_masked_row():
    q = torch.randn(1, 1, 2, 4, dtype=torch.float64)
    mask = torch.tensor([[False, False], [True, True]])
    out = F.scaled_dot_product_attention(q, q, q, attn_mask=mask)
    n = npimpl.ScaledDotProductAttention()(q.numpy(), q.numpy(), q.numpy(), mask.numpy())
    return Measured(f"fully masked row: {out[0, 0, 0].tolist()} (npimpl {n[0, 0, 0].tolist()})",
                    bool((out[0, 0, 0] == 0).all()) and same(n, out.numpy()))


@claim("TransformerEncoderLayer", "the defaults are dropout 0.1 and a 2048-wide feed-forward "
                                  "whatever d_model is")
def transformer_defaults():
    t = torch.nn.TransformerEncoderLayer(8, 2)
    n = npimpl.TransformerEncoderLayer(8, 2)
    return Measured(f"TransformerEncoderLayer(8, 2): linear1 {tuple(t.linear1.weight.shape)}, "
                    f"dropout p {t.dropout.p} (npimpl {n.linear1.weight.shape}, "
                    f"{n.dropout.p})", tuple(t.linear1.weight.shape) == (2048, 8)
                    and t.dropout.p == 0.1 and n.linear1.weight.shape == (2048, 8)
                    and n.dropout.p == 0.1)
