"""Fold and Unfold: col2im and im2col as layers, each the other's adjoint.

Unfold copies every sliding block of a (zero-padded) image into a column; Fold adds the
columns back into the image, summing where blocks overlap. Unfold's forward is
``_im2col``'s strided window view of the padded input, laid out as torch's columns; its
backward is Fold (the overlap-add, one strided add per kernel offset), and vice versa.
"""
from __future__ import annotations

from math import prod
from typing import NamedTuple

import numpy as np
from einops import rearrange

from . import _im2col as im
from ._layout import LayoutModule


def blocks(sizes, kernel, dilation, padding, stride) -> tuple:
    """Blocks per spatial dim: ``floor((S + 2p - d(k-1) - 1) / s) + 1``."""
    return tuple(im.out_size(s + 2 * p, k, st, d)
                 for s, k, d, p, st in zip(sizes, kernel, dilation, padding, stride))


def unfold(x, kernel, dilation, padding, stride) -> np.ndarray:
    """``cols[n, (c, a, b), (i, j)] = x_pad[n, c, i*s_h + a*d_h, j*s_w + b*d_w]``."""
    xp = im.pad_or_crop(x, [(p, p) for p in padding])                 # (N, C, H+2p, W+2p)
    v = im.windows(xp, kernel, stride, dilation)                      # (N, C, oh, ow, kh, kw): a view
    return rearrange(v, "n c oh ow kh kw -> n (c kh kw) (oh ow)")    # the one copy


def fold(cols, output_size, kernel, dilation, padding, stride) -> np.ndarray:
    """The adjoint of :func:`unfold`: ``y_pad[n, c, i*s + a*d, ...] += cols[n, (c, a, b), (i, j)]``,
    then the padding cut off. One strided add per kernel offset ``(a, b)``."""
    n = cols.shape[0]
    kh, kw = kernel
    oh, ow = blocks(output_size, kernel, dilation, padding, stride)
    b = rearrange(cols, "n (c kh kw) (oh ow) -> n c kh kw oh ow", kh=kh, kw=kw, oh=oh)
    padded = tuple(s + 2 * p for s, p in zip(output_size, padding))
    y = np.zeros((n, b.shape[1]) + padded, cols.dtype)                # (N, C, H+2p, W+2p)
    for a in range(kh):
        for c in range(kw):
            rows = slice(a * dilation[0], a * dilation[0] + (oh - 1) * stride[0] + 1, stride[0])
            cs = slice(c * dilation[1], c * dilation[1] + (ow - 1) * stride[1] + 1, stride[1])
            y[:, :, rows, cs] += b[:, :, a, c]
    return np.ascontiguousarray(im.pad_or_crop(y, [(-p, -p) for p in padding]))


def pair(v, owner: str, name: str, least: int) -> tuple:
    """An int or a tuple of exactly 2 ints (torch's im2col refuses a 1-tuple), each >= least."""
    t = tuple(v) if isinstance(v, (tuple, list)) else (v, v)
    if len(t) != 2 or not all(isinstance(i, (int, np.integer)) and not isinstance(i, bool)
                              for i in t):
        raise ValueError(f"{owner}: {name} must be an int or a tuple of 2 ints, got {v!r}")
    if min(t) < least:
        raise ValueError(f"{owner}: {name} must be >= {least}, got {v!r}")
    return tuple(int(i) for i in t)


class FoldCache(NamedTuple):
    in_shape: tuple      # batched
    out_shape: tuple     # batched
    dtype: np.dtype
    unbatched: bool


class _Blocks(LayoutModule):
    """The four block arguments and the unbatched/grad plumbing shared by Fold and Unfold."""

    def __init__(self, kernel_size, dilation, padding, stride, dtype):
        super().__init__(dtype)
        name = type(self).__name__
        self.kernel_size = pair(kernel_size, name, "kernel_size", 1)
        self.dilation = pair(dilation, name, "dilation", 1)
        self.padding = pair(padding, name, "padding", 0)
        self.stride = pair(stride, name, "stride", 1)

    def _args(self):
        return self.kernel_size, self.dilation, self.padding, self.stride

    def _batched(self, input, rank):
        x = self._x(input, (rank - 1, rank))
        if min(x.shape[x.ndim - rank + 1:]) == 0:
            raise ValueError(f"{type(self).__name__}: expected non-empty dims (an empty batch is "
                             f"fine), got shape {x.shape}")
        return (x[None], True) if x.ndim == rank - 1 else (x, False)

    def _finish(self, x, y, unbatched):
        self._cache = FoldCache(x.shape, y.shape, x.dtype, unbatched)
        return y[0] if unbatched else y

    def _grad(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape[1:] if c.unbatched else c.out_shape, c.dtype)
        return c, (g[None] if c.unbatched else g)

    def extra_repr(self) -> str:
        return (f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                f"padding={self.padding}, stride={self.stride}")


