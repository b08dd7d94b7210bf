"""Corner cases that systematic mutation (``lockstep mutate``) found untested: implicit and
non-last softmax dims, recurrent cells with a bias at batch > 1, dilation along one axis,
non-finite pooling inputs, empty training batches, a −inf logit, one-element dropout,
max_norm exactly reached, weight decay 1, momentum 0 with dampening, short cosine periods,
``scheduler.step(epoch)``, LambdaLR reloaded, constructor defaults; and, for every class
whose torch twin starts with a constant parameter or buffer (a zero bias, a unit norm
weight, zero running statistics), a variant of its first case with those redrawn, so a
term that multiplies or adds them cannot hide.

Cases keep their class's ``layer`` and ``family``, so the report files them with the class.
"""
from __future__ import annotations

import importlib
import math
import pkgutil
from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch

import npimpl
from reference import SharedMaskDropout, Spec, build, share_weights

from ..engine import Case, Inputs, Result, Trajectory, guarded
from ..metrics import Metric, tolerance_for
from ..gen import args, classes, normal
from ..mutants import Mutant
from . import core
from . import models as _models
from .attention import mha_inputs
from .norm import randomized
from .optim import BATCHES, LOSS, MLP, Resume, opt, sched
from .recurrent import cell_case

ORDER = 95


def single(name, spec, inputs, family, layer=None, model=None):
    return Case(name, layer or spec.name, family, model or core.pair(spec), inputs)


def values(array):
    """A fixed float array in the case's dtype (non-finite values kept)."""
    a = np.asarray(array, dtype=np.float64)
    return lambda rng, dt: a.astype(dt)


def constant_tensors(t_mod) -> list:
    """``[(name, tensor)]``: the torch module's parameters and float buffers that hold one
    value throughout (torch's zero biases, unit norm weights, running statistics)."""
    if not isinstance(t_mod, torch.nn.Module):
        return []
    named = list(t_mod.named_parameters()) + [(n, b) for n, b in t_mod.named_buffers()
                                              if b.is_floating_point()]
    return [(n, v) for n, v in named if v.numel() > 1 and bool((v == v.reshape(-1)[0]).all())]


def redraw_constants_(t_mod) -> None:
    """Redraw what :func:`constant_tensors` finds, near its constant: ``c + N(0, 0.3)``
    (a zero bias, a unit weight, a zero running mean), a running variance from U(0.5, 2).
    Random weights keep torch's scale, so float32 rounding stays where the case had it."""
    with torch.no_grad():
        for name, v in constant_tensors(t_mod):
            if name.endswith("running_var"):
                v.copy_(torch.rand_like(v) * 1.5 + 0.5)
            else:
                v.add_(torch.randn_like(v) * 0.3)


def redrawn(spec: Spec, seed: int | None = None, train: bool = True):
    """``dtype -> (npimpl, torch)`` with the torch side's constant parameters and buffers
    redrawn (:func:`redraw_constants_`) and shared again."""
    def model(dt):
        np_mod, t_mod = build(spec, dt)
        redraw_constants_(t_mod)
        share_weights(np_mod, t_mod)
        if seed is not None:
            for m in np_mod.modules():
                if hasattr(m, "rng"):
                    m.rng = np.random.default_rng(seed)
        return (np_mod, t_mod) if train else (np_mod.eval(), t_mod.eval())
    return model


def embedding_at_max_norm(dt):
    """Embedding(5, 3, max_norm=1, norm_type=inf) whose row 2 has inf-norm exactly 1 (torch
    renormalises only rows *above* max_norm) and row 4 just above it."""
    np_mod, t_mod = build(Spec("Embedding", 5, 3, max_norm=1.0, norm_type=float("inf")), dt)
    with torch.no_grad():
        t_mod.weight[2] = torch.tensor([0.25, -1.0, 0.5])
        t_mod.weight[4] = torch.tensor([1.5, -0.25, 0.75])
    share_weights(np_mod, t_mod)
    return np_mod, t_mod


