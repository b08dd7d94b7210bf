"""One recurrent layer in one direction over a whole batch of sequences, and its
backpropagation through time: the maths under RNN, LSTM and GRU (``rnn_base.py`` stacks
layers and directions; the single steps are in ``rnn_cell.py``).

The forward computes ``gi = x W_ih^T + b_ih`` for every time step in one matmul, then runs
the recurrence; the backward runs the steps in reverse, collects ``dgi`` for all of them and
turns it into ``dx``, ``dW_ih`` and ``db_ih`` with one matmul each.

Padded and packed input share one layout (:class:`Steps`): the rows of a (R, ·) array, step
t being rows ``offsets[t] : offsets[t] + sizes[t]``; sizes never increase, so step t runs on
the *first* ``sizes[t]`` rows of the state. A padded batch is ``sizes = [N] * L``.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .rnn_cell import (gru_step, gru_step_backward, lstm_step, lstm_step_backward, rnn_step,
                       rnn_step_backward)


class Steps(NamedTuple):
    """Where each time step's rows are: a packed sequence's batch_sizes and their offsets."""
    sizes: list              # T ints, non-increasing: sequences running at step t
    offsets: list            # T ints: the first row of step t


class Weights(NamedTuple):
    """One layer and direction's arrays (torch's names without the ``_l{k}`` suffix)."""
    weight_ih: np.ndarray            # (G, H_layer_in), G = gates * H
    weight_hh: np.ndarray            # (G, H_out)
    bias_ih: np.ndarray | None       # (G,)
    bias_hh: np.ndarray | None       # (G,)
    weight_hr: np.ndarray | None     # (proj_size, H): LSTM projection


class DirCache(NamedTuple):
    x: np.ndarray            # (R, H_layer_in) the layer's input
    h_prev: list             # T arrays (b_t, H_out): the running rows' state before step t
    steps: list              # T step caches, in time order
    reverse: bool


def _step(mode, gi, h, c, w: Weights):
    """One step of ``mode`` on the running rows: ``(h', c' or None, cache)``."""
    if mode == "LSTM":
        return lstm_step(gi, h, c, w.weight_hh, w.bias_hh, w.weight_hr)
    if mode == "GRU":
        hn, cache = gru_step(gi, h, w.weight_hh, w.bias_hh)
    else:
        hn, cache = rnn_step(gi, h, w.weight_hh, w.bias_hh, mode[4:].lower())
    return hn, None, cache


def direction_forward(mode, x, h, c, w: Weights, steps: Steps, reverse: bool):
    """Run the recurrence over ``x`` (R, H_in) from state ``h`` (B, H_out) (and ``c`` for an
    LSTM); returns ``(out (R, H_out), h_n, c_n, DirCache)``.

    At step t only the first ``b = sizes[t]`` rows of the state move; the rest keep their
    value: a sequence that has ended (so h_n is taken at each sequence's own last step), or,
    running in reverse, one that has not begun yet (it starts from h_0 at its last element).
    """
    B = h.shape[0]
    gi = x @ w.weight_ih.T                                        # (R, G)
    if w.bias_ih is not None:
        gi = gi + w.bias_ih
    out = np.empty((x.shape[0], h.shape[1]), x.dtype)             # (R, H_out)
    T = len(steps.sizes)
    h_prev, caches = [None] * T, [None] * T
    for t in (range(T - 1, -1, -1) if reverse else range(T)):
        b, o = steps.sizes[t], steps.offsets[t]
        hb = h if b == B else h[:b]                               # (b, H_out) running rows
        h_prev[t] = hb
        hn, cn, caches[t] = _step(mode, gi[o:o + b], hb, c if c is None or b == B else c[:b],
                                  w)
        out[o:o + b] = hn
        h = hn if b == B else np.concatenate([hn, h[b:]])
        c = cn if c is None or b == B else np.concatenate([cn, c[b:]])
    return out, h, c, DirCache(x, h_prev, caches, reverse)


def direction_backward(mode, d_out, dh, dc, cache: DirCache, w: Weights, steps: Steps):
    """BPTT: ``d_out`` (R, H_out) and the gradients of h_n (and c_n) → ``(dx (R, H_in), dh_0,
    dc_0, Weights of gradients)``, visiting the steps in the opposite order of the forward.

    Per step, ``dh_t = d_out_t + dh_{t+1}`` on the running rows; the step's backward gives the
    pre-activation gradients ``dgi`` (input side) and ``dgh`` (hidden side); then
    ``dW_hh += dgh^T h_{t-1}``, ``dh_{t-1} = dgh W_hh (+ the GRU's direct z * dh)``; after the
    loop ``dx = dgi W_ih`` and ``dW_ih = dgi^T x`` for all steps at once."""
    B = dh.shape[0]
    dgi_all = np.empty((d_out.shape[0], w.weight_hh.shape[0]), d_out.dtype)   # (R, G)
    dw_hh = np.zeros_like(w.weight_hh)
    db_hh = np.zeros(w.weight_hh.shape[0], d_out.dtype)
    dw_hr = None if w.weight_hr is None else np.zeros_like(w.weight_hr)
    T = len(steps.sizes)
    for t in (range(T) if cache.reverse else range(T - 1, -1, -1)):
        b, o = steps.sizes[t], steps.offsets[t]
        dhb = (dh if b == B else dh[:b]) + d_out[o:o + b]         # from the output and step t+1
        dcn = None
        if mode == "LSTM":
            dgi, dcn, dwr = lstm_step_backward(dhb, dc if b == B else dc[:b], cache.steps[t],
                                               w.weight_hr)
            dgh, dh_direct = dgi, None
            if dwr is not None:
                dw_hr += dwr
        elif mode == "GRU":
            dgi, dgh, dh_direct = gru_step_backward(dhb, cache.steps[t])
        else:
            dgi, dgh, dh_direct = rnn_step_backward(dhb, cache.steps[t], mode[4:].lower())
        dgi_all[o:o + b] = dgi
        dw_hh += dgh.T @ cache.h_prev[t]                          # (G, H_out)
        db_hh += dgh.sum(0)
        dhn = dgh @ w.weight_hh if dh_direct is None else dgh @ w.weight_hh + dh_direct
        dh = dhn if b == B else np.concatenate([dhn, dh[b:]])
        dc = dcn if dc is None or b == B else np.concatenate([dcn, dc[b:]])
    dx = dgi_all @ w.weight_ih                                    # (R, H_layer_in)
    has_bias = w.bias_ih is not None
    grads = Weights(dgi_all.T @ cache.x, dw_hh, dgi_all.sum(0) if has_bias else None,
                    db_hh if has_bias else None, dw_hr)
    return dx, dh, dc, grads
