"""A small convolutional network for the 8x8 digits."""
from __future__ import annotations

import numpy as np

from ..activation import ReLU
from ..linear import Linear
from ..container import Sequential
from ..shape import Flatten, Unflatten


class DigitsCNN(Sequential):
    """Two 3x3 conv / 2x2 max-pool / ReLU stages and a linear classifier.

    ``(N, 64) -> (N, 1, 8, 8) -> conv 8 -> pool -> (N, 8, 4, 4) -> conv 16 -> pool
    -> (N, 16, 2, 2) -> (N, 64) -> logits (N, 10)``.

    Args:
        channels: output channels of the two convolutions.
        num_classes: number of classes (10 digits).
        dtype: NumPy float dtype of the parameters.

    Shape:
        input ``(N, 64)`` (flattened 8x8 images, as the MLP takes) → logits ``(N, num_classes)``.

    Backward:
        the Sequential chain in reverse; max-pool routes each gradient to the
        arg-max of its window, the convolutions correlate with the flipped kernel.

    What torch hides:
        nothing beyond its layers: the model is ``torch.nn.Sequential`` with the
        same children (``1.weight`` is the first conv's ``(8, 1, 3, 3)`` kernel).
        Pooling before the ReLU computes the same function as after it (max and
        ReLU commute) on 4x fewer elements, and leaves no windows of tied zeros.
    """

    def __init__(self, channels: tuple = (8, 16), num_classes: int = 10, dtype=np.float32):
        from .. import Conv2d, MaxPool2d   # looked up at call time: the conv family's files
        c1, c2 = channels
        super().__init__(
            Unflatten(1, (1, 8, 8)),                                    # (N, 1, 8, 8)
            Conv2d(1, c1, 3, padding=1, dtype=dtype), MaxPool2d(2), ReLU(),   # (N, c1, 4, 4)
            Conv2d(c1, c2, 3, padding=1, dtype=dtype), MaxPool2d(2), ReLU(),  # (N, c2, 2, 2)
            Flatten(),                                                  # (N, 4 c2)
            Linear(4 * c2, num_classes, dtype=dtype))                   # (N, num_classes)
