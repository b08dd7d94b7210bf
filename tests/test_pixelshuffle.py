"""PixelShuffle / PixelUnshuffle: the sub-pixel layout, the inverse pair, errors, and torch's
empty-tensor bugs that the bad-input matrix marks as deviations by design."""
import numpy as np
import pytest
import torch

import npimpl
from reference import to_numpy, to_torch
from torch_signature import assert_signature_matches_torch


@pytest.mark.parametrize("name", ["PixelShuffle", "PixelUnshuffle"])
def test_signature_matches_torch(name):
    assert_signature_matches_torch(name)


def test_layout_channel_outermost():
    """Channel c*r^2 + i*r + j of the input lands on pixel (h*r + i, w*r + j) of channel c."""
    r, c_out, h, w = 2, 3, 2, 3
    x = np.random.default_rng(0).standard_normal((1, c_out * r * r, h, w))
    y = npimpl.PixelShuffle(r)(x)
    for c in range(c_out):
        for i in range(r):
            for j in range(r):
                assert np.array_equal(y[0, c, i::r, j::r], x[0, c * r * r + i * r + j])
    assert np.array_equal(y, to_numpy(torch.nn.PixelShuffle(r)(to_torch(x))))


@pytest.mark.parametrize("shape", [(2, 3, 6, 4), (3, 6, 9), (2, 1, 1, 3, 3)])
def test_unshuffle_inverts_shuffle_and_backward_is_the_inverse(shape):
    x = np.random.default_rng(1).standard_normal(shape)
    r = 3 if shape[-1] % 3 == 0 else 2
    down, up = npimpl.PixelUnshuffle(r), npimpl.PixelShuffle(r)
    z = down(x)
    assert np.array_equal(up(z), x)
    g = np.random.default_rng(2).standard_normal(z.shape)
    assert np.array_equal(down.backward(g), up(g))
    assert np.array_equal(up.backward(x), down(x))


@pytest.mark.parametrize("cls,shape,match", [
    (npimpl.PixelShuffle, (2, 6, 2, 2), "divisible by upscale_factor"),
    (npimpl.PixelShuffle, (4, 2), "at least 3 dims"),
    (npimpl.PixelUnshuffle, (2, 1, 3, 4), "divisible by downscale_factor"),
    (npimpl.PixelUnshuffle, (2, 1, 4, 3), "divisible by downscale_factor"),
])
def test_shape_errors(cls, shape, match):
    with pytest.raises(ValueError, match=cls.__name__ + ".*" + match):
        cls(2)(np.zeros(shape))
    with pytest.raises(RuntimeError):
        getattr(torch.nn, cls.__name__)(2)(to_torch(np.zeros(shape)))


@pytest.mark.parametrize("factor,exc", [(0, ValueError), (-1, ValueError), (2.0, TypeError),
                                        (True, TypeError)])
def test_factor_must_be_a_positive_int(factor, exc):
    with pytest.raises(exc, match="PixelShuffle: upscale_factor"):
        npimpl.PixelShuffle(factor)


def test_torch_empty_tensor_bugs():
    """What the bad-input matrix's 'by design' cells say: on an empty input torch's
    pixel_unshuffle returns the input's shape unchanged (so PixelShuffle's backward, which
    runs it, is refused by autograd); npimpl keeps the documented shapes."""
    x = np.zeros((0, 2, 4, 4))
    assert npimpl.PixelUnshuffle(2)(x).shape == (0, 8, 2, 2)
    assert tuple(torch.nn.PixelUnshuffle(2)(to_torch(x)).shape) == (0, 2, 4, 4)
    m = npimpl.PixelShuffle(2)
    y = m(np.zeros((0, 4, 2, 3)))
    assert y.shape == (0, 1, 4, 6) and m.backward(y).shape == (0, 4, 2, 3)
    tx = to_torch(np.zeros((0, 4, 2, 3)), requires_grad=True)
    ty = torch.nn.PixelShuffle(2)(tx)
    with pytest.raises(RuntimeError, match="invalid gradient"):
        ty.backward(torch.zeros_like(ty))
