"""Padding: each mode's rule for negative padding (checked on the docstrings' examples and on a
seeded sweep of random pads against torch), torch's limits per mode, the adjoint identity of
the backward, and the inputs torch gets wrong."""
import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

import npimpl
from npimpl.padding import pad_backward, pad_forward
from reference import to_numpy, to_torch
from torch_signature import assert_signature_matches_torch

MODES = {"Zero": "constant", "Constant": "constant", "Reflection": "reflect",
         "Replication": "replicate", "Circular": "circular"}
CLASSES = [f"{m}Pad{nd}d" for m in MODES for nd in (1, 2, 3)]


def make(name, padding, value=0.5):
    """``(npimpl module, torch module)`` of a padding class."""
    extra = (value,) if name.startswith("Constant") else ()
    return getattr(npimpl, name)(padding, *extra), getattr(torch.nn, name)(padding, *extra)


def torch_run(tmod, x, g):
    tx = to_torch(x, requires_grad=True)
    y = tmod(tx)
    y.backward(to_torch(g))
    return to_numpy(y), to_numpy(tx.grad)


@pytest.mark.parametrize("name", CLASSES)
def test_signature_matches_torch(name):
    assert_signature_matches_torch(name)


@pytest.mark.parametrize("name,padding,expected", [
    # reflect mirrors about the ORIGINAL edges even when the other side crops
    ("ReflectionPad1d", (-1, 2), [1, 2, 3, 4, 3, 2]),
    ("ReflectionPad1d", (-6, 2), [2]),
    ("ReflectionPad1d", (3, -4), [3, 2, 1, 0]),
    # replicate clamps in the uncropped input, even past its end
    ("ReplicationPad1d", (-6, 2), [4]),
    ("ReplicationPad1d", (2, -1), [0, 0, 0, 1, 2, 3]),
    # circular crops first and wraps what is left
    ("CircularPad1d", (-1, 2), [1, 2, 3, 4, 1, 2]),
    ("CircularPad1d", (2, -1), [2, 3, 0, 1, 2, 3]),
    ("CircularPad1d", (5, 0), [0, 1, 2, 3, 4, 0, 1, 2, 3, 4]),
    # constant narrows
    ("ZeroPad1d", (-2, 3), [2, 3, 4, 0, 0, 0]),
    ("ZeroPad1d", (-3, -2), []),
])
def test_negative_padding_rule_per_mode(name, padding, expected):
    x = np.arange(5.0).reshape(1, 1, 5)
    m, t = make(name, padding)
    y = m(x)
    assert y.ravel().tolist() == expected
    assert np.array_equal(y, to_numpy(t(to_torch(x))))


def _valid(mode, nd, rng):
    """Random sizes and pads, redrawn until torch's rules (and circular's no-overlap one)
    allow them."""
    while True:
        sizes = tuple(int(s) for s in rng.integers(1, 6, nd))
        pads = tuple(int(p) for p in rng.integers(-6, 7, 2 * nd))
        per_axis = [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(nd))]
        outs = [s + lo + hi for s, (lo, hi) in zip(sizes, per_axis)]
        kept = [s + min(lo, 0) + min(hi, 0) for s, (lo, hi) in zip(sizes, per_axis)]
        if mode == "constant" and min(kept) >= 0:
            return sizes, pads
        if mode == "reflect" and min(outs) >= 1 and all(lo < s and hi < s for s, (lo, hi)
                                                         in zip(sizes, per_axis)):
            return sizes, pads
        if mode == "replicate" and min(outs) >= 1:
            return sizes, pads
        if mode == "circular" and all(max(lo, 0) <= k and max(hi, 0) <= k for k, (lo, hi)
                                      in zip(kept, per_axis)) and min(outs) >= 0:
            return sizes, pads


