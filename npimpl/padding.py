"""Padding layers: zero, constant, reflection, replication and circular, in 1, 2 and 3 dims.

All fifteen classes share one pure core. Along each padded axis, output position ``j``
copies input position ``src[j]`` (:func:`source_index`, one rule per mode; -1 for the
constant fill), so the forward is one gather per axis (:func:`pad_forward`) and the
backward is its adjoint, one scatter-add per axis (:func:`pad_backward`): the interior
is a plain copy, the border's gradients are added into the pixels they were copied from.
Negative padding crops, in every mode, by torch's rules (which differ: see
:func:`source_index`). Convolution's ``padding_mode`` keeps its own ``np.pad`` helper
(``_im2col.pad``): its pads are never negative.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ._layout import LayoutModule

MODES = ("constant", "reflect", "replicate", "circular")


def axis_pads(padding) -> list:
    """torch's ``(left, right, top, bottom, front, back)`` (last dim first) as
    ``[(lo, hi), ...]`` per padded axis, first axis first."""
    return [(padding[2 * i], padding[2 * i + 1]) for i in reversed(range(len(padding) // 2))]


def core(size: int, lo: int, hi: int) -> tuple:
    """``(out_start, in_start, n)``: the ``n`` outputs from ``out_start`` on are the inputs
    from ``in_start`` on, unchanged (what is left of the axis after the negative sides crop)."""
    return max(lo, 0), max(-lo, 0), max(size + min(lo, 0) + min(hi, 0), 0)


def source_index(size: int, lo: int, hi: int, mode: str) -> np.ndarray:
    """For each output position of one axis padded by ``(lo, hi)``, the input position it
    copies (-1: the constant fill). With ``p = j - lo``, the position in input coordinates:

    * constant: ``p`` inside ``[0, size)``, else -1;
    * replicate: ``clamp(p, 0, size - 1)``;
    * reflect: ``|p|``, and ``2(size-1) - p`` past the end (one reflection suffices, since
      each side pads less than ``size``);
    * circular: torch crops first and wraps what is left: ``start + (j - max(lo, 0)) mod n``
      over the ``n`` kept inputs from ``start = max(-lo, 0)`` (the other modes index the
      uncropped input).
    """
    if mode == "circular":
        out0, start, n = core(size, lo, hi)
        j = np.arange(size + lo + hi)
        return start + (j - out0) % max(n, 1)
    p = np.arange(size + lo + hi) - lo
    if mode == "constant":
        return np.where((p >= 0) & (p < size), p, -1)
    if mode == "replicate":
        return np.clip(p, 0, size - 1)
    p = np.abs(p)                                   # reflect
    return np.where(p >= size, 2 * (size - 1) - p, p)


def pad_forward(x: np.ndarray, pads, mode: str, value: float = 0.0) -> np.ndarray:
    """Pad the last ``len(pads)`` dims of ``x`` by ``pads = [(lo, hi), ...]``."""
    lead = x.ndim - len(pads)
    if mode == "constant":       # a frame of ``value`` around the (cropped) input
        cores = [core(s, lo, hi) for s, (lo, hi) in zip(x.shape[lead:], pads)]
        y = np.full(x.shape[:lead] + tuple(s + lo + hi for s, (lo, hi) in
                                           zip(x.shape[lead:], pads)), value, x.dtype)
        y[(Ellipsis,) + tuple(slice(o, o + n) for o, _, n in cores)] = \
            x[(Ellipsis,) + tuple(slice(i, i + n) for _, i, n in cores)]
        return y
    y = x
    for ax, (lo, hi) in enumerate(pads, start=lead):   # one gather per axis
        y = np.take(y, source_index(x.shape[ax], lo, hi, mode), axis=ax)
    return y


def pad_backward(dy: np.ndarray, pads, mode: str, sizes) -> np.ndarray:
    """The adjoint of :func:`pad_forward`: ``dx[i] = sum of dy[j] over src[j] = i``, one axis
    at a time; ``sizes`` are the input's sizes of the padded dims."""
    g = dy
    for ax, (lo, hi), size in zip(range(dy.ndim - len(pads), dy.ndim), pads, sizes):
        src = source_index(size, lo, hi, mode)
        o, i, n = core(size, lo, hi)
        gm = np.moveaxis(g, ax, 0)                               # (S_out, ...)
        dx = np.zeros((size,) + gm.shape[1:], dy.dtype)          # (S, ...)
        dx[i:i + n] = gm[o:o + n]                                # the interior: a copy
        j = np.arange(src.size)
        border = j[((j < o) | (j >= o + n)) & (src >= 0)]        # the constant fill has none
        np.add.at(dx, src[border], gm[border])                   # the copies, added back
        g = np.moveaxis(dx, 0, ax)
    return np.ascontiguousarray(g)


