"""CTCLoss cases: every reduction, both target layouts, lengths as arrays, tuples and lists,
a non-zero blank, repeated labels at the tightest T, impossible alignments (inf, or 0 with
zero_infinity), empty targets and inputs, unnormalised log_probs, and T from 50 to 200.

``CTCLoss`` itself returns torch's gradient ``exp(log_probs) - gamma``, which is not the
derivative of its loss (see its docstring), so the finite-difference oracle cannot check it
directly; the ``ctc-logsoftmax-*`` cases put a LogSoftmax in front (torch's recommended use),
where both conventions give ``softmax - gamma``, the true derivative, and the oracle checks it.
"""
from __future__ import annotations

import numpy as np
import torch

import npimpl
from reference import Spec, build

from ..badinput import Entry
from ..engine import Case
from ..mutants import layer_mutant
from .loss import REDUCTIONS

ORDER = 32


def log_probs(T: int, N: int | None, C: int, scale: float = 1.0, normalised: bool = True):
    """``(T, N, C)`` (``(T, C)`` for N None) log-softmax of normals times ``scale``."""
    shape = (T, C) if N is None else (T, N, C)

    def gen(rng, dt):
        x = rng.standard_normal(shape) * scale
        if normalised:
            x = x - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True)) \
                - x.max(-1, keepdims=True)
        return x.astype(dt)
    return gen


def ctc_inputs(lp, targets, input_lengths, target_lengths):
    """Forward arguments: generated log_probs and fixed targets and lengths (arrays, tuples or
    lists, passed as they are to both sides)."""
    def gen(rng, dt):
        return (lp(rng, dt), np.asarray(targets, dtype=np.int64), input_lengths, target_lengths)
    return gen


def random_targets(N: int, S: int, C: int, blank: int = 0, seed: int = 0) -> np.ndarray:
    """``(N, S)`` labels in [0, C) other than blank (fixed: the cases' lengths depend on them)."""
    rng = np.random.default_rng(seed)
    choices = np.array([c for c in range(C) if c != blank])
    return choices[rng.integers(0, len(choices), (N, S))]


def ctc_case(name, spec, lp, targets, il, tl):
    return Case(name, "CTCLoss", "loss", lambda dt: build(spec, dt),
                ctc_inputs(lp, targets, il, tl))


TG = np.array([[1, 2, 2, 3], [3, 1, 4, 0], [4, 4, 4, 4]])          # row 3 repeats one label
IL, TL = np.array([12, 9, 12]), np.array([4, 2, 3])
CASES = [ctc_case(f"ctc-padded-{red}", Spec("CTCLoss", reduction=red), log_probs(12, 3, 5),
                  TG, IL, TL) for red in REDUCTIONS]
CASES += [
    ctc_case("ctc-concatenated-tuple-lengths-none", Spec("CTCLoss", reduction="none"),
             log_probs(12, 3, 5), [1, 2, 2, 3, 3, 1, 4, 4, 4], (12, 9, 12), (4, 2, 3)),
    ctc_case("ctc-concatenated-list-lengths-sum", Spec("CTCLoss", reduction="sum"),
             log_probs(10, 2, 4), [3, 1, 1, 2], [10, 7], [3, 1]),
    ctc_case("ctc-blank3-mean", Spec("CTCLoss", blank=3), log_probs(11, 3, 5),
             random_targets(3, 4, 5, blank=3), np.array([11, 11, 8]), np.array([4, 3, 2])),
    # repeats need a blank in between: "1 1 1" fits exactly in T = 5, "1 2 2 1" in T = 5
    ctc_case("ctc-repeats-tightest-T-none", Spec("CTCLoss", reduction="none"),
             log_probs(5, 3, 3), [[1, 1, 1, 0], [1, 2, 2, 1], [2, 2, 0, 0]],
             np.array([5, 5, 3]), np.array([3, 4, 2])),
    # one frame short of the repeats: impossible alignments, loss inf, NaN gradient
    ctc_case("ctc-impossible-none", Spec("CTCLoss", reduction="none"),
             log_probs(6, 3, 4), [[1, 1, 1, 1], [1, 2, 3, 1], [2, 2, 2, 2]],
             np.array([6, 3, 6]), np.array([4, 4, 2])),
    ctc_case("ctc-impossible-zero-infinity-mean", Spec("CTCLoss", zero_infinity=True),
             log_probs(6, 3, 4), [[1, 1, 1, 1], [1, 2, 3, 1], [2, 2, 2, 2]],
             np.array([6, 3, 6]), np.array([4, 4, 2])),
    ctc_case("ctc-impossible-zero-infinity-none", Spec("CTCLoss", reduction="none",
                                                       zero_infinity=True),
             log_probs(4, 2, 3), [[1, 1, 1], [2, 1, 2]], np.array([4, 4]), np.array([3, 3])),
    # empty targets (all blanks) and an empty input (probability 1 for an empty target)
    ctc_case("ctc-empty-target-and-input-none", Spec("CTCLoss", reduction="none"),
             log_probs(5, 4, 3), [[1, 2], [0, 0], [2, 0], [0, 0]], np.array([5, 5, 0, 0]),
             np.array([2, 0, 1, 0])),
    ctc_case("ctc-empty-target-mean", Spec("CTCLoss"), log_probs(5, 2, 3), [[1, 2], [0, 0]],
             np.array([5, 4]), np.array([2, 0])),
    ctc_case("ctc-unbatched-0d-lengths-none", Spec("CTCLoss", reduction="none"),
             log_probs(9, None, 4), [3, 1, 3], np.array(9), np.array(3)),
    ctc_case("ctc-unbatched-padded-mean", Spec("CTCLoss"), log_probs(9, None, 4), [[2, 1, 2, 0]],
             (8,), [3]),
    # not normalised: torch's gradient is exp(log_probs) - gamma all the same
    ctc_case("ctc-unnormalised-sum", Spec("CTCLoss", reduction="sum"),
             log_probs(8, 2, 4, normalised=False), [[1, 3, 2], [2, 2, 0]], np.array([8, 6]),
             np.array([3, 2])),
    # long inputs: a path probability of e^-150 and below, in log space
    ctc_case("ctc-T50-mean", Spec("CTCLoss"), log_probs(50, 3, 6, scale=2.0),
             random_targets(3, 12, 6), np.array([50, 45, 30]), np.array([12, 9, 5])),
    ctc_case("ctc-T120-concatenated-sum", Spec("CTCLoss", reduction="sum", blank=5),
             log_probs(120, 2, 6, scale=3.0),
             random_targets(1, 50, 6, blank=5)[0], (120, 101), (30, 20)),
    ctc_case("ctc-T200-none", Spec("CTCLoss", reduction="none"), log_probs(200, 2, 5, scale=2.0),
             random_targets(2, 40, 5), np.array([200, 160]), np.array([40, 25])),
]