CASES = [
    # Softmax family: the implicit dim (torch's legacy rule: 0 for 0-, 1- and 3-D inputs, else
    # 1) and non-last dims of a 4-D input
    single("softmax-dim-none-2d", Spec("Softmax"), args(normal(3, 5)), "activation"),
    single("softmax-dim-none-3d", Spec("Softmax"), args(normal(2, 3, 4)), "activation"),
    single("softmax-dim-none-1d", Spec("Softmax"), args(normal(5)), "activation"),
    single("logsoftmax-dim-none-4d", Spec("LogSoftmax"), args(normal(2, 3, 2, 2)), "activation"),
    single("softmin-dim-none-3d", Spec("Softmin"), args(normal(3, 2, 4)), "activation"),
    single("softmax-4d-dim1", Spec("Softmax", dim=1), args(normal(2, 3, 4, 5)), "activation"),
    single("softmax-4d-dim-2", Spec("Softmax", dim=-2), args(normal(2, 3, 4, 5)), "activation"),
    single("logsoftmax-4d-dim1", Spec("LogSoftmax", dim=1), args(normal(2, 3, 4, 2)),
           "activation"),
    single("softmin-4d-dim0", Spec("Softmin", dim=0), args(normal(3, 2, 2, 4)), "activation"),
    # recurrent cells with a bias at batch 3: the bias gradient is a sum over the batch
    cell_case("RNNCell", "batch3-bias-hx", N=3, hx=True),
    cell_case("RNNCell", "relu-batch3-bias", N=3, nonlinearity="relu"),
    cell_case("LSTMCell", "batch3-bias-hx", N=3, hx=True),
    cell_case("LSTMCell", "batch3-bias", N=3),
    cell_case("GRUCell", "batch3-bias-hx", N=3, hx=True),
    cell_case("GRUCell", "batch3-bias", N=3),
    # MultiheadAttention with non-zero projection biases (torch initialises them to 0)
    Case("mha-redrawn-biases-masks", "MultiheadAttention", "attention",
         redrawn(Spec("MultiheadAttention", 8, 2, add_bias_kv=True), seed=0),
         mha_inputs(kpm="bool", attn="float")),
    Case("mha-redrawn-biases-batch-first-kdim", "MultiheadAttention", "attention",
         redrawn(Spec("MultiheadAttention", 8, 2, kdim=5, vdim=3, batch_first=True), seed=0),
         mha_inputs(kdim=5, vdim=3, N=2, batch_first=True)),
    # convolution dilated along one axis only
    single("conv2d-dilation-1x2", Spec("Conv2d", 2, 3, 3, dilation=(1, 2)),
           args(normal(2, 2, 6, 8)), "conv"),
    single("conv2d-dilation-2x1-stride-1x2", Spec("Conv2d", 2, 2, (2, 3), dilation=(2, 1),
                                                 stride=(1, 2), padding=(1, 0)),
           args(normal(1, 2, 6, 7)), "conv"),
    # AdaptiveAvgPool2d on inf, -inf and NaN (the branch that sums instead of multiplying)
    single("adaptiveavgpool2d-nonfinite", Spec("AdaptiveAvgPool2d", 2),
           args(values([[[[1.0, np.inf, 2.0, 3.0], [1.0, 2.0, -np.inf, 4.0],
                          [np.nan, 1.0, 2.0, 3.0]],
                         [[0.5, -1.0, 2.0, np.inf], [1.0, 2.0, 3.0, 4.0],
                          [-2.0, 1.0, -np.inf, 3.0]]]])), "pooling"),
    # BatchNorm training on an empty batch: output empty, running statistics untouched, the
    # counter still counts (statistics redrawn, so an update would show)
    single("batchnorm1d-empty-batch-train", Spec("BatchNorm1d", 3), args(normal(0, 3)), "norm",
           model=randomized(Spec("BatchNorm1d", 3))),
    single("batchnorm2d-empty-batch-train", Spec("BatchNorm2d", 2), args(normal(0, 2, 3, 3)),
           "norm", model=randomized(Spec("BatchNorm2d", 2))),
    single("batchnorm1d-momentum-none-empty", Spec("BatchNorm1d", 3, momentum=None),
           args(normal(0, 3, 4)), "norm",
           model=randomized(Spec("BatchNorm1d", 3, momentum=None))),
    # cross-entropy with a -inf logit (not the target's), no label smoothing
    *[single(f"crossentropy-neg-inf-logit-{r}", Spec("CrossEntropyLoss", reduction=r),
             args(values([[0.5, -np.inf, 1.0, -0.3], [2.0, 0.1, -np.inf, 0.0],
                          [-1.0, 0.3, 0.2, -np.inf]]),
                  lambda rng, dt: np.array([0, 3, 1])), "loss")
      for r in ("none", "mean")],
    # dropout of a one-element input (seed 1 drops it: the mask is 0)
    single("dropout-one-element", Spec("Dropout", 0.5), args(normal(1)), "norm",
           model=core.pair(Spec("Dropout", 0.5), seed=1)),
    single("dropout-one-element-2d-kept", Spec("Dropout", 0.5), args(normal(1, 1)), "norm",
           model=core.pair(Spec("Dropout", 0.5), seed=0)),
    single("dropout2d-2d-input", Spec("Dropout2d", 0.5), args(normal(4, 3)), "norm",
           model=core.pair(Spec("Dropout2d", 0.5), seed=2)),
    single("dropout2d-5d-input", Spec("Dropout2d", 0.5), args(normal(2, 3, 2, 2, 2)), "norm",
           model=core.pair(Spec("Dropout2d", 0.5), seed=3)),
    single("dropout3d-1d-input", Spec("Dropout3d", 0.5), args(normal(6)), "norm",
           model=core.pair(Spec("Dropout3d", 0.5), seed=4)),
    single("dropout3d-2d-input", Spec("Dropout3d", 0.5), args(normal(5, 3)), "norm",
           model=core.pair(Spec("Dropout3d", 0.5), seed=5)),
    # constructor defaults: Dropout() is p = 0.5
    single("dropout-default-p", Spec("Dropout"), args(normal(6, 5)), "norm",
           model=core.pair(Spec("Dropout"), seed=6)),
    # Embedding: max_norm with the inf-norm, one row exactly at max_norm
    Case("embedding-maxnorm-inf-at-bound", "Embedding", "norm", embedding_at_max_norm,
         args(lambda rng, dt: np.array([[2, 4, 1], [2, 0, 4]]))),
    # a Linear with no input features: the output is the bias (redrawn: torch's is 0)
    single("linear-zero-in-features", Spec("Linear", 0, 3), args(normal(4, 0)), "core",
           model=redrawn(Spec("Linear", 0, 3))),
]

def sequential_from_dict(dt):
    """``Sequential(OrderedDict(...))``: children named by the dict's keys, on both sides."""
    parts = [("fc", Spec("Linear", 4, 3)), ("act", Spec("Tanh")), ("out", Spec("Linear", 3, 2))]
    built = [(k, build(spec, dt)) for k, spec in parts]
    return (npimpl.Sequential(OrderedDict((k, a) for k, (a, _) in built)),
            torch.nn.Sequential(OrderedDict((k, b) for k, (_, b) in built)))


def with_kwargs(gen, **kwargs):
    """Forward keyword arguments beside the generated positional ones."""
    return lambda rng, dt: Inputs(tuple(gen(rng, dt)), dict(kwargs))


CASES += [
    Case("sequential-ordereddict", "Sequential", "core", sequential_from_dict,
         args(normal(5, 4))),
    single("unflatten-negative-dim-inferred", Spec("Unflatten", -1, (2, -1)),
           args(normal(3, 2, 8)), "core"),
    single("unflatten-dim0-inferred-first", Spec("Unflatten", 0, (-1, 3)), args(normal(6, 2)),
           "core"),
    # ConvTranspose2d.forward(x, output_size): the output padding it implies
    single("convtranspose2d-output-size-stride2-pad1", Spec("ConvTranspose2d", 2, 3, 3, stride=2,
                                                                      padding=1),
           with_kwargs(args(normal(2, 2, 4, 5)), output_size=(8, 10)), "conv"),
    single("convtranspose2d-output-size-4d-hi", Spec("ConvTranspose2d", 2, 2, (2, 3),
                                                     stride=(3, 2), padding=(0, 1)),
           with_kwargs(args(normal(1, 2, 3, 4)), output_size=(1, 2, 8, 8)), "conv"),
]


# --- functions compared directly: gradient clipping ---------------------------------------------
@dataclass
class Compared:
    """A comparison neither a Case nor a Trajectory fits: ``compute(dtype)`` returns
    ``[(quantity, numpy value, torch value)]``; an exception as a value means that side
    raised, and both sides must then raise (the row records which did)."""

    name: str
    layer: str
    family: str
    compute: Callable
    dtypes: tuple = ("float32", "float64")
    note: str = ""

    def run(self, dtype: str, seed: int = 0) -> Result:
        def body(rec, res):
            torch.manual_seed(seed)             # as the engine: torch-drawn weights repeat
            for quantity, a, b in self.compute(np.dtype(dtype)):
                raised = [isinstance(v, BaseException) for v in (a, b)]
                if isinstance(a, (str, list, tuple)) or isinstance(b, (str, list, tuple)):
                    same = a == b               # names, keys: equal or not
                    rec.add(quantity, "names", None, None,
                            Metric(0.0 if same else math.inf, 0.0 if same else math.inf,
                                   0.0 if same else math.inf, (), same,
                                   "" if same else f"numpy {a!r}, torch {b!r}"))
                elif any(raised):
                    same = all(raised)
                    note = (f"numpy: {type(a).__name__}" if raised[0] else "numpy returned") + \
                           (f", torch: {type(b).__name__}" if raised[1] else ", torch returned")
                    rec.add(quantity, "raises", None, None,
                            Metric(0.0 if same else math.inf, 0.0 if same else math.inf,
                                   0.0 if same else math.inf, (), same, note))
                else:
                    rec.add(quantity, "function", a, b)
        return guarded(self, dtype, tolerance_for(dtype), body)


