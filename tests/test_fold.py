"""Fold / Unfold: the column layout (a convolution is a matmul with it), Fold as Unfold's
adjoint and not its inverse, and torch's argument and shape errors."""
import numpy as np
import pytest
import torch

import npimpl
from reference import to_numpy, to_torch
from torch_signature import assert_signature_matches_torch


@pytest.mark.parametrize("name", ["Fold", "Unfold"])
def test_signature_matches_torch(name):
    assert_signature_matches_torch(name)


def test_weight_times_columns_is_a_convolution():
    """Columns ordered (c, a, b), channel outermost: a flattened Conv2d weight times them is
    the convolution, reshaped to the block grid."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((2, 3, 6, 5)), rng.standard_normal((4, 3, 2, 3))
    kw = dict(dilation=(2, 1), padding=1, stride=(1, 2))
    cols = npimpl.Unfold((2, 3), **kw)(x)                          # (N, C*kh*kw, L)
    conv = torch.nn.functional.conv2d(to_torch(x), to_torch(w), **kw)
    np.testing.assert_allclose((w.reshape(4, -1) @ cols).reshape(conv.shape), to_numpy(conv),
                               rtol=1e-12, atol=1e-13)


def test_fold_is_the_adjoint_of_unfold_not_its_inverse():
    rng = np.random.default_rng(1)
    args = ((3, 2), dict(dilation=(1, 2), padding=(1, 0), stride=(2, 1)))
    unfold, fold = npimpl.Unfold(args[0], **args[1]), npimpl.Fold((7, 6), args[0], **args[1])
    x = rng.standard_normal((2, 2, 7, 6))
    cols = unfold(x)
    c = rng.standard_normal(cols.shape)
    assert abs(np.vdot(cols, c) - np.vdot(x, fold(c))) < 1e-12 * np.abs(cols).sum()
    cover = fold(unfold(np.ones_like(x)))          # how many blocks cover each pixel
    assert cover.max() > 1
    np.testing.assert_allclose(fold(cols), x * cover, rtol=1e-13)
    np.testing.assert_allclose(fold(cols) / cover, x, rtol=1e-13)


def test_unbatched_and_backward_pairs():
    rng = np.random.default_rng(2)
    u, f = npimpl.Unfold(2, stride=2), npimpl.Fold((4, 6), 2, stride=2)
    x = rng.standard_normal((3, 4, 6))
    cols = u(x)
    assert cols.shape == (12, 6)
    assert np.array_equal(f(cols), x)              # non-overlapping blocks: an exact inverse
    assert np.array_equal(u.backward(cols), f(cols))
    assert np.array_equal(f.backward(x), u(x))


@pytest.mark.parametrize("make,shape,match", [
    (lambda: npimpl.Unfold(5), (2, 3, 4, 5), "too small"),
    (lambda: npimpl.Unfold(2), (2, 3, 4, 5, 6), "must be 3-D or 4-D"),
    (lambda: npimpl.Unfold(2), (2, 0, 4, 5), "non-empty"),
    (lambda: npimpl.Fold((4, 5), 2), (2, 12, 11), "blocks"),
    (lambda: npimpl.Fold((4, 5), 2), (2, 11, 12), "divisible"),
    (lambda: npimpl.Fold((2, 2), 3), (2, 18, 1), "blocks"),
    (lambda: npimpl.Fold((4, 5), 2), (1, 2, 12, 12), "must be 2-D or 3-D"),
])
def test_shape_errors(make, shape, match):
    m = make()
    with pytest.raises(ValueError, match=type(m).__name__ + ".*" + match):
        m(np.zeros(shape))
    t = getattr(torch.nn, type(m).__name__)(
        *([m.output_size] if isinstance(m, npimpl.Fold) else []), m.kernel_size)
    with pytest.raises(RuntimeError):
        t(to_torch(np.zeros(shape)))


@pytest.mark.parametrize("kw,match", [
    (dict(kernel_size=(3,)), "kernel_size must be an int or a tuple of 2"),   # no broadcast
    (dict(kernel_size=(2, 2, 2)), "kernel_size must be an int or a tuple of 2"),
    (dict(kernel_size=0), "kernel_size must be >= 1"),
    (dict(kernel_size=2, stride=0), "stride must be >= 1"),
    (dict(kernel_size=2, dilation=0), "dilation must be >= 1"),
    (dict(kernel_size=2, padding=-1), "padding must be >= 0"),
])
def test_argument_errors(kw, match):
    with pytest.raises(ValueError, match="Unfold: " + match):
        npimpl.Unfold(**kw)
    with pytest.raises(RuntimeError):
        torch.nn.Unfold(**kw)(torch.zeros(1, 1, 4, 4))
