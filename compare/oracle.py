"""The finite-difference oracle: every npimpl gradient checked against central differences.

The lockstep engine proves that NumPy agrees with torch. This oracle proves
something torch cannot: that the NumPy gradients are the derivatives of the
NumPy forward. It never calls torch; it only reuses the catalogue's cases
(their model factory, their inputs and their upstream gradient), in float64.

For a single-step case with output ``y(x, θ)`` and the engine's upstream
gradient ``g``, the scalar ``L = Σ <g, y>`` has ``dL/dx = backward(g)``. For a
sample of at most ``max_per_tensor`` elements of every differentiable input
and every parameter, the numeric derivative is the central difference::

    d ≈ (L(x + h e_k) - L(x - h e_k)) / (h+ + h-)     with h = 1e-6,

where ``h+ = fl(x_k + h) - x_k`` and ``h- = x_k - fl(x_k - h)`` are the steps
actually taken (for ``|x_k|`` of 1e4 the rounded step differs from ``h`` by
parts in 1e6; dividing by the true step removes that error).

Error of the numeric derivative (the tolerance):
    truncation  h^2 |f'''| / 6  ≈ 1.7e-13 |f'''|          (Taylor remainder),
    rounding    eps |L|_scale / h ≈ 2.2e-10 |L|_scale      (two evaluations of L, each
                accurate to a few eps times ``|L|_scale = Σ |g| |y|``, divided by 2h).
For O(1) data both are ~1e-10 to 1e-8 relative. The oracle uses
    rtol = 1e-6: the truncation term stays below it while |f'''| / |f'| < 6e6;
    atol = 100 * eps / h * max(1, |L|_scale) ≈ 2.2e-8 * max(1, |L|_scale):
           the rounding term with a factor 100 for the amplification of a forward
           of a few dozen float operations (cancellations in a normalisation,
           a log-sum-exp).
These are 1e4 times looser than the engine's float64 tolerance (which compares two
exact computations) and still catch a gradient off by one part in 10^4
(``tests/test_oracle.py``); real gradient bugs are off by O(1) (the article's Linear).
Where only the second derivative jumps (SmoothL1Loss at |x - y| = beta, a C^1 point) the
truncation error is O(h |jump of f''|) instead of O(h^2): ~1e-6 relative, the worst figure
in the catalogue (0.63 of the tolerance, ``smoothl1-at-beta``).

Non-differentiable points: an element where a step of h leaves the module's
domain (a BCELoss probability of exactly 0 or 1: the forward refuses it) is
skipped and counted. A kink (ReLU at exactly 0, a tied maximum) has
one-sided derivatives ``(L(x+h) - L(x)) / h+`` and ``(L(x) - L(x-h)) / h-`` that
disagree by O(1), whereas for a smooth function they differ by ``h |f''|``. An
element whose one-sided derivatives differ by more than ``KINK`` (relative) is
skipped and counted in the row's note; a backward bug cannot hide there, since
the test depends on the forward only. The few cases whose *checked* elements cannot
agree are excluded by name in :data:`EXCLUDED`, each with its measured reason.

Non-finite values: the function differentiated is ``L`` over the outputs that are finite
at the unperturbed input (the upstream gradient is 0 at the others); non-finite input
elements are skipped (no derivative there), and a NaN gradient element is skipped only
when the forward has non-finite outputs (``0 * NaN`` through one, as torch computes it),
otherwise it is a mismatch. A row none of whose elements could be compared says "nothing
compared" and has kind :data:`UNCHECKED`: it proves nothing and the report does not count
it among the checked gradients.

Not checked by the oracle at all: trajectories (optimizer steps and schedules are not
derivatives), buffers (running statistics) and the gradient of a loss with respect to its
target (not differentiated, as in torch); the lockstep comparison with torch covers them.

Randomness and state: before every evaluation of ``L`` the buffers (running
statistics) and the state of every ``rng`` a module holds (the dropout mask)
are restored, so each evaluation computes the same function.
"""
from __future__ import annotations

