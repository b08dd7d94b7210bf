"""Layer-wise normalisations: LayerNorm and RMSNorm (statistics over the trailing dims).

Both normalise each sample over its last ``len(normalized_shape)`` dimensions,
so, unlike BatchNorm, they behave the same in training and in eval and keep no
running statistics.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from . import _norm_fast as fast
from .module import Module, Parameter


def _shape_tuple(normalized_shape, owner: str) -> tuple:
    """torch accepts an int or a sequence of ints for ``normalized_shape``."""
    if not isinstance(normalized_shape, (int, np.integer, tuple, list)):
        raise TypeError(f"{owner}: normalized_shape must be an int or a sequence of ints, got "
                        f"{normalized_shape!r}")
    shape = (normalized_shape,) if isinstance(normalized_shape, (int, np.integer)) \
        else tuple(normalized_shape)
    if not shape or not all(isinstance(s, (int, np.integer)) and s >= 0 for s in shape):
        raise ValueError(f"{owner}: normalized_shape must be a non-empty tuple of non-negative "
                         f"ints, got {normalized_shape!r}")
    return tuple(int(s) for s in shape)


def _check_trailing(x: np.ndarray, shape: tuple, owner: str) -> tuple:
    """Raise unless ``x`` ends with ``shape``; return the normalised axes (negative)."""
    k = len(shape)
    if x.ndim < k or x.shape[x.ndim - k:] != shape:
        raise ValueError(f"{owner}: expected input with shape [*, {', '.join(map(str, shape))}], "
                         f"got {x.shape}")
    return tuple(range(-k, 0))


# --- the affine map every normalisation here shares (also BatchNorm, GroupNorm, InstanceNorm) --
def affine_parameters(shape, dtype, affine: bool, bias: bool = True):
    """torch's ``(weight, bias)`` of ``shape``: ones and zeros, None where not learned."""
    if not affine:
        return None, None
    return (Parameter(np.ones(shape, dtype=dtype)),
            Parameter(np.zeros(shape, dtype=dtype)) if bias else None)


def reset_affine(module: Module) -> None:
    """weight = 1, bias = 0: torch's deterministic init (no random draw)."""
    if module.weight is not None:
        module.weight.data[...] = 1
    if module.bias is not None:
        module.bias.data[...] = 0


def affine_backward(module: Module, grad_output, backward_fn, owner: str):
    """The class side of ``backward``: check ``grad_output`` against the cached ``xhat``, run
    the pure ``backward_fn(dy, weight, cache) -> (dx, dweight, dbias)``, accumulate, return dx."""
    cache = module._saved()
    dy = _checks.grad(grad_output, owner, cache.xhat.shape, module.dtype)
    w = module.weight.data if module.weight is not None else None
    dx, dw, db = backward_fn(dy, w, cache)
    if module.weight is not None:
        module.weight.accumulate(dw)
    if module.bias is not None:
        module.bias.accumulate(db)
    return dx


# --- LayerNorm ------------------------------------------------------------------------------
class LayerNormCache(NamedTuple):
    xhat: np.ndarray        # (*, *normalized_shape): the normalised input
    rstd: np.ndarray        # (*, 1, ..., 1): 1 / sqrt(var + eps)
    axes: tuple             # the normalised (trailing) axes


def _scaled_rstd(xc, axes: tuple, eps: float):
    """``1 / sqrt(mean(xc^2) + eps)`` computed as ``1 / (s sqrt(mean((xc/s)^2) + eps/s^2))``
    with ``s = max |xc|``, for rows whose squares overflow (float32 from |x| ~ 1.8e19): the
    ratio ``xc / s`` is at most 1, so nothing overflows, and ``eps/s^2`` (negligible there,
    it may underflow to 0) keeps the formula exact."""
    s = np.abs(xc).max(axis=axes, keepdims=True)                 # (*, 1, ..., 1), > 0 here
    s = np.where(s > 0, s, 1).astype(xc.dtype)
    xs = xc / s
    with np.errstate(under="ignore"):
        return 1.0 / (s * np.sqrt((xs * xs).mean(axis=axes, keepdims=True) + eps / s / s))


