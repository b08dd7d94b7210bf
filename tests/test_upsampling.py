"""Upsample: torch's index maps on a seeded sweep of sizes and scale factors, the float32
arithmetic that picks a nearest neighbour, each mode's shortcut, and the configurations where
torch's backward is not the gradient of its own forward (measured, not compared against)."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import npimpl
from npimpl.interpolate import axis_taps, interp_backward, interp_forward, nearest_taps
from reference import to_numpy, to_torch
from torch_signature import assert_signature_matches_torch

DIMS = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


def torch_run(kw, x, g=None):
    tx = to_torch(x, requires_grad=True)
    y = torch.nn.Upsample(**kw)(tx)
    if g is None:
        return to_numpy(y), None
    y.backward(to_torch(g))
    return to_numpy(y), to_numpy(tx.grad)


@pytest.mark.parametrize("name", ["Upsample", "UpsamplingNearest2d", "UpsamplingBilinear2d"])
def test_signature_matches_torch(name):
    assert_signature_matches_torch(name)


def torch_backward_taps(m, x, y):
    """The per-axis maps torch's *backward* kernels use for ``m`` on ``x``: for the nearest
    modes the float32 ``nearest_idx`` rule (with 'nearest''s same-size and double-size
    shortcuts) in every dim; for bicubic a copy when every size is unchanged and a scale
    factor was passed down; otherwise the forward's maps."""
    taps, (ins, outs) = m._cache.taps, (x.shape[2:], y.shape[2:])
    scales = m._out_sizes(x)[1]
    if m.mode in ("nearest", "nearest-exact"):
        return tuple(nearest_taps(i, o, s, m.mode == "nearest-exact", np.float32, False)
                     for i, o, s in zip(ins, outs, scales))
    if m.mode == "bicubic" and ins == outs and scales[0] is not None:
        return tuple(axis_taps("linear", i, i, None, False, np.float64, 2) for i in ins)
    return taps


def same_maps(a, b):
    return all(np.array_equal(p.idx, q.idx) and np.array_equal(p.w, q.w) for p, q in zip(a, b))


def random_config(mode, rng):
    d = DIMS.get(mode, int(rng.integers(1, 4)))
    sizes = tuple(int(s) for s in rng.integers(1, 8, d))
    kw = dict(mode=mode)
    if rng.random() < 0.4:
        kw["size"] = tuple(int(s) for s in rng.integers(1, 14, d))
    else:
        sf = tuple(float(np.round(rng.uniform(0.5, 3.2), int(rng.integers(0, 4)))) for _ in range(d))
        kw["scale_factor"] = sf if rng.random() < 0.5 else sf[0]
        if rng.random() < 0.3:
            kw["recompute_scale_factor"] = True
    if mode in DIMS and rng.random() < 0.5:
        kw["align_corners"] = True
    return sizes, kw


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("mode", ["nearest", "nearest-exact", "linear", "bilinear", "bicubic",
                                  "trilinear", "area"])
def test_random_configs_match_torch(mode, dtype):
    """12 random sizes / scale factors / options per mode: nearest modes bit-identical to torch
    (its index arithmetic included), interpolating modes within rounding. torch's input
    gradient is the adjoint of :func:`torch_backward_taps`; where those are the forward's maps
    it is npimpl's gradient too (where they are not: the next test)."""
    rng = np.random.default_rng(len(mode) + (dtype == np.float32))
    tol = dict(rtol=1e-12, atol=1e-14) if dtype == np.float64 else dict(rtol=1.3e-6, atol=1e-5)
    checked = compared = 0
    while checked < 12:
        sizes, kw = random_config(mode, rng)
        m = npimpl.Upsample(**kw)
        x = rng.standard_normal((2, 2) + sizes).astype(dtype)
        try:
            y = m(x)
        except ValueError:                 # an output size below 1: torch refuses it too
            with pytest.raises(RuntimeError):
                torch_run(kw, x)
            continue
        if y.size == 0:                    # area: torch's backward refuses an empty output
            continue
        g = rng.standard_normal(y.shape).astype(dtype)
        ty, tdx = torch_run(kw, x, g)
        if mode.startswith("nearest"):
            assert np.array_equal(y, ty), (sizes, kw)
        else:
            np.testing.assert_allclose(y, ty, **tol, err_msg=str((sizes, kw)))
        theirs = torch_backward_taps(m, x, y)
        np.testing.assert_allclose(interp_backward(g, theirs, sizes), tdx, **tol,
                                   err_msg=str((sizes, kw)))
        if same_maps(theirs, m._cache.taps):
            np.testing.assert_allclose(m.backward(g), tdx, **tol, err_msg=str((sizes, kw)))
            compared += 1
        checked += 1
    assert compared >= 6


