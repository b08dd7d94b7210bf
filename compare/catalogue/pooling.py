"""Pooling cases, 1-D to 3-D: max (ties, NaN, indices), average (divisors), power-average,
adaptive, fractional (the NumPy side draws the window starts, torch reuses them) and
unpooling; every knob alone and combined, torch's broadcast 1-tuples, unbatched inputs."""
from __future__ import annotations

import numpy as np

import npimpl
from reference import Spec, build

from ..badinput import Entry
from ..engine import Case, Inputs
from ..gen import args, normal, uniform
from .conv import case
from .norm import seed_masks_

ORDER = 41


def ties(*shape):
    """Small integers: nearly every pooling window holds tied maxima."""
    return lambda rng, dt: rng.integers(-2, 3, shape).astype(dt)


def constant(*shape):
    """All ones: every window is one big tie, and overlapping windows share their winner."""
    return lambda rng, dt: np.ones(shape, dt)


def with_nan(*shape):
    """Normal values with a few NaN (torch's max pool routes to the last NaN of a window)."""
    def gen(rng, dt):
        x = rng.standard_normal(shape).astype(dt)
        x.reshape(-1)[::7] = np.nan
        return x
    return gen


def positive(*shape):
    """U(0.1, 2): a power-average pool of odd or fractional p stays real (torch, like NumPy,
    gives NaN for a negative base)."""
    return uniform(*shape, low=0.1, high=2.0)


def zero_windows(*shape):
    """Normal values, half the planes all zeros: LPPool's ``sign(s) * relu(|s|)`` zeroes the
    gradient of an all-zero window (the 1/p-th power's derivative is infinite there)."""
    def gen(rng, dt):
        x = rng.standard_normal(shape).astype(dt)
        x[:, ::2] = 0
        return x
    return gen


def fractional(name, spec, *shape, gen=None):
    """A FractionalMaxPool case: the NumPy module's generator seeded from torch's (seeded)
    stream, so the window starts are reproducible; the twin reuses its samples."""
    def model(dt):
        np_mod, t_mod = build(spec, dt)
        seed_masks_(np_mod)
        return np_mod, t_mod
    x = gen(*shape) if gen else normal(*shape)
    return Case(name, spec.name, "pooling", model, args(x))


def unpool(name, nd, pool_kw, shape, spec, output_size=None):
    """A MaxUnpool case: values and the indices npimpl.MaxPool{nd}d(return_indices=True) finds
    in a normal input of ``shape``. Windows that do not overlap, so no index repeats: a repeat
    is where torch's backward is not the forward's derivative (tests/test_max_unpool.py)."""
    def gen(rng, dt):
        x = rng.standard_normal(shape).astype(dt)
        _, idx = getattr(npimpl, f"MaxPool{nd}d")(**pool_kw, return_indices=True)(x)
        vals = rng.standard_normal(idx.shape).astype(dt)
        return Inputs((vals, idx), {} if output_size is None else {"output_size": output_size})
    return Case(name, spec.name, "pooling", lambda dt: build(spec, dt), gen)


