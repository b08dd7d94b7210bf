"""CosineEmbeddingLoss: pull pairs labelled 1 together in angle, push pairs labelled -1 apart.

The cosine is computed exactly as ATen's ``cosine_embedding_loss`` (Loss.cpp) does,
``cos = <x1, x2> / sqrt((|x1|^2 + EPS) (|x2|^2 + EPS))``, and its gradient is written
out by hand where torch lets autograd differentiate that chain of ops.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from .loss import _Loss

#: ATen's ``constexpr float EPSILON = 1e-12``: a *float32* constant, so in float64 the
#: value added is float32(1e-12) = 9.99999996e-13, not 1e-12. It only matters where a
#: squared norm is ~1e-12 (a zero vector), and there the gradient, ~1/sqrt(EPS), differs
#: by 2e-9 relative between the two constants: 20 times the float64 tolerance.
EPSILON = float(np.float32(1e-12))


class CosineCache(NamedTuple):
    x1: np.ndarray       # (N, D) or (D,)
    x2: np.ndarray       # (N, D) or (D,)
    mag1: np.ndarray     # |x1|^2 + EPS, (N,) or ()
    mag2: np.ndarray     # |x2|^2 + EPS, (N,) or ()
    denom: np.ndarray    # sqrt(mag1 * mag2), (N,) or ()
    cos: np.ndarray      # (N,) or ()
    dcos: np.ndarray     # d l / d cos per pair: -1 (y = 1), [cos - margin >= 0] (y = -1), else 0


class CosineEmbeddingLoss(_Loss):
    """``l_i = 1 - cos(x1_i, x2_i) if y_i = 1;  max(0, cos(x1_i, x2_i) - margin) if y_i = -1``.

    Args:
        margin: how far below 0 a dissimilar pair's cosine must fall before it stops costing
            (default 0; torch suggests 0 to 0.5).
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        input1 and input2 ``(N, D)`` with target ``(N)``, or unbatched ``(D)`` with target
        ``()``; output ``()``, or ``(N)`` / ``()`` for 'none'. The target holds ±1.

    Backward:
        cos = p / s with p = <x1, x2>, m1 = |x1|^2 + EPS, m2 = |x2|^2 + EPS, s = sqrt(m1 m2):
        d cos / d x1 = x2 / s - cos * x1 / m1,   d cos / d x2 = x1 / s - cos * x2 / m2;
        d l / d cos = -1 where y = 1, [cos - margin >= 0] where y = -1, 0 elsewhere;
        dx1 = g * d l / d cos * d cos / d x1, g = grad_output (÷ N for 'mean'); dx2 likewise.
        Both inputs are differentiated (``grad_inputs = (0, 1)``); backward returns
        ``(dx1, dx2)``.

    What torch hides:
        ATen adds EPSILON = 1e-12 to each *squared* norm, inside the square root, where
        ``F.cosine_similarity`` clamps each norm at eps = 1e-8 (two equal vectors of norm 1e-7
        have cosine 1 there and 0.0099 here); and that EPSILON is a float32 constant, so
        float64 adds 9.99999996e-13. A zero vector therefore has cos = 0 and a finite but huge
        gradient, |x2| / sqrt(EPS |x2|^2) ~ 1e6 per unit direction. The hinge is
        ``clamp_min_(cos - margin, 0)``, whose backward passes the gradient where cos - margin
        >= 0: an orthogonal pair labelled -1 with margin 0 costs 0 yet is still pushed. Labels
        are compared with ``target == 1`` and ``target == -1`` and never checked: any other
        value (0, the usual 0/1-label mistake) matches neither branch and gives loss 0 and
        gradient 0 without a warning; npimpl does the same. Torch broadcasts input2 of shape
        (1, D) and a target of shape (1); npimpl requires equal shapes.
    """

    grad_inputs = (0, 1)

    def __init__(self, margin: float = 0.0, size_average=None, reduce=None,
                 reduction: str = "mean", dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self.margin = margin

    def _check(self, x1: np.ndarray, x2: np.ndarray, y: np.ndarray) -> None:
        """torch's rules (0-D target: 1-D inputs; 1-D target: 2-D inputs), then equal shapes."""
        name = type(self).__name__
        if y.ndim not in (0, 1):
            raise ValueError(f"{name}: expected a 0-D or 1-D target (multi-target not "
                             f"supported), got {y.ndim}-D with shape {y.shape}")
        want = y.ndim + 1
        if x1.ndim != want or x2.ndim != want:
            raise ValueError(f"{name}: a {y.ndim}-D target expects {want}-D inputs, got "
                             f"input1 {x1.shape} and input2 {x2.shape}")
        if x1.shape != x2.shape:
            raise ValueError(f"{name}: input1 and input2 must have the same shape, got "
                             f"{x1.shape} and {x2.shape}")
        if y.shape != x1.shape[:-1]:
            raise ValueError(f"{name}: target must have shape {x1.shape[:-1]} (one label per "
                             f"pair), got {y.shape}")

    def forward(self, input1, input2, target):
        x1 = self._x(input1, "input1")
        x2 = self._input(input2, "input2", x1.dtype)
        y = self._input(target, "target", x1.dtype)
        self._check(x1, x2, y)
        eps = x1.dtype.type(EPSILON)                  # float32 adds 1e-12f, float64 its value
        prod = (x1 * x2).sum(-1)                      # (N,) or ()
        mag1 = (x1 * x1).sum(-1) + eps                # (N,)
        mag2 = (x2 * x2).sum(-1) + eps                # (N,)
        denom = np.sqrt(mag1 * mag2)                  # (N,)
        cos = prod / denom                            # (N,)
        hinge = cos - self.margin
        pos, neg = y == 1, y == -1
        # 1. the two branches; a label that is neither ±1 takes neither (loss 0)
        loss = np.where(pos, 1 - cos, 0) + np.where(neg, np.maximum(hinge, 0), 0)
        # 2. d l / d cos: clamp_min's backward passes the gradient where hinge >= 0
        dcos = np.where(pos, -1.0, 0.0) + np.where(neg & (hinge >= 0), 1.0, 0.0)
        self._cache = CosineCache(x1, x2, mag1, mag2, denom, cos, dcos.astype(x1.dtype))
        return self._reduce(np.asarray(loss, dtype=x1.dtype))

    def backward(self, grad_output=None):
        x1, x2, mag1, mag2, denom, cos, dcos = self._saved()
        g = self._dloss(grad_output, cos.shape, cos.dtype) * dcos         # d L / d cos, (N,)
        g, denom, cos = g[..., None], denom[..., None], cos[..., None]    # (N, 1): rows
        # forward was: cos = <x1, x2> / sqrt(m1 m2)
        dx1 = g * (x2 / denom - cos * x1 / mag1[..., None])               # (N, D)
        dx2 = g * (x1 / denom - cos * x2 / mag2[..., None])               # (N, D)
        return np.asarray(dx1, dtype=x1.dtype), np.asarray(dx2, dtype=x1.dtype)

    def extra_repr(self) -> str:
        return f"margin={self.margin}, reduction={self.reduction!r}"