@pytest.mark.parametrize("mode,sizes,scale", [
    ("nearest", (5,), 1.1),              # unchanged size: torch's backward copies
    ("nearest", (5,), 2.104),            # doubled size: torch's backward halves the index
    ("nearest", (2, 3, 4), (1.0, 1.1, 2.05)),
    ("bicubic", (8, 3), 1.1),            # every size unchanged: torch's backward copies
])
def test_where_torch_backward_is_not_the_adjoint_of_its_forward(mode, sizes, scale):
    """torch's forward follows the scale factor while its backward takes a shortcut: its
    gradient is then the adjoint of the shortcut map, not of the map its forward applied.
    npimpl's backward is the adjoint of npimpl's forward (which is torch's forward)."""
    rng = np.random.default_rng(0)
    kw = dict(scale_factor=scale, mode=mode)
    x = rng.standard_normal((1, 2) + sizes)
    m = npimpl.Upsample(**kw)
    y = m(x)
    g = rng.standard_normal(y.shape)
    ty, tdx = torch_run(kw, x, g)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-14)           # same forward
    dx = m.backward(g)
    assert abs(np.vdot(y, g) - np.vdot(x, dx)) < 1e-12 * np.abs(y).sum()  # ours: the adjoint
    assert not np.allclose(dx, tdx, rtol=1e-6, atol=1e-6)               # torch's: not
    # torch's gradient is exactly the adjoint of its backward kernels' shortcut maps
    np.testing.assert_allclose(interp_backward(g, torch_backward_taps(m, x, y), sizes), tdx,
                               rtol=1e-12, atol=1e-14)


@pytest.mark.parametrize("mode,n_in,n_out,j,forward,backward", [
    ("nearest", 26, 22, 11, 13, 12),
    ("nearest-exact", 2, 41, 20, 1, 0),
])
def test_1d_forward_and_backward_round_differently(mode, n_in, n_out, j, forward, backward):
    """In float64, torch's 1-D forward computes the source position in double and its
    backward in float32: 26 → 22 pixels, output 11 sits at 11*26/22 = 13, which the forward
    copies, while the backward's float32 product 12.999999 sends the gradient to pixel 12."""
    x = np.arange(float(n_in)).reshape(1, 1, n_in)
    m = npimpl.Upsample(size=n_out, mode=mode)
    y = m(x)
    assert y[0, 0, j] == forward
    assert np.array_equal(y, torch_run(dict(size=n_out, mode=mode), x)[0])
    g = np.zeros_like(y)
    g[0, 0, j] = 1.0
    _, tdx = torch_run(dict(size=n_out, mode=mode), x, g)
    assert int(np.argmax(m.backward(g)[0, 0])) == forward      # ours: where forward read
    assert int(np.argmax(tdx[0, 0])) == backward               # torch's: elsewhere


def test_float32_arithmetic_picks_the_nearest_neighbour():
    """2-D: 26 pixels to 22, output 11 sits at exactly 11*26/22 = 13, but torch's 2-D kernel
    multiplies in float32 by 26/22 rounded down, lands on 12.999999 and copies pixel 12 (its
    1-D kernel, in double, copies 13). nearest-exact: 2 pixels to 41, output 20 sits at
    20.5*2/41 = 1 exactly; float32 gives 0.99999994 → pixel 0."""
    for mode, n_in, n_out, j, exact, chosen in [("nearest", 26, 22, 11, 13, 12),
                                                 ("nearest-exact", 2, 41, 20, 1, 0)]:
        x = np.arange(float(n_in)).reshape(1, 1, 1, n_in)
        kw = dict(size=(1, n_out), mode=mode)
        y = npimpl.Upsample(**kw)(x)
        assert y[0, 0, 0, j] == chosen != exact
        assert np.array_equal(y, torch_run(kw, x)[0])


