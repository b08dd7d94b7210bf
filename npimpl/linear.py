"""Linear (fully connected) layer and Identity.

The article this project started from stores ``w`` as ``(in, out)`` and lets
the layer update its own weights inside ``backward``; its second version even
returns the weight gradient where the input gradient belongs. Here the layout
is torch's ``(out, in)``, the layer only *computes* gradients, and an
optimizer (``npimpl.optim``) applies them.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from .module import Module, Parameter
from .random import generator


class LinearCache(NamedTuple):
    x2: np.ndarray          # (M, in): the input with its leading dims flattened
    lead: tuple             # the leading dims ``*`` of the input


def linear_forward(x: np.ndarray, w: np.ndarray, b: np.ndarray | None):
    """``y = x W^T + b`` for ``x`` of shape ``(*, in)``; returns ``(y, cache)``."""
    *lead, n_in = x.shape
    x2 = x.reshape(math.prod(lead), n_in)         # (M, in); prod(()) = 1 for a 1-D input
    y = x2 @ w.T                                  # (M, out)
    if b is not None:
        y += b
    return y.reshape(*lead, w.shape[0]), LinearCache(x2, tuple(lead))


def linear_backward(dy: np.ndarray, w: np.ndarray, cache: LinearCache, has_bias: bool):
    """Return ``(dx, dW, db)``: ``dx = dy W``, ``dW = dy^T x``, ``db = sum dy``."""
    dy2 = dy.reshape(cache.x2.shape[0], w.shape[0])   # (M, out)
    dx = (dy2 @ w).reshape(*cache.lead, w.shape[1])
    dw = dy2.T @ cache.x2                         # (out, in): same layout as W
    db = dy2.sum(axis=0) if has_bias else None    # (out,)
    return dx, dw, db


class Linear(Module):
    r"""Applies an affine map to the last dimension: ``y = x W^T + b``.

    Args:
        in_features: size of each input sample.
        out_features: size of each output sample.
        bias: if False, the layer learns no additive bias.
        dtype: NumPy float dtype of the parameters (default ``np.float32``, like torch).

    Shape:
        input ``(*, in_features)`` → output ``(*, out_features)``; ``*`` is any
        number of leading dimensions, including none.

    Attributes:
        weight: ``(out_features, in_features)``, initialised from
            ``U(-1/sqrt(in_features), 1/sqrt(in_features))`` (torch's
            ``kaiming_uniform_(a=sqrt(5))`` works out to exactly this bound).
        bias: ``(out_features,)``, from the same distribution.

    Maths:
        y = x W^\top + b, \qquad y_{mj} = \sum_i x_{mi} W_{ji} + b_j

    Derivation:
        Flatten the leading dimensions into rows $m$ (``linear_forward()``), and write
        $\bar y = \partial L / \partial y$, shape $(M, \text{out})$.
        1. $\partial y_{mj} / \partial x_{mi} = W_{ji}$, so $\bar x_{mi} = \sum_j \bar y_{mj} W_{ji}$:
           $\bar x = \bar y\, W$, shape $(M, \text{in})$.
        2. $\partial y_{mj} / \partial W_{ji} = x_{mi}$ for every row $m$, so the rows add up:
           $\bar W_{ji} = \sum_m \bar y_{mj} x_{mi}$, i.e. $\bar W = \bar y^\top x$, shape
           $(\text{out}, \text{in})$, torch's layout of $W$.
        3. $\partial y_{mj} / \partial b_j = 1$: $\bar b = \sum_m \bar y_m$.
        4. ``linear_backward()`` returns these; the module adds the parameter gradients to
           ``.grad`` (they accumulate until ``zero_grad()``):
           $$\bar x = \bar y W, \qquad \bar W \mathrel{\text{+=}} \bar y^\top x, \qquad \bar b \mathrel{\text{+=}} \textstyle\sum_m \bar y_m$$

    Backward:
        dx = dy W;   dW += dy^T x (summed over every leading dim);   db += sum(dy)

    What torch hides:
        the weight is stored ``(out, in)`` — transposed from the ``x @ w`` a
        textbook writes — so that each output unit's weights are one contiguous
        row; the layer never updates its own weights (an optimizer does, which
        is what makes momentum, Adam and weight decay possible without touching
        the layer), and gradients accumulate across backward calls until
        ``zero_grad()``.
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True,
                 device=None, dtype=np.float32):
        super().__init__()
        for name, v in (("in_features", in_features), ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Linear: {name} must be a non-negative int, got {v!r}")
        self.in_features, self.out_features = int(in_features), int(out_features)
        dt = self._dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in_features), dtype=dt))
        self.bias = Parameter(np.empty(out_features, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        rng = generator(rng)
        bound = 1.0 / math.sqrt(self.in_features) if self.in_features > 0 else 0.0
        self.weight.data[...] = rng.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = rng.uniform(-bound, bound, self.bias.shape)

    def forward(self, input: np.ndarray) -> np.ndarray:
        x = self._input(input, dtype=self.weight.dtype)
        if x.ndim == 0 or x.shape[-1] != self.in_features:
            raise ValueError(f"Linear: expected input with {self.in_features} features in its "
                             f"last dim, got shape {x.shape}")
        b = self.bias.data if self.bias is not None else None
        y, self._cache = linear_forward(x, self.weight.data, b)
        return y

    def backward(self, grad_output: np.ndarray) -> np.ndarray:
        cache = self._saved()
        dy = self._input(grad_output, "grad_output", self.weight.dtype)
        expected = (*cache.lead, self.out_features)
        if dy.shape != expected:
            raise ValueError(f"Linear: grad_output must have shape {expected}, got {dy.shape}")
        dx, dw, db = linear_backward(dy, self.weight.data, cache, self.bias is not None)
        self.weight.accumulate(dw)
        if db is not None:
            self.bias.accumulate(db)
        return dx

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, out_features={self.out_features}, "
                f"bias={self.bias is not None}")


class Identity(Module):
    """``y = x``; accepts and ignores any constructor arguments, like torch.

    Backward:
        dx = dy (of the output's shape; cast to the input's dtype, as autograd casts)
    """

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        # torch's Identity returns its input object, whatever it is; a float array's shape
        # and dtype are kept to check the gradient
        float_array = isinstance(input, np.ndarray) and input.dtype.kind == "f"
        self._cache = (input.shape, input.dtype) if float_array else ()
        return input

    def backward(self, grad_output):
        c = self._saved()
        return self._upstream(grad_output, *c) if c else grad_output
