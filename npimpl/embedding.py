"""Embedding and EmbeddingBag: table lookups whose backward is a scatter-add."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from . import _checks
from ._scatter import accumulate_rows, add_rows
from .module import Module, Parameter
from .sparse import SparseGrad
from .random import generator


def _indices(x, num: int, owner: str, name: str = "input") -> np.ndarray:
    idx = _checks.index_array(x, owner, name)
    if idx.size and (idx.min() < 0 or idx.max() >= num):
        bad = idx[(idx < 0) | (idx >= num)].flat[0]
        raise IndexError(f"{owner}: {name} index {bad} out of range for an embedding table with "
                         f"{num} rows (expected 0 <= index < {num})")
    return idx


def _padding(padding_idx, num: int, owner: str):
    """torch's rule: ``-num <= padding_idx < num``; a negative one counts from the end."""
    if padding_idx is None:
        return None
    if not -num <= padding_idx < num:
        raise ValueError(f"{owner}: padding_idx must be within num_embeddings "
                         f"(-{num} <= padding_idx < {num}), got {padding_idx}")
    return int(padding_idx) % num


def _row_norm(row: np.ndarray, p: float) -> float:
    """The p-norm of one row as ``torch.norm`` defines it for every p: inf = max |x|,
    -inf = min |x|, 0 = the number of non-zero entries (not a norm, but torch's answer),
    else (sum |x|^p)^(1/p) (a negative p sends a zero entry to |0|^p = inf, hence 0)."""
    a = np.abs(row.astype(np.float64))
    if p == np.inf:
        return float(a.max(initial=0.0))
    if p == -np.inf:
        return float(a.min(initial=np.inf))
    if p == 0:
        return float(np.count_nonzero(a))
    with np.errstate(divide="ignore"):                  # 0 ** (negative p) = inf, on purpose
        return float((a ** p).sum() ** (1.0 / p))


def embedding_renorm_(weight: np.ndarray, idx: np.ndarray, max_norm: float, norm_type: float):
    """In place, as ``torch.embedding_renorm_``: every row looked up whose ``norm_type``-norm
    exceeds ``max_norm`` is scaled by ``max_norm / (norm + 1e-7)`` (torch's 1e-7 keeps the new
    norm just under ``max_norm``)."""
    for i in np.unique(idx):
        row = weight[i]
        norm = _row_norm(row, norm_type)
        if norm > max_norm:
            row *= row.dtype.type(max_norm / (norm + 1e-7))   # scale computed in double


def _freq_scale(idx: np.ndarray, num: int) -> np.ndarray:
    """``1 / count(i)`` per looked-up position (``scale_grad_by_freq``)."""
    counts = np.bincount(idx.reshape(-1), minlength=num)
    return 1.0 / counts[idx]


class EmbeddingCache(NamedTuple):
    idx: np.ndarray         # (*): the looked-up rows


#: torch refuses this in backward (``embedding_backward``); so does npimpl
_NO_FREQ_WITH_SPARSE = ("{}: scale_grad_by_freq is not supported with sparse gradients (as "
                        "torch's embedding_backward); expected sparse=False or "
                        "scale_grad_by_freq=False")


