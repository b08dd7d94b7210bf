"""One time step of the Elman RNN, the LSTM and the GRU, and the three ``*Cell`` modules.

Every step takes ``gi = x W_ih^T + b_ih`` already computed (the full-sequence
layers in ``rnn.py`` compute it for all time steps in one matmul, as torch's
CPU kernel does) and the previous state, and returns the new state and a named
cache. ``*_step_backward`` returns the gradients of the two pre-activations
``gi`` and ``gh = h W_hh^T + b_hh`` (they differ only for the GRU's candidate
gate) plus the part of ``dh_prev`` that does not flow through ``W_hh``.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks
from .activation import sigmoid
from .module import Module, Parameter
from .random import generator


# --- the three step functions ---------------------------------------------------------------
class RNNStep(NamedTuple):
    h: np.ndarray            # (N, H) the new state (tanh/relu output)


def rnn_step(gi, h, w_hh, b_hh, nonlinearity: str):
    """``h' = act(gi + h W_hh^T + b_hh)``."""
    pre = gi + h @ w_hh.T                                 # (N, H)
    if b_hh is not None:
        pre = pre + b_hh
    hn = np.tanh(pre) if nonlinearity == "tanh" else np.maximum(pre, 0)
    return hn, RNNStep(hn)


def rnn_step_backward(dh, cache: RNNStep, nonlinearity: str):
    """Returns ``(dgi, dgh, dh_direct)``: ``dpre = dh * act'(pre)`` feeds both matmuls."""
    h = cache.h
    dpre = dh * (1 - h * h) if nonlinearity == "tanh" else dh * (h > 0)
    return dpre, dpre, None


class LSTMStep(NamedTuple):
    i: np.ndarray            # (N, H) input gate
    f: np.ndarray            # (N, H) forget gate
    g: np.ndarray            # (N, H) cell candidate
    o: np.ndarray            # (N, H) output gate
    c_prev: np.ndarray       # (N, H)
    tc: np.ndarray           # (N, H) tanh(c')
    m: np.ndarray            # (N, H) o * tanh(c'), before the projection


def lstm_step(gi, h, c, w_hh, b_hh, w_hr):
    """``[i f g o] = gi + h W_hh^T + b_hh``; ``c' = σ(f) c + σ(i) tanh(g)``;
    ``h' = σ(o) tanh(c')`` (times ``W_hr^T`` with a projection)."""
    gates = gi + h @ w_hh.T                               # (N, 4H), rows i, f, g, o
    if b_hh is not None:
        gates = gates + b_hh
    H = gates.shape[-1] // 4
    s = sigmoid(gates)                                    # one call; the g slice is unused
    i, f, o = s[:, :H], s[:, H:2 * H], s[:, 3 * H:]
    g = np.tanh(gates[:, 2 * H:3 * H])
    cn = f * c + i * g                                    # (N, H)
    tc = np.tanh(cn)
    m = o * tc
    hn = m @ w_hr.T if w_hr is not None else m            # (N, P) or (N, H)
    return hn, cn, LSTMStep(i, f, g, o, c, tc, m)


def lstm_step_backward(dh, dc, cache: LSTMStep, w_hr):
    """Returns ``(dgates, dgates, dc_prev, dW_hr)`` (gi and gh share one gradient)."""
    i, f, g, o, c_prev, tc, m = cache
    dw_hr = None
    if w_hr is not None:
        dw_hr = dh.T @ m                                  # (P, H)
        dh = dh @ w_hr                                    # (N, H): gradient of m
    do = dh * tc
    dc = dc + dh * o * (1 - tc * tc)                      # c' feeds h' and the next step
    di, df, dg = dc * g, dc * c_prev, dc * i
    dgates = np.concatenate([di * i * (1 - i), df * f * (1 - f), dg * (1 - g * g),
                             do * o * (1 - o)], axis=-1)  # (N, 4H)
    return dgates, dc * f, dw_hr


class GRUStep(NamedTuple):
    r: np.ndarray            # (N, H) reset gate
    z: np.ndarray            # (N, H) update gate
    n: np.ndarray            # (N, H) candidate
    hn_lin: np.ndarray       # (N, H) W_hn h + b_hn, the term the reset gate scales
    h_prev: np.ndarray       # (N, H)


