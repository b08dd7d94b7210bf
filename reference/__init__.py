"""The torch side of lockstep: build each npimpl class's ``torch.nn`` twin.

Because npimpl mirrors torch.nn's names and signatures, one declarative
:class:`Spec` (``Spec("Linear", 3, 4, bias=False)``) builds both sides, and
the weights go torch → NumPy through ``load_state_dict``. Classes whose twin is
not simply ``torch.nn.<Name>(*args, **kwargs)`` register a builder in
:data:`TWINS` (see :func:`register_twin`).
"""
from .twins import (TWINS, Spec, build, optimizer_pair, register_twin, seq, share_weights,
                    to_numpy, to_torch, torch_dtype)
from .dropout import SharedMaskDropout
from . import rnn as _rnn  # noqa: F401  (registers the RNN twins)
from . import attention as _attention  # noqa: F401  (MultiheadAttention, SDPA twins)
from . import pooling as _pooling  # noqa: F401  (FractionalMaxPool2d/3d twins)
from . import losses as _losses  # noqa: F401  (LinearCrossEntropyLoss, TMWDL, NLLLoss2d twins)
from . import alpha_dropout as _alpha_dropout  # noqa: F401  (AlphaDropout twins)
from . import rrelu as _rrelu  # noqa: F401  (RReLU's shared slopes)
from . import models

__all__ = ["TWINS", "Spec", "build", "optimizer_pair", "register_twin", "seq", "share_weights",
           "to_numpy", "to_torch", "torch_dtype", "SharedMaskDropout", "models"]
