"""Bilinear: a learned bilinear form of two inputs, ``y_o = x1^T A_o x2 + b_o``.

torch keeps Bilinear in ``torch/nn/modules/linear.py``, beside Linear; here it has its own
file because it has two inputs and three contractions.
"""
from __future__ import annotations

import math
from typing import NamedTuple

import numpy as np
from einops import einsum

from .module import Module, Parameter
from .random import generator


class BilinearCache(NamedTuple):
    x1: np.ndarray       # (M, in1) input1 with its leading dims flattened
    x2: np.ndarray       # (M, in2)
    lead: tuple          # the leading dims ``*``


class Bilinear(Module):
    """``y[..., o] = sum_ij x1[..., i] W[o, i, j] x2[..., j] + b[o]``.

    Args:
        in1_features: size of each first input sample (> 0).
        in2_features: size of each second input sample.
        out_features: size of each output sample.
        bias: if False, no additive bias.
        dtype: NumPy float dtype of the parameters (default ``np.float32``, like torch).

    Shape:
        input1 ``(*, in1_features)`` and input2 ``(*, in2_features)`` with the *same* leading
        dims ``*`` (no broadcasting) → output ``(*, out_features)``; 1-D inputs are unbatched.

    Attributes:
        weight: ``(out_features, in1_features, in2_features)``, from ``U(-1/sqrt(in1),
            1/sqrt(in1))``; bias: ``(out_features,)``, the same distribution.

    Backward:
        ``dx1 = sum_oj dy_o W_oij x2_j``;  ``dx2 = sum_oi dy_o W_oij x1_i``;
        ``dW += sum_n dy_no x1_ni x2_nj`` (an outer product per sample);  ``db += sum(dy)``.
        ``backward(g)`` returns ``(g_input1, g_input2)``.

    What torch hides:
        the init bound uses only ``in1_features`` (``1/sqrt(weight.size(1))``), whatever
        in2 is; the two inputs must agree exactly in their leading dims (``(5, 2)`` with
        ``(1, 3)`` is refused, though elsewhere torch broadcasts). The forward is
        ``_trilinear``, a generic contraction; here two einsums.
    """

    def __init__(self, in1_features: int, in2_features: int, out_features: int,
                 bias: bool = True, device=None, dtype=np.float32):
        super().__init__()
        for name, v in (("in1_features", in1_features), ("in2_features", in2_features),
                        ("out_features", out_features)):
            if not isinstance(v, (int, np.integer)) or v < 0:
                raise ValueError(f"Bilinear: {name} must be a non-negative int, got {v!r}")
        if in1_features <= 0:
            raise ValueError(f"Bilinear: in1_features must be > 0 (it sets the init bound), "
                             f"got {in1_features}")
        self.in1_features, self.in2_features = int(in1_features), int(in2_features)
        self.out_features = int(out_features)
        dt = self._dtype(dtype)
        self.weight = Parameter(np.empty((out_features, in1_features, in2_features), dt))
        self.bias = Parameter(np.empty(out_features, dt)) if bias else None
        self.reset_parameters()

    def reset_parameters(self, rng: np.random.Generator | None = None) -> None:
        rng = generator(rng)
        bound = 1.0 / math.sqrt(self.in1_features)
        self.weight.data[...] = rng.uniform(-bound, bound, self.weight.shape)
        if self.bias is not None:
            self.bias.data[...] = rng.uniform(-bound, bound, self.bias.shape)

    def _inputs(self, input1, input2):
        dt = self.weight.dtype
        x1 = self._input(input1, "input1", dt)
        x2 = self._input(input2, "input2", dt)
        if x1.ndim == 0 or x2.ndim == 0:
            raise ValueError(f"Bilinear: inputs must have at least 1 dim (*, features), got "
                             f"shapes {x1.shape} and {x2.shape}")
        if x1.ndim != x2.ndim:
            raise ValueError(f"Bilinear: input dimensions do not match: expected equal ranks, "
                             f"got {x1.ndim} ({x1.shape}) and {x2.ndim} ({x2.shape})")
        if x1.shape[:-1] != x2.shape[:-1]:
            raise ValueError(f"Bilinear: input batch dimensions do not match: expected equal "
                             f"leading dims, got {x1.shape} and {x2.shape}")
        for name, x, n in (("input1", x1, self.in1_features), ("input2", x2, self.in2_features)):
            if x.shape[-1] != n:
                raise ValueError(f"Bilinear: {name} size does not match weight size: expected "
                                 f"{n} features in its last dim, got shape {x.shape}")
        return x1, x2

    def forward(self, input1, input2):
        x1, x2 = self._inputs(input1, input2)
        lead = x1.shape[:-1]
        m = math.prod(lead)
        a = x1.reshape(m, self.in1_features)                          # (M, in1)
        b = x2.reshape(m, self.in2_features)                          # (M, in2)
        # contractions by BLAS (np.einsum's optimize: 50 -> 7 ms at 1024 x 64 x 64 x 64)
        t = np.einsum("mi,oij->moj", a, self.weight.data, optimize=True)  # (M, out, in2)
        y = einsum(t, b, "m o j, m j -> m o")                         # (M, out)
        if self.bias is not None:
            y = y + self.bias.data
        self._cache = BilinearCache(a, b, lead)
        return y.reshape(*lead, self.out_features)

    def backward(self, grad_output):
        a, b, lead = self._saved()
        g = self._input(grad_output, "grad_output", self.weight.dtype)
        if g.shape != (*lead, self.out_features):
            raise ValueError(f"Bilinear: grad_output must have shape "
                             f"{(*lead, self.out_features)}, got {g.shape}")
        g = g.reshape(a.shape[0], self.out_features)                  # (M, out)
        w = self.weight.data
        gw = np.einsum("mo,oij->mij", g, w, optimize=True)           # (M, in1, in2)
        dx1 = einsum(gw, b, "m i j, m j -> m i")
        dx2 = einsum(gw, a, "m i j, m i -> m j")
        # dW = sum_m g[m, o] a[m, i] b[m, j]: one GEMM with the rows' outer products (the
        # three-operand einsum is a loop: 150 -> ~15 ms at that size)
        ab = np.multiply(a[:, :, None], b[:, None, :], out=gw)              # gw's array, done
        ab = ab.reshape(a.shape[0], -1)                                     # (M, in1 * in2)
        self.weight.accumulate((g.T @ ab).reshape(w.shape))
        if self.bias is not None:
            self.bias.accumulate(g.sum(axis=0))
        return (dx1.reshape(*lead, self.in1_features), dx2.reshape(*lead, self.in2_features))

    def extra_repr(self) -> str:
        return (f"in1_features={self.in1_features}, in2_features={self.in2_features}, "
                f"out_features={self.out_features}, bias={self.bias is not None}")