import zlib
from typing import NamedTuple

import numpy as np

from npimpl.sparse import dense

from .engine import (Case, Inputs, Row, _is_float_array, _np_grads_of_inputs, case_rng,
                     is_packed, leaves, like, seed_libraries)

#: the step of the central difference (absolute; see the module docstring)
H = 1e-6
EPS = float(np.finfo(np.float64).eps)
#: relative tolerance: covers the truncation error h^2 |f'''| / 6
RTOL = 1e-6
#: atol = ATOL_PER_SCALE * max(1, |L|_scale): 100 eps / h, the rounding error of the difference
ATOL_PER_SCALE = 100 * EPS / H
#: one-sided derivatives differing by more than this (relative to max(1, |d|)) mark a kink
KINK = 1e-3
NAME = "finite-difference"

#: cases the oracle cannot check, each with its measured reason (name -> reason). Kinks,
#: domain edges, non-finite values and the elements that are not derivatives by convention
#: (:func:`frozen_elements`) are skipped element by element, so a case is excluded only when
#: its checked elements themselves fail; tests/test_oracle.py proves that each one does.
EXCLUDED = {
    "softplus-beta2-kinks": "inputs sit exactly at beta * x = threshold, where torch's Softplus "
                            "switches to x and jumps by log1p(exp(-threshold)) / beta = 1e-9 in "
                            "value: the jump over 2h = 2e-6 reads as a slope error (measured "
                            "tolerance ratio 85), too small for the one-sided kink test",
    "gaussiannll-eps0.1-mean": "variances below eps are clamped under no_grad: torch defines "
                               "their gradient as the one at eps, not the derivative (0) "
                               "(measured tolerance ratio 5e7 on the variance)",
    "cosineembedding-zero-vector-none": "a zero (or 1e-7) vector's squared norm is ~EPSILON = "
                                        "1e-12, so the cosine bends on the scale sqrt(1e-12) = "
                                        "1e-6, the step H itself: the central difference of a "
                                        "zero row reads 1/sqrt(2) of the slope (measured: "
                                        "tolerance ratio 4e5); torch agrees with npimpl there",
    "rmsnorm-eps-default-small-input": "inputs of ~1e-3 against the absolute step h = 1e-6: "
                                       "the truncation error, relative (h/x)^2 ~ 1e-6, reaches "
                                       "RTOL itself (measured tolerance ratio 1.06 at the "
                                       "engine's weights); torch agrees with npimpl to rounding",
}
# CTCLoss returns torch's gradient exp(log_probs) - gamma, not the derivative -gamma (see its
# docstring): the ctc-logsoftmax-* cases check the derivative through a LogSoftmax instead
_CTC_CONVENTION = ("CTCLoss returns torch's gradient exp(log_probs) - gamma, which is not the "
                   "derivative of its loss (-gamma) by definition; the ctc-logsoftmax-* cases "
                   "check the derivative through a preceding LogSoftmax, where both agree")
EXCLUDED.update({name: _CTC_CONVENTION for name in (
    "ctc-padded-none", "ctc-padded-mean", "ctc-padded-sum", "ctc-concatenated-tuple-lengths-none",
    "ctc-concatenated-list-lengths-sum", "ctc-blank3-mean", "ctc-repeats-tightest-T-none",
    "ctc-impossible-zero-infinity-mean", "ctc-impossible-zero-infinity-none",
    "ctc-empty-target-and-input-none", "ctc-empty-target-mean", "ctc-unbatched-0d-lengths-none",
    "ctc-unbatched-padded-mean", "ctc-unnormalised-sum", "ctc-T50-mean",
    "ctc-T120-concatenated-sum", "ctc-T200-none", "ctc-impossible-none")})
# CrossMapLRN2d's backward is torch's hand-written port of Lua Torch's, whose window is shifted
# from the forward's (and the forward never drops channel 0): gradcheck fails on torch's own
# module, and lockstep follows torch. CosineSimilarity floors a norm below eps under no_grad:
# the value divides by eps, the gradient still flows through the true norm.
_TORCH_NOT_A_DERIVATIVE = ("torch's {what}, so the gradient is by definition not the derivative "
                           "of the forward (torch.autograd.gradcheck fails on torch's module too)")
