"""AdaptiveLogSoftmaxWithLoss: the adaptive softmax of Grave et al. (2017), torch's adaptive.py.

The vocabulary is split by frequency at ``cutoffs``: a *head* softmax over the shortlist
(the frequent classes) plus one entry per tail cluster, and one small softmax per cluster,
reached through a low-rank projection of width ``in_features // div_value ** (i + 1)``. A
class in cluster i has ``log p(c) = log p_head(cluster i) + log p_cluster_i(c)``, so a rare
class costs a head row plus one narrow cluster instead of a row of a full-vocabulary matrix.
"""
from __future__ import annotations

import itertools
from typing import NamedTuple

import numpy as np

from . import _checks
from .linear import Linear, linear_backward, linear_forward
from .module import Module, Sequential
from .softmax import log_softmax


class ASMoutput(NamedTuple):
    """torch's ``_ASMoutput`` namedtuple: the target's log-probability per sample, and the loss."""

    output: np.ndarray
    loss: np.ndarray


class _ModuleList(Module):
    """The children ``'0'``, ``'1'``, … of a list, as torch's ``ModuleList`` names them
    (``tail.0.1.weight``); only what AdaptiveLogSoftmaxWithLoss needs: index, len, iter."""

    def __init__(self, modules):
        super().__init__()
        for i, m in enumerate(modules):
            self.add_module(str(i), m)

    def __getitem__(self, i: int) -> Module:
        return self._modules[str(i)]

    def __len__(self) -> int:
        return len(self._modules)

    def __iter__(self):
        return iter(self._modules.values())


class ClusterCache(NamedTuple):
    rows: np.ndarray     # (R,) the samples whose target lies in this cluster
    rel: np.ndarray      # (R,) their target's index inside the cluster
    x1: object           # the projection's LinearCache (input rows)
    h: object            # the output layer's LinearCache (the projected rows, (R, hsz))
    lp: np.ndarray       # (R, osz) the cluster's log-softmax


class AdaptiveCache(NamedTuple):
    x: object            # the head's LinearCache
    head_lp: np.ndarray  # (N, head_size)
    gather: np.ndarray   # (N,) the head column each sample reads: its class or its cluster
    clusters: tuple      # one ClusterCache per cluster that received samples (or None)
    batched: bool


