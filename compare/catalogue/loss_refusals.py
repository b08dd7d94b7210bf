"""Arguments torch refuses at the exact boundary, where npimpl must refuse too, with a clear
error (a ValueError/TypeError/IndexError that names the class and what it got, the bad-input
matrix's rule): a class index equal to the number of classes, one bad label among good ones,
an input length one past T, and LinearCrossEntropyOptions' fields. The bad-input matrix steps
far past these boundaries (targets + 100); here each sits on one."""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from reference import Spec, build

from ..badinput_verdict import _is_clear
from .corners import Compared, _outcome

ORDER = 34


def _np_verdict(outcome, name: str) -> str:
    if isinstance(outcome, Exception):
        if _is_clear(outcome, name):
            return "refused clearly"
        return f"refused unclearly: {type(outcome).__name__}: {outcome}"
    return "accepted"


def _torch_verdict(outcome) -> str:
    return "refused clearly" if isinstance(outcome, Exception) else "accepted"


def refusal(name, layer, family, np_fn, t_fn, note=""):
    """``np_fn(dtype)`` and ``t_fn(dtype)`` both refuse (npimpl clearly), or both accept."""
    def compute(dt):
        return [("refusal", _np_verdict(_outcome(lambda: np_fn(dt)), layer),
                 _torch_verdict(_outcome(lambda: t_fn(dt))))]
    return Compared(name, layer, family, compute, note=note)


def forward_on_both(spec, *arrays):
    """``(np_fn, t_fn)``: the forward of ``spec`` on ``arrays`` (float ones cast to the dtype)."""
    def cast(a, dt):
        a = np.asarray(a)
        return a.astype(dt) if a.dtype.kind == "f" else a

    def np_fn(dt):
        return build(spec, dt)[0](*(cast(a, dt) for a in arrays))

    def t_fn(dt):
        return build(spec, dt)[1](*(torch.from_numpy(cast(a, dt)) for a in arrays))
    return np_fn, t_fn


_X34 = np.random.default_rng(0).standard_normal((3, 4))
_LP = np.log(np.random.default_rng(1).dirichlet(np.ones(4), (5, 2)))         # (T, N, C)
CASES = [
    refusal("multimargin-target-equals-C", "MultiMarginLoss", "loss",
            *forward_on_both(Spec("MultiMarginLoss"), _X34, np.array([0, 4, 1]))),
    refusal("multilabelmargin-one-target-equals-C", "MultiLabelMarginLoss", "loss",
            *forward_on_both(Spec("MultiLabelMarginLoss"), _X34[:2],
                             np.array([[1, 4, -1, 0], [0, -1, 0, 0]]))),
    refusal("ctc-input-length-past-T", "CTCLoss", "loss",
            *forward_on_both(Spec("CTCLoss"), _LP, np.array([[1, 2], [2, 3]]), np.array([6, 5]),
                             np.array([2, 2]))),
    # torch's CPU kernel has no bounds check on the labels (it reads and, in backward, writes
    # past the row: compare/catalogue/ctc.py's BAD_INPUT), so npimpl's refusal of a label = C
    # is its own documented rule (CTCLoss's docstring), checked here without calling torch
    refusal("ctc-label-equals-C-npimpl-refuses", "CTCLoss", "loss",
            forward_on_both(Spec("CTCLoss"), _LP, np.array([[1, 4], [2, 3]]), np.array([5, 5]),
                            np.array([2, 2]))[0], lambda dt: ValueError("not run"),
            note="torch not called: its CPU kernel reads and writes out of bounds"),
]

