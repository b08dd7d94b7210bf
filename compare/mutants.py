"""The mutant gallery: deliberately wrong variants of real layers, one bug each.

A comparison that cannot fail proves nothing. Each mutant below is a real
npimpl class with one bug planted (most of them bugs that published code
actually had); each is wired into a small lockstep case against the *correct*
torch twin, and the engine must flag it. ``mutation_score()`` runs them all;
``lockstep report`` prints the score and lists any survivor.

The buggy classes live in :mod:`compare.mutant_layers` and :mod:`compare.mutant_optim`
(each a subclass of the real class overriding the smallest piece); this file wires each
into a case, with a control: the same case with the real class, which must pass.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import npimpl
from reference import Spec, build, seq

from .engine import Case, Result, Trajectory, run
from .gen import args, classes, normal
from .mutant_layers import (ArticleLinear, ArticleSoftmax, BiasedRunningVarBatchNorm1d,
                            ClassAveragedNLLLoss, EpsOutsideLayerNorm, GateOrderLSTMCell,
                            KinkOneReLU, LogSoftmaxNoSum, MeanOverN, MSEWithoutTwo,
                            NoMeanCrossEntropyLoss, PaddingGradEmbedding,
                            ResetBeforeMatmulGRUCell, SigmoidOfInput,
                            SmoothingCountsIgnoredCrossEntropyLoss, SymmetricSameConv1d,
                            TiedMaxPool2d)
from .mutant_optim import DampenedFirstStepSGD, KerasMomentumSGD, L2AdamW, NoBiasCorrectionAdam


@dataclass
class Mutant:
    """A planted bug: ``name``, the one-line ``bug``, where it comes from, and the case that
    runs it against the correct torch twin."""

    name: str
    bug: str
    origin: str
    case: Case
    #: the same case with the real class in the mutant's place: it must pass, which shows
    #: that the case flags the bug and nothing else
    control: Case | None = None


# --- wiring helpers ----------------------------------------------------------------------
def _swap_last(spec_pair, index: int, mutant):
    """Replace layer ``index`` of the NumPy Sequential by ``mutant`` (same weights)."""
    def model(dt):
        np_seq, t_seq = spec_pair(dt)
        good = np_seq[index]
        bad = mutant(good, dt)
        bad.load_state_dict(good.state_dict())
        np_seq.add_module(str(index), bad)
        return np_seq, t_seq
    return model


def mutated(spec: Spec, cls):
    """``dtype -> (cls(*spec args), correct torch twin)`` with the twin's weights."""
    def model(dt):
        good, t_mod = build(spec, dt)
        bad = cls(*spec.args, **spec.kwargs, dtype=dt.type)
        bad.load_state_dict(good.state_dict())
        return bad.train(good.training), t_mod
    return model


def case(name: str, layer: str, model, inputs, **kw) -> Case:
    """A float64 mutant case (float64 leaves no rounding to hide behind)."""
    return Case(f"mutant-{name}", layer, "mutant", model, inputs, dtypes=("float64",), **kw)


def layer_mutant(name: str, bug: str, origin: str, spec: Spec, cls, inputs, **kw) -> Mutant:
    """``cls`` (a subclass of ``npimpl.<spec.name>``) against torch's ``<spec.name>``, with the
    real class as the control."""
    real = getattr(npimpl, spec.name)
    assert issubclass(cls, real), f"{cls.__name__} must subclass npimpl.{spec.name}"
    return Mutant(name, bug, origin,
                  case(name, spec.name, mutated(spec, cls), inputs, **kw),
                  Case(f"control-{name}", spec.name, "mutant", mutated(spec, real), inputs,
                       dtypes=("float64",), **kw))


def optimizer_mutant(name: str, bug: str, origin: str, cls, torch_cls, **kw) -> Mutant:
    """An optimizer mutant trained against torch's optimizer, the real class as control."""
    real = cls.__mro__[1]
    return Mutant(name, bug, origin, optimizer_trajectory(f"mutant-{name}", real.__name__, cls,
                                                          torch_cls, **kw),
                  optimizer_trajectory(f"control-{name}", real.__name__, real, torch_cls, **kw))


class LrDecay:
    """Halve every group's lr after each step (works on npimpl and torch optimizers alike)."""

    def __init__(self, opt, factor: float = 0.5):
        self.opt, self.factor = opt, factor

    def step(self):
        for g in self.opt.param_groups:
            g["lr"] *= self.factor


