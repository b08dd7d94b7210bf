"""Conv1d, Conv2d and Conv3d: a strided view of the input and one matrix product per pass.

The maths lives in the pure functions :func:`conv_forward` / :func:`conv_backward`
(built on ``npimpl._im2col``, and for most depthwise convolutions on ``npimpl._depthwise``:
see :func:`is_depthwise`); the classes hold parameters and check shapes.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np

from . import _checks
from . import _depthwise as dwc
from . import _im2col as im
from .module import Module, Parameter
from .random import generator


class ConvCache(NamedTuple):
    cols: np.ndarray | None  # (N, G, C_in/G * prod(K), prod(O)): the windows of the padded input
    in_shape: tuple          # (N, C_in, *S): the unpadded input's shape
    pads: tuple              # ((lo, hi), ...) per spatial dim
    rows: dwc.Rows | None = None  # the depthwise path's blocked input rows, instead of cols
    bias: bool = False       # the depthwise path: whether there is a db to return


def is_depthwise(x_shape, w_shape, stride, groups) -> bool:
    """Whether Conv takes the depthwise path (``npimpl._depthwise``, which says why and what
    it measured): one input channel per group and more than one group (``groups == 1``
    keeps the GEMM path untouched), and where it measured faster: a channel multiplier
    ``M`` with ``3*M <= prod(K)`` (the band's cost grows with ``M``, im2col's columns are
    shared by the ``M`` outputs; 1x1 and 1x2 kernels never), and in 1-D a column matrix
    of at least 2^18 elements (below it im2col's fewer NumPy calls win: 0.12 against 0.20
    ms for Conv1d(16, 16, 3, groups=16) on 4x16x64). At a stride other than 1 only the
    input gradient takes it (``_depthwise.depthwise_input_grad``): the forward's tall-image
    rows need stride 1 along the height."""
    if groups == 1 or w_shape[1] != 1 or len(w_shape) > 4:    # the band is 1-D or 2-D
        return False
    k = math.prod(w_shape[2:])
    return 3 * (w_shape[0] // groups) <= k and (len(w_shape) == 4
                                                or math.prod(x_shape) * k >= 2 ** 18)


def conv_forward(x, w, b, stride, pads, dilation, groups, padding_mode="zeros"):
    """``y = conv(pad(x), w) + b``; returns ``(y, cache)``. ``x`` ``(N, C_in, *S)``."""
    if is_depthwise(x.shape, w.shape, stride, groups) and all(st == 1 for st in stride) \
            and np.isfinite(x).all():
        # banded matmuls, no column matrix (their zeros would turn an inf of x into NaN)
        y, rows = dwc.depthwise_forward(x, w, b, pads, dilation, padding_mode)
        return y, ConvCache(None, x.shape, tuple(pads), rows, b is not None)
    xp = im.pad(x, pads, padding_mode)                          # (N, C_in, *S_padded)
    y, cols = im.conv_valid(xp, w, stride, dilation, groups, b)  # (N, C_out, *O)
    return y, ConvCache(cols, x.shape, tuple(pads))


def conv_backward(dy, w, cache: ConvCache, stride, dilation, groups, padding_mode="zeros"):
    """Return ``(dx, dW, db)`` for ``y = conv(pad(x), w) + b`` (``db`` None without a bias).

    dx is the transposed convolution of ``dy`` (``im.conv_transpose``: ConvTranspose2d's
    forward kernel; for stride 1 and one group its gather form ``im.input_grad_rows``),
    dW is ``dy`` times the forward's columns, and db, the sum of ``dy`` over batch and
    space, comes out of the same matmul (the columns' row of ones). A depthwise cache
    (``cache.rows``) goes to ``_depthwise.depthwise_backward``.

    In detail: dx = conv_transpose(dy, W), the adjoint of the forward, is itself a
    convolution: ``dy`` dilated by the stride, padded by ``dilation*(k-1)``, convolved
    (stride 1) with the kernel flipped in space and transposed ``(C_out, C_in) -> (C_in,
    C_out)`` per group (``_im2col.conv_transpose_as_conv``, the forward's ``conv_valid``
    reused; the tests check it). With stride 1, one group and no dilation along the last axis
    it is computed in exactly that gather form, channels-last and without copying windows
    (``_im2col.input_grad_rows``: one batched matmul reads the rows of ``dy`` in place);
    otherwise in its scatter form ``col2im`` (per kernel offset one matmul ``W[:, :, k]^T dy``
    added at its offset, the same kernel as ConvTranspose2d's forward, which never multiplies
    the zeros a stride inserts); then the padding's gradient (reflect / replicate / circular
    send a padded position's gradient back to its source). dW is computed as ``dW^T = cols @
    dy^T``: the orientation OpenBLAS runs fastest here; db comes out of the same matmul, the
    columns carrying a row of ones for the bias. Depthwise (``groups == C_in > 1``, see
    :func:`is_depthwise`): at stride 1 the same formulas without the columns
    (``_depthwise``): dx is the gather form above, each channel's ``dy`` correlated with its
    own flipped kernels and the multiplier summed; dW = the forward's input rows^T dy, per
    channel; db = the sum of dy. At a larger stride dx alone takes that gather, on ``dy``
    dilated by the stride.
    """
    if cache.rows is not None:
        return dwc.depthwise_backward(dy, w, cache.rows, cache.in_shape, cache.pads, dilation,
                                      padding_mode, cache.bias)
    n, c_in, *sizes = cache.in_shape
    kernel = w.shape[2:]
    dw, db = im.conv_weight_grad(dy, cache.cols, w.shape)      # (C_out, C_in/G, *K), (C_out,)
    if groups == 1 and all(st == 1 for st in stride) and dilation[-1] == 1:
        # the gather form, channels-last, without copying windows (im.input_grad_rows)
        dx = im.on_input(lambda start, size: im.input_grad_rows(dy, w, dilation, start, size),
                         sizes, cache.pads, padding_mode)
        return dx, dw, db
    if is_depthwise(cache.in_shape, w.shape, stride, groups):  # strided depthwise: a band gather
        return (dwc.depthwise_input_grad(dy, w, cache.in_shape, cache.pads, stride, dilation,
                                         padding_mode), dw, db)
    # The transposed convolution rebuilds the padded input up to the last row/col a window
    # reached; the rows past it get zero gradient (``extra``); under zero padding the pad
    # itself is cut off (``-lo``, ``-hi``).
    extra = [s + lo + hi - ((o - 1) * st + d * (k - 1) + 1)
             for s, (lo, hi), o, st, d, k in zip(sizes, cache.pads, dy.shape[2:], stride,
                                                 dilation, kernel)]
    if padding_mode == "zeros":
        crop = [(-lo, e - hi) for (lo, hi), e in zip(cache.pads, extra)]
        dx = im.conv_transpose(dy, w, stride, dilation, groups, crop)
    else:
        dxp = im.conv_transpose(dy, w, stride, dilation, groups, [(0, e) for e in extra])
        dx = im.unpad_grad(dxp, cache.pads, padding_mode, sizes)
    return dx, dw, db


def ntuple(v, n: int, owner: str, name: str, one: bool = False) -> tuple:
    """``3 -> (3, 3)``; a tuple must have ``n`` ints, or with ``one`` also a single one
    (``(3,) -> (3, 3)``): torch's C++ kernels broadcast a 1-element list for stride, padding
    and dilation (``expand_param_if_needed``, the pooling kernels' ``size() == 1`` branch),
    but its Python layers never do for ``kernel_size``, whose length shapes the weight."""
    t = tuple(v) if isinstance(v, (tuple, list)) else (v,) * n
    if one and len(t) == 1:
        t = t * n
    if len(t) != n or not all(isinstance(i, (int, np.integer)) for i in t):
        either = f"an int, a tuple of one int or of {n}" if one and n > 1 else f"an int or a tuple of {n}"
        raise ValueError(f"{owner}: {name} must be {either} ints, got {v!r}")
    return tuple(int(i) for i in t)


class _ConvNd(Module):
    """Shared by Conv1d/2d/3d and ConvTranspose1d/2d/3d: argument checks, parameters, init."""

    _nd = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                 bias, padding_mode, output_padding=0, dtype=np.float32):
        super().__init__()
        name, nd = type(self).__name__, self._nd
        if not isinstance(groups, (int, np.integer)) or groups <= 0:
            raise ValueError(f"{name}: groups must be a positive integer, got {groups!r}")
        for what, c in (("in_channels", in_channels), ("out_channels", out_channels)):
            if not isinstance(c, (int, np.integer)) or c <= 0 or c % groups:
                raise ValueError(f"{name}: {what} must be a positive int divisible by groups="
                                 f"{groups}, got {c!r}")
        self.in_channels, self.out_channels, self.groups = int(in_channels), int(out_channels), int(groups)
        self.kernel_size = ntuple(kernel_size, nd, name, "kernel_size")
        self.stride = ntuple(stride, nd, name, "stride", one=True)
        self.dilation = ntuple(dilation, nd, name, "dilation", one=True)
        self.output_padding = ntuple(output_padding, nd, name, "output_padding", one=True)
        for what, t, lo in (("kernel_size", self.kernel_size, 1), ("stride", self.stride, 1),
                            ("dilation", self.dilation, 1)):
            if min(t) < lo:
                raise ValueError(f"{name}: {what} must be positive, got {t}")
        self.padding_mode = _checks.option(padding_mode, ("zeros", "reflect", "replicate", "circular"),
                                           name, "padding_mode")
        if isinstance(padding, str):
            _checks.option(padding, ("valid", "same"), name, "padding")
            if padding == "same" and self.stride != (1,) * nd:
                raise ValueError(f"{name}: padding='same' is not supported for strided "
                                 f"convolutions, got stride={self.stride}")
            if padding == "same" and padding_mode != "zeros" and nd > 1 and \
                    isinstance(dilation, (tuple, list)) and len(dilation) == 1:
                # torch pads zip(dilation, kernel_size) dims for F.pad: only the first one
                raise ValueError(f"{name}: padding='same' with padding_mode={padding_mode!r} "
                                 f"needs dilation as an int or {nd} ints (torch pads only the "
                                 f"first dim for a 1-tuple), got dilation={dilation!r}")
            self.padding = padding
            # 'same': total d*(k-1), the odd one on the right (torch's _reversed_padding_repeated_twice)
            total = [d * (k - 1) if padding == "same" else 0
                     for d, k in zip(self.dilation, self.kernel_size)]
            self._pads = tuple((t // 2, t - t // 2) for t in total)
        else:
            if padding_mode != "zeros" and nd > 1 and isinstance(padding, (tuple, list)) \
                    and len(padding) == 1:
                # only the C++ zero padding broadcasts it; F.pad gets a 2-element list
                raise ValueError(f"{name}: padding_mode={padding_mode!r} needs padding as an int "
                                 f"or {nd} ints (torch's F.pad refuses a 1-tuple), got {padding!r}")
            self.padding = ntuple(padding, nd, name, "padding", one=True)
            if min(self.padding) < 0:
                raise ValueError(f"{name}: padding must be non-negative, got {self.padding}")
            self._pads = tuple((p, p) for p in self.padding)
        dt = self._dtype(dtype)
        c_a, c_b = (in_channels, out_channels) if self._transposed else (out_channels, in_channels)
        self.weight = Parameter(np.empty((c_a, c_b // groups, *self.kernel_size), dtype=dt))
        self.bias = Parameter(np.empty(out_channels, dtype=dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        """``U(-1/sqrt(fan_in), 1/sqrt(fan_in))`` for weight and bias, ``fan_in = weight.shape[1]
        * prod(kernel_size)``: torch's ``kaiming_uniform_(a=sqrt(5))`` gives exactly this bound."""
        rng = generator(rng)
        fan_in = self.weight.shape[1] * math.prod(self.kernel_size)
        bound = 1.0 / math.sqrt(fan_in)          # fan_in >= 1: __init__ refuses empty dims
        self.weight.data[...] = rng.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = rng.uniform(-bound, bound, self.bias.shape)

    def _batched(self, input, channels: int):
        """Validate ``(N, C, *S)`` or unbatched ``(C, *S)``; return the batched view and a flag."""
        name, nd = type(self).__name__, self._nd
        x = self._input(input, dtype=self.weight.dtype)
        _checks.ndim(x, (nd + 1, nd + 2), name)
        unbatched = x.ndim == nd + 1
        x = x[None] if unbatched else x
        if x.shape[1] != channels:
            raise ValueError(f"{name}: expected input with {channels} channels in dim "
                             f"{0 if unbatched else 1}, got shape {input.shape}")
        return x, unbatched

    def _grad(self, grad_output, expected_shape, unbatched):
        # any float dtype, cast to the module's: torch's autograd casts a gradient to the dtype
        # of the output it belongs to (a float32 grad_output on a float64 layer: float64 dx)
        g = self._input(grad_output, "grad_output").astype(self.weight.dtype, copy=False)
        want = expected_shape[1:] if unbatched else expected_shape
        if g.shape != tuple(want):
            raise ValueError(f"{type(self).__name__}: grad_output must have shape {tuple(want)}, "
                             f"got {g.shape}")
        return g[None] if unbatched else g

    def extra_repr(self) -> str:
        return (f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, "
                f"stride={self.stride}, padding={self.padding}, dilation={self.dilation}, "
                f"groups={self.groups}, bias={self.bias is not None}, "
                f"padding_mode={self.padding_mode!r}")


class _Conv(_ConvNd):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1,
                 groups=1, bias=True, padding_mode="zeros", device=None, dtype=np.float32):
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups,
                         bias, padding_mode, dtype=dtype)

    def forward(self, input):
        x, unbatched = self._batched(input, self.in_channels)
        name = type(self).__name__
        for s, (lo, hi), d, k in zip(x.shape[2:], self._pads, self.dilation, self.kernel_size):
            if s + lo + hi < d * (k - 1) + 1:
                raise ValueError(f"{name}: input spatial size {x.shape[2:]} (padded by "
                                 f"{self._pads}) is smaller than the dilated kernel "
                                 f"{tuple(d * (k - 1) + 1 for d, k in zip(self.dilation, self.kernel_size))}"
                                 f" (expected at least its size in every dim)")
            # replicate repeats the edge as often as needed: torch sets it no limit
            if self.padding_mode in ("reflect", "circular") and \
                    max(lo, hi) > (s - 1 if self.padding_mode == "reflect" else s):
                raise ValueError(f"{name}: padding {self._pads} is too large for "
                                 f"padding_mode={self.padding_mode!r} and input size {x.shape[2:]}")
        b = self.bias.data if self.bias is not None else None
        y, cache = conv_forward(x, self.weight.data, b, self.stride, self._pads, self.dilation,
                                self.groups, self.padding_mode)
        self._cache = (cache, y.shape, unbatched)
        return y[0] if unbatched else y

    def backward(self, grad_output):
        cache, y_shape, unbatched = self._saved()
        dy = self._grad(grad_output, y_shape, unbatched)
        dx, dw, db = conv_backward(dy, self.weight.data, cache, self.stride, self.dilation,
                                   self.groups, self.padding_mode)
        self.weight.accumulate(dw)
        if db is not None:
            self.bias.accumulate(db)
        return dx[0] if unbatched else dx


