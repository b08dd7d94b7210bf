"""Two-input layers: the bilinear map and the distances (cosine similarity, p-norm distance),
with the broadcasting between the two inputs that torch allows."""
from __future__ import annotations

import numpy as np

import npimpl
from reference import Spec

from ..badinput import Entry
from ..engine import Case
from ..gen import args, fixed, normal
from ..mutants import layer_mutant
from .core import pair

ORDER = 15


def case(name, spec, *gens):
    return Case(name, spec.name, "distance", pair(spec), args(*gens))


def scaled_rows(*shape, scales):
    """Normal values whose rows (dim 0) are scaled by ``scales``: a zero row and rows shorter
    than eps reach the norm's floor and its x / 0 mask."""
    s = np.asarray(scales, dtype=np.float64).reshape((-1,) + (1,) * (len(shape) - 1))
    return lambda rng, dt: (rng.standard_normal(shape) * s).astype(dt)


CASES = [
    # Bilinear: batched, several leading dims, unbatched, no bias, one output
    case("bilinear-2d", Spec("Bilinear", 3, 4, 5), normal(6, 3), normal(6, 4)),
    case("bilinear-3d", Spec("Bilinear", 2, 3, 4), normal(2, 3, 2), normal(2, 3, 3)),
    case("bilinear-unbatched", Spec("Bilinear", 4, 2, 3), normal(4), normal(2)),
    case("bilinear-nobias-out1", Spec("Bilinear", 3, 3, 1, bias=False), normal(5, 3),
         normal(5, 3)),
    # the smallest sizes torch takes: one in1 feature (its init bound is 1), no outputs
    case("bilinear-in1-1", Spec("Bilinear", 1, 2, 3), normal(4, 1), normal(4, 2)),
    case("bilinear-out0", Spec("Bilinear", 3, 4, 0), normal(5, 3), normal(5, 4)),
    # CosineSimilarity: the default dim 1, the last dim, broadcasting, a 1-D pair, tiny and
    # zero vectors (the eps floor), a large eps
    case("cosine-dim1", Spec("CosineSimilarity"), normal(4, 5), normal(4, 5)),
    case("cosine-dim-last-3d", Spec("CosineSimilarity", dim=-1), normal(2, 3, 4),
         normal(2, 3, 4)),
    case("cosine-broadcast", Spec("CosineSimilarity", 1), normal(3, 4, 2), normal(1, 4, 2)),
    case("cosine-broadcast-rank", Spec("CosineSimilarity", -1), normal(3, 5), normal(5)),
    case("cosine-1d-dim0", Spec("CosineSimilarity", 0), normal(6), normal(6)),
    case("cosine-tiny-and-zero-rows", Spec("CosineSimilarity", 1, 1e-3),
         scaled_rows(4, 3, scales=[1.0, 1e-4, 0.0, 2e-3]), normal(4, 3)),
    case("cosine-eps-large", Spec("CosineSimilarity", dim=1, eps=0.5),
         normal(3, 4, scale=0.2), normal(3, 4)),
    # PairwiseDistance: p = 2, 1, inf, -inf, 0, 0.5, 1.5, 3; keepdim; broadcasting; 1-D;
    # identical inputs (the difference is eps alone); eps = 0 with a zero difference
    case("pairwise-p2", Spec("PairwiseDistance"), normal(4, 5), normal(4, 5)),
    case("pairwise-p1-keepdim", Spec("PairwiseDistance", 1.0, keepdim=True), normal(3, 4),
         normal(3, 4)),
    case("pairwise-pinf", Spec("PairwiseDistance", float("inf")), normal(3, 5), normal(3, 5)),
    case("pairwise-pneginf", Spec("PairwiseDistance", -float("inf")), normal(3, 5),
         normal(3, 5)),
    case("pairwise-p0", Spec("PairwiseDistance", 0.0), normal(2, 4), normal(2, 4)),
    case("pairwise-p0.5", Spec("PairwiseDistance", 0.5), normal(3, 4), normal(3, 4)),
    case("pairwise-p1.5-3d", Spec("PairwiseDistance", 1.5), normal(2, 3, 4), normal(2, 3, 4)),
    case("pairwise-p3-broadcast", Spec("PairwiseDistance", p=3.0), normal(3, 1, 4),
         normal(2, 4)),
    case("pairwise-1d-vs-2d", Spec("PairwiseDistance"), normal(5), normal(3, 5)),
    case("pairwise-identical-eps", Spec("PairwiseDistance", eps=1e-3),
         fixed([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]]), fixed([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]])),
    case("pairwise-eps0-zero-row", Spec("PairwiseDistance", 2.0, 0.0),
         fixed([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]]), fixed([[0.5, 1.0, 0.5], [0.0, 3.0, 1.0]])),
    # p = inf over the last dim of 3-D inputs, with ties for the largest |x1 - x2| (the
    # gradient is shared among them) and a zero row; p = 3 and 1.5 with a zero row
    case("pairwise-pinf-3d-ties-eps0", Spec("PairwiseDistance", float("inf"), 0.0),
         fixed([[[1.0, -1.0, 0.5], [2.0, 0.0, -2.0]], [[0.0, 0.0, 0.0], [0.3, -1.2, 0.7]]]),
         fixed(np.zeros((2, 2, 3)))),
    *[case(f"pairwise-p{p}-eps0-zero-row", Spec("PairwiseDistance", p, 0.0),
           fixed([[1.0, -2.0, 0.5], [0.0, 3.0, 1.0]]), fixed([[0.5, 1.0, 0.5], [0.0, 3.0, 1.0]]))
      for p in (1.5, 3.0)],
]