CASES = [
    # MaxPool2d / MaxPool1d, ties included
    case("maxpool2d-basic", Spec("MaxPool2d", 2), 2, 3, 6, 8),
    case("maxpool2d-odd-3x2", Spec("MaxPool2d", (3, 2)), 2, 2, 7, 9),
    case("maxpool2d-stride1-pad1", Spec("MaxPool2d", 3, stride=1, padding=1), 2, 2, 5, 6),
    case("maxpool2d-dilation2", Spec("MaxPool2d", 2, stride=1, dilation=2), 2, 2, 6, 7),
    case("maxpool2d-ceil", Spec("MaxPool2d", 2, ceil_mode=True), 2, 2, 7, 9),
    case("maxpool2d-indices", Spec("MaxPool2d", 3, stride=2, padding=1, return_indices=True),
         2, 2, 7, 8),
    case("maxpool2d-all-knobs", Spec("MaxPool2d", (3, 2), stride=(2, 1), padding=1,
                                     dilation=(1, 2), ceil_mode=True, return_indices=True),
         2, 2, 8, 7),
    case("maxpool2d-ties", Spec("MaxPool2d", 3, stride=2, padding=1), 2, 3, 7, 8, gen=ties),
    case("maxpool2d-ties-constant-overlap", Spec("MaxPool2d", 3, stride=1, return_indices=True),
         1, 2, 5, 6, gen=constant),
    case("maxpool2d-nan", Spec("MaxPool2d", 2, stride=1, return_indices=True), 2, 2, 5, 6,
         gen=with_nan),
    case("maxpool2d-unbatched", Spec("MaxPool2d", 2), 3, 4, 5),
    case("maxpool1d-basic", Spec("MaxPool1d", 3), 2, 3, 10),
    case("maxpool1d-all-knobs", Spec("MaxPool1d", 3, stride=2, padding=1, dilation=2,
                                     ceil_mode=True, return_indices=True), 2, 3, 12),
    case("maxpool1d-ties", Spec("MaxPool1d", 4, stride=2, padding=2), 2, 3, 11, gen=ties),
    case("maxpool1d-unbatched", Spec("MaxPool1d", 2), 3, 7),
    # AvgPool2d
    case("avgpool2d-basic", Spec("AvgPool2d", 2), 2, 3, 6, 8),
    case("avgpool2d-odd-3x2-stride1", Spec("AvgPool2d", (3, 2), stride=1), 2, 2, 5, 7),
    case("avgpool2d-pad1", Spec("AvgPool2d", 3, stride=2, padding=1), 2, 2, 7, 6),
    case("avgpool2d-pad1-exclude-pad", Spec("AvgPool2d", 3, stride=2, padding=1,
                                            count_include_pad=False), 2, 2, 7, 6),
    case("avgpool2d-ceil", Spec("AvgPool2d", 2, ceil_mode=True), 2, 2, 7, 9),
    case("avgpool2d-ceil-pad-exclude", Spec("AvgPool2d", (3, 2), stride=2, padding=1,
                                            ceil_mode=True, count_include_pad=False), 2, 2, 8, 7),
    case("avgpool2d-ceil-pad-include", Spec("AvgPool2d", (3, 2), stride=2, padding=1,
                                            ceil_mode=True), 2, 2, 8, 7),
    case("avgpool2d-divisor-override", Spec("AvgPool2d", 3, stride=(2, 1), padding=1,
                                            divisor_override=5), 2, 2, 7, 6),
    case("avgpool2d-unbatched", Spec("AvgPool2d", 2), 3, 4, 6),
    # adaptive pools
    case("adaptiveavgpool2d-3x4", Spec("AdaptiveAvgPool2d", (3, 4)), 2, 3, 7, 9),
    case("adaptiveavgpool2d-1", Spec("AdaptiveAvgPool2d", 1), 2, 3, 5, 6),
    case("adaptiveavgpool2d-none-5", Spec("AdaptiveAvgPool2d", (None, 5)), 2, 2, 4, 7),
    case("adaptiveavgpool2d-upsample", Spec("AdaptiveAvgPool2d", (5, 4)), 2, 2, 3, 3),
    case("adaptivemaxpool2d-3x4", Spec("AdaptiveMaxPool2d", (3, 4)), 2, 3, 7, 9),
    case("adaptivemaxpool2d-indices", Spec("AdaptiveMaxPool2d", (2, 3), return_indices=True),
         2, 2, 5, 7),
    case("adaptivemaxpool2d-ties", Spec("AdaptiveMaxPool2d", (3, 5)), 2, 3, 7, 9, gen=ties),
    case("adaptivemaxpool2d-upsample-ties", Spec("AdaptiveMaxPool2d", 5, return_indices=True),
         1, 2, 3, 4, gen=ties),
    case("maxpool2d-one-tuples", Spec("MaxPool2d", (3,), stride=(1,), padding=(1,), dilation=(1,),
                                      return_indices=True), 2, 2, 5, 6),
    # MaxPool3d
    case("maxpool3d-basic", Spec("MaxPool3d", 2), 2, 2, 4, 4, 5),
    case("maxpool3d-all-knobs", Spec("MaxPool3d", (3, 2, 2), stride=(2, 1, 2), padding=(1, 0, 1),
                                     dilation=(1, 2, 1), ceil_mode=True, return_indices=True),
         2, 2, 5, 6, 5),
    case("maxpool3d-ties-indices", Spec("MaxPool3d", 2, stride=1, return_indices=True),
         1, 2, 3, 4, 4, gen=ties),
    case("maxpool3d-nan-unbatched", Spec("MaxPool3d", 2, return_indices=True), 2, 4, 4, 5,
         gen=with_nan),
    # AvgPool1d / AvgPool3d, and AvgPool2d with the 1-tuple padding
    case("avgpool1d-basic", Spec("AvgPool1d", 3), 2, 3, 10),
    case("avgpool1d-ceil-pad-exclude", Spec("AvgPool1d", 3, stride=2, padding=1, ceil_mode=True,
                                            count_include_pad=False), 2, 2, 10),
    case("avgpool1d-unbatched-one-tuples", Spec("AvgPool1d", (2,), stride=(1,), padding=(1,)),
         3, 7),
    case("avgpool2d-one-tuple-padding", Spec("AvgPool2d", 3, 1, padding=(1,)), 2, 2, 5, 6),
    case("avgpool3d-basic", Spec("AvgPool3d", 2), 2, 2, 4, 4, 5),
    case("avgpool3d-ceil-pad-include", Spec("AvgPool3d", (3, 2, 2), stride=(2, 1, 2),
                                            padding=(1, 0, 1), ceil_mode=True), 2, 2, 5, 4, 5),
    case("avgpool3d-ceil-pad-exclude", Spec("AvgPool3d", 3, stride=2, padding=1, ceil_mode=True,
                                            count_include_pad=False), 1, 2, 5, 6, 4),
    case("avgpool3d-divisor-override-unbatched", Spec("AvgPool3d", 2, padding=1,
                                                      divisor_override=3), 2, 3, 4, 5),
    # adaptive pools, 1-D and 3-D
    case("adaptiveavgpool1d-3", Spec("AdaptiveAvgPool1d", 3), 2, 3, 7),
    case("adaptiveavgpool1d-upsample-unbatched", Spec("AdaptiveAvgPool1d", (5,)), 2, 3),
    case("adaptiveavgpool3d-2-none-3", Spec("AdaptiveAvgPool3d", (2, None, 3)), 2, 2, 5, 3, 7),
    case("adaptiveavgpool3d-1", Spec("AdaptiveAvgPool3d", 1), 2, 3, 3, 4, 2),
    case("adaptiveavgpool3d-upsample-unbatched", Spec("AdaptiveAvgPool3d", 4), 2, 3, 5, 2),
    case("adaptivemaxpool1d-indices", Spec("AdaptiveMaxPool1d", 3, return_indices=True), 2, 3, 8),
    case("adaptivemaxpool1d-ties-upsample", Spec("AdaptiveMaxPool1d", 6, return_indices=True),
         2, 2, 4, gen=ties),
    case("adaptivemaxpool1d-nan-unbatched", Spec("AdaptiveMaxPool1d", 4), 3, 9, gen=with_nan),
    case("adaptivemaxpool3d-indices", Spec("AdaptiveMaxPool3d", (2, 3, None), return_indices=True),
         2, 2, 5, 4, 3),
    case("adaptivemaxpool3d-ties-unbatched", Spec("AdaptiveMaxPool3d", 3, return_indices=True),
         2, 4, 5, 3, gen=ties),
    # LPPool: p = 2, odd and fractional p on positive inputs, p = ±inf, ceil_mode's rescaled
    # partial windows, all-zero windows
    case("lppool1d-p2", Spec("LPPool1d", 2, 3), 2, 3, 10),
    case("lppool1d-p3-stride1-one-tuple", Spec("LPPool1d", 3, 2, stride=(1,)), 2, 2, 7, gen=positive),
    case("lppool1d-p1.5-ceil-unbatched", Spec("LPPool1d", 1.5, 3, stride=2, ceil_mode=True), 2, 10,
         gen=positive),
    case("lppool2d-p2-ceil", Spec("LPPool2d", 2, (2, 3), stride=(1, 2), ceil_mode=True), 2, 2, 5, 7),
    case("lppool2d-p-neg1.5", Spec("LPPool2d", -1.5, 2), 2, 2, 4, 6, gen=positive),
    case("lppool2d-zero-windows", Spec("LPPool2d", 2, 2), 2, 4, 4, 4, gen=zero_windows),
    case("lppool2d-inf", Spec("LPPool2d", float("inf"), 2, stride=1), 2, 2, 4, 5, gen=ties),
    case("lppool3d-p2-ceil", Spec("LPPool3d", 2, (2, 2, 3), stride=(1,), ceil_mode=True), 1, 2, 3, 4, 5),
    case("lppool3d-neg-inf-unbatched", Spec("LPPool3d", float("-inf"), 2), 2, 4, 4, 5),
]

