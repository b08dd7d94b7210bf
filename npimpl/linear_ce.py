"""LinearCrossEntropyLoss: a Linear layer and CrossEntropyLoss in one module (torch 2.13).

``loss = cross_entropy(input @ W^T + b, target)``. The point of fusing them is memory: the
logits of an LLM head are ``(tokens, vocabulary)``, far larger than both the input
``(tokens, d)`` and the weight ``(vocabulary, d)``. Given ``options``, the loss is computed a
chunk of rows at a time, and each chunk's gradients are folded into ``dx`` and ``dW`` at
once, so no ``(tokens, vocabulary)`` array ever exists (see :class:`LinearCrossEntropyLoss`).
"""
from __future__ import annotations

import dataclasses
import math
import warnings
from typing import NamedTuple

import numpy as np

from . import _checks
from .crossentropy import CrossEntropyLoss
from .linear import Linear, linear_backward, linear_forward
from .loss import _Loss

ACC_POLICIES = ("accurate", "balanced", "compact", "auto")


@dataclasses.dataclass(frozen=True)
class LinearCrossEntropyOptions:
    """torch's ``LinearCrossEntropyOptions``: how the chunked path splits the batch.

    ``batch_chunk_size`` rows per chunk, or ``chunking_method`` ``"aspect_ratio[:k]"``: chunks
    of ``next_pow2(ceil(N / ceil(C / in_features))) // k`` rows, so that one chunk's logits
    ``(rows, C)`` are about as large as the input ``(N, in_features)`` (÷ k). ``"auto"``
    resolves as torch does on a CPU with float32/float64 input: ``"aspect_ratio:2"`` (unless
    ``batch_chunk_size`` is given). ``acc_policy`` and ``acc_dtype`` only matter for half
    precision in torch (for float32/64 the accumulation dtype is the input's); npimpl
    validates them and computes in the input's dtype. ``allow_retain_graph``: whether a
    second backward after one forward is allowed ('mean'/'sum' consume the gradients
    computed in forward).
    """

    allow_retain_graph: bool = False
    batch_chunk_size: int | None = None
    chunking_method: str | None = "auto"
    acc_policy: str = "auto"
    acc_dtype: object = None

    def __post_init__(self):
        if self.acc_policy not in ACC_POLICIES:
            raise ValueError(f"LinearCrossEntropyOptions: invalid acc_policy: "
                             f"{self.acc_policy!r}, expected one of {list(ACC_POLICIES)}")
        if self.chunking_method is not None and self.chunking_method != "auto":
            name, sep, factor = self.chunking_method.partition(":")
            factor = factor if sep else "1"
            if not (name == "aspect_ratio" and factor.isdigit() and int(factor) > 0):
                raise ValueError(f"LinearCrossEntropyOptions: invalid chunking_method: "
                                 f"{self.chunking_method!r}, expected 'auto', 'aspect_ratio' or "
                                 f"'aspect_ratio:k' with k >= 1")
        b = self.batch_chunk_size
        if not (b is None or (isinstance(b, int) and not isinstance(b, bool) and b > 0)):
            raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size must be positive int "
                             f"or None, got {b!r}")

    def chunk_rows(self, n: int, in_features: int, n_classes: int) -> int:
        """The rows per chunk for a batch of n rows (torch's ``_adjust`` on CPU)."""
        method = self.chunking_method
        if method == "auto":
            method = None if self.batch_chunk_size is not None else "aspect_ratio:2"
        rows = n if self.batch_chunk_size is None else min(self.batch_chunk_size, n)
        if method is not None:
            factor = int(method.partition(":")[2] or 1)
            target = -(-n // -(-n_classes // max(in_features, 1)))        # ceil(n / ceil(C/d))
            chunk = 1 << (target - 1).bit_length() if target > 0 else 0     # next power of 2
            size = min(chunk // factor, n)
            if self.batch_chunk_size is not None and self.batch_chunk_size != size:
                raise ValueError(f"LinearCrossEntropyOptions: batch_chunk_size "
                                 f"(={self.batch_chunk_size}) and chunking_method ('{method}') "
                                 f"give different chunk sizes ({self.batch_chunk_size} vs "
                                 f"{size}); pass only one.")
            rows = size
        return max(1, rows)


class ReferenceCache(NamedTuple):
    ce: CrossEntropyLoss     # the loss over the full logits (holds softmax and target)
    lin: object              # the LinearCache
    logits_shape: tuple      # (*, C, *out_features)


class ChunkedCache(NamedTuple):
    x2: np.ndarray           # (N, in)
    t: np.ndarray            # (N,) class indices
    rows: int                # rows per chunk
    grads: list | None       # [dx, dW, db] at grad_output = 1 ('mean'/'sum'); None once used
    scale: np.ndarray        # (N,) each row's factor in a scalar reduction (1, or 1/sum w[t])
    batched: bool


class LinearCrossEntropyLoss(_Loss):
    """``loss = CrossEntropyLoss(x W^T + b, target)``, with W of ``num_classes * prod(out_features)``
    rows; optionally computed a chunk of rows at a time.

    Args:
        in_features: size of each input sample.
        num_classes: C.
        out_features: ``(d_1, ..., d_K)`` for a K-dimensional loss: the logits are
            ``(N, C, d_1, ..., d_K)``, W stored flat as ``(C * prod(d), in_features)`` (default ()).
        bias: add a learnable bias (default False, unlike Linear).
        dtype: the parameters' dtype (default float32); the input must have it.
        reduction: 'none' | 'mean' | 'sum'.
        weight: per-class weights ``(C,)`` (a buffer ``weight``).
        ignore_index: ignored target value; None (default) means -100 for index targets and
            is required for probability targets.
        label_smoothing: in [0, 1], as CrossEntropyLoss.
        options: None (the reference path: full logits) or a :class:`LinearCrossEntropyOptions`
            (the chunked path, for 2-D class-index targets without smoothing or out_features;
            anything else falls back to the reference path with a warning, as in torch).

    Shape:
        input ``(N, in_features)`` or ``(in_features)``; target ``(N)`` / ``()`` / ``(N, *out)``
        class indices, or probabilities of the logits' shape; output as CrossEntropyLoss's.

    Attributes:
        linear: ``Linear(in_features, C * prod(out_features), bias)`` (keys ``linear.weight``,
            ``linear.bias``), initialised as torch's Linear.

    Backward:
        ``dz = CrossEntropyLoss.backward(g)`` for the logits z (``r_n (softmax - T)``), then
        ``dx = dz W``, ``dW += dz^T x``, ``db += sum dz``. Chunked: for each block of B rows,
        ``z_B = x_B W^T + b``, ``dz_B``, and at once ``dx_B = dz_B W``, ``dW += dz_B^T x_B``;
        for 'mean'/'sum' this happens in forward with g = 1 and backward scales by g
        (torch's scheme), for 'none' backward recomputes each block's logits.

    What torch hides:
        where the memory goes. Unfused, forward + backward hold the logits, their
        log-softmax, CrossEntropyLoss's target matrix, its gradient and the logits'
        gradient: five ``(N, C)`` arrays, ``5 N C`` elements. Chunked, only ``(B, C)``
        blocks exist (about six of them, CrossEntropyLoss's working arrays for one block),
        plus ``dx`` ``(N, d)``, ``dW`` ``(C, d)`` and one ``(C, d)`` product per block:
        ``~6 B C + 2 C d + N d`` elements. Measured (tracemalloc, float32, N = 256 tokens,
        d = 64, C = 32768, 'mean', forward + backward): 160.0 MiB unfused (exactly five
        32 MiB logits-sized arrays) vs 36.2 MiB with 32-row blocks, 4.4x less, with the
        same loss and gradients (``tests/test_linear_ce.py`` measures it again). The price
        is time: each block is a separate BLAS call and a separate update of the whole
        ``dW``; torch's ``"auto"`` chunking on CPU sizes a block's logits like the input
        (here 1 row per block), which NumPy runs over 10x slower than unfused. The 'mean'/'sum'
        gradients are computed in forward and consumed in place, so without
        ``allow_retain_graph=True`` a second backward raises. torch's default
        ``ignore_index`` here is None, not -100, because probability targets refuse one.
    """

    def __init__(self, in_features: int, num_classes: int, *, out_features: tuple = (),
                 bias: bool = False, device=None, dtype=np.float32, reduction: str = "mean",
                 weight=None, ignore_index: int | None = None, label_smoothing: float = 0.0,
                 options: LinearCrossEntropyOptions | None = None):
        if weight is not None and np.shape(weight) != (num_classes,):
            raise ValueError(f"LinearCrossEntropyLoss: expected weight shape to be "
                             f"{(num_classes,)}, got {np.shape(weight)}")
        if not 0.0 <= label_smoothing <= 1.0:
            raise ValueError(f"LinearCrossEntropyLoss: expected label_smoothing to be in range "
                             f"[0, 1], got {label_smoothing}")
        fields = [f.name for f in dataclasses.fields(LinearCrossEntropyOptions)]
        if (options is not None and not isinstance(options, LinearCrossEntropyOptions)
                and all(hasattr(options, f) for f in fields)):   # torch's own options object
            options = LinearCrossEntropyOptions(**{f: getattr(options, f) for f in fields})
        if options is not None and not isinstance(options, LinearCrossEntropyOptions):
            raise TypeError(f"LinearCrossEntropyLoss: options must be None or a "
                            f"LinearCrossEntropyOptions, got {type(options).__name__}")
        super().__init__(None, None, reduction, dtype)
        self._buffer("weight", weight)
        self.num_classes, self.out_features = num_classes, tuple(out_features)
        self.ignore_index, self.label_smoothing, self.options = (ignore_index, label_smoothing,
                                                                 options)
        self.linear = Linear(in_features, math.prod(self.out_features, start=num_classes),
                             bias=bias, dtype=dtype)

    # -- shared --------------------------------------------------------------------------
    def _ce(self, reduction: str) -> CrossEntropyLoss:
        ignore = -100 if self.ignore_index is None else self.ignore_index
        return CrossEntropyLoss(self.weight, ignore_index=ignore, reduction=reduction,
                                label_smoothing=self.label_smoothing, dtype=self.dtype)

    def _chunked(self, target) -> bool:
        if self.options is None:
            return False
        ok = (not self.out_features and self.label_smoothing == 0.0
              and isinstance(target, np.ndarray) and target.dtype.kind in "iu")
        if not ok:
            warnings.warn("LinearCrossEntropyLoss: ``options`` ignored; chunked path needs "
                          "label_smoothing == 0, an integer target and out_features == (). Got "
                          f"label_smoothing={self.label_smoothing}, target dtype="
                          f"{getattr(target, 'dtype', type(target).__name__)}, "
                          f"out_features={self.out_features}.", stacklevel=3)
        return ok

    def forward(self, input, target):
        try:
            return self._forward(input, target)
        except (ValueError, TypeError, IndexError) as exc:   # CrossEntropyLoss's own checks
            if not str(exc).startswith("CrossEntropyLoss:"):
                raise
            raise type(exc)(f"Linear{exc}") from exc            # name the module the user called

    def _forward(self, input, target):
        x = self._x(input)
        name = type(self).__name__
        if x.ndim not in (1, 2):
            raise ValueError(f"{name}: expected input with dimensionality 1 or 2, got shape "
                             f"{x.shape}")
        if x.shape[-1] != self.linear.in_features:
            raise ValueError(f"{name}: expected input with {self.linear.in_features} features "
                             f"in its last dim, got shape {x.shape}")
        if self.out_features and x.ndim == 1:
            raise ValueError(f"{name}: a K-dimensional loss (out_features={self.out_features}) "
                             f"requires batched input (N, {x.shape[0]}), got shape {x.shape}")
        logits_shape = (*x.shape[:-1], self.num_classes, *self.out_features)
        probabilities = isinstance(target, np.ndarray) and target.shape == logits_shape
        if probabilities and self.ignore_index is not None:
            raise ValueError(f"{name}: ignore_index cannot be specified when target contains "
                             f"probabilities (a target of the logits' shape {logits_shape})")
        if self._chunked(target):
            return self._forward_chunked(x, target)
        b = self.linear.bias.data if self.linear.bias is not None else None
        z, lin = linear_forward(x, self.linear.weight.data, b)           # (*, C * prod(out))
        ce = self._ce(self.reduction)
        loss = ce(z.reshape(logits_shape), target)
        self._cache = ReferenceCache(ce, lin, logits_shape)
        return loss

    def backward(self, grad_output=None):
        c = self._saved()
        if isinstance(c, ChunkedCache):
            return self._backward_chunked(c, grad_output)
        dz = c.ce.backward(grad_output).reshape(*c.logits_shape[:-1 - len(self.out_features)], -1)
        dx, dw, db = linear_backward(dz, self.linear.weight.data, c.lin,
                                     self.linear.bias is not None)
        self.linear.weight.accumulate(dw)
        if db is not None:
            self.linear.bias.accumulate(db)
        return dx

    # -- the chunked path ----------------------------------------------------------------
    def _blocks(self, c: ChunkedCache):
        """``(rows, logits z_B, a 'none' CrossEntropyLoss that has seen them)`` per block."""
        W = self.linear.weight.data
        b = self.linear.bias.data if self.linear.bias is not None else None
        for i in range(0, c.x2.shape[0], c.rows):
            rows = slice(i, i + c.rows)
            z = c.x2[rows] @ W.T + (b if b is not None else 0)          # (B, C)
            ce = self._ce("none")
            yield rows, ce, ce(np.asarray(z, dtype=W.dtype), c.t[rows])  # per-row losses (B,)

    def _fold(self, c: ChunkedCache, g_rows: np.ndarray, grads: list,
              losses: np.ndarray | None = None) -> None:
        """Add every block's ``dx_B``, ``dW``, ``db`` for per-row upstream gradients g_rows
        (and keep the per-row losses in ``losses``): one pass, each block's logits once."""
        W = self.linear.weight.data
        for rows, ce, block_loss in self._blocks(c):
            if losses is not None:
                losses[rows] = block_loss
            dz = ce.backward(g_rows[rows])                              # (B, C)
            grads[0][rows] = dz @ W
            grads[1] += dz.T @ c.x2[rows]
            if grads[2] is not None:
                grads[2] += dz.sum(axis=0)

    def _zero_grads(self, x2: np.ndarray) -> list:
        W = self.linear.weight.data
        return [np.zeros_like(x2), np.zeros_like(W),
                np.zeros(W.shape[0], W.dtype) if self.linear.bias is not None else None]

    def _forward_chunked(self, x: np.ndarray, target) -> np.ndarray:
        name = type(self).__name__
        t = _checks.index_array(target, name)
        x2, t2 = (x, t) if x.ndim == 2 else (x[None], t[None])
        if t2.shape != x2.shape[:1]:
            raise ValueError(f"{name}: expected target of shape {x.shape[:-1]} (class indices), "
                             f"got {t.shape}")
        n, d = x2.shape
        rows = self.options.chunk_rows(n, d, self.num_classes)
        ignore = -100 if self.ignore_index is None else self.ignore_index
        w = np.ones(self.num_classes, x.dtype) if self.weight is None else self.weight
        valid = t2 != ignore
        denom = np.where(valid, w[np.where(valid, t2, 0)], 0).sum(dtype=x.dtype)
        with np.errstate(divide="ignore", invalid="ignore"):
            scale = np.full(n, 1 / denom if self.reduction == "mean" else 1, dtype=x.dtype)
        c = ChunkedCache(x2, t2, rows, None, scale, x.ndim == 2)
        per_row = np.zeros(n, dtype=x.dtype)
        if self.reduction == "none":                       # backward recomputes the blocks
            for block, _, block_loss in self._blocks(c):
                per_row[block] = block_loss
            self._cache = c
            return per_row if x.ndim == 2 else per_row.reshape(())
        grads = self._zero_grads(x2)
        self._fold(c, scale, grads, per_row)               # the gradients at grad_output = 1
        self._cache = c._replace(grads=grads)
        with np.errstate(divide="ignore", invalid="ignore"):
            total = per_row.sum(dtype=x.dtype)
            return np.asarray(total / denom if self.reduction == "mean" else total, x.dtype)

    def _backward_chunked(self, c: ChunkedCache, grad_output):
        dt = c.x2.dtype
        if self.reduction == "none":
            g = self._grad_out(grad_output, (c.x2.shape[0],) if c.batched else (), dt)
            grads = self._zero_grads(c.x2)
            self._fold(c, g.reshape(-1), grads)                         # recompute the blocks
        else:
            if c.grads is None:
                raise RuntimeError("LinearCrossEntropyLoss: backward called twice after one "
                                   "forward; the chunked gradients were consumed in place "
                                   "(pass LinearCrossEntropyOptions(allow_retain_graph=True))")
            g = self._grad_out(grad_output, (), dt)
            if self.options.allow_retain_graph:
                grads = [None if a is None else a * g for a in c.grads]
            else:                                   # consumed in place: no gradient-sized copy
                grads = [None if a is None else np.multiply(a, g, out=a) for a in c.grads]
                self._cache = c._replace(grads=None)
        self.linear.weight.accumulate(grads[1])
        if grads[2] is not None:
            self.linear.bias.accumulate(grads[2])
        return grads[0] if c.batched else grads[0][0]

    def extra_repr(self) -> str:
        return (f"in_features={self.linear.in_features}, num_classes={self.num_classes}, "
                f"out_features={self.out_features}, bias={self.linear.bias is not None}, "
                f"reduction={self.reduction}, ignore_index={self.ignore_index}, "
                f"label_smoothing={self.label_smoothing}, options={self.options}")
