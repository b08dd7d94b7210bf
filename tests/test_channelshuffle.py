"""ChannelShuffle: the interleaving rule, its inverse in the backward, errors, and torch's
backward bug on zero channels."""
import numpy as np
import pytest
import torch

import npimpl
from reference import to_numpy, to_torch
from torch_signature import assert_signature_matches_torch


def test_signature_matches_torch():
    assert_signature_matches_torch("ChannelShuffle")


@pytest.mark.parametrize("groups,channels", [(2, 4), (3, 6), (2, 6), (1, 3), (4, 4)])
def test_channel_c_of_group_k_moves_to_c_times_g_plus_k(groups, channels):
    x = np.arange(float(channels)).reshape(1, channels, 1)
    y = npimpl.ChannelShuffle(groups)(x)
    per = channels // groups
    expected = [k * per + c for c in range(per) for k in range(groups)]
    assert y.ravel().tolist() == expected
    assert np.array_equal(y, to_numpy(torch.nn.ChannelShuffle(groups)(to_torch(x))))


def test_backward_is_the_inverse_permutation():
    m = npimpl.ChannelShuffle(3)
    x = np.random.default_rng(0).standard_normal((2, 6, 2, 2))
    y = m(x)
    assert np.array_equal(m.backward(y), x)


@pytest.mark.parametrize("shape,match", [((2, 5, 3), "divisible by groups"),
                                         ((2, 4), "more than 2 dims")])
def test_shape_errors(shape, match):
    with pytest.raises(ValueError, match="ChannelShuffle: .*" + match):
        npimpl.ChannelShuffle(2)(np.zeros(shape))
    with pytest.raises(RuntimeError):
        torch.nn.ChannelShuffle(2)(to_torch(np.zeros(shape)))


def test_groups_must_be_a_positive_int():
    with pytest.raises(ValueError, match="groups"):
        npimpl.ChannelShuffle(0)


def test_torch_backward_fails_on_zero_channels():
    """The bad-input matrix's 'by design' cell: C = 0 shuffles to C = 0 on both sides, but
    torch's backward inverts the shuffle with groups = C / g = 0 and raises."""
    m = npimpl.ChannelShuffle(2)
    y = m(np.zeros((2, 0, 3)))
    assert y.shape == (2, 0, 3) and m.backward(y).shape == (2, 0, 3)
    tx = to_torch(np.zeros((2, 0, 3)), requires_grad=True)
    ty = torch.nn.ChannelShuffle(2)(tx)
    with pytest.raises(RuntimeError, match="groups"):
        ty.backward(torch.zeros_like(ty))
