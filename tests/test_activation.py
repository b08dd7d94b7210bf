"""Activations: torch's gradient at every kink, options, errors (what the catalogue cannot show).

Each kink test feeds the exact kink value through npimpl and torch (repeated, so that torch's
vectorised kernels see it too) and checks the gradient against torch *and* against the
one-sided value the docstring promises, so a module that picks the other side fails.
"""
import inspect
import warnings

import numpy as np
import pytest
import torch

import npimpl

ALL = ["ReLU", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus",
       "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh",
       "Softmax", "LogSoftmax", "Softmin"]
SELU_SLOPE_AT_0 = 1.0507009873554804934193349852946 * 1.6732632423543772848170429916717


def run_both(np_mod, t_mod, x, g=None):
    """(y, dx) from npimpl and from torch for input x and upstream gradient g (default 1)."""
    g = np.ones_like(x) if g is None else g
    y = np_mod(x.copy())
    dx = np_mod.backward(g)
    t = torch.tensor(x, requires_grad=True)
    ty = t_mod(t)
    ty.backward(torch.tensor(g))
    return (y, dx), (ty.detach().numpy(), t.grad.numpy())


# (id, npimpl module, torch module, kink inputs, the gradient torch picks there)
KINKS = [
    ("relu-at-0", npimpl.ReLU(), torch.nn.ReLU(), [0.0], [0.0]),
    ("leakyrelu-at-0-takes-slope", npimpl.LeakyReLU(0.1), torch.nn.LeakyReLU(0.1), [0.0], [0.1]),
    ("elu-at-0-takes-alpha", npimpl.ELU(0.5), torch.nn.ELU(0.5), [0.0], [0.5]),
    ("selu-at-0", npimpl.SELU(), torch.nn.SELU(), [0.0], [SELU_SLOPE_AT_0]),
    ("celu-at-0", npimpl.CELU(2.0), torch.nn.CELU(2.0), [0.0], [1.0]),
    ("hardtanh-at-bounds", npimpl.Hardtanh(-1.0, 2.0), torch.nn.Hardtanh(-1.0, 2.0),
     [-1.0, 2.0], [0.0, 0.0]),
    ("relu6-at-0-and-6", npimpl.ReLU6(), torch.nn.ReLU6(), [0.0, 6.0], [0.0, 0.0]),
    ("hardsigmoid-at-pm3", npimpl.Hardsigmoid(), torch.nn.Hardsigmoid(), [-3.0, 3.0], [0.0, 0.0]),
    ("hardswish-at-pm3-outer", npimpl.Hardswish(), torch.nn.Hardswish(), [-3.0, 3.0], [0.0, 1.0]),
    ("softplus-above-threshold", npimpl.Softplus(2.0, 20.0), torch.nn.Softplus(2.0, 20.0),
     [10.5], [1.0]),
]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("np_mod,t_mod,xs,expected",
                         [pytest.param(*k[1:], id=k[0]) for k in KINKS])
def test_gradient_at_kink_is_torchs_choice(np_mod, t_mod, xs, expected, dtype):
    x = np.tile(np.asarray(xs, dtype=dtype), 20)            # 20 copies: torch's SIMD path too
    (y, dx), (ty, tdx) = run_both(np_mod, t_mod, x)
    np.testing.assert_array_equal(y, ty)
    np.testing.assert_allclose(dx, tdx, rtol=1e-6 if dtype == np.float32 else 1e-15, atol=0)
    np.testing.assert_allclose(dx, np.tile(np.asarray(expected, dtype=dtype), 20),
                               rtol=1e-6, atol=0)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softplus_at_threshold_takes_the_smooth_branch(dtype):
    # beta * x == threshold exactly: the switch is strict (>), so the slope is z / (z + 1) < 1
    x = np.full(20, 2.5, dtype=dtype)                          # beta 2 * 2.5 = threshold 5
    (y, dx), (ty, tdx) = run_both(npimpl.Softplus(2.0, 5.0), torch.nn.Softplus(2.0, 5.0), x)
    np.testing.assert_allclose(dx, tdx, rtol=1e-6 if dtype == np.float32 else 1e-15)
    assert np.all(dx < 1)
    assert np.all(y > x)                                       # log1p branch: above the identity


