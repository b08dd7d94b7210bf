"""PReLU (learned slopes, channel dim 1) and RReLU (random slopes) against torch's real
modules: RReLU's slopes are recovered from torch's own draw and replayed into npimpl, which
must then give torch's output and gradient bit for bit."""
import numpy as np
import pytest
import torch
from torch_side import assert_docstring_teaches, assert_signature_is_torchs

import npimpl
from reference.rrelu import SharedNoiseRReLU


# --- PReLU -------------------------------------------------------------------------------------
def test_prelu_slopes_sit_on_dim_1_and_accumulate_like_torch():
    x = np.random.default_rng(0).standard_normal((2, 3, 4))
    x[0, :, 0] = 0.0                                           # x = 0 takes the slope
    g = np.random.default_rng(1).standard_normal(x.shape)
    t = torch.nn.PReLU(3, dtype=torch.float64)
    with torch.no_grad():
        t.weight.copy_(torch.tensor([0.1, -0.7, 2.0]))
    m = npimpl.PReLU(3, dtype=np.float64)
    m.load_state_dict({"weight": t.weight.detach().numpy()})
    for _ in range(2):                                         # the weight gradient accumulates
        y, dx = m(x), m.backward(g)
        tx = torch.tensor(x, requires_grad=True)
        t(tx).backward(torch.tensor(g))
    np.testing.assert_allclose(y, t(torch.tensor(x)).detach().numpy(), rtol=1e-15)
    np.testing.assert_allclose(dx, tx.grad.numpy(), rtol=1e-15)
    np.testing.assert_allclose(m.weight.grad, t.weight.grad.numpy(), rtol=1e-13)


def test_prelu_init_is_a_constant_like_torch():
    m = npimpl.PReLU(5, init=-0.3)
    assert m.weight.shape == (5,) and m.weight.dtype == np.float32
    np.testing.assert_array_equal(m.weight.data, np.float32(-0.3))
    np.testing.assert_array_equal(torch.nn.PReLU(5, init=-0.3).weight.detach().numpy(),
                                  m.weight.data)


@pytest.mark.parametrize("shape,num", [((2, 4), 3), ((5,), 5), ((), 2), ((2, 3, 4), 4)])
def test_prelu_refuses_a_channel_count_torch_refuses(shape, num):
    with pytest.raises(ValueError, match=rf"PReLU: .*{num}"):
        npimpl.PReLU(num, dtype=np.float64)(np.zeros(shape))
    with pytest.raises(RuntimeError):
        torch.nn.PReLU(num, dtype=torch.float64)(torch.zeros(shape, dtype=torch.float64))


@pytest.mark.parametrize("shape", [(), (7,), (2, 3, 4, 5)])
def test_prelu_with_one_slope_takes_any_shape_like_torch(shape):
    x = np.random.default_rng(2).standard_normal(shape)
    m = npimpl.PReLU(dtype=np.float64)
    t = torch.nn.PReLU(dtype=torch.float64)
    y, ty = m(x), t(torch.tensor(x)).detach().numpy()
    assert y.shape == ty.shape == shape
    np.testing.assert_array_equal(y, ty)


def test_prelu_refuses_a_bad_num_parameters():
    with pytest.raises(ValueError, match="PReLU: num_parameters must be a positive int, got 0"):
        npimpl.PReLU(0)


# --- RReLU -------------------------------------------------------------------------------------
class ReplaySlopes:
    """Stands in for ``np.random.Generator``: ``uniform`` returns the given slopes."""

    def __init__(self, slopes):
        self.slopes = slopes

    def uniform(self, low, high, shape):
        assert tuple(shape) == self.slopes.shape
        return self.slopes.astype(np.float64)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("bounds", [(1 / 8, 1 / 3), (0.1, 0.9), (0.2, 0.2)],
                         ids=["default", "wide", "equal"])
