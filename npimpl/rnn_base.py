"""RNNBase: RNN, LSTM and GRU over whole sequences, layers × directions of the steps in
``rnn_cell.py``, and backpropagation through time (the public classes are in ``rnn.py``).

Per layer and direction, the forward computes ``gi = x W_ih^T + b_ih`` for every
time step in one matmul, then runs the recurrence; the backward runs the steps
in reverse, collects ``dgi`` for all steps, and turns it into ``dx``, ``dW_ih``
and ``db_ih`` with one matmul each. Between layers (training, ``dropout > 0``)
a Bernoulli mask drawn from ``rng`` scales the layer's output.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np
from einops import einsum

from . import _checks
from .module import Module, Parameter
from .rnn_cell import (gru_step, gru_step_backward, lstm_step, lstm_step_backward, rnn_step,
                       rnn_step_backward, uniform_reset)

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


class DirCache(NamedTuple):
    x: np.ndarray            # (L, N, H_layer_in) the layer's input
    h_prev: list             # L arrays (N, H_out): the state each step started from
    steps: list              # L step caches, in time order
    reverse: bool


class RNNCache(NamedTuple):
    dirs: list               # [layer][direction] DirCache
    masks: list              # num_layers - 1 scaled dropout masks (or None)
    batch_first: bool
    unbatched: bool
    L: int
    N: int


class RNNBase(Module):
    r"""Stacked, optionally bidirectional recurrences with torch's parameter names.

    Subclasses set ``mode`` ('RNN_TANH', 'RNN_RELU', 'LSTM', 'GRU'). See RNN, LSTM, GRU.

    Derivation:
        1. Unroll the recurrence: step $t$ is one cell whose state $h_{t-1}$ is the previous
           step's output, so $h_{t-1}$ receives gradient from two places: the output at
           $t - 1$ and step $t$.
        2. Backpropagation through time runs the steps last to first (``_backward()``):
           $\bar h_{t-1} = \bar y_{t-1} + (\text{what step } t \text{ sends back})$, starting
           from $\bar h_{L-1} = \bar y_{L-1} + \bar h_n$; stacked layers hand their $\bar x$
           down as the output gradient of the layer below (times its dropout mask), and a
           reverse direction runs the same steps with time flipped.
        3. The weights are shared by every step, so their gradients are sums over $t$; the
           input projections of all steps are one matmul each:
           $$\bar x_t = \bar a_t W_{ih}, \quad \bar W_{ih} \mathrel{\text{+=}} \textstyle\sum_t
           \bar a_t^\top x_t, \quad \bar W_{hh} \mathrel{\text{+=}} \textstyle\sum_t \bar a_t^\top h_{t-1}$$
    """

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, proj_size=0,
                 device=None, dtype=np.float32, rng=None):
        super().__init__()
        cls = type(self).__name__
        for arg, v, lo in (("input_size", input_size, 1), ("hidden_size", hidden_size, 1),
                           ("num_layers", num_layers, 1), ("proj_size", proj_size, 0)):
            if not isinstance(v, (int, np.integer)) or isinstance(v, bool) or v < lo:
                raise ValueError(f"{cls}: {arg} must be an int >= {lo}, got {v!r}")
        if not isinstance(dropout, (int, float)) or not 0 <= dropout <= 1 \
                or isinstance(dropout, bool):
            raise ValueError(f"{cls}: dropout should be a number in range [0, 1] representing "
                             f"the probability of an element being zeroed, got {dropout!r}")
        if proj_size >= hidden_size:
            raise ValueError(f"{cls}: proj_size has to be smaller than hidden_size, got "
                             f"proj_size={proj_size}, hidden_size={hidden_size}")
        if proj_size and mode != "LSTM":
            raise ValueError(f"{cls}: proj_size argument is only supported for LSTM, not {mode}")
        if dropout > 0 and num_layers == 1:
            warnings.warn(f"{cls}: dropout option adds dropout after all but last recurrent "
                          f"layer, so non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}")
        self.mode, self.input_size, self.hidden_size = mode, int(input_size), int(hidden_size)
        self.num_layers, self.bias, self.batch_first = int(num_layers), bool(bias), batch_first
        self.dropout, self.bidirectional = float(dropout), bool(bidirectional)
        self.proj_size = int(proj_size)
        self.rng = rng if rng is not None else np.random.default_rng()
        self.masks: list = []
        dt = self._dtype(dtype)
        D = 2 if bidirectional else 1
        G = _GATES[mode] * hidden_size
        H_out = proj_size or hidden_size
        for layer in range(num_layers):
            n_in = input_size if layer == 0 else H_out * D
            for d in range(D):
                sfx = f"_l{layer}" + ("_reverse" if d else "")
                # torch's registration order: w_ih, w_hh, b_ih, b_hh, w_hr
                setattr(self, "weight_ih" + sfx, Parameter(np.empty((G, n_in), dt)))
                setattr(self, "weight_hh" + sfx, Parameter(np.empty((G, H_out), dt)))
                if bias:
                    setattr(self, "bias_ih" + sfx, Parameter(np.empty(G, dt)))
                    setattr(self, "bias_hh" + sfx, Parameter(np.empty(G, dt)))
                if proj_size:
                    setattr(self, "weight_hr" + sfx, Parameter(np.empty((proj_size, hidden_size),
                                                                        dt)))
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        uniform_reset(self, rng)

    # -- helpers ----------------------------------------------------------------------------
    @property
    def _D(self):
        return 2 if self.bidirectional else 1

    @property
    def _H_out(self):
        return self.proj_size or self.hidden_size

    def _p(self, kind, layer, d):
        return getattr(self, f"{kind}_l{layer}" + ("_reverse" if d else ""), None)

    def _data(self, kind, layer, d):
        p = self._p(kind, layer, d)
        return None if p is None else p.data

    def _state(self, hx, name, shape, unbatched, dtype):
        """A state ``(D*num_layers, N, H)`` from ``hx`` in the user's layout (zeros if None)."""
        cls = type(self).__name__
        if hx is None:
            return np.zeros(shape, dtype)
        h = self._input(hx, name, dtype)
        want = (shape[0], shape[2]) if unbatched else shape
        if h.shape != want:
            raise ValueError(f"{cls}: expected {name} of shape {want}, got {h.shape}")
        return h[:, None] if unbatched else h

    def _to_user(self, a, unbatched, batch_first):
        """(L, N, F) → the user's layout."""
        if unbatched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if batch_first else a

    def _from_user(self, a, name, cache):
        """A gradient in the user's layout → (L, N, F) (None → zeros)."""
        L, N = cache.L, cache.N
        want = (L, self._D * self._H_out)
        want = want if cache.unbatched else ((N, L) if cache.batch_first else (L, N)) + want[1:]
        if a is None:
            return np.zeros((L, N, want[-1]), self.weight_ih_l0.dtype)
        a = self._input(a, name, self.weight_ih_l0.dtype)
        if a.shape != want:
            raise ValueError(f"{type(self).__name__}: {name} must have shape {want}, "
                             f"got {a.shape}")
        if cache.unbatched:
            return a[:, None]
        return a.transpose(1, 0, 2) if cache.batch_first else a

    def _grad_state(self, g, name, cache, H):
        shape = (self._D * self.num_layers, cache.N, H)
        if g is None:
            return np.zeros(shape, self.weight_ih_l0.dtype)
        return self._state(g, name, shape, cache.unbatched, self.weight_ih_l0.dtype)

    # -- one layer, one direction -------------------------------------------------------------
    def _dir_forward(self, x, h, c, layer, d):
        L = x.shape[0]
        w_hh, b_hh = self._data("weight_hh", layer, d), self._data("bias_hh", layer, d)
        gi = x @ self._data("weight_ih", layer, d).T                  # (L, N, G)
        if self.bias:
            gi = gi + self._data("bias_ih", layer, d)
        out = [None] * L
        h_prev, steps = [None] * L, [None] * L
        for t in (range(L - 1, -1, -1) if d else range(L)):
            h_prev[t] = h
            if self.mode == "LSTM":
                h, c, steps[t] = lstm_step(gi[t], h, c, w_hh, b_hh,
                                           self._data("weight_hr", layer, d))
            elif self.mode == "GRU":
                h, steps[t] = gru_step(gi[t], h, w_hh, b_hh)
            else:
                h, steps[t] = rnn_step(gi[t], h, w_hh, b_hh, self.mode[4:].lower())
            out[t] = h
        return np.stack(out), h, c, DirCache(x, h_prev, steps, bool(d))

    def _dir_backward(self, d_out, dh, dc, cache: DirCache, layer, d):
        """BPTT for one direction: returns ``(dx, dh0, dc0)`` and accumulates the parameters."""
        L = d_out.shape[0]
        w_hh = self._data("weight_hh", layer, d)
        w_hr = self._data("weight_hr", layer, d)
        dgi_all = np.zeros((L, *d_out.shape[1:-1], w_hh.shape[0]), d_out.dtype)  # (L, N, G)
        dw_hh = np.zeros_like(w_hh)
        db_hh = np.zeros(w_hh.shape[0], d_out.dtype)
        dw_hr = None if w_hr is None else np.zeros_like(w_hr)
        for t in (range(L) if cache.reverse else range(L - 1, -1, -1)):
            dh = dh + d_out[t]                         # from the output and from step t + 1
            if self.mode == "LSTM":
                dgi, dc, dwr = lstm_step_backward(dh, dc, cache.steps[t], w_hr)
                dgh, dh_direct = dgi, None
                if dwr is not None:
                    dw_hr += dwr
            elif self.mode == "GRU":
                dgi, dgh, dh_direct = gru_step_backward(dh, cache.steps[t])
            else:
                dgi, dgh, dh_direct = rnn_step_backward(dh, cache.steps[t],
                                                        self.mode[4:].lower())
            dgi_all[t] = dgi
            dw_hh += dgh.T @ cache.h_prev[t]           # (G, H_out)
            db_hh += dgh.sum(0)
            dh = dgh @ w_hh if dh_direct is None else dgh @ w_hh + dh_direct
        dx = dgi_all @ self._data("weight_ih", layer, d)               # (L, N, H_layer_in)
        self._p("weight_ih", layer, d).accumulate(einsum(dgi_all, cache.x, "l n g, l n i -> g i"))
        self._p("weight_hh", layer, d).accumulate(dw_hh)
        if self.bias:
            self._p("bias_ih", layer, d).accumulate(dgi_all.sum((0, 1)))
            self._p("bias_hh", layer, d).accumulate(db_hh)
        if dw_hr is not None:
            self._p("weight_hr", layer, d).accumulate(dw_hr)
        return dx, dh, dc

    # -- the whole stack -------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """RNN and GRU; LSTM overrides it to take ``hx = (h_0, c_0)``."""
        return self._forward(input, hx, None)

    def backward(self, grad_output=None, grad_h_n=None):
        """``(g_input, g_h0)``; LSTM overrides it to take and return ``(h, c)`` pairs."""
        return self._backward(grad_output, grad_h_n, None)

    def _forward(self, input, h0, c0):
        cls = type(self).__name__
        dt = self.weight_ih_l0.dtype
        x = self._input(input, dtype=dt)
        _checks.ndim(x, (2, 3), cls)
        _checks.size(x, -1, self.input_size, cls)
        unbatched = x.ndim == 2
        x = x[:, None] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)
        L, N, _ = x.shape                                               # (L, N, H_in)
        if L == 0:                                                      # torch refuses it too
            raise ValueError(f"{cls}: expected sequence length to be larger than 0, got input "
                             f"of shape {np.shape(input)}")
        D, nl = self._D, self.num_layers
        h = self._state(h0, "hx" if self.mode != "LSTM" else "hx[0]",
                        (D * nl, N, self._H_out), unbatched, dt)
        c = self._state(c0, "hx[1]", (D * nl, N, self.hidden_size), unbatched, dt) \
            if self.mode == "LSTM" else None
        dirs, masks, hn, cn = [], [], [], []
        for layer in range(nl):
            outs, caches = [], []
            for d in range(D):
                k = layer * D + d
                o, hk, ck, cache = self._dir_forward(x, h[k], None if c is None else c[k],
                                                     layer, d)
                outs.append(o)
                caches.append(cache)
                hn.append(hk)
                cn.append(ck)
            dirs.append(caches)
            x = np.concatenate(outs, axis=-1)                           # (L, N, D * H_out)
            if layer < nl - 1 and self.training and self.dropout > 0:
                if self.dropout == 1:
                    mask = np.zeros_like(x)
                else:
                    keep = self.rng.random(x.shape) >= self.dropout
                    mask = keep.astype(dt) * dt.type(1.0 / (1.0 - self.dropout))
                masks.append(mask)
                x = x * mask
            elif layer < nl - 1:
                masks.append(None)
        self.masks = masks
        self._cache = RNNCache(dirs, masks, self.batch_first, unbatched, L, N)
        out = self._to_user(x, unbatched, self.batch_first)
        hn = np.stack(hn)                                               # (D * nl, N, H_out)
        hn = hn[:, 0] if unbatched else hn
        if c is None:
            return out, hn
        cn = np.stack(cn)
        return out, (hn, cn[:, 0] if unbatched else cn)

    def _backward(self, grad_output, g_hn, g_cn):
        cache = self._saved()
        D = self._D
        d_layer = self._from_user(grad_output, "grad_output", cache)  # (L, N, D * H_out)
        dh = self._grad_state(g_hn, "grad_h_n", cache, self._H_out)
        dc = self._grad_state(g_cn, "grad_c_n", cache, self.hidden_size) \
            if self.mode == "LSTM" else None
        dh0, dc0 = np.zeros_like(dh), None if dc is None else np.zeros_like(dc)
        for layer in range(self.num_layers - 1, -1, -1):
            chunks = np.split(d_layer, D, axis=-1)
            dx = 0
            for d in range(D):
                k = layer * D + d
                dxd, dh0[k], dck = self._dir_backward(chunks[d], dh[k],
                                                      None if dc is None else dc[k],
                                                      cache.dirs[layer][d], layer, d)
                if dc0 is not None:
                    dc0[k] = dck
                dx = dx + dxd
            if layer > 0:
                mask = cache.masks[layer - 1]
                d_layer = dx if mask is None else dx * mask
        g_in = self._to_user(dx, cache.unbatched, cache.batch_first)
        u = cache.unbatched
        if dc0 is None:
            return g_in, dh0[:, 0] if u else dh0
        return g_in, (dh0[:, 0] if u else dh0, dc0[:, 0] if u else dc0)

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for k, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                           ("dropout", 0.0), ("bidirectional", False), ("proj_size", 0)):
            if getattr(self, k) != default:
                s += f", {k}={getattr(self, k)}"
        return s