def test_celu_backward_rounds_alpha_to_float32_like_torch():
    # float64, alpha = 0.3: torch's gradient at 0 is alpha / float32(alpha), not 1
    x = np.array([0.0, -1.0, -4.0])
    (_, dx), (_, tdx) = run_both(npimpl.CELU(0.3), torch.nn.CELU(0.3), x)
    np.testing.assert_allclose(dx, tdx, rtol=1e-15)
    assert abs(dx[0] - 1.0) > 1e-8
    np.testing.assert_allclose(dx[0], 0.3 / float(np.float32(0.3)), rtol=1e-15)


def test_hardsigmoid_slope_is_the_float32_sixth_even_in_float64():
    x = np.linspace(-2.5, 2.5, 11)
    (_, dx), (_, tdx) = run_both(npimpl.Hardsigmoid(), torch.nn.Hardsigmoid(), x)
    np.testing.assert_array_equal(dx, tdx)
    assert np.all(dx == float(np.float32(1) / np.float32(6)))
    assert np.all(dx != 1 / 6)


def test_gelu_tanh_is_a_different_function():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    exact, approx = npimpl.GELU()(x), npimpl.GELU("tanh")(x)
    assert np.max(np.abs(exact - approx)) > 1e-5


@pytest.mark.parametrize("approximate", ["none", "tanh"])
def test_gelu_float64_matches_torch(approximate):
    x = np.array([-40.0, -6.0, -1.0, -1e-8, 0.0, 1e-8, 0.5, 3.0, 40.0])
    (y, dx), (ty, tdx) = run_both(npimpl.GELU(approximate), torch.nn.GELU(approximate), x)
    np.testing.assert_allclose(y, ty, rtol=1e-10, atol=1e-12)      # the contract's float64
    np.testing.assert_allclose(dx, tdx, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name", ["Mish", "SiLU", "Softplus", "Sigmoid", "Tanh", "ELU", "GELU"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_extreme_inputs_stay_finite_where_torch_is(name, dtype):
    big = 80.0 if dtype == np.float32 else 700.0               # exp() overflows just past these
    x = np.array([-1e4, -2 * big, -big, big, 2 * big, 1e4], dtype=dtype)
    with warnings.catch_warnings():
        warnings.simplefilter("error")                         # no overflow warning either
        (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(), getattr(torch.nn, name)(), x)
    np.testing.assert_array_equal(np.isfinite(y), np.isfinite(ty))
    np.testing.assert_array_equal(np.isfinite(dx), np.isfinite(tdx))
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))


def test_inplace_overwrites_the_input_and_still_differentiates():
    x = np.array([-1.0, 0.0, 2.0])
    m = npimpl.ELU(inplace=True)
    y = m(x)
    assert y is x
    np.testing.assert_allclose(x, [np.expm1(-1.0), 0.0, 2.0])
    np.testing.assert_allclose(m.backward(np.ones(3)), [np.exp(-1.0), 1.0, 1.0])


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_softmax_family_is_finite_for_logits_of_1e4(name, dtype):
    x = np.array([[1e4, -1e4, 0.0], [3e4, 3e4, -3e4]], dtype=dtype)
    g = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0]], dtype=dtype)
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(dim=1), getattr(torch.nn, name)(dim=1),
                                  x, g)
    assert np.all(np.isfinite(y)) and np.all(np.isfinite(dx))
    # the contract's tolerances: float64 to rounding, float32 torch's assert_close defaults
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == np.float64 else dict(rtol=1.3e-6, atol=1e-5)
    np.testing.assert_allclose(y, ty, **tol)
    np.testing.assert_allclose(dx, tdx, **tol)


def test_softmin_is_softmax_of_minus_x():
    x = np.random.default_rng(0).standard_normal((3, 5))
    np.testing.assert_allclose(npimpl.Softmin(dim=1)(x), npimpl.Softmax(dim=1)(-x), rtol=1e-15)