def _pair_of_same(rng, x):
    return [rng.standard_normal(x.shape)]


#: the bad-input matrix (compare.badinput): one valid configuration per class
BAD_INPUT = {
    "Bilinear": Entry(Spec("Bilinear", 4, 3, 2), (2, 4),
                      extra=lambda rng, x: [rng.standard_normal(x.shape[:-1] + (3,))]),
    "CosineSimilarity": Entry(Spec("CosineSimilarity"), (2, 4), extra=_pair_of_same),
    "PairwiseDistance": Entry(Spec("PairwiseDistance"), (2, 4), extra=_pair_of_same),
}


# --- the mutant gallery: the slips a reader is most likely to write -----------------------------
class EpsFloorPairwiseDistance(npimpl.PairwiseDistance):
    """``max(||x1 - x2||, eps)``: eps as a floor under the norm, where torch adds it to every
    element of the difference."""

    def forward(self, x1, x2):
        eps, self.eps = self.eps, 0.0
        try:
            y = super().forward(x1, x2)
        finally:
            self.eps = eps
        return np.maximum(y, eps)                           # BUG: torch's is ||x1 - x2 + eps||


class ProductFloorCosineSimilarity(npimpl.CosineSimilarity):
    """The textbook ``x1 . x2 / max(||x1|| ||x2||, eps)`` (older torch's product floor), where
    torch 2.x floors each norm separately: the two differ once a norm is below eps."""

    def forward(self, x1, x2):
        y = super().forward(x1, x2)
        c = self._cache
        n = np.maximum(c.n1 * c.n2, self.eps)               # BUG: one floor on the product
        return (c.c1 * c.c2 / n).reshape(y.shape) * y


MUTANTS = [
    layer_mutant("pairwise-eps-as-floor", "PairwiseDistance uses eps as a floor under the norm, "
                 "max(||x1 - x2||, eps), where torch adds eps to the difference", "classic",
                 Spec("PairwiseDistance"), EpsFloorPairwiseDistance, args(normal(4, 5),
                                                                           normal(4, 5))),
    layer_mutant("cosine-floor-on-the-product", "CosineSimilarity floors the product of the "
                 "norms at eps instead of each norm", "classic",
                 Spec("CosineSimilarity", 1, 1e-2), ProductFloorCosineSimilarity,
                 args(scaled_rows(3, 4, scales=[1.0, 1e-3, 2.0]), normal(3, 4))),
]
