"""Leaky ReLUs whose negative slope is learned (PReLU) or random (RReLU).

torch keeps both in ``torch/nn/modules/activation.py``. PReLU's slope is a parameter,
one for all channels or one per channel (dim 1); RReLU draws a slope per element in
training, uniformly from ``[lower, upper]``, and uses their mean in eval.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._pointwise import select
from .activation import Activation
from .module import Module, Parameter
from .random import generator


class PReLUCache(NamedTuple):
    x: np.ndarray        # the input
    w: np.ndarray        # the weight shaped to broadcast against x: () or (1, C, 1, ...)
    axes: tuple          # the axes dW sums over


class PReLU(Module):
    """``y = x if x > 0 else a * x``, with a learned slope ``a`` (one, or one per channel).

    Args:
        num_parameters: 1 (one slope shared by every channel) or C, the size of dim 1
            (default 1).
        init: the initial value of every slope (default 0.25).
        dtype: NumPy float dtype of the weight (default ``np.float32``, like torch).

    Shape:
        any shape ``(N, C, *)``; the channel dim is dim 1, and an input of fewer than 2
        dims has one channel (so ``num_parameters`` must then be 1, and a 0-d input needs it).

    Attributes:
        weight: ``(num_parameters,)``, every element set to ``init`` (a constant, no random draw).

    Backward:
        dx = dy if x > 0 else a * dy;   da += sum over every dim but the channel's of
        ``(0 if x > 0 else x * dy)``   (at x = 0: the slope a, and da gets 0 * dy)

    What torch hides:
        the slope sits on dim 1, not on the last dim (a ``(N, L, C)`` sequence needs a
        transpose, unlike Linear); ``weight decay`` should not be used on it (the paper's
        advice, in torch's docs). Like LeakyReLU, the test is ``x > 0``, so x = 0 takes the
        slope; a NaN input takes the slope too (``a * NaN``) and adds NaN to ``da``.
    """

    def __init__(self, num_parameters: int = 1, init: float = 0.25, device=None,
                 dtype=np.float32):
        super().__init__()
        if not isinstance(num_parameters, (int, np.integer)) or num_parameters < 1:
            raise ValueError(f"PReLU: num_parameters must be a positive int, got "
                             f"{num_parameters!r}")
        self.num_parameters, self.init = int(num_parameters), init
        self.weight = Parameter(np.empty(self.num_parameters, dtype=self._dtype(dtype)))
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        self.weight.data[...] = self.init            # torch: init.constant_(weight, init)

    def forward(self, input):
        x = self._input(input, dtype=self.weight.dtype)
        C = self.num_parameters
        if C != 1 and (x.ndim < 2 or x.shape[1] != C):     # 0-d and 1-D: one channel
            raise ValueError(f"PReLU: mismatch of parameter numbers and input channel "
                             f"size: expected {C} channels in dim 1 (an input of fewer "
                             f"than 2 dims has one), got shape {x.shape}")
        if C == 1:
            w = self.weight.data.reshape(())                      # one slope for everything
            axes = tuple(range(x.ndim))
        else:
            w = self.weight.data.reshape((1, C) + (1,) * (x.ndim - 2))    # (1, C, 1, ...)
            axes = (0,) + tuple(range(2, x.ndim))
        self._cache = PReLUCache(x, w, axes)
        return select(x > 0, x, w * x)                          # np.where, branch-free

    def backward(self, grad_output):
        x, w, axes = self._saved()
        g = self._input(grad_output, "grad_output", x.dtype)
        if g.shape != x.shape:
            raise ValueError(f"PReLU: grad_output must have shape {x.shape}, got {g.shape}")
        pos = x > 0
        gw = select(pos, 0, x * g)                                # torch's per-element dW
        self.weight.accumulate(np.sum(gw, axis=axes).reshape(self.weight.shape))
        return select(pos, g, w * g)

    def extra_repr(self) -> str:
        return f"num_parameters={self.num_parameters}"


class RReLUCache(NamedTuple):
    x: np.ndarray            # the input
    noise: np.ndarray | None  # the slope applied per element (1 where x > 0); None in eval
    slope: float             # (lower + upper) / 2, eval's slope


class RReLU(Activation):
    """``y = x if x > 0 else a * x``: ``a ~ U(lower, upper)`` per element in training, ``a =
    (lower + upper) / 2`` in eval.

    Args:
        lower, upper: the bounds of the uniform slope (default 1/8 and 1/3); lower <= upper.
        inplace: accepted for torch compatibility (the output is a new array).
        rng: ``np.random.Generator`` the slopes are drawn from (default: a fresh one).
        dtype: None accepts any float input (the module has no parameters).

    Shape:
        any shape; output has the input's shape.

    Attributes:
        slopes: the uniform draw of the last training forward, one per element (the
            element's slope where x <= 0; unused where x > 0); None in eval.
        noise: torch's name for the factor actually applied: ``slopes`` where x <= 0, 1
            elsewhere (None in eval). The torch twin (``reference.rrelu``) reuses ``slopes``
            and applies torch's own rule to choose which elements take them.

    Backward:
        training: dx = dy * noise;   eval: dx = dy if x > 0 else dy * (lower + upper) / 2.

    What torch hides:
        the slope is drawn for ``x <= 0`` (zero included, so x = 0 gets a random slope in
        the backward), in double precision and then rounded to the input's dtype; the
        forward saves it as a hidden ``noise`` tensor that the backward multiplies by (older
        releases switched to the mean slope when ``upper - lower <= 1e-6``; 2.x always uses
        the noise in training). A NaN input gets noise 1 (``NaN <= 0`` is false) and so
        passes dy through in training, but the mean slope in eval.
    """

    def __init__(self, lower: float = 1.0 / 8, upper: float = 1.0 / 3, inplace: bool = False,
                 rng=None, dtype=None):
        super().__init__(dtype)
        if not lower <= upper:
            raise ValueError(f"RReLU: lower bound should be less than or equal to the upper "
                             f"bound, got lower={lower}, upper={upper}")
        self.lower, self.upper, self.inplace = lower, upper, inplace
        self.rng = generator(rng)
        self.slopes = self.noise = None

    def forward(self, input):
        x = self._x(input)
        slope = x.dtype.type((self.lower + self.upper) / 2)
        if not self.training:
            self.slopes = self.noise = None
            self._cache = RReLUCache(x, None, slope)
            return np.where(x > 0, x, x * slope)              # leaky_relu(x, mean slope)
        # one draw per element, in double, rounded to x's dtype (torch's (scalar_t)uniform)
        self.slopes = np.asarray(self.rng.uniform(self.lower, self.upper, x.shape), x.dtype)
        self.noise = np.where(x <= 0, self.slopes, x.dtype.type(1))
        self._cache = RReLUCache(x, self.noise, slope)
        return np.asarray(x * self.noise)                  # a 0-d input: still an array

    def backward(self, grad_output):
        x, noise, slope = self._saved()
        g = self._g(grad_output, x)
        if noise is not None:                                 # training: the drawn noise
            return np.asarray(g * noise)
        return np.where(x > 0, g, g * slope)                  # leaky_relu_backward

    def extra_repr(self) -> str:
        return f"lower={self.lower}, upper={self.upper}" + (", inplace=True" if self.inplace
                                                            else "")
