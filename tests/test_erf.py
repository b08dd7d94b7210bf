"""npimpl's vectorised erf (fdlibm's algorithm) against the C library's, math.erf.

math.erf is the reference: torch's CPU erf is the same C library function, so agreeing with it
to an ulp is what keeps GELU('none') within the float64 contract (rtol 1e-10) everywhere.
"""
import math
import warnings

import numpy as np
import pytest

from npimpl.special import erf

# fdlibm's range cuts (0.84375, 1.25, ~1/0.35, 6), Cody's (0.5, 4) and the tiny-x cut 2^-28
CUTS = np.array([2.0 ** -28, 0.5, 0.84375, 1.25, float.fromhex("0x1.6db6ep+1"), 1 / 0.35,
                 4.0, 6.0, 2.0 ** -1022])
math_erf = np.frompyfunc(math.erf, 1, 1)


def reference(x: np.ndarray) -> np.ndarray:
    return math_erf(x.astype(np.float64)).astype(np.float64)


def sweep64() -> np.ndarray:
    """~2e6 float64 points: dense over [-7, 7], every magnitude 1e-323..1e2, the cuts +-1 ulp."""
    mags = np.concatenate([np.logspace(-300, 2, 450_000), np.logspace(-323.5, -300, 50_000)])
    cuts = np.concatenate([CUTS, np.nextafter(CUTS, 0), np.nextafter(CUTS, np.inf)])
    pos = np.concatenate([mags, cuts, [5e-324, 0.0]])
    return np.concatenate([np.linspace(-7, 7, 1_000_001), pos, -pos])


def ulps(got: np.ndarray, ref: np.ndarray) -> np.ndarray:
    """|got - ref| in units of the spacing of float64 at ref (math.erf's value)."""
    return np.abs(got - ref) / np.spacing(np.abs(ref))


def test_float64_within_2_ulp_of_math_erf_on_a_dense_sweep():
    x = sweep64()
    err = ulps(erf(x), reference(x))
    worst = int(np.argmax(err))
    assert err[worst] <= 2, f"erf({x[worst]!r}) is {err[worst]} ulp from math.erf"


@pytest.mark.parametrize("cut", CUTS, ids=lambda c: f"{c:.6g}")
def test_float64_within_1_ulp_on_both_sides_of_each_cut(cut):
    x = (np.float64(cut).view(np.int64) + np.arange(-8, 9)).view(np.float64)   # cut +- 8 ulp
    x = np.concatenate([x, -x])
    assert np.max(ulps(erf(x), reference(x))) <= 1


def float32_sweep() -> np.ndarray:
    """~2e6 float32 inputs: every 256th bit pattern of +-[2^-30, 4], plus the cuts +- 1 ulp."""
    lo, hi = np.array([2.0 ** -30, 4.0], dtype=np.float32).view(np.uint32)
    bits = np.arange(lo, hi, 256, dtype=np.uint32)
    x = bits.view(np.float32)
    cuts = CUTS[:-1].astype(np.float32)
    near = np.concatenate([cuts, np.nextafter(cuts, np.float32(0)),
                           np.nextafter(cuts, np.float32(np.inf))])
    x = np.concatenate([x, near, np.float32([1e-38, 1e-45, 3.9, 3.92, 5.0, 100.0])])
    return np.concatenate([x, -x])


def test_float32_is_the_correctly_rounded_cast_of_math_erf():
    x = float32_sweep()
    got = erf(x)
    assert got.dtype == np.float32
    want = reference(x).astype(np.float32)
    bad = np.flatnonzero(got != want)
    assert bad.size == 0, f"{bad.size} of {x.size} differ, first at x = {x[bad[0]]!r}"


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_special_values(dtype):
    info = np.finfo(dtype)
    x = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 6.0, -6.0, 27.0, -info.max,
                  info.smallest_subnormal], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                          # no overflow/invalid warnings
        y = erf(x)
    assert y.dtype == dtype
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[1:8], [1, -1, 0, 0, 1, -1, 1])
    assert y[8] == -1
    assert not np.signbit(y[3]) and np.signbit(y[4])            # erf(-0.0) = -0.0
    assert y[9] > 0                                             # the smallest subnormal: not 0
    assert y[9] == reference(x[9:10]).astype(dtype)[0]


def test_tiny_inputs_follow_2x_over_sqrt_pi():
    x = np.array([1e-10, 2.0 ** -29, 1e-200, 2.0 ** -1022, 2.0 ** -1030])
    np.testing.assert_allclose(erf(x), x * (2 / math.sqrt(math.pi)), rtol=1e-15, atol=0)
    assert np.max(ulps(erf(x), reference(x))) <= 1


def test_odd_and_monotone():
    x = np.linspace(0, 7, 700_001)
    y = erf(x)
    np.testing.assert_array_equal(erf(-x), -y)                  # erf(-x) = -erf(x), bit for bit
    assert np.all(np.diff(y) >= 0)                              # no step back at any range cut


@pytest.mark.parametrize("shape", [(), (0,), (2, 3, 4), (70_000,)], ids=str)
def test_shape_and_dtype_preserved(shape):
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape) * 3                           # (70_000,) spans two chunks
    y = erf(x)
    assert y.shape == x.shape and y.dtype == x.dtype
    if x.size:
        assert np.max(ulps(y, reference(x.reshape(-1)).reshape(shape))) <= 1
    assert erf(x.astype(np.float32)).dtype == np.float32