# LinearCrossEntropyOptions: torch validates the fields when the options are made
_OPTIONS = [
    ("bogus-method", dict(chunking_method="bogus:2")),
    ("aspect-ratio-k0", dict(chunking_method="aspect_ratio:0")),
    ("aspect-ratio-not-int", dict(chunking_method="aspect_ratio:x")),
    ("rows0", dict(batch_chunk_size=0)),
    ("valid-rows3", dict(batch_chunk_size=3, chunking_method=None)),
    ("valid-aspect-ratio-k2", dict(chunking_method="aspect_ratio:2")),
    ("valid-aspect-ratio-k1", dict(chunking_method="aspect_ratio:1")),
]
CASES += [refusal(f"linearce-options-{tag}", "LinearCrossEntropyOptions", "loss",
                  lambda dt, kw=kw: npimpl.LinearCrossEntropyOptions(**kw),
                  lambda dt, kw=kw: torch.nn.LinearCrossEntropyOptions(**kw))
          for tag, kw in _OPTIONS]


# --- an empty batch's 'mean' for the per-sample margin losses ---------------------------------
def empty_mean_is_zero(spec, x, t):
    """npimpl's documented 'mean' of an empty batch (``_RowLoss``): 0, not 0/0. torch's CPU
    kernels return an output they never write for it (uninitialised memory: 1e-41, -2e16,
    5e146 in five calls), so the value is npimpl's rule, checked against 0 without torch."""
    def compute(dt):
        return [("loss", build(spec, dt)[0](x.astype(dt), t), np.zeros((), dt))]
    return compute


CASES += [
    Compared("multimargin-empty-batch-mean-is-0", "MultiMarginLoss", "loss",
             empty_mean_is_zero(Spec("MultiMarginLoss"), np.zeros((0, 4)),
                                np.zeros(0, np.int64)),
             note="torch not called: its empty-batch 'mean' is uninitialised memory"),
    Compared("multilabelmargin-empty-batch-mean-is-0", "MultiLabelMarginLoss", "loss",
             empty_mean_is_zero(Spec("MultiLabelMarginLoss"), np.zeros((0, 4)),
                                np.zeros((0, 4), np.int64)),
             note="torch not called: its empty-batch 'mean' is uninitialised memory"),
]


# --- grad_inputs: the inputs the engine differentiates are the ones backward returns -------------
def grad_inputs_agree(spec, *arrays):
    """``grad_inputs`` tells the engine which positional inputs to differentiate on the torch
    side (and to compare); it must name exactly the inputs npimpl's backward returns a
    gradient for, and those gradients must be torch's (every float input requiring grad)."""
    def compute(dt):
        np_mod, t_mod = build(spec, dt)
        xs = [np.asarray(a).astype(dt) for a in arrays]
        y = np_mod(*xs)
        grads = np_mod.backward(np.ones_like(y))
        grads = grads if isinstance(grads, tuple) else (grads,)
        ts = [torch.from_numpy(x).requires_grad_() for x in xs]
        t_mod(*ts).sum().backward()
        returned = [i for i, g in enumerate(grads) if g is not None]
        rows = [("grad_inputs", str(tuple(np_mod.grad_inputs)), str(tuple(returned)))]
        return rows + [(f"grad_in{i}", grads[i], ts[i].grad.numpy()) for i in returned]
    return compute


_R = np.random.default_rng(2)
CASES += [
    Compared("marginranking-grad-inputs", "MarginRankingLoss", "loss",
             grad_inputs_agree(Spec("MarginRankingLoss", 0.2), _R.standard_normal(5),
                               _R.standard_normal(5), np.array([1.0, -1.0, 1.0, -1.0, 1.0]))),
    Compared("cosineembedding-grad-inputs", "CosineEmbeddingLoss", "loss",
             grad_inputs_agree(Spec("CosineEmbeddingLoss", 0.1), _R.standard_normal((4, 3)),
                               _R.standard_normal((4, 3)), np.array([1.0, -1.0, -1.0, 1.0]))),
    Compared("tripletmargin-grad-inputs", "TripletMarginLoss", "loss",
             grad_inputs_agree(Spec("TripletMarginLoss", 2.0), *_R.standard_normal((3, 4, 3)))),
]
