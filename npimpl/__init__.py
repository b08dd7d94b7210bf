"""npimpl: neural-network layers in plain NumPy, with torch.nn's names and signatures.

Every class here computes its forward *and* its backward by hand; ``compare/``
runs each one in lockstep with its torch twin. This package never imports torch.
"""
from .module import Module, Parameter, Sequential
from .linear import Identity, Linear
from .activation import (Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, ReLU, ReLU6, Sigmoid,
                         Tanh)
from .smooth import CELU, ELU, GELU, SELU, Mish, SiLU, Softplus
from .softmax import LogSoftmax, Softmax, Softmin
from .loss import HuberLoss, L1Loss, MarginRankingLoss, MSELoss, SmoothL1Loss
from .distribution import GaussianNLLLoss, KLDivLoss
from .crossentropy import CrossEntropyLoss, NLLLoss
from .bce import BCELoss, BCEWithLogitsLoss
from .cosine_loss import CosineEmbeddingLoss
from .shape import Flatten, Unflatten
from .dropout import Dropout, Dropout1d, Dropout2d, Dropout3d
from .norm import LayerNorm, RMSNorm
from .batchnorm import BatchNorm1d, BatchNorm2d, BatchNorm3d
from .groupnorm import GroupNorm, InstanceNorm1d, InstanceNorm2d, InstanceNorm3d
from .embedding import Embedding, EmbeddingBag
from .conv import Conv1d, Conv2d
from .conv_transpose import ConvTranspose2d
from .rnn_cell import GRUCell, LSTMCell, RNNCell
from .rnn import GRU, LSTM, RNN
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool1d,
                      MaxPool2d)
from .sdpa import ScaledDotProductAttention, scaled_dot_product_attention
from .attention import MultiheadAttention
from .transformer import TransformerEncoderLayer
from .transformer_decoder import TransformerDecoderLayer
from .transformer_stack import TransformerDecoder, TransformerEncoder
from .transformer_model import Transformer
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from . import optim
from . import utils

__all__ = [
    "Module", "Parameter", "Sequential",
    "Identity", "Linear",
    "Hardsigmoid", "Hardswish", "Hardtanh", "LeakyReLU", "ReLU", "ReLU6", "Sigmoid", "Tanh",
    "CELU", "ELU", "GELU", "SELU", "Mish", "SiLU", "Softplus",
    "LogSoftmax", "Softmax", "Softmin",
    "HuberLoss", "KLDivLoss", "L1Loss", "MarginRankingLoss", "MSELoss", "SmoothL1Loss",
    "GaussianNLLLoss",
    "CrossEntropyLoss", "NLLLoss", "BCELoss", "BCEWithLogitsLoss",
    "CosineEmbeddingLoss",
    "Flatten", "Unflatten",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "LayerNorm", "RMSNorm",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d",
    "Embedding", "EmbeddingBag",
    "Conv1d", "Conv2d", "ConvTranspose2d",
    "GRUCell", "LSTMCell", "RNNCell", "GRU", "LSTM", "RNN",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d",
    "MultiheadAttention", "ScaledDotProductAttention", "scaled_dot_product_attention",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled",
    "optim", "utils",
]