def _outcome(fn):
    try:
        return fn()
    except Exception as exc:  # noqa: BLE001 - raising is one of the outcomes compared
        return exc


def clipped(kind, *a, grads, **kw):
    """``dtype -> rows``: ``npimpl.utils.clip_grad_<kind>_`` and torch's on the same
    gradients (``None``: a parameter without one), the return value and every gradient."""
    def compute(dt):
        gs = [None if g is None else np.asarray(g, dtype=dt) for g in grads]
        np_ps = [npimpl.Parameter(np.zeros(np.shape(g) if g is not None else 3, dt))
                 for g in gs]
        t_ps = [torch.nn.Parameter(torch.zeros(p.shape, dtype=getattr(torch, dt.name)))
                for p in np_ps]
        for p, t, g in zip(np_ps, t_ps, gs):
            p.grad = None if g is None else g.copy()
            t.grad = None if g is None else torch.from_numpy(g.copy())
        np_fn = getattr(npimpl.utils, f"clip_grad_{kind}_")
        t_fn = getattr(torch.nn.utils, f"clip_grad_{kind}_")
        one = len(np_ps) == 1                 # a lone Parameter, not a list
        with np.errstate(all="ignore"):
            a_ = _outcome(lambda: np_fn(np_ps[0] if one else np_ps, *a, **kw))
        b_ = _outcome(lambda: t_fn(t_ps[0] if one else t_ps, *a, **kw))
        rows = [("returned", a_, b_.detach().numpy() if isinstance(b_, torch.Tensor) else b_)]
        if not isinstance(a_, BaseException):
            rows += [(f"grad.{i}", p.grad, t.grad.numpy())
                     for i, (p, t, g) in enumerate(zip(np_ps, t_ps, gs)) if g is not None]
        return rows
    return compute


G = [[0.5, -2.0, 1.5], [3.0, 0.25]]
INF = [[0.5, -np.inf, 1.5], [3.0, 0.25]]
NAN = [[0.5, np.nan, 1.5], [3.0, 0.25]]
CASES += [
    *[Compared(f"clip-grad-norm-p{p}", "clip_grad_norm_", "optim",
               clipped("norm", 1.0, p, grads=G + [None]))
      for p in (2.0, 1.0, 3.0, 0.5, float("inf"), float("-inf"), 0.0)],
    Compared("clip-grad-norm-no-clipping", "clip_grad_norm_", "optim",
             clipped("norm", 100.0, grads=G)),
    Compared("clip-grad-norm-lone-parameter", "clip_grad_norm_", "optim",
             clipped("norm", 0.5, grads=G[:1])),
    Compared("clip-grad-norm-no-gradients", "clip_grad_norm_", "optim",
             clipped("norm", 0.5, grads=[None, None])),
    *[Compared(f"clip-grad-norm-{tag}-{flag}", "clip_grad_norm_", "optim",
               clipped("norm", 1.0, grads=g, error_if_nonfinite=flag))
      for tag, g in (("inf", INF), ("nan", NAN)) for flag in (False, True)],
    Compared("clip-grad-norm-inf-norm-of-nan", "clip_grad_norm_", "optim",
             clipped("norm", 1.0, float("inf"), grads=NAN)),
    Compared("clip-grad-value", "clip_grad_value_", "optim", clipped("value", 1.0, grads=G)),
    Compared("clip-grad-value-nan-inf", "clip_grad_value_", "optim",
             clipped("value", 0.75, grads=[[np.nan, np.inf, -np.inf, 0.5]])),
    Compared("clip-grad-value-negative", "clip_grad_value_", "optim",
             clipped("value", -0.5, grads=G)),
]

# --- optimizers and schedules: short runs of the optim family's MLP -----------------------------
STEPS = 6


def short(name, layer, optimizer, scheduler=None, steps=STEPS, note=""):
    return Trajectory(name, layer, "optim", model=core.pair(MLP), loss=LOSS, batches=BATCHES,
                      optimizer=optimizer, steps=steps, scheduler=scheduler, note=note)


class AtEpochs:
    """A scheduler stepped with an explicit epoch (``step(epoch)``, deprecated in torch but
    supported: the closed form where the scheduler has one), the same on both sides."""

    def __init__(self, sched, epochs):
        self.sched, self.epochs, self.k = sched, list(epochs), 0

    def step(self):
        self.sched.step(self.epochs[self.k])
        self.k += 1


def at_epochs(name, *a, epochs, **kw):
    make = sched(name, *a, **kw)

    def both(o, t):
        np_s, t_s = make(o, t)
        return AtEpochs(np_s, epochs), AtEpochs(t_s, epochs)
    return both


EPOCHS = [3, 1, 7, 7, 2, 10]          # out of order, repeated, past a milestone