@pytest.mark.parametrize("ndim,axis", [(1, 0), (2, 1), (3, 0), (4, 1)])
def test_implicit_dim_warns_and_follows_torchs_legacy_rule(ndim, axis):
    x = np.random.default_rng(1).standard_normal((2, 3, 4, 5)[:ndim])
    with pytest.warns(UserWarning, match="Implicit dimension"):
        y = npimpl.Softmin()(x)
    np.testing.assert_allclose(y.sum(axis=axis), 1.0, rtol=1e-12)


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
def test_softmax_dim_out_of_range(name):
    with pytest.raises(IndexError, match=f"{name}: dim 2 out of range for a 2-D input"):
        getattr(npimpl, name)(dim=2)(np.zeros((2, 3)))


@pytest.mark.parametrize("name", ALL)
def test_signature_is_torchs(name):
    ours = [(p.name, p.default) for p in inspect.signature(getattr(npimpl, name)).parameters.values()
            if p.name != "dtype"]
    theirs = [(p.name, p.default) for p in inspect.signature(getattr(torch.nn, name)).parameters.values()
              if p.kind is not inspect.Parameter.VAR_POSITIONAL
              and p.kind is not inspect.Parameter.VAR_KEYWORD]
    assert ours == theirs


@pytest.mark.parametrize("name", ALL)
def test_docstring_teaches(name):
    doc = getattr(npimpl, name).__doc__
    for section in ("Args:", "Shape:", "Backward:", "What torch hides:"):
        assert section in doc, f"{name} docstring lacks {section}"


@pytest.mark.parametrize("name", ["GELU", "Hardswish", "Softplus", "LeakyReLU"])
def test_errors_name_the_module_and_both_values(name):
    m = getattr(npimpl, name)(dtype=np.float32)
    with pytest.raises(TypeError, match=f"{name}: input must have dtype float32.*got float64"):
        m(np.zeros(3))
    with pytest.raises(TypeError, match=f"{name}: input must have dtype float32.*got int64"):
        m(np.zeros(3, dtype=np.int64))
    with pytest.raises(RuntimeError):
        m.backward(np.zeros(3, dtype=np.float32))
    m(np.zeros(3, dtype=np.float32))
    with pytest.raises(ValueError, match=rf"{name}: grad_output must have shape \(3,\), got \(4,\)"):
        m.backward(np.zeros(4, dtype=np.float32))


def test_bad_options():
    with pytest.raises(ValueError, match="GELU.*approximate.*'erf'"):
        npimpl.GELU("erf")
    with pytest.raises(ValueError, match=r"Hardtanh: max_val \(1.0\) must be greater than min_val \(1.0\)"):
        npimpl.Hardtanh(1.0, 1.0)
    with pytest.raises(ValueError, match="CELU: alpha must not be 0"):
        npimpl.CELU(0.0)


def test_relu_passes_the_gradient_through_a_nan_like_torch():
    # threshold_backward tests `y <= 0`, false for NaN, in its SIMD and its scalar loop alike
    x = np.tile([np.nan, -1.0, 2.0, 0.0], 5)
    (y, dx), (ty, tdx) = run_both(npimpl.ReLU(), torch.nn.ReLU(), x)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx[:4], [1.0, 0.0, 1.0, 0.0])


def test_hardtanh_gives_zero_gradient_at_nan_like_torchs_simd_loop():
    x = np.full(16, np.nan)                                    # 16: no scalar tail in torch
    (_, dx), (_, tdx) = run_both(npimpl.Hardtanh(), torch.nn.Hardtanh(), x)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, np.zeros(16))


@pytest.mark.parametrize("name", ["Softmax", "LogSoftmax", "Softmin"])
@pytest.mark.parametrize("shape", [(2, 0), (0, 3)], ids=["empty-dim", "empty-batch"])
def test_softmax_family_accepts_empty_arrays_like_torch(name, shape):
    x = np.zeros(shape)
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(dim=1), getattr(torch.nn, name)(dim=1), x)
    assert y.shape == ty.shape == dx.shape == tdx.shape == shape


