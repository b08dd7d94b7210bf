"""GroupNorm and InstanceNorm2d: errors, defaults, state_dict keys and InstanceNorm's hidden
running statistics (torch averages N repeated BatchNorm buffers)."""
import numpy as np
import pytest
import torch

import npimpl


def test_groupnorm_channels_must_divide():
    msg = r"num_channels \(6\) must be divisible by num_groups \(4\)"
    with pytest.raises(ValueError, match=msg):
        torch.nn.GroupNorm(4, 6)
    with pytest.raises(ValueError, match=msg):
        npimpl.GroupNorm(4, 6)


@pytest.mark.parametrize("shape", [(2, 4, 3), (6,)], ids=["wrong-channels", "1d"])
def test_groupnorm_rejects_bad_input(shape):
    with pytest.raises(ValueError, match=r"GroupNorm: expected input of shape \(N, 6, \*\)"):
        npimpl.GroupNorm(2, 6)(np.zeros(shape, np.float32))


def test_groupnorm_one_group_is_layernorm_over_c_and_spatial():
    x = np.random.default_rng(0).standard_normal((2, 4, 3))
    y = npimpl.GroupNorm(1, 4, dtype=np.float64)(x)
    ref = npimpl.LayerNorm((4, 3), elementwise_affine=False, dtype=np.float64)(x)
    np.testing.assert_allclose(y, ref, rtol=1e-14, atol=1e-15)


@pytest.mark.parametrize("kw", [{}, {"affine": True}, {"track_running_stats": True},
                                {"affine": True, "bias": False, "track_running_stats": True}],
                         ids=["default", "affine", "track", "affine-nobias-track"])
def test_instancenorm_state_dict_matches_torch(kw):
    ours = npimpl.InstanceNorm2d(3, **kw, dtype=np.float64).state_dict()
    theirs = torch.nn.InstanceNorm2d(3, **kw, dtype=torch.float64).state_dict()
    assert list(ours) == list(theirs)
    for k, v in theirs.items():
        assert ours[k].dtype == v.numpy().dtype and ours[k].shape == tuple(v.shape), k


def test_instancenorm_running_var_is_batch_mean_of_unbiased_instance_variances():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 2, 2, 2)) * 2 + 1
    m = npimpl.InstanceNorm2d(2, momentum=0.25, track_running_stats=True, dtype=np.float64)
    m(x)
    inst_mean = x.mean(axis=(2, 3))                                   # (N, C)
    inst_var = x.reshape(3, 2, -1).var(axis=2, ddof=1)                # unbiased, n = H * W
    np.testing.assert_allclose(m.running_mean, 0.25 * inst_mean.mean(0), rtol=1e-14)
    np.testing.assert_allclose(m.running_var, 0.75 + 0.25 * inst_var.mean(0), rtol=1e-14)
    assert int(m.num_batches_tracked) == 0                            # registered, never counted


def test_instancenorm_eval_with_running_stats_ignores_the_instance():
    m = npimpl.InstanceNorm2d(1, eps=0.0, track_running_stats=True, dtype=np.float64).eval()
    m.running_mean[...] = 1.0
    m.running_var[...] = 4.0
    np.testing.assert_allclose(m(np.full((1, 1, 2, 2), 3.0)), np.ones((1, 1, 2, 2)))


@pytest.mark.parametrize("name,shape", [
    ("InstanceNorm2d", (2, 3, 1, 1)), ("InstanceNorm2d", (3, 1, 1)), ("InstanceNorm1d", (2, 3, 1)),
    ("InstanceNorm1d", (3, 1)), ("InstanceNorm3d", (2, 3, 1, 1, 1)),
], ids=["2d-batched", "2d-unbatched", "1d-batched", "1d-unbatched", "3d-batched"])
def test_instancenorm_one_spatial_element_raises_like_torch(name, shape):
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        getattr(torch.nn, name)(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match="Expected more than 1 spatial element when training"):
        getattr(npimpl, name)(3)(np.zeros(shape, np.float32))


@pytest.mark.parametrize("name,shape", [("InstanceNorm1d", (2, 3, 4, 5)), ("InstanceNorm1d", (3,)),
                                        ("InstanceNorm3d", (3, 4, 5)),
                                        ("InstanceNorm3d", (1, 2, 3, 4, 5, 6))])
def test_instancenorm_rank_errors_like_torch(name, shape):
    with pytest.raises(ValueError, match="input"):
        getattr(torch.nn, name)(3)(torch.zeros(shape))
    with pytest.raises(ValueError, match=r"expected \dD or \dD input"):
        getattr(npimpl, name)(3)(np.zeros(shape, np.float32))


def test_instancenorm_channel_mismatch():
    with pytest.raises(ValueError, match="to match num_features"):
        npimpl.InstanceNorm2d(3, affine=True)(np.zeros((1, 4, 2, 2), np.float32))
    with pytest.warns(UserWarning, match="to match num_features"):
        npimpl.InstanceNorm2d(3)(np.zeros((1, 4, 2, 2), np.float32))
    with pytest.raises(ValueError, match="expected 3D or 4D input"):
        npimpl.InstanceNorm2d(3)(np.zeros((2, 3), np.float32))
