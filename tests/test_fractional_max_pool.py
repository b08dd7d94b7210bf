"""FractionalMaxPool2d/3d: torch's window starts (in the input's dtype), which sample drives
which axis, the shared samples, the size checks, and ties — against torch with the same
samples."""
import inspect

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npimpl
from npimpl.fractional_max_pool import intervals
from reference import Spec, build, to_numpy, to_torch


def torch_pool(nd, x, kernel, out, u, return_indices=True):
    fn = F.fractional_max_pool2d if nd == 2 else F.fractional_max_pool3d
    return fn(x, kernel, out, return_indices=return_indices, _random_samples=to_torch(u))


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_window_starts_are_torchs_in_the_input_dtype(dtype):
    """One output column per start: with kernel 1 the pool returns x at the starts, so the
    indices of x = arange reveal torch's intervals exactly."""
    rng = np.random.default_rng(0)
    for size, out in [(50, 17), (101, 37), (7, 7), (9, 1), (1000, 333)]:
        u = rng.random((3, 2, 2), dtype=dtype)
        x = np.broadcast_to(np.arange(size, dtype=dtype), (3, 2, 1, size)).copy()
        _, idx = torch_pool(2, to_torch(x), (1, 1), (1, out), u)
        # the width is driven by sample 0 in 2-D
        assert np.array_equal(intervals(u[..., 0], size, out, 1), to_numpy(idx)[:, :, 0])


def test_float32_starts_can_differ_from_float64_as_in_torch():
    """torch computes the starts in the input's dtype: this u (a float32 number, exactly
    representable in float64 too) places window 61 of 74 over 250 elsewhere in float32."""
    u = np.full((1, 1, 2), np.float32(0.22580612))
    a, b = intervals(u[..., 0], 250, 74, 2), intervals(u[..., 0].astype(np.float64), 250, 74, 2)
    assert np.nonzero(a != b)[-1].tolist() == [61]
    for dt, want in ((np.float32, a), (np.float64, b)):
        x = np.broadcast_to(np.arange(250, dtype=dt), (1, 1, 1, 250)).copy()
        _, idx = torch_pool(2, to_torch(x), (1, 2), (1, 74), u.astype(dt))
        assert np.array_equal(to_numpy(idx)[:, :, 0] - 1, want)   # x increases: the max ends it


def test_samples_drive_width_then_height_in_2d_and_t_h_w_in_3d():
    # over 15 elements into 6 windows of 2, u = 0.1 and 0.3 place the windows differently
    x2 = np.arange(15 * 15.0).reshape(1, 1, 15, 15)
    u = np.array([[[0.3, 0.1]]])                       # torch: width 0.3, height 0.1
    m = npimpl.FractionalMaxPool2d(2, output_size=6, return_indices=True, _random_samples=u)
    y, idx = m(x2)
    ty, tidx = torch_pool(2, to_torch(x2), 2, 6, u)
    assert np.array_equal(idx, to_numpy(tidx)) and np.array_equal(y, to_numpy(ty))
    swapped = torch_pool(2, to_torch(x2), 2, 6, u[..., ::-1].copy())[1]
    assert not np.array_equal(idx, to_numpy(swapped))   # the order shows in the indices
    x3 = np.arange(15 ** 3.0).reshape(1, 1, 15, 15, 15)
    u3 = np.array([[[0.3, 0.1, 0.1]]])                 # torch: T, H, W
    m3 = npimpl.FractionalMaxPool3d(2, output_size=6, return_indices=True, _random_samples=u3)
    idx3 = m3(x3)[1]
    assert np.array_equal(idx3, to_numpy(torch_pool(3, to_torch(x3), 2, 6, u3)[1]))
    assert not np.array_equal(idx3, to_numpy(torch_pool(3, to_torch(x3), 2, 6,
                                                        u3[..., ::-1].copy())[1]))


def test_given_samples_are_a_buffer_like_torch():
    u = np.random.default_rng(2).random((2, 3, 2))
    m, t = build(Spec("FractionalMaxPool2d", 2, output_size=3, _random_samples=u), np.float64)
    assert list(m.state_dict()) == list(t.state_dict()) == ["_random_samples"]
    x = np.random.default_rng(3).standard_normal((2, 3, 6, 7))
    assert np.array_equal(m(x), m(x))                    # the same windows every time
    assert np.array_equal(m.random_samples, u)


def test_each_forward_draws_again_and_eval_mode_too():
    x = np.random.default_rng(4).standard_normal((4, 3, 9, 9))
    m = npimpl.FractionalMaxPool2d(2, output_ratio=0.5, rng=np.random.default_rng(5))
    m.eval()
    m(x)
    first = m.random_samples.copy()
    m(x)
    assert first.shape == (4, 3, 2) and not np.array_equal(first, m.random_samples)
    assert ((first >= 0) & (first < 1)).all() and first.dtype == np.float64


