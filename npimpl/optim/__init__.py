"""Optimizers with torch's names, signatures and update order (``torch.optim``)."""
from .optimizer import Optimizer
from .sgd import SGD

__all__ = ["Optimizer", "SGD"]
