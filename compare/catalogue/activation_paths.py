"""The activations' other code paths, each against torch: the textbook ``_f``/``_df`` behind
the fused fast paths, inputs large enough for the bit-select of ``npimpl._pointwise.select``
(1024 elements and more) and for the blocked loop of ``npimpl._pointwise.blockwise`` (more
than ``2 * BLOCK`` elements), the Jacobian form of the softmax backward, and the sign of
the zeros an activation returns."""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from npimpl._pointwise import BLOCK, SMALL
from npimpl.softmax import softmax_jacobian
from reference import Spec, build

from ..engine import Case
from ..gen import args, fixed, normal
from .activation import TAILS, with_values

ORDER = 22


def textbook(cls):
    """``cls`` with its fast path switched off: a subclass whose own ``_fast`` is None, so
    ``Pointwise.forward`` runs the class's textbook ``_f`` and the backward its ``_df`` (or
    ``_grad``), the formulas the fused ``npimpl._activation_fast`` functions must equal."""
    return type(f"Textbook{cls.__name__}", (cls,), {"_fast": None, "__doc__": textbook.__doc__})


class JacobianSoftmax(npimpl.Softmax):
    """Softmax whose backward builds the C x C Jacobian (``softmax_jacobian``, the textbook
    form) and contracts it with the upstream gradient: ``dx_j = sum_i J_ij g_i``."""

    def _backward(self, y, g, axis):
        jac = softmax_jacobian(y, axis)                                  # (..., C, C)
        dx = np.einsum("...ij,...i->...j", jac, np.moveaxis(g, axis, -1))
        return np.moveaxis(dx, -1, axis)


def swapped(spec: Spec, np_cls):
    """``dtype -> (np_cls(*spec's arguments), torch twin)``: torch's module from the spec,
    the NumPy side of another class with the same arguments (no parameters to share)."""
    def model(dt):
        _, t_mod = build(spec, dt)
        return np_cls(*spec.args, **spec.kwargs, dtype=dt.type), t_mod
    return model


def case(name, spec, gen, np_cls=None):
    model = swapped(spec, np_cls) if np_cls is not None else (lambda dt: build(spec, dt))
    return Case(name, spec.name, "activation", model, args(gen))


# 1. the textbook formulas, the fast path off: kinks, both sides of each threshold, tails
CASES = [
    case("celu-alpha0.3-textbook", Spec("CELU", 0.3),
         with_values([0.0, -0.3, -0.0] + TAILS, 4, 7), textbook(npimpl.CELU)),
    case("elu-alpha0.5-textbook", Spec("ELU", alpha=0.5), with_values([0.0, -0.0], 3, 5),
         textbook(npimpl.ELU)),
    case("silu-textbook", Spec("SiLU"), with_values(TAILS, 4, 7), textbook(npimpl.SiLU)),
    case("mish-textbook", Spec("Mish"), with_values(TAILS + [20.0, 19.5, 21.0], 4, 7),
         textbook(npimpl.Mish)),
    case("softplus-beta0.5-threshold3-textbook", Spec("Softplus", 0.5, 3.0),
         with_values([6.06, 5.94, 7.0, -7.0] + TAILS, 4, 7, scale=5.0),
         textbook(npimpl.Softplus)),
    case("logsigmoid-textbook", Spec("LogSigmoid"),
         with_values([0.0, -0.0, 0.25, 0.75, -0.5] + TAILS, 4, 7), textbook(npimpl.LogSigmoid)),
    case("hardswish-textbook", Spec("Hardswish"),
         with_values([-3.0, 3.0, -3.5, 3.5, 0.0, 1.5, -1.5, -2.9, 2.9], 4, 7),
         textbook(npimpl.Hardswish)),
    # the piecewise-linear maps whose fast forward makes only y and whose backward recomputes
    # the slope in blocks (_fast_grad): their textbook _f/_df, both sides of every threshold
    case("hardsigmoid-textbook", Spec("Hardsigmoid"),
         with_values([-3.0, 3.0, -3.5, 3.5, 0.0, -2.9, 2.9], 4, 7), textbook(npimpl.Hardsigmoid)),
    case("leakyrelu-slope0.2-textbook", Spec("LeakyReLU", 0.2),
         with_values([0.0, -0.0, 1e-3, -1e-3] + TAILS, 4, 7), textbook(npimpl.LeakyReLU)),
    case("leakyrelu-slope0-infinities-textbook", Spec("LeakyReLU", 0.0),
         with_values([np.inf, -np.inf, 0.0, -0.0, 1.0, -1.0], 3, 4), textbook(npimpl.LeakyReLU)),
    case("hardshrink-lambd0.5-textbook", Spec("Hardshrink", 0.5),
         with_values([0.5, -0.5, 0.6, -0.6, 0.0, 0.4, -0.4], 4, 7), textbook(npimpl.Hardshrink)),
    case("softshrink-lambd0.5-textbook", Spec("Softshrink", 0.5),
         with_values([0.5, -0.5, 0.6, -0.6, 0.0, 0.4, -0.4], 4, 7), textbook(npimpl.Softshrink)),
    case("threshold-0.1-20-textbook", Spec("Threshold", 0.1, 20.0),
         with_values([0.1, 0.0, 0.2, -0.1, 0.05], 4, 7), textbook(npimpl.Threshold)),
]