def gru_step(gi, h, w_hh, b_hh):
    """``r = σ(gi_r + gh_r)``, ``z = σ(gi_z + gh_z)``, ``n = tanh(gi_n + r * gh_n)``,
    ``h' = (1 - z) n + z h`` with ``gh = h W_hh^T + b_hh``."""
    gh = h @ w_hh.T                                       # (N, 3H), rows r, z, n
    if b_hh is not None:
        gh = gh + b_hh
    H = gh.shape[-1] // 3
    rz = sigmoid(gi[:, :2 * H] + gh[:, :2 * H])           # reset and update gates together
    r, z = rz[:, :H], rz[:, H:]
    h_n = gh[:, 2 * H:]
    n = np.tanh(gi[:, 2 * H:] + r * h_n)
    hn = (1 - z) * n + z * h
    return hn, GRUStep(r, z, n, h_n, h)


def gru_step_backward(dh, cache: GRUStep):
    """Returns ``(dgi, dgh, dh_direct)``; only the candidate rows of dgi and dgh differ."""
    r, z, n, h_n, h_prev = cache
    dn = dh * (1 - z) * (1 - n * n)                       # through tanh
    dz = dh * (h_prev - n) * z * (1 - z)
    dr = dn * h_n * r * (1 - r)
    dgi = np.concatenate([dr, dz, dn], axis=-1)           # (N, 3H)
    dgh = np.concatenate([dr, dz, dn * r], axis=-1)       # the reset gate scales W_hn h + b_hn
    return dgi, dgh, dh * z


def uniform_reset(module: Module, rng=None) -> None:
    """torch's init for every recurrent layer and cell: each weight and bias of ``module``
    from U(-k, k), k = 1/sqrt(hidden_size)."""
    rng = generator(rng)
    k = 1.0 / math.sqrt(module.hidden_size)
    for p in module.parameters():
        p.data[...] = rng.uniform(-k, k, p.shape)


# --- the cell modules -----------------------------------------------------------------------
class _CellCache(NamedTuple):
    x: np.ndarray            # (N, H_in)
    h: np.ndarray            # (N, H) previous hidden state
    step: tuple              # the step function's cache
    unbatched: bool


class _CellBase(Module):
    """Shared parameters of the cells: weight_ih (G*H, H_in), weight_hh (G*H, H), biases (G*H)."""

    _gates = 1

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=np.float32):
        super().__init__()
        name = type(self).__name__
        for arg, v in (("input_size", input_size), ("hidden_size", hidden_size)):
            if not isinstance(v, (int, np.integer)) or v <= 0:
                raise ValueError(f"{name}: {arg} must be a positive int, got {v!r}")
        self.input_size, self.hidden_size, self.bias = int(input_size), int(hidden_size), bias
        dt = self._dtype(dtype)
        G = self._gates * hidden_size
        self.weight_ih = Parameter(np.empty((G, input_size), dt))
        self.weight_hh = Parameter(np.empty((G, hidden_size), dt))
        if bias:
            self.bias_ih = Parameter(np.empty(G, dt))
            self.bias_hh = Parameter(np.empty(G, dt))
        else:
            self.bias_ih = self.bias_hh = None
        self.reset_parameters()

    def reset_parameters(self, rng=None):
        """Every weight and bias from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as torch."""
        uniform_reset(self, rng)

    def _prepare(self, input, hx, name="hx"):
        """Check shapes; return ``(x (N, H_in), h (N, H), unbatched)``."""
        cls = type(self).__name__
        x = self._input(input, dtype=self.weight_ih.dtype)
        _checks.ndim(x, (1, 2), cls)
        _checks.size(x, -1, self.input_size, cls)
        unbatched = x.ndim == 1
        x2 = x[None] if unbatched else x
        shape = (x2.shape[0], self.hidden_size)
        if hx is None:
            return x2, np.zeros(shape, x.dtype), unbatched
        h = self._input(hx, name, x.dtype)
        h2 = h[None] if unbatched and h.ndim == 1 else h
        if h2.shape != shape or h.ndim != x.ndim:
            want = shape[1:] if unbatched else shape
            raise ValueError(f"{cls}: {name} must have shape {want}, got {h.shape}")
        return x2, h2, unbatched

    def _gi(self, x):
        gi = x @ self.weight_ih.data.T                    # (N, G*H)
        return gi + self.bias_ih.data if self.bias else gi

    def _grad(self, g, like, name):
        if g is None:
            return np.zeros_like(like)
        g = self._input(g, name, like.dtype)
        g2 = g[None] if self._cache.unbatched and g.ndim == like.ndim - 1 else g
        if g2.shape != like.shape:
            raise ValueError(f"{type(self).__name__}: {name} must have shape "
                             f"{like.shape}, got {g.shape}")
        return g2

    def _accumulate(self, cache, dgi, dgh):
        """Parameter gradients of ``gi = x W_ih^T + b_ih`` and ``gh = h W_hh^T + b_hh``;
        returns ``(dx, dh_through_W_hh)``."""
        self.weight_ih.accumulate(dgi.T @ cache.x)
        self.weight_hh.accumulate(dgh.T @ cache.h)
        if self.bias:
            self.bias_ih.accumulate(dgi.sum(0))
            self.bias_hh.accumulate(dgh.sum(0))
        return dgi @ self.weight_ih.data, dgh @ self.weight_hh.data

    def extra_repr(self):
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")


