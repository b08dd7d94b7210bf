"""RNN, LSTM and GRU: the public classes (torch's signatures and docstrings); the stacking,
the directions and backpropagation through time live in ``rnn_base.py``."""
from __future__ import annotations

import numpy as np

from . import _checks
from .rnn_base import RNNBase

# The Args and Shape lines RNN, GRU and LSTM share word for word; ``_shared_doc`` writes them
# into each docstring at ``{common_args}`` / ``{common_shape}``, so help(LSTM) reads in full.
_COMMON_ARGS = """input_size, hidden_size: H_in and H.
        num_layers: stacked layers; layer k > 0 reads layer k-1's output (D*H_out features).
        bias: if False, no b_ih / b_hh.
        batch_first: input and output as (N, L, ·); states stay (D*num_layers, N, ·).
        dropout: probability of zeroing each output of every layer but the last (training).
        bidirectional: a second recurrence runs from t = L-1 down to 0 (``*_reverse`` params).
        rng: ``np.random.Generator`` for the dropout masks; ``self.masks`` holds the scaled
            masks m/(1-p) of the last forward, one (L, N, D*H_out) array per gap between
            layers (time-major even with batch_first; None in eval). torch draws this dropout
            inside its fused kernel with its own RNG, which cannot be shared, so the lockstep
            twin (reference/rnn.py) runs torch layer by layer on the same parameters and
            multiplies by these masks between layers."""

_COMMON_SHAPE = """input (L, N, H_in), (N, L, H_in) with batch_first, or unbatched (L, H_in);
        h_0 (D*num_layers, N, H_out) or unbatched (D*num_layers, H_out), zeros when None;
        output (L, N, D*H_out) in the input's layout (forward and reverse halves concatenated);
        h_n like h_0.  D = 2 if bidirectional else 1; H_out = proj_size or hidden_size."""


def _shared_doc(cls):
    cls.__doc__ = cls.__doc__.replace("{common_args}", _COMMON_ARGS).replace(
        "{common_shape}", _COMMON_SHAPE)
    return cls