class AdaptiveLogSoftmaxWithLoss(Module):
    """``log p(c | x) = log softmax(head(x))[c]`` for a shortlist class, else
    ``log softmax(head(x))[cluster] + log softmax(tail_i(x))[c - cutoff_i]``.

    Args:
        in_features: size of each input sample.
        n_classes: number of classes.
        cutoffs: increasing cluster boundaries in [1, n_classes - 1], e.g. ``[10, 100]``:
            classes 0..9 in the head, 10..99 in cluster 0, 100.. in cluster 1.
        div_value: each cluster's projection is ``div_value`` times narrower than the
            previous one's (default 4).
        head_bias: add a bias to the head (the tails never have one).
        dtype: parameters' NumPy dtype (default float32).

    Shape:
        forward(input, target): input ``(N, in_features)`` with target ``(N)``, or ``(in_features)``
        with target ``()``; returns ``ASMoutput(output, loss)``: ``output`` ``(N)`` / ``()``
        the log-probability of each target, ``loss = mean(-output)`` ``()``.
        ``log_prob(input)`` ``(N, n_classes)``; ``predict(input)`` ``(N)`` int64.

    Attributes:
        head: ``Linear(in_features, cutoffs[0] + n_clusters, bias=head_bias)``.
        tail: a list of ``Sequential(Linear(in, in // div_value ** (i + 1), bias=False),
            Linear(that, cluster size, bias=False))`` (keys ``tail.i.0.weight``,
            ``tail.i.1.weight``), each Linear initialised as torch's.

    Backward:
        backward(grad_output, grad_loss): each sample's ``output`` gets
        ``g_n = grad_output[n] - grad_loss / N``; a log-softmax row with target column k
        passes ``g_n (onehot(k) - softmax)`` to its logits, and the Linear layers pass it on
        (``dx = dy W``, ``dW += dy^T x``). A cluster that no target falls in is skipped, so
        its weights get no gradient (``.grad`` stays None, as torch's).

    What torch hides:
        only the clusters that some target falls in are computed at all (that is the
        saving), so which tail weights receive a gradient depends on the batch's targets.
        ``loss`` is the *mean* over the batch, with no ``reduction`` option and no
        ``ignore_index``; ``output`` is the log-probability (not the loss) of each target.
        ``log_prob`` and ``predict`` need a 2-D input, and ``predict`` computes the full
        distribution only for the rows whose head argmax is a cluster. npimpl's
        ``log_prob`` and ``predict`` are inference helpers with no backward.
    """

    def __init__(self, in_features: int, n_classes: int, cutoffs, div_value: float = 4.0,
                 head_bias: bool = False, device=None, dtype=np.float32):
        super().__init__()
        cutoffs = list(cutoffs)
        if len(cutoffs) == 0:
            raise ValueError("AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             "length larger than 0, got []")
        if (cutoffs != sorted(cutoffs) or min(cutoffs) <= 0 or max(cutoffs) > n_classes - 1
                or len(set(cutoffs)) != len(cutoffs) or any(int(c) != c for c in cutoffs)):
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: cutoffs should be a sequence of "
                             f"unique, positive integers sorted in an increasing order, where "
                             f"each value is between 1 and n_classes-1 = {n_classes - 1}, got "
                             f"{cutoffs}")
        if not div_value > 0:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: div_value must be positive (each "
                             f"cluster's width is in_features // div_value ** k), got {div_value}")
        self.in_features, self.n_classes = in_features, n_classes
        self.cutoffs = [int(c) for c in cutoffs] + [n_classes]
        self.div_value, self.head_bias = div_value, head_bias
        self.shortlist_size = self.cutoffs[0]
        self.n_clusters = len(self.cutoffs) - 1
        self.head_size = self.shortlist_size + self.n_clusters
        self.head = Linear(in_features, self.head_size, bias=head_bias, dtype=dtype)
        tails = []
        for i in range(self.n_clusters):
            hsz = int(in_features // (div_value ** (i + 1)))      # torch's float floor division
            osz = self.cutoffs[i + 1] - self.cutoffs[i]
            tails.append(Sequential(Linear(in_features, hsz, bias=False, dtype=dtype),
                                    Linear(hsz, osz, bias=False, dtype=dtype)))
        self.tail = _ModuleList(tails)

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        self.head.reset_parameters(rng)
        for i2h, h2o in (t.children() for t in self.tail):
            i2h.reset_parameters(rng)
            h2o.reset_parameters(rng)

    # -- helpers -------------------------------------------------------------------------
    def _x(self, input, name: str = "input") -> np.ndarray:
        return self._input(input, name, self.head.weight.dtype)

    def _cluster(self, i: int):
        i2h, h2o = self.tail[i].children()
        return i2h.weight.data, h2o.weight.data

    def _head(self, x):
        b = self.head.bias.data if self.head.bias is not None else None
        return linear_forward(x, self.head.weight.data, b)

    def _check_2d(self, x: np.ndarray, what: str) -> None:
        if x.ndim != 2 or x.shape[1] != self.in_features:
            raise ValueError(f"AdaptiveLogSoftmaxWithLoss: {what} expects input of shape "
                             f"(N, {self.in_features}), got {x.shape}")

    # -- forward / backward --------------------------------------------------------------
    def forward(self, input, target) -> ASMoutput:
        name = type(self).__name__
        x = self._x(input)
        t = _checks.index_array(target, name)
        if t.ndim == 1:
            if x.ndim != 2 or x.shape[0] != t.shape[0]:
                raise ValueError(f"{name}: a 1D target expects a 2D input with the same batch "
                                 f"size, got input {x.shape} and target {t.shape}")
        elif t.ndim == 0:
            if x.ndim != 1:
                raise ValueError(f"{name}: a 0D target expects a 1D input, got input {x.shape}")
        else:
            raise ValueError(f"{name}: 0D or 1D target expected, multi-target not supported, "
                             f"got shape {t.shape}")
        batched = t.ndim == 1
        xb, tb = (x, t) if batched else (x[None], t[None])                 # (N, in), (N,)
        self._check_2d(xb, "forward")
        if np.any((tb < 0) | (tb >= self.n_classes)):
            raise IndexError(f"{name}: target values should be in [0, {self.n_classes - 1}], "
                             f"got values in [{tb.min()}, {tb.max()}]")
        N = tb.shape[0]
        output = np.zeros(N, dtype=x.dtype)
        gather = tb.copy()
        clusters = []
        for i, (lo, hi) in enumerate(itertools.pairwise(self.cutoffs)):
            rows = np.flatnonzero((tb >= lo) & (tb < hi))
            if rows.size == 0:
                clusters.append(None)
                continue
            w1, w2 = self._cluster(i)
            h, c1 = linear_forward(xb[rows], w1, None)                     # (R, hsz)
            o, c2 = linear_forward(h, w2, None)                            # (R, osz)
            lp = log_softmax(o, axis=1)
            rel = tb[rows] - lo
            output[rows] = lp[np.arange(rows.size), rel]
            gather[rows] = self.shortlist_size + i
            clusters.append(ClusterCache(rows, rel, c1, c2, lp))
        head_out, hc = self._head(xb)                                       # (N, head_size)
        head_lp = log_softmax(head_out, axis=1)
        output = output + head_lp[np.arange(N), gather]
        loss = np.asarray((-output).mean(), dtype=x.dtype)
        self._cache = AdaptiveCache(hc, head_lp, gather, tuple(clusters), batched)
        return ASMoutput(output if batched else output.reshape(()), loss)

    def backward(self, grad_output=None, grad_loss=None):
        hc, head_lp, gather, clusters, batched = self._saved()
        N = gather.shape[0]
        dt = head_lp.dtype
        g = np.zeros(N, dtype=dt)
        if grad_output is not None:
            go = self._input(grad_output, "grad_output", dt)
            if go.shape != ((N,) if batched else ()):
                raise ValueError(f"AdaptiveLogSoftmaxWithLoss: grad_output must have the "
                                 f"output's shape {(N,) if batched else ()}, got {go.shape}")
            g = g + go.reshape(N)
        if grad_loss is not None:
            g = g - np.asarray(grad_loss, dtype=dt) / N                     # loss = mean(-output)
        # the head: output[n] reads head_lp[n, gather[n]]
        d_head = -np.exp(head_lp) * g[:, None]                             # (N, head_size)
        d_head[np.arange(N), gather] += g
        dx, dw, db = linear_backward(d_head, self.head.weight.data, hc, self.head.bias is not None)
        self.head.weight.accumulate(dw)
        if db is not None:
            self.head.bias.accumulate(db)
        # each computed cluster: output[rows] reads lp[r, rel[r]]
        for i, c in enumerate(clusters):
            if c is None:
                continue
            i2h, h2o = self.tail[i].children()
            gr = g[c.rows]                                                  # (R,)
            d_o = -np.exp(c.lp) * gr[:, None]                               # (R, osz)
            d_o[np.arange(c.rows.size), c.rel] += gr
            d_h, dw2, _ = linear_backward(d_o, h2o.weight.data, c.h, False)  # (R, hsz)
            d_x, dw1, _ = linear_backward(d_h, i2h.weight.data, c.x1, False)  # (R, in)
            h2o.weight.accumulate(dw2)
            i2h.weight.accumulate(dw1)
            dx[c.rows] += d_x
        return np.asarray(dx if batched else dx[0], dtype=dt)

    # -- inference -----------------------------------------------------------------------
    def _full_log_prob(self, x: np.ndarray, head_out: np.ndarray) -> np.ndarray:
        head_lp = log_softmax(head_out, axis=1)
        out = np.empty((head_out.shape[0], self.n_classes), dtype=x.dtype)
        out[:, :self.shortlist_size] = head_lp[:, :self.shortlist_size]
        for i, (lo, hi) in enumerate(itertools.pairwise(self.cutoffs)):
            w1, w2 = self._cluster(i)
            cluster_lp = log_softmax((x @ w1.T) @ w2.T, axis=1)
            out[:, lo:hi] = cluster_lp + head_lp[:, self.shortlist_size + i][:, None]
        return out

    def log_prob(self, input) -> np.ndarray:
        """``(N, n_classes)`` log-probabilities of every class (no backward)."""
        x = self._x(input)
        self._check_2d(x, "log_prob")
        return self._full_log_prob(x, self._head(x)[0])

    def predict(self, input) -> np.ndarray:
        """``(N,)`` int64: the most likely class, computing the tails only for rows whose head
        argmax is a cluster (torch's shortcut; no backward)."""
        x = self._x(input)
        self._check_2d(x, "predict")
        head_out = self._head(x)[0]
        output = np.argmax(head_out, axis=1).astype(np.int64)
        tail_rows = output >= self.shortlist_size
        if tail_rows.any():
            lp = self._full_log_prob(x[tail_rows], head_out[tail_rows])
            output[tail_rows] = np.argmax(lp, axis=1)
        return output

    def extra_repr(self) -> str:
        return (f"in_features={self.in_features}, n_classes={self.n_classes}, "
                f"cutoffs={self.cutoffs[:-1]}, div_value={self.div_value}, "
                f"head_bias={self.head_bias}")