def _squeeze(a, unbatched):
    return a[0] if unbatched else a


class RNNCell(_CellBase):
    r"""``h' = act(x W_ih^T + b_ih + h W_hh^T + b_hh)``, act = tanh or relu.

    Args:
        input_size, hidden_size: feature sizes H_in and H.
        bias: if False, no b_ih and b_hh.
        nonlinearity: 'tanh' or 'relu'.

    Shape:
        input (N, H_in) or (H_in); hx (N, H) or (H), zeros when None; output like hx.

    Maths:
        h' = \phi(a), \quad a = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh}, \quad \phi \in \{\tanh, \mathrm{relu}\}

    Derivation:
        1. $\bar a = \bar h' \odot \phi'(a)$: $1 - h'^2$ for tanh, $[h' > 0]$ for relu, both read
           from the saved output $h'$ (``rnn_step_backward()``).
        2. $a$ is affine in $x$ and $h$, so as for Linear:
           $$\bar x = \bar a W_{ih}, \quad \bar h = \bar a W_{hh}, \quad \bar W_{ih} \mathrel{\text{+=}} \bar a^\top x,
           \quad \bar W_{hh} \mathrel{\text{+=}} \bar a^\top h, \quad \bar b_{ih}, \bar b_{hh} \mathrel{\text{+=}} \textstyle\sum_n \bar a_n$$

    Backward:
        dpre = dh' * act'(pre);  dx = dpre W_ih;  dh = dpre W_hh;  dW_ih += dpre^T x;
        dW_hh += dpre^T h;  db_ih += sum dpre;  db_hh += sum dpre.
        ``backward(g_h)`` returns ``(g_input, g_hx)``.

    What torch hides:
        two biases b_ih and b_hh that always appear as a sum (redundant, kept for
        cuDNN compatibility); every weight is drawn from U(-1/sqrt(H), 1/sqrt(H)).
    """

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None,
                 dtype=np.float32):
        _checks.option(nonlinearity, ("tanh", "relu"), "RNNCell", "nonlinearity")
        super().__init__(input_size, hidden_size, bias, device, dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        x, h, unb = self._prepare(input, hx)
        b = self.bias_hh.data if self.bias else None
        hn, step = rnn_step(self._gi(x), h, self.weight_hh.data, b, self.nonlinearity)
        self._cache = _CellCache(x, h, step, unb)
        return _squeeze(hn, unb)

    def backward(self, grad_output):
        c = self._saved()
        dh = self._grad(grad_output, c.step.h, "grad_output")
        dgi, dgh, _ = rnn_step_backward(dh, c.step, self.nonlinearity)
        dx, dh_prev = self._accumulate(c, dgi, dgh)
        return _squeeze(dx, c.unbatched), _squeeze(dh_prev, c.unbatched)


class LSTMCell(_CellBase):
    r"""``c' = f c + i g``, ``h' = o tanh(c')``: gates ``i, f, o = σ(a_i, a_f, a_o)``,
    candidate ``g = tanh(a_g)``, pre-activations ``[a_i a_f a_g a_o] = x W_ih^T + b_ih + h W_hh^T
    + b_hh``.

    Args:
        input_size, hidden_size: feature sizes H_in and H.
        bias: if False, no b_ih and b_hh.

    Shape:
        input (N, H_in) or (H_in); hx = (h, c), each (N, H) or (H), zeros when None;
        output (h', c').

    Maths:
        a = x W_{ih}^\top + b_{ih} + h W_{hh}^\top + b_{hh} = [a_i\; a_f\; a_g\; a_o]
        i = \sigma(a_i), \quad f = \sigma(a_f), \quad g = \tanh(a_g), \quad o = \sigma(a_o)
        c' = f \odot c + i \odot g, \qquad h' = o \odot \tanh(c')

    Derivation:
        Write $\bar v = \partial L / \partial v$ for every quantity $v$; $\bar h'$ and $\bar c'$
        arrive from above (``lstm_step_backward()`` follows these steps line by line).
        1. $h' = o \odot \tanh(c')$ gives $\bar o = \bar h' \odot \tanh(c')$, and $c'$ feeds $h'$
           as well as the next step: $\bar c' \mathrel{\text{+=}} \bar h' \odot o \odot (1 - \tanh^2 c')$.
        2. $c' = f \odot c + i \odot g$ gives $\bar i = \bar c' \odot g$, $\bar f = \bar c' \odot c$,
           $\bar g = \bar c' \odot i$, and the state gradient $\bar c = \bar c' \odot f$.
        3. Through the activations ($\sigma' = \sigma(1 - \sigma)$, $\tanh' = 1 - \tanh^2$):
           $\bar a_i = \bar i\, i(1 - i)$, $\bar a_f = \bar f\, f(1 - f)$, $\bar a_g = \bar g\,(1 - g^2)$,
           $\bar a_o = \bar o\, o(1 - o)$, concatenated in torch's row order into $\bar a$, $(N, 4H)$.
        4. $a$ is affine in $x$ and $h$ (as Linear):
           $$\bar x = \bar a W_{ih}, \quad \bar h = \bar a W_{hh}, \quad \bar W_{ih} \mathrel{\text{+=}} \bar a^\top x,
           \quad \bar W_{hh} \mathrel{\text{+=}} \bar a^\top h, \quad \bar b_{ih}, \bar b_{hh} \mathrel{\text{+=}} \textstyle\sum_n \bar a_n$$

    Backward:
        (i, f, g, o are the activated gates, a_* their pre-activations, d* = dL/d*)
        do = dh' tanh(c');  dc' += dh' o (1 - tanh²c');  di = dc' g;  df = dc' c;
        dg = dc' i;  dc = dc' f;  da = [di i(1-i), df f(1-f), dg (1-g²), do o(1-o)]
        feeds both matmuls as in RNNCell.  ``backward(g_h, g_c)`` returns
        ``(g_input, (g_h, g_c))``.

    What torch hides:
        the four gates are packed in one (4H, ·) matrix in the row order i, f, g, o
        (input, forget, cell candidate, output); two biases b_ih + b_hh.
    """

    _gates = 4

    def forward(self, input, hx=None):
        h0, c0 = (None, None) if hx is None else hx
        x, h, unb = self._prepare(input, h0, "hx[0]")
        _, c, _ = self._prepare(input, c0, "hx[1]")
        b = self.bias_hh.data if self.bias else None
        hn, cn, step = lstm_step(self._gi(x), h, c, self.weight_hh.data, b, None)
        self._cache = _CellCache(x, h, step, unb)
        return _squeeze(hn, unb), _squeeze(cn, unb)

    def backward(self, grad_h=None, grad_c=None):
        c = self._saved()
        dh = self._grad(grad_h, c.step.m, "grad_h")
        dc = self._grad(grad_c, c.step.m, "grad_c")
        dgates, dc_prev, _ = lstm_step_backward(dh, dc, c.step, None)
        dx, dh_prev = self._accumulate(c, dgates, dgates)
        u = c.unbatched
        return _squeeze(dx, u), (_squeeze(dh_prev, u), _squeeze(dc_prev, u))


class GRUCell(_CellBase):
    r"""``h' = (1 - z) n + z h`` with ``r = σ(W_ir x + b_ir + W_hr h + b_hr)``,
    ``z = σ(W_iz x + b_iz + W_hz h + b_hz)``, ``n = tanh(W_in x + b_in + r * (W_hn h + b_hn))``.

    Args:
        input_size, hidden_size: feature sizes H_in and H.
        bias: if False, no b_ih and b_hh.

    Shape:
        input (N, H_in) or (H_in); hx (N, H) or (H), zeros when None; output like hx.

    Maths:
        r = \sigma(x W_{ir}^\top + b_{ir} + h W_{hr}^\top + b_{hr}), \quad z = \sigma(x W_{iz}^\top + b_{iz} + h W_{hz}^\top + b_{hz})
        n = \tanh\big(x W_{in}^\top + b_{in} + r \odot (h W_{hn}^\top + b_{hn})\big), \qquad h' = (1 - z) \odot n + z \odot h

    Derivation:
        Write $u = h W_{hn}^\top + b_{hn}$, the term the reset gate scales, and $\bar v = \partial L/\partial v$
        (``gru_step_backward()``).
        1. $h' = (1 - z) n + z h$: $\bar n = \bar h' (1 - z)$, $\bar z = \bar h' (h - n)$, and a
           direct path $\bar h \mathrel{\text{+=}} \bar h' z$.
        2. Through the activations: $\bar a_n = \bar n (1 - n^2)$, $\bar a_z = \bar z\, z (1 - z)$.
        3. $a_n = (\dots) + r \odot u$: $\bar r = \bar a_n \odot u$, so $\bar a_r = \bar r\, r(1 - r)$,
           and $\bar u = \bar a_n \odot r$.
        4. The input rows get $[\bar a_r, \bar a_z, \bar a_n]$, the hidden rows $[\bar a_r, \bar a_z,
           \bar a_n \odot r]$ (only the candidate differs), then both matmuls as for Linear:
           $$\bar x = \bar a^{(i)} W_{ih}, \quad \bar h \mathrel{\text{+=}} \bar a^{(h)} W_{hh}, \quad
           \bar W_{ih} \mathrel{\text{+=}} \bar a^{(i)\top} x, \quad \bar W_{hh} \mathrel{\text{+=}} \bar a^{(h)\top} h$$

    Backward:
        dn = dh'(1 - z)(1 - n²);  dz = dh'(h - n) z(1 - z);  dr = dn (W_hn h + b_hn) r(1 - r);
        d(W_hn h + b_hn) = dn * r;  dh = dh' z + [dr dz dn*r] W_hh.
        ``backward(g_h)`` returns ``(g_input, g_hx)``.

    What torch hides:
        rows packed r, z, n; the reset gate multiplies (W_hn h + b_hn), *after* the
        hidden matmul and its bias (the cuDNN form, not the paper's W_hn (r * h)), which is
        why b_hn cannot be merged with b_in; two biases b_ih + b_hh.
    """

    _gates = 3

    def forward(self, input, hx=None):
        x, h, unb = self._prepare(input, hx)
        b = self.bias_hh.data if self.bias else None
        hn, step = gru_step(self._gi(x), h, self.weight_hh.data, b)
        self._cache = _CellCache(x, h, step, unb)
        return _squeeze(hn, unb)

    def backward(self, grad_output):
        c = self._saved()
        dh = self._grad(grad_output, c.step.h_prev, "grad_output")
        dgi, dgh, dh_direct = gru_step_backward(dh, c.step)
        dx, dh_prev = self._accumulate(c, dgi, dgh)
        return _squeeze(dx, c.unbatched), _squeeze(dh_prev + dh_direct, c.unbatched)
