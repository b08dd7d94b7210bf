"""The mutant gallery: deliberately wrong variants of real layers, one bug each.

A comparison that cannot fail proves nothing. Each mutant below is a real
npimpl class with one bug planted (most of them bugs that published code
actually had); each is wired into a small lockstep case against the *correct*
torch twin, and the engine must flag it. ``mutation_score()`` runs them all;
``lockstep report`` prints the score and lists any survivor.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

import npimpl
from reference import Spec, build, seq

from .engine import Case, Result, run
from .gen import args, normal


@dataclass
class Mutant:
    """A planted bug: ``name``, the one-line ``bug``, where it comes from, and the case that
    runs it against the correct torch twin."""

    name: str
    bug: str
    origin: str
    case: Case


# --- the article's bugs ------------------------------------------------------------------
class ArticleLinear(npimpl.Linear):
    """The article's second Linear: backward returns ``x^T @ dy`` (the weight gradient,
    shape ``(in, out)``) where the input gradient ``dy @ W`` belongs. With ``in == out ==
    batch`` the shapes even line up, so nothing crashes: only a value comparison catches it."""

    def backward(self, grad_output):
        x2 = self._saved().x2
        super().backward(grad_output)          # the weight gradients themselves are right
        return x2.T @ grad_output               # BUG: should be grad_output @ W


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


def article_linear_case() -> Case:
    """Two Linear(4, 4) layers with a Tanh between, batch 4; the second is the article's."""
    spec = seq(Spec("Linear", 4, 4), Spec("Tanh"), Spec("Linear", 4, 4))
    model = _swap_last(lambda dt: build(spec, dt), 2,
                       lambda good, dt: ArticleLinear(4, 4, dtype=dt.type))
    return Case("mutant-article-linear", "Linear", "mutant", model, args(normal(4, 4)),
                dtypes=("float64",))


MUTANTS = [
    Mutant("article-linear-returns-dW", "Linear.backward returns the weight gradient x^T dy "
           "instead of the input gradient dy W", "article", article_linear_case()),
]


def flagged(result: Result) -> bool:
    """A mutant is caught when any compared quantity fails (or the run errors)."""
    return not result.passed


def mutation_score(seed: int = 0) -> list[tuple[Mutant, bool, Result]]:
    """Run every mutant in each of its dtypes; ``(mutant, caught, first result that caught it)``."""
    out = []
    for m in MUTANTS:
        results = [run(m.case, dt, seed) for dt in m.case.dtypes]
        caught = [r for r in results if flagged(r)]
        out.append((m, bool(caught), caught[0] if caught else results[0]))
    return out
