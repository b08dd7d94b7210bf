"""LayerNorm and RMSNorm (npimpl/norm.py): what the catalogue cannot show (errors,
state_dict keys, defaults, signatures); GroupNorm/InstanceNorm2d signatures too."""
import inspect

import numpy as np
import pytest
import torch

import npimpl


def _params(cls):
    return [(n, p.default, p.kind) for n, p in inspect.signature(cls).parameters.items()
            if n not in ("dtype", "device", "rng")]


@pytest.mark.parametrize("name", ["LayerNorm", "RMSNorm", "GroupNorm", "InstanceNorm2d"])
def test_signature_matches_torch(name):
    ours = [p for p in _params(getattr(npimpl, name))]
    theirs = [p for p in _params(getattr(torch.nn, name))]
    assert ours == theirs


@pytest.mark.parametrize("kw,keys", [
    ({}, ["weight", "bias"]),
    ({"bias": False}, ["weight"]),
    ({"elementwise_affine": False}, []),
], ids=["affine", "nobias", "noaffine"])
def test_layernorm_state_dict_keys_match_torch(kw, keys):
    ours = npimpl.LayerNorm((2, 3), **kw)
    theirs = torch.nn.LayerNorm((2, 3), **kw)
    assert list(ours.state_dict()) == list(theirs.state_dict()) == keys
    for k in keys:
        assert ours.state_dict()[k].shape == tuple(theirs.state_dict()[k].shape)


def test_layernorm_defaults_are_ones_and_zeros():
    m = npimpl.LayerNorm(4)
    np.testing.assert_array_equal(m.weight.data, np.ones(4, np.float32))
    np.testing.assert_array_equal(m.bias.data, np.zeros(4, np.float32))


@pytest.mark.parametrize("shape", [(3, 5), (2, 4, 3), (4,)], ids=["last-dim", "two-dims-swapped", "too-few"])
def test_layernorm_rejects_wrong_trailing_shape(shape):
    m = npimpl.LayerNorm((3, 4))
    with pytest.raises(ValueError, match=r"LayerNorm: expected input with shape \[\*, 3, 4\]"):
        m(np.zeros(shape, np.float32))


def test_layernorm_eps_sits_inside_the_sqrt():
    """A constant row has var = 0: inside the sqrt, x - mean = 0 gives 0 (not NaN), and a
    two-valued row (+-a) gives a / sqrt(a^2 + eps) exactly."""
    m = npimpl.LayerNorm(2, eps=0.25, elementwise_affine=False, dtype=np.float64)
    y = m(np.array([[1.0, -1.0], [3.0, 3.0]]))
    np.testing.assert_allclose(y, [[1 / np.sqrt(1.25), -1 / np.sqrt(1.25)], [0.0, 0.0]],
                               rtol=1e-15)


def test_layernorm_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="LayerNorm.backward called before forward"):
        npimpl.LayerNorm(3).backward(np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_rmsnorm_default_eps_is_the_input_dtype_machine_epsilon(dtype):
    """On a tiny input eps matters: eps=None must equal eps=finfo(dtype).eps exactly and
    differ from a fixed 1e-6 (what a reader might guess)."""
    x = (np.random.default_rng(0).standard_normal((3, 4)) * 1e-4).astype(dtype)
    y_none = npimpl.RMSNorm(4, dtype=dtype)(x)
    y_finfo = npimpl.RMSNorm(4, eps=float(np.finfo(dtype).eps), dtype=dtype)(x)
    y_guess = npimpl.RMSNorm(4, eps=1e-6, dtype=dtype)(x)
    np.testing.assert_array_equal(y_none, y_finfo)
    assert np.abs(y_none - y_guess).max() > 1e-3


def test_rmsnorm_does_not_centre():
    y = npimpl.RMSNorm(3, eps=0.0, elementwise_affine=False, dtype=np.float64)(np.full((1, 3), 2.0))
    np.testing.assert_allclose(y, np.ones((1, 3)), rtol=1e-15)


@pytest.mark.parametrize("kw,keys", [({}, ["weight"]), ({"elementwise_affine": False}, [])],
                         ids=["affine", "noaffine"])
def test_rmsnorm_state_dict_keys_match_torch(kw, keys):
    assert list(npimpl.RMSNorm(5, **kw).state_dict()) == list(torch.nn.RMSNorm(5, **kw).state_dict()) == keys


def test_rmsnorm_rejects_wrong_trailing_shape():
    with pytest.raises(ValueError, match=r"RMSNorm: expected input with shape \[\*, 5\]"):
        npimpl.RMSNorm(5)(np.zeros((2, 4), np.float32))
