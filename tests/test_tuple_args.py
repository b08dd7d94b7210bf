"""Issue 15's 1-tuple rule outside convolution and pooling: every shape-like argument torch
accepts as an int, a 1-tuple, a list or a torch.Size, npimpl accepts too, with the same result
(conv and pooling arguments are checked in their own test files)."""
import numpy as np
import pytest
import torch

from reference import Spec, build

X = np.random.default_rng(0).standard_normal((2, 3, 4))


@pytest.mark.parametrize("spec", [Spec(n, a) for n in ("LayerNorm", "RMSNorm")
                                  for a in (4, (4,), [4], torch.Size([4]), np.int64(4), (3, 4))]
                         + [Spec("Unflatten", 1, a) for a in ((3,), [3], (1, 3), torch.Size([3, 1]))],
                         ids=repr)
def test_shape_arguments_take_every_form_torch_takes(spec):
    np_mod, t_mod = build(spec, np.float64)
    np.testing.assert_allclose(np_mod(X), t_mod(torch.tensor(X)).detach().numpy(), rtol=1e-12)