def check_pads(sizes, pads, mode: str, owner: str) -> None:
    """torch's limits per mode (ValueError where torch raises RuntimeError; reflect and
    replicate may empty one dim in 2-D and 3-D, not all, and none in 1-D, as torch's
    kernels), and
    circular's one more: a pad may not exceed what is left after the opposite side's crop (torch then
    fails on overlapping memory or, with nothing left, returns uninitialised values)."""
    for s, (lo, hi) in zip(sizes, pads):
        n, out = s + min(lo, 0) + min(hi, 0), s + lo + hi
        if mode == "reflect" and not (lo < s and hi < s):
            raise ValueError(f"{owner}: padding {(lo, hi)} must be smaller than the size {s} of "
                             f"the dim it reflects, got input spatial size {tuple(sizes)}")
        if mode == "circular" and (max(lo, 0) > n or max(hi, 0) > n or out < 0):
            raise ValueError(f"{owner}: padding {(lo, hi)} must not wrap around more than once: "
                             f"each pad at most the {max(n, 0)} elements left of size {s} "
                             f"after the crops, got input spatial size {tuple(sizes)}")
        if mode == "constant" and n < 0:
            raise ValueError(f"{owner}: negative padding {(lo, hi)} must crop at most the size "
                             f"{s}, got input spatial size {tuple(sizes)}")
        least = 1 if len(pads) == 1 else 0    # torch's 1-D kernels refuse an empty output
        if mode in ("reflect", "replicate") and out < least:
            raise ValueError(f"{owner}: padding {(lo, hi)} of size {s} would give an output "
                             f"size {out}; expected at least {least}")
    outs = [s + lo + hi for s, (lo, hi) in zip(sizes, pads)]
    if mode in ("reflect", "replicate") and max(outs) < 1:
        raise ValueError(f"{owner}: padding {pads} of input spatial size {tuple(sizes)} would "
                         f"give the output size {tuple(outs)}; expected one size >= 1")


def parse_padding(padding, nd: int, owner: str) -> tuple:
    """An int (every side) or a tuple of ``2*nd`` ints, in torch's order (last dim first)."""
    t = tuple(padding) if isinstance(padding, (tuple, list)) else (padding,) * (2 * nd)
    if len(t) != 2 * nd or not all(isinstance(p, (int, np.integer))
                                   and not isinstance(p, (bool, np.bool_)) for p in t):
        raise ValueError(f"{owner}: padding must be an int or a tuple of {2 * nd} ints, "
                         f"got {padding!r}")
    return tuple(int(p) for p in t)


class PadCache(NamedTuple):
    in_shape: tuple
    out_shape: tuple
    dtype: np.dtype


