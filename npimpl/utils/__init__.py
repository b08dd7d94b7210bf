"""Helpers named as ``torch.nn.utils``: gradient clipping (``clip_grad.py``) and packed
sequences for the recurrent layers (``rnn.py``, ``npimpl.utils.rnn``)."""
from .clip_grad import clip_grad_norm_, clip_grad_value_
from . import rnn

__all__ = ["clip_grad_norm_", "clip_grad_value_", "rnn"]
