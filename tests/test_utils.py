"""npimpl.utils.clip_grad_norm_ / clip_grad_value_ against torch.nn.utils."""
import numpy as np
import pytest
import torch

from npimpl import Parameter
from npimpl.utils import clip_grad_norm_, clip_grad_value_

SHAPES = [(4, 3), (3,), (2, 2, 2)]


def twins(dtype, scale=1.0, seed=0):
    rng = np.random.default_rng(seed)
    gs = [(rng.standard_normal(s) * scale).astype(dtype) for s in SHAPES]
    nps, ts = [], []
    for g in gs:
        p = Parameter(np.zeros_like(g))
        p.grad = g.copy()
        t = torch.nn.Parameter(torch.zeros(g.shape, dtype=torch.from_numpy(g).dtype))
        t.grad = torch.from_numpy(g.copy())
        nps.append(p)
        ts.append(t)
    return nps, ts


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("norm_type", [2.0, float("inf"), 1.0, 3.0],
                         ids=["l2", "inf", "l1", "l3"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3], ids=["clipped", "unclipped"])
def test_clip_grad_norm_matches_torch(dtype, norm_type, max_norm):
    nps, ts = twins(dtype)
    total = clip_grad_norm_(nps, max_norm, norm_type)
    t_total = torch.nn.utils.clip_grad_norm_(ts, max_norm, norm_type)
    assert total.shape == () and total.dtype == dtype
    rtol = 1e-6 if dtype == np.float32 else 1e-14
    np.testing.assert_allclose(total, t_total.numpy(), rtol=rtol)
    for p, t in zip(nps, ts):
        np.testing.assert_allclose(p.grad, t.grad.numpy(), rtol=rtol, atol=0)


def test_clip_grad_norm_scales_to_max_norm_and_returns_the_norm_before():
    nps, _ = twins(np.float64, scale=10.0)
    before = np.sqrt(sum((p.grad ** 2).sum() for p in nps))
    total = clip_grad_norm_(nps, 1.0)
    np.testing.assert_allclose(total, before, rtol=1e-14)
    after = np.sqrt(sum((p.grad ** 2).sum() for p in nps))
    np.testing.assert_allclose(after, before / (before + 1e-6), rtol=1e-14)  # the 1e-6


def test_clip_grad_norm_leaves_small_gradients_alone():
    nps, _ = twins(np.float64, scale=1e-3)
    before = [p.grad.copy() for p in nps]
    clip_grad_norm_(nps, 1.0)
    for p, b in zip(nps, before):
        np.testing.assert_array_equal(p.grad, b)


def test_clip_grad_norm_skips_missing_grads_and_takes_one_parameter():
    nps, ts = twins(np.float64)
    nps[1].grad, ts[1].grad = None, None
    np.testing.assert_allclose(clip_grad_norm_(nps, 0.1),
                               torch.nn.utils.clip_grad_norm_(ts, 0.1).numpy(), rtol=1e-14)
    assert nps[1].grad is None
    np.testing.assert_allclose(clip_grad_norm_(nps[0], 0.01),
                               torch.nn.utils.clip_grad_norm_(ts[0], 0.01).numpy(), rtol=1e-14)
    np.testing.assert_allclose(nps[0].grad, ts[0].grad.numpy(), rtol=1e-14)
    assert clip_grad_norm_([Parameter(np.zeros(2))], 1.0) == 0.0


@pytest.mark.parametrize("bad", [np.nan, np.inf], ids=["nan", "inf"])
def test_clip_grad_norm_nonfinite(bad):
    nps, ts = twins(np.float64)
    nps[0].grad[0, 0] = ts[0].grad[0, 0] = bad
    with pytest.raises(RuntimeError, match="non-finite"):
        clip_grad_norm_(nps, 1.0, error_if_nonfinite=True)
    with pytest.raises(RuntimeError):
        torch.nn.utils.clip_grad_norm_(ts, 1.0, error_if_nonfinite=True)
    # without the error both scale by the non-finite norm anyway (NaN or 0)
    total = clip_grad_norm_(nps, 1.0)
    t_total = torch.nn.utils.clip_grad_norm_(ts, 1.0)
    np.testing.assert_array_equal(total, t_total.numpy())
    for p, t in zip(nps, ts):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_clip_grad_value_matches_torch(dtype):
    nps, ts = twins(dtype)
    nps[0].grad[0, :2] = ts[0].grad[0, :2] = torch.tensor([np.nan, -np.inf])
    clip_grad_value_(nps, 0.5)
    torch.nn.utils.clip_grad_value_(ts, 0.5)
    for p, t in zip(nps, ts):
        np.testing.assert_array_equal(p.grad, t.grad.numpy())
        assert np.nanmax(np.abs(p.grad)) <= 0.5


def test_clip_rejects_non_parameters():
    with pytest.raises(TypeError, match="Parameter"):
        clip_grad_norm_([np.ones(3)], 1.0)
    with pytest.raises(TypeError, match="Parameter"):
        clip_grad_value_([np.ones(3)], 1.0)
