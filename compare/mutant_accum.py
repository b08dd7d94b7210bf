"""Gallery mutants that only a second backward can see: gradients that overwrite ``.grad``.

torch *adds* every backward's parameter gradient into ``.grad`` until ``zero_grad()``. A layer
that assigns instead passes any single forward+backward comparison; the engine's accumulation
pass (a second forward+backward without ``zero_grad``, rows ``accum.grad.*``) flags it. A
parameter used twice in one forward (tied weights) loses its first contribution the same way,
already within one backward.
"""
from __future__ import annotations

import npimpl
from npimpl import norm
from reference import Spec, build, seq

from .engine import Case
from .gen import args, normal
from .mutants import Mutant, case, layer_mutant


def _overwrite(module, grad_output, backward_fn, owner):
    """``norm.affine_backward`` with the planted bug: ``.grad = g`` instead of ``+=``."""
    cache = module._saved()
    dy = module._input(grad_output, "grad_output", module.dtype)
    w = module.weight.data if module.weight is not None else None
    dx, dw, db = backward_fn(dy, w, cache)
    module.weight.grad = dw.copy()                        # BUG: torch accumulates (+=)
    module.bias.grad = db.copy()                          # BUG
    return dx


class OverwritingLayerNorm(npimpl.LayerNorm):
    """LayerNorm whose affine backward assigns ``weight.grad``/``bias.grad``."""

    def backward(self, grad_output):
        return _overwrite(self, grad_output, norm.layer_norm_backward, "LayerNorm")


class OverwritingLinear(npimpl.Linear):
    """Linear whose backward assigns ``weight.grad = dy^T x`` instead of adding to it."""

    def backward(self, grad_output):
        dx = super().backward(grad_output)
        cache = self._saved()
        dy2 = grad_output.reshape(cache.x2.shape[0], self.out_features)
        self.weight.grad = dy2.T @ cache.x2                  # BUG: drops what was there
        return dx


def tied(cls=npimpl.Linear):
    """``Linear(4, 4) -> Tanh -> Linear(4, 4)`` whose two Linears share one weight, on both
    sides (the NumPy side's Linears are ``cls``)."""
    def model(dt):
        np_seq, t_seq = build(seq(Spec("Linear", 4, 4), Spec("Tanh"), Spec("Linear", 4, 4)), dt)
        for i in (0, 2):
            if cls is not npimpl.Linear:
                m = cls(4, 4, dtype=dt.type)
                m.load_state_dict(np_seq[i].state_dict())
                np_seq.add_module(str(i), m)
        np_seq[2].weight = np_seq[0].weight
        t_seq[2].weight = t_seq[0].weight
        return np_seq, t_seq
    return model


MUTANTS = [
    layer_mutant("layernorm-overwrites-grad", "LayerNorm's affine backward assigns weight.grad "
                 "and bias.grad instead of adding to them: one backward is right, a second "
                 "without zero_grad loses the first", "classic", Spec("LayerNorm", 6),
                 OverwritingLayerNorm, args(normal(3, 6))),
    Mutant("tied-weight-loses-a-contribution", "a weight used by two layers (tied) gets only "
           "the last layer's gradient: the Linear assigns .grad, so the other use's "
           "contribution is lost", "classic",
           case("tied-weight-loses-a-contribution", "Linear", tied(OverwritingLinear),
                args(normal(3, 4))),
           Case("control-tied-weight-loses-a-contribution", "Linear", "mutant", tied(),
                args(normal(3, 4)), dtypes=("float64",))),
]
