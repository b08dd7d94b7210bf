"""Triplet losses: pull an anchor towards a positive and push it away from a negative.

``TripletMarginLoss`` uses torch's pairwise ``p``-norm distance; ``TripletMarginWithDistanceLoss``
takes any distance, given as a NumPy function *with its gradient* (see its docstring for the
protocol). Both share one hinge, ``max(margin + d(a, p) - d(a, n), 0)``, and the distance swap.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .loss import _Loss


# --- the pairwise p-norm distance and its gradient -----------------------------------------
class DistanceCache(NamedTuple):
    v: np.ndarray        # x1 - x2 + eps, (*, D)
    d: np.ndarray        # the p-norm of v over its last dim, kept: (*, 1)
    p: float


def pairwise_distance(x1: np.ndarray, x2: np.ndarray, p: float = 2.0,
                      eps: float = 1e-6) -> tuple[np.ndarray, DistanceCache]:
    """``d = ||x1 - x2 + eps||_p`` over the last dim (torch's ``pairwise_distance``), ``(*)``.

    p = 0 counts the non-zero entries; p = ±inf is the largest / smallest ``|v_k|``.
    """
    v = x1 - x2 + eps                                                   # (*, D)
    a = np.abs(v)
    with np.errstate(divide="ignore"):                                 # 0 ** negative p
        if p == 0:
            d = (v != 0).sum(axis=-1, keepdims=True)
        elif math.isinf(p):
            d = (a.max if p > 0 else a.min)(axis=-1, keepdims=True)
        else:
            d = (a ** p).sum(axis=-1, keepdims=True) ** (1.0 / p)
    d = np.asarray(d, dtype=v.dtype)                                    # (*, 1)
    return d[..., 0], DistanceCache(v, d, p)


def pairwise_distance_backward(g: np.ndarray, cache: DistanceCache) -> tuple[np.ndarray, np.ndarray]:
    """``(dx1, dx2)`` for the upstream gradient ``g`` ``(*)``, as torch's ``norm_backward``:

    p = 1: ``sgn(v) g``;  p = 2: ``v / d g`` (0 where d = 0);  p = ±inf: ``sgn(v) g`` shared
    equally by the entries where ``|v_k| = d``;  p < 1: ``sgn(v) |v|^(p-1) d^(1-p) g``
    (0 where v = 0);  other p: ``sgn(v) |v|^(p-1) g / d^(p-1)`` (0 where d = 0); p = 0:
    none (a count). ``dx2 = -dx1``.
    """
    v, d, p = cache
    g = np.asarray(g, dtype=v.dtype)[..., None]                         # (*, 1)
    sgn = np.sign(v)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if p == 0:
            dv = np.zeros_like(v)
        elif p == 1:
            dv = sgn * g
        elif p == 2:
            dv = g * np.where(d == 0, 0, v / d)
        elif math.isinf(p):
            mask = (np.abs(v) == d) | np.isnan(v)
            dv = sgn * (g / mask.sum(axis=-1, keepdims=True)) * mask
        elif p < 1:
            dv = sgn * np.where(v == 0, 0, np.abs(v) ** (p - 1)) * g * d ** (1 - p)
        else:
            dv = sgn * np.abs(v) ** (p - 1) * np.where(d == 0, 0, g / d ** (p - 1))
    dv = np.asarray(dv, dtype=v.dtype)
    return dv, -dv


class PairwiseDistanceFn(NamedTuple):
    """torch's default distance, ``pairwise_distance(x1, x2, p, eps)``, as the ``(fn, grad_fn)``
    protocol of :class:`TripletMarginWithDistanceLoss`."""

    p: float = 2.0
    eps: float = 1e-6

    def fn(self, x1, x2):
        return pairwise_distance(x1, x2, self.p, self.eps)[0]

    def grad_fn(self, x1, x2, g):
        return pairwise_distance_backward(g, pairwise_distance(x1, x2, self.p, self.eps)[1])


# --- the shared hinge ------------------------------------------------------------------------
class HingeCache(NamedTuple):
    active: np.ndarray   # margin + d_pos - d_neg >= 0 (clamp_min's backward passes there), (*)
    w_neg: np.ndarray    # share of d_neg's gradient in min(d_neg, d_swap): 1, 1/2 (tie) or 0
    w_swap: np.ndarray   # share of d_swap's: 1 - w_neg, except both 1 where one is NaN


def triplet_hinge(margin: float, d_pos, d_neg, d_swap=None):
    """``max(margin + d_pos - min(d_neg, d_swap), 0)`` and what its backward needs."""
    if d_swap is None:
        w_neg, w_swap = np.ones_like(d_neg), np.zeros_like(d_neg)
    else:
        # torch's minimum backward: a tie splits the gradient in half; NaN gives it to both
        tie = d_neg == d_swap
        w_neg = np.where(tie, 0.5, np.where(d_neg > d_swap, 0.0, 1.0)).astype(d_neg.dtype)
        w_swap = np.where(tie, 0.5, np.where(d_neg < d_swap, 0.0, 1.0)).astype(d_neg.dtype)
        d_neg = np.minimum(d_neg, d_swap)
    arg = margin + d_pos - d_neg
    return np.maximum(arg, 0), HingeCache(arg >= 0, w_neg, w_swap)


class TripletCache(NamedTuple):
    hinge: HingeCache
    pos: DistanceCache   # d(anchor, positive)
    neg: DistanceCache   # d(anchor, negative)
    swap: DistanceCache | None   # d(positive, negative) when swap=True


class TripletMarginLoss(_Loss):
    """``l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0)``, ``d(x, y) = ||x - y + eps||_p``.

    Args:
        margin: the gap required between the two distances (> 0; default 1).
        p: the norm's degree (default 2; 1, inf, fractional, 0 all work).
        eps: added to the *difference* before the norm (default 1e-6).
        swap: use ``min(d(a, n), d(p, n))`` as the negative distance (Balntas et al.).
        reduction: 'none' | 'mean' | 'sum' (size_average / reduce: torch's deprecated flags).

    Shape:
        anchor, positive, negative ``(N, D)`` or ``(D)`` (any ``(*, D)``), all the same shape;
        output ``()``, or ``(N)`` / ``()`` for 'none'.

    Backward:
        with ``s = dl [margin + d_pos - d_neg >= 0]``: the positive distance gets ``+s``, the
        negative ``-s`` (with swap, split by torch's ``min`` rule: all to the smaller, half
        each on a tie); each distance passes its share through the norm's gradient
        (``(v / d)`` for p = 2, ``sgn(v)`` for p = 1 …) to ``+x1`` and ``-x2``. Three
        differentiable inputs; backward returns ``(d_anchor, d_positive, d_negative)``.

    What torch hides:
        eps is added to the difference, not to the norm: ``d = ||a - p + eps||``, so two
        equal vectors are ``eps * D ** (1/p)`` apart and the gradient direction there is
        ``(1, ..., 1)``, never 0/0 (the p = 2 gradient is still masked to 0 at d = 0, for
        eps = 0). With swap, a tie ``d(a, n) == d(p, n)`` (a positive equal to its anchor)
        gives each distance half of the gradient. The hinge is ``clamp_min``: a triplet
        exactly at the margin is still pushed. Torch checks only that the three inputs have
        the same number of dims and broadcasts (a (1, D) positive for all anchors); npimpl
        requires equal shapes.
    """

    grad_inputs = (0, 1, 2)

    def __init__(self, margin: float = 1.0, p: float = 2.0, eps: float = 1e-6,
                 swap: bool = False, size_average=None, reduce=None, reduction: str = "mean",
                 dtype=None):
        super().__init__(size_average, reduce, reduction, dtype)
        self._set_margin(margin, swap)
        self.p, self.eps = p, eps

    def _set_margin(self, margin: float, swap: bool) -> None:
        if margin <= 0:
            raise ValueError(f"{type(self).__name__}: expected margin to be greater than 0, "
                             f"got {margin} instead")
        self.margin, self.swap = margin, swap

    def _triple(self, anchor, positive, negative, same_shape: bool = True):
        a = self._x(anchor, "anchor")
        pos = self._input(positive, "positive", a.dtype)
        neg = self._input(negative, "negative", a.dtype)
        name = type(self).__name__
        if not a.ndim == pos.ndim == neg.ndim:
            raise ValueError(f"{name}: the anchor, positive, and negative arrays are expected "
                             f"to have the same number of dimensions, but got: anchor "
                             f"{a.ndim}D, positive {pos.ndim}D, and negative {neg.ndim}D inputs")
        if same_shape and not a.shape == pos.shape == neg.shape:
            raise ValueError(f"{name}: anchor, positive and negative must have the same shape, "
                             f"got {a.shape}, {pos.shape} and {neg.shape}")
        if same_shape and a.ndim == 0:
            raise ValueError(f"{name}: expected inputs of shape (D) or (N, D), got 0-D arrays")
        return a, pos, neg

    def _pairwise(self, x1, x2) -> tuple[np.ndarray, DistanceCache]:
        return pairwise_distance(x1, x2, self.p, self.eps)

    def forward(self, anchor, positive, negative):
        a, pos, neg = self._triple(anchor, positive, negative)
        d_pos, c_pos = self._pairwise(a, pos)                               # (N,)
        d_neg, c_neg = self._pairwise(a, neg)                               # (N,)
        d_swap, c_swap = self._pairwise(pos, neg) if self.swap else (None, None)
        loss, hinge = triplet_hinge(self.margin, d_pos, d_neg, d_swap)
        self._cache = TripletCache(hinge, c_pos, c_neg, c_swap)
        return self._reduce(np.asarray(loss, dtype=a.dtype))

    def backward(self, grad_output=None):
        hinge, c_pos, c_neg, c_swap = self._saved()
        s = self._dloss(grad_output, hinge.active.shape, c_pos.v.dtype) * hinge.active   # (N,)
        da, dp = pairwise_distance_backward(s, c_pos)                   # d(a, p): + s
        dan, dn = pairwise_distance_backward(-s * hinge.w_neg, c_neg)   # d(a, n): - s
        da = da + dan
        if c_swap is not None:                                          # d(p, n): - s (its share)
            dps, dns = pairwise_distance_backward(-s * hinge.w_swap, c_swap)
            dp, dn = dp + dps, dn + dns
        dt = c_pos.v.dtype
        return np.asarray(da, dtype=dt), np.asarray(dp, dtype=dt), np.asarray(dn, dtype=dt)

    def extra_repr(self) -> str:
        return (f"margin={self.margin}, p={self.p}, eps={self.eps}, swap={self.swap}, "
                f"reduction={self.reduction!r}")


class WithDistanceCache(NamedTuple):
    hinge: HingeCache
    pairs: tuple         # the (x1, x2) of each distance evaluated: (a, p), (a, n)[, (p, n)]


class TripletMarginWithDistanceLoss(TripletMarginLoss):
    """``l_i = max(d(a_i, p_i) - d(a_i, n_i) + margin, 0)`` for any distance function ``d``.

    Args:
        distance_function: the distance ``d(x1, x2) -> (N,)``, with its gradient, given as
            either
            * a pair ``(fn, grad_fn)``: ``fn(x1, x2) -> d`` and
              ``grad_fn(x1, x2, g) -> (dx1, dx2)`` (the vector-Jacobian product for the
              upstream gradient ``g`` of d's shape), or
            * a module (any object with ``__call__(x1, x2)`` and ``backward(g) -> (dx1,
              dx2)``, e.g. an npimpl layer of two inputs). A module caches only its last
              forward, so backward re-runs ``module(x1, x2)`` just before each
              ``module.backward``; its parameters accumulate every call's gradient.
            None (the default) is torch's ``PairwiseDistance()``: p = 2, eps = 1e-6
            (:class:`PairwiseDistanceFn`). A plain function without a gradient is refused.
        margin: the required gap (> 0; default 1).
        swap: use ``min(d(a, n), d(p, n))`` as the negative distance.
        reduction: 'none' | 'mean' | 'sum'.

    Shape:
        anchor, positive, negative ``(N, *)`` with the same number of dims, any shape the
        distance accepts; output ``()`` or the distance's shape for 'none'.

    Backward:
        ``s = dl [margin + d_pos - d_neg >= 0]``; ``grad_fn(a, p, s)`` for d(a, p),
        ``grad_fn(a, n, -s)`` for d(a, n) (with swap: ``-s`` split between d(a, n) and
        d(p, n) by torch's ``minimum`` rule), summed per input. backward returns
        ``(d_anchor, d_positive, d_negative)``.

    What torch hides:
        torch differentiates whatever the distance does with autograd; NumPy cannot, so
        the gradient must come with the function (a pair, or a module with backward). The
        distance is evaluated two or three times per forward (d(a, p), d(a, n), and
        d(p, n) with swap), so a stateful distance sees three calls. Torch checks only the
        number of dims; the shapes are the distance's business (the default refuses
        unequal shapes in npimpl, where torch's broadcasts). Unlike TripletMarginLoss,
        there are no deprecated size_average/reduce flags and every argument is
        keyword-only.
    """

    def __init__(self, *, distance_function=None, margin: float = 1.0, swap: bool = False,
                 reduction: str = "mean", dtype=None):
        _Loss.__init__(self, None, None, reduction, dtype)   # no p, eps or legacy flags here
        self._set_margin(margin, swap)
        if distance_function is None:
            distance_function = PairwiseDistanceFn()
        self.distance_function = distance_function
        self._fn, self._grad = self._protocol(distance_function)

    def _protocol(self, dist):
        """``(forward(x1, x2), vjp(x1, x2, g))`` for either protocol; TypeError otherwise."""
        if isinstance(dist, PairwiseDistanceFn):
            return dist.fn, dist.grad_fn
        if isinstance(dist, (tuple, list)) and len(dist) == 2 and all(map(callable, dist)):
            return dist[0], dist[1]
        if callable(dist) and callable(getattr(dist, "backward", None)):
            def vjp(x1, x2, g):
                dist(x1, x2)                        # re-run: the module holds one cache
                return dist.backward(g)
            return dist, vjp
        raise TypeError(f"{type(self).__name__}: distance_function must be a pair (fn, "
                        f"grad_fn) with grad_fn(x1, x2, g) -> (dx1, dx2), or a module with "
                        f"backward(g) -> (dx1, dx2); got {type(dist).__name__}, which has no "
                        f"gradient")

    def _distance(self, x1, x2, dtype) -> np.ndarray:
        if isinstance(self.distance_function, PairwiseDistanceFn) and x1.shape != x2.shape:
            raise ValueError(f"{type(self).__name__}: the default pairwise distance needs "
                             f"inputs of one shape, got {x1.shape} and {x2.shape}")
        d = self._fn(x1, x2)
        if not isinstance(d, np.ndarray) or d.dtype != dtype:
            raise TypeError(f"{type(self).__name__}: distance_function must return an ndarray "
                            f"of dtype {dtype}, got {getattr(d, 'dtype', type(d).__name__)}")
        return d

    def forward(self, anchor, positive, negative):
        a, pos, neg = self._triple(anchor, positive, negative, same_shape=False)
        pairs = [(a, pos), (a, neg)] + ([(pos, neg)] if self.swap else [])
        dists = [self._distance(x1, x2, a.dtype) for x1, x2 in pairs]
        if len({d.shape for d in dists}) != 1:
            raise ValueError(f"{type(self).__name__}: the distances have different shapes "
                             f"{[d.shape for d in dists]}")
        loss, hinge = triplet_hinge(self.margin, *dists)
        self._cache = WithDistanceCache(hinge, tuple(pairs))
        return self._reduce(np.asarray(loss, dtype=a.dtype))

    def backward(self, grad_output=None):
        hinge, pairs = self._saved()
        dt = pairs[0][0].dtype
        s = self._dloss(grad_output, hinge.active.shape, dt) * hinge.active
        grads = [np.zeros_like(x) for x in (pairs[0][0], pairs[0][1], pairs[1][1])]  # a, p, n
        who = [(0, 1), (0, 2), (1, 2)]                  # which inputs each pair holds
        for (x1, x2), coef, (i, j) in zip(pairs, (1.0, -hinge.w_neg, -hinge.w_swap), who):
            g1, g2 = self._grad(x1, x2, np.asarray(s * coef, dtype=dt))
            grads[i] = grads[i] + g1
            grads[j] = grads[j] + g2
        return tuple(np.asarray(g, dtype=dt) for g in grads)

    def extra_repr(self) -> str:
        return (f"distance_function={self.distance_function!r}, margin={self.margin}, "
                f"swap={self.swap}, reduction={self.reduction!r}")
