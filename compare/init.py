"""Default initialisation: npimpl's own ``reset_parameters()`` against torch's default init.

Lockstep copies torch's weights into the NumPy module before comparing, so a wrong
initialisation (``sqrt(fan_in)`` for ``1/sqrt(fan_in)``, the fan taken from the wrong axis, a
bias that starts at 1 instead of 0, ``num_batches_tracked`` starting at 1) would never show in
a comparison. Here both sides are built from their own defaults, many times over, and every
parameter and buffer is compared as a *distribution*:

* a parameter that torch initialises to one constant (zeros, ones) must be exactly that
  constant on the NumPy side, and so must every buffer (running statistics, counters);
* otherwise the pooled NumPy values and the pooled torch values must pass a two-sample
  Kolmogorov–Smirnov test (``scipy.stats.ks_2samp``): the statistic ``D`` (the largest gap
  between the two empirical CDFs) must stay under the critical value at
  :data:`ALPHA`, ``c(ALPHA) * sqrt((n + m) / (n m))``; and the NumPy range must not
  reach past torch's by more than :data:`RANGE_SLACK` of torch's range (a bound that is too
  wide shows there even when the bulk agrees).

Both sides are seeded (``torch.manual_seed`` per instance; npimpl's unseeded
``np.random.default_rng()`` calls are routed to a seeded stream), so a seed gives the same
rows every run. ``tol_ratio`` of a row is ``D`` over its critical value (or the range
overshoot over its slack), so ``<= 1`` passes, as everywhere else in the report.
"""
from __future__ import annotations

import math
from contextlib import contextmanager
from typing import Callable

import numpy as np
import torch
from scipy import stats

import npimpl.random
from reference.twins import Spec

from .docs import section_of
from .engine import Row

#: the KS test's significance: with the seeds fixed a false alarm would be reproducible, so
#: it is set where a correct init essentially never fails (one in a million)
ALPHA = 1e-6
#: how far the NumPy values may reach beyond torch's [min, max], as a fraction of torch's range
RANGE_SLACK = 0.05
#: samples wanted per parameter, and the most instances built to get them
SAMPLES = 12_000
MAX_INSTANCES = 400
NAME = "init-ks"


@contextmanager
def seeded_numpy(seed_parts):
    """npimpl's default generator (what a constructor without ``rng`` draws from,
    :mod:`npimpl.random`) re-seeded from ``seed_parts`` meanwhile, and put back after: the
    report must be reproducible."""
    gen = npimpl.random.default_generator()
    state = gen.bit_generator.state
    npimpl.random.manual_seed(np.random.SeedSequence(list(seed_parts)))
    try:
        yield
    finally:
        gen.bit_generator.state = state


def critical_d(n: int, m: int, alpha: float = ALPHA) -> float:
    """The two-sample KS critical value ``sqrt(-ln(alpha / 2) / 2) * sqrt((n + m) / (n m))``."""
    return math.sqrt(-math.log(alpha / 2) / 2) * math.sqrt((n + m) / (n * m))


def _state(np_mod, t_mod):
    """``{name: (numpy values, torch values, kind)}`` of every parameter and buffer."""
    out = {}
    t_p = dict(t_mod.named_parameters())
    for name, p in np_mod.named_parameters():
        if name in t_p:
            out[name] = (np.asarray(p.data, np.float64).ravel(),
                         t_p[name].detach().double().numpy().ravel(), "parameter")
    t_b = dict(t_mod.named_buffers())
    np_buffers = getattr(np_mod, "named_buffers", None)
    for name, b in (np_buffers() if callable(np_buffers) else []):
        if name in t_b:
            out[name] = (np.asarray(b).astype(np.float64).ravel(),
                         t_b[name].detach().double().numpy().ravel(), "buffer")
    return out


def sample(build_pair: Callable, seed: int = 0, samples: int = SAMPLES,
           max_instances: int = MAX_INSTANCES) -> dict:
    """Build ``(npimpl module, torch module)`` pairs from their own defaults until every
    parameter has ``samples`` values on each side; ``{name: (numpy, torch, kind)}``."""
    pooled: dict = {}
    count: dict = {}            # random parameters: values pooled so far
    k = 0
    while k < max_instances:
        torch.manual_seed(seed * 1_000_003 + k)
        with seeded_numpy([seed, k]):
            np_mod, t_mod = build_pair()
        for name, (a, b, kind) in _state(np_mod, t_mod).items():
            pa, pb, _ = pooled.setdefault(name, ([], [], kind))
            pa.append(a)
            pb.append(b)
            # buffers and torch-constant parameters are compared value by value: a few
            # instances say all there is; random parameters need ``samples`` values
            if kind == "parameter" and (name in count or (b.size and np.ptp(b) > 0)):
                count[name] = count.get(name, 0) + a.size
        k += 1
        if k >= 8 and all(c >= samples for c in count.values()):
            break
    return {n: (np.concatenate(a) if a else np.zeros(0), np.concatenate(b) if b else np.zeros(0),
                kind) for n, (a, b, kind) in pooled.items()}


