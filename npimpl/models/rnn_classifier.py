"""An LSTM classifier of variable-length sequences, fed as a PackedSequence."""
from __future__ import annotations

import numpy as np

from ..linear import Linear
from ..module import Module
from ..rnn import LSTM


class PackedLSTMClassifier(Module):
    """``logits = head(concat_d h_n[last layer, d])``: an LSTM reads each sequence of a
    PackedSequence to its own end; its final state (both directions) is classified.

    Args:
        input_size, hidden_size, num_classes: the sizes.
        num_layers, bidirectional: passed to the LSTM.

    Shape:
        input a PackedSequence with data (R, input_size) → logits (B, num_classes), in the
        batch order the sequences were packed from.

    Backward:
        head, then the LSTM's backward with no output gradient and ``dh_n`` only at the last
        layer's rows; returns the gradient of the packed data (R, input_size).

    What torch hides:
        h_n of a packed batch is taken at each sequence's true last step (not after the
        padding) and comes back in the caller's order although the kernel ran on the
        sequences sorted by length.
    """

    def __init__(self, input_size, hidden_size, num_classes, num_layers=1, bidirectional=False,
                 dtype=np.float32):
        super().__init__()
        self.lstm = LSTM(input_size, hidden_size, num_layers=num_layers,
                         bidirectional=bidirectional, dtype=dtype)
        D = 2 if bidirectional else 1
        self.head = Linear(D * hidden_size, num_classes, dtype=dtype)

    def forward(self, packed):
        _, (h_n, _) = self.lstm(packed)
        D = 2 if self.lstm.bidirectional else 1
        last = h_n[-D:]                                               # (D, B, H)
        self._cache = h_n.shape
        return self.head(np.concatenate(list(last), axis=-1))         # (B, C)

    def backward(self, grad_output):
        shape = self._saved()
        D = 2 if self.lstm.bidirectional else 1
        g = self.head.backward(grad_output)                           # (B, D*H)
        dh = np.zeros(shape, g.dtype)                                 # (D*layers, B, H)
        dh[-D:] = np.stack(np.split(g, D, axis=-1))
        g_data, _ = self.lstm.backward(None, (dh, None))
        return g_data