CASES += [
    # weight_decay = 1.0 (a decay of exactly 1 must not be mistaken for "no decay")
    *[short(f"{n.lower()}-weight-decay-1", n, opt(n, lr=lr, weight_decay=1.0))
      for n, lr in (("SGD", 0.05), ("Adam", 1e-2), ("AdamW", 1e-2), ("RMSprop", 1e-3),
                    ("Adagrad", 0.05), ("Adamax", 1e-2), ("NAdam", 1e-2))],
    short("adam-beta1-0.3", "Adam", opt("Adam", lr=1e-2, betas=(0.3, 0.9)),
          note="1 - beta1 >= 0.5: torch's lerp takes its other form, end - (end - start)(1 - w)"),
    short("sgd-named-parameters", "SGD", lambda m, t: (
        npimpl.optim.SGD(list(m.named_parameters()), lr=0.1, momentum=0.5),
        torch.optim.SGD(list(t.named_parameters()), lr=0.1, momentum=0.5)),
        note="parameters given as (name, parameter) pairs: the groups keep param_names"),
    short("sgd-momentum0-dampening", "SGD", opt("SGD", lr=0.1, momentum=0.0, dampening=0.5),
          note="dampening only scales a momentum buffer; with momentum 0 there is none"),
    # constructor defaults: torch's lr, betas, eps, momentum
    short("sgd-defaults", "SGD", lambda m, t: (npimpl.optim.SGD(list(m.parameters())),
                                               torch.optim.SGD(list(t.parameters())))),
    *[short(f"{n.lower()}-defaults", n, lambda m, t, n=n: (
        getattr(npimpl.optim, n)(list(m.parameters())),
        getattr(torch.optim, n)(list(t.parameters()))))
      for n in ("Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam")],
    short("linearlr-default-start-factor", "LinearLR", opt("SGD", lr=0.1),
          sched("LinearLR", total_iters=4)),
    short("cosineannealinglr-short-tmax", "CosineAnnealingLR", opt("SGD", lr=0.1),
          sched("CosineAnnealingLR", T_max=2, eta_min=0.01), steps=9,
          note="past T_max the recursive form climbs back up"),
    *[short(f"{n.lower()}-step-epoch", n, opt("SGD", lr=0.1), at_epochs(n, *a, epochs=EPOCHS,
                                                                       **kw))
      for n, a, kw in (("StepLR", (), dict(step_size=3, gamma=0.5)),
                       ("MultiStepLR", (), dict(milestones=[2, 7], gamma=0.3)),
                       ("ExponentialLR", (0.8,), {}),
                       ("CosineAnnealingLR", (), dict(T_max=4, eta_min=0.01)),
                       ("LinearLR", (), dict(start_factor=0.2, total_iters=5)),
                       ("LambdaLR", (lambda e: 1.0 / (1.0 + e),), {}))],
    Resume("lambdalr-resume", "LambdaLR", "optim", model=core.pair(MLP), loss=LOSS,
           batches=BATCHES, optimizer=opt("SGD", lr=0.1, momentum=0.9),
           scheduler=sched("LambdaLR", lambda e: 0.9 ** e), steps=8, resume_at=4,
           note="LambdaLR's state_dict and load_state_dict (the lambda itself is not saved)"),
]


# --- more paths the mutation run found unexecuted ----------------------------------------------
def digits_mlp(in_features, hidden):
    """DigitsMLP with in_features != hidden (the default 64/64 cannot tell them apart)."""
    from npimpl.models import DigitsMLP
    from reference.models import torch_digits_mlp

    def model(dt):
        t = torch_digits_mlp(in_features, hidden, dtype=getattr(torch, dt.name))
        m = DigitsMLP(in_features, hidden, dtype=dt.type)
        share_weights(m, t)
        return m, t
    return model


def zero_filled(name, **kw):
    """An optimizer pair whose ``zero_grad`` keeps the arrays (``set_to_none=False``)."""
    class ZeroFill:
        def __init__(self, opt):
            self.opt, self.param_groups = opt, opt.param_groups

        def zero_grad(self):
            self.opt.zero_grad(set_to_none=False)

        def step(self):
            self.opt.step()

    def make(m, t):
        a, b = opt(name, **kw)(m, t)
        return ZeroFill(a), ZeroFill(b)
    return make


def sdpa_function(shapes, **kw):
    """``npimpl.scaled_dot_product_attention`` (the function) against torch's, forward."""
    def compute(dt):
        r = np.random.default_rng(0)
        q, k, v = (r.standard_normal(s).astype(dt) for s in shapes)
        a = npimpl.scaled_dot_product_attention(q, k, v, **kw)
        b = torch.nn.functional.scaled_dot_product_attention(
            *(torch.from_numpy(x) for x in (q, k, v)), **kw)
        return [("out", a, b.numpy())]
    return compute


INPLACE = ("ReLU", "LeakyReLU", "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "ELU", "CELU",
           "SELU", "SiLU", "Mish")
CASES += [
    # in-place activations after a Linear (torch refuses in-place on a leaf)
    *[Case(f"{n.lower()}-inplace-in-sequential", n, "activation",
           core.pair(Spec("Sequential", Spec("Linear", 4, 6), Spec(n, inplace=True),
                          Spec("Linear", 6, 3))), args(normal(5, 4)))
      for n in INPLACE if "inplace" in __import__("inspect").signature(
          getattr(npimpl, n)).parameters],
    single("softmax-dim-none-0d", Spec("Softmax"), args(values(0.7)), "activation"),
    # recurrent: the default dropout between layers (0) in training, and dropout 1
    *[single(f"{n.lower()}-layers2-default-dropout-train", Spec(n, 3, 4, num_layers=2),
             args(normal(5, 2, 3)), "recurrent", model=core.pair(Spec(n, 3, 4, num_layers=2),
                                                                 seed=0))
      for n in ("RNN", "GRU", "LSTM")],
    *[single(f"{n.lower()}-layers2-dropout1", Spec(n, 3, 4, num_layers=2, dropout=1.0),
             args(normal(5, 2, 3)), "recurrent",
             model=core.pair(Spec(n, 3, 4, num_layers=2, dropout=1.0), seed=0))
      for n in ("GRU", "LSTM")],
    single("instancenorm1d-train-length2", Spec("InstanceNorm1d", 3, affine=True),
           args(normal(2, 3, 2)), "norm",
           model=randomized(Spec("InstanceNorm1d", 3, affine=True))),
    # scaled dot-product attention: unbatched 2-D inputs, the module's defaults in training,
    # the function itself, grouped-query heads whose count equals the feature size
    single("sdpa-2d-unbatched", Spec("ScaledDotProductAttention"),
           args(normal(5, 3), normal(4, 3), normal(4, 2)), "attention"),
    single("sdpa-module-defaults-train", Spec("ScaledDotProductAttention"),
           args(normal(2, 3, 5, 4), normal(2, 3, 6, 4), normal(2, 3, 6, 4)), "attention",
           model=core.pair(Spec("ScaledDotProductAttention"), seed=0)),
    Compared("sdpa-function-causal-scale", "ScaledDotProductAttention", "attention",
             sdpa_function(((2, 2, 5, 3), (2, 2, 5, 3), (2, 2, 5, 4)), is_causal=True,
                           scale=0.7)),
    Compared("sdpa-function-defaults", "ScaledDotProductAttention", "attention",
             sdpa_function(((3, 5, 4), (3, 6, 4), (3, 6, 2)))),
    single("sdpa-gqa-heads-equal-features", Spec("ScaledDotProductAttention", enable_gqa=True),
           args(normal(1, 3, 5, 3), normal(1, 1, 4, 3), normal(1, 1, 4, 2)), "attention"),
    Case("digitsmlp-20-in-12-hidden", "DigitsMLP", "models", digits_mlp(20, 12),
         args(normal(6, 20))),
]
CASES += [
    short("sgd-momentum-zero-grad-set-to-zero", "SGD", zero_filled("SGD", lr=0.1, momentum=0.9),
          note="zero_grad(set_to_none=False): the gradient arrays are kept and zeroed"),
    short("onecycle-three-phase-linear", "OneCycleLR", opt("SGD", lr=0.1, momentum=0.9),
          sched("OneCycleLR", max_lr=0.3, total_steps=10, three_phase=True,
                anneal_strategy="linear"), steps=10),
    short("onecycle-epochs-steps-per-epoch", "OneCycleLR", opt("Adam", lr=0.01),
          sched("OneCycleLR", max_lr=0.05, epochs=3, steps_per_epoch=3, pct_start=0.4,
                div_factor=10.0, final_div_factor=100.0), steps=9),
]