def test_rrelu_reproduces_torch_with_torchs_slopes(bounds, dtype):
    # torch's kernel (what nn.RReLU calls) writes its draw into `noise`: replay it into npimpl
    torch.manual_seed(0)
    x = np.random.default_rng(3).standard_normal((20, 30)).astype(dtype)
    x[0, :5] = 0.0                                             # zero draws a slope too
    x[1, :3] = np.nan                                          # NaN does not (noise 1)
    g = np.random.default_rng(4).standard_normal(x.shape).astype(dtype)
    tx = torch.tensor(x, requires_grad=True)
    noise = torch.empty_like(tx)
    ty = torch.ops.aten.rrelu_with_noise(tx, noise, *bounds, True)
    ty.backward(torch.tensor(g))
    noise = noise.detach().numpy()
    neg = x <= 0
    assert (noise[neg] >= np.float32(bounds[0]) * (1 - 1e-6)).all()
    assert (noise[neg] <= np.float32(bounds[1]) * (1 + 1e-6)).all()
    assert (noise[~neg] == 1).all()
    if bounds[0] < bounds[1]:
        assert np.unique(noise[neg]).size > neg.sum() // 2     # one draw per element
    slopes = np.where(neg, noise, 0.5).astype(dtype)           # unused where x > 0
    ours = npimpl.RReLU(*bounds, rng=ReplaySlopes(slopes))
    np.testing.assert_array_equal(ours(x), ty.detach().numpy())      # bit for bit
    np.testing.assert_array_equal(ours.backward(g), tx.grad.numpy())
    np.testing.assert_array_equal(ours.noise, noise)


def test_rrelu_module_is_the_kernel_with_a_fresh_noise():
    # nn.RReLU in training: output x * noise with noise in [lower, upper] where x <= 0
    torch.manual_seed(1)
    x = torch.tensor([-1.0, -2.0, 0.0, 3.0], dtype=torch.float64, requires_grad=True)
    y = torch.nn.RReLU(0.1, 0.3)(x)
    y.backward(torch.ones(4, dtype=torch.float64))
    r = x.grad.numpy()
    np.testing.assert_array_equal(y.detach().numpy(), x.detach().numpy() * r)
    assert ((r[:3] >= 0.1) & (r[:3] <= 0.3)).all() and r[3] == 1


def test_rrelu_twin_applies_torchs_rule_to_the_numpy_draw():
    x = np.array([-1.0, 0.0, 2.0, np.nan, -0.5])
    m = npimpl.RReLU(rng=np.random.default_rng(5))
    y = m(x)
    twin = SharedNoiseRReLU(m, m.lower, m.upper)
    tx = torch.tensor(x, requires_grad=True)
    ty = twin(tx)
    ty.backward(torch.ones(5, dtype=torch.float64))
    np.testing.assert_array_equal(y, ty.detach().numpy())
    dx = m.backward(np.ones(5))
    np.testing.assert_array_equal(dx, tx.grad.numpy())
    assert dx[1] == m.slopes[1] and dx[2] == 1 and dx[3] == 1   # 0 takes a slope, NaN passes


def test_rrelu_eval_uses_the_mean_slope_and_draws_nothing():
    m = npimpl.RReLU(0.2, 0.4).eval()
    x = np.array([-1.0, 0.0, 3.0])
    np.testing.assert_allclose(m(x), [-0.3, 0.0, 3.0], rtol=1e-15)
    assert m.noise is None and m.slopes is None
    np.testing.assert_allclose(m.backward(np.ones(3)), [0.3, 0.3, 1.0], rtol=1e-15)


def test_rrelu_refuses_lower_above_upper_like_torch():
    with pytest.raises(ValueError, match=r"RReLU: lower bound should be less than or equal to "
                                         r"the upper bound, got lower=0.5, upper=0.1"):
        npimpl.RReLU(0.5, 0.1)
    with pytest.raises(RuntimeError, match="Lower bound should be less than or equal"):
        torch.nn.RReLU(0.5, 0.1)(torch.zeros(3))


@pytest.mark.parametrize("name", ["PReLU", "RReLU"])
def test_signature_and_docstring(name):
    assert_signature_is_torchs(name, skip=("dtype", "rng"))
    assert_docstring_teaches(name)