def layer_norm_forward(x, weight, bias, axes: tuple, eps: float):
    """``y = (x - mean) / sqrt(var + eps) * weight + bias`` over ``axes``; ``(y, cache)``."""
    mean = x.mean(axis=axes, keepdims=True)                      # (*, 1, ..., 1)
    xc = x - mean
    with np.errstate(over="ignore"):                             # handled just below
        var = (xc * xc).mean(axis=axes, keepdims=True)           # biased: divides by n
    rstd = 1.0 / np.sqrt(var + x.dtype.type(eps))                # eps *inside* the sqrt
    overflow = np.isinf(var) & np.isfinite(xc).all(axis=axes, keepdims=True)
    if overflow.any():                                           # |x| past sqrt(max float)
        rstd = np.where(overflow, _scaled_rstd(xc, axes, eps), rstd)
    xhat = xc * rstd
    y = xhat.copy()                 # the caller's to change in place: never the cached xhat
    if weight is not None:
        y = y * weight
    if bias is not None:
        y = y + bias
    return y, LayerNormCache(xhat, rstd, axes)


def layer_norm_backward(dy, weight, cache: LayerNormCache):
    """Return ``(dx, dweight, dbias)`` (dweight/dbias summed over the leading dims).

    With ``g = dy * weight`` and ``n`` the number of normalised elements,
    ``dx = rstd * (g - mean(g) - xhat * mean(g * xhat))``: the two means are what flows
    back through the mean and the variance.
    """
    xhat, rstd, axes = cache
    lead = tuple(range(dy.ndim - len(axes)))
    dweight = (dy * xhat).sum(axis=lead) if weight is not None else None
    dbias = dy.sum(axis=lead)
    g = dy * weight if weight is not None else dy                # d loss / d xhat
    dx = rstd * (g - g.mean(axis=axes, keepdims=True)
                 - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return dx, dweight, dbias


class LayerNorm(Module):
    r"""``y = (x - E[x]) / sqrt(Var[x] + eps) * weight + bias`` over the trailing dims.

    Args:
        normalized_shape: the trailing shape to normalise over (an int = the last dim).
        eps: added to the variance *inside* the square root (default 1e-5, torch's).
        elementwise_affine: learn ``weight`` (init ones) and ``bias`` (init zeros), both of
            shape ``normalized_shape``.
        bias: if False (and ``elementwise_affine``), learn only ``weight``.
        dtype: NumPy float dtype of the parameters (default ``np.float32``).

    Shape:
        input ``(*, *normalized_shape)`` → output of the same shape.

    Maths:
        \mu = \frac{1}{n}\sum_i x_i, \quad \sigma^2 = \frac{1}{n}\sum_i (x_i - \mu)^2, \quad
        \hat x = \frac{x - \mu}{\sqrt{\sigma^2 + \epsilon}}, \quad y = \gamma \odot \hat x + \beta

    Derivation:
        Over the $n$ values $x_1 \dots x_n$ of one sample's normalised dims, with $\hat x = (x - \mu)\,r$,
        $r = 1/\sqrt{\sigma^2 + \epsilon}$ and $g = \gamma \odot \bar y$ (the gradient reaching
        $\hat x$):
        1. $\bar\gamma = \sum \bar y \odot \hat x$ and $\bar\beta = \sum \bar y$, summed over
           everything $\gamma$ and $\beta$ are broadcast over.
        2. $\hat x_i$ depends on $x_i$ directly and, through $\mu$ and $\sigma^2$, on every $x_j$:
           $\frac{\partial \hat x_i}{\partial x_j} = r\left(\delta_{ij} - \frac{1}{n} -
           \frac{\hat x_i \hat x_j}{n}\right)$, using $\partial\mu/\partial x_j = 1/n$ and
           $\partial\sigma^2/\partial x_j = 2(x_j - \mu)/n$.
        3. Contract with $g$: $\bar x_j = \sum_i g_i \frac{\partial \hat x_i}{\partial x_j}$, i.e.
           $$\bar x = r\left(g - \mathrm{mean}(g) - \hat x \odot \mathrm{mean}(g \odot \hat x)\right)$$
           (``layer_norm_backward()``; the means run over the normalised dims).

    Backward:
        with ``g = dy * weight``: dx = rstd * (g - mean(g) - xhat * mean(g * xhat)) over the
        normalised dims;   dweight += sum(dy * xhat);   dbias += sum(dy) (sums over ``*``).

    What torch hides:
        the variance is the *biased* one (divide by n, not n - 1), eps sits inside the
        square root (``1/sqrt(var + eps)``, not ``1/(std + eps)``), each sample is normalised
        on its own so train and eval agree and there are no buffers; the CPU kernel computes
        mean and variance in one Welford pass, and its autograd node saves the input, the
        weight, the bias, ``mean`` and ``rstd`` for the backward (npimpl's cache keeps
        ``xhat`` and ``rstd``). In float32 from |x| ~ 1e20 (the squares pass float32's
        3.4e38) torch's output and gradient are 0 or NaN, row by row; here such a row is
        rescaled by its largest |x - mean| first, so the answer is the exact one that float64
        gives (the report judges that case against torch in float64: "torch is off"). This is
        also GroupNorm's and InstanceNorm's arithmetic.
    """

    #: True runs the whole-array textbook (``layer_norm_forward`` / ``layer_norm_backward``)
    #: instead of the blocked one of ``_norm_fast``: the catalogue holds both to torch (the
    #: two agree to rounding)
    _staged = False

    def __init__(self, normalized_shape, eps: float = 1e-5, elementwise_affine: bool = True,
                 bias: bool = True, device=None, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape, "LayerNorm")
        self.eps, self.elementwise_affine = float(eps), bool(elementwise_affine)
        self.dtype = self._dtype(dtype)
        self.weight, self.bias = affine_parameters(self.normalized_shape, self.dtype,
                                                   self.elementwise_affine, bias)

    def reset_parameters(self, rng=None) -> None:
        """weight = 1, bias = 0 (deterministic, like torch; ``rng`` is unused)."""
        reset_affine(self)

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        axes = _check_trailing(x, self.normalized_shape, "LayerNorm")
        w = self.weight.data if self.weight is not None else None
        b = self.bias.data if self.bias is not None else None
        forward = layer_norm_forward if self._staged else fast.layer_norm_forward
        y, self._cache = forward(x, w, b, axes, self.eps)
        return y

    def backward(self, grad_output):
        backward = layer_norm_backward if self._staged else fast.layer_norm_backward
        return affine_backward(self, grad_output, backward, "LayerNorm")

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")


# --- RMSNorm --------------------------------------------------------------------------------
class RMSNormCache(NamedTuple):
    xhat: np.ndarray        # (*, *normalized_shape): x / rms
    rrms: np.ndarray        # (*, 1, ..., 1): 1 / sqrt(mean(x^2) + eps)
    axes: tuple


def rms_norm_forward(x, weight, axes: tuple, eps: float):
    """``y = x / sqrt(mean(x^2) + eps) * weight`` over ``axes``; ``(y, cache)``."""
    rrms = 1.0 / np.sqrt((x * x).mean(axis=axes, keepdims=True) + x.dtype.type(eps))
    xhat = x * rrms
    y = xhat * weight if weight is not None else xhat.copy()   # never the cached xhat itself
    return y, RMSNormCache(xhat, rrms, axes)


def rms_norm_backward(dy, weight, cache: RMSNormCache):
    """``(dx, dweight)``: with ``g = dy * weight``, ``dx = rrms * (g - xhat * mean(g * xhat))``
    (LayerNorm's formula without the ``- mean(g)`` term, as nothing is subtracted)."""
    xhat, rrms, axes = cache
    lead = tuple(range(dy.ndim - len(axes)))
    dweight = (dy * xhat).sum(axis=lead) if weight is not None else None
    g = dy * weight if weight is not None else dy
    dx = rrms * (g - xhat * (g * xhat).mean(axis=axes, keepdims=True))
    return dx, dweight


class RMSNorm(Module):
    r"""``y = x / sqrt(mean(x^2) + eps) * weight`` over the trailing dims (no centring, no bias).

    Args:
        normalized_shape: the trailing shape to normalise over (an int = the last dim).
        eps: added to the mean square inside the square root; None (torch's default) means
            ``np.finfo(input.dtype).eps`` (1.19e-7 for float32, 2.2e-16 for float64).
        elementwise_affine: learn ``weight`` (init ones) of shape ``normalized_shape``.
        dtype: NumPy float dtype of the parameters (default ``np.float32``).

    Shape:
        input ``(*, *normalized_shape)`` → output of the same shape.

    Maths:
        \hat x = \frac{x}{\sqrt{\frac{1}{n}\sum_i x_i^2 + \epsilon}}, \qquad y = \gamma \odot \hat x

    Derivation:
        With $r = 1/\sqrt{\mathrm{mean}(x^2) + \epsilon}$ and $g = \gamma \odot \bar y$:
        1. $\bar\gamma = \sum \bar y \odot \hat x$ over the leading dims.
        2. $\frac{\partial \hat x_i}{\partial x_j} = r\left(\delta_{ij} - \frac{\hat x_i \hat x_j}{n}\right)$:
           LayerNorm's Jacobian without the $-1/n$ of the mean.
        3. So (``rms_norm_backward()``):
           $$\bar x = r\left(g - \hat x \odot \mathrm{mean}(g \odot \hat x)\right)$$

    Backward:
        with g = dy * weight: dx = rrms * (g - xhat * mean(g * xhat));  dweight += sum(dy * xhat).

    What torch hides:
        the default eps is not a fixed number but the machine epsilon of the *input's* dtype,
        so the same module normalises float32 and float64 inputs with different eps; there
        is no bias even with ``elementwise_affine``; and, unlike LayerNorm, the mean is not
        subtracted, so a constant row is not mapped to 0.
    """

    def __init__(self, normalized_shape, eps: float | None = None,
                 elementwise_affine: bool = True, device=None, dtype=np.float32):
        super().__init__()
        self.normalized_shape = _shape_tuple(normalized_shape, "RMSNorm")
        self.eps, self.elementwise_affine = eps, bool(elementwise_affine)
        self.dtype = self._dtype(dtype)
        self.weight = (Parameter(np.ones(self.normalized_shape, dtype=self.dtype))
                       if self.elementwise_affine else None)

    def reset_parameters(self, rng=None) -> None:
        """weight = 1 (deterministic, like torch; ``rng`` is unused)."""
        if self.weight is not None:
            self.weight.data[...] = 1

    def forward(self, input):
        x = self._input(input, dtype=self.dtype)
        axes = _check_trailing(x, self.normalized_shape, "RMSNorm")
        eps = np.finfo(x.dtype).eps if self.eps is None else self.eps
        w = self.weight.data if self.weight is not None else None
        y, self._cache = rms_norm_forward(x, w, axes, eps)
        return y

    def backward(self, grad_output):
        cache = self._saved()
        dy = self._upstream(grad_output, cache.xhat.shape, self.dtype)
        w = self.weight.data if self.weight is not None else None
        dx, dw = rms_norm_backward(dy, w, cache)
        if self.weight is not None:
            self.weight.accumulate(dw)
        return dx

    def extra_repr(self) -> str:
        return (f"{self.normalized_shape}, eps={self.eps}, "
                f"elementwise_affine={self.elementwise_affine}")
