"""Resampling and rearranging cases: Upsample in every mode (size or scale factor, integer,
non-integer and per-dim, align_corners, recompute_scale_factor, up and down), its two
deprecated aliases, PixelShuffle / PixelUnshuffle, ChannelShuffle, Fold and Unfold.

Left out on purpose: a scale factor that leaves a size unchanged (or, for 'nearest', doubles
it) in 1-D / 3-D 'nearest' and bicubic. There torch's backward takes a shortcut its forward
does not, so torch's gradient is not the gradient of its own forward;
``tests/test_upsampling.py`` measures that instead of comparing against it.
"""
from __future__ import annotations

import numpy as np

import numpy as np

import npimpl
from npimpl.interpolate import Taps
from reference import Spec, build

from ..badinput import Entry
from ..engine import Case
from ..gen import args, normal
from ..mutants import layer_mutant

ORDER = 45


def case(name, spec, *shape):
    return Case(name, spec.name, "resample", lambda dt: build(spec, dt), args(normal(*shape)))


def up(name, shape, **kw):
    return case(f"upsample-{name}", Spec("Upsample", **kw), *shape)


CASES = [
    # nearest: OpenCV's floor(j * in/out) with the scale in float32
    up("nearest-1d-x2", (2, 3, 4), scale_factor=2),
    up("nearest-1d-size7", (2, 2, 4), size=7),
    up("nearest-1d-down-0.6", (2, 2, 7), scale_factor=0.6),
    up("nearest-2d-1.7", (2, 2, 3, 4), scale_factor=1.7),
    up("nearest-2d-per-dim", (1, 2, 4, 6), scale_factor=(2.0, 0.5)),
    # 2-D nearest's shortcuts: an unchanged size copies, a doubled one halves, whatever the scale
    up("nearest-2d-shortcuts", (1, 2, 5, 4), scale_factor=(1.1, 2.05)),
    up("nearest-2d-recompute", (2, 1, 3, 5), scale_factor=1.7, recompute_scale_factor=True),
    up("nearest-3d-size", (1, 2, 2, 3, 2), size=(3, 4, 5)),
    # nearest-exact: PIL's floor((j + 0.5) * in/out)
    up("nearest-exact-1d-1.6", (2, 2, 5), scale_factor=1.6, mode="nearest-exact"),
    up("nearest-exact-2d-size", (2, 2, 3, 4), size=(5, 7), mode="nearest-exact"),
    up("nearest-exact-2d-unchanged-1.1", (1, 2, 5, 3), scale_factor=1.1, mode="nearest-exact"),
    up("nearest-exact-3d-down", (1, 1, 4, 5, 3), scale_factor=(0.5, 0.7, 1.5),
       mode="nearest-exact"),
    # linear: half-pixel centres or corners aligned; a scale factor in the index map
    up("linear-2.5", (2, 3, 4), scale_factor=2.5, mode="linear"),
    up("linear-align-size9", (2, 2, 4), size=9, mode="linear", align_corners=True),
    up("linear-down-0.6", (2, 2, 7), scale_factor=0.6, mode="linear"),
    up("linear-recompute-1.7", (2, 2, 3), scale_factor=1.7, mode="linear",
       recompute_scale_factor=True),
    up("linear-unchanged-1.1", (2, 2, 5), scale_factor=1.1, mode="linear"),
    up("linear-align-size1", (2, 2, 4), size=1, mode="linear", align_corners=True),
    up("bilinear-per-dim", (2, 2, 3, 4), scale_factor=(1.5, 2.3), mode="bilinear"),
    up("bilinear-align-x2", (1, 2, 3, 3), scale_factor=2, mode="bilinear", align_corners=True),
    up("bilinear-down-size", (2, 1, 6, 7), size=(4, 3), mode="bilinear"),
    up("bilinear-recompute", (1, 2, 3, 4), scale_factor=1.3, mode="bilinear",
       recompute_scale_factor=True),
    up("trilinear-1.5", (1, 2, 2, 3, 2), scale_factor=1.5, mode="trilinear"),
    up("trilinear-align-size", (1, 1, 3, 2, 4), size=(4, 3, 2), mode="trilinear",
       align_corners=True),
    # bicubic: 4 taps with A = -0.75, reads clamped at the border (no clamp of the source)
    up("bicubic-x2", (2, 2, 3, 4), scale_factor=2, mode="bicubic"),
    up("bicubic-1.3-per-dim", (1, 2, 4, 3), scale_factor=(1.3, 2.6), mode="bicubic"),
    up("bicubic-align", (1, 2, 3, 4), size=(5, 7), mode="bicubic", align_corners=True),
    up("bicubic-down", (2, 1, 7, 6), size=(3, 4), mode="bicubic"),
    up("bicubic-recompute", (1, 2, 4, 4), scale_factor=1.1, mode="bicubic",
       recompute_scale_factor=True),
    # area: adaptive average pooling's windows
    up("area-size", (2, 2, 5, 7), size=(2, 3), mode="area"),
    up("area-1d-0.5", (2, 3, 6), scale_factor=0.5, mode="area"),
    up("area-3d-up", (1, 2, 2, 3, 2), size=(3, 4, 2), mode="area"),
    # the deprecated aliases
    case("upsamplingnearest2d-size", Spec("UpsamplingNearest2d", size=(5, 7)), 2, 2, 3, 4),
    case("upsamplingnearest2d-x2", Spec("UpsamplingNearest2d", scale_factor=2), 1, 3, 2, 3),
    case("upsamplingbilinear2d-x2", Spec("UpsamplingBilinear2d", scale_factor=2), 2, 2, 3, 3),
    case("upsamplingbilinear2d-size", Spec("UpsamplingBilinear2d", size=(3, 5)), 1, 2, 4, 2),
    # PixelShuffle / PixelUnshuffle: any leading dims
    case("pixelshuffle-r2", Spec("PixelShuffle", 2), 2, 8, 3, 2),
    case("pixelshuffle-r3-unbatched", Spec("PixelShuffle", 3), 9, 2, 2),
    case("pixelshuffle-r2-5d", Spec("PixelShuffle", 2), 2, 1, 4, 2, 3),
    case("pixelshuffle-r1", Spec("PixelShuffle", 1), 2, 3, 2, 2),
    case("pixelunshuffle-r2", Spec("PixelUnshuffle", 2), 2, 2, 4, 6),
    case("pixelunshuffle-r3-unbatched", Spec("PixelUnshuffle", 3), 1, 6, 3),
    case("pixelunshuffle-r2-5d", Spec("PixelUnshuffle", 2), 2, 1, 3, 2, 4),
    # ChannelShuffle
    case("channelshuffle-g2", Spec("ChannelShuffle", 2), 2, 4, 3, 3),
    case("channelshuffle-g3-1d", Spec("ChannelShuffle", 3), 2, 6, 4),
    case("channelshuffle-g2-5d", Spec("ChannelShuffle", 2), 1, 4, 2, 2, 2),
    case("channelshuffle-g-equals-c", Spec("ChannelShuffle", 4), 2, 4, 3),
    # Unfold / Fold: every block argument, overlapping blocks, unbatched
    case("unfold-k2", Spec("Unfold", 2), 2, 3, 4, 5),
    case("unfold-all-knobs", Spec("Unfold", (2, 3), dilation=(2, 1), padding=1, stride=(2, 1)),
         2, 2, 5, 6),
    case("unfold-unbatched-overlap", Spec("Unfold", 3, padding=(0, 1)), 2, 4, 3),
    case("fold-k2", Spec("Fold", (4, 5), 2), 2, 12, 12),
    case("fold-overlap-stride1-k3", Spec("Fold", 5, 3), 2, 18, 9),
    case("fold-all-knobs", Spec("Fold", (5, 6), (2, 3), dilation=(2, 1), padding=1,
                                stride=(2, 1)), 2, 12, 18),
    case("fold-unbatched", Spec("Fold", (3, 4), (2, 2), stride=(1, 2)), 8, 4),
]

