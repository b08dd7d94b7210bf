"""npimpl: neural-network layers in plain NumPy, with torch.nn's names and signatures.

Every class here computes its forward *and* its backward by hand; ``compare/``
runs each one in lockstep with its torch twin. This package never imports torch.
"""
from .module import Module, Parameter, Sequential
from .linear import Identity, Linear
from .activation import LogSoftmax, ReLU, Sigmoid, Softmax, Tanh
from .smooth import GELU
from .loss import CrossEntropyLoss, MSELoss, NLLLoss
from .shape import Flatten, Unflatten
from .dropout import Dropout
from .norm import LayerNorm
from .embedding import Embedding, EmbeddingBag
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose2d
from .rnn_cell import GRUCell, LSTMCell, RNNCell
from .rnn import GRU, LSTM, RNN
from . import optim

__all__ = [
    "Module", "Parameter", "Sequential",
    "Identity", "Linear",
    "LogSoftmax", "ReLU", "Sigmoid", "Softmax", "Tanh",
    "GELU",
    "CrossEntropyLoss", "MSELoss", "NLLLoss",
    "Flatten", "Unflatten",
    "Dropout",
    "LayerNorm",
    "Embedding", "EmbeddingBag",
    "Conv1d", "Conv2d", "ConvTranspose2d",
    "GRUCell", "LSTMCell", "RNNCell", "GRU", "LSTM", "RNN",
    "optim",
]