@pytest.mark.parametrize("nd,shape,kernel,out", [
    (2, (2, 3, 7, 9), (3, 2), (5, 6)), (2, (3, 8, 8), 2, (7, 7)),
    (3, (2, 2, 6, 5, 7), (2, 1, 3), (3, 4, 4))],
    ids=["2d-overlap", "2d-unbatched-max-output", "3d"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_ties_nan_and_gradients_bit_for_bit_like_torch(nd, shape, kernel, out, dtype):
    rng = np.random.default_rng(6)
    x = (rng.integers(-1, 2, shape) * rng.choice([1.0, -1.0], shape)).astype(dtype)
    x.reshape(-1)[::11] = np.nan
    m = getattr(npimpl, f"FractionalMaxPool{nd}d")(kernel, output_size=out, return_indices=True,
                                                   rng=np.random.default_rng(7))
    y, idx = m(x)
    g = rng.standard_normal(y.shape).astype(dtype)
    dx = m.backward(g, None)
    u = m.random_samples                          # (N, C, nd); (1, C, nd) when unbatched
    tx = to_torch(x, requires_grad=True)
    ty, tidx = torch_pool(nd, tx, kernel, out, u)
    ty.backward(to_torch(g))
    assert np.isnan(y).any()
    assert np.array_equal(y, to_numpy(ty), equal_nan=True)
    assert np.array_equal(np.signbit(y), np.signbit(to_numpy(ty)))
    assert np.array_equal(idx, to_numpy(tidx))
    assert np.array_equal(dx, to_numpy(tx.grad))


def test_output_ratio_and_empty_output_like_torch():
    x = np.random.default_rng(8).standard_normal((1, 2, 9, 7))
    m = npimpl.FractionalMaxPool2d(2, output_ratio=(0.5, 0.75))
    assert m(x).shape == (1, 2, 4, 5)                   # int(9 * 0.5), int(7 * 0.75)
    m = npimpl.FractionalMaxPool2d(2, output_ratio=0.1, return_indices=True)
    y, idx = m(x)
    ty, tidx = torch.nn.FractionalMaxPool2d(2, output_ratio=0.1, return_indices=True)(to_torch(x))
    assert y.shape == idx.shape == tuple(ty.shape) == (1, 2, 0, 0)
    assert m.backward(np.zeros(y.shape), None).shape == x.shape


def test_3d_needs_room_that_2d_does_not():
    # torch: O + k - 1 <= S in 2-D, but < S in 3-D
    x2, x3 = np.zeros((1, 1, 5, 5)), np.zeros((1, 1, 5, 5, 5))
    assert npimpl.FractionalMaxPool2d(2, output_size=4)(x2).shape == (1, 1, 4, 4)
    with pytest.raises(RuntimeError, match="too large"):
        torch.nn.FractionalMaxPool3d(2, output_size=4)(to_torch(x3))
    with pytest.raises(ValueError, match="FractionalMaxPool3d: pool time 2 too large"):
        npimpl.FractionalMaxPool3d(2, output_size=4)(x3)
    with pytest.raises(ValueError, match="FractionalMaxPool2d: pool width 2 too large"):
        npimpl.FractionalMaxPool2d(2, output_size=(4, 5))(x2)


BAD = [
    (lambda: npimpl.FractionalMaxPool2d(2), "exactly one of output_size and output_ratio"),
    (lambda: npimpl.FractionalMaxPool2d(2, 3, 0.5), "exactly one of"),
    (lambda: npimpl.FractionalMaxPool2d(2, output_ratio=1.0), "output_ratio must be"),
    (lambda: npimpl.FractionalMaxPool3d(2, output_ratio=(0.5, 0.5)), "output_ratio must be"),
    (lambda: npimpl.FractionalMaxPool3d(0, output_size=2), "kernel_size must be greater than 0"),
    (lambda: npimpl.FractionalMaxPool2d(2, output_size=-1), "output_size must be non-negative"),
    (lambda: npimpl.FractionalMaxPool2d(2, output_size=2, _random_samples=np.ones((1, 1, 2),
                                        np.float32))(np.zeros((1, 1, 5, 5))), "must have the input's dtype"),
    (lambda: npimpl.FractionalMaxPool2d(2, output_size=2, _random_samples=np.ones((1, 2, 2)))(
        np.zeros((1, 1, 5, 5))), r"shape \(>= 1, 1, 2\)"),
    (lambda: npimpl.FractionalMaxPool2d(2, output_size=2, _random_samples=np.full((1, 1, 2), 5.0))(
        np.zeros((1, 1, 5, 5))), r"must lie in \[0, 1\]"),
]


@pytest.mark.parametrize("fn,msg", BAD, ids=["neither", "both", "ratio-1", "ratio-length",
                                             "kernel-0", "size-negative", "samples-dtype",
                                             "samples-shape", "samples-range"])
def test_errors(fn, msg):
    with pytest.raises(ValueError, match=msg):
        fn()


def test_signature_matches_torch_plus_rng():
    ours = list(inspect.signature(npimpl.FractionalMaxPool2d).parameters)
    assert ours == list(inspect.signature(torch.nn.FractionalMaxPool2d).parameters) + ["rng",
                                                                                     "dtype"]