#: torch's empty-tensor bugs: npimpl gives the empty result of the documented shape, and
#: ``tests/test_pixelshuffle.py`` / ``tests/test_channelshuffle.py`` show what torch does
_EMPTY_PS = ("an empty input shuffles to the empty output of the documented shape, as torch's "
             "forward gives; torch's backward (pixel_unshuffle of the empty gradient) returns "
             "the gradient's shape unchanged and autograd refuses it")
_EMPTY_PU = ("npimpl gives the documented (N, C*r^2, H/r, W/r); torch's pixel_unshuffle "
             "returns an empty input with its shape unchanged, and its backward then fails")
_EMPTY_CS = ("zero channels shuffle to zero channels, as torch's forward gives; torch's backward "
             "inverts the shuffle with groups = C / g = 0 and raises")

#: one valid configuration per class for the bad-input matrix (compare/badinput.py)
BAD_INPUT = {
    "Upsample": Entry(Spec("Upsample", scale_factor=2, mode="bilinear"), (2, 2, 3, 3)),
    "UpsamplingNearest2d": Entry(Spec("UpsamplingNearest2d", scale_factor=2), (2, 2, 3, 3)),
    "UpsamplingBilinear2d": Entry(Spec("UpsamplingBilinear2d", scale_factor=2), (2, 2, 3, 3)),
    "PixelShuffle": Entry(Spec("PixelShuffle", 2), (2, 4, 2, 3), by_design={
        "empty batch": _EMPTY_PS, "empty dim 1": _EMPTY_PS}),
    "PixelUnshuffle": Entry(Spec("PixelUnshuffle", 2), (2, 2, 4, 4), by_design={
        "empty batch": _EMPTY_PU, "empty dim 1": _EMPTY_PU}),
    "ChannelShuffle": Entry(Spec("ChannelShuffle", 2), (2, 4, 3), by_design={
        "empty dim 1": _EMPTY_CS}),
    "Unfold": Entry(Spec("Unfold", 2), (2, 2, 3, 3)),
    "Fold": Entry(Spec("Fold", (3, 3), 2), (2, 8, 4)),
}


class CornerSampledBilinear(npimpl.Upsample):
    """Bilinear upsampling that samples output j at ``j * in/out``, the textbook mapping
    without torch's half-pixel centres (``(j + 0.5) * in/out - 0.5``)."""

    def _taps(self, x, outs, scales):
        taps = []
        for n_in, n_out in zip(x.shape[2:], outs):
            real = np.arange(n_out) * n_in / n_out      # BUG: (j + 0.5) * in/out - 0.5
            i0 = np.minimum(np.floor(real).astype(np.int64), n_in - 1)
            t = real - i0
            taps.append(Taps(np.stack([i0, np.minimum(i0 + 1, n_in - 1)], 1),
                             np.stack([1 - t, t], 1)))
        return tuple(taps)


MUTANTS = [
    layer_mutant("bilinear-without-half-pixel-centres", "Upsample(mode='bilinear') samples "
                 "output pixel j at j * in/out instead of (j + 0.5) * in/out - 0.5, so the image "
                 "shifts by half an output pixel and the last rows and columns are never "
                 "interpolated toward", "classic",
                 Spec("Upsample", scale_factor=2, mode="bilinear"), CornerSampledBilinear,
                 args(normal(2, 2, 3, 4))),
]
