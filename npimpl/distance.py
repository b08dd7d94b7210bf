"""Distances between two inputs: CosineSimilarity and PairwiseDistance.

torch keeps both in ``torch/nn/modules/distance.py``. Each takes two inputs that may
broadcast against each other, as torch allows, so ``backward`` returns a tuple of two
input gradients, each summed back over the dims its input was broadcast along.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks
from ._broadcast import broadcast_shape, sum_to
from .activation import Activation


def sgn(x: np.ndarray) -> np.ndarray:
    """torch's ``sgn`` of a real tensor: -1, 0 or 1, and 0 for NaN (NumPy's sign gives NaN)."""
    return np.where(np.isnan(x), 0, np.sign(x)).astype(x.dtype, copy=False)


class _TwoInputs(Activation):
    """Checks two same-dtype float inputs and broadcasts them (torch's expand_outplace)."""

    def _pair(self, x1, x2):
        a = self._x(x1, "x1")
        b = self._input(x2, "x2", a.dtype)
        shape = broadcast_shape(type(self).__name__, a.shape, b.shape)
        return a, b, shape

    def _g2(self, grad_output, shape, dtype):
        g = self._input(grad_output, "grad_output", dtype)
        if g.shape != shape:
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {shape}, "
                             f"got {g.shape}")
        return g


class CosineCache(NamedTuple):
    x1: np.ndarray       # (*S) x1 broadcast to the common shape S
    x2: np.ndarray       # (*S)
    n1: np.ndarray       # (*S with 1 at dim) the norm ||x1|| (unclamped)
    n2: np.ndarray
    c1: np.ndarray       # max(||x1||, eps): the divisor the forward used
    c2: np.ndarray
    u: np.ndarray        # x1 / c1
    v: np.ndarray        # x2 / c2
    axis: int
    shapes: tuple        # the two input shapes, to sum the gradients back to
    out_shape: tuple     # S without dim


class CosineSimilarity(_TwoInputs):
    """``y = sum(x1 / max(||x1||, eps) * x2 / max(||x2||, eps))`` along ``dim``.

    Args:
        dim: the dimension along which the cosine is computed (default 1).
        eps: a floor for each norm, to avoid dividing by 0 (default 1e-8).

    Shape:
        x1 and x2 broadcast to a common shape ``(*1, D, *2)`` (D at ``dim``); the output
        is ``(*1, *2)``. 0-d inputs are accepted with dim 0 or -1.

    Backward:
        with ``u = x1 / c1`` and ``v = x2 / c2``: ``du = dy v``;
        ``dx1 = du / c1 + x1 / ||x1|| * sum(-du * u / c1)`` (the second term through the
        norm, 0 where ``||x1|| = 0``); symmetric for x2; each summed back to its input's shape.

    What torch hides:
        each input is normalised *before* the dot product, which keeps the result within
        [-1, 1] (older releases divided ``x1 . x2`` by ``sqrt(max(|x1|^2 |x2|^2, eps^2))``,
        a different value once a norm is below eps). The floor is applied in place under
        ``no_grad``: a vector shorter than eps is divided by eps, but the gradient still
        flows through its true norm, as if unclamped, and the zero vector gets no gradient
        through its norm at all (``norm_backward`` masks ``x / 0``).
    """

    def __init__(self, dim: int = 1, eps: float = 1e-8, dtype=None):
        super().__init__(dtype)
        if not eps >= 0:                                   # torch: 'eps must be non-negative'
            raise ValueError(f"CosineSimilarity: eps must be non-negative, got {eps}")
        self.dim, self.eps = dim, eps

    def forward(self, x1, x2):
        a, b, shape = self._pair(x1, x2)
        axis = _checks.dim(self.dim, len(shape), "CosineSimilarity")
        full = shape if shape else (1,)                    # a 0-d pair: one element along dim
        a, b = np.broadcast_to(a, shape).reshape(full), np.broadcast_to(b, shape).reshape(full)
        n1 = np.sqrt(np.sum(a * a, axis=axis, keepdims=True))          # (*1, 1, *2)
        n2 = np.sqrt(np.sum(b * b, axis=axis, keepdims=True))
        c1, c2 = np.maximum(n1, self.eps), np.maximum(n2, self.eps)   # floored in x's dtype
        u, v = a / c1, b / c2
        y = np.sum(u * v, axis=axis, keepdims=True)                    # (*1, 1, *2)
        out_shape = shape[:axis] + shape[axis + 1:]
        self._cache = CosineCache(a, b, n1, n2, c1, c2, u, v, axis, (x1.shape, x2.shape),
                                  out_shape)
        return y.reshape(out_shape)

    def backward(self, grad_output):
        x1, x2, n1, n2, c1, c2, u, v, axis, shapes, out_shape = self._saved()
        g = self._g2(grad_output, out_shape, x1.dtype).reshape(n1.shape)   # keepdim form
        grads = []
        for x, n, c, mine, other, shp in ((x1, n1, c1, u, v, shapes[0]),
                                          (x2, n2, c2, v, u, shapes[1])):
            d_unit = g * other                                           # d(x / c)
            dx = d_unit / c                                              # through x
            dc = np.sum(-d_unit * (mine / c), axis=axis, keepdims=True)  # through c
            with np.errstate(divide="ignore", invalid="ignore"):
                dx = dx + dc * np.where(n == 0, 0, x / n)                # ||x||'s backward
            grads.append(sum_to(dx, shp))
        return tuple(grads)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, eps={self.eps}"


