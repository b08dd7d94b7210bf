"""Convolution cases (1-D to 3-D, transposed too): every knob alone and combined, odd and
non-square sizes, torch's broadcast 1-tuples, and a LeNet-style CNN trained with SGD momentum.
The pooling cases are in ``pooling.py``."""
from __future__ import annotations

import numpy as np

from reference import Spec, build, optimizer_pair, seq

from ..badinput import Entry
from ..engine import Case, Inputs, Trajectory
from ..gen import args, normal

ORDER = 40


def pair(spec: Spec):
    return lambda dt: build(spec, dt)


def case(name, spec, *shape, gen=None, family=None, **forward_kwargs):
    """One single-step case of ``spec`` on an input of ``shape`` (normal unless ``gen``);
    ``forward_kwargs`` go to both forwards (``output_size=``)."""
    family = family or ("pooling" if "Pool" in spec.name else "conv")
    x = gen(*shape) if gen else normal(*shape)
    inputs = (args(x) if not forward_kwargs
              else lambda rng, dt: Inputs((x(rng, dt),), dict(forward_kwargs)))
    return Case(name, spec.name, family, pair(spec), inputs)


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
    case("convtranspose2d-output-size", Spec("ConvTranspose2d", 2, 3, 3, stride=(3, 2), padding=1),
         2, 2, 3, 4, output_size=(8, 8)),
    case("convtranspose2d-one-tuples", Spec("ConvTranspose2d", 2, 2, (2, 3), stride=(2,),
                                            padding=(1,), output_padding=(1,), dilation=(2,)),
         2, 2, 3, 4),
    # torch's C++ kernels broadcast a 1-element stride / padding / dilation
    case("conv2d-one-tuples", Spec(C2, 2, 3, 3, stride=(2,), padding=(1,), dilation=(1,)),
         2, 2, 6, 7),
    case("conv1d-one-tuples", Spec("Conv1d", 2, 3, (3,), stride=(2,), padding=(2,),
                                   dilation=(2,)), 2, 2, 9),
    # Conv3d: the 2-D knobs, one axis more (im2col's columns; stride-1 input gradient by
    # _im2col.input_grad_rows with two leading kernel offsets; no depthwise band in 3-D)
    case("conv3d-basic", Spec("Conv3d", 2, 3, 2), 2, 2, 3, 4, 5),
    case("conv3d-unbatched-pad1", Spec("Conv3d", 2, 3, 2, padding=1), 2, 3, 3, 4),
    case("conv3d-stride-pad-dil", Spec("Conv3d", 2, 4, (2, 3, 2), stride=(2, 1, 2),
                                       padding=(1, 0, 1), dilation=(1, 2, 1)), 2, 2, 5, 6, 5),
    case("conv3d-same-even-reflect", Spec("Conv3d", 2, 3, (2, 3, 2), padding="same",
                                          padding_mode="reflect"), 1, 2, 4, 5, 4),
    case("conv3d-same-dilated-one-tuple", Spec("Conv3d", 2, 2, (2, 2, 3), padding="same",
                                               dilation=(2,)), 1, 2, 5, 4, 5),
    case("conv3d-groups2-circular-nobias", Spec("Conv3d", 4, 2, 3, padding=1, groups=2,
                                                bias=False, padding_mode="circular"), 1, 4, 3, 4, 5),
    case("conv3d-depthwise-replicate", Spec("Conv3d", 3, 6, 2, padding=1, groups=3,
                                            padding_mode="replicate"), 2, 3, 3, 3, 4),
    case("conv3d-depthwise-stride-one-tuples", Spec("Conv3d", 2, 4, 2, stride=(2,), padding=(1,),
                                                    groups=2), 2, 2, 3, 4, 4),
    case("conv3d-valid-dil2-stride2", Spec("Conv3d", 2, 2, 2, padding="valid", dilation=2,
                                           stride=2), 1, 2, 5, 6, 5),
    # ConvTranspose1d / ConvTranspose3d
    case("convtranspose1d-basic", Spec("ConvTranspose1d", 3, 2, 3), 2, 3, 6),
    case("convtranspose1d-unbatched", Spec("ConvTranspose1d", 2, 3, 2, stride=2), 2, 5),
    case("convtranspose1d-stride3-pad1-outpad2",
         Spec("ConvTranspose1d", 2, 3, 3, stride=3, padding=1, output_padding=2), 2, 2, 5),
    case("convtranspose1d-groups2-dil2-nobias",
         Spec("ConvTranspose1d", 4, 2, 3, groups=2, dilation=2, bias=False), 2, 4, 5),
    case("convtranspose1d-output-size", Spec("ConvTranspose1d", 2, 2, 4, stride=3, padding=1),
         2, 2, 4, output_size=[2, 2, 12]),
    case("convtranspose3d-basic", Spec("ConvTranspose3d", 2, 3, 2), 2, 2, 2, 3, 2),
    case("convtranspose3d-unbatched", Spec("ConvTranspose3d", 2, 2, (1, 2, 3)), 2, 2, 3, 2),
    case("convtranspose3d-all-knobs",
         Spec("ConvTranspose3d", 4, 2, (3, 2, 2), stride=(2, 1, 2), padding=(1,),
              output_padding=(1, 0, 1), groups=2, dilation=(1, 2, 1)), 2, 4, 3, 3, 2),
    case("convtranspose3d-output-size", Spec("ConvTranspose3d", 2, 3, 2, stride=2),
         2, 3, 2, 2, output_size=(3, 7, 5, 4)),
]


BAD_INPUT = {
    "Conv3d": Entry(Spec("Conv3d", 2, 3, 2), (2, 2, 3, 3, 3)),
    "ConvTranspose1d": Entry(Spec("ConvTranspose1d", 2, 3, 3), (2, 2, 4)),
    "ConvTranspose3d": Entry(Spec("ConvTranspose3d", 2, 3, 2), (2, 2, 2, 3, 2)),
}


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