def resumed(name, *a, last_epoch=3, **kw):
    """A scheduler built with ``last_epoch`` > -1, as when resuming: torch asks for each
    group's ``initial_lr``, and the first step takes the closed form."""
    make = sched(name, *a, last_epoch=last_epoch, **kw)

    def both(o, t):
        for opt_ in (o, t):
            for g in opt_.param_groups:
                g["initial_lr"] = g["lr"]
        return make(o, t)
    return both


CASES += [
    # GaussianNLLLoss with a variance of one dim fewer than a 3-D input
    single("gaussiannll-3d-var-one-dim-fewer", Spec("GaussianNLLLoss", reduction="none"),
           args(normal(2, 3, 4), normal(2, 3, 4), lambda rng, dt: rng.uniform(
               0.2, 2.0, (2, 3)).astype(dt)), "loss"),
    single("sdpa-gqa-3d", Spec("ScaledDotProductAttention", enable_gqa=True),
           args(normal(4, 5, 3), normal(2, 6, 3), normal(2, 6, 2)), "attention"),
    *[short(f"{n.lower()}-resumed-last-epoch", n, opt("SGD", lr=0.1), resumed(n, *a, **kw))
      for n, a, kw in (("CosineAnnealingLR", (), dict(T_max=5, eta_min=0.01)),
                       ("StepLR", (), dict(step_size=2, gamma=0.5)),
                       ("MultiStepLR", (), dict(milestones=[4, 6], gamma=0.3)),
                       ("ExponentialLR", (0.8,), {}),
                       ("LinearLR", (), dict(start_factor=0.2, total_iters=6)),
                       ("LambdaLR", (lambda e: 1.0 / (1.0 + e),), {}))],
]


def none_grad_where(test):
    """An upstream gradient that is None (= zero, the contract) for the outputs ``test``
    picks by shape, normal elsewhere."""
    return lambda rng, o: None if test(o.shape) else rng.standard_normal(o.shape).astype(o.dtype)


CASES += [
    # backward with None for some outputs: the recurrent layers' output or final state, and
    # MultiheadAttention's weights
    Case("gru-grad-none-for-output", "GRU", "recurrent", core.pair(Spec("GRU", 3, 4)),
         args(normal(5, 2, 3)), grad=none_grad_where(lambda s: s[0] == 5)),
    Case("lstm-grad-none-for-state", "LSTM", "recurrent",
         core.pair(Spec("LSTM", 3, 4, num_layers=2)), args(normal(5, 2, 3)),
         grad=none_grad_where(lambda s: s[0] == 2)),
    Case("mha-grad-none-for-weights", "MultiheadAttention", "attention",
         core.pair(Spec("MultiheadAttention", 8, 2)), mha_inputs(L=6, S=6),
         grad=none_grad_where(lambda s: s == (1, 6, 6))),
    # recurrent layers of one input feature and one hidden unit (the smallest torch accepts)
    *[single(f"{n.lower()}-input1-hidden1", Spec(n, 1, 1), args(normal(4, 2, 1)), "recurrent")
      for n in ("RNN", "GRU", "LSTM")],
]


def embeddingbag_offsets(offsets):
    """EmbeddingBag on a 1-D input with odd ``offsets``: both sides raise, or both agree."""
    def compute(dt):
        np_mod, t_mod = build(Spec("EmbeddingBag", 6, 3, mode="sum"), dt)
        idx = np.array([1, 2, 4, 5, 0])
        off = np.array(offsets)
        a = _outcome(lambda: np_mod(idx, off))
        b = _outcome(lambda: t_mod(torch.from_numpy(idx), torch.from_numpy(off)).detach().numpy())
        return [("out", a, b)]
    return compute


def gelu_erf_ranges(rng, dt):
    """GELU inputs across every range of the float32 erf npimpl reproduces (|x|/sqrt(2) below
    2^-28, below 0.84375, 1.25, 1/0.35, 6 and beyond)."""
    x = np.concatenate([np.linspace(-12, 12, 97), [1e-9, -3e-9, 1.19, -1.2, 1.76, 1.77]])
    return x.reshape(1, -1).astype(dt)


CASES += [
    *[Compared(f"embeddingbag-offsets-{tag}", "EmbeddingBag", "norm", embeddingbag_offsets(o))
      for tag, o in (("past-the-input", [0, 2, 7]), ("not-from-0", [1, 3]),
                     ("last-equals-length", [0, 2, 5]))],
    single("gelu-erf-ranges", Spec("GELU"), args(gelu_erf_ranges), "activation"),
    single("mse-mean-one-element", Spec("MSELoss"), args(normal(1), normal(1)), "loss"),
    # causal attention whose scores reach ~1e4: only the max shift keeps exp finite
    Case("causalselfattention-large-scores", "CausalSelfAttention", "models",
         _models.mirrored(_models.CausalSelfAttention, _models.TorchCausalSelfAttention,
                          _models._SMALL), args(normal(2, 5, 8, scale=60.0))),
]


