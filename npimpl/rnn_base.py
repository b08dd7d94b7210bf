"""RNNBase: RNN, LSTM and GRU over whole sequences, layers × directions of the steps in
``rnn_cell.py``, and backpropagation through time (the public classes are in ``rnn.py``).

Each layer and direction is one call of ``recurrence.py`` (the time loop and its
backward); this file stacks them, concatenates the directions, and applies the
dropout between layers (training, ``dropout > 0``: a Bernoulli mask drawn from
``rng``). A padded input (L, N, ·) and a :class:`~npimpl.utils.rnn.PackedSequence`
share one layout: rows of a (R, ·) array, step t being ``batch_sizes[t]`` of them.
"""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from . import _checks
from ._pointwise import bernoulli_keep
from .module import Module, Parameter
from .utils.rnn import PackedSequence
from .recurrence import Steps, Weights, direction_backward, direction_forward
from .rnn_cell import uniform_reset
from .random import generator

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}
_KINDS = Weights._fields            # weight_ih, weight_hh, bias_ih, bias_hh, weight_hr


class RNNCache(NamedTuple):
    dirs: list               # [layer][direction] DirCache
    masks: list              # num_layers - 1 scaled dropout masks (R, D*H_out) (or None)
    batch_first: bool
    unbatched: bool
    L: int
    N: int
    steps: Steps
    packed: PackedSequence | None    # the packed input (None for a padded one)


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
        self.rng = generator(rng)
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

    def _weights(self, layer, d) -> Weights:
        """The arrays of one layer and direction (None where absent)."""
        return Weights(*(None if p is None else p.data
                         for p in (self._p(kind, layer, d) for kind in _KINDS)))

    def _state(self, hx, name, shape, unbatched, dtype, perm=None):
        """A state ``(D*num_layers, N, H)`` from ``hx`` in the user's layout (zeros if None),
        its batch permuted by ``perm`` (a packed input's sorted_indices)."""
        cls = type(self).__name__
        if hx is None:
            return np.zeros(shape, dtype)
        h = self._input(hx, name, dtype)
        want = (shape[0], shape[2]) if unbatched else shape
        if h.shape != want:
            raise ValueError(f"{cls}: expected {name} of shape {want}, got {h.shape}")
        h = h[:, None] if unbatched else h
        return h if perm is None else h[:, perm]

    def _to_user(self, a, unbatched, batch_first):
        """(L, N, F) → the user's layout."""
        if unbatched:
            return a[:, 0]
        return a.transpose(1, 0, 2) if batch_first else a

    def _grad_output(self, a, cache):
        """The output gradient in the user's layout (or a PackedSequence) → (R, F)."""
        L, N, F = cache.L, cache.N, self._D * self._H_out
        R = sum(cache.steps.sizes)
        dt = self.weight_ih_l0.dtype
        if a is None:
            return np.zeros((R, F), dt)
        if cache.packed is not None:
            if isinstance(a, PackedSequence):
                a = a.data
            a = self._input(a, "grad_output", dt)
            if a.shape != (R, F):
                raise ValueError(f"{type(self).__name__}: grad_output must be the gradient of "
                                 f"the packed output's data, shape {(R, F)}, got {a.shape}")
            return a
        want = (L, F) if cache.unbatched else ((N, L, F) if cache.batch_first else (L, N, F))
        a = self._input(a, "grad_output", dt)
        if a.shape != want:
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {want}, "
                             f"got {a.shape}")
        a = a[:, None] if cache.unbatched else (a.transpose(1, 0, 2) if cache.batch_first else a)
        return a.reshape(L * N, F)

    def _grad_state(self, g, name, cache, H):
        shape = (self._D * self.num_layers, cache.N, H)
        if g is None:
            return np.zeros(shape, self.weight_ih_l0.dtype)
        perm = None if cache.packed is None else cache.packed.sorted_indices
        return self._state(g, name, shape, cache.unbatched, self.weight_ih_l0.dtype, perm)

    def _packed_input(self, packed, dt):
        """Check a PackedSequence; return ``(data (R, H_in), Steps, batch size)``."""
        cls = type(self).__name__
        x = self._input(packed.data, "input.data", dt)
        sizes = [int(b) for b in packed.batch_sizes]
        if x.ndim != 2 or x.shape[1] != self.input_size:
            raise ValueError(f"{cls}: expected packed data of shape (R, {self.input_size}), "
                             f"got {x.shape}")
        if not sizes or sizes[-1] < 1 or any(a < b for a, b in zip(sizes, sizes[1:])) \
                or sum(sizes) != x.shape[0]:
            raise ValueError(f"{cls}: batch_sizes must be positive, non-increasing and sum to "
                             f"the {x.shape[0]} rows of data, got {sizes}")
        idx = packed.sorted_indices
        if idx is not None and sorted(np.asarray(idx).tolist()) != list(range(sizes[0])):
            raise ValueError(f"{cls}: sorted_indices must be a permutation of "
                             f"range({sizes[0]}), got {idx}")
        return x, Steps(sizes, np.cumsum([0] + sizes[:-1]).tolist()), sizes[0]

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
        packed = input if isinstance(input, PackedSequence) else None
        if packed is not None:                     # batch_first plays no part: no batch dim
            x, steps, N = self._packed_input(packed, dt)                # (R, H_in)
            L, unbatched, perm = len(steps.sizes), False, packed.sorted_indices
        else:
            x = self._input(input, dtype=dt)
            _checks.ndim(x, (2, 3), cls)
            _checks.size(x, -1, self.input_size, cls)
            unbatched = x.ndim == 2
            x = x[:, None] if unbatched else (x.transpose(1, 0, 2) if self.batch_first else x)
            L, N, _ = x.shape                                           # (L, N, H_in)
            if L == 0:                                                  # torch refuses it too
                raise ValueError(f"{cls}: expected sequence length to be larger than 0, got "
                                 f"input of shape {np.shape(input)}")
            x = x.reshape(L * N, self.input_size)                       # (L*N, H_in)
            steps, perm = Steps([N] * L, [t * N for t in range(L)]), None
        D, nl = self._D, self.num_layers
        h = self._state(h0, "hx" if self.mode != "LSTM" else "hx[0]",
                        (D * nl, N, self._H_out), unbatched, dt, perm)
        c = self._state(c0, "hx[1]", (D * nl, N, self.hidden_size), unbatched, dt, perm) \
            if self.mode == "LSTM" else None
        dirs, masks, hn, cn = [], [], [], []
        for layer in range(nl):
            outs, caches = [], []
            for d in range(D):
                k = layer * D + d
                o, hk, ck, cache = direction_forward(self.mode, x, h[k],
                                                     None if c is None else c[k],
                                                     self._weights(layer, d), steps, bool(d))
                outs.append(o)
                caches.append(cache)
                hn.append(hk)
                cn.append(ck)
            dirs.append(caches)
            x = np.concatenate(outs, axis=-1) if D > 1 else outs[0]    # (R, D * H_out)
            mask = None
            if layer < nl - 1 and self.training and self.dropout > 0:
                if self.dropout == 1:
                    mask = np.zeros_like(x)
                else:
                    keep = bernoulli_keep(self.rng, x.shape, self.dropout, dt)
                    mask = keep.astype(dt) * dt.type(1.0 / (1.0 - self.dropout))
                x = x * mask
            if layer < nl - 1:
                masks.append(mask)
        # the masks in the input's time-major layout: (L, N, D*H_out), or packed (R, D*H_out)
        self.masks = [m if m is None or packed is not None else m.reshape(L, N, m.shape[-1])
                      for m in masks]
        self._cache = RNNCache(dirs, masks, self.batch_first, unbatched, L, N, steps, packed)
        hn = np.stack(hn)                                               # (D * nl, N, H_out)
        cn = None if c is None else np.stack(cn)
        if packed is not None:
            out = PackedSequence(x, packed.batch_sizes, packed.sorted_indices,
                                 packed.unsorted_indices)
            if packed.unsorted_indices is not None:                     # back to batch order
                hn = hn[:, packed.unsorted_indices]
                cn = None if cn is None else cn[:, packed.unsorted_indices]
        else:
            out = self._to_user(x.reshape(L, N, x.shape[-1]), unbatched, self.batch_first)
            hn = hn[:, 0] if unbatched else hn
            cn = cn[:, 0] if unbatched and cn is not None else cn
        return (out, hn) if c is None else (out, (hn, cn))

    def _backward(self, grad_output, g_hn, g_cn):
        cache = self._saved()
        D = self._D
        d_layer = self._grad_output(grad_output, cache)                 # (R, D * H_out)
        dh = self._grad_state(g_hn, "grad_h_n", cache, self._H_out)
        dc = self._grad_state(g_cn, "grad_c_n", cache, self.hidden_size) \
            if self.mode == "LSTM" else None
        dh0, dc0 = np.zeros_like(dh), None if dc is None else np.zeros_like(dc)
        for layer in range(self.num_layers - 1, -1, -1):
            chunks = np.split(d_layer, D, axis=-1) if D > 1 else [d_layer]
            dx = 0
            for d in range(D):
                k = layer * D + d
                dxd, dh0[k], dck, grads = direction_backward(
                    self.mode, chunks[d], dh[k], None if dc is None else dc[k],
                    cache.dirs[layer][d], self._weights(layer, d), cache.steps)
                for kind, g in zip(_KINDS, grads):
                    if g is not None:
                        self._p(kind, layer, d).accumulate(g)
                if dc0 is not None:
                    dc0[k] = dck
                dx = dx + dxd
            if layer > 0:
                mask = cache.masks[layer - 1]
                d_layer = dx if mask is None else dx * mask
        if cache.packed is not None:
            g_in, un = dx, cache.packed.unsorted_indices
            if un is not None:
                dh0 = dh0[:, un]
                dc0 = None if dc0 is None else dc0[:, un]
        else:
            g_in = self._to_user(dx.reshape(cache.L, cache.N, dx.shape[-1]), cache.unbatched,
                                 cache.batch_first)
            if cache.unbatched:
                dh0 = dh0[:, 0]
                dc0 = None if dc0 is None else dc0[:, 0]
        return (g_in, dh0) if dc0 is None else (g_in, (dh0, dc0))

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        for k, default in (("num_layers", 1), ("bias", True), ("batch_first", False),
                           ("dropout", 0.0), ("bidirectional", False), ("proj_size", 0)):
            if getattr(self, k) != default:
                s += f", {k}={getattr(self, k)}"
        return s