class Embedding(Module):
    r"""``y[..., :] = weight[input[...], :]``: row lookup in a ``(num_embeddings, dim)`` table.

    Args:
        num_embeddings: number of rows in the table.
        embedding_dim: size of each row.
        padding_idx: a row that gets no gradient (initialised to zeros); negative counts
            from the end.
        max_norm: if given, every row looked up whose norm exceeds it is renormalised
            *in place* in the forward, to ``max_norm / (norm + 1e-7)`` times itself.
        norm_type: the p of the p-norm for ``max_norm`` (default 2); any p ``torch.norm``
            takes: inf, -inf, 0 (the count of non-zero entries) and negative ones.
        scale_grad_by_freq: divide each row's gradient by how often it occurs in the input.
        sparse: ``weight.grad`` becomes a :class:`npimpl.sparse.SparseGrad` (the looked-up
            rows only, uncoalesced, as torch's sparse COO gradient) instead of a dense table.

    Shape:
        input ``(*)`` integer indices → output ``(*, embedding_dim)``.

    Attributes:
        weight: ``(num_embeddings, embedding_dim)`` from N(0, 1), the padding row zeroed.

    Maths:
        y_{\ldots, :} = W_{\text{input}_{\ldots}, :}

    Derivation:
        1. $y$ at position $k$ copies row $i_k$ of $W$: $\partial y_{k,d} / \partial W_{j,d} = [i_k = j]$.
        2. Sum over positions: $\bar W_j = \sum_{k:\, i_k = j} \bar y_k$ (repeated indices add up;
           ``scale_grad_by_freq`` divides by their count), and the padding row gets none:
           $$\bar W_j \mathrel{\text{+=}} \textstyle\sum_{k:\, i_k = j} \bar y_k, \qquad \bar W_{\text{padding\_idx}} = 0$$
        3. The indices are integers: no gradient.

    Backward:
        dweight[i] += sum of dy over the positions where input == i (repeated indices add
        up; divided by the count if scale_grad_by_freq); dweight[padding_idx] = 0; the
        indices get no gradient (None).

    What torch hides:
        the padding row is not frozen, only its gradient is zero (an optimizer with weight
        decay still moves it); ``max_norm`` *modifies the weight* during the forward, outside
        autograd, so the table changes just by being read.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx=None,
                 max_norm=None, norm_type: float = 2.0, scale_grad_by_freq: bool = False,
                 sparse: bool = False, device=None, dtype=np.float32):
        super().__init__()
        self.num_embeddings = _checks.count(num_embeddings, "Embedding", "num_embeddings")
        self.embedding_dim = _checks.count(embedding_dim, "Embedding", "embedding_dim")
        self.padding_idx = _padding(padding_idx, self.num_embeddings, "Embedding")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        dt = self._dtype(dtype)
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dt))
        self.reset_parameters()

    def reset_parameters(self, rng=None) -> None:
        """weight ~ N(0, 1), then the padding row set to zero (torch's ``normal_``)."""
        rng = generator(rng)
        self.weight.data[...] = rng.standard_normal(self.weight.shape)
        if self.padding_idx is not None:
            self.weight.data[self.padding_idx] = 0

    def forward(self, input):
        idx = _indices(input, self.num_embeddings, "Embedding")
        if self.max_norm is not None:
            embedding_renorm_(self.weight.data, idx, self.max_norm, self.norm_type)
        self._cache = EmbeddingCache(idx)
        return self.weight.data[idx]                       # (*, embedding_dim)

    def backward(self, grad_output):
        idx = self._saved().idx
        dy = self._upstream(grad_output, (*idx.shape, self.embedding_dim), self.weight.dtype)
        dy = dy.reshape(idx.size, self.embedding_dim)      # (M, dim); -1 fails for dim 0
        flat = idx.reshape(-1)                             # (M,)
        if self.scale_grad_by_freq and self.sparse:
            raise ValueError(_NO_FREQ_WITH_SPARSE.format("Embedding"))
        if self.scale_grad_by_freq:
            dy = dy * _freq_scale(flat, self.num_embeddings)[:, None].astype(dy.dtype)
        if self.sparse:
            self.weight.accumulate(SparseGrad.rows(flat, dy, self.weight.shape, self.padding_idx))
            return None
        # dW = zeros, np.add.at(dW, flat, dy) (repeated indices add up), dW[padding_idx] = 0,
        # then accumulated: added in place, without np.add.at's slow loop (npimpl._scatter)
        accumulate_rows(self.weight, flat, dy, skip=self.padding_idx)
        return None                                        # indices are not differentiable

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        return s


def _running_argmax(r: np.ndarray) -> np.ndarray:
    """Per column of ``r`` (k, D), the winner of torch's running maximum: start at row 0 and
    move only to a strictly larger value. NaN compares false, so a NaN wins only in row 0
    (then nothing beats it), and the first of tied maxima wins (``np.argmax`` alone would
    let any NaN win)."""
    first_nan = np.isnan(r[0])                                          # (D,)
    k = np.where(np.isnan(r), -np.inf, r).argmax(axis=0)                # NaNs never win later
    return np.where(first_nan, 0, k)


class EmbeddingBagCache(NamedTuple):
    idx: np.ndarray         # (n,): flattened indices
    bag: np.ndarray         # (n,): the bag of each position, -1 for none or padding
    rows: np.ndarray        # (n, dim): the looked-up rows (after any renorm)
    psw: np.ndarray | None  # (n,): per-sample weights (mode 'sum' only)
    count: np.ndarray       # (B,): valid (non-padding) entries per bag
    argmax: np.ndarray | None  # (B, dim): position of the max per bag and dim, -1 if empty
    n_inputs: int           # how many inputs forward took (the arity of backward's answer)
    shape: tuple            # the input's shape (for psw's gradient)


class EmbeddingBag(Module):
    """``y[b] = reduce_{j in bag b} psw[j] * weight[input[j]]`` with reduce = sum, mean or max.

    Args:
        num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, sparse:
            as :class:`Embedding`.
        mode: ``'sum'``, ``'mean'`` (default, torch's) or ``'max'``.
        include_last_offset: ``offsets`` has B + 1 entries, the last one closing the last bag;
            as torch documents (CSR format), that last entry must equal the input's length.
        padding_idx: entries equal to it are left out of their bag (and of the mean's count).

    Shape:
        input ``(B, N)`` (each row a bag, ``offsets`` None) or ``(n,)`` with ``offsets``
        ``(B,)`` (bag b starts at ``offsets[b]``) → output ``(B, embedding_dim)``;
        ``per_sample_weights`` has the input's shape (``mode='sum'`` only).

    Attributes:
        weight: ``(num_embeddings, embedding_dim)`` from N(0, 1), the padding row zeroed.

    Backward:
        sum: dweight[input[j]] += psw[j] * dy[bag(j)];  mean: += dy[bag(j)] / count(bag);
        max: dweight[input[j*], d] += dy[b, d] at the arg-max j* of each bag and dim;
        dpsw[j] = <dy[bag(j)], weight[input[j]]>; padding entries get nothing; an empty bag
        outputs zeros; indices and offsets get None.

    What torch hides:
        it never materialises the ``(n, dim)`` gathered rows as an autograd node: the
        reduction is one fused kernel that also records, for 'max', which entry won; the
        mean divides by the number of *non-padding* entries; ``offsets[0]`` must be 0. With
        ``include_last_offset`` and a last offset short of the input's length (outside torch's
        documented CSR contract, refused here) torch's CPU kernels disagree with each other:
        in float64 the last bag runs to the end of the input; in float32 'sum' stops it at
        the last offset, 'mean' sums to there but divides by the count to the end (and its
        backward spreads the gradient to the end), 'max' runs to the end; and
        ``offsets=[0]`` on a non-empty input crashes the process in 'max' (SIGSEGV). In 'max', the running maximum starts at the bag's first entry and takes an
        entry only when it is larger: a NaN wins only when it comes first. Its
        CPU backward in torch 2.13 divides the group of the i-th distinct index by the count
        of ``sorted(input)[i]`` under scale_grad_by_freq (pytorch/pytorch#190063, fixed by
        #190264); this class follows the documented formula (each row's own count), which is
        also what ``Embedding`` and torch's CUDA kernel do.
    """

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, mode: str = "mean",
                 sparse: bool = False, include_last_offset: bool = False, padding_idx=None,
                 device=None, dtype=np.float32):
        super().__init__()
        self.mode = _checks.option(mode, ("sum", "mean", "max"), "EmbeddingBag", "mode")
        if sparse and mode == "max":
            raise ValueError("EmbeddingBag: max mode does not support sparse weights "
                             "(expected sparse=False with mode='max')")
        if scale_grad_by_freq and mode == "max":
            raise ValueError("EmbeddingBag: scale_grad_by_freq is not supported with mode='max'")
        self.num_embeddings = _checks.count(num_embeddings, "EmbeddingBag", "num_embeddings")
        self.embedding_dim = _checks.count(embedding_dim, "EmbeddingBag", "embedding_dim")
        self.padding_idx = _padding(padding_idx, self.num_embeddings, "EmbeddingBag")
        self.max_norm, self.norm_type = max_norm, float(norm_type)
        self.scale_grad_by_freq, self.sparse = bool(scale_grad_by_freq), bool(sparse)
        self.include_last_offset = bool(include_last_offset)
        dt = self._dtype(dtype)
        self.weight = Parameter(np.empty((self.num_embeddings, self.embedding_dim), dtype=dt))
        self.reset_parameters()

    reset_parameters = Embedding.reset_parameters

    def _bags(self, shape, offsets, n: int):
        """The bag of every flattened position, and the number of bags."""
        owner = "EmbeddingBag"
        if len(shape) == 2:
            if offsets is not None:
                raise ValueError(f"{owner}: offsets must be None for a 2-D input (each row is "
                                 f"a bag), got offsets of shape {np.shape(offsets)}")
            B, N = shape
            return np.repeat(np.arange(B), N), B
        if len(shape) != 1:
            raise ValueError(f"{owner}: input must be 1-D (with offsets) or 2-D, got shape {shape}")
        if offsets is None:
            raise ValueError(f"{owner}: a 1-D input needs offsets (the start of each bag)")
        off = _checks.index_array(offsets, owner, "offsets")
        _checks.ndim(off, (1,), owner, "offsets")
        if off.size and off[0] != 0:
            raise ValueError(f"{owner}: offsets[0] has to be 0, got {off[0]}")
        if (np.diff(off) < 0).any() or (off.size and off[-1] > n):
            raise ValueError(f"{owner}: offsets must be non-decreasing and at most the input "
                             f"length {n}, got {off.tolist()}")
        if self.include_last_offset and (off.size == 0 or off[-1] != n):
            raise ValueError(f"{owner}: with include_last_offset=True the last offset closes "
                             f"the last bag and must equal the input length {n} (torch's "
                             f"CSR format), got offsets {off.tolist()}")
        ends = off[1:] if self.include_last_offset else np.append(off[1:], n)
        B = len(ends)
        bag = np.full(n, -1)
        for b in range(B):
            bag[off[b]:ends[b]] = b
        return bag, B

    def forward(self, input, offsets=None, per_sample_weights=None):
        owner, D = "EmbeddingBag", self.embedding_dim
        idx_nd = _indices(input, self.num_embeddings, owner)
        n_inputs = 1 + (offsets is not None or per_sample_weights is not None) \
            + (per_sample_weights is not None)
        bag, B = self._bags(idx_nd.shape, offsets, idx_nd.size)
        idx = idx_nd.reshape(-1)                                         # (n,)
        psw = None
        if per_sample_weights is not None:
            if self.mode != "sum":
                raise ValueError(f"{owner}: per_sample_weights is only supported for "
                                 f"mode='sum', got mode={self.mode!r}")
            psw = self._input(per_sample_weights, "per_sample_weights", self.weight.dtype)
            if psw.shape != idx_nd.shape:
                raise ValueError(f"{owner}: per_sample_weights must have the input's shape "
                                 f"{idx_nd.shape}, got {psw.shape}")
            psw = psw.reshape(-1)
        if self.max_norm is not None:
            embedding_renorm_(self.weight.data, idx, self.max_norm, self.norm_type)
        if self.padding_idx is not None:
            bag = np.where(idx == self.padding_idx, -1, bag)             # left out of its bag
        rows = self.weight.data[idx]                                     # (n, D)
        ok = bag >= 0
        count = np.bincount(bag[ok], minlength=B)                        # (B,)
        out = np.zeros((B, D), dtype=self.weight.dtype)
        argmax = None
        if self.mode == "max":
            argmax = np.full((B, D), -1)
            for b in range(B):
                pos = np.flatnonzero(bag == b)
                if pos.size:
                    k = _running_argmax(rows[pos])                       # (D,)
                    argmax[b] = pos[k]
                    out[b] = rows[pos[k], np.arange(D)]
        else:
            every = ok.all()                    # no padding left out: no copy of the rows
            if psw is None:
                contrib = rows if every else rows[ok]
            else:
                contrib = (rows if every else rows[ok]) * psw[ok, None]
            add_rows(out, bag[ok], contrib)     # np.add.at(out, bag[ok], contrib) (_scatter)
            if self.mode == "mean":
                out /= np.maximum(count, 1)[:, None].astype(out.dtype)   # empty bag stays 0
        self._cache = EmbeddingBagCache(idx, bag, rows, psw, count, argmax, n_inputs,
                                        idx_nd.shape)
        return out                                                       # (B, D)

    def backward(self, grad_output):
        c = self._saved()
        B, D = len(c.count), self.embedding_dim
        dy = self._upstream(grad_output, (B, D), self.weight.dtype)
        if self.scale_grad_by_freq and self.sparse:
            raise ValueError(_NO_FREQ_WITH_SPARSE.format("EmbeddingBag"))
        ok = c.bag >= 0
        if self.mode == "max":
            dw = np.zeros_like(self.weight.data)
            for b in range(B):
                if c.count[b]:
                    np.add.at(dw, (c.idx[c.argmax[b]], np.arange(D)), dy[b])
        else:
            g = dy[c.bag[ok]]                                            # (n_ok, D)
            if c.psw is not None:
                g = g * c.psw[ok, None]
            if self.mode == "mean":
                g = g / c.count[c.bag[ok]][:, None].astype(g.dtype)
            if self.scale_grad_by_freq:
                g = g * _freq_scale(c.idx, self.num_embeddings)[ok][:, None].astype(g.dtype)
            if self.sparse:
                dw = SparseGrad.rows(c.idx[ok], g, self.weight.shape)
            else:            # np.add.at into a dense dW, added: in place (npimpl._scatter)
                accumulate_rows(self.weight, c.idx[ok], g)
                dw = None
        if dw is not None:
            if self.padding_idx is not None and not self.sparse:
                dw[self.padding_idx] = 0
            self.weight.accumulate(dw)
        if c.n_inputs == 1:
            return None
        grads = [None, None]
        if c.psw is not None:
            dpsw = np.zeros_like(c.psw)
            dpsw[ok] = (dy[c.bag[ok]] * c.rows[ok]).sum(axis=1)          # <dy_bag, w_row>
            grads.append(dpsw.reshape(c.shape))
        return tuple(grads)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}"