# 2. SMALL elements and more: select's bit path, with a zero for b (Hardsigmoid's slope
#    outside the band), a zero for a (Hardswish's slope below -3) and two other scalars
#    (LeakyReLU's 1 and slope); the kinks among them
WIDE = (32, -(-SMALL // 32) + 1)
CASES += [
    case("hardsigmoid-select-bits", Spec("Hardsigmoid"), with_values([-3.0, 3.0] * 2, *WIDE)),
    case("hardswish-select-bits", Spec("Hardswish"), with_values([-3.0, 3.0] * 2, *WIDE)),
    case("leakyrelu-0.2-select-bits", Spec("LeakyReLU", 0.2), with_values([0.0, -0.0], *WIDE)),
]

# 3. more than 2 * BLOCK elements: the blocked loop, for each function that returns a value
#    and its derivative (float32 only: the float64 path is the same loop)
LONG = (2, BLOCK + 1)
for tag, spec in [("elu", Spec("ELU")), ("mish", Spec("Mish")), ("logsigmoid", Spec("LogSigmoid")),
                  ("gelu-tanh", Spec("GELU", approximate="tanh"))]:
    CASES.append(Case(f"{tag}-blocks", spec.name, "activation", lambda dt, s=spec: build(s, dt),
                      args(with_values(TAILS, *LONG)), dtypes=("float32",)))
# ... and for its one caller with a single output: an element-wise loss with reduction='none'
CASES.append(Case("huber-none-blocks", "HuberLoss", "loss",
                  lambda dt: build(Spec("HuberLoss", reduction="none"), dt),
                  args(normal(*LONG, scale=2.0), normal(*LONG)), dtypes=("float32",)))

# 4. the softmax backward through its Jacobian, along an inner dim of a 4-D input (in 3-D,
#    moving dim 1 last and moving the last dim to 1 are the same permutation)
CASES += [
    case("softmax-jacobian-4d-dim1", Spec("Softmax", dim=1), normal(2, 4, 3, 2, scale=2.0),
         JacobianSoftmax),
]


# 5. the sign of a zero output: the engine compares values, +0 == -0, so these cases add the
#    output's sign bits as a second (boolean, compared exactly) output. torch keeps a zero's
#    sign through ELU for any alpha (elu(+-0) = +-0; the negative branch would give
#    alpha * expm1(+-0), the sign flipped by a negative alpha), and PReLU's (and RReLU's in
#    eval) ``x > 0 ? x : w * x`` gives w * (+0) = -0 for a negative slope.
#    (The fused ELU of npimpl._activation_fast still takes the negative branch at 0, so this
#    runs the textbook ELU; npimpl's ReLU returns +0 for -0, torch -0.)
class SignOfZero(npimpl.Module):
    """``(y, signbit(y))`` of the wrapped module; the backward is the wrapped one's."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input):
        y = self.inner(input)
        return y, np.signbit(y)

    def backward(self, grad_output, grad_sign=None):
        return self.inner.backward(grad_output)


class TorchSignOfZero(torch.nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, input):
        y = self.inner(input)
        return y, torch.signbit(y)


def sign_of_zero(spec: Spec, np_cls=None, eval_mode: bool = False):
    base = swapped(spec, np_cls) if np_cls is not None else (lambda dt: build(spec, dt))

    def model(dt):
        np_mod, t_mod = base(dt)
        if eval_mode:
            np_mod.eval()
            t_mod.eval()
        return SignOfZero(np_mod), TorchSignOfZero(t_mod)
    return model


ZEROS = fixed([[0.0, -0.0, 1.5, -1.5], [-0.0, 0.0, -0.0, 0.0]])
CASES += [
    Case("elu-alpha-neg-textbook-sign-of-zero", "ELU", "activation",
         sign_of_zero(Spec("ELU", alpha=-0.5), textbook(npimpl.ELU)), args(ZEROS)),
    Case("elu-alpha-neg-sign-of-zero", "ELU", "activation",
         sign_of_zero(Spec("ELU", alpha=-0.5)), args(ZEROS)),
    Case("relu-sign-of-zero", "ReLU", "activation", sign_of_zero(Spec("ReLU")), args(ZEROS)),
    Case("selu-sign-of-zero", "SELU", "activation", sign_of_zero(Spec("SELU")), args(ZEROS)),
    Case("prelu-slope-neg-sign-of-zero", "PReLU", "activation",
         sign_of_zero(Spec("PReLU", init=-0.5)), args(ZEROS)),
    # RReLU in eval is leaky_relu with the mean slope, x > 0 ? x : x * slope: -0 for +0
    Case("rrelu-eval-slope-neg-sign-of-zero", "RReLU", "activation",
         sign_of_zero(Spec("RReLU", -0.5, -0.25), eval_mode=True), args(ZEROS)),
]