class _PadNd(LayoutModule):
    """Argument parsing, rank checks and the cache; ``_mode`` picks the rule."""

    _nd = 1
    _mode = "constant"

    def __init__(self, padding, dtype=None):
        super().__init__(dtype)
        self.padding = parse_padding(padding, self._nd, type(self).__name__)

    def _fill(self) -> float:
        return 0.0

    def forward(self, input):
        name, nd = type(self).__name__, self._nd
        if self._mode == "constant":   # F.pad's constant mode pads the last dims of any rank
            x = self._x(input)
            if x.ndim < nd:
                raise ValueError(f"{name}: input must have at least {nd} dim(s) (the padded "
                                 f"ones), got {x.ndim}-D with shape {x.shape}")
        else:
            x = self._x(input, (nd + 1, nd + 2))
            body = x.shape[x.ndim - nd - 1:]                     # (C, *S): all but the batch
            if self._mode != "circular" and min(body) == 0:
                raise ValueError(f"{name}: expected non-empty channels and spatial dims (an "
                                 f"empty batch is fine), got shape {x.shape}")
        pads = axis_pads(self.padding)
        check_pads(x.shape[-nd:], pads, self._mode, name)
        y = pad_forward(x, pads, self._mode, self._fill())
        self._cache = PadCache(x.shape, y.shape, x.dtype)
        return y

    def backward(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape, c.dtype)
        return pad_backward(g, axis_pads(self.padding), self._mode, c.in_shape[-self._nd:])

    def extra_repr(self) -> str:
        return f"{self.padding}"


_ND = {1: dict(S="W", O="W_out", sides="(left, right)", n2=2, out="W_out = W + left + right"),
       2: dict(S="H, W", O="H_out, W_out", sides="(left, right, top, bottom)", n2=4,
               out="H_out = H + top + bottom, W_out = W + left + right"),
       3: dict(S="D, H, W", O="D_out, H_out, W_out", n2=6,
               sides="(left, right, top, bottom, front, back)",
               out="D_out = D + front + back, H_out = ..., W_out = ...")}

_CONSTANT_DOC = """``y[..., j] = x[..., j - left]`` inside, ``{fill}`` in the border, per padded dim ({nd}-D).

    Args:
        padding: an int (every side) or a {n2}-tuple ``{sides}``; a negative entry crops
            that side (at most the whole dim).{value_arg}

    Shape:
        ``(*, {S})`` → ``(*, {O})``, ``{out}``. Any number of leading dims, as torch's
        ``F.pad`` (documented: ``(N, C, {S})`` or ``(C, {S})``).

    Backward:
        dx = dy with the border cut off (zero where the forward cropped): the adjoint of
        embedding x in a constant frame. ``value`` gets no gradient.

    What torch hides:
        a crop is ``narrow``: it may empty a dim (``(-3, -2)`` on 5 elements), never go past it.
        The ``padding`` parser takes a tuple of any length (``ZeroPad2d((1, 2))`` pads only
        the last dim, ``ZeroPad1d((1, 1, 1, 1))`` two dims): npimpl asks for exactly {n2}.
    """

_REFLECT_DOC = """``y[..., j] = x[..., r(j - left)]``, ``r(p) = |p|``, and ``2(S-1) - p`` past the end: the border mirrors the input about its edge pixels ({nd}-D).

    Args:
        padding: an int or a {n2}-tuple ``{sides}``; each side smaller than the dim it
            reflects; a negative entry crops.

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``, ``{out}``; every dim but the
        batch non-empty, every output dim >= 1.

    Backward:
        dx[i] = sum of dy[j] over the outputs j with ``r(j - left) = i``: a pixel near the
        edge receives its own gradient plus its mirror images'; the edge pixel itself is
        never a mirror image.

    What torch hides:
        the mirror stays at the *original* edges when the other side crops: ReflectionPad1d
        with (-1, 2) on [0 1 2 3 4] gives [1 2 3 4 3 2], with (-6, 2) gives [2] (torch's
        kernel indexes the uncropped input). A pad equal to the size would need the edge
        pixel twice, so torch refuses it (a RuntimeError; ValueError here).
    """

_REPLICATE_DOC = """``y[..., j] = x[..., clamp(j - left, 0, S - 1)]``: the edge pixel repeated outward ({nd}-D).

    Args:
        padding: an int or a {n2}-tuple ``{sides}``, of any size; a negative entry crops.

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``, ``{out}``; every dim but the
        batch non-empty, every output dim >= 1.

    Backward:
        dx = dy over the interior, and each edge pixel adds the gradients of all its copies.

    What torch hides:
        the clamp is taken in the uncropped input: a crop past the end of the input
        (ReplicationPad1d((-6, 2)) on 5 elements) still reads the edge pixel, so the output
        is [x[4]] rather than an error.
    """

