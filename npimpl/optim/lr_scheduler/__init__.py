"""Learning-rate schedules with torch's names, signatures and arithmetic
(``torch.optim.lr_scheduler``): the base class and its step protocol in :mod:`.base`, the
per-step formulas in :mod:`.schedules`, :mod:`.onecycle`, :mod:`.cyclic`, the metric-driven
:mod:`.plateau` and the composites in :mod:`.chain`."""
from .base import LRScheduler
from .schedules import (ConstantLR, CosineAnnealingLR, ExponentialLR, LambdaLR, LinearLR,
                        MultiplicativeLR, MultiStepLR, PolynomialLR, StepLR)
from .onecycle import OneCycleLR
from .cyclic import CosineAnnealingWarmRestarts, CyclicLR
from .plateau import ReduceLROnPlateau
from .chain import ChainedScheduler, SequentialLR

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ConstantLR",
           "LinearLR", "ExponentialLR", "PolynomialLR", "CosineAnnealingLR", "OneCycleLR",
           "CyclicLR", "CosineAnnealingWarmRestarts", "ReduceLROnPlateau", "SequentialLR",
           "ChainedScheduler"]
