"""BatchNorm1d / BatchNorm2d: the hidden state (unbiased running variance, momentum's
direction, cumulative average, num_batches_tracked) and the errors, with hand-made numbers."""
import inspect

import numpy as np
import pytest
import torch

import npimpl


@pytest.mark.parametrize("name", ["BatchNorm1d", "BatchNorm2d", "BatchNorm3d", "InstanceNorm1d",
                                  "InstanceNorm2d", "InstanceNorm3d"])
def test_signature_matches_torch(name):
    def sig(cls):
        return [(n, p.default, p.kind) for n, p in inspect.signature(cls).parameters.items()
                if n not in ("dtype", "device")]
    assert sig(getattr(npimpl, name)) == sig(getattr(torch.nn, name))


@pytest.mark.parametrize("kw", [{}, {"affine": False}, {"track_running_stats": False},
                                {"bias": False}], ids=["default", "noaffine", "notrack", "nobias"])
def test_state_dict_keys_shapes_and_dtypes_match_torch(kw):
    ours = npimpl.BatchNorm1d(3, **kw, dtype=np.float64).state_dict()
    theirs = torch.nn.BatchNorm1d(3, **kw, dtype=torch.float64).state_dict()
    assert list(ours) == list(theirs)
    for k, v in theirs.items():
        assert ours[k].shape == tuple(v.shape), k
        assert ours[k].dtype == v.numpy().dtype, k          # num_batches_tracked: int64, 0-d


def test_training_normalises_with_biased_but_stores_unbiased_variance():
    """Batch (0, 2): mean 1, biased variance 1, unbiased 2. torch's momentum is the weight of
    the new batch: running_var = 0.9 * 1 + 0.1 * 2 (Keras's 0.1 would weigh the old one)."""
    # eps must be positive in training (torch refuses 0); 1 + 1e-300 rounds to 1 exactly
    m = npimpl.BatchNorm1d(1, eps=1e-300, momentum=0.1, dtype=np.float64)
    y = m(np.array([[0.0], [2.0]]))
    np.testing.assert_allclose(y, [[-1.0], [1.0]], rtol=1e-15)
    np.testing.assert_allclose(m.running_mean, [0.9 * 0 + 0.1 * 1], rtol=1e-15)
    np.testing.assert_allclose(m.running_var, [0.9 * 1 + 0.1 * 2], rtol=1e-15)
    assert m.num_batches_tracked == 1 and m.num_batches_tracked.dtype == np.int64


def test_momentum_none_is_the_cumulative_average():
    m = npimpl.BatchNorm1d(2, momentum=None, dtype=np.float64)
    rng = np.random.default_rng(0)
    batches = [rng.standard_normal((5, 2)) * (k + 1) + k for k in range(3)]
    for b in batches:
        m(b)
    np.testing.assert_allclose(m.running_mean, np.mean([b.mean(0) for b in batches], 0),
                               rtol=1e-13)
    np.testing.assert_allclose(m.running_var, np.mean([b.var(0, ddof=1) for b in batches], 0),
                               rtol=1e-13)
    assert int(m.num_batches_tracked) == 3


def test_eval_uses_running_stats_and_leaves_them_alone():
    m = npimpl.BatchNorm2d(2, eps=0.0, dtype=np.float64)
    m.running_mean[...] = [1.0, -1.0]
    m.running_var[...] = [4.0, 0.25]
    m.eval()
    x = np.ones((1, 2, 1, 1))                     # one value per channel is fine in eval
    np.testing.assert_allclose(m(x).reshape(-1), [(1 - 1) / 2, (1 + 1) / 0.5])
    np.testing.assert_array_equal(m.running_mean, [1.0, -1.0])
    assert int(m.num_batches_tracked) == 0


@pytest.mark.parametrize("cls,shape", [
    (npimpl.BatchNorm1d, (1, 3)), (npimpl.BatchNorm1d, (1, 3, 1)),
    (npimpl.BatchNorm2d, (1, 3, 1, 1)), (npimpl.BatchNorm3d, (1, 3, 1, 1, 1)),
], ids=["1d-2d", "1d-3d", "2d", "3d"])
@pytest.mark.parametrize("kw,train", [({}, True), ({"track_running_stats": False}, False)],
                         ids=["train", "eval-notrack"])
def test_one_value_per_channel_raises_like_torch(cls, shape, kw, train):
    ours = cls(3, **kw).train(train)
    theirs = getattr(torch.nn, cls.__name__)(3, **kw).train(train)
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        theirs(torch.zeros(shape))
    with pytest.raises(ValueError, match="Expected more than 1 value per channel when training"):
        ours(np.zeros(shape, np.float32))


@pytest.mark.parametrize("cls,shape,msg", [
    (npimpl.BatchNorm1d, (2, 3, 4, 5), r"expected 2D or 3D input \(got 4D input\)"),
    (npimpl.BatchNorm2d, (2, 3, 4), r"expected 4D input \(got 3D input\)"),
    (npimpl.BatchNorm3d, (2, 3, 4, 4), r"expected 5D input \(got 4D input\)"),
    (npimpl.BatchNorm1d, (2, 4), "expected input with 3 channels in dim 1"),
], ids=["1d-rank", "2d-rank", "3d-rank", "channels"])
def test_bad_input_raises(cls, shape, msg):
    with pytest.raises(ValueError, match=msg):
        cls(3)(np.zeros(shape, np.float32))


def test_backward_is_the_full_one_against_finite_differences():
    """Independent of torch: central differences of sum(y * g) through mean and variance."""
    rng = np.random.default_rng(1)
    x, g = rng.standard_normal((4, 3, 2)), rng.standard_normal((4, 3, 2))
    m = npimpl.BatchNorm1d(3, dtype=np.float64)
    m.weight.data[...] = [0.5, -2.0, 1.5]
    m(x)
    dx = m.backward(g)
    num = np.zeros_like(x)
    h = 1e-6
    for i in np.ndindex(x.shape):
        xp, xm = x.copy(), x.copy()
        xp[i] += h
        xm[i] -= h
        num[i] = ((m(xp) * g).sum() - (m(xm) * g).sum()) / (2 * h)
    np.testing.assert_allclose(dx, num, rtol=1e-6, atol=1e-8)


def test_empty_batch_counts_but_leaves_the_running_stats_like_torch():
    ours, theirs = npimpl.BatchNorm1d(3, dtype=np.float64), torch.nn.BatchNorm1d(3).double()
    y = ours(np.zeros((0, 3)))
    theirs(torch.zeros(0, 3, dtype=torch.float64))
    assert y.shape == (0, 3)
    np.testing.assert_array_equal(ours.running_mean, theirs.running_mean.numpy())
    np.testing.assert_array_equal(ours.running_var, theirs.running_var.numpy())
    assert int(ours.num_batches_tracked) == int(theirs.num_batches_tracked) == 1