class Unfold(_Blocks):
    """``y[n, (c, a, b), l] = x_pad[n, c, i_l*s_h + a*d_h, j_l*s_w + b*d_w]``: every sliding block as a column (im2col).

    Args:
        kernel_size, dilation (default 1), padding (default 0, zeros), stride (default 1):
            an int or a tuple of 2 ints.

    Shape:
        ``(N, C, H, W)`` or ``(C, H, W)`` → ``(N, C*kh*kw, L)``, ``L = oh * ow`` blocks,
        ``oh = floor((H + 2p - d(kh-1) - 1) / s) + 1`` (each >= 1).

    Backward:
        dx = Fold(dy): each column entry's gradient is added back onto the pixel it copied,
        so a pixel in k overlapping blocks gets k contributions; the padding's are dropped.

    What torch hides:
        the column index runs over ``(c, a, b)`` with the channel outermost (the layout of
        a flattened Conv2d weight ``(C_out, C*kh*kw)``, so ``W @ Unfold(x)`` is a
        convolution) and the blocks are row-major; only 2-D images (no 1-D or 3-D unfold),
        and a 1-tuple argument is an error rather than broadcast.
    """

    def __init__(self, kernel_size, dilation=1, padding=0, stride=1, dtype=None):
        super().__init__(kernel_size, dilation, padding, stride, dtype)

    def forward(self, input):
        x, unbatched = self._batched(input, 4)
        if min(blocks(x.shape[2:], *self._args())) < 1:
            raise ValueError(f"Unfold: input of spatial size {x.shape[2:]} is too small for "
                             f"kernel_size={self.kernel_size}, dilation={self.dilation}, "
                             f"padding={self.padding}: expected at least one block per dim")
        return self._finish(x, unfold(x, *self._args()), unbatched)

    def backward(self, grad_output):
        c, g = self._grad(grad_output)
        dx = fold(g, c.in_shape[2:], *self._args())
        return dx[0] if c.unbatched else dx


class Fold(_Blocks):
    """``y[n, c, h, w] = sum of x[n, (c, a, b), l]`` over the blocks l and offsets (a, b) that land on (h, w): columns added back into an image (col2im).

    Args:
        output_size: the image's spatial size ``(H, W)`` (an int or 2 ints).
        kernel_size, dilation (default 1), padding (default 0), stride (default 1): as Unfold.

    Shape:
        ``(N, C*kh*kw, L)`` or ``(C*kh*kw, L)`` → ``(N, C, H, W)``; ``L`` must equal the
        number of blocks Unfold would take from ``(H, W)``.

    Backward:
        dx = Unfold(dy): each column entry reads the gradient of the pixel it was added to.

    What torch hides:
        Fold is the adjoint of Unfold, not its inverse: ``Fold(Unfold(x))`` multiplies each
        pixel by the number of blocks covering it (divide by ``Fold(Unfold(ones))`` to
        invert). Blocks reaching into the padding add there, and that part is cut off.
    """

    def __init__(self, output_size, kernel_size, dilation=1, padding=0, stride=1, dtype=None):
        super().__init__(kernel_size, dilation, padding, stride, dtype)
        self.output_size = pair(output_size, "Fold", "output_size", 1)

    def forward(self, input):
        x, unbatched = self._batched(input, 3)
        k = prod(self.kernel_size)
        nblocks = blocks(self.output_size, *self._args())
        if x.shape[1] % k:
            raise ValueError(f"Fold: the size of dim {1 - unbatched} must be divisible by the "
                             f"product of kernel_size={self.kernel_size}, got shape "
                             f"{tuple(x.shape[unbatched:])}")
        if x.shape[2] != prod(nblocks) or min(nblocks) < 1:
            raise ValueError(f"Fold: expected the last dim to be the {nblocks[0]} * {nblocks[1]} "
                             f"blocks of output_size={self.output_size}, got shape "
                             f"{tuple(x.shape[unbatched:])}")
        return self._finish(x, fold(x, self.output_size, *self._args()), unbatched)

    def backward(self, grad_output):
        c, g = self._grad(grad_output)
        dx = unfold(g, *self._args())
        return dx[0] if c.unbatched else dx

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}, " + super().extra_repr()