EXCLUDED.update({
    **{name: _TORCH_NOT_A_DERIVATIVE.format(
        what="CrossMapLRN2d backward sums dy * y / scale over a window shifted from the "
             "forward's (size 3: [c-2, c] against [c-1, c+1]; channel 0 in every sum)")
       for name in ("crossmaplrn2d-size3", "crossmaplrn2d-size2",
                    "crossmaplrn2d-size5-default-alpha", "crossmaplrn2d-channel0-leak")},
    "softshrink-lambd0": _TORCH_NOT_A_DERIVATIVE.format(
        what="Softshrink(0) is the identity, yet its backward gives x = ±0 (the closed band "
             "[-0, 0]) the gradient 0 where the slope is 1 on both sides"),
    **{name: _TORCH_NOT_A_DERIVATIVE.format(
        what="CosineSimilarity divides a vector shorter than eps by eps (clamp_min_ under "
             "no_grad) while the gradient flows through its true norm")
       for name in ("cosine-tiny-and-zero-rows", "cosine-eps-large")},
})

# constant rows of 1e5 and 1234.5 (the "torch is off" cases of the norm catalogue)
EXCLUDED.update({
    name: "a constant row of large values: the absolute step h = 1e-6 is only ~1e4-1e5 ulps "
          "of x, so x + h is itself rounded by ~1e-5 relative, past the oracle's rtol; and the "
          "row sits where rstd = 1/sqrt(eps) amplifies that rounding 316 times"
    for name in ("layernorm-float32-constant-1e5", "groupnorm-float32-constant")})


def _rebuild(obj, it):
    """Replace the leaves of a nested tuple/list ``obj`` by the next items of ``it``."""
    if is_packed(obj):
        return obj._replace(data=next(it))
    if isinstance(obj, (tuple, list)):
        return type(obj)(_rebuild(o, it) for o in obj)
    return next(it)


def _copy(x):
    return x.copy() if isinstance(x, np.ndarray) else x


class _Problem:
    """``L(args) = Σ <g, forward(args)>`` for one built module, with state restored each call."""

    def __init__(self, module, inp: Inputs):
        self.module, self.inp, self.g = module, inp, None
        self.finite = None          # per output: where the unperturbed output is finite
        self.flat = [x for _, x in leaves(inp.args)]
        self.buffers = [(m, name, _copy(b)) for m in module.modules()
                        for name, b in m._buffers.items()]
        self.rngs = [(m.rng, m.rng.bit_generator.state) for m in module.modules()
                     if isinstance(getattr(m, "rng", None), np.random.Generator)]

    def restore(self):
        for m, name, b in self.buffers:
            setattr(m, name, _copy(b))
        for rng, state in self.rngs:
            rng.bit_generator.state = state

    def forward(self, flat=None):
        """Run forward on copies of the inputs (an in-place layer must not change them)."""
        self.restore()
        flat = self.flat if flat is None else flat
        args = _rebuild(self.inp.args, iter(_copy(x) for x in flat))
        return self.module(*args, **self.inp.kwargs)

    def _terms(self, out):
        """``g * y`` per differentiated output, restricted to where the unperturbed output
        was finite (a NaN output is not part of the function differentiated)."""
        for (_, y), (_, g), (_, m) in zip(leaves(out), leaves(self.g), leaves(self.finite)):
            if g is not None and _is_float_array(y):
                with np.errstate(invalid="ignore", over="ignore"):
                    yield np.where(m, np.asarray(g, np.float64) * y, 0.0)

    def loss(self, flat=None) -> float:
        return sum(float(np.sum(t)) for t in self._terms(self.forward(flat)))

    def scale(self) -> float:
        return sum(float(np.sum(np.abs(t))) for t in self._terms(self.forward()))


