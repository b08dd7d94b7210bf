"""ConvTranspose1d/2d/3d: the input-gradient of a Conv, used as a layer (an "upsampling conv")."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _im2col as im
from .conv import _ConvNd


class ConvTransposeCache(NamedTuple):
    x: np.ndarray           # (N, C_in, *S): the input, which is dy of the adjoint conv
    out_shape: tuple        # (N, C_out, *O)


def conv_transpose_forward(x, w, b, stride, padding, output_padding, dilation, groups):
    """``y = conv_transpose(x, w) + b``; ``w`` ``(C_in, C_out/G, *K)``; returns ``(y, cache)``.

    ``w`` is the weight of the convolution ``C_out -> C_in`` whose input-gradient this is,
    so the forward is :func:`npimpl._im2col.conv_transpose` (a scatter: ``W^T x`` then an
    overlap-add) cropped by ``p`` on both sides, with ``output_padding`` added at the end.
    """
    pads = [(-p, op - p) for p, op in zip(padding, output_padding)]
    y = im.conv_transpose(x, w, stride, dilation, groups, pads)      # (N, C_out, *O)
    if b is not None:
        y += b.reshape(-1, *(1,) * (y.ndim - 2))
    return y, ConvTransposeCache(x, y.shape)


def conv_transpose_backward(dy, w, cache: ConvTransposeCache, stride, padding, output_padding,
                            dilation, groups, has_bias=True):
    """Return ``(dx, dW, db)``: the adjoint of a transposed conv is the convolution itself.

    ``dx = conv(pad(dy), w)`` (stride, dilation, groups as given) and the columns of that
    very convolution give ``dW = x ⋅ cols`` (``x`` plays the role of the conv's ``dy``).
    """
    # pad by p, but cut output_padding from the end: those rows were never reached by x
    pads = [(p, p - op) for p, op in zip(padding, output_padding)]
    dx, cols = im.conv_valid(im.pad_or_crop(dy, pads), w, stride, dilation, groups)  # (N, C_in, *S)
    dw = im.conv_weight_grad(cache.x, cols, w.shape)[0]            # (C_in, C_out/G, *K)
    db = dy.sum(axis=(0, *range(2, dy.ndim))) if has_bias else None
    return dx, dw, db


_DOC = """``y = conv{nd}d^T(x, W) + b``: the input-gradient of ``Conv{nd}d(C_out, C_in)`` applied to ``x``.

    Args:
        in_channels, out_channels, kernel_size, stride, dilation, groups, bias: as Conv{nd}d.
        padding: ``dilation*(kernel_size-1) - padding`` zeros are effectively added around the
            stride-dilated input; i.e. ``padding`` rows are removed from each side of the output.
        output_padding: extra rows/cols at the high end of each output axis (must be smaller
            than stride or dilation); selects among the input sizes a strided Conv{nd}d maps
            to the same output size.
        stride, padding, dilation, output_padding: int or tuple of {nd} (or of one, which torch
            broadcasts); kernel_size: int or tuple of {nd}.
        padding_mode: only ``'zeros'`` (as torch).
        dtype: NumPy float dtype of the parameters (default ``np.float32``).

    Shape:
        input ``(N, C_in, {S})`` or ``(C_in, {S})`` → ``(N, C_out, {O})`` with
        ``{O1} = ({S1}-1)*stride - 2*padding + dilation*(k-1) + output_padding + 1``.
        ``forward(input, output_size=None)``: ``output_size`` (the {nd} spatial sizes, or
        with the batch and channel dims in front) picks ``output_padding`` instead.

    Attributes:
        weight: ``(C_in, C_out/groups, {K})`` — note: in-channels first, the layout of
        the Conv{nd}d it transposes; bias ``(C_out,)``; both ``U(-1/sqrt(fan_in),
        1/sqrt(fan_in))`` with ``fan_in = C_out/groups * prod(kernel_size)`` (torch's fan_in
        of this weight, i.e. its dim 1).

    Backward:
        dx = conv{nd}d(dy, W) with the same stride/padding/dilation/groups — the backward of a
        transposed conv is an ordinary conv, computed by the same ``conv_valid`` routine;
        dW[c, o, k] = sum_{{n,p}} x[n, c, p] * dy_pad[n, o, p*stride + k*dilation] (the columns
        of that conv); db = sum of dy over batch and space.

    What torch hides:
        the weight is stored ``(in, out/groups, {K})``, the transpose of Conv{nd}d's layout,
        because it *is* the weight of the Conv{nd}d whose input-gradient this layer computes;
        the forward is a scatter (each input pixel adds a weighted kernel to the output),
        equal to a stride-1 convolution of the zero-dilated input with the flipped kernel,
        but computed as the scatter (no multiplications by the inserted zeros);
        output_padding only adds rows the scatter never reaches (they get the bias only).
        ``output_size`` is checked against ``[min, min + stride - 1]`` per axis in Python,
        before the kernel's own check, so it can never ask for an ``output_padding`` of
        ``stride`` or more.
    """


class _ConvTransposeNd(_ConvNd):
    """Shared by ConvTranspose1d/2d/3d (``_nd`` spatial dims)."""

    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 output_padding=0, groups=1, bias=True, dilation=1, padding_mode="zeros",
                 device=None, dtype=np.float32):
        name = type(self).__name__
        if padding_mode != "zeros":
            raise ValueError(f"{name}: only 'zeros' padding mode is supported, got "
                             f"{padding_mode!r}")
        if isinstance(padding, str):
            raise ValueError(f"{name}: padding must be an int or a tuple of {self._nd} ints, got "
                             f"{padding!r}")
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation,
                         groups, bias, padding_mode, output_padding, dtype=dtype)
        for op, s, d in zip(self.output_padding, self.stride, self.dilation):
            if op < 0 or op >= max(s, d):
                raise ValueError(f"{name}: output_padding {self.output_padding} must be "
                                 f"non-negative and smaller than either stride {self.stride} or "
                                 f"dilation {self.dilation}")

    def _min_sizes(self, sizes):
        return [(h - 1) * s - 2 * p + d * (k - 1) + 1 for h, s, p, d, k in
                zip(sizes, self.stride, self.padding, self.dilation, self.kernel_size)]

    def _output_padding(self, sizes, output_size, unbatched):
        if output_size is None:
            return self.output_padding
        name, nd = type(self).__name__, self._nd
        lead = 1 if unbatched else 2                # torch: the input's non-spatial dims
        out = tuple(output_size)
        out = out[lead:] if len(out) == nd + lead else out
        if len(out) != nd or not all(isinstance(o, (int, np.integer)) for o in out):
            raise ValueError(f"{name}: for {nd + lead}-D input, output_size must have {nd} or "
                             f"{nd + lead} ints, got {output_size!r}")
        lo = self._min_sizes(sizes)
        hi = [m + s - 1 for m, s in zip(lo, self.stride)]
        if any(not a <= o <= b for o, a, b in zip(out, lo, hi)):
            raise ValueError(f"{name}: requested an output size of {list(out)}, but valid sizes "
                             f"range from {lo} to {hi} (for an input of {list(sizes)}): "
                             f"expected one in that range")
        return tuple(o - a for o, a in zip(out, lo))

    def forward(self, input, output_size=None):
        x, unbatched = self._batched(input, self.in_channels)
        op = self._output_padding(x.shape[2:], output_size, unbatched)
        if any(m + o <= 0 for m, o in zip(self._min_sizes(x.shape[2:]), op)):
            raise ValueError(f"{type(self).__name__}: input of spatial size {x.shape[2:]} gives a "
                             f"non-positive output size (expected every size >= 1)")
        b = self.bias.data if self.bias is not None else None
        y, cache = conv_transpose_forward(x, self.weight.data, b, self.stride, self.padding, op,
                                          self.dilation, self.groups)
        self._cache = (cache, op, unbatched)
        return y[0] if unbatched else y

    def backward(self, grad_output):
        cache, op, unbatched = self._saved()
        dy = self._grad(grad_output, cache.out_shape, unbatched)
        dx, dw, db = conv_transpose_backward(dy, self.weight.data, cache, self.stride,
                                             self.padding, op, self.dilation, self.groups,
                                             self.bias is not None)
        self.weight.accumulate(dw)
        if db is not None:
            self.bias.accumulate(db)
        return dx[0] if unbatched else dx

    def extra_repr(self) -> str:
        return super().extra_repr() + f", output_padding={self.output_padding}"


class ConvTranspose1d(_ConvTransposeNd):
    _nd = 1
    __doc__ = _DOC.format(nd=1, S="L", O="L_out", K="k", S1="L", O1="L_out")


class ConvTranspose2d(_ConvTransposeNd):
    _nd = 2
    __doc__ = _DOC.format(nd=2, S="H, W", O="H_out, W_out", K="kh, kw", S1="H", O1="H_out")


class ConvTranspose3d(_ConvTransposeNd):
    _nd = 3
    __doc__ = _DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out", K="kd, kh, kw", S1="D",
                          O1="D_out")