def compare_values(a: np.ndarray, b: np.ndarray, kind: str):
    """``(statistic, tol_ratio, passed, note)`` for one parameter's pooled values."""
    if a.shape != b.shape:
        return math.inf, 0.0, False, f"numpy has {a.size} values, torch {b.size}"
    if a.size == 0:
        return 0.0, 0.0, True, "empty"
    if kind == "buffer" or np.all(b == b[0]):
        bad = a != b
        if kind != "buffer":
            bad = a != b[0]
        n_bad = int(bad.sum())
        what = "buffer" if kind == "buffer" else f"constant {b[0]:g}"
        if n_bad:
            i = int(np.argmax(bad))
            return math.inf, 0.0, False, (f"torch's {what}: numpy differs at {n_bad} of "
                                          f"{a.size} values (e.g. {a[i]:g} vs {b[i]:g})")
        return 0.0, 0.0, True, f"torch's {what}: equal"
    d = float(stats.ks_2samp(a, b).statistic)
    crit = critical_d(a.size, b.size)
    lo, hi = float(b.min()), float(b.max())
    slack = RANGE_SLACK * (hi - lo)
    over = max(lo - float(a.min()), float(a.max()) - hi, 0.0)
    ratio = max(d / crit, over / slack)
    note = (f"KS D={d:.4f} (critical {crit:.4f} at alpha {ALPHA:g}); numpy range "
            f"[{a.min():.4g}, {a.max():.4g}] vs torch [{lo:.4g}, {hi:.4g}]; n={a.size}")
    return d, ratio, ratio <= 1.0, note


def init_rows(name: str, layer: str, family: str, build_pair: Callable, seed: int = 0,
              **kw) -> list[Row]:
    """One row per parameter and buffer: ``init.param.<name>`` / ``init.buffer.<name>``."""
    rows = []
    for pname, (a, b, kind) in sample(build_pair, seed, **kw).items():
        d, ratio, ok, note = compare_values(a, b, kind)
        q = f"init.{'param' if kind == 'parameter' else 'buffer'}.{pname}"
        rows.append(Row(name, family, layer, "float64", q, "init", f"({a.size},)", d, d,
                        ratio if math.isfinite(ratio) else math.inf, "", None, ALPHA,
                        RANGE_SLACK, NAME, bool(ok), note))
    return rows


def catalogue_init_rows(seed: int = 0, names=None) -> list[Row]:
    """The report's init rows: every public npimpl class with parameters or buffers, built
    from its bad-input matrix entry (one small valid configuration per class), repeated."""
    from reference.twins import _build_pair

    from .badinput import table

    rows = []
    for cls_name, entry in sorted(table().items()):
        if names is not None and cls_name not in names:
            continue

        def build_pair(spec=entry.spec):
            return _build_pair(spec, np.float64)
        with seeded_numpy([seed, 999_999_999]):
            probe_np, _ = build_pair()
        if not any(True for _ in probe_np.named_parameters()) and \
                not any(True for _ in probe_np.named_buffers()):
            continue
        rows += init_rows(f"init-{cls_name}", cls_name, section_of(cls_name, "init"),
                          build_pair, seed)
    return rows + extra_init_rows(seed, names)


def extra_init_rows(seed: int = 0, names=None) -> list[Row]:
    """Init rows of the further configurations catalogue families list in ``INIT_SPECS``
    (``[(tag, Spec)]``): paths of ``reset_parameters`` the one configuration per class above
    never takes (separate q/k/v projections, an LSTM's projection, grouped convolutions).
    Uniform draws only, at 2,000 values: a wrong bound still moves the KS statistic far
    past its critical value there."""
    from reference.twins import _build_pair

    from .catalogue import family_attr

    rows = []
    for _, specs in family_attr("INIT_SPECS"):
        for tag, spec in specs:
            # a Spec, or (layer name, build_pair) for what a Spec cannot build (a GPT)
            layer, build_pair = (spec.name, lambda spec=spec: _build_pair(spec, np.float64)) \
                if isinstance(spec, Spec) else spec
            if names is None or layer in names:
                rows += init_rows(f"init-{tag}", layer, section_of(layer, "init"), build_pair,
                                  seed, samples=2000, max_instances=60)
    return rows
