"""Convolution and pooling cases: every knob alone and combined, odd and non-square sizes,
tied maxima, and a LeNet-style CNN trained with SGD momentum."""
from __future__ import annotations

import numpy as np

from reference import Spec, build, optimizer_pair, seq

from ..engine import Case, Trajectory
from ..gen import args, normal

ORDER = 40


def pair(spec: Spec):
    return lambda dt: build(spec, dt)


def case(name, spec, *shape, gen=None):
    """One single-step case of ``spec`` on an input of ``shape`` (normal unless ``gen``)."""
    family = "pooling" if "Pool" in spec.name else "conv"
    return Case(name, spec.name, family, pair(spec), args(gen(*shape) if gen else normal(*shape)))


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


C2 = "Conv2d"
CASES = [
    # Conv2d: each knob alone
    case("conv2d-basic", Spec(C2, 3, 4, 3), 2, 3, 7, 9),
    case("conv2d-batch1-1x1", Spec(C2, 5, 2, 1), 1, 5, 4, 3),
    case("conv2d-unbatched", Spec(C2, 2, 3, 3), 2, 6, 5),
    case("conv2d-kernel-2x5", Spec(C2, 2, 3, (2, 5)), 2, 2, 6, 9),
    case("conv2d-stride2", Spec(C2, 3, 4, 3, stride=2), 2, 3, 8, 9),
    case("conv2d-stride-3x1", Spec(C2, 2, 3, 3, stride=(3, 1)), 2, 2, 10, 7),
    case("conv2d-padding1", Spec(C2, 3, 4, 3, padding=1), 2, 3, 5, 7),
    case("conv2d-padding-2x0", Spec(C2, 2, 3, 3, padding=(2, 0)), 2, 2, 5, 7),
    case("conv2d-valid", Spec(C2, 2, 3, 3, padding="valid"), 2, 2, 5, 6),
    case("conv2d-same-odd", Spec(C2, 2, 3, 3, padding="same"), 2, 2, 5, 6),
    case("conv2d-same-even", Spec(C2, 2, 3, (4, 2), padding="same"), 2, 2, 7, 6),
    case("conv2d-same-dilated", Spec(C2, 2, 3, (2, 3), padding="same", dilation=(3, 1)), 2, 2, 7, 6),
    case("conv2d-dilation2", Spec(C2, 2, 3, 3, dilation=2), 2, 2, 9, 8),
    case("conv2d-groups2", Spec(C2, 4, 6, 3, groups=2), 2, 4, 6, 5),
    case("conv2d-depthwise", Spec(C2, 4, 4, 3, groups=4), 2, 4, 6, 7),
    case("conv2d-depthwise-mult2", Spec(C2, 3, 6, (3, 2), groups=3), 2, 3, 6, 7),
    case("conv2d-nobias", Spec(C2, 3, 4, 3, bias=False), 2, 3, 5, 6),
    case("conv2d-reflect", Spec(C2, 2, 3, 3, padding=(1, 2), padding_mode="reflect"), 2, 2, 5, 6),
    case("conv2d-replicate", Spec(C2, 2, 3, 3, padding=2, padding_mode="replicate"), 2, 2, 5, 6),
    case("conv2d-circular", Spec(C2, 2, 3, 3, padding=(2, 1), padding_mode="circular"), 2, 2, 5, 6),
    # Conv2d: knobs combined
    case("conv2d-stride2-pad1-dil2-groups2",
         Spec(C2, 4, 6, (3, 2), stride=2, padding=1, dilation=(2, 1), groups=2), 2, 4, 9, 8),
    case("conv2d-stride-2x3-pad-1x2-nobias",
         Spec(C2, 3, 5, (2, 3), stride=(2, 3), padding=(1, 2), bias=False), 3, 3, 7, 11),
    case("conv2d-reflect-stride2-groups2",
         Spec(C2, 4, 2, 3, stride=2, padding=1, groups=2, padding_mode="reflect"), 2, 4, 7, 6),
    case("conv2d-circular-same-even-dil2",
         Spec(C2, 2, 4, (2, 4), padding="same", dilation=2, padding_mode="circular"), 2, 2, 7, 9),
    case("conv2d-replicate-same-depthwise",
         Spec(C2, 3, 3, 4, padding="same", groups=3, padding_mode="replicate"), 2, 3, 6, 5),
    # Depthwise (groups == in_channels, npimpl's banded path at stride 1): multiplier, dilation,
    # widths past one 16-column block (a partial last block too), padding modes, strides
    case("conv2d-depthwise-mult2-dil-2x3-asym",
         Spec(C2, 4, 8, (3, 2), padding=(2, 1), dilation=(2, 3), groups=4), 2, 4, 7, 20),
    case("conv2d-depthwise-wide-reflect-nobias",
         Spec(C2, 2, 2, 3, padding=1, bias=False, padding_mode="reflect", groups=2), 1, 2, 5, 37),
    case("conv2d-depthwise-mult2-stride2-dil2",
         Spec(C2, 3, 6, 3, stride=2, padding=1, dilation=2, groups=3), 2, 3, 9, 8),
    case("conv2d-depthwise-circular-same-mult3",
         Spec(C2, 2, 6, 3, padding="same", groups=2, padding_mode="circular"), 2, 2, 5, 18),
    # Conv1d
    case("conv1d-depthwise-mult3-dil2", Spec("Conv1d", 2, 6, 3, padding=2, dilation=2, groups=2),
         2, 2, 21),
    case("conv1d-depthwise-stride2", Spec("Conv1d", 3, 6, 3, stride=2, groups=3), 2, 3, 11),
    # big enough (N*C*L*k >= 2^18) for Conv1d's depthwise path, with short sums (N*L = 128
    # terms per channel: over 2400, float32 misses torch's db by 5x its tolerance, on the
    # im2col path too)
    case("conv1d-depthwise-big-mult2-dil2",
         Spec("Conv1d", 256, 512, 9, padding=8, dilation=2, groups=256), 1, 256, 128),
    case("conv1d-basic", Spec("Conv1d", 3, 4, 3), 2, 3, 11),
    case("conv1d-unbatched", Spec("Conv1d", 3, 2, 2), 3, 7),
    case("conv1d-stride2-pad1-dil2", Spec("Conv1d", 2, 3, 3, stride=2, padding=1, dilation=2), 2, 2, 12),
    case("conv1d-same-even", Spec("Conv1d", 2, 3, 4, padding="same"), 2, 2, 9),
    case("conv1d-groups2-circular", Spec("Conv1d", 4, 2, 3, padding=2, groups=2,
                                         padding_mode="circular"), 2, 4, 8),
    case("conv1d-reflect-nobias", Spec("Conv1d", 2, 3, 5, padding=3, bias=False,
                                       padding_mode="reflect"), 2, 2, 9),
    case("conv1d-depthwise-replicate", Spec("Conv1d", 3, 3, 3, padding=1, groups=3,
                                            padding_mode="replicate"), 2, 3, 7),
    # ConvTranspose2d
    case("convtranspose2d-basic", Spec("ConvTranspose2d", 3, 4, 3), 2, 3, 5, 6),
    case("convtranspose2d-unbatched", Spec("ConvTranspose2d", 2, 3, 2), 2, 4, 3),
    case("convtranspose2d-stride2", Spec("ConvTranspose2d", 2, 3, 3, stride=2), 2, 2, 4, 5),
    case("convtranspose2d-stride2-pad1-outpad1",
         Spec("ConvTranspose2d", 2, 3, 3, stride=2, padding=1, output_padding=1), 2, 2, 4, 5),
    case("convtranspose2d-kernel-2x3-stride-3x2",
         Spec("ConvTranspose2d", 2, 3, (2, 3), stride=(3, 2), padding=(0, 1),
              output_padding=(2, 1)), 2, 2, 3, 5),
    case("convtranspose2d-groups2-dil2",
         Spec("ConvTranspose2d", 4, 6, 3, groups=2, dilation=2), 2, 4, 4, 3),
    case("convtranspose2d-depthwise-nobias",
         Spec("ConvTranspose2d", 3, 3, 3, groups=3, bias=False, padding=1), 2, 3, 5, 4),
    case("convtranspose2d-all-knobs",
         Spec("ConvTranspose2d", 4, 2, (3, 2), stride=2, padding=(1, 0), output_padding=(1, 0),
              groups=2, dilation=(1, 2)), 2, 4, 5, 4),
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
]


# --- a LeNet-style CNN trained with SGD momentum ---------------------------------------------
LENET = seq(Spec("Conv2d", 1, 4, 3), Spec("ReLU"), Spec("MaxPool2d", 2),
            Spec("Conv2d", 4, 8, 3, padding=1), Spec("ReLU"), Spec("AdaptiveAvgPool2d", 1),
            Spec("Flatten"), Spec("Linear", 8, 3))


def glyphs(n: int = 24, size: int = 10, k: int = 3, seed: int = 11):
    """A fixed image task: k random 10x10 templates, each sample one template plus noise."""
    r = np.random.default_rng(seed)
    templates = r.standard_normal((k, 1, size, size))
    y = r.integers(0, k, n)
    x = templates[y] + 0.5 * r.standard_normal((n, 1, size, size))
    return x, y.astype(np.int64)


_X, _Y = glyphs()
CASES.append(Trajectory(
    "lenet-sgd-momentum", "LeNet", "training", model=pair(LENET),
    loss=pair(Spec("CrossEntropyLoss")),
    batches=lambda rng, dt, step: (_X.astype(dt), _Y),
    optimizer=lambda m, t: optimizer_pair("SGD", m, t, lr=0.05, momentum=0.9),
    steps=50))