def optimizer_state(name, steps=3, **kw):
    """``optimizer.state_dict()`` after a few steps on both sides: every state entry (the
    step counter, the moment buffers) and every group option, as torch keeps them."""
    def compute(dt):
        np_model, t_model = core.pair(MLP)(dt)
        np_opt, t_opt = opt(name, **kw)(np_model, t_model)
        np_loss, t_loss = LOSS(dt)
        x, y = BATCHES(None, dt, 0)
        for _ in range(steps):
            np_opt.zero_grad()
            np_loss(np_model(x), y)
            np_model.backward(np_loss.backward())
            np_opt.step()
            t_opt.zero_grad()
            t_loss(t_model(torch.from_numpy(x)), torch.from_numpy(y)).backward()
            t_opt.step()
        a, b = np_opt.state_dict(), t_opt.state_dict()
        rows = [("state keys", sorted(map(str, a["state"])), sorted(map(str, b["state"])))]
        for k in b["state"]:
            sa, sb = a["state"].get(k, {}), b["state"][k]
            rows.append((f"state[{k}] names", sorted(sa), sorted(sb)))
            rows += [(f"state[{k}].{n}", np.asarray(sa[n], dtype=np.float64),
                      sb[n].double().numpy() if isinstance(sb[n], torch.Tensor)
                      else np.asarray(sb[n], dtype=np.float64)) for n in sb if n in sa]
        for i, (ga, gb) in enumerate(zip(a["param_groups"], b["param_groups"])):
            rows += [(f"group[{i}].{n}", np.asarray(ga[n], dtype=np.float64),
                      np.asarray(gb[n], dtype=np.float64))
                     for n in gb if n in ga and isinstance(gb[n], (int, float, tuple))
                     and not isinstance(gb[n], bool) and gb[n] is not None]
        return rows
    return compute


CASES += [
    *[short(f"{n.lower()}-maximize", n, opt(n, lr=lr, maximize=True), steps=4)
      for n, lr in (("SGD", 0.02), ("Adam", 1e-3), ("AdamW", 1e-3), ("RMSprop", 1e-3),
                    ("Adagrad", 0.02), ("Adamax", 1e-3), ("NAdam", 1e-3))],
    *[Compared(f"{n.lower()}-state-dict", n, "optim", optimizer_state(n, **kw))
      for n, kw in (("SGD", dict(lr=0.1, momentum=0.9)), ("Adam", dict(lr=1e-2, amsgrad=True)),
                    ("AdamW", dict(lr=1e-2)), ("RMSprop", dict(lr=1e-2, momentum=0.5,
                                                               centered=True)),
                    ("Adagrad", dict(lr=0.1)), ("Adamax", dict(lr=1e-2)),
                    ("NAdam", dict(lr=1e-2)))],
    single("avgpool2d-output-1x1", Spec("AvgPool2d", 3), args(normal(2, 2, 3, 4)), "pooling"),
    single("flatten-0d", Spec("Flatten", 0, -1), args(values(1.5)), "core"),
    single("sdpa-3d-mask-broadcast-batch", Spec("ScaledDotProductAttention"),
           lambda rng, dt: Inputs(tuple(rng.standard_normal(s).astype(dt) for s in
                                        ((2, 5, 3), (1, 4, 3), (1, 4, 2))),
                                  {"attn_mask": rng.standard_normal((2, 5, 4)).astype(dt)}),
           "attention"),
    single("conv1d-reflect-one-tuple-padding", Spec("Conv1d", 2, 3, 3, padding=(2,),
                                                    padding_mode="reflect"),
           args(normal(2, 2, 7)), "conv"),
    single("kldiv-batchmean-0d", Spec("KLDivLoss", reduction="batchmean"),
           args(values(-0.7), values(0.4)), "loss"),
    single("crossentropy-probs-one-row-mean", Spec("CrossEntropyLoss"),
           args(normal(1, 4), lambda rng, dt: np.array([[0.1, 0.2, 0.3, 0.4]], dtype=dt)),
           "loss"),
    single("convtranspose2d-unbatched-output-size-3", Spec("ConvTranspose2d", 2, 3, 3,
                                                            stride=2),
           with_kwargs(args(normal(2, 3, 4)), output_size=(3, 8, 10)), "conv"),
    Compared("lstm-hx-not-a-pair", "LSTM", "recurrent", lambda dt: [(
        "out", _outcome(lambda: build(Spec("LSTM", 3, 4), dt)[0](
            np.zeros((5, 2, 3), dt), np.zeros((1, 2, 4), dt))),
        _outcome(lambda: build(Spec("LSTM", 3, 4), dt)[1](
            torch.zeros(5, 2, 3, dtype=getattr(torch, dt.name)),
            torch.zeros(1, 2, 4, dtype=getattr(torch, dt.name)))))]),
    # the deprecated size_average / reduce flags, each given alone
    single("mse-legacy-reduce-true", Spec("MSELoss", reduce=True), args(normal(3, 2),
                                                                        normal(3, 2)), "loss"),
    single("l1-legacy-size-average-false", Spec("L1Loss", size_average=False),
           args(normal(3, 2), normal(3, 2)), "loss"),
    single("layernorm-zero-features", Spec("LayerNorm", 0), args(normal(3, 0)), "norm"),
    Case("embeddingbag-max-empty-bag", "EmbeddingBag", "norm",
         core.pair(Spec("EmbeddingBag", 6, 3, mode="max")),
         args(lambda rng, dt: np.array([1, 2, 4, 5, 0]), lambda rng, dt: np.array([0, 2, 2]))),
]


# --- module API: reset_parameters after training, attribute registration, zero_grad ------------
def reset_after_redraw(spec):
    """Redraw every parameter and buffer on both sides, then ``reset_parameters()``: torch's
    norm layers reset to ones, zeros and fresh statistics (no random draw), so the values
    compare exactly."""
    def compute(dt):
        np_mod, t_mod = build(spec, dt)
        torch.manual_seed(1)
        from .norm import randomize_
        randomize_(t_mod)
        share_weights(np_mod, t_mod)
        np_mod.reset_parameters()
        t_mod.reset_parameters()
        t_state = {k: v.numpy() for k, v in t_mod.state_dict().items()}
        return [(f"state.{k}", v, t_state.get(k)) for k, v in np_mod.state_dict().items()]
    return compute


