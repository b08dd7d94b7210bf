"""AlphaDropout and FeatureAlphaDropout against torch's real kernels: recover torch's mask from
its output, replay the same draw into npimpl, and require identical outputs and gradients
(the catalogue's twin reuses our draw, so it cannot show that torch computes this formula)."""
import numpy as np
import pytest
import torch

from torch_side import assert_docstring_teaches

import npimpl
from npimpl.alpha_dropout import ALPHA


class ReplayRng:
    """``random(shape)`` keeps exactly the positions torch kept (1.0 >= p) and drops the rest."""

    def __init__(self, keep):
        self.keep = keep

    def random(self, shape):
        assert tuple(shape) == self.keep.shape
        return self.keep.astype(np.float64)


def _torch_run(cls, p, x):
    xt = torch.from_numpy(x.copy()).requires_grad_()
    y = cls(p)(xt)
    dy = np.random.default_rng(3).standard_normal(x.shape).astype(x.dtype)
    y.backward(torch.from_numpy(dy))
    return y.detach().numpy(), xt.grad.numpy(), dy


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("p", [0.2, 0.5, 0.9])
def test_alpha_dropout_reproduces_torch_with_torchs_mask(p, dtype):
    torch.manual_seed(0)
    x = np.random.default_rng(0).standard_normal((40, 50)).astype(dtype)
    y_t, dx_t, dy = _torch_run(torch.nn.AlphaDropout, p, x)
    keep = dx_t != 0                                          # dx = dy * a * m
    assert abs(keep.mean() - (1 - p)) < 0.05
    ours = npimpl.AlphaDropout(p)
    ours.rng = ReplayRng(keep)
    np.testing.assert_array_equal(ours(x), y_t)               # bit for bit
    np.testing.assert_array_equal(ours.backward(dy), dx_t)
    a = 1 / np.sqrt((ALPHA ** 2 * p + 1) * (1 - p))
    np.testing.assert_allclose(y_t[~keep], a * ALPHA * (p - 1), rtol=1e-6)   # the constant


@pytest.mark.parametrize("shape", [(6, 8), (6, 8, 5), (4, 5, 2, 3)])
def test_feature_alpha_dropout_reproduces_torch_channel_masks(shape):
    torch.manual_seed(1)
    x = np.random.default_rng(1).standard_normal(shape)
    y_t, dx_t, dy = _torch_run(torch.nn.FeatureAlphaDropout, 0.5, x)
    keep = (dx_t != 0).reshape(shape[:2] + (-1,)).any(axis=-1)
    ours = npimpl.FeatureAlphaDropout(0.5)
    ours.rng = ReplayRng(keep.reshape(shape[:2] + (1,) * (len(shape) - 2)))
    np.testing.assert_array_equal(ours(x), y_t)
    np.testing.assert_array_equal(ours.backward(dy), dx_t)
    assert ours.mask.shape == shape[:2] + (1,) * (len(shape) - 2)


def test_alpha_dropout_keeps_zero_mean_unit_variance():
    x = np.random.default_rng(2).standard_normal(200_000)
    y = npimpl.AlphaDropout(0.3, rng=np.random.default_rng(3))(x)
    assert abs(y.mean()) < 0.01 and abs(y.var() - 1) < 0.01
    y0 = npimpl.Dropout(0.3, rng=np.random.default_rng(3))(x)
    assert abs(y0.var() - 1) > 0.3                            # plain dropout inflates it


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_eval_and_p0_are_the_identity_and_p1_multiplies_by_zero(name):
    x = np.array([[1.0, np.nan], [-2.0, 3.0]])
    m = getattr(npimpl, name)(0.5).eval()
    np.testing.assert_array_equal(m(x), x)
    assert m.mask is None
    y = getattr(npimpl, name)(1.0)(x)
    t = getattr(torch.nn, name)(1.0)(torch.tensor(x)).numpy()
    np.testing.assert_array_equal(y, t)                       # zeros, NaN * 0 = NaN
    np.testing.assert_array_equal(getattr(npimpl, name)(0.0)(x), x)


def test_feature_alpha_dropout_refuses_1d_in_training_only_like_torch():
    x = np.zeros(5)
    with pytest.raises(ValueError, match="FeatureAlphaDropout: feature dropout requires at least "
                                         r"2 dimensions in the input, got shape \(5,\)"):
        npimpl.FeatureAlphaDropout(0.5)(x)
    with pytest.raises(RuntimeError):
        torch.nn.FeatureAlphaDropout(0.5)(torch.tensor(x))
    np.testing.assert_array_equal(npimpl.FeatureAlphaDropout(0.5).eval()(x), x)


def test_p_out_of_range_is_refused():
    with pytest.raises(ValueError, match="AlphaDropout: dropout probability has to be between 0 "
                                         "and 1, but got 1.5"):
        npimpl.AlphaDropout(1.5)


@pytest.mark.parametrize("name", ["AlphaDropout", "FeatureAlphaDropout"])
def test_docstring_teaches(name):
    assert_docstring_teaches(name)