@pytest.mark.parametrize("mode,shape,kw,expected", [
    # 1-D nearest follows 1/scale_factor; 2-D nearest copies the unchanged axis
    ("nearest", (1, 1, 5), dict(scale_factor=1.1), [0, 0, 1, 2, 3]),
    ("nearest", (1, 1, 1, 5), dict(scale_factor=(1.0, 1.1)), [0, 1, 2, 3, 4]),
    ("nearest", (1, 1, 5), dict(scale_factor=2.104), [0, 0, 0, 1, 1, 2, 2, 3, 3, 4]),
    ("nearest", (1, 1, 1, 5), dict(scale_factor=(1.0, 2.104)), [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
    # the same 2.104 recomputed as in/out = 1/2
    ("nearest", (1, 1, 5), dict(scale_factor=2.104, recompute_scale_factor=True),
     [0, 0, 1, 1, 2, 2, 3, 3, 4, 4]),
    ("nearest-exact", (1, 1, 5), dict(scale_factor=1.6), [0, 0, 1, 2, 2, 3, 4, 4]),
    # linear: an unchanged size is copied whatever the scale factor
    ("linear", (1, 1, 5), dict(scale_factor=1.1), [0, 1, 2, 3, 4]),
])
def test_index_maps(mode, shape, kw, expected):
    x = np.broadcast_to(np.arange(float(shape[-1])), shape).copy()
    y = npimpl.Upsample(mode=mode, **kw)(x)
    assert y.reshape(-1, y.shape[-1])[0].tolist() == expected
    assert np.array_equal(y, torch_run(dict(mode=mode, **kw), x)[0])


def test_align_corners_maps_corner_to_corner():
    x = np.array([[[0.0, 3.0]]])
    assert npimpl.Upsample(size=4, mode="linear", align_corners=True)(x).ravel().tolist() == \
        [0.0, 1.0, 2.0, 3.0]
    # half-pixel centres: outputs at (j + 0.5)/2 - 0.5 = -0.25, 0.25, 0.75, 1.25, clamped
    assert npimpl.Upsample(size=4, mode="linear")(x).ravel().tolist() == [0.0, 0.75, 2.25, 3.0]


def test_bicubic_border_pixel_collects_clamped_taps():
    """Output 0 of 2 → 4 reads positions -2..1 (source -0.25), clamped to 0, 0, 0, 1: the
    border pixel's gradient is the sum of three cubic weights."""
    m = npimpl.Upsample(scale_factor=2, mode="bicubic")
    m(np.zeros((1, 1, 1, 2)))
    g = np.zeros((1, 1, 2, 4))
    g[0, 0, 0, 0] = 1.0
    dx = m.backward(g)
    t = 0.75                     # the fraction of -0.25 above floor(-0.25) = -1
    w = npimpl.interpolate.cubic_weights(np.array([t]))[0]
    np.testing.assert_allclose(dx[0, 0, 0], [w[0] + w[1] + w[2], w[3]], rtol=1e-15)
    assert w[0] + w[1] + w[2] > 1      # the clamped taps overshoot: A = -0.75 is negative


def test_separable_application_equals_the_dense_product():
    """interp_forward applies the per-axis maps; it is the dense Kronecker product."""
    rng = np.random.default_rng(1)
    taps = [axis_taps("bicubic", 3, 5, None, False, np.float64, 2),
            axis_taps("bicubic", 4, 2, None, True, np.float64, 2)]
    mats = []
    for tp, n_in in zip(taps, (3, 4)):
        a = np.zeros((tp.idx.shape[0], n_in))
        np.add.at(a, (np.arange(tp.idx.shape[0])[:, None], tp.idx), tp.w)
        mats.append(a)
    x = rng.standard_normal((2, 3, 4))
    np.testing.assert_allclose(interp_forward(x, taps), mats[0] @ x @ mats[1].T, rtol=1e-13)


@pytest.mark.parametrize("kw,shape,match", [
    (dict(scale_factor=2, mode="bilinear"), (1, 2, 4), "needs a 4-D input"),
    (dict(scale_factor=2, mode="linear"), (1, 2, 4, 4), "needs a 3-D input"),
    (dict(scale_factor=2, mode="trilinear"), (1, 2, 4, 4), "needs a 5-D input"),
    (dict(scale_factor=2), (2, 4), "must be 3-D or 4-D or 5-D"),         # no unbatched form
    (dict(size=(2, 3)), (1, 1, 4), "one entry per spatial dim"),
    (dict(scale_factor=(2.0,)), (1, 1, 4, 4), "one entry per spatial dim"),
    (dict(scale_factor=0.2), (1, 1, 4), "output size >= 1"),
    (dict(size=3), (1, 0, 4), "non-empty channels"),
])
def test_bad_shapes_are_refused_where_torch_refuses(kw, shape, match):
    with pytest.raises(ValueError, match=match):
        npimpl.Upsample(**kw)(np.zeros(shape))
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        torch_run(kw, np.zeros(shape))


@pytest.mark.parametrize("kw,match", [
    (dict(), "exactly one of size or scale_factor"),
    (dict(size=2, scale_factor=2), "exactly one of size or scale_factor"),
    (dict(scale_factor=0), "exactly one of size or scale_factor"),     # 0 means unset in torch
    (dict(size=2, mode="nearest", align_corners=True), "align_corners"),
    (dict(size=2, recompute_scale_factor=True), "recompute_scale_factor"),
    (dict(size=2, mode="lanczos"), "mode must be one of"),
])
def test_bad_arguments(kw, match):
    with pytest.raises(ValueError, match=match):
        npimpl.Upsample(**kw)


def test_size_must_be_integers():
    with pytest.raises(TypeError, match="size must be an int"):
        npimpl.Upsample(size=2.5)


def test_aliases_are_upsample_with_fixed_modes():
    assert npimpl.UpsamplingBilinear2d(scale_factor=2).align_corners is True
    # UpsamplingNearest2d is plain 'nearest': a 3-D input is resampled in 1-D, as in torch
    x = np.arange(3.0).reshape(1, 1, 3)
    y = npimpl.UpsamplingNearest2d(scale_factor=2)(x)
    assert np.array_equal(y, to_numpy(torch.nn.UpsamplingNearest2d(scale_factor=2)(to_torch(x))))


@given(data=st.data())
def test_fuzz_against_torch(data):
    """Hypothesis draws the mode, the sizes (1 to 9), a size or a scale factor (0.2 to 4, up
    to 3 decimals, one or one per dim), align_corners and recompute_scale_factor, and values
    in [-100, 100] (or integers there): both refuse, or the forwards agree (nearest bit for bit) and torch's input
    gradient is the adjoint of :func:`torch_backward_taps`, which is npimpl's gradient where
    those maps are the forward's. ``--hypothesis-profile=long`` for 500 draws."""
    mode = data.draw(st.sampled_from(["nearest", "nearest-exact", "linear", "bilinear",
                                      "bicubic", "trilinear", "area"]), label="mode")
    d = DIMS.get(mode) or data.draw(st.integers(1, 3), label="dims")
    sizes = tuple(data.draw(st.lists(st.integers(1, 9), min_size=d, max_size=d)))
    kw = dict(mode=mode)
    if data.draw(st.booleans(), label="by size"):
        kw["size"] = tuple(data.draw(st.lists(st.integers(1, 12), min_size=d, max_size=d)))
    else:
        factor = st.integers(200, 4000).map(lambda k: k / 1000)
        kw["scale_factor"] = data.draw(st.one_of(factor, st.tuples(*[factor] * d)))
        kw["recompute_scale_factor"] = data.draw(st.sampled_from([None, False, True]))
    if mode in DIMS:
        kw["align_corners"] = data.draw(st.booleans(), label="align_corners")
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.uniform(-100, 100, (2, 2) + sizes)
    if data.draw(st.booleans(), label="integers"):
        x = np.round(x)
    m = npimpl.Upsample(**kw)
    try:
        y = m(x)
    except ValueError as exc:
        assert "Upsample" in str(exc)
        with pytest.raises(RuntimeError):
            torch_run(kw, x)
        return
    if y.size == 0:                        # area: torch's backward refuses an empty output
        return
    g = rng.standard_normal(y.shape)
    ty, tdx = torch_run(kw, x, g)
    np.testing.assert_allclose(y, ty, rtol=1e-12, atol=1e-12)
    theirs = torch_backward_taps(m, x, y)
    np.testing.assert_allclose(interp_backward(g, theirs, sizes), tdx, rtol=1e-12, atol=1e-12)
    if same_maps(theirs, m._cache.taps):
        np.testing.assert_allclose(m.backward(g), tdx, rtol=1e-12, atol=1e-12)
