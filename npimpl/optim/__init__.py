"""Optimizers with torch's names, signatures and update order (``torch.optim``)."""
from .optimizer import Optimizer
from .sgd import SGD
from .adam import Adam
from .adamw import AdamW
from .rmsprop import RMSprop
from .adagrad import Adagrad
from .adamax import Adamax
from .nadam import NAdam
from .adadelta import Adadelta
from .asgd import ASGD
from .radam import RAdam
from .rprop import Rprop
from .adafactor import Adafactor
from .muon import Muon
from .lbfgs import LBFGS
from .sparse_adam import SparseAdam
from . import lr_scheduler, swa_utils

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adamax", "NAdam",
           "Adadelta", "ASGD", "RAdam", "Rprop", "Adafactor", "Muon", "LBFGS", "SparseAdam",
           "lr_scheduler", "swa_utils"]