_CIRCULAR_DOC = """``y[..., j] = xc[..., (j - left) mod S_c]``, ``xc`` the input after the negative sides crop it: the border wraps around ({nd}-D).

    Args:
        padding: an int or a {n2}-tuple ``{sides}``; each pad at most the size (it wraps
            around once at most); a negative entry crops.

    Shape:
        ``(N, C, {S})`` or ``(C, {S})`` → ``(N, C, {O})``, ``{out}``.

    Backward:
        dx[i] = sum of dy[j] over the outputs j that copy input i: the wrapped copies'
        gradients land on the opposite end of the input.

    What torch hides:
        torch crops *first* and wraps what is left: CircularPad1d((-1, 2)) on [0 1 2 3 4]
        gives [1 2 3 4 1 2], where reflect's rule (indexing the uncropped input) would give
        [1 2 3 4 0 1]. A pad larger than what is left after the opposite crop passes torch's
        own check and then fails on overlapping memory, or, when nothing is left
        ((-5, 1) on 5 elements), returns uninitialised memory: npimpl raises ValueError.
        The rank check lives in the module (a ValueError), not in ``F.pad``.
    """


def _doc(template: str, nd: int, **extra) -> str:
    return template.format(nd=nd, **_ND[nd], **extra)


_ZERO = dict(fill="0", value_arg="")
_CONST = dict(fill="value", value_arg="\n        value: the fill value (cast to the input's dtype).")


class ConstantPad1d(_PadNd):
    __doc__ = _doc(_CONSTANT_DOC, 1, **_CONST)
    _nd = 1

    def __init__(self, padding, value, dtype=None):
        super().__init__(padding, dtype)
        if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.number)):
            raise TypeError(f"{type(self).__name__}: value must be a real number, got {value!r}")
        self.value = value

    def _fill(self) -> float:
        return self.value

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad2d(ConstantPad1d):
    __doc__ = _doc(_CONSTANT_DOC, 2, **_CONST)
    _nd = 2


class ConstantPad3d(ConstantPad1d):
    __doc__ = _doc(_CONSTANT_DOC, 3, **_CONST)
    _nd = 3


class ZeroPad1d(ConstantPad1d):
    __doc__ = _doc(_CONSTANT_DOC, 1, **_ZERO)
    _nd = 1

    def __init__(self, padding, dtype=None):
        super().__init__(padding, 0.0, dtype)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ZeroPad2d(ZeroPad1d):
    __doc__ = _doc(_CONSTANT_DOC, 2, **_ZERO)
    _nd = 2


class ZeroPad3d(ZeroPad1d):
    __doc__ = _doc(_CONSTANT_DOC, 3, **_ZERO)
    _nd = 3


class ReflectionPad1d(_PadNd):
    __doc__ = _doc(_REFLECT_DOC, 1)
    _nd, _mode = 1, "reflect"


class ReflectionPad2d(_PadNd):
    __doc__ = _doc(_REFLECT_DOC, 2)
    _nd, _mode = 2, "reflect"


class ReflectionPad3d(_PadNd):
    __doc__ = _doc(_REFLECT_DOC, 3)
    _nd, _mode = 3, "reflect"


class ReplicationPad1d(_PadNd):
    __doc__ = _doc(_REPLICATE_DOC, 1)
    _nd, _mode = 1, "replicate"


class ReplicationPad2d(_PadNd):
    __doc__ = _doc(_REPLICATE_DOC, 2)
    _nd, _mode = 2, "replicate"


class ReplicationPad3d(_PadNd):
    __doc__ = _doc(_REPLICATE_DOC, 3)
    _nd, _mode = 3, "replicate"


class CircularPad1d(_PadNd):
    __doc__ = _doc(_CIRCULAR_DOC, 1)
    _nd, _mode = 1, "circular"


class CircularPad2d(_PadNd):
    __doc__ = _doc(_CIRCULAR_DOC, 2)
    _nd, _mode = 2, "circular"


class CircularPad3d(_PadNd):
    __doc__ = _doc(_CIRCULAR_DOC, 3)
    _nd, _mode = 3, "circular"