def registration(dt):
    """Attributes filed as torch's ``__setattr__`` files them: a module replaced by a
    parameter, a parameter by None, a module by None and by a module again. (Not a
    parameter replaced by a module: torch refuses that with a TypeError, npimpl accepts it —
    a difference reported to the lead, not compared here.)"""
    np_mod, t_mod = build(Spec("Linear", 3, 2), dt)
    t_dt = getattr(torch, dt.name)
    steps = [("extra = module", lambda m, lib: setattr(m, "extra", lib.Tanh())),
             ("extra = parameter", lambda m, lib: setattr(
                 m, "extra", torch.nn.Parameter(torch.zeros(2, dtype=t_dt))
                 if lib is torch.nn else npimpl.Parameter(np.zeros(2, dt)))),
             ("bias = None", lambda m, lib: setattr(m, "bias", None)),
             ("sub = module", lambda m, lib: setattr(m, "sub", lib.Linear(2, 2))),
             ("sub = None", lambda m, lib: setattr(m, "sub", None)),
             ("sub = module again", lambda m, lib: setattr(m, "sub", lib.ReLU())),
             ("del sub", lambda m, lib: delattr(m, "sub")),
             ("del extra", lambda m, lib: delattr(m, "extra")),
             ("buffers", lambda m, lib: (m.register_buffer("kept", _arr(lib, dt, 2)),
                                         m.register_buffer("scratch", _arr(lib, dt, 3),
                                                           persistent=False))),
             ("kept = new array", lambda m, lib: setattr(m, "kept", _arr(lib, dt, 2) + 1)),
             ("add_module", lambda m, lib: m.add_module("head", lib.Linear(2, 1))),
             ("del scratch", lambda m, lib: delattr(m, "scratch"))]
    rows = []
    for what, op in steps:
        op(np_mod, npimpl)
        op(t_mod, torch.nn)
        rows.append((f"{what}: buffers", [n for n, _ in np_mod.named_buffers()],
                     [n for n, _ in t_mod.named_buffers()]))
        t_buf = dict(t_mod.named_buffers())      # parameters of new children are drawn apart
        rows += [(f"{what}: buffer {k}", np.asarray(v, np.float64),
                  t_buf[k].double().numpy() if k in t_buf else np.full(np.shape(v), np.nan))
                 for k, v in np_mod.named_buffers()]
        rows.append((f"{what}: attributes", [n for n in ("extra", "sub", "kept", "scratch",
                                                         "head") if hasattr(np_mod, n)],
                     [n for n in ("extra", "sub", "kept", "scratch", "head")
                      if hasattr(t_mod, n)]))
        rows += [(f"{what}: parameters", [n for n, _ in np_mod.named_parameters()],
                  [n for n, _ in t_mod.named_parameters()]),
                 (f"{what}: modules", [n for n, _ in np_mod.named_modules()],
                  [n for n, _ in t_mod.named_modules()]),
                 (f"{what}: state_dict", list(np_mod.state_dict()), list(t_mod.state_dict()))]
    return rows


def _arr(lib, dt, n):
    """An array of n zeros for npimpl, a tensor for torch (``lib`` is npimpl or torch.nn)."""
    return torch.zeros(n, dtype=getattr(torch, dt.name)) if lib is torch.nn else np.zeros(n, dt)


def both_raise_or_agree(make_np, make_t):
    """``dtype -> [('out', numpy outcome, torch outcome)]``: both raise, or both compute."""
    def compute(dt):
        a = _outcome(lambda: make_np(dt))
        b = _outcome(lambda: make_t(dt))
        return [("out", a, b.detach().numpy() if isinstance(b, torch.Tensor) else b)]
    return compute


def _on_both(spec, x_shape, train=True, **fwd):
    """The (npimpl, torch) forward of ``spec`` on zeros of ``x_shape``, each side alone."""
    def side(i):
        def run_(dt):
            m = build(spec, dt)[i]
            m.train(train)
            x = np.random.default_rng(0).standard_normal(x_shape).astype(dt)
            return m(x if i == 0 else torch.from_numpy(x), **fwd)
        return run_
    return side(0), side(1)


def zero_grad_kept(dt):
    """``Module.zero_grad(set_to_none=False)`` keeps zeroed arrays; the default drops them."""
    np_mod, t_mod = build(Spec("Sequential", Spec("Linear", 3, 2), Spec("Tanh"),
                               Spec("Linear", 2, 2)), dt)
    x = np.random.default_rng(0).standard_normal((4, 3)).astype(dt)
    y = np_mod(x)
    np_mod.backward(np.ones_like(y))
    t_mod(torch.from_numpy(x)).sum().backward()
    np_mod[2].bias.grad = None                  # one parameter without a gradient
    t_mod[2].bias.grad = None
    np_mod.zero_grad(set_to_none=False)
    t_mod.zero_grad(set_to_none=False)
    rows = [(f"grad.{n}", p.grad, t.grad.numpy() if t.grad is not None else None)
            for (n, p), (_, t) in zip(np_mod.named_parameters(), t_mod.named_parameters())]
    np_mod.zero_grad()
    t_mod.zero_grad()
    rows.append(("grads after zero_grad()", [n for n, p in np_mod.named_parameters()
                                             if p.grad is not None],
                 [n for n, p in t_mod.named_parameters() if p.grad is not None]))
    return rows


def sequential_api(dt):
    """len, indexing, slicing, iteration and append of Sequential, as torch's."""
    np_mod, t_mod = build(Spec("Sequential", Spec("Linear", 3, 4), Spec("Tanh"),
                               Spec("Linear", 4, 2), Spec("ReLU")), dt)
    rows = [("len", [len(np_mod)], [len(t_mod)]),
            ("[-1]", type(np_mod[-1]).__name__, type(t_mod[-1]).__name__),
            ("[1:3]", [type(m).__name__ for m in np_mod[1:3]],
             [type(m).__name__ for m in t_mod[1:3]]),
            ("iter", [type(m).__name__ for m in np_mod], [type(m).__name__ for m in t_mod])]
    np_mod.append(npimpl.Sigmoid())
    t_mod.append(torch.nn.Sigmoid())
    rows.append(("after append", [n for n, _ in np_mod.named_modules()],
                 [n for n, _ in t_mod.named_modules()]))
    x = np.random.default_rng(1).standard_normal((2, 3)).astype(dt)
    rows.append(("out", np_mod[1:4](np_mod[0](x)),
                 t_mod[1:4](t_mod[0](torch.from_numpy(x))).detach().numpy()))
    return rows


