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


# --- issue 21 D9: float32 inputs whose squares overflow ------------------------------------
def _huge_pair(name):
    return {"LayerNorm": (lambda: npimpl.LayerNorm(6), lambda: torch.nn.LayerNorm(6), (3, 6)),
            "GroupNorm": (lambda: npimpl.GroupNorm(2, 4), lambda: torch.nn.GroupNorm(2, 4),
                          (2, 4, 3)),
            "InstanceNorm1d": (lambda: npimpl.InstanceNorm1d(2, affine=True),
                               lambda: torch.nn.InstanceNorm1d(2, affine=True), (2, 2, 5))}[name]


@pytest.mark.parametrize("scale", [1e20, 1e25, 1e30], ids=str)
@pytest.mark.parametrize("name", ["LayerNorm", "GroupNorm", "InstanceNorm1d"])
def test_float32_rows_past_sqrt_of_max_float_are_computed_stably(name, scale):
    """Decided (docstring of LayerNorm): the exact answer, not torch's NaN. Judged as the
    report judges it: against torch in float64 on the same float32 inputs, at float32's
    tolerance; torch's own float32 kernel gives 0 or NaN there (the claim 'torch is off')."""
    make_np, make_t, shape = _huge_pair(name)
    rng = np.random.default_rng(0)
    x = (rng.standard_normal(shape) * scale).astype(np.float32)
    g = rng.standard_normal(shape).astype(np.float32)
    m = make_np()
    with np.errstate(all="raise"):                  # and no RuntimeWarning on the way
        y, dx = m(x), m.backward(g)
    t = make_t().double()
    xt = torch.from_numpy(x.astype(np.float64)).requires_grad_()
    t(xt).backward(torch.from_numpy(g.astype(np.float64)))
    # the input gradient is ~1/scale: compared relative to itself (atol would swallow it)
    torch.testing.assert_close(torch.from_numpy(y), t(xt).detach().float())
    torch.testing.assert_close(torch.from_numpy(dx * scale), (xt.grad * scale).float())
    y32 = make_t()(torch.from_numpy(x)).detach()
    assert ((y32 == 0) | y32.isnan()).all()          # the exact output is of order 1
