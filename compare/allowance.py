"""Float32 trajectory allowances that hold only from the step where their reason appears.

A float32 run follows torch within rounding until something discrete happens on one side
only: a pre-activation lands within rounding of 0 and a ReLU opens for NumPy but not for
torch. From that step on the two runs are different computations and their distance grows
with training; before it, the contract's float32 tolerance holds. A blanket allowance sized
for the worst run (``digits-cnn``: rtol 1e-2, atol 3e-2) would let a regression 10,000x the
contract pass in every run where no flip happens. So a :class:`~compare.metrics.FromEvent`
allowance is switched on by :func:`before_step` only when its detector sees the event on the
step's batch, and every row under it says from which step and why.
"""
from __future__ import annotations

import numpy as np
import torch

from reference import to_numpy, to_torch

from .metrics import FromEvent


def before_step(case, rec, np_model, t_model, x, step: int) -> None:
    """Before ``step``: if the case's float32 allowance is a FromEvent not yet switched on and
    its event shows on this batch, switch ``rec`` to the allowance from this step on."""
    allow = getattr(case, "f32", None)
    if not isinstance(allow, FromEvent) or rec.dtype != "float32" \
            or getattr(rec, "event", None) is not None:
        return
    what = allow.detect(np_model, t_model, x)
    if what:
        rec.event = (step, what)
        rec.tol = allow.tol
        rec.note_suffix = f"{allow.tol.name} from step {step}: {allow.event} ({what})"


def relu_flip(np_model, t_model, x) -> str | None:
    """A ReLU whose input has opposite signs on the two sides, on this batch with the current
    weights: where, and both values; None if every ReLU input agrees in sign.

    Both models must be Sequentials with the same children (``DigitsCNN`` and its torch
    twin). The NumPy children run forward once more (only their caches change; the step's own
    forward follows), torch's under ``no_grad``.
    """
    h_np, h_t = x, to_torch(x)
    with torch.no_grad():
        for i, (m_np, m_t) in enumerate(zip(np_model, t_model)):
            if isinstance(m_t, torch.nn.ReLU):
                a, b = np.asarray(h_np), to_numpy(h_t)
                flip = (a > 0) != (b > 0)
                if flip.any():
                    k = np.unravel_index(int(np.argmax(flip)), a.shape)
                    return (f"the input of layer {i} ({type(m_np).__name__}) at "
                            f"{tuple(int(j) for j in k)} is {a[k]:+.3g} for NumPy and "
                            f"{b[k]:+.3g} for torch, {int(flip.sum())} element(s) flipped")
            h_np, h_t = m_np(h_np), m_t(h_t)
    return None
