"""Muon's bfloat16 Newton-Schulz against torch's real kernels, call by call.

``npimpl/optim/_bfloat16.py`` claims torch 2.13's CPU arithmetic bit for bit: ATen's own
gemm below m*k*n = 4096 (its accumulation order set by the operands' layout) and oneDNN's
vdpbf16ps brgemm above. These tests feed each emulated call torch's own inputs, so a
mismatch is that call's, not an earlier one's; the adversarial products make the order
visible (NumPy's BLAS order differs from torch's on them, by exactly one bfloat16 unit).
"""
import numpy as np
import pytest
import torch
from torch.optim._muon import _zeropower_via_newtonschulz

from npimpl.optim._bfloat16 import (ONEDNN_MIN_SIZE, _dot_ilp4, _dot_sequential, matmul_bf16,
                                    newton_schulz, round_bf16)
from npimpl.optim.muon import NS_COEFFICIENTS


def _has_avx512_bf16() -> bool:
    try:
        with open("/proc/cpuinfo") as f:
            return "avx512_bf16" in f.read()
    except OSError:
        return False


#: oneDNN's brgemm order is the one of CPUs with AVX512-BF16 (this project's machines);
#: elsewhere oneDNN emulates the bf16 dot in another order, which npimpl does not claim
ONEDNN = pytest.mark.skipif(not (_has_avx512_bf16() and torch.backends.mkldnn.is_available()),
                            reason="torch's oneDNN bf16 kernel here is not the AVX512-BF16 one")
F = lambda t: t.float().numpy()  # noqa: E731  (bfloat16 tensor -> float32 values)


def _path(shape):
    r, c = min(shape), max(shape)
    return "onednn" if r * c * r > ONEDNN_MIN_SIZE else "aten"


@pytest.mark.parametrize("shape", [
    pytest.param(s, id=f"{s[0]}x{s[1]}-{_path(s)}",
                 marks=[ONEDNN] if _path(s) == "onednn" else [])
    for s in [(16, 8), (8, 16), (3, 16), (5, 7), (16, 16), (4, 100), (17, 16), (32, 32),
              (40, 24)]])
def test_every_call_of_the_iteration_is_torchs(shape):
    """20 gradients per shape (tall ones start from a transposed view), 5 iterations each:
    the gram matrix, the update and the new X of every iteration, from torch's own inputs,
    and the end result from the gradient alone."""
    a, b, c = NS_COEFFICIENTS
    rng = np.random.default_rng(sum(shape))
    calls = 0
    for _ in range(20):
        g = torch.from_numpy(rng.standard_normal(shape) * 10.0 ** rng.uniform(-3, 3))
        np.testing.assert_array_equal(newton_schulz(g.numpy(), NS_COEFFICIENTS, 5, 1e-7),
                                      F(_zeropower_via_newtonschulz(g, NS_COEFFICIENTS, 5, 1e-7)))
        x = g.bfloat16()
        view = shape[0] > shape[1]
        if view:
            x = x.T
        x.div_(x.norm().clamp(min=1e-7))
        for _ in range(5):
            gram = x @ x.T
            np.testing.assert_array_equal(
                matmul_bf16(F(x), F(x).T, a_transposed=view, b_transposed=not view), F(gram))
            update = torch.addmm(gram, gram, gram, beta=b, alpha=c)
            np.testing.assert_array_equal(
                matmul_bf16(F(gram), F(gram), m=F(gram), beta=b, alpha=c), F(update))
            new = torch.addmm(x, update, x, beta=a)
            np.testing.assert_array_equal(
                matmul_bf16(F(update), F(x), b_transposed=view, m=F(x), beta=a), F(new))
            x, view, calls = new, False, calls + 3
    assert calls == 300


def _adversarial(rng, m, k, n):
    """Rows holding 1 and 2^-8 (their sum is a bfloat16 midpoint) among tiny terms: the
    float32 accumulation order decides on which side of the midpoint the sum lands."""
    a = (rng.choice([-1.0, 1.0], (m, k)) * 2.0 ** rng.integers(-30, -18, (m, k)))
    for row in a:
        i, j = rng.choice(k, 2, replace=False)
        row[i], row[j] = 1.0, 2.0 ** -8
    b = 1.0 + rng.integers(0, 2, (k, n)) * 2.0 ** -7
    return round_bf16(a), round_bf16(b), round_bf16(rng.standard_normal((m, n)) * 2.0 ** -9)


@pytest.mark.parametrize("path,sizes", [
    pytest.param("aten", [(9, 13, 7), (14, 16, 7), (25, 18, 9), (6, 40, 11), (4, 70, 9)],
                 id="aten"),
    pytest.param("onednn", [(20, 37, 9), (16, 64, 16), (8, 129, 12)], id="onednn",
                 marks=ONEDNN)])
@pytest.mark.parametrize("layout", ["nn", "nt", "tn", "tt"])
def test_adversarial_products_in_every_layout(path, sizes, layout):
    """mm and addmm(beta, alpha) with each operand row-major or a transposed view: bit for
    bit; another float32 accumulation order (a running sum, or for the running-sum layout 4
    interleaved sums) misses some elements by one bfloat16 unit — these inputs do test it."""
    rng = np.random.default_rng(7)
    other_order = 0
    for m, k, n in sizes:
        assert (m * k * n > ONEDNN_MIN_SIZE) == (path == "onednn")
        a, b, c = _adversarial(rng, m, k, n)
        ta = torch.from_numpy(a).bfloat16() if layout[0] == "n" else \
            torch.from_numpy(a.T.copy()).bfloat16().T
        tb = torch.from_numpy(b).bfloat16() if layout[1] == "n" else \
            torch.from_numpy(b.T.copy()).bfloat16().T
        t_mm = F(ta @ tb)
        t_addmm = F(torch.addmm(torch.from_numpy(c).bfloat16(), ta, tb, beta=-4.775,
                                alpha=2.0315))
        flags = dict(a_transposed=layout[0] == "t", b_transposed=layout[1] == "t")
        np.testing.assert_array_equal(matmul_bf16(a, b, **flags), t_mm)
        np.testing.assert_array_equal(matmul_bf16(a, b, m=c, beta=-4.775, alpha=2.0315,
                                                  **flags), t_addmm)
        other = _dot_ilp4 if (path, layout) == ("aten", "tn") else _dot_sequential
        naive = round_bf16(other(a, b, np.zeros((m, n), np.float32)))
        off = naive != t_mm
        if off.any():
            ulp = np.abs(t_mm[off]) * 2.0 ** -7        # one bfloat16 unit near |x| in [1, 2)
            assert np.all(np.abs(naive[off] - t_mm[off]) <= ulp)
        other_order += int(off.sum())
    assert other_order > 0


def test_round_bf16_is_torchs_conversion_from_float64():
    """float64 -> bfloat16 goes through float32 (two roundings) in torch; NaN and inf kept."""
    x = np.random.default_rng(0).standard_normal(20000) * 10.0 ** np.random.default_rng(
        1).uniform(-30, 30, 20000)
    x[:3] = [np.nan, np.inf, -np.inf]
    np.testing.assert_array_equal(round_bf16(x), F(torch.from_numpy(x).bfloat16()))