def _masked(g, finite):
    """The upstream gradient ``g`` with 0 where the output is not finite (same structure)."""
    if isinstance(g, (tuple, list)):
        return type(g)(_masked(a, m) for a, m in zip(g, finite))
    return g if g is None else np.where(finite, g, 0).astype(g.dtype)


def _numeric(evaluate, arr: np.ndarray, idx: tuple, f0: float, h: float = H):
    """Central and one-sided differences of ``evaluate()`` in ``arr[idx]`` (restored after)."""
    x0 = arr[idx]
    try:
        arr[idx] = x0 + h
        hp = arr[idx] - x0
        fp = evaluate()
        arr[idx] = x0 - h
        hm = x0 - arr[idx]
        fm = evaluate()
    except ValueError:          # x0 sits on the domain's edge (a BCELoss input of exactly 0)
        return None
    finally:
        arr[idx] = x0
    return (fp - fm) / (hp + hm), (fp - f0) / hp, (f0 - fm) / hm


def frozen_elements(module, param) -> np.ndarray | None:
    """Elements of ``param`` whose gradient is 0 *by convention*, not by calculus.

    ``Embedding(padding_idx=k)`` (and ``EmbeddingBag``): row k of the weight never receives a
    gradient although the output depends on it (torch's documented convention: the padding
    vector stays fixed). ``scale_grad_by_freq=True``: the whole weight gradient is divided by
    each index's count in the batch, deliberately not the derivative. Returns a boolean mask
    or None.
    """
    for m in module.modules():
        if getattr(m, "scale_grad_by_freq", False) and getattr(m, "weight", None) is param:
            return np.ones(param.data.shape, dtype=bool)
        pad = getattr(m, "padding_idx", None)
        if pad is not None and getattr(m, "weight", None) is param:
            mask = np.zeros(param.data.shape, dtype=bool)
            mask[pad] = True
            return mask
    return None


def _check_tensor(evaluate, arr, analytic, f0, rng, max_per_tensor, atol, frozen=None,
                  nan_allowed=False):
    """Compare ``analytic`` with central differences at sampled elements of ``arr``
    (elements in the boolean mask ``frozen`` are left out: see :func:`frozen_elements`).

    An element is *compared* only where the input, both one-sided differences and the
    analytic value are finite. Skipped and counted instead: a non-finite input element (no
    derivative there), a kink or domain edge (see the module docstring), and — only when
    ``nan_allowed``, i.e. the forward has non-finite outputs — a NaN analytic value (the
    chain rule's ``0 * NaN`` through a masked output, as torch computes it). A NaN analytic
    value of a forward with finite outputs is a mismatch.

    Returns :class:`Checked`.
    """
    allowed = np.flatnonzero(~frozen) if frozen is not None else np.arange(arr.size)
    n = allowed.size
    picks = allowed[rng.choice(n, size=min(n, max_per_tensor), replace=False)] if n else []
    worst = (0.0, 0.0, ())
    checked = kinks = nonfinite = nan_grad = 0
    scale = 0.0                   # max |d| over the checked elements: max_rel's denominator
    for flat_k in picks:
        idx = np.unravel_index(int(flat_k), arr.shape)
        if not np.isfinite(arr[idx]):
            nonfinite += 1
            continue
        diffs = _numeric(evaluate, arr, idx, f0)
        if diffs is None or not np.all(np.isfinite(diffs)):
            kinks += 1          # the step leaves the domain (or makes an output non-finite)
            continue
        d, d_plus, d_minus = diffs
        if abs(d_plus - d_minus) > KINK * max(1.0, abs(d_plus), abs(d_minus)):
            kinks += 1
            continue
        a = float(analytic[idx])
        if np.isnan(a) and nan_allowed:
            nan_grad += 1
            continue
        diff = abs(a - d) if np.isfinite(a) else np.inf
        ratio = diff / (atol + RTOL * abs(d))
        checked += 1
        scale = max(scale, abs(d))
        if ratio >= worst[1]:
            worst = (diff, ratio, tuple(int(i) for i in idx))
    diff, ratio, idx = worst
    # normwise, as compare.metrics: the worst difference over the largest |d| checked
    max_rel = diff / scale if scale > 0 else (0.0 if diff == 0 else float("inf"))
    return Checked(diff, max_rel, ratio, idx, checked, kinks, nonfinite, nan_grad)


