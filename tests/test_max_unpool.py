"""MaxUnpool1d/2d/3d: the round trip with MaxPool, torch's output_size rule, repeated indices
(last write wins forward, every one gets the gradient backward), errors."""
import numpy as np
import pytest
import torch

import npimpl
from reference import to_numpy, to_torch


def both(nd, x, idx, g=None, **kw):
    m, t = getattr(npimpl, f"MaxUnpool{nd}d"), getattr(torch.nn, f"MaxUnpool{nd}d")
    ctor = {k: v for k, v in kw.items() if k != "output_size"}
    fwd = {k: v for k, v in kw.items() if k == "output_size"}
    m, t = m(**ctor), t(**ctor)
    y = m(x, idx, **fwd)
    tx = to_torch(x, requires_grad=True)
    ty = t(tx, to_torch(idx), **fwd)
    g = np.random.default_rng(0).standard_normal(y.shape) if g is None else g
    ty.backward(to_torch(g))
    dx, di = m.backward(g)
    assert di is None
    return (y, dx), (to_numpy(ty), to_numpy(tx.grad))


def test_repeated_indices_keep_the_last_forward_and_all_get_the_gradient():
    x, idx = np.array([[[1.0, 2.0, 3.0]]]), np.array([[[1, 1, 0]]])
    (y, dx), (ty, tdx) = both(1, x, idx, g=np.array([[[10.0, 20.0, 30.0, 40.0, 50.0, 60.0]]]),
                              kernel_size=2)
    assert y.tolist() == ty.tolist() == [[[3.0, 2.0, 0.0, 0.0, 0.0, 0.0]]]
    assert dx.tolist() == tdx.tolist() == [[[20.0, 20.0, 10.0]]]   # not the forward's derivative


@pytest.mark.parametrize("nd,shape,pool", [
    (1, (2, 3, 9), dict(kernel_size=3, stride=2, padding=1)),
    (2, (2, 3, 6, 7), dict(kernel_size=3, stride=1)),
    (3, (1, 2, 4, 5, 6), dict(kernel_size=2, stride=1))],
    ids=["1d-overlap", "2d-overlap", "3d-overlap"])
def test_overlapping_pool_round_trip_like_torch(nd, shape, pool):
    """Overlapping windows choose the same input several times (on ties and plain maxima)."""
    x0 = np.random.default_rng(1).integers(-1, 2, shape).astype(np.float64)
    _, idx = getattr(npimpl, f"MaxPool{nd}d")(**pool, return_indices=True)(x0)
    flat = idx.reshape(-1, idx[0, 0].size)
    assert any(len(np.unique(r)) < r.size for r in flat)        # repeats do occur
    x = np.random.default_rng(2).standard_normal(idx.shape)
    (y, dx), (ty, tdx) = both(nd, x, idx, output_size=shape[2:], **pool)
    assert np.array_equal(y, ty) and np.array_equal(dx, tdx)


@pytest.mark.parametrize("output_size,ok", [((5, 7), True), ((1, 1, 4, 6), True), ((3, 5), True),
                                            ((6, 7), False), ((2, 6), False), ((1, 4, 6), False)],
                         ids=["odd", "with-n-c", "smallest", "a-stride-above", "a-stride-below",
                              "three"])
def test_output_size_range_like_torch(output_size, ok):
    """Default (H-1)*stride + k - 2*padding = 4 x 6; allowed strictly within a stride of it."""
    x, idx = np.ones((1, 1, 2, 3)), np.zeros((1, 1, 2, 3), np.int64)
    m, t = npimpl.MaxUnpool2d(2), torch.nn.MaxUnpool2d(2)
    if ok:
        assert m(x, idx, output_size=output_size).shape == tuple(
            t(to_torch(x), to_torch(idx), output_size=output_size).shape)
    else:
        with pytest.raises(ValueError):
            t(to_torch(x), to_torch(idx), output_size=output_size)
        with pytest.raises(ValueError, match="MaxUnpool2d: .*output_size"):
            m(x, idx, output_size=output_size)


def test_unbatched_like_torch():
    x = np.random.default_rng(3).standard_normal((3, 2, 2, 2))
    idx = np.random.default_rng(4).integers(0, 4 * 4 * 4, x.shape)
    (y, dx), (ty, tdx) = both(3, x, idx, kernel_size=2)
    assert y.shape == (3, 4, 4, 4) and np.array_equal(y, ty) and np.array_equal(dx, tdx)


@pytest.mark.parametrize("idx,exc,msg", [
    (np.array([[[0, 6, 1]]]), IndexError, "MaxUnpool1d: found an invalid max index 6"),
    (np.array([[[0, -1, 1]]]), IndexError, "invalid max index -1"),
    (np.array([[[0, 1, 2]]], np.int32), TypeError, "indices must be an int64"),
    (np.array([[[0, 1]]]), ValueError, "indices must have the input's shape"),
], ids=["past-the-end", "negative", "int32", "shape"])
def test_bad_indices_like_torch(idx, exc, msg):
    x = np.ones((1, 1, 3))
    with pytest.raises(RuntimeError):
        torch.nn.MaxUnpool1d(2)(to_torch(x), torch.as_tensor(idx))
    with pytest.raises(exc, match=msg):
        npimpl.MaxUnpool1d(2)(x, idx)


def test_bad_constructor_arguments_and_list_indices():
    with pytest.raises(TypeError, match="MaxUnpool1d: indices must be an int64 numpy.ndarray"):
        npimpl.MaxUnpool1d(2)(np.ones((1, 1, 3)), [[[0, 1, 2]]])
    with pytest.raises(ValueError, match="MaxUnpool3d: kernel_size and stride must be positive"):
        npimpl.MaxUnpool3d(2, stride=0)
    with pytest.raises(ValueError, match=r"MaxUnpool2d: the output size \(0, 0\)"):
        npimpl.MaxUnpool2d(2, padding=2)(np.ones((1, 1, 2, 2)), np.zeros((1, 1, 2, 2), np.int64))