@pytest.mark.parametrize("prefix", ["Constant", "Reflection", "Replication", "Circular"])
@pytest.mark.parametrize("nd", [1, 2, 3])
def test_random_pads_match_torch(prefix, nd):
    """8 random (size, padding) pairs per class, negative entries included, unbatched every
    third: forward bit-identical to torch, input gradient within rounding."""
    rng = np.random.default_rng(nd * 10 + len(prefix))
    for k in range(8):
        sizes, pads = _valid(MODES[prefix], nd, rng)
        x = rng.standard_normal(((3,) if k % 3 == 0 else (2, 3)) + sizes)
        m, t = make(f"{prefix}Pad{nd}d", pads)
        y = m(x)
        g = rng.standard_normal(y.shape)
        ty, tdx = torch_run(t, x, g)
        assert np.array_equal(y, ty), (sizes, pads)
        if y.size:     # torch's reflection_pad3d backward leaves an empty output's dx unset
            np.testing.assert_allclose(m.backward(g), tdx, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
def test_backward_is_the_adjoint(mode):
    """<pad(x), g> == <x, pad_backward(g)>, without torch, for crops and growth together."""
    rng = np.random.default_rng(3)
    for _ in range(20):
        sizes, pads = _valid(mode, 2, rng)
        per_axis = [(pads[2 * i], pads[2 * i + 1]) for i in reversed(range(2))]
        x = rng.standard_normal((2,) + sizes)
        y = pad_forward(x, per_axis, mode, 0.0)
        g = rng.standard_normal(y.shape)
        lhs, rhs = np.vdot(y, g), np.vdot(x, pad_backward(g, per_axis, mode, sizes))
        assert abs(lhs - rhs) <= 1e-12 * max(1.0, abs(lhs)), (sizes, pads)


def test_replicate_edge_collects_every_copy():
    m = npimpl.ReplicationPad1d((3, 0))
    m(np.arange(4.0).reshape(1, 1, 4))
    dx = m.backward(np.ones((1, 1, 7)))
    assert dx.ravel().tolist() == [4.0, 1.0, 1.0, 1.0]     # itself and its 3 copies


def test_constant_fill_value_and_any_rank():
    m = npimpl.ConstantPad2d((1, 0, 0, 1), -7.0)
    y = m(np.ones((2, 2, 2, 1, 1)))                         # five dims: the last two are padded
    assert y.shape == (2, 2, 2, 2, 2)
    assert y[0, 0, 0].tolist() == [[-7.0, 1.0], [-7.0, -7.0]]
    assert npimpl.ZeroPad2d(1)(np.ones((2, 3))).shape == (4, 5)   # a bare (H, W) image


def test_float32_fill_is_cast_to_the_input_dtype():
    y = npimpl.ConstantPad1d(1, 0.1)(np.zeros((1, 1, 2), np.float32))
    assert y.dtype == np.float32 and y[0, 0, 0] == np.float32(0.1)


@pytest.mark.parametrize("name,padding,shape", [
    ("ReflectionPad1d", 5, (1, 2, 5)),                       # pad == size
    ("ReflectionPad2d", (0, 0, 3, 0), (1, 2, 3, 4)),
    ("ReflectionPad3d", (0, 0, 0, 0, 0, 2), (1, 1, 2, 3, 3)),
    ("CircularPad1d", 6, (1, 2, 5)),                          # wraps around twice
    ("CircularPad2d", (0, 0, 4, 0), (1, 2, 3, 4)),
    ("ZeroPad1d", (-4, -2), (1, 2, 5)),                       # crops past the dim
    ("ReplicationPad1d", (-3, -2), (1, 2, 5)),                # empty output in 1-D
    ("ReplicationPad2d", (-3, -2, -2, -2), (1, 2, 4, 5)),     # every output dim empty
])
def test_torch_refuses_and_so_do_we(name, padding, shape):
    x = np.zeros(shape)
    m, t = make(name, padding)
    with pytest.raises(ValueError, match=name):
        m(x)
    with pytest.raises(RuntimeError):
        t(to_torch(x))


@pytest.mark.parametrize("padding", [(-2, 4), (-5, 1), (4, -2)])
def test_circular_pad_past_what_the_crop_left_is_refused(padding):
    """torch's own check passes these; it then raises on overlapping memory or (with nothing
    left after the crop) returns uninitialised values. npimpl refuses them up front."""
    with pytest.raises(ValueError, match="wrap around"):
        npimpl.CircularPad1d(padding)(np.zeros((1, 1, 5)))


def test_reflect_and_replicate_may_empty_one_dim_in_2d_but_not_in_1d():
    x = np.zeros((1, 1, 3, 4))
    y = npimpl.ReplicationPad2d((-2, -2, 0, 0))(x)
    assert y.shape == tuple(torch.nn.ReplicationPad2d((-2, -2, 0, 0))(to_torch(x)).shape)
    assert y.shape == (1, 1, 3, 0)
    with pytest.raises(ValueError, match="at least 1"):
        npimpl.ReplicationPad1d((-2, -2))(np.zeros((1, 1, 4)))


def test_empty_output_backward_is_zero():
    """torch's ReflectionPad3d backward leaves dx unset (uninitialised memory) when the
    output is empty; the gradient of an empty output is zero."""
    m = npimpl.ReflectionPad3d((1, -4, 0, 2, 2, 3))
    y = m(np.ones((1, 1, 4, 5, 3)))
    assert y.shape == (1, 1, 9, 7, 0)
    assert np.array_equal(m.backward(np.zeros(y.shape)), np.zeros((1, 1, 4, 5, 3)))


@pytest.mark.parametrize("name,shape", [("ReflectionPad2d", (3, 3)), ("CircularPad1d", (5,)),
                                        ("ReplicationPad3d", (1, 1, 1, 2, 2, 2)),
                                        ("ZeroPad3d", (2, 2))])
def test_wrong_rank_is_refused(name, shape):
    m, t = make(name, 1)
    with pytest.raises(ValueError, match=name):
        m(np.zeros(shape))
    with pytest.raises((RuntimeError, ValueError, NotImplementedError)):
        t(to_torch(np.zeros(shape)))


@pytest.mark.parametrize("padding", [(1, 2), (1, 2, 3), 1.5, (1, 2, 3, 4.0), True])
def test_padding_must_be_int_or_2nd_tuple(padding):
    with pytest.raises(ValueError, match="ZeroPad2d: padding must be an int or a tuple of 4"):
        npimpl.ZeroPad2d(padding)


def test_constant_value_must_be_a_number():
    with pytest.raises(TypeError, match="ConstantPad1d: value"):
        npimpl.ConstantPad1d(1, "0")


def test_grad_output_shape_and_order_are_checked():
    m = npimpl.ReflectionPad1d(1)
    with pytest.raises(RuntimeError, match="before forward"):
        m.backward(np.zeros((1, 1, 4)))
    m(np.zeros((1, 1, 3)))
    with pytest.raises(ValueError, match=r"grad_output must have shape \(1, 1, 5\)"):
        m.backward(np.zeros((1, 1, 4)))


@given(data=st.data())
def test_fuzz_against_torch(data):
    """Hypothesis draws the class, sizes (empty ones where the mode allows them), pads from -6
    to 6, and values of any scale with ±0, ±inf and NaN sprinkled in: either both libraries refuse (npimpl with a
    ValueError naming the class), or the outputs are identical and the input gradients agree.
    npimpl alone refuses circular pads past what the crop left (torch: overlap error or
    uninitialised memory). ``--hypothesis-profile=long`` for 500 draws."""
    prefix = data.draw(st.sampled_from(sorted(MODES)), label="class")
    nd = data.draw(st.integers(1, 3), label="nd")
    low = 0 if MODES[prefix] in ("constant", "circular") else 1
    sizes = tuple(data.draw(st.lists(st.integers(low, 5), min_size=nd, max_size=nd)))
    pads = tuple(data.draw(st.lists(st.integers(-6, 6), min_size=2 * nd, max_size=2 * nd)))
    lead = (3,) if data.draw(st.booleans(), label="unbatched") else (2, 3)
    rng = np.random.default_rng(data.draw(st.integers(0, 2**32 - 1), label="seed"))
    x = rng.standard_normal(lead + sizes) * 10.0 ** rng.integers(-3, 4)
    special = rng.random(x.shape) < data.draw(st.sampled_from([0.0, 0.1, 0.5]), label="odd")
    x[special] = rng.choice([0.0, -0.0, np.inf, -np.inf, np.nan], special.sum())
    m, t = make(f"{prefix}Pad{nd}d", pads)
    try:
        y = m(x)
    except ValueError as exc:
        assert m.__class__.__name__ in str(exc)
        if "wrap around" not in str(exc):
            with pytest.raises(RuntimeError):
                t(to_torch(x))
        return
    g = rng.standard_normal(y.shape)
    ty, tdx = torch_run(t, x, g)
    np.testing.assert_array_equal(y, ty)
    if y.size:
        np.testing.assert_allclose(m.backward(g), tdx, rtol=1e-12, atol=1e-15)
