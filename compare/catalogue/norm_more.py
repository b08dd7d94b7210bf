"""Local response normalisation (LocalResponseNorm, CrossMapLRN2d) and SELU's alpha dropout
(AlphaDropout, FeatureAlphaDropout, masks drawn by the NumPy side and reused by the twin)."""
from __future__ import annotations

import numpy as np

import npimpl
from reference import Spec
from reference.alpha_dropout import SharedMaskAlphaDropout

from ..badinput import Entry
from ..engine import Case
from ..gen import args, fixed, normal
from ..mutants import Mutant, layer_mutant
from .core import pair

ORDER = 51


def case(name, spec, *gens, **pair_options):
    return Case(name, spec.name, "norm", pair(spec, **pair_options), args(*gens))


#: channel 0 large and channel 3 small: CrossMapLRN2d's window keeps channel 0 in every sum
LEAK = [[[[3.0]], [[0.0]], [[0.0]], [[1.0]], [[0.0]], [[0.0]], [[0.0]]]]

CASES = [
    # LocalResponseNorm: odd and even windows, 3-D to 5-D inputs, large alpha (so the
    # normalisation matters), a window wider than the channels, beta 0.5
    case("lrn-size3-4d", Spec("LocalResponseNorm", 3, alpha=0.5), normal(2, 5, 3, 2)),
    case("lrn-size2-3d", Spec("LocalResponseNorm", 2, 1.0, 0.75, 2.0), normal(2, 4, 5)),
    case("lrn-size1-5d", Spec("LocalResponseNorm", 1, alpha=1.0, beta=0.5),
         normal(1, 3, 2, 2, 2)),
    case("lrn-size4-default-alpha", Spec("LocalResponseNorm", 4), normal(2, 6, 3, scale=10.0)),
    case("lrn-wider-than-channels", Spec("LocalResponseNorm", 7, alpha=2.0, k=0.5),
         normal(1, 3, 4, 2)),
    # CrossMapLRN2d: torch's own loops (channel 0 never leaves the window; shifted backward)
    case("crossmaplrn2d-size3", Spec("CrossMapLRN2d", 3, alpha=0.5), normal(2, 6, 3, 2)),
    case("crossmaplrn2d-size2", Spec("CrossMapLRN2d", 2, 1.0, 0.75, 2.0), normal(1, 5, 2, 3)),
    case("crossmaplrn2d-size5-default-alpha", Spec("CrossMapLRN2d", 5),
         normal(2, 7, 2, 2, scale=10.0)),
    case("crossmaplrn2d-wider-than-channels", Spec("CrossMapLRN2d", 6, alpha=1.0, beta=0.5),
         normal(1, 3, 2, 2)),
    case("crossmaplrn2d-channel0-leak", Spec("CrossMapLRN2d", 2, alpha=0.5), fixed(LEAK)),
    # AlphaDropout: the mask drawn by the NumPy side, the affine map computed on both
    case("alphadropout-p0.5", Spec("AlphaDropout", 0.5), normal(4, 7), seed=1),
    case("alphadropout-p0.2-3d", Spec("AlphaDropout", p=0.2), normal(2, 3, 5), seed=2),
    case("alphadropout-p0.9", Spec("AlphaDropout", 0.9), normal(5, 6), seed=3),
    case("alphadropout-p1", Spec("AlphaDropout", 1.0), normal(3, 4), seed=4),
    case("alphadropout-eval", Spec("AlphaDropout", 0.5), normal(3, 4), eval_mode=True),
    case("featurealphadropout-4d", Spec("FeatureAlphaDropout", 0.5), normal(3, 4, 2, 3),
         seed=5),
    case("featurealphadropout-2d", Spec("FeatureAlphaDropout", 0.3), normal(4, 5), seed=6),
    case("featurealphadropout-5d", Spec("FeatureAlphaDropout", p=0.4), normal(2, 3, 2, 2, 2),
         seed=7),
    case("featurealphadropout-eval-1d", Spec("FeatureAlphaDropout", 0.5), normal(6),
         eval_mode=True),
]

#: the bad-input matrix (compare.badinput): one valid configuration per class
BAD_INPUT = {
    "LocalResponseNorm": Entry(Spec("LocalResponseNorm", 2), (2, 3, 4)),
    "CrossMapLRN2d": Entry(Spec("CrossMapLRN2d", 3), (2, 3, 2, 2)),
    "AlphaDropout": Entry(Spec("AlphaDropout", 0.5), (2, 4)),
    "FeatureAlphaDropout": Entry(Spec("FeatureAlphaDropout", 0.5), (2, 3, 4)),
}


# --- the mutant gallery -------------------------------------------------------------------------
class PaperAlphaLRN(npimpl.LocalResponseNorm):
    """AlexNet's paper formula ``k + alpha * sum(x^2)``, where torch (Caffe's convention)
    divides alpha by the window size."""

    def forward(self, input):
        size = self.size
        self.alpha *= size                                  # BUG: torch uses alpha / size
        try:
            return super().forward(input)
        finally:
            self.alpha /= size


class ZeroDropAlphaDropout(npimpl.AlphaDropout):
    """AlphaDropout that drops to 0 like plain dropout and keeps only the scale a: the
    saturation value alpha' and the shift b are left out."""

    def forward(self, input):
        y = super().forward(input)
        if self.mask is None or self.p == 1.0:
            return y
        return np.asarray(input * self.mask)                # BUG: no b, dropped units at 0


def shared_mask(cls, p: float = 0.5):
    """``dtype -> (cls(p), its twin)``: the twin reads the mask of *this* NumPy module."""
    def model(dt):
        np_mod = cls(p, rng=np.random.default_rng(1), dtype=dt.type)
        return np_mod, SharedMaskAlphaDropout(np_mod, p)
    return model


MUTANTS = [
    layer_mutant("lrn-alpha-not-divided-by-size", "LocalResponseNorm uses the paper's k + alpha "
                 "sum(x^2) instead of torch's k + alpha/n sum(x^2)", "classic",
                 Spec("LocalResponseNorm", 3, alpha=0.5), PaperAlphaLRN, args(normal(2, 5, 3))),
    Mutant("alphadropout-drops-to-zero", "AlphaDropout zeroes the dropped units and omits the "
           "shift b (plain dropout scaled by a)", "classic",
           *(Case(f"{kind}-alphadropout-drops-to-zero", "AlphaDropout", "mutant",
                  shared_mask(cls), args(normal(4, 6)), dtypes=("float64",))
             for kind, cls in (("mutant", ZeroDropAlphaDropout),
                               ("control", npimpl.AlphaDropout)))),
]
