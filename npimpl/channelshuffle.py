"""ChannelShuffle: ShuffleNet's interleaving of channel groups, a permutation of channels."""
from __future__ import annotations

from typing import NamedTuple

import numpy as np
from einops import rearrange

from ._layout import LayoutModule, positive_int


class ChannelShuffleCache(NamedTuple):
    out_shape: tuple
    dtype: np.dtype


class ChannelShuffle(LayoutModule):
    """``y[n, c*g + k] = x[n, k*(C/g) + c]``: channel c of group k moves to position ``c*g + k``.

    Args:
        groups: g, a positive int dividing the channels.

    Shape:
        ``(N, C, *)`` → ``(N, C, *)``, at least 3 dims (N, C and one more).

    Backward:
        dx = the inverse permutation of dy's channels, ``n (c g) ... -> n (g c) ...``.

    What torch hides:
        it is ``view(N, g, C/g, *).transpose(1, 2)`` flattened back; with ``g == C`` or
        ``g == 1`` nothing moves. torch refuses a 2-D ``(N, C)`` input, so there is no
        unbatched form.
    """

    def __init__(self, groups, dtype=None):
        super().__init__(dtype)
        self.groups = positive_int(groups, "ChannelShuffle", "groups")

    def forward(self, input):
        x = self._x(input)
        if x.ndim < 3:
            raise ValueError(f"ChannelShuffle: input must have more than 2 dims (N, C, *), got "
                             f"{x.ndim}-D with shape {x.shape}")
        if x.shape[1] % self.groups:
            raise ValueError(f"ChannelShuffle: the number of channels must be divisible by "
                             f"groups={self.groups}, got shape {x.shape}")
        y = rearrange(x, "n (g c) ... -> n (c g) ...", g=self.groups)
        self._cache = ChannelShuffleCache(y.shape, x.dtype)
        return y

    def backward(self, grad_output):
        c = self._saved()
        g = self._g(grad_output, c.out_shape, c.dtype)
        return np.ascontiguousarray(rearrange(g, "n (c g) ... -> n (g c) ...", g=self.groups))

    def extra_repr(self) -> str:
        return f"groups={self.groups}"