class Checked(NamedTuple):
    """What :func:`_check_tensor` found in one tensor."""

    max_abs: float
    max_rel: float
    tol_ratio: float
    worst_index: tuple
    checked: int            # elements compared with their central difference
    kinks: int              # kinks and domain edges, skipped
    nonfinite: int = 0      # non-finite input elements, skipped
    nan_grad: int = 0       # NaN analytic values from non-finite outputs, skipped


#: what the oracle does not check (the report says so beside its table)
NOT_CHECKED = ("Not checked by the oracle: trajectories (an optimizer step or a schedule is not "
               "a derivative), buffers (running statistics), the gradient of a loss with "
               "respect to its target (not differentiated, as in torch), and rows where no "
               "element could be compared (they are not counted); the comparison with torch "
               "covers all of them.")
#: the ``kind`` of a row that compared no element (all skipped): it proves nothing and the
#: report does not count it among the checked gradients
UNCHECKED = "fd_unchecked"


def _row(case, quantity, kind, shape, stats: Checked, atol, note="") -> Row:
    notes = [f"{stats.checked} of {int(np.prod(shape))} elements compared"]
    if stats.kinks:
        notes.append(f"{stats.kinks} kink(s) or domain edge(s) skipped")
    if stats.nonfinite:
        notes.append(f"{stats.nonfinite} non-finite input element(s) skipped")
    if stats.nan_grad:
        notes.append(f"{stats.nan_grad} NaN gradient element(s) from non-finite outputs skipped")
    if note:
        notes.append(note)
    if not stats.checked:
        kind = UNCHECKED
        notes[0] = "nothing compared: " + notes[0]
    return Row(case.name, case.family, case.layer, "float64", quantity, kind, str(tuple(shape)),
               stats.max_abs, stats.max_rel, stats.tol_ratio, str(stats.worst_index), None,
               RTOL, atol, NAME, stats.tol_ratio <= 1.0, "; ".join(notes))