class PairwiseCache(NamedTuple):
    d: np.ndarray        # (*S) x1 - x2 + eps in the broadcast shape (at least 1-D)
    n: np.ndarray        # (*S[:-1], 1) the norm, keepdim
    shapes: tuple        # the two input shapes
    out_shape: tuple


class PairwiseDistance(_TwoInputs):
    """``y = ||x1 - x2 + eps||_p`` over the last dimension.

    Args:
        p: the norm degree (default 2); 0 counts non-zeros, ±inf is the max/min of |d|.
        eps: added to the difference, to avoid a zero norm (default 1e-6).
        keepdim: keep the reduced last dim as size 1 (default False).

    Shape:
        x1 and x2 broadcast to a common shape ``(*, D)``; the output is ``(*)`` (or
        ``(*, 1)`` with keepdim); 0-d inputs give a 0-d output.

    Backward:
        with ``d = x1 - x2 + eps`` and ``n = ||d||_p``: ``dd = dy * d |d|^(p-2) / n^(p-1)``
        (p = 2: ``dy d / n``; p = 1: ``dy sgn(d)``; ±inf: dy split equally among the
        elements with ``|d| = n``; p = 0: 0); ``dx1 = dd``, ``dx2 = -dd``, each summed back to
        its input's shape. Where ``n = 0`` the gradient is 0 (for p >= 1).

    What torch hides:
        eps is *added to the difference*, not used as a floor for the norm: even identical
        inputs are ``eps * D^(1/p)`` apart (2e-6 for D = 4), and the sign of eps makes the
        distance asymmetric, ``d(x1, x2) != d(x2, x1)``. The norm is over the last dim of the
        *broadcast* shape (older releases used dim 1). Its backward is torch's
        ``norm_backward``, one formula per range of p; for p < 1 the elements with d = 0 get 0.
    """

    def __init__(self, p: float = 2.0, eps: float = 1e-6, keepdim: bool = False, dtype=None):
        super().__init__(dtype)
        self.norm, self.eps, self.keepdim = p, eps, keepdim

    def forward(self, x1, x2):
        a, b, shape = self._pair(x1, x2)
        d = (np.broadcast_to(a, shape) - np.broadcast_to(b, shape)) + self.eps   # (*S)
        d = d.reshape(shape if shape else (1,))                 # a 0-d pair: a 1-vector
        n = _vector_norm(d, self.norm)                           # (*S[:-1], 1)
        out_shape = shape[:-1] + ((1,) if self.keepdim else ()) if shape else ()
        self._cache = PairwiseCache(d, n, (a.shape, b.shape), out_shape)
        return n.reshape(out_shape).astype(a.dtype, copy=False)

    def backward(self, grad_output):
        d, n, shapes, out_shape = self._saved()
        g = self._g2(grad_output, out_shape, d.dtype).reshape(n.shape)   # keepdim form
        dd = _norm_backward(g, d, n, self.norm)
        return sum_to(dd.reshape(np.broadcast_shapes(*shapes)), shapes[0]), \
            sum_to(-dd.reshape(np.broadcast_shapes(*shapes)), shapes[1])

    def extra_repr(self) -> str:
        return f"p={self.norm}, eps={self.eps}, keepdim={self.keepdim}"


def _vector_norm(d: np.ndarray, p: float) -> np.ndarray:
    """``||d||_p`` over the last axis, keepdim (torch's linalg_vector_norm)."""
    a = np.abs(d)
    if p == 0:
        return np.sum(d != 0, axis=-1, keepdims=True).astype(d.dtype)
    if p == math.inf:
        return np.max(a, axis=-1, keepdims=True, initial=0)
    if p == -math.inf:
        return np.min(a, axis=-1, keepdims=True, initial=math.inf)
    if p == 1:
        return np.sum(a, axis=-1, keepdims=True)
    if p == 2:
        return np.sqrt(np.sum(d * d, axis=-1, keepdims=True))
    with np.errstate(divide="ignore"):                   # |0|^p for p < 0: inf, as torch
        return np.sum(a ** p, axis=-1, keepdims=True) ** (1.0 / p)


def _norm_backward(g: np.ndarray, d: np.ndarray, n: np.ndarray, p: float) -> np.ndarray:
    """torch's ``norm_backward``: one formula per range of p (g and n are keepdim)."""
    if p == 0:
        return np.zeros_like(d)                          # torch: an undefined (zero) gradient
    if p == 1:
        return sgn(d) * g
    with np.errstate(divide="ignore", invalid="ignore"):
        if p == 2:
            return g * np.where(n == 0, 0, d / n)
        if math.isinf(p):                                # the argmax elements share dy
            a = np.abs(d)
            mask = ((a == n) | np.isnan(a)).astype(d.dtype)
            return sgn(d) * ((g / mask.sum(axis=-1, keepdims=True)) * mask)
        a = np.abs(d)
        if p < 1:
            scaled = sgn(d) * np.where(d == 0, 0, a ** (p - 1))
            return scaled * g * n ** (1 - p)
        scaled = sgn(d) * a ** (p - 1) if p < 2 else d * a ** (p - 2)
        return scaled * np.where(n == 0, 0, g / n ** (p - 1))
