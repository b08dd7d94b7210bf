"""Torch twins of npimpl's RNN, LSTM and GRU (and their cells).

With ``dropout > 0``, ``num_layers > 1`` and training mode, torch applies the
dropout between layers inside its fused kernel, drawing from its own RNG, which
NumPy cannot reproduce. The twin is then still the real ``torch.nn.LSTM`` (same
parameter names, same ``state_dict``), but its forward runs each layer through a
*single-layer* torch module of the same kind (``torch.func.functional_call`` on
this module's own ``*_l{k}`` parameters, so gradients land on them) and multiplies
between layers by the masks the NumPy side drew (``np_module.masks``; with a PackedSequence
the masks multiply its ``data``). In eval mode
or with ``dropout == 0`` the twin is the plain torch module, fused kernel included.
"""
from __future__ import annotations

import types

import torch
from torch.nn.utils.rnn import PackedSequence

from .attention import kept_noise
from .twins import register_twin, torch_dtype


def _per_layer_forward(self, input, hx=None):
    """Layer-by-layer forward with the NumPy side's dropout masks between layers."""
    np_mod = self._np_module
    if not self.training or np_mod.dropout == 0 or self.num_layers == 1:
        return type(self).forward(self, input, hx)
    lstm = isinstance(self, torch.nn.LSTM)
    packed = isinstance(input, PackedSequence)
    unbatched = not packed and input.dim() == 2
    x = input if packed else (input.unsqueeze(1) if unbatched else
                              (input.transpose(0, 1) if self.batch_first else input))
    D = 2 if self.bidirectional else 1
    if hx is not None:
        fix = (lambda h: h.unsqueeze(1)) if unbatched else (lambda h: h)
        hx = tuple(fix(h) for h in hx) if lstm else fix(hx)
    h_n, c_n = [], []
    for k, single in enumerate(self._np_layers):
        params = {}
        for name in single._flat_weights_names:                # e.g. weight_ih_l0_reverse
            params[name] = getattr(self, name.replace("_l0", f"_l{k}"))
        if hx is None:
            hk = None
        elif lstm:
            hk = tuple(h[k * D:(k + 1) * D] for h in hx)
        else:
            hk = hx[k * D:(k + 1) * D]
        x, hk_out = torch.func.functional_call(single, params, (x, hk))
        if lstm:
            h_n.append(hk_out[0])
            c_n.append(hk_out[1])
        else:
            h_n.append(hk_out)
        if k < self.num_layers - 1:                     # torch's scaling, NumPy's draw
            if packed:
                x = x._replace(data=x.data * kept_noise(np_mod.masks[k], x.data, self.dropout))
            else:                                       # masks documented (L, N, D*H_out)
                if np_mod.masks[k].shape != tuple(x.shape):
                    raise RuntimeError(f"shared dropout: the NumPy mask has shape "
                                       f"{np_mod.masks[k].shape}, not the (L, N, D*H_out) = "
                                       f"{tuple(x.shape)} its docstring promises")
                x = x * kept_noise(np_mod.masks[k], x, self.dropout)
    if not packed:
        x = x[:, 0] if unbatched else (x.transpose(0, 1) if self.batch_first else x)
    out = x
    h_n = torch.cat(h_n)
    h_n = h_n[:, 0] if unbatched else h_n
    if not lstm:
        return out, h_n
    c_n = torch.cat(c_n)
    return out, (h_n, c_n[:, 0] if unbatched else c_n)


def _rnn_twin(np_mod, args, kwargs, dtype):
    """The torch module with np_mod's hyper-parameters; forward shares the dropout masks."""
    name = type(np_mod).__name__
    kw = dict(num_layers=np_mod.num_layers, bias=np_mod.bias, batch_first=np_mod.batch_first,
              dropout=np_mod.dropout, bidirectional=np_mod.bidirectional,
              dtype=torch_dtype(dtype))
    if name == "RNN":
        kw["nonlinearity"] = np_mod.nonlinearity
    if name == "LSTM":
        kw["proj_size"] = np_mod.proj_size
    cls = getattr(torch.nn, name)
    t = cls(np_mod.input_size, np_mod.hidden_size, **kw)
    D = 2 if np_mod.bidirectional else 1
    H_out = np_mod.proj_size or np_mod.hidden_size
    layers = []
    for k in range(np_mod.num_layers):
        one = dict(kw, num_layers=1, dropout=0.0, batch_first=False)
        layers.append(cls(np_mod.input_size if k == 0 else D * H_out, np_mod.hidden_size, **one))
    # plain attributes, not submodules: the twin's parameters stay exactly torch's
    object.__setattr__(t, "_np_layers", layers)
    object.__setattr__(t, "_np_module", np_mod)
    object.__setattr__(t, "forward", types.MethodType(_per_layer_forward, t))
    return t


for _name in ("RNN", "LSTM", "GRU"):
    register_twin(_name)(_rnn_twin)