def optimizer_trajectory(name: str, layer: str, np_cls, torch_cls, steps: int = 4,
                         scheduler=None, **kw) -> Trajectory:
    """A Linear(5, 3) regression trained ``steps`` steps by ``np_cls`` against ``torch_cls``."""
    xs = np.random.default_rng(3).standard_normal((steps, 8, 5))
    ys = np.random.default_rng(4).standard_normal((steps, 8, 3))
    return Trajectory(
        name, layer, "mutant", model=lambda dt: build(Spec("Linear", 5, 3), dt),
        loss=lambda dt: build(Spec("MSELoss"), dt),
        batches=lambda rng, dt, step: (xs[step].astype(dt), ys[step].astype(dt)),
        optimizer=lambda m, t: (np_cls(list(m.parameters()), **kw),
                                torch_cls(list(t.parameters()), **kw)),
        scheduler=scheduler, steps=steps, dtypes=("float64",))


def with_ignored(n: int, n_classes: int, ignore_index: int = -100):
    """Class indices with every third target set to ``ignore_index``."""
    def gen(rng, dt):
        t = rng.integers(0, n_classes, n).astype(np.int64)
        t[::3] = ignore_index
        return t
    return gen


# --- the article's bugs ------------------------------------------------------------------
def article_linear_case(cls=ArticleLinear, name: str = "mutant-article-linear") -> Case:
    """Two Linear(4, 4) layers with a Tanh between, batch 4; the second is the article's."""
    spec = seq(Spec("Linear", 4, 4), Spec("Tanh"), Spec("Linear", 4, 4))
    model = _swap_last(lambda dt: build(spec, dt), 2,
                       lambda good, dt: cls(4, 4, dtype=dt.type))
    return Case(name, "Linear", "mutant", model, args(normal(4, 4)), dtypes=("float64",))


