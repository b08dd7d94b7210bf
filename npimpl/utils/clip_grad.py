"""Gradient clipping, named as ``torch.nn.utils``: ``clip_grad_norm_`` and ``clip_grad_value_``.

Both act in place on the ``.grad`` of npimpl Parameters, between backward and
``optimizer.step()``.
"""
from __future__ import annotations

import numpy as np

from ..module import Parameter


def _as_list(parameters) -> list:
    if isinstance(parameters, Parameter):
        return [parameters]
    params = list(parameters)
    for p in params:
        if not isinstance(p, Parameter):
            raise TypeError(f"clip_grad: expected npimpl Parameters, got {type(p).__name__}")
    return params


def _vector_norm(x: np.ndarray, norm_type: float) -> np.ndarray:
    """``torch.linalg.vector_norm`` of a flattened array, in its dtype (0-d)."""
    a = np.abs(x.reshape(-1))
    if norm_type == np.inf:
        return a.max(initial=0.0)
    if norm_type == -np.inf:
        return a.min()
    if norm_type == 0:
        return np.asarray((a != 0).sum(), dtype=x.dtype)
    if norm_type == 2:
        return np.sqrt(np.sum(a * a))
    if norm_type == 1:
        return np.sum(a)
    return np.sum(a ** norm_type) ** (1.0 / norm_type)


def clip_grad_norm_(parameters, max_norm: float, norm_type: float = 2.0,
                    error_if_nonfinite: bool = False, foreach=None) -> np.ndarray:
    """g <- g * min(1, max_norm / (||(||g_1||, ..., ||g_k||)|| + 1e-6)) for every gradient.

    The total norm is the norm of the vector of per-parameter norms (equal to
    the norm of all gradients concatenated), computed in the gradients' dtype.

    Args:
        parameters: a Parameter or an iterable of Parameters (those with ``.grad`` None
            are skipped).
        max_norm: the largest allowed total norm.
        norm_type: p of the p-norm; ``inf`` for the largest absolute value (default 2).
        error_if_nonfinite: raise RuntimeError when the total norm is NaN or inf.
        foreach: accepted for torch's signature; ignored.

    Returns:
        the total norm *before* clipping, a 0-d array (torch returns a 0-d tensor).

    What torch hides:
        1e-6 is added to the norm before dividing, so a gradient exactly at
        max_norm is still scaled (by max_norm / (max_norm + 1e-6)); the
        coefficient is clamped at 1 and multiplied in even when no clipping is
        needed; with a non-finite norm and error_if_nonfinite=False the
        gradients are scaled by NaN or 0 anyway.
    """
    params = _as_list(parameters)
    grads = [p.grad for p in params if p.grad is not None]
    norm_type = float(norm_type)
    if not grads:
        return np.zeros((), dtype=np.float32)  # torch.tensor(0.0)
    norms = np.stack([_vector_norm(g, norm_type) for g in grads])
    total = np.asarray(_vector_norm(norms, norm_type))
    if error_if_nonfinite and not np.isfinite(total):
        raise RuntimeError(f"clip_grad_norm_: the total norm of order {norm_type} for gradients "
                           "from `parameters` is non-finite, so it cannot be clipped; set "
                           "error_if_nonfinite=False to scale the gradients by it anyway")
    coef = float(max_norm) / (total + 1e-6)                    # 0-d, in the gradients' dtype
    coef = np.minimum(coef, 1.0).astype(total.dtype)
    with np.errstate(invalid="ignore"):  # inf * 0 -> NaN, silently, as torch
        for g in grads:
            g *= coef
    return total


def clip_grad_value_(parameters, clip_value: float, foreach=None) -> None:
    """g <- clamp(g, -clip_value, clip_value), element-wise, in place.

    Args:
        parameters: a Parameter or an iterable of Parameters (``.grad`` None is skipped).
        clip_value: the largest allowed absolute value of a gradient element.
        foreach: accepted for torch's signature; ignored.

    What torch hides:
        the clamp is min(max(g, -c), c), so a negative clip_value sets every
        element to clip_value rather than raising; NaN gradients stay NaN.
    """
    clip_value = float(clip_value)
    for p in _as_list(parameters):
        if p.grad is not None:
            np.minimum(np.maximum(p.grad, -clip_value, out=p.grad), clip_value, out=p.grad)
