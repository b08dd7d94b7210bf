"""CTCLoss: the Connectionist Temporal Classification loss (Graves et al., 2006).

A target ``l = (l_1 .. l_L)`` is read from T frames of class log-probabilities by any
*alignment* that, once repeats are merged and blanks removed, spells l. Extend the target
with blanks, ``l' = (b, l_1, b, l_2, ..., l_L, b)`` (2L + 1 states); an alignment is a path
through the states that at each frame stays, steps by one, or skips a blank between two
*different* labels. The loss is ``-log`` of the summed probability of every path,

    alpha_t(s) = (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)]) * y_t(l'_s),
    P(l | x) = alpha_{T-1}(2L) + alpha_{T-1}(2L - 1),

and ``beta`` is the same recursion run backwards from the last frame. Both run in log
space (every ``+`` a log-sum-exp), so 500 frames of log-probabilities near -5 (a path
probability of e^-2500) stay finite.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from .loss import _Loss

NEG_INF = -np.inf


def _lse3(a1, a2, a3):
    """``log(e^a1 + e^a2 + e^a3)`` as ATen writes it: shift by the max, a max of -inf by 0."""
    m = np.maximum(np.maximum(a1, a2), a3)
    m = np.where(m == NEG_INF, 0, m)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.log(np.exp(a1 - m) + np.exp(a2 - m) + np.exp(a3 - m)) + m


def _shift(a: np.ndarray, k: int) -> np.ndarray:
    """``a`` moved k states right (k > 0: out[s] = a[s - k]) or left, filled with -inf."""
    out = np.full_like(a, NEG_INF)
    if k > 0:
        out[..., k:] = a[..., :-k]
    else:
        out[..., :k] = a[..., -k:]
    return out


class Lattice(NamedTuple):
    """The extended targets of a batch: everything the recursions need besides log_probs."""

    ext: np.ndarray      # (N, S') l' = b, l_1, b, ..., l_L, b; blank past 2L (S' = 2 max L + 1)
    valid: np.ndarray    # (N, S') s <= 2 L_n
    skip: np.ndarray     # (N, S') the s-2 -> s transition is allowed: l'_s != l'_{s-2}
    il: np.ndarray       # (N,) input lengths
    tl: np.ndarray       # (N,) target lengths


def ctc_alpha(lp_ext: np.ndarray, lat: Lattice) -> np.ndarray:
    """Forward variables ``log alpha``, ``(T, N, S')``, from ``lp_ext[t, n, s] = lp[t, n, l'_s]``."""
    T, N, S = lp_ext.shape
    alpha = np.full((T, N, S), NEG_INF, dtype=lp_ext.dtype)
    alpha[0, :, 0] = lp_ext[0, :, 0]                                  # start on the blank …
    if S > 1:
        alpha[0, :, 1] = np.where(lat.tl > 0, lp_ext[0, :, 1], NEG_INF)   # … or on l_1
    for t in range(1, T):
        prev = alpha[t - 1]                                           # (N, S')
        skip = np.where(lat.skip, _shift(prev, 2), NEG_INF)
        new = _lse3(prev, _shift(prev, 1), skip) + lp_ext[t]
        alpha[t] = np.where(lat.valid, new, NEG_INF)
    return alpha


def ctc_beta(lp_ext: np.ndarray, lat: Lattice) -> np.ndarray:
    """Backward variables ``log beta``, ``(T, N, S')``; each sample starts at its own last frame
    ``il_n - 1`` from the two final states (and, like alpha, includes the frame's own y_t)."""
    T, N, S = lp_ext.shape
    beta = np.full((T, N, S), NEG_INF, dtype=lp_ext.dtype)
    rows = np.arange(N)
    last = 2 * lat.tl                                                 # (N,) the final blank
    skip_next = np.zeros_like(lat.skip)                               # l'_{s+2} != l'_s
    skip_next[:, :-2] = lat.skip[:, 2:]
    for t in range(T - 1, -1, -1):
        init = np.full((N, S), NEG_INF, dtype=lp_ext.dtype)
        init[rows, last] = lp_ext[t, rows, last]
        ends = lat.tl > 0
        init[rows[ends], last[ends] - 1] = lp_ext[t, rows[ends], last[ends] - 1]
        if t < T - 1:
            nxt = beta[t + 1]
            rec = _lse3(nxt, _shift(nxt, -1), np.where(skip_next, _shift(nxt, -2), NEG_INF))
            rec = np.where(lat.valid, rec + lp_ext[t], NEG_INF)
        else:
            rec = init
        here = (t == lat.il - 1)[:, None]
        beta[t] = np.where(here, init, np.where((t < lat.il - 1)[:, None], rec, NEG_INF))
    return beta


def ctc_nll(alpha: np.ndarray, lat: Lattice) -> np.ndarray:
    """``-log P(l | x)`` per sample from the two final states at frame ``il_n - 1``, ``(N,)``;
    an empty input is probability 1 for an empty target and 0 for any other."""
    N = alpha.shape[1]
    rows = np.arange(N)
    t_last = np.maximum(lat.il - 1, 0)
    l1 = alpha[t_last, rows, 2 * lat.tl]
    l2 = np.where(lat.tl > 0, alpha[t_last, rows, np.maximum(2 * lat.tl - 1, 0)], NEG_INF)
    nll = -_lse3(l1, l2, np.full_like(l1, NEG_INF))
    return np.where(lat.il == 0, np.where(lat.tl == 0, 0.0, np.inf), nll).astype(alpha.dtype)


def ctc_collect(alpha: np.ndarray, beta: np.ndarray, lat: Lattice, n_classes: int) -> np.ndarray:
    """``log sum_{s: l'_s = c} alpha_t(s) beta_t(s)``, ``(T, N, C)``; -inf for a class no state
    of the sample reads.

    The states are folded in one at a time, from the last to the first, each by a two-term
    log-sum-exp, exactly as ATen's CPU kernel does: in float32 the log of a path mass near
    e^-400 carries an absolute rounding error of ~400 * 6e-8, which ``exp`` turns into a
    relative error of the gradient, so the *order* of the sums decides whether two
    implementations agree to 1e-5 (a one-shot sum over each class misses torch by 8 times
    the float32 tolerance at T = 200; this order matches it to rounding).
    """
    T, N, S = alpha.shape
    ab = alpha + beta                                                  # (T, N, S')
    lcab = np.full((T, N, n_classes), NEG_INF, dtype=ab.dtype)
    rows = np.arange(N)
    with np.errstate(invalid="ignore"):
        for s in range(S - 1, -1, -1):
            c = lat.ext[:, s]                                          # (N,) the state's class
            cur, new = lcab[:, rows, c], ab[:, :, s]                   # (T, N)
            m = np.maximum(cur, new)
            summed = np.log(np.exp(cur - m) + np.exp(new - m)) + m
            lcab[:, rows, c] = np.where(cur == NEG_INF, new, summed)
    return lcab


# --- arguments ----------------------------------------------------------------------------
def ctc_lengths(arg, n: int, name: str) -> np.ndarray:
    """Per-sample lengths from an integer array (0-D or 1-D), a tuple or a list of ints."""
    if isinstance(arg, np.ndarray):
        if arg.dtype.kind not in "iu":
            raise TypeError(f"CTCLoss: {name} must hold integers, got dtype {arg.dtype}")
        if arg.ndim > 1:
            raise ValueError(f"CTCLoss: {name} must be 0-D or 1-D, got shape {arg.shape}")
        v = arg.reshape(-1).astype(np.int64)
    elif isinstance(arg, (tuple, list)):
        if not all(isinstance(i, (int, np.integer)) and not isinstance(i, (bool, np.bool_))
                   for i in arg):
            raise TypeError(f"CTCLoss: {name} must be a tuple or list of ints, got "
                            f"{[type(i).__name__ for i in arg]}")
        v = np.array(arg, dtype=np.int64).reshape(-1)
    else:
        raise TypeError(f"CTCLoss: {name} must be an integer array, a tuple or a list of ints "
                        f"(one per sample), got {type(arg).__name__}")
    if v.size != n:
        raise ValueError(f"CTCLoss: {name} must have one entry per sample: expected {n}, got "
                         f"{v.size}")
    return v


def ctc_lattice(targets, il: np.ndarray, tl: np.ndarray, T: int, C: int, blank: int) -> Lattice:
    """Check the lengths and targets (padded ``(N, S)`` or concatenated ``(sum L)``) and build
    the extended label sequences."""
    N = il.size
    if np.any(il < 0) or np.any(il > T):
        bad = il[(il < 0) | (il > T)][0]
        raise ValueError(f"CTCLoss: input_lengths must lie in [0, T = {T}], got {bad}")
    if np.any(tl < 0):
        raise ValueError(f"CTCLoss: target_lengths must be >= 0, got {tl[tl < 0][0]}")
    t = _checks.index_array(targets, "CTCLoss", "targets")
    L = int(tl.max()) if N else 0
    used = np.arange(L)[None, :] < tl[:, None]                          # (N, L)
    if t.ndim == 1:                                                     # concatenated
        if t.size != tl.sum():
            raise ValueError(f"CTCLoss: 1-D targets are the concatenated targets: expected "
                             f"sum(target_lengths) = {tl.sum()} labels, got {t.size}")
        start = np.concatenate([[0], np.cumsum(tl)[:-1]]).astype(np.int64)
        pos = np.minimum(start[:, None] + np.arange(L)[None, :], max(t.size - 1, 0))
        lab = np.where(used, t[pos] if t.size else 0, blank)
    elif t.ndim == 2:                                                   # padded (N, S)
        if t.shape[0] != N or t.shape[1] < L:
            raise ValueError(f"CTCLoss: 2-D targets must be (N = {N}, S >= max target length "
                             f"{L}), got shape {t.shape}")
        lab = np.where(used, t[:, :L], blank)
    else:
        raise ValueError(f"CTCLoss: targets must be 1-D (concatenated) or 2-D (N, S), got "
                         f"shape {t.shape}")
    if np.any((lab < 0) | (lab >= C)):
        raise IndexError(f"CTCLoss: target label {lab[(lab < 0) | (lab >= C)][0]} is out of "
                         f"range: expected classes in [0, {C})")
    if np.any(used & (lab == blank)):
        raise ValueError(f"CTCLoss: target labels must not be the blank index {blank} (torch's "
                         f"documented rule; its CPU kernel then loses the final blank state's "
                         f"share of the last frame's gradient), got a target containing {blank}")
    S = 2 * L + 1
    ext = np.full((N, S), blank, dtype=np.int64)
    ext[:, 1::2] = lab
    s = np.arange(S)[None, :]
    valid = s <= 2 * tl[:, None]
    skip = np.zeros((N, S), dtype=bool)
    skip[:, 2:] = ext[:, 2:] != ext[:, :-2]
    return Lattice(ext, valid, skip & valid, il, tl)


class CTCCache(NamedTuple):
    lp: np.ndarray       # (T, N, C) log_probs (an unbatched input as N = 1)
    lp_ext: np.ndarray   # (T, N, S') lp[t, n, l'_s]
    alpha: np.ndarray    # (T, N, S') log alpha
    nll: np.ndarray      # (N,) -log P(l | x), before zero_infinity
    lat: Lattice
    shape: tuple         # the input's shape


class CTCLoss(_Loss):
    """``l_n = -log sum_{alignments a of target n} prod_t y_t(a_t)`` over T frames of log-probs.

    Args:
        blank: the blank class index (default 0), in [0, C).
        reduction: 'none' | 'mean' (each loss ÷ its target length, then the batch mean) |
            'sum'.
        zero_infinity: replace the infinite loss of an impossible alignment (and its
            gradient) by 0.

    Shape:
        forward(log_probs, targets, input_lengths, target_lengths): log_probs ``(T, N, C)`` or
        unbatched ``(T, C)``; targets padded ``(N, S)`` (rows read up to their length) or
        concatenated ``(sum target_lengths)``, integers in [0, C); input_lengths and
        target_lengths one per sample: integer arrays ``(N)`` (``()`` unbatched), tuples or
        lists. Output ``()``, or ``(N)`` / ``()`` for 'none'.

    Backward:
        with ``gamma_t(c) = exp(log alpha_t(s) + log beta_t(s) - lp_t(c) + nll)`` summed over
        the states s with ``l'_s = c`` (the posterior probability of class c at frame t):
        ``d log_probs[t, n, c] = g_n (exp(lp[t, n, c]) - gamma_t(c))`` for t < input_length,
        0 after; ``g_n`` = grad_output (÷ N and ÷ max(target_length, 1) for 'mean').

    What torch hides:
        the gradient is *not* ``d loss / d log_probs``, which is ``-gamma``: torch returns
        ``exp(log_probs) - gamma``, measured to 4e-16 for unnormalised log_probs (where it
        differs from ``-gamma`` by up to 4.7). That extra ``exp(log_probs)`` is softmax(x)
        when log_probs = log_softmax(x), and log_softmax's backward, ``g - softmax * sum(g)``,
        cancels any added softmax exactly, so through a preceding LogSoftmax both give the
        famous ``softmax - gamma``; fed anything else (unnormalised scores, a log of
        sigmoids) torch's gradient is wrong. npimpl returns torch's gradient, so that it is
        a drop-in oracle for torch's CTCLoss (and cheaper: it is the fused gradient); the
        true derivative is the returned value minus ``g_n exp(log_probs)``. An impossible
        alignment (a target longer than the frames allow, counting a blank between repeated
        labels: "aa" needs 3 frames) has loss inf and, without zero_infinity, a NaN
        gradient on its frames; a log-prob of -inf gives a NaN gradient entry
        (``exp(-inf + inf)``). 'mean' averages per-token losses, ``mean_n(l_n /
        max(L_n, 1))``. The CPU kernel never range-checks target labels: an out-of-range
        label reads memory beyond the row (a finite, wrong loss) and the backward *writes*
        its gradient there, a heap overflow (it crashed this project's test run later, in
        unrelated code); npimpl raises IndexError.
        Nor does it refuse a label equal to blank, which its docs forbid: it computes the
        loss mechanically but, when the *last* label is the blank, overwrites instead of
        adding the two final states' share of the last frame's gradient (measured: off by
        0.19 there, exact elsewhere); npimpl refuses such targets.
    """

    def __init__(self, blank: int = 0, reduction: str = "mean", zero_infinity: bool = False,
                 dtype=None):
        super().__init__(None, None, reduction, dtype)
        if isinstance(blank, bool) or not isinstance(blank, (int, np.integer)):
            raise TypeError(f"CTCLoss: blank must be an int, got {blank!r}")
        self.blank, self.zero_infinity = blank, zero_infinity

    def forward(self, log_probs, targets, input_lengths, target_lengths):
        lp = self._x(log_probs, "log_probs")
        if lp.ndim not in (2, 3):
            raise ValueError(f"CTCLoss: log_probs must be (T, N, C) or unbatched (T, C), got "
                             f"shape {lp.shape}")
        lp3 = lp if lp.ndim == 3 else lp[:, None, :]                      # (T, N, C)
        T, N, C = lp3.shape
        if lp3.size == 0:
            raise ValueError(f"CTCLoss: log_probs must not be empty, got shape {lp.shape}")
        if not 0 <= self.blank < C:
            raise ValueError(f"CTCLoss: blank must be in label range [0, {C}), got {self.blank}")
        il = ctc_lengths(input_lengths, N, "input_lengths")
        tl = ctc_lengths(target_lengths, N, "target_lengths")
        lat = self._lattice(targets, il, tl, T, C)
        lp_ext = lp3[:, np.arange(N)[:, None], lat.ext]                   # (T, N, S')
        alpha = ctc_alpha(lp_ext, lat)
        nll = ctc_nll(alpha, lat)                                         # (N,)
        self._cache = CTCCache(lp3, lp_ext, alpha, nll, lat, lp.shape)
        loss = np.where(self.zero_infinity & (nll == np.inf), 0, nll).astype(lp.dtype)
        if self.reduction == "mean":
            return np.asarray((loss / np.maximum(tl, 1).astype(lp.dtype)).mean(), dtype=lp.dtype)
        if self.reduction == "sum":
            return np.asarray(loss.sum(), dtype=lp.dtype)
        return loss if lp.ndim == 3 else loss.reshape(())

    def _lattice(self, targets, il, tl, T: int, C: int) -> Lattice:
        return ctc_lattice(targets, il, tl, T, C, self.blank)

    def backward(self, grad_output=None):
        lp, lp_ext, alpha, nll, lat, shape = self._saved()
        T, N, C = lp.shape
        dt = lp.dtype
        if self.reduction == "none":
            g = self._grad_out(grad_output, (N,) if len(shape) == 3 else (), dt).reshape(N)
        else:
            g = np.full(N, self._grad_out(grad_output, (), dt), dtype=dt)
            if self.reduction == "mean":
                g = g / N / np.maximum(lat.tl, 1).astype(dt)
        beta = ctc_beta(lp_ext, lat)
        lcab = ctc_collect(alpha, beta, lat, C)                          # (T, N, C)
        with np.errstate(invalid="ignore", over="ignore"):
            gamma = np.exp(lcab + nll[None, :, None] - lp)                # posterior of (t, c)
            grad = (np.exp(lp) - gamma) * g[None, :, None]                # torch's convention
        keep = np.arange(T)[:, None] < lat.il[None, :]                   # (T, N) frames used
        if self.zero_infinity:
            keep = keep & (nll != np.inf)[None, :]
        return np.asarray(np.where(keep[:, :, None], grad, 0), dtype=dt).reshape(shape)

    def extra_repr(self) -> str:
        return (f"blank={self.blank}, reduction={self.reduction!r}, "
                f"zero_infinity={self.zero_infinity}")
