"""Dropout and Dropout1d/2d/3d: zero elements (or whole channels) with probability p in
training and scale the rest by 1/(1-p); the identity in eval."""
from __future__ import annotations

import warnings
from typing import NamedTuple

import numpy as np

from ._pointwise import bernoulli_keep
from .module import Module
from .random import generator


class DropoutCache(NamedTuple):
    mask: np.ndarray | None     # the scaled mask m / (1 - p), broadcastable to x; None = identity
    shape: tuple                # the input's (= the output's) shape
    dtype: np.dtype             # the input's dtype


class _DropoutNd(Module):
    """Shared by Dropout and Dropout1d/2d/3d; subclasses say which shape the mask has."""

    def __init__(self, p: float = 0.5, inplace: bool = False, rng=None, dtype=None):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 "
                             f"and 1, but got {p}")
        self.p, self.inplace = float(p), inplace
        self.rng = generator(rng)
        self.dtype = None if dtype is None else self._dtype(dtype)
        self.mask = None

    def _mask_shape(self, x: np.ndarray) -> tuple:
        raise NotImplementedError

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        shape = self._mask_shape(x)
        if self.inplace and not x.flags.writeable:
            raise ValueError(f"{type(self).__name__}: inplace=True needs a writeable input "
                             "array, got a read-only one")
        if not self.training or self.p == 0.0 or x.size == 0:
            self.mask = None
        elif self.p == 1.0:
            self.mask = np.zeros(shape, dtype=x.dtype)       # torch: input * 0 (NaN stays NaN)
        else:
            keep = bernoulli_keep(self.rng, shape, self.p, x.dtype)   # Bernoulli(1 - p)
            # torch: noise.bernoulli_(1 - p).div_(1 - p), the division in the input's dtype
            # np.asarray: for a 0-d input the quotient is a NumPy scalar, not an array
            self.mask = np.asarray(keep.astype(x.dtype) / x.dtype.type(1.0 - self.p))
        self._cache = DropoutCache(self.mask, x.shape, x.dtype)
        if self.inplace:                                     # torch: input.mul_(noise)
            if self.mask is not None:
                x *= self.mask
            return x
        # np.asarray: for a 0-d input the product is a NumPy scalar, not an array
        return x.copy() if self.mask is None else np.asarray(x * self.mask)

    def backward(self, grad_output):
        mask, shape, dtype = self._saved()
        g = self._upstream(grad_output, shape, dtype)
        return g.copy() if mask is None else np.asarray(g * mask)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout(_DropoutNd):
    r"""``y = x * m / (1 - p)`` with ``m ~ Bernoulli(1 - p)`` per element in training; ``y = x`` in eval.

    Args:
        p: probability of zeroing an element (default 0.5).
        inplace: multiply the input array itself by the mask and return it, as torch's
            ``input.mul_(noise)`` does (eval: the input is returned untouched).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(*)`` → output of the same shape; ``mask`` has the input's shape.

    Attributes:
        mask: the *scaled* mask ``m / (1 - p)`` of the last training forward (None in eval,
            for p = 0 and for an empty input). Lockstep cannot reproduce torch's random
            stream, so the NumPy side draws and the torch twin (``reference``'s
            ``SharedMaskDropout``) keeps the same elements (``mask != 0``) and scales them
            itself as torch's kernel does: one draw, two computations, so a wrong scaling
            here is still caught. tests/test_dropout.py checks separately that real
            ``torch.nn.Dropout`` computes exactly this formula with the mask it drew.

    Maths:
        y = \frac{m \odot x}{1 - p}, \quad m_i \sim \mathrm{Bernoulli}(1 - p) \text{ (training)}; \qquad y = x \text{ (eval)}

    Derivation:
        1. For a fixed mask, $y$ is linear in $x$ with the diagonal factor $m / (1 - p)$.
        2. So the same mask scales the gradient (``DropoutCache`` keeps it):
           $$\bar x = \bar y \odot \frac{m}{1 - p}$$
        3. The expectation $\mathbb{E}[y] = x$: that is why eval can be the identity.

    Backward:
        dx = dy * m / (1 - p)   (the same mask; eval: dx = dy)

    What torch hides:
        the scaling happens at *training* time ("inverted dropout"), so that the expected
        output equals the input and eval is the identity (the original paper scaled by
        1 - p at test time instead); the mask is ``bernoulli(1 - p) / (1 - p)`` computed in
        the input's dtype; with p = 1 torch multiplies by 0 (zeros, not 0 * 1/0 = NaN; but a
        NaN input stays NaN) and the gradient is 0.
    """

    def _mask_shape(self, x):
        return x.shape


