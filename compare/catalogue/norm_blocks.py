"""LayerNorm past one block of ``npimpl._norm_fast.BLOCK`` = 2**18 elements: 5 rows of 65536
go in two blocks (4 rows, then 1), whose parameter-gradient sums the backward adds up.

Written as a direct comparison (``Compared``: forward, backward, the parameter gradients on
both sides) rather than a ``Case``, so that the finite-difference oracle, which would run
200 float64 forwards of 327,680 elements (1.2 s of CPU), leaves it alone; float32 only
(0.03 s of CPU, float64 4x that)."""
from __future__ import annotations

import numpy as np
import torch

from reference import Spec

from .corners import Compared
from .norm import randomized

ORDER = 52


def layer_norm_two_blocks(dt):
    np_mod, t_mod = randomized(Spec("LayerNorm", 65536))(dt)
    r = np.random.default_rng(0)
    x, g = (r.standard_normal((5, 65536)).astype(dt) for _ in range(2))
    y = np_mod(x)
    dx = np_mod.backward(g)
    xt = torch.from_numpy(x).requires_grad_()
    yt = t_mod(xt)
    yt.backward(torch.from_numpy(g))
    return [("out", y, yt.detach().numpy()), ("grad_in", dx, xt.grad.numpy()),
            ("grad.weight", np_mod.weight.grad, t_mod.weight.grad.numpy()),
            ("grad.bias", np_mod.bias.grad, t_mod.bias.grad.numpy())]


CASES = [Compared("layernorm-two-blocks", "LayerNorm", "norm", layer_norm_two_blocks,
                  dtypes=("float32",),
                  note="5 rows of 65536: two blocks of _norm_fast's rows, their dweight and "
                       "dbias added up")]