CASES += [
    # FractionalMaxPool: output_size, output_ratio, overlapping windows (steps below the
    # kernel), ties, unbatched; 3-D
    fractional("fractionalmaxpool2d-size", Spec("FractionalMaxPool2d", 2, output_size=(3, 4)),
               2, 3, 7, 9),
    fractional("fractionalmaxpool2d-ratio-indices",
               Spec("FractionalMaxPool2d", (3, 2), output_ratio=(0.5, 0.7), return_indices=True),
               2, 2, 11, 9),
    fractional("fractionalmaxpool2d-overlap-ties", Spec("FractionalMaxPool2d", 3, output_size=(5, 6),
                                                        return_indices=True), 2, 2, 7, 8, gen=ties),
    fractional("fractionalmaxpool2d-unbatched", Spec("FractionalMaxPool2d", 2, output_size=4),
               3, 6, 7),
    fractional("fractionalmaxpool3d-size-indices",
               Spec("FractionalMaxPool3d", 2, output_size=(2, 3, 4), return_indices=True),
               2, 2, 5, 6, 7),
    fractional("fractionalmaxpool3d-ratio-unbatched",
               Spec("FractionalMaxPool3d", (1, 2, 3), output_ratio=0.5), 2, 6, 6, 9),
    fractional("fractionalmaxpool3d-ties", Spec("FractionalMaxPool3d", 2, output_size=3,
                                                return_indices=True), 1, 2, 5, 5, 6, gen=ties),
    # MaxUnpool: default and explicit output_size, unbatched
    unpool("maxunpool1d-basic", 1, dict(kernel_size=2), (2, 3, 8), Spec("MaxUnpool1d", 2)),
    unpool("maxunpool1d-stride3-output-size", 1, dict(kernel_size=2, stride=3), (2, 2, 10),
           Spec("MaxUnpool1d", 2, stride=3), output_size=[2, 2, 10]),
    unpool("maxunpool2d-basic", 2, dict(kernel_size=2), (2, 2, 4, 6), Spec("MaxUnpool2d", 2)),
    unpool("maxunpool2d-output-size", 2, dict(kernel_size=(2, 3)), (2, 2, 5, 7),
           Spec("MaxUnpool2d", (2, 3)), output_size=(5, 7)),
    unpool("maxunpool2d-pad1-unbatched", 2, dict(kernel_size=2, padding=1), (3, 5, 4),
           Spec("MaxUnpool2d", 2, padding=1), output_size=(5, 4)),
    unpool("maxunpool3d-basic", 3, dict(kernel_size=2), (2, 2, 4, 4, 6), Spec("MaxUnpool3d", 2)),
    unpool("maxunpool3d-stride-output-size", 3, dict(kernel_size=(1, 2, 2), stride=(1, 2, 3)),
           (1, 2, 3, 5, 7), Spec("MaxUnpool3d", (1, 2, 2), stride=(1, 2, 3)), output_size=(3, 5, 7)),
]