@pytest.mark.parametrize("name", ALL)
def test_a_0d_input_gives_0d_arrays_like_torch(name):
    kw = dict(dim=0) if name in ("Softmax", "LogSoftmax", "Softmin") else {}
    (y, dx), (ty, tdx) = run_both(getattr(npimpl, name)(**kw), getattr(torch.nn, name)(**kw),
                                  np.array(0.3), np.array(-1.5))
    assert isinstance(y, np.ndarray) and isinstance(dx, np.ndarray)   # not numpy scalars
    assert y.shape == dx.shape == ()
    np.testing.assert_allclose(y, ty, rtol=1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-15, atol=1e-300)


# --- issue 21 D5: a NaN input gives a NaN gradient, as torch's SIMD loop does ----------------
@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ["ELU", "SELU", "CELU", "Hardswish"])
def test_nan_input_gives_nan_gradient_like_torchs_simd_loop(name, dtype):
    # 64 elements: every one in torch's vectorised loop (its scalar tail, for the last few
    # elements of a length that is not a multiple of the vector width, passes dy instead)
    x = np.tile(np.asarray([np.nan, -1.0, 0.5, -3.0], dtype=dtype), 16)
    (_, dx), (_, tdx) = run_both(getattr(npimpl, name)(), getattr(torch.nn, name)(), x)
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(x))
    np.testing.assert_array_equal(np.isnan(tdx), np.isnan(x))
    np.testing.assert_allclose(dx, tdx, rtol=1e-6 if dtype == np.float32 else 1e-15)


def test_nan_gradient_does_not_depend_on_the_length():
    # torch's answer does (dy from its scalar tail); npimpl's is NaN at any position
    for n in (1, 3, 17):
        m = npimpl.ELU()
        m(np.full(n, np.nan))
        assert np.isnan(m.backward(np.ones(n))).all()


# --- Softmax2d -----------------------------------------------------------------------------
def test_softmax2d_normalises_the_channel_dim_like_torch():
    x = np.random.default_rng(2).standard_normal((2, 3, 4, 5))
    g = np.random.default_rng(3).standard_normal(x.shape)
    (y, dx), (ty, tdx) = run_both(npimpl.Softmax2d(), torch.nn.Softmax2d(), x, g)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-14)
    np.testing.assert_allclose(y, ty, rtol=1e-14)
    np.testing.assert_allclose(dx, tdx, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("shape", [(5,), (3, 4), (1, 2, 3, 4, 5)])
def test_softmax2d_refuses_other_ranks_like_torch(shape):
    with pytest.raises(ValueError, match=rf"Softmax2d: expected input to be 3D or 4D, got "
                                         rf"{len(shape)}D"):
        npimpl.Softmax2d()(np.zeros(shape))
    with pytest.raises(ValueError):
        torch.nn.Softmax2d()(torch.zeros(shape))


ELEMENTWISE = ["ReLU", "LeakyReLU", "ELU", "SELU", "CELU", "GELU", "SiLU", "Mish", "Softplus",
               "Hardtanh", "ReLU6", "Hardsigmoid", "Hardswish", "Sigmoid", "Tanh",
               "Hardshrink", "Softshrink", "Tanhshrink", "LogSigmoid", "Softsign"]


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("name", ELEMENTWISE + ["Threshold", "PReLU"])
def test_every_activation_treats_nan_as_torchs_simd_loop_does(name, dtype):
    # issue 21 D5 asked for ELU, SELU, CELU, Hardswish; the same sweep over every element-wise
    # activation: 64 elements sit in torch's vectorised loop, where its answer is defined
    x = np.tile(np.asarray([np.nan, -1.0, 0.5, -3.0], dtype=dtype), 16)
    args = (0.1, 20.0) if name == "Threshold" else ()
    np_mod = getattr(npimpl, name)(*args, dtype=dtype) if name == "PReLU" else \
        getattr(npimpl, name)(*args)
    t_mod = getattr(torch.nn, name)(*args)
    if name == "PReLU":
        t_mod = t_mod.to(torch.float32 if dtype == np.float32 else torch.float64)
    (y, dx), (ty, tdx) = run_both(np_mod, t_mod, x)
    np.testing.assert_array_equal(np.isnan(y), np.isnan(ty))
    np.testing.assert_array_equal(np.isnan(dx), np.isnan(tdx))
    tol = dict(rtol=1.3e-6, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-14)
    np.testing.assert_allclose(dx, tdx, **tol)