def fd_case(case: Case, seed: int = 0, max_per_tensor: int = 20, budget: int = 200) -> list[Row]:
    """Finite-difference rows for one single-step case (float64, torch never called).

    Each tensor gets ``min(max_per_tensor, budget // (2 * n_tensors))`` sampled elements (at
    least 1): a 3-layer bidirectional LSTM with 27 tensors then costs ~200 forwards, not 1000.
    """
    dt = np.dtype("float64")
    rng = case_rng(seed, case.name, "float64")          # the engine's stream: same inputs, g
    seed_libraries(seed)                                # the engine's weights (a case may
    np_mod, _ = case.model(dt)                          # draw them from torch: randomize_)
    inp = case.inputs(rng, dt)
    if not isinstance(inp, Inputs):
        inp = Inputs(tuple(inp) if isinstance(inp, (tuple, list)) else (inp,))

    # 1. analytic: forward + backward with the engine's upstream gradient
    prob = _Problem(np_mod, inp)                        # snapshots buffers and rng states
    out = prob.forward()
    make_grad = case.grad or (lambda r, o: r.standard_normal(o.shape).astype(o.dtype))
    g_struct = like(out, lambda o: make_grad(rng, o) if _is_float_array(o) else None)
    # NaN / inf outputs: the function differentiated is L over the finite outputs only, so
    # the upstream gradient is 0 at the others (the NaN positions themselves are the
    # engine's to compare with torch's)
    finite = like(out, lambda o: np.isfinite(o) if _is_float_array(o) else True)
    used = [(g, m) for (_, g), (_, m) in zip(leaves(g_struct), leaves(finite)) if g is not None]
    nonfinite_out = any(not np.all(m) for _, m in used)
    if nonfinite_out:
        g_struct = _masked(g_struct, finite)
    nothing = not any(np.any(m) for _, m in used)
    ret = np_mod.backward(*g_struct) if isinstance(out, tuple) else np_mod.backward(g_struct)
    grads_in = _np_grads_of_inputs(ret, len(inp.args))
    params = [(n, p, None if p.grad is None else np.array(dense(p.grad), copy=True))
              for n, p in np_mod.named_parameters()]      # a sparse gradient: its dense table

    # 2. numeric, element by element
    prob.g, prob.finite = g_struct, finite
    scale = prob.scale()
    atol = ATOL_PER_SCALE * max(1.0, scale)
    f0 = prob.loss()
    pick = np.random.default_rng([seed, zlib.crc32(case.name.encode()), zlib.crc32(b"fd")])
    diff = getattr(np_mod, "grad_inputs", None) or range(len(inp.args))
    n_tensors = len(params) + sum(
        1 for i, a in enumerate(inp.args) for _, x in leaves(a) if _is_float_array(x) and i in diff)
    max_per_tensor = max(1, min(max_per_tensor, budget // max(1, 2 * n_tensors)))
    why = ""
    if nothing:         # no finite output element: L is the constant 0, there is no slope
        max_per_tensor, why = 0, "no finite output to differentiate (all NaN, inf or empty)"
    rows = []
    flat = list(prob.flat)
    k = 0
    for i, arg in enumerate(inp.args):
        arg_leaves = leaves(arg)
        g_leaves = (leaves(grads_in[i]) if grads_in[i] is not None
                    else [(p, None) for p, _ in arg_leaves])
        for (path, x), (_, ga) in zip(arg_leaves, g_leaves):
            pos, k = k, k + 1
            if not _is_float_array(x) or i not in diff:
                continue
            work = x.copy()
            flat[pos] = work
            evaluate = (lambda fl=flat: prob.loss(fl))
            name = ("fd_grad_input" if len(inp.args) == 1 and not path
                    else f"fd_grad_input[{i}]{path}")
            if ga is None:
                ga = np.zeros_like(x)
            stats = _check_tensor(evaluate, work, np.asarray(ga), f0, pick, max_per_tensor, atol,
                                  nan_allowed=nonfinite_out)
            flat[pos] = x
            rows.append(_row(case, name, "fd_grad_input", x.shape, stats, atol, why))
    for name, p, ga in params:
        if ga is None:
            ga = np.zeros_like(p.data)
        frozen = frozen_elements(np_mod, p)
        stats = _check_tensor(prob.loss, p.data, ga, f0, pick, max_per_tensor, atol, frozen,
                              nan_allowed=nonfinite_out)
        note = "; ".join(filter(None, [why, f"{int(frozen.sum())} element(s) not derivatives by "
                                       "convention (padding_idx / scale_grad_by_freq)"
                                       if frozen is not None else ""]))
        rows.append(_row(case, f"fd_grad_{name}", "fd_grad_param", p.data.shape, stats, atol,
                         note))
    return rows


def _error_row(case, exc: Exception) -> Row:
    return Row(case.name, case.family, case.layer, "float64", "fd_error", "error", "()",
               np.inf, np.inf, np.inf, "()", None, RTOL, 0.0, NAME, False,
               f"{type(exc).__name__}: {exc}")


def fd_rows(cases, seed: int = 0, max_per_tensor: int = 20, budget: int = 200) -> list[Row]:
    """Finite-difference rows for every single-step :class:`Case` in ``cases``.

    Trajectories, cases with their own ``run`` and the cases in :data:`EXCLUDED`
    are skipped. A crash becomes a failing ``fd_error`` row.
    """
    rows = []
    for case in cases:
        if not isinstance(case, Case) or hasattr(case, "run") or case.name in EXCLUDED:
            continue
        try:
            rows += fd_case(case, seed, max_per_tensor, budget)
        except Exception as exc:  # noqa: BLE001 - a crash is a failed check, reported
            rows.append(_error_row(case, exc))
    return rows
