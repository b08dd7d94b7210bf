"""Corners the named-bug check (``compare/selftest/named.toml``) found uncovered.

Issue 22 named LambdaLR's save and reload among the bugs no check saw. ``lambdalr-resume``
(in :mod:`.corners`) resumes with a plain function, which ``state_dict()`` saves as None:
whether ``load_state_dict`` restores anything never showed. Here the lambda is a callable
*object* with state, whose ``__dict__`` torch saves and restores.
"""
from __future__ import annotations

import npimpl
import torch

from .optim import BATCHES, LOSS, MLP, Resume, opt
from . import core

ORDER = 96


class CountingDecay:
    """``lr_lambda(e) = 0.9**e * (1 + 0.1 * calls)``: a stateful callable (``calls`` counts
    its calls). LambdaLR's ``state_dict`` saves its ``__dict__``; a fresh instance restored
    from it goes on counting where the saved one stopped, a fresh one not restored starts at 0."""

    def __init__(self):
        self.calls = 0

    def __call__(self, epoch):
        self.calls += 1
        return 0.9 ** epoch * (1 + 0.1 * self.calls)


def counting_lambdalr(o, t):
    """One CountingDecay per side: both schedulers call their own."""
    return (npimpl.optim.lr_scheduler.LambdaLR(o, CountingDecay()),
            torch.optim.lr_scheduler.LambdaLR(t, CountingDecay()))


CASES = [
    Resume("lambdalr-resume-callable-object", "LambdaLR", "optim", model=core.pair(MLP),
           loss=LOSS, batches=BATCHES, optimizer=opt("SGD", lr=0.1, momentum=0.9),
           scheduler=counting_lambdalr, steps=8, resume_at=4,
           note="a stateful callable object as lr_lambda: its __dict__ saved and restored"),
]
