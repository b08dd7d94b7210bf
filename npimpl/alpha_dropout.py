"""AlphaDropout and FeatureAlphaDropout: dropout that keeps SELU's mean and variance.

torch keeps both in ``torch/nn/modules/dropout.py`` (beside Dropout, whose ``_DropoutNd``
base they share here too). Plain dropout sets dropped units to 0 and rescales the rest,
which keeps the mean of any input but not its variance; for a self-normalising network
(SELU, mean 0 and variance 1 at every layer) the dropped units are set instead to SELU's
negative saturation value ``-alpha' = -scale * alpha``, and an affine map ``a x + b``
restores mean 0 and variance 1.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .dropout import _DropoutNd

#: SELU's saturation value scale * alpha = 1.7580993408..., as torch's alpha_dropout spells it
ALPHA = 1.7580993408473766


class AlphaCache(NamedTuple):
    noise: np.ndarray | None     # a * m, broadcastable to x (None: the identity)


class _AlphaDropoutNd(_DropoutNd):
    """``y = x * (a m) + b`` with ``b = (m - 1) alpha' a + alpha' a p`` (torch's
    ``_dropout_impl`` with ``alpha_dropout=true``); subclasses give the mask's shape."""

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        if not self.training or self.p == 0.0 or x.size == 0:
            self.mask = None
            self._cache = AlphaCache(None)
            return x.copy()
        shape = self._mask_shape(x)
        dt = x.dtype.type
        if self.p == 1.0:                                   # torch: input * 0 (NaN stays NaN)
            self.mask = np.zeros(shape, dtype=x.dtype)
            self._cache = AlphaCache(self.mask)
            return np.asarray(x * self.mask)
        keep = (self.rng.random(shape) >= self.p).astype(x.dtype)      # m ~ Bernoulli(1 - p)
        a = 1.0 / math.sqrt((ALPHA * ALPHA * self.p + 1) * (1 - self.p))
        # torch's order of operations, each scalar rounded to x's dtype as its kernels do:
        # b = noise.add(-1).mul_(alpha * a).add_(alpha * a * p);  noise.mul_(a)
        b = (keep - 1) * dt(ALPHA * a) + dt(ALPHA * a * self.p)
        self.mask = keep * dt(a)
        self._cache = AlphaCache(self.mask)
        return np.asarray(x * self.mask + b)

    def backward(self, grad_output):
        noise = self._saved().noise
        g = self._input(grad_output, "grad_output")
        return g.copy() if noise is None else np.asarray(g * noise)


class AlphaDropout(_AlphaDropoutNd):
    """``y = a (x m + alpha' (1 - m)) + c`` per element in training (``m ~ Bernoulli(1 - p)``);
    ``y = x`` in eval.

    Args:
        p: probability of dropping an element (default 0.5).
        inplace: accepted for torch compatibility (the output is always a new array).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(*)`` → output of the same shape; ``mask`` has the input's shape.

    Attributes:
        mask: the scaled mask ``a m`` of the last training forward (None in eval, for p = 0
            and for an empty input). The torch twin (``reference.alpha_dropout``) keeps the
            elements where ``mask != 0`` and computes the rest as torch's kernel does.

    Backward:
        dx = dy * a m   (eval: dx = dy);   with ``alpha' = 1.7581`` (SELU's scale * alpha),
        ``a = ((1 - p) (1 + p alpha'^2))^(-1/2)``.

    What torch hides:
        a dropped unit is not 0 but the constant ``a alpha' (p - 1)`` (``-0.779`` for
        p = 0.5), and a kept one is ``a x + a alpha' p``: the affine pair ``(a, b)`` is
        chosen so that a unit-variance, zero-mean input keeps both moments (Klambauer et
        al., 2017). It only makes sense after SELU; after ReLU the moments it preserves are
        the wrong ones. With p = 1 torch returns ``x * 0``, not the constant.
    """

    def _mask_shape(self, x):
        return x.shape


class FeatureAlphaDropout(_AlphaDropoutNd):
    """AlphaDropout of whole channels: one draw per ``(dim 0, dim 1)`` pair, shared along
    every later dim.

    Args:
        p: probability of dropping a channel (default 0.5).
        inplace: accepted for torch compatibility (the output is always a new array).
        rng: ``np.random.Generator`` the mask is drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        input ``(N, C, *)`` → same shape; ``mask`` is ``(N, C, 1, ...)``. In training an input
        of fewer than 2 dims is refused (torch: "Feature dropout requires at least 2
        dimensions"); as for Dropout2d, an unbatched ``(C, H, W)`` is read as ``(N, C, L)``.

    Attributes:
        mask: the scaled channel mask ``a m`` of the last training forward (None in eval).

    Backward:
        dx = dy * a m, the mask broadcast over the trailing dims.

    What torch hides:
        it is ``feature_dropout`` with AlphaDropout's affine map: the channel mask is drawn
        for dims 0 and 1 whatever the rank (so a 2-D ``(N, C)`` input gets element-wise
        alpha dropout), and the rank check comes only after the eval / p = 0 / empty-input
        shortcuts, so a 1-D input passes in eval and fails in training.
    """

    def _mask_shape(self, x):
        if x.ndim < 2:
            raise ValueError(f"FeatureAlphaDropout: feature dropout requires at least 2 "
                             f"dimensions in the input, got shape {x.shape}")
        return x.shape[:2] + (1,) * (x.ndim - 2)
