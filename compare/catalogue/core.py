"""Core cases: the article's layers done right (Linear, Softmax family, activations, losses)
and a small MLP trained with SGD."""
from __future__ import annotations

import numpy as np

from reference import Spec, build, optimizer_pair, seq

from ..engine import Case, Inputs, Trajectory
from ..gen import args, classes, normal
from ..mutant_accum import MUTANTS, tied  # noqa: F401  (MUTANTS: the gallery reads it here)

ORDER = 10


def pair(spec: Spec, eval_mode: bool = False, seed: int | None = None):
    """``dtype -> (npimpl module, torch twin)`` for a spec; ``seed`` seeds the NumPy side's
    ``rng`` (the dropout masks its twin then shares), ``eval_mode`` puts both sides in eval."""
    def make(dt):
        np_mod, t_mod = build(spec, dt)
        if seed is not None:
            np_mod.rng = np.random.default_rng(seed)
        if eval_mode:
            np_mod.eval()
            t_mod.eval()
        return np_mod, t_mod
    return make


def single(name, spec, inputs, layer=None, family="core"):
    return Case(name, layer or spec.name, family, pair(spec), inputs)


def with_zeros(*shape):
    """Normal values with every third element exactly 0 (the ReLU kink)."""
    def gen(rng, dt):
        x = rng.standard_normal(shape).astype(dt)
        x.reshape(-1)[::3] = 0
        return x
    return gen


CASES = [
    # Linear: torch's (out, in) layout, any leading dims
    single("linear-2d", Spec("Linear", 5, 3), args(normal(4, 5))),
    single("linear-batch1", Spec("Linear", 7, 2), args(normal(1, 7))),
    single("linear-unbatched", Spec("Linear", 6, 4), args(normal(6))),
    single("linear-3d", Spec("Linear", 6, 4), args(normal(2, 3, 6))),
    single("linear-4d-odd", Spec("Linear", 13, 11), args(normal(3, 1, 5, 13))),
    single("linear-nobias", Spec("Linear", 5, 3, bias=False), args(normal(4, 5))),
    # one weight used by two layers: its gradient is the sum of both uses
    Case("linear-tied-weights", "Linear", "core", tied(), args(normal(3, 4))),
    # element-wise activations
    single("relu-kink", Spec("ReLU"), args(with_zeros(4, 7))),
    single("relu-3d", Spec("ReLU"), args(normal(2, 3, 5))),
    single("sigmoid", Spec("Sigmoid"), args(normal(4, 7, scale=3.0))),
    single("sigmoid-3d", Spec("Sigmoid"), args(normal(2, 1, 5))),
    single("tanh", Spec("Tanh"), args(normal(4, 7, scale=2.0))),
    single("tanh-batch1", Spec("Tanh"), args(normal(1, 9))),
    # shape layers
    single("flatten-default", Spec("Flatten"), args(normal(2, 3, 4, 5))),
    single("flatten-middle", Spec("Flatten", 1, 2), args(normal(2, 3, 4, 5))),
    single("unflatten", Spec("Unflatten", 1, (3, 4)), args(normal(2, 12, 5))),
    # softmax family, along several dims
    single("softmax-last", Spec("Softmax", dim=-1), args(normal(4, 7))),
    single("softmax-dim0", Spec("Softmax", dim=0), args(normal(5, 3))),
    single("softmax-3d-dim1", Spec("Softmax", dim=1), args(normal(2, 5, 3))),
    single("softmax-batch1", Spec("Softmax", dim=1), args(normal(1, 6, scale=4.0))),
    single("logsoftmax-last", Spec("LogSoftmax", dim=-1), args(normal(4, 7))),
    single("logsoftmax-dim0", Spec("LogSoftmax", dim=0), args(normal(5, 3))),
    single("logsoftmax-3d-dim1", Spec("LogSoftmax", dim=1), args(normal(2, 5, 3))),
    # losses, every reduction
    *[single(f"crossentropy-{r}", Spec("CrossEntropyLoss", reduction=r),
             args(normal(6, 5), classes(6, n=5)), family="loss") for r in ("none", "mean", "sum")],
    single("crossentropy-batch1", Spec("CrossEntropyLoss"), args(normal(1, 4), classes(1, n=4)),
           family="loss"),
    single("crossentropy-unbatched", Spec("CrossEntropyLoss"), args(normal(4), classes(n=4)),
           family="loss"),
    *[single(f"nll-{r}", Spec("NLLLoss", reduction=r), args(normal(6, 5), classes(6, n=5)),
             family="loss") for r in ("none", "mean", "sum")],
    *[single(f"mse-{r}", Spec("MSELoss", reduction=r), args(normal(4, 3), normal(4, 3)),
             family="loss") for r in ("none", "mean", "sum")],
]


# --- an MLP trained with SGD momentum / nesterov ---------------------------------------------
MLP = seq(Spec("Linear", 8, 16), Spec("ReLU"), Spec("Linear", 16, 16), Spec("Tanh"),
          Spec("Linear", 16, 3))


def blobs(n: int = 64, d: int = 8, k: int = 3, seed: int = 7):
    """A fixed synthetic classification task: k Gaussian blobs in d dimensions."""
    r = np.random.default_rng(seed)
    centres = r.standard_normal((k, d)) * 2.0
    y = r.integers(0, k, n)
    x = centres[y] + r.standard_normal((n, d))
    return x, y.astype(np.int64)


def full_batch(x, y):
    return lambda rng, dt, step: (x.astype(dt), y)


_X, _Y = blobs()
for nesterov in (False, True):
    CASES.append(Trajectory(
        f"mlp-sgd-{'nesterov' if nesterov else 'momentum'}", "Sequential", "training",
        model=pair(MLP), loss=pair(Spec("CrossEntropyLoss")), batches=full_batch(_X, _Y),
        optimizer=lambda m, t, n=nesterov: optimizer_pair("SGD", m, t, lr=0.05, momentum=0.9,
                                                          nesterov=n),
        steps=100))
