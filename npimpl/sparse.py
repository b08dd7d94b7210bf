"""Sparse row gradients: what ``Embedding(sparse=True)`` and ``EmbeddingBag(sparse=True)``
put in ``weight.grad`` instead of a dense table of mostly zeros.

torch returns a sparse COO tensor there: the looked-up row indices (one per lookup, in input
order, duplicates kept: *uncoalesced*) and one gradient row per index. :class:`SparseGrad` is
that, in NumPy: ``indices`` (nnz,), ``values`` (nnz, *row_shape), the dense ``shape``.
Adding two of them concatenates (as torch's accumulation of sparse gradients usually does;
torch sometimes adds an equal index list's values in place instead — the same gradient);
:meth:`SparseGrad.coalesce` sorts the indices and sums duplicate rows, as torch's
``coalesce()``; :meth:`SparseGrad.to_dense` scatters into a zero table.

``npimpl.optim.SparseAdam`` needs these gradients (it updates only the rows present); SGD
and Adagrad accept them (their updates equal the dense ones, as in torch); every other
optimizer refuses them with torch's message.
"""
from __future__ import annotations

import numpy as np


class SparseGrad:
    """A gradient with rows ``indices`` of a ``shape`` table holding ``values``."""

    __slots__ = ("indices", "values", "shape")

    def __init__(self, indices, values, shape):
        self.indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        self.values = np.asarray(values)
        self.shape = tuple(shape)
        if self.values.shape != (self.indices.size, *self.shape[1:]):
            raise ValueError(f"SparseGrad: values must have shape "
                             f"{(self.indices.size, *self.shape[1:])}, got {self.values.shape}")

    @classmethod
    def rows(cls, indices, values, shape, padding_idx=None) -> "SparseGrad":
        """torch's sparse embedding gradient: one row per lookup, the padding row's left out."""
        indices = np.asarray(indices, dtype=np.int64).reshape(-1)
        values = np.asarray(values).reshape(indices.size, *shape[1:])
        if padding_idx is not None:
            keep = indices != padding_idx
            indices, values = indices[keep], values[keep]
        return cls(indices, np.array(values, copy=True), shape)

    @property
    def dtype(self) -> np.dtype:
        return self.values.dtype

    @property
    def nnz(self) -> int:
        return self.indices.size

    def coalesce(self) -> "SparseGrad":
        """Indices sorted and unique, duplicate rows summed (torch's ``coalesce()``)."""
        uniq, inverse = np.unique(self.indices, return_inverse=True)
        values = np.zeros((uniq.size, *self.shape[1:]), dtype=self.values.dtype)
        np.add.at(values, inverse.reshape(-1), self.values)
        return SparseGrad(uniq, values, self.shape)

    def to_dense(self) -> np.ndarray:
        dense = np.zeros(self.shape, dtype=self.values.dtype)
        np.add.at(dense, self.indices, self.values)
        return dense

    def copy(self) -> "SparseGrad":
        return SparseGrad(self.indices.copy(), self.values.copy(), self.shape)

    def astype(self, dtype) -> "SparseGrad":
        return SparseGrad(self.indices, self.values.astype(dtype), self.shape)

    def __add__(self, other: "SparseGrad") -> "SparseGrad":
        if not isinstance(other, SparseGrad) or other.shape != self.shape:
            raise TypeError(f"SparseGrad: can only add a SparseGrad of shape {self.shape}, got "
                            f"{getattr(other, 'shape', type(other).__name__)}")
        return SparseGrad(np.concatenate([self.indices, other.indices]),
                          np.concatenate([self.values, other.values]), self.shape)

    def __neg__(self) -> "SparseGrad":
        return SparseGrad(self.indices, -self.values, self.shape)

    def __repr__(self) -> str:
        return f"SparseGrad(shape={self.shape}, nnz={self.nnz}, dtype={self.dtype})"


def dense(grad) -> np.ndarray:
    """A gradient as a dense array (a :class:`SparseGrad` scattered; arrays as they are)."""
    return grad.to_dense() if isinstance(grad, SparseGrad) else grad
