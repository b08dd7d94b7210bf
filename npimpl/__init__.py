"""npimpl: neural-network layers in plain NumPy, with torch.nn's names and signatures.

Every class here computes its forward *and* its backward by hand; ``compare/``
runs each one in lockstep with its torch twin. This package never imports torch.
"""
from .module import Module, Parameter
from .container import (ModuleDict, ModuleList, ParameterDict, ParameterList,
                        Sequential)
from .linear import Identity, Linear
from .activation import (Hardsigmoid, Hardswish, Hardtanh, LeakyReLU, ReLU, ReLU6, Sigmoid,
                         Tanh)
from .smooth import CELU, ELU, GELU, SELU, Mish, SiLU, Softplus
from .softmax import LogSoftmax, Softmax, Softmin
from .loss import HuberLoss, L1Loss, MarginRankingLoss, MSELoss, SmoothL1Loss
from .distribution import GaussianNLLLoss, KLDivLoss
from .distribution import PoissonNLLLoss
from .margin_loss import HingeEmbeddingLoss, MultiLabelSoftMarginLoss, SoftMarginLoss
from .multi_margin import MultiLabelMarginLoss, MultiMarginLoss
from .triplet import TripletMarginLoss, TripletMarginWithDistanceLoss
from .ctc import CTCLoss
from .adaptive import AdaptiveLogSoftmaxWithLoss
from .linear_ce import LinearCrossEntropyLoss, LinearCrossEntropyOptions
from .deprecated import NLLLoss2d
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
from .conv import Conv3d
from .conv_transpose import ConvTranspose1d, ConvTranspose3d
from .rnn_cell import GRUCell, LSTMCell, RNNCell
from .rnn import GRU, LSTM, RNN
from .pooling import (AdaptiveAvgPool2d, AdaptiveMaxPool2d, AvgPool2d, MaxPool1d,
                      MaxPool2d)
from .padding import (CircularPad1d, CircularPad2d, CircularPad3d, ConstantPad1d, ConstantPad2d,
                      ConstantPad3d, ReflectionPad1d, ReflectionPad2d, ReflectionPad3d,
                      ReplicationPad1d, ReplicationPad2d, ReplicationPad3d, ZeroPad1d, ZeroPad2d,
                      ZeroPad3d)
from .upsampling import Upsample, UpsamplingBilinear2d, UpsamplingNearest2d
from .pixelshuffle import PixelShuffle, PixelUnshuffle
from .channelshuffle import ChannelShuffle
from .fold import Fold, Unfold
from .pooling import (AdaptiveAvgPool1d, AdaptiveAvgPool3d, AdaptiveMaxPool1d,
                      AdaptiveMaxPool3d, AvgPool1d, AvgPool3d, MaxPool3d)
from .lp_pool import LPPool1d, LPPool2d, LPPool3d
from .fractional_max_pool import FractionalMaxPool2d, FractionalMaxPool3d
from .max_unpool import MaxUnpool1d, MaxUnpool2d, MaxUnpool3d
from .sdpa import ScaledDotProductAttention, scaled_dot_product_attention
from .attention import MultiheadAttention
from .transformer import TransformerEncoderLayer
from .transformer_decoder import TransformerDecoderLayer
from .transformer_stack import TransformerDecoder, TransformerEncoder
from .transformer_model import Transformer
from .grad_mode import enable_grad, is_grad_enabled, no_grad, set_grad_enabled
from .shrink import Hardshrink, Softshrink, Tanhshrink, Threshold
from .sigmoidal import GLU, LogSigmoid, Softsign
from .prelu import PReLU, RReLU
from .softmax import Softmax2d
from .lrn import CrossMapLRN2d, LocalResponseNorm
from .alpha_dropout import AlphaDropout, FeatureAlphaDropout
from .bilinear import Bilinear
from .distance import CosineSimilarity, PairwiseDistance
from . import optim
from . import random
from . import utils
from .random import manual_seed

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
    "PoissonNLLLoss",
    "HingeEmbeddingLoss", "MultiLabelSoftMarginLoss", "SoftMarginLoss",
    "MultiLabelMarginLoss", "MultiMarginLoss",
    "TripletMarginLoss", "TripletMarginWithDistanceLoss",
    "CTCLoss", "AdaptiveLogSoftmaxWithLoss",
    "LinearCrossEntropyLoss", "LinearCrossEntropyOptions", "NLLLoss2d",
    "Flatten", "Unflatten",
    "Dropout", "Dropout1d", "Dropout2d", "Dropout3d",
    "LayerNorm", "RMSNorm",
    "BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d",
    "InstanceNorm3d",
    "Embedding", "EmbeddingBag",
    "Conv1d", "Conv2d", "ConvTranspose2d",
    "Conv3d", "ConvTranspose1d", "ConvTranspose3d",
    "GRUCell", "LSTMCell", "RNNCell", "GRU", "LSTM", "RNN",
    "AdaptiveAvgPool2d", "AdaptiveMaxPool2d", "AvgPool2d", "MaxPool1d", "MaxPool2d",
    "CircularPad1d", "CircularPad2d", "CircularPad3d", "ConstantPad1d", "ConstantPad2d",
    "ConstantPad3d", "ReflectionPad1d", "ReflectionPad2d", "ReflectionPad3d", "ReplicationPad1d",
    "ReplicationPad2d", "ReplicationPad3d", "ZeroPad1d", "ZeroPad2d", "ZeroPad3d",
    "Upsample", "UpsamplingBilinear2d", "UpsamplingNearest2d",
    "PixelShuffle", "PixelUnshuffle", "ChannelShuffle", "Fold", "Unfold",
    "AdaptiveAvgPool1d", "AdaptiveAvgPool3d", "AdaptiveMaxPool1d", "AdaptiveMaxPool3d",
    "AvgPool1d", "AvgPool3d", "MaxPool3d",
    "LPPool1d", "LPPool2d", "LPPool3d",
    "FractionalMaxPool2d", "FractionalMaxPool3d",
    "MaxUnpool1d", "MaxUnpool2d", "MaxUnpool3d",
    "MultiheadAttention", "ScaledDotProductAttention", "scaled_dot_product_attention",
    "TransformerEncoderLayer",
    "TransformerDecoderLayer", "TransformerEncoder", "TransformerDecoder", "Transformer",
    "no_grad", "enable_grad", "set_grad_enabled", "is_grad_enabled", "manual_seed",
    "ModuleDict", "ModuleList", "ParameterDict", "ParameterList",
    "Hardshrink", "Softshrink", "Tanhshrink", "Threshold", "GLU", "LogSigmoid", "Softsign",
    "PReLU", "RReLU", "Softmax2d",
    "CrossMapLRN2d", "LocalResponseNorm", "AlphaDropout", "FeatureAlphaDropout",
    "Bilinear", "CosineSimilarity", "PairwiseDistance",
    "optim", "utils",
]