# --- through a LogSoftmax: torch's recommended use, where the gradient is a derivative ----------
class LogSoftmaxCTC(npimpl.Module):
    """``CTCLoss(LogSoftmax(dim=-1)(logits), ...)``: the composite the finite-difference oracle
    can check (the two gradient conventions agree after the LogSoftmax)."""

    grad_inputs = (0,)

    def __init__(self, **kw):
        super().__init__()
        self.log_softmax = npimpl.LogSoftmax(dim=-1)
        self.ctc = npimpl.CTCLoss(**kw)

    def forward(self, logits, targets, input_lengths, target_lengths):
        return self.ctc(self.log_softmax(logits), targets, input_lengths, target_lengths)

    def backward(self, grad_output=None):
        return self.log_softmax.backward(self.ctc.backward(grad_output))


class TorchLogSoftmaxCTC(torch.nn.Module):
    def __init__(self, **kw):
        super().__init__()
        self.ctc = torch.nn.CTCLoss(**kw)

    def forward(self, logits, targets, input_lengths, target_lengths):
        return self.ctc(logits.log_softmax(-1), targets, input_lengths, target_lengths)


def composite(name, kw, lp, targets, il, tl):
    return Case(name, "CTCLoss", "loss", lambda dt: (LogSoftmaxCTC(**kw), TorchLogSoftmaxCTC(**kw)),
                ctc_inputs(lp, targets, il, tl))


CASES += [
    composite("ctc-logsoftmax-T50-mean", {}, log_probs(50, 2, 5, scale=2.0, normalised=False),
              random_targets(2, 10, 5), np.array([50, 41]), np.array([10, 7])),
    composite("ctc-logsoftmax-repeats-none", dict(reduction="none"),
              log_probs(7, 3, 3, normalised=False), [[1, 1, 2], [2, 1, 1], [1, 2, 1]],
              (7, 6, 5), (3, 3, 3)),
    composite("ctc-logsoftmax-zero-infinity-blank2-sum", dict(blank=2, reduction="sum",
                                                             zero_infinity=True),
              log_probs(5, 3, 4, normalised=False), [[1, 1, 1], [0, 3, 1], [3, 3, 0]],
              (5, 5, 5), (3, 3, 2)),
]


# --- the mutant gallery ---------------------------------------------------------------------------
class SkipRepeatsCTCLoss(npimpl.CTCLoss):
    """CTCLoss that lets a path skip the blank between two *equal* labels: "a a" collapses
    to "a", so such paths spell a different target and must not count."""

    def _lattice(self, targets, il, tl, T, C):
        lat = super()._lattice(targets, il, tl, T, C)
        odd = (np.arange(lat.ext.shape[1]) % 2 == 1) & (np.arange(lat.ext.shape[1]) >= 3)
        return lat._replace(skip=lat.valid & odd[None, :])             # BUG: also l'_s == l'_{s-2}


MUTANTS = [layer_mutant(
    "ctc-skips-blank-between-repeats", "the s-2 -> s transition is allowed between equal labels, "
    "so 'a a' is also read from 'a' alone (Graves' eq. 6 excepts l'_s = l'_{s-2})", "classic",
    Spec("CTCLoss", reduction="none"), SkipRepeatsCTCLoss,
    ctc_inputs(log_probs(8, 2, 4), [[1, 1, 2], [3, 3, 3]], (8, 8), (3, 3)))]


# --- the bad-input matrix ----------------------------------------------------------------------
def _valid_log_probs(rng, shape):
    x = rng.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


BAD_INPUT = {
    # "target out of range" is not run: torch's CPU kernel has no bounds check, reads the
    # label's log-prob beyond the row and in backward *writes* the gradient there, a heap
    # overflow that crashed later tests (abort or segfault in an unrelated place, 3 runs of 4).
    # tests/test_ctc.py checks npimpl's IndexError and torch's forward on an in-bounds read.
    "CTCLoss": Entry(Spec("CTCLoss"), (6, 2, 4),
                     target=lambda rng, x: rng.integers(1, 4, (2, 3)).astype(np.int64),
                     extra=lambda rng, x: [np.array([6, 5]), np.array([3, 2])],
                     valid=_valid_log_probs, skip=("target out of range",)),
}