@_shared_doc
class RNN(RNNBase):
    r"""``h_t = act(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh)``, act = tanh or relu.

    Args:
        {common_args}
        nonlinearity: 'tanh' or 'relu'.

    Shape:
        {common_shape}

    Maths:
        h_t = \phi(x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh})

    Derivation:
        4. One step is an RNNCell: $\bar a_t = \bar h_t \odot \phi'(a_t)$ from the saved output
           (``rnn_step_backward()``), and $\bar h_{t-1} \mathrel{\text{+=}} \bar a_t W_{hh}$.

    Backward:
        through time, last step first: dh_t = dout_t + dpre_{t+1} W_hh;  dpre_t = dh_t act'(pre_t);
        dW_hh += Σ_t dpre_t^T h_{t-1};  dW_ih += Σ_t dpre_t^T x_t;  db_ih, db_hh += Σ_t dpre_t;
        dx_t = dpre_t W_ih.  ``backward(g_output, g_h_n=None)`` returns ``(g_input, g_h0)``.

    What torch hides:
        two biases b_ih + b_hh that only ever appear summed; parameters named
        weight_ih_l{k}[_reverse]; one fused kernel runs every layer and direction, and its
        dropout between layers uses torch's own RNG.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None,
                 dtype=np.float32, rng=None):
        _checks.option(nonlinearity, ("tanh", "relu"), "RNN", "nonlinearity")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers,
                         bias, batch_first, dropout, bidirectional, 0, device, dtype, rng)
        self.nonlinearity = nonlinearity


@_shared_doc
class GRU(RNNBase):
    r"""``h_t = (1 - z_t) n_t + z_t h_{t-1}``,
    ``n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn))``,
    ``r_t, z_t = σ(W_i{r,z} x_t + b_i{r,z} + W_h{r,z} h_{t-1} + b_h{r,z})``.

    Args:
        {common_args}

    Shape:
        {common_shape}

    Maths:
        h_t = (1 - z_t) \odot n_t + z_t \odot h_{t-1} \quad \text{(GRUCell at every step)}

    Derivation:
        4. One step is a GRUCell (``gru_step_backward()``): its input rows get $[\bar a_r,
           \bar a_z, \bar a_n]$, its hidden rows $[\bar a_r, \bar a_z, \bar a_n \odot r]$, and
           $\bar h_{t-1} = \bar h_t \odot z + \bar a^{(h)}_t W_{hh}$.

    Backward:
        per step (see GRUCell): dn = dh(1-z)(1-n²), dz = dh(h-n)z(1-z),
        dr = dn(W_hn h + b_hn)r(1-r);
        the candidate's hidden part gets dn * r; dh_{t-1} = dh z + [dr dz dn*r] W_hh.
        ``backward(g_output, g_h_n=None)`` returns ``(g_input, g_h0)``.

    What torch hides:
        rows packed r, z, n in weight_ih (3H, ·) and weight_hh (3H, ·); the reset gate
        applies to (W_hn h + b_hn), after the hidden matmul and its bias (cuDNN's variant,
        not the paper's W_hn (r * h)); two biases b_ih + b_hh.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, device=None, dtype=np.float32, rng=None):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, 0, device, dtype, rng)


@_shared_doc
class LSTM(RNNBase):
    r"""``c_t = f c_{t-1} + i g``, ``h_t = o tanh(c_t)`` [``W_hr`` with proj_size]: gates
    ``i, f, o = σ(a_i, a_f, a_o)``, candidate ``g = tanh(a_g)``,
    ``[a_i a_f a_g a_o] = x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh``.

    Args:
        {common_args}
        proj_size: if > 0, h_t = (o tanh(c_t)) W_hr^T with W_hr (proj_size, H); h has
            proj_size features, c keeps H.

    Shape:
        {common_shape}
        hx = (h_0, c_0) and (h_n, c_n): c has H features, (D*num_layers, N, H).

    Maths:
        [a_i\; a_f\; a_g\; a_o] = x_t W_{ih}^\top + b_{ih} + h_{t-1} W_{hh}^\top + b_{hh}
        c_t = \sigma(a_f) \odot c_{t-1} + \sigma(a_i) \odot \tanh(a_g), \qquad h_t = \sigma(a_o) \odot \tanh(c_t) \;[\,W_{hr}^\top]

    Derivation:
        4. One step is an LSTMCell (``lstm_step_backward()``); the cell state carries its own
           gradient back: $\bar c_{t-1} = \bar c_t \odot f_t$, after $\bar c_t \mathrel{\text{+=}}
           \bar h_t \odot o_t \odot (1 - \tanh^2 c_t)$. With ``proj_size`` the output is
           $m W_{hr}^\top$: $\bar W_{hr} \mathrel{\text{+=}} \bar h^\top m$ and $\bar m = \bar h W_{hr}$.

    Backward:
        per step (see LSTMCell; i, f, g, o the activated gates): dm = dh W_hr (or dh);
        dc += dm o (1 - tanh²c); di, df, dg, do from dc and dm; dc_{t-1} = dc f;
        dh_{t-1} = da W_hh (da: the pre-activation gradients);
        dW_hr += dh^T m.  ``backward(g_output, (g_h_n, g_c_n)=None)`` returns
        ``(g_input, (g_h0, g_c0))``.

    What torch hides:
        gate rows packed i, f, g, o (input, forget, cell, output) in weight_ih (4H, ·) and
        weight_hh (4H, H_out); two biases b_ih + b_hh; with proj_size, weight_hh takes the
        *projected* state (4H, proj_size) and h_n/c_n have different widths.
    """

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=np.float32,
                 rng=None):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional, proj_size, device, dtype, rng)

    def forward(self, input, hx=None):
        if hx is not None and (not isinstance(hx, (tuple, list)) or len(hx) != 2):
            raise TypeError(f"LSTM: hx must be a tuple (h_0, c_0), got {type(hx).__name__}")
        h0, c0 = (None, None) if hx is None else hx
        if (h0 is None) != (c0 is None):
            raise ValueError("LSTM: hx must give both h_0 and c_0 or neither")
        return self._forward(input, h0, c0)

    def backward(self, grad_output=None, grad_hx=None):
        g_h, g_c = (None, None) if grad_hx is None else grad_hx
        return self._backward(grad_output, g_h, g_c)
