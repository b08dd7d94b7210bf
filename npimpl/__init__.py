"""npimpl: neural-network layers in plain NumPy, with torch.nn's names and signatures.

Every class here computes its forward *and* its backward by hand; ``compare/``
runs each one in lockstep with its torch twin. This package never imports torch.
"""
from .module import Module, Parameter, Sequential
from .linear import Identity, Linear
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .shape import Flatten, Unflatten
from .dropout import Dropout
from . import optim
from . import utils

__all__ = [
    "Module", "Parameter", "Sequential",
    "Identity", "Linear",
    "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh",
    "CrossEntropyLoss", "MSELoss", "NLLLoss",
    "Flatten", "Unflatten",
    "Dropout",
    "optim", "utils",
]