_DOC = r"""Cross-correlates a learned kernel over the input: ``y[n,o] = b[o] + sum_c W[o,c] ⋆ x[n,c]``.

    Args:
        in_channels, out_channels: channels of input and output (both divisible by ``groups``).
        kernel_size: int or tuple of {nd} int(s).
        stride, dilation: int or tuple of {nd} int(s) (or of one, which torch broadcasts).
        padding: int, tuple, ``'valid'`` (none) or ``'same'`` (output size = input size; needs
            stride 1; the total ``dilation*(kernel_size-1)`` is split with the extra element
            on the right/bottom, as torch does for an even kernel).
        groups: input and output channels split into ``groups`` independent convolutions
            (``groups == in_channels`` is a depthwise convolution).
        bias: learn an additive per-channel bias.
        padding_mode: ``'zeros'``, ``'reflect'``, ``'replicate'`` or ``'circular'``.
        dtype: NumPy float dtype of the parameters (default ``np.float32``).

    Shape:
        input ``(N, C_in, {S})`` or unbatched ``(C_in, {S})`` → output ``(N, C_out, {O})`` with
        ``{O1} = ({S1} + pad_lo + pad_hi - dilation*(kernel_size-1) - 1) // stride + 1`` per dim.

    Attributes:
        weight: ``(C_out, C_in/groups, {K})``; bias: ``(C_out,)``; both ``U(-1/sqrt(fan_in),
        1/sqrt(fan_in))`` with ``fan_in = C_in/groups * prod(kernel_size)``.

    Maths:
        y_{{n,o,p}} = b_o + \sum_{{c}} \sum_{{k}} W_{{o,c,k}}\, \tilde x_{{n,c,\,p s + k d}}

    Derivation:
        $\tilde x$ is the padded input, $s$ the stride, $d$ the dilation, $p$ and $k$ run over
        output positions and kernel offsets ({nd}-D), $c$ over the input channels of output
        channel $o$'s group; $\bar v = \partial L / \partial v$.
        1. $y$ is linear in $W$: $\partial y_{{n,o,p}} / \partial W_{{o,c,k}} = \tilde x_{{n,c,ps+kd}}$,
           so $\bar W_{{o,c,k}} = \sum_{{n,p}} \bar y_{{n,o,p}}\, \tilde x_{{n,c,ps+kd}}$: the
           forward's columns (im2col) times $\bar y$, one matmul (``conv_weight_grad()``); and
           $\bar b_o = \sum_{{n,p}} \bar y_{{n,o,p}}$.
        2. $y$ is linear in $\tilde x$: the input position $q$ collects every (output, offset)
           pair that read it, $\bar{{\tilde x}}_{{n,c,q}} = \sum_o \sum_{{p,k:\; ps + kd = q}}
           \bar y_{{n,o,p}} W_{{o,c,k}}$.
        3. For $s = d = 1$ the pairs are $k = q - p$: $\bar{{\tilde x}}_{{n,c,q}} = \sum_o \sum_p
           \bar y_{{n,o,p}} W_{{o,c,q-p}}$, the *full* correlation of $\bar y$ with the kernel
           flipped in space and its channel axes swapped; a stride $s$ puts $s - 1$ zeros
           between the entries of $\bar y$ first. This is the transposed convolution
           (ConvTranspose's forward).
        4. The padding's positions are cut off (zeros) or sent back to the positions they
           copied (reflect, replicate, circular), ``conv_backward()``:
           $$\bar x = \mathrm{{unpad}}\left(\bar y^{{\uparrow s}} \star \mathrm{{flip}}(W)^\top\right),
           \quad \bar W = \bar y\, \mathrm{{cols}}(\tilde x)^\top, \quad
           \bar b = \textstyle\sum_{{n,p}} \bar y$$

    Backward:
        dx = the full correlation of dy (zeros inserted for the stride) with the kernel
        flipped in space and transposed (C_out, C_in) -> (C_in, C_out) per group: the
        transposed convolution, then the padding's gradient sent back (or cut off);
        dW[o, c, k] = sum_{{n,p}} dy[n, o, p] * x_pad[n, c, p*stride + k*dilation];
        db = sum of dy over batch and space. How the code computes each (gather and scatter
        forms, depthwise bands, the matmul's orientation): ``conv_backward``'s docstring.

    What torch hides:
        torch's "convolution" is a cross-correlation (no kernel flip) and its CPU kernel
        (oneDNN or im2col+GEMM, chosen at run time) never shows the im2col matrix; here a
        strided view of the input (``as_strided``: no copy) is copied once into columns
        ``(N, G, C_in/G * prod(K), prod(O))`` and one batched ``matmul`` with the weight
        reshaped to ``(G, C_out/G, C_in/G * prod(K))`` yields ``(N, C_out, *O)`` directly in
        NCHW (the bias is one more weight column, against a row of ones in the columns). A
        1-D or 2-D depthwise convolution (one input channel per group, stride 1, a
        multiplier of at most ``prod(K)/3``) skips the columns, which would be ``prod(K)`` copies of the
        input for one multiply-add per copied element: each channel's batch is one tall
        image whose rows a banded (Toeplitz) matrix of the kernel multiplies, in blocks of
        16 output columns (``_depthwise``; its speed-up is measured in ``reports/bench.md``). A non-zero
        ``padding_mode`` is an explicit ``F.pad`` before a zero-padding convolution, and
        ``'same'`` with an even kernel pads one more on the high side.
    """


class Conv1d(_Conv):
    _nd = 1
    __doc__ = _DOC.format(nd=1, S="L", O="L_out", K="k", S1="L", O1="L_out")


class Conv2d(_Conv):
    _nd = 2
    __doc__ = _DOC.format(nd=2, S="H, W", O="H_out, W_out", K="kh, kw", S1="H", O1="H_out")


class Conv3d(_Conv):
    _nd = 3
    __doc__ = _DOC.format(nd=3, S="D, H, W", O="D_out, H_out, W_out", K="kd, kh, kw", S1="D",
                          O1="D_out")