def _unpool_indices(rng, x):
    """The indices a MaxPool2d(2) would give for a (2, 2, 2, 2) output: each window's corner."""
    i, j = np.meshgrid(np.arange(2), np.arange(2), indexing="ij")
    return [np.broadcast_to((2 * i) * 4 + 2 * j + rng.integers(0, 2, x.shape) * 4
                            + rng.integers(0, 2, x.shape), x.shape).astype(np.int64)]


BAD_INPUT = {
    "MaxPool3d": Entry(Spec("MaxPool3d", 2), (2, 2, 4, 4, 4)),
    "AvgPool1d": Entry(Spec("AvgPool1d", 2), (2, 2, 6)),
    "AvgPool3d": Entry(Spec("AvgPool3d", 2), (2, 2, 4, 4, 4)),
    "AdaptiveAvgPool1d": Entry(Spec("AdaptiveAvgPool1d", 2), (2, 2, 5)),
    "AdaptiveAvgPool3d": Entry(Spec("AdaptiveAvgPool3d", 2), (2, 2, 3, 5, 4)),
    "AdaptiveMaxPool1d": Entry(Spec("AdaptiveMaxPool1d", 2), (2, 2, 5)),
    "AdaptiveMaxPool3d": Entry(Spec("AdaptiveMaxPool3d", 2), (2, 2, 3, 5, 4)),
    "LPPool1d": Entry(Spec("LPPool1d", 2, 2), (2, 2, 6)),
    "LPPool2d": Entry(Spec("LPPool2d", 2, 2), (2, 2, 4, 4)),
    "LPPool3d": Entry(Spec("LPPool3d", 2, 2), (2, 2, 4, 4, 4)),
    "FractionalMaxPool2d": Entry(Spec("FractionalMaxPool2d", 2, output_size=2), (2, 2, 5, 5)),
    "FractionalMaxPool3d": Entry(Spec("FractionalMaxPool3d", 2, output_size=2), (2, 2, 4, 4, 4)),
    "MaxUnpool1d": Entry(Spec("MaxUnpool1d", 2), (2, 2, 3),
                         extra=lambda rng, x: [(2 * np.arange(3) + rng.integers(0, 2, x.shape))
                                               .astype(np.int64)]),
    "MaxUnpool2d": Entry(Spec("MaxUnpool2d", 2), (2, 2, 2, 2), extra=_unpool_indices),
    "MaxUnpool3d": Entry(Spec("MaxUnpool3d", 2), (1, 2, 1, 1, 2),
                         extra=lambda rng, x: [(2 * np.arange(2) + rng.integers(0, 2, x.shape))
                                               .astype(np.int64)]),
}
