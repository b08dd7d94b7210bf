"""Torch twins of the pools that draw random numbers: the NumPy side draws, torch reuses it."""
from __future__ import annotations

import torch
import torch.nn.functional as F

from .twins import register_twin, to_torch


class _SharedSamples:
    """A ``torch.nn.FractionalMaxPool2d/3d`` that pools with the samples ``np_module`` drew
    (its ``random_samples``, ``(N, C, nd)`` in the input's dtype), passed as torch's own
    ``_random_samples``: the windows are then torch's, computed from the same numbers."""

    _functional = None

    def __init__(self, np_module, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.np_module = np_module

    def forward(self, input):
        u = self.np_module.random_samples
        if u is None:
            raise RuntimeError(f"{type(self).__name__}: the NumPy module has drawn no samples")
        return self._functional(input, self.kernel_size, self.output_size, self.output_ratio,
                                self.return_indices, _random_samples=torch.from_numpy(u.copy()))


class SharedSamplesFractionalMaxPool2d(_SharedSamples, torch.nn.FractionalMaxPool2d):
    _functional = staticmethod(F.fractional_max_pool2d)


class SharedSamplesFractionalMaxPool3d(_SharedSamples, torch.nn.FractionalMaxPool3d):
    _functional = staticmethod(F.fractional_max_pool3d)


@register_twin("FractionalMaxPool2d")
@register_twin("FractionalMaxPool3d")
def _fractional_twin(np_mod, args, kwargs, dtype):
    cls = (SharedSamplesFractionalMaxPool2d if np_mod._nd == 2
           else SharedSamplesFractionalMaxPool3d)
    kw = {k: v for k, v in kwargs.items() if k != "rng"}      # npimpl's own generator
    return cls(np_mod, *to_torch(args), **to_torch(kw))