class Dropout2d(_DropoutNd):
    """``y[n, c] = x[n, c] * m[n, c] / (1 - p)``: whole channels are zeroed in training.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: multiply the input array itself by the mask and return it, as torch's
            ``input.mul_(noise)`` does (eval: the input is returned untouched).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(N, C, H, W)`` → same shape; ``mask`` is ``(N, C, 1, 1)``. As torch (which
        warns), a 3-D input is read as ``(N, C, L)``, *not* as an unbatched ``(C, H, W)``:
        the mask is ``(N, C, 1)``, so each row of dim 1 is zeroed along L. Any other rank
        warns too and masks dims 0 and 1.

    Attributes:
        mask: the scaled channel mask of the last training forward (None in eval); the torch
            twin keeps the same channels, as for :class:`Dropout`.

    Backward:
        dx = dy * m / (1 - p), the mask broadcast over the spatial dims.

    What torch hides:
        torch's Dropout2d is ``feature_dropout``: it draws one Bernoulli per (dim 0, dim 1)
        pair whatever the rank, so an unbatched ``(C, H, W)`` image gets 1-D dropout over
        its rows (pytorch/pytorch#77081), not channel dropout; the scaling is 1/(1 - p) as
        in :class:`Dropout`.
    """

    def _mask_shape(self, x):
        if x.ndim < 2:
            raise ValueError(f"Dropout2d: expected a 4-D input (N, C, H, W), got {x.ndim}-D "
                             f"with shape {x.shape}")
        if x.ndim == 3:
            warnings.warn("Dropout2d: received a 3-D input; as torch, it is read as (N, C, L) "
                          "and dims 0 and 1 are masked (1-D channel dropout)", stacklevel=3)
        elif x.ndim != 4:
            warnings.warn(f"Dropout2d: received a {x.ndim}-D input; as torch, dims 0 and 1 are "
                          "masked", stacklevel=3)
        return x.shape[:2] + (1,) * (x.ndim - 2)


class Dropout1d(_DropoutNd):
    """``y[n, c] = x[n, c] * m[n, c] / (1 - p)``: whole channels of a sequence are zeroed in training.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: multiply the input array itself by the mask and return it, as torch's
            ``input.mul_(noise)`` does (eval: the input is returned untouched).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(N, C, L)`` or unbatched ``(C, L)`` → same shape; ``mask`` is ``(N, C, 1)``
        or ``(C, 1)``. Any other rank raises, as in torch (in eval too).

    Attributes:
        mask: the scaled channel mask of the last training forward (None in eval); the torch
            twin keeps the same channels, as for :class:`Dropout`.

    Backward:
        dx = dy * m / (1 - p), the mask broadcast along L.

    What torch hides:
        unlike Dropout2d/3d, Dropout1d does treat a missing batch dim as unbatched: it adds
        one, runs ``feature_dropout`` (one Bernoulli per (dim 0, dim 1) pair) and removes
        it, so a ``(C, L)`` input loses whole channels.
    """

    def _mask_shape(self, x):
        if x.ndim not in (2, 3):
            raise ValueError(f"Dropout1d: expected a 2D (C, L) or 3D (N, C, L) input, got "
                             f"{x.ndim}D with shape {x.shape}")
        return x.shape[:-1] + (1,)


class Dropout3d(_DropoutNd):
    """``y[n, c] = x[n, c] * m[n, c] / (1 - p)``: whole volumes are zeroed in training.

    Args:
        p: probability of zeroing a channel (default 0.5).
        inplace: multiply the input array itself by the mask and return it, as torch's
            ``input.mul_(noise)`` does (eval: the input is returned untouched).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(N, C, D, H, W)`` → same shape, ``mask`` ``(N, C, 1, 1, 1)``; unbatched
        ``(C, D, H, W)`` → ``mask`` ``(C, 1, 1, 1)``. As torch (which warns), any other rank
        is read as unbatched: dim 0 is masked, one Bernoulli per index of it (a 1-D input:
        per element); a 0-D input raises.

    Attributes:
        mask: the scaled channel mask of the last training forward (None in eval); the torch
            twin keeps the same channels, as for :class:`Dropout`.

    Backward:
        dx = dy * m / (1 - p), the mask broadcast over the spatial dims.

    What torch hides:
        ``dropout3d`` adds a batch dim to every input that is not 5-D, runs
        ``feature_dropout`` (one Bernoulli per (dim 0, dim 1) pair) and removes it again:
        right for an unbatched ``(C, D, H, W)`` volume, but a 3-D ``(N, C, L)`` batch then
        loses whole *samples*, not channels (torch only warns).
    """

    def _mask_shape(self, x):
        if x.ndim == 0:
            raise ValueError("Dropout3d: expected an input with at least 1 dim (torch adds a "
                             "batch dim and feature dropout needs 2), got a 0-D input")
        if x.ndim not in (4, 5):
            warnings.warn(f"Dropout3d: received a {x.ndim}-D input; as torch, it is read as "
                          "unbatched and dim 0 is masked", stacklevel=3)
        if x.ndim == 5:
            return x.shape[:2] + (1, 1, 1)
        return x.shape if x.ndim == 1 else x.shape[:1] + (1,) * (x.ndim - 1)