MUTANTS = [
    Mutant("article-linear-returns-dW", "Linear.backward returns the weight gradient x^T dy "
           "instead of the input gradient dy W", "article", article_linear_case(),
           article_linear_case(npimpl.Linear, "control-article-linear")),
    layer_mutant("article-softmax-no-max-shift", "standalone Softmax computes exp(x) / sum "
                 "exp(x) without subtracting the max: logits of ~1e3 overflow to inf/inf = NaN",
                 "article", Spec("Softmax", dim=1), ArticleSoftmax,
                 args(normal(4, 6, scale=800.0))),
    layer_mutant("article-ce-class-average", "the separate cross-entropy averages -onehot * "
                 "log p over the class axis as well as the batch (divides by N*C, not N)",
                 "article", Spec("NLLLoss"), ClassAveragedNLLLoss,
                 args(normal(6, 5), classes(6, n=5))),
    layer_mutant("article-fused-missing-1/N", "the fused softmax-cross-entropy gradient is "
                 "p - y without the 1/N of the mean", "article", Spec("CrossEntropyLoss"),
                 NoMeanCrossEntropyLoss, args(normal(6, 5), classes(6, n=5))),
    # --- classic slips in the core layers ----------------------------------------------------
    layer_mutant("relu-slope-1-at-0", "ReLU backward uses x >= 0: slope 1 at the kink where "
                 "torch uses 0", "classic", Spec("ReLU"), KinkOneReLU,
                 args(lambda rng, dt: np.round(rng.standard_normal((4, 6))).astype(dt))),
    layer_mutant("sigmoid-derivative-of-input", "Sigmoid backward computes x (1 - x) from the "
                 "input instead of y (1 - y) from the output", "classic", Spec("Sigmoid"),
                 SigmoidOfInput, args(normal(4, 6))),
    layer_mutant("logsoftmax-backward-no-sum", "LogSoftmax backward dy - softmax, dropping the "
                 "sum(dy) factor (right only for a one-hot dy)", "classic",
                 Spec("LogSoftmax", dim=1), LogSoftmaxNoSum, args(normal(4, 6))),
    layer_mutant("nll-mean-over-N-with-ignored", "NLLLoss 'mean' divides by N, counting the "
                 "ignored targets, instead of the sum of the kept targets' weights", "classic",
                 Spec("NLLLoss"), MeanOverN, args(normal(8, 4), with_ignored(8, 4))),
    layer_mutant("mse-gradient-without-2", "MSELoss gradient (x - y) / n, forgetting the 2 of "
                 "the square", "classic", Spec("MSELoss"), MSEWithoutTwo,
                 args(normal(4, 3), normal(4, 3))),
    layer_mutant("label-smoothing-counts-ignored", "label smoothing's uniform term also "
                 "counts the rows whose target is ignore_index (torch masks them)", "classic",
                 Spec("CrossEntropyLoss", label_smoothing=0.2), SmoothingCountsIgnoredCrossEntropyLoss,
                 args(normal(8, 4), with_ignored(8, 4))),
    # --- recurrent ----------------------------------------------------------------------------
    layer_mutant("lstm-gate-order", "LSTM cell reads torch's packed gate rows as i, g, f, o "
                 "(TensorFlow 1's i, j, f, o) instead of i, f, g, o", "classic",
                 Spec("LSTMCell", 3, 4), GateOrderLSTMCell,
                 args(normal(2, 3), lambda rng, dt: (rng.standard_normal((2, 4)).astype(dt),
                                                     rng.standard_normal((2, 4)).astype(dt)))),
    layer_mutant("gru-reset-before-matmul", "GRU applies the reset gate before the hidden "
                 "matmul, W_hn (r * h) (the paper's form), where torch uses r * (W_hn h + b_hn)",
                 "classic", Spec("GRUCell", 3, 4), ResetBeforeMatmulGRUCell,
                 args(normal(2, 3), normal(2, 4))),
    # --- convolution, normalisation, embedding ---------------------------------------------------
    layer_mutant("conv-same-symmetric-even-kernel", "padding='same' as k // 2 zeros on both "
                 "sides: for an even kernel the output grows by one", "classic",
                 Spec("Conv1d", 2, 3, 4, padding="same"), SymmetricSameConv1d,
                 args(normal(2, 2, 7))),
    layer_mutant("layernorm-eps-outside-sqrt", "LayerNorm divides by sqrt(var) + eps instead of "
                 "sqrt(var + eps): a relative change of ~5e-6, visible only to a tight "
                 "tolerance", "classic", Spec("LayerNorm", 6), EpsOutsideLayerNorm,
                 args(normal(3, 6))),
    layer_mutant("embedding-padding-gets-gradient", "Embedding's padding row keeps receiving "
                 "gradient; torch zeroes dweight[padding_idx]", "classic",
                 Spec("Embedding", 6, 3, padding_idx=1),
                 PaddingGradEmbedding, args(lambda rng, dt: np.array([[1, 2, 1], [0, 1, 5]]))),
    layer_mutant("batchnorm-biased-running-var", "BatchNorm stores the biased batch variance "
                 "(÷ n) in running_var; torch stores the unbiased one (÷ n - 1)", "classic",
                 Spec("BatchNorm1d", 3), BiasedRunningVarBatchNorm1d, args(normal(5, 3))),
    layer_mutant("maxpool-grad-to-every-tie", "max-pool backward sends the gradient to every "
                 "element equal to the window's maximum; torch picks one (the first)", "classic",
                 Spec("MaxPool2d", 2), TiedMaxPool2d,
                 args(lambda rng, dt: np.round(rng.standard_normal((1, 2, 4, 4))).astype(dt))),
    # --- optimizers ------------------------------------------------------------------------
    optimizer_mutant("sgd-dampening-first-step", "SGD applies (1 - dampening) to the first "
                     "gradient too; torch's buffer starts as an undampened copy of it",
                     "classic", DampenedFirstStepSGD, torch.optim.SGD,
                     lr=0.1, momentum=0.9, dampening=0.5),
    optimizer_mutant("sgd-keras-momentum", "momentum in Keras's/Sutskever's direction "
                     "v = mu v - lr g, p += v: lr sits inside the buffer, so a learning-rate "
                     "schedule changes the result", "classic", KerasMomentumSGD, torch.optim.SGD,
                     scheduler=lambda a, b: (LrDecay(a), LrDecay(b)), lr=0.1, momentum=0.9),
    optimizer_mutant("adam-no-bias-correction", "Adam without the bias corrections "
                     "1 - beta1^t and 1 - beta2^t (the first steps are far too small)", "classic",
                     NoBiasCorrectionAdam, torch.optim.Adam, lr=0.05),
    optimizer_mutant("adamw-decay-as-l2", "AdamW adds weight_decay * p to the gradient (Adam's "
                     "L2, normalised away by the moments) instead of shrinking p directly",
                     "classic", L2AdamW, torch.optim.AdamW, lr=0.05, weight_decay=0.5),
]


def all_mutants() -> list[Mutant]:
    """:data:`MUTANTS` plus every ``MUTANTS`` list of a catalogue family module (a family keeps
    its mutants beside its cases); names are unique."""
    from .catalogue import family_attr      # lazy: catalogue modules import this module

    out = list(MUTANTS)
    for _, extra in family_attr("MUTANTS"):
        out += extra
    names = [m.name for m in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"mutant names defined twice: {dup}")
    return out


def flagged(result: Result) -> bool:
    """A mutant is caught when any compared quantity fails (or the run errors)."""
    return not result.passed


def mutation_score(seed: int = 0, layers: set | None = None) -> list[tuple[Mutant, bool, Result]]:
    """Run every mutant (or those of ``layers``: a subset run's) in each of its dtypes;
    ``(mutant, caught, first result that caught it)``."""
    out = []
    for m in all_mutants():
        if layers is not None and m.case.layer not in layers:
            continue
        results = [run(m.case, dt, seed) for dt in m.case.dtypes]
        caught = [r for r in results if flagged(r)]
        out.append((m, bool(caught), caught[0] if caught else results[0]))
    return out
