"""PixelShuffle and PixelUnshuffle: sub-pixel rearrangements, each the other's inverse.

Both are permutations of the elements, so each one's backward is the other's forward
applied to ``dy`` (the adjoint of a permutation is its inverse). One einops pattern says
all of it.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from einops import rearrange

from ._layout import LayoutModule, positive_int

#: (*, C*r*r, H, W) -> (*, C, H*r, W*r): channel c*r*r + i*r + j becomes the pixel (h*r + i, w*r + j)
SHUFFLE = "... (c r1 r2) h w -> ... c (h r1) (w r2)"
UNSHUFFLE = "... c (h r1) (w r2) -> ... (c r1 r2) h w"


class ShuffleCache(NamedTuple):
    out_shape: tuple
    dtype: np.dtype


class _Shuffle(LayoutModule):
    """The checks of both directions; ``_forward`` / ``_backward`` are the two patterns."""

    _forward, _backward = SHUFFLE, UNSHUFFLE

    def __init__(self, factor, dtype=None):
        super().__init__(dtype)
        self._r = positive_int(factor, type(self).__name__, self._arg)

    def _check(self, x):
        raise NotImplementedError

    def forward(self, input):
        x = self._x(input)
        if x.ndim < 3:
            raise ValueError(f"{type(self).__name__}: input must have at least 3 dims (*, C, H, W), "
                             f"got {x.ndim}-D with shape {x.shape}")
        self._check(x)
        y = rearrange(x, self._forward, r1=self._r, r2=self._r)
        self._cache = ShuffleCache(y.shape, x.dtype)
        return y

    def backward(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape, c.dtype)
        return np.ascontiguousarray(rearrange(g, self._backward, r1=self._r, r2=self._r))

    def extra_repr(self) -> str:
        return f"{self._arg}={self._r}"


class PixelShuffle(_Shuffle):
    """``y[..., c, h*r + i, w*r + j] = x[..., c*r^2 + i*r + j, h, w]``: channels become sub-pixels.

    Args:
        upscale_factor: r, a positive int.

    Shape:
        ``(*, C*r^2, H, W)`` → ``(*, C, H*r, W*r)``, any number of leading dims (even none).

    Backward:
        dx = PixelUnshuffle(r)(dy): the inverse permutation, no arithmetic.

    What torch hides:
        the channel splits as ``(c, i, j)``, the output channel outermost, so the r^2
        sub-pixels of one output channel are *consecutive* input channels (what a
        sub-pixel convolution's weight layout must follow); an empty batch, channel or
        spatial dim is fine.
    """

    _arg = "upscale_factor"

    def __init__(self, upscale_factor, dtype=None):
        super().__init__(upscale_factor, dtype)
        self.upscale_factor = self._r

    def _check(self, x):
        if x.shape[-3] % (self._r * self._r):
            raise ValueError(f"PixelShuffle: the channel dim (-3) must be divisible by "
                             f"upscale_factor^2 = {self._r ** 2}, got shape {x.shape}")


class PixelUnshuffle(_Shuffle):
    """``y[..., c*r^2 + i*r + j, h, w] = x[..., c, h*r + i, w*r + j]``: sub-pixels become channels.

    Args:
        downscale_factor: r, a positive int.

    Shape:
        ``(*, C, H*r, W*r)`` → ``(*, C*r^2, H, W)``; H and W must be divisible by r.

    Backward:
        dx = PixelShuffle(r)(dy).

    What torch hides:
        exactly the inverse of PixelShuffle's layout (``(c, i, j)``, channel outermost),
        so ``PixelShuffle(r)(PixelUnshuffle(r)(x)) == x`` bit for bit.
    """

    _arg = "downscale_factor"
    _forward, _backward = UNSHUFFLE, SHUFFLE

    def __init__(self, downscale_factor, dtype=None):
        super().__init__(downscale_factor, dtype)
        self.downscale_factor = self._r

    def _check(self, x):
        if x.shape[-2] % self._r or x.shape[-1] % self._r:
            raise ValueError(f"PixelUnshuffle: height and width must be divisible by "
                             f"downscale_factor = {self._r}, got shape {x.shape}")