CASES += [
    # odd inputs both sides must refuse (or agree on): empty spatial dims of an unbatched
    # pool input, dims of a 0-d softmax, an InstanceNorm with one spatial element, an LSTM
    # state that is not a pair
    *[Compared(f"{spec.name.lower()}-{tag}", spec.name, fam, both_raise_or_agree(
        *_on_both(spec, shape, train)))
      for tag, spec, shape, train, fam in (
          ("unbatched-empty-height", Spec("MaxPool2d", 2), (3, 0, 4), True, "pooling"),
          ("unbatched-empty-width", Spec("AvgPool2d", 2), (3, 4, 0), True, "pooling"),
          ("spatial-1x1", Spec("MaxPool2d", 1), (2, 3, 1, 1), True, "pooling"),
          ("1x1-train", Spec("InstanceNorm2d", 3), (2, 3, 1, 1), True, "norm"),
          ("1x1-eval-stats", Spec("InstanceNorm2d", 3, track_running_stats=True), (2, 3, 1, 1),
           False, "norm"))],
    *[Compared(f"softmax-0d-dim{d}", "Softmax", "activation", both_raise_or_agree(
        *_on_both(Spec("Softmax", dim=d), ()))) for d in (-2, -1, 0, 1)],
    Compared("lstm-hx-three-arrays", "LSTM", "recurrent", lambda dt: [(
        "out", _outcome(lambda: build(Spec("LSTM", 3, 4), dt)[0](
            np.zeros((5, 2, 3), dt), tuple(np.zeros((1, 2, 4), dt) for _ in range(3)))),
        _outcome(lambda: build(Spec("LSTM", 3, 4), dt)[1](
            torch.zeros(5, 2, 3, dtype=getattr(torch, dt.name)),
            tuple(torch.zeros(1, 2, 4, dtype=getattr(torch, dt.name)) for _ in range(3)))))]),
    single("unflatten-inferred-middle", Spec("Unflatten", 1, (2, -1, 3)), args(normal(2, 12)),
           "core"),
    single("crossentropy-probs-none-2d", Spec("CrossEntropyLoss", reduction="none"),
           args(normal(3, 4), lambda rng, dt: rng.dirichlet(np.ones(4), 3).astype(dt)), "loss"),
    # dropout with the generator the module made itself (no rng given): masks shared as usual
    single("mha-dropout-own-rng", Spec("MultiheadAttention", 8, 2, dropout=0.3),
           mha_inputs(L=5, S=5), "attention"),
    single("encoderlayer-dropout-own-rng", Spec("TransformerEncoderLayer", 8, 2,
                                                dim_feedforward=12, dropout=0.3),
           args(normal(5, 2, 8)), "attention"),
]


CASES += [
    *[Compared(f"reset-parameters-{spec.name.lower()}", spec.name, "norm",
               reset_after_redraw(spec)) for spec in (
        Spec("BatchNorm1d", 3), Spec("LayerNorm", 4), Spec("GroupNorm", 2, 4),
        Spec("InstanceNorm2d", 3, affine=True, track_running_stats=True), Spec("RMSNorm", 4))],
    Compared("module-attribute-registration", "Module", "core", registration),
    Compared("module-zero-grad-keep", "Module", "core", zero_grad_kept),
    Compared("sequential-api", "Sequential", "core", sequential_api),
]


# --- default initialisation of the configurations the bad-input table does not build ----------
#: compared by :func:`compare.init.extra_init_rows` beside the one configuration per class of
#: the report's init rows. Not here: parameters drawn from a normal (MultiheadAttention's
#: bias_k/bias_v, an Embedding's padding row), whose sample range — which
#: :func:`compare.init.compare_values` also bounds — wanders too far at 2,000 values.
INIT_SPECS = [
    ("mha-kdim-vdim", Spec("MultiheadAttention", 8, 2, kdim=5, vdim=3)),
    ("lstm-proj-bidir", Spec("LSTM", 3, 4, proj_size=2, num_layers=2, bidirectional=True)),
    ("conv2d-groups", Spec("Conv2d", 4, 6, (3, 2), groups=2)),
    ("convtranspose2d-groups", Spec("ConvTranspose2d", 4, 6, 3, groups=2)),
    ("linear-nobias", Spec("Linear", 5, 3, bias=False)),
    ("linear-1-in", Spec("Linear", 1, 3)),
    ("linear-0-in", Spec("Linear", 0, 3)),
    ("layernorm-nobias", Spec("LayerNorm", 4, bias=False)),
]


# --- every class whose torch twin starts from a constant: its first case, redrawn --------------
def _first_cases_of_each_class():
    seen, out = set(), []
    for info in pkgutil.iter_modules(importlib.import_module(__package__).__path__):
        if info.name == __name__.rsplit(".", 1)[1]:
            continue
        mod = importlib.import_module(f"{__package__}.{info.name}")
        for c in getattr(mod, "CASES", []):
            if isinstance(c, Case) and not hasattr(c, "run") and c.layer not in seen:
                seen.add(c.layer)
                out.append(c)
    return out


def _redrawn_variant(case: Case) -> Case | None:
    torch.manual_seed(0)
    try:
        _, t_mod = case.model(np.dtype("float64"))
    except Exception:  # noqa: BLE001 - a case that cannot build is the engine's to report
        return None
    if not constant_tensors(t_mod):
        return None

    def model(dt, base=case.model):
        np_mod, t = base(dt)
        redraw_constants_(t)
        share_weights(np_mod, t)
        return np_mod, t
    return Case(f"{case.name}-redrawn", case.layer, case.family, model, case.inputs,
                case.dtypes, case.grad,
                note="the first case of the class with torch's constant parameters and "
                     "buffers (zero biases, unit weights, running statistics) redrawn")


CASES += [v for v in map(_redrawn_variant, _first_cases_of_each_class()) if v is not None]


# --- the dropout twin knows torch's mask shape: two mutants whose masks still broadcast -------
class WholeInputMaskDropout1d(npimpl.Dropout1d):
    """One Bernoulli per sample, ``(N, 1, 1)``, where torch draws one per channel."""

    def _mask_shape(self, x):
        return x.shape[:-2] + (1, 1)            # BUG: x.shape[:-1] + (1,)


class PerSampleMaskDropout3d(npimpl.Dropout3d):
    """One Bernoulli per sample of a 5-D input, ``(N, 1, 1, 1, 1)``."""

    def _mask_shape(self, x):
        return x.shape[:1] + (1,) * (x.ndim - 1)    # BUG: x.shape[:2] + (1, 1, 1)


def _dropout_pair(cls, kind):
    def model(dt):
        np_mod = cls(0.5, rng=np.random.default_rng(0))
        return np_mod, SharedMaskDropout(np_mod, 0.5, kind)
    return model


def _dropout_mutant(name, bug, cls, kind, shape):
    real = getattr(npimpl, kind)
    return Mutant(name, bug, "classic",
                  Case(f"mutant-{name}", kind, "mutant", _dropout_pair(cls, kind),
                       args(normal(*shape)), dtypes=("float64",)),
                  Case(f"control-{name}", kind, "mutant", _dropout_pair(real, kind),
                       args(normal(*shape)), dtypes=("float64",)))


MUTANTS = [
    _dropout_mutant("dropout1d-mask-per-sample", "Dropout1d draws one Bernoulli per sample "
                    "(mask (N, 1, 1)) instead of one per channel: the mask still broadcasts, "
                    "so only a twin that knows torch's mask shape sees it",
                    WholeInputMaskDropout1d, "Dropout1d", (4, 5, 6)),
    _dropout_mutant("dropout3d-mask-per-sample", "Dropout3d on a 5-D input draws one "
                    "Bernoulli per sample (N, 1, 1, 1, 1) instead of one per channel",
                    PerSampleMaskDropout3d, "Dropout3d", (3, 4, 2, 2, 2)),
]
