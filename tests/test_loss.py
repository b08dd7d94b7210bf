"""Losses: errors, kinks, stability corners and torch's surprising semantics, pinned one by one.

The catalogue compares every loss with torch on random data; these tests pin what random data
would never hit (a prediction exactly on its target, p = 0 and 1, every target ignored) and
every bad input the contract says must raise.
"""
import inspect
import warnings

import numpy as np
import pytest
import torch

import npimpl

LOSSES = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "MarginRankingLoss",
          "BCELoss", "BCEWithLogitsLoss", "NLLLoss", "CrossEntropyLoss", "GaussianNLLLoss"]
PAIRWISE = ["L1Loss", "MSELoss", "SmoothL1Loss", "HuberLoss", "KLDivLoss", "BCELoss",
            "BCEWithLogitsLoss"]


def both(np_crit, t_crit, x, target, g=None):
    """(loss, dx) from npimpl and from torch (upstream gradient g, default 1)."""
    loss = np_crit(x.copy(), target)
    dx = np_crit.backward(g)
    t = torch.tensor(x, requires_grad=True)
    tl = t_crit(t, torch.tensor(target))
    tl.backward(None if g is None else torch.tensor(g))
    return (loss, dx), (tl.detach().numpy(), t.grad.numpy())


# --- kinks -----------------------------------------------------------------------------------
def test_l1_gradient_is_zero_where_the_prediction_hits_the_target():
    x = np.array([0.5, -1.0, 2.0])
    (_, dx), (_, tdx) = both(npimpl.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"),
                             x, np.array([0.5, 0.0, 2.0]))
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, [0.0, -1.0, 0.0])


def test_smoothl1_beta0_is_l1_with_no_nan_at_zero():
    x = np.array([0.0, 1.0, -2.0])
    (loss, dx), (tl, tdx) = both(npimpl.SmoothL1Loss(reduction="none", beta=0.0),
                                 torch.nn.SmoothL1Loss(reduction="none", beta=0.0), x, np.zeros(3),
                                 np.ones(3))
    np.testing.assert_array_equal(loss, tl)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, [0.0, 1.0, -1.0])


@pytest.mark.parametrize("name,kw,edge", [("SmoothL1Loss", dict(beta=0.3), 0.3),
                                          ("HuberLoss", dict(delta=2.5), 2.5)])
def test_smooth_losses_are_continuous_at_the_switch(name, kw, edge):
    x = np.array([-edge, edge, np.nextafter(edge, 0), np.nextafter(edge, 10)])
    (loss, dx), (tl, tdx) = both(getattr(npimpl, name)(reduction="none", **kw),
                                 getattr(torch.nn, name)(reduction="none", **kw), x, np.zeros(4),
                                 np.ones(4))
    np.testing.assert_allclose(loss, tl, rtol=1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-15)
    assert abs(dx[2] - dx[3]) < 1e-12 * abs(dx[3])               # no jump in the slope


def test_margin_ranking_passes_the_gradient_exactly_at_the_hinge():
    # -y (x1 - x2) + margin == 0 exactly: clamp_min's backward tests >= 0, so gradient flows
    x1, x2, y = np.array([1.5, 1.0]), np.array([1.0, 1.5]), np.array([1.0, -1.0])
    m = npimpl.MarginRankingLoss(0.5, reduction="sum")
    assert m(x1, x2, y) == 0.0
    dx1, dx2 = m.backward()
    t1, t2 = (torch.tensor(v, requires_grad=True) for v in (x1, x2))
    torch.nn.MarginRankingLoss(0.5, reduction="sum")(t1, t2, torch.tensor(y)).backward()
    np.testing.assert_array_equal(dx1, t1.grad.numpy())
    np.testing.assert_array_equal(dx2, t2.grad.numpy())
    np.testing.assert_array_equal(dx1, [-1.0, 1.0])


# --- stability -------------------------------------------------------------------------------
@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
def test_cross_entropy_float32_logits_of_1e4_stay_finite(reduction):
    rng = np.random.default_rng(0)
    x = (rng.standard_normal((6, 5)) * 1e4).astype(np.float32)
    t = rng.integers(0, 5, 6)
    kw = dict(reduction=reduction, label_smoothing=0.1)
    (loss, dx), (tl, tdx) = both(npimpl.CrossEntropyLoss(**kw), torch.nn.CrossEntropyLoss(**kw),
                                 x, t, None if reduction != "none" else np.ones(6, np.float32))
    assert np.all(np.isfinite(loss)) and np.all(np.isfinite(dx))
    np.testing.assert_allclose(loss, tl, rtol=1.3e-6)
    np.testing.assert_allclose(dx, tdx, rtol=1.3e-6, atol=1e-5)


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_with_logits_is_finite_at_pm700(dtype):
    x = np.array([-700.0, 700.0, -700.0, 700.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0], dtype=dtype)
    (loss, dx), (tl, tdx) = both(npimpl.BCEWithLogitsLoss(reduction="none"),
                                 torch.nn.BCEWithLogitsLoss(reduction="none"), x, t,
                                 np.ones(4, dtype))
    rtol = 1e-10 if dtype == np.float64 else 1e-7        # float64: to rounding
    np.testing.assert_allclose(loss, [700.0, 700.0, 0.0, 0.0], rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(loss, tl, rtol=rtol, atol=1e-30)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_allclose(dx, [-1.0, 1.0, 0.0, 0.0], atol=1e-30)     # sigmoid(x) - y


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
def test_bce_at_exact_0_and_1_clamps_like_torch(dtype):
    p = np.array([0.0, 1.0, 0.0, 1.0, 1.0], dtype=dtype)
    t = np.array([1.0, 0.0, 0.0, 1.0, 0.75], dtype=dtype)
    (loss, dx), (tl, tdx) = both(npimpl.BCELoss(reduction="none"),
                                 torch.nn.BCELoss(reduction="none"), p, t, np.ones(5, dtype))
    rtol = 1e-10 if dtype == np.float64 else 1e-7        # float64: to rounding
    np.testing.assert_allclose(loss, tl, rtol=rtol, atol=1e-30)
    np.testing.assert_allclose(loss[:2], [100.0, 100.0], rtol=rtol)   # log clamped at -100
    np.testing.assert_array_equal(loss[2:4], [0.0, 0.0])
    np.testing.assert_allclose(dx, tdx, rtol=1e-15 if dtype == np.float64 else 1e-6)
    eps = float(np.float32(1e-12))                              # torch's float EPSILON
    np.testing.assert_allclose(dx[[0, 1, 4]], [-1 / eps, 1 / eps, 0.25 / eps], rtol=1e-6)


@pytest.mark.parametrize("crit", ["NLLLoss", "CrossEntropyLoss"])
def test_every_target_ignored_gives_nan_loss_and_zero_gradient(crit):
    x = np.random.default_rng(2).standard_normal((3, 4))
    t = np.full(3, -100)
    (loss, dx), (tl, tdx) = both(getattr(npimpl, crit)(), getattr(torch.nn, crit)(), x, t)
    assert np.isnan(loss) and np.isnan(tl)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, np.zeros_like(x))


# --- torch's semantics that surprise -----------------------------------------------------------
def test_weighted_label_smoothing_is_torchs_not_the_smoothed_cross_entropy():
    rng = np.random.default_rng(3)
    x, t = rng.standard_normal((5, 4)), np.array([0, 1, 2, 3, 1])
    w, eps = np.array([0.2, 1.0, 2.5, 0.7]), 0.2
    (loss, dx), (tl, tdx) = both(npimpl.CrossEntropyLoss(weight=w, label_smoothing=eps),
                                 torch.nn.CrossEntropyLoss(weight=torch.tensor(w),
                                                           label_smoothing=eps), x, t)
    np.testing.assert_allclose(loss, tl, rtol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=1e-13, atol=1e-15)
    # the "obvious" reading: weight each sample by w[t_n], smooth its target, ÷ sum w[t_n]
    logp = x - np.log(np.exp(x).sum(1, keepdims=True))
    q = (1 - eps) * np.eye(4)[t] + eps / 4
    naive = (w[t] * -(q * logp).sum(1)).sum() / w[t].sum()
    assert abs(loss - naive) > 1e-3


def test_probability_targets_mean_divides_by_positions_not_weights():
    rng = np.random.default_rng(4)
    x = rng.standard_normal((2, 3, 4))
    p = np.exp(rng.standard_normal((2, 3, 4)))
    p /= p.sum(1, keepdims=True)
    w = np.array([1.0, 3.0, 0.5])
    (loss, dx), (tl, tdx) = both(npimpl.CrossEntropyLoss(weight=w),
                                 torch.nn.CrossEntropyLoss(weight=torch.tensor(w)), x, p)
    np.testing.assert_allclose(loss, tl, rtol=1e-13)
    np.testing.assert_allclose(dx, tdx, rtol=1e-13, atol=1e-15)
    per_position = npimpl.CrossEntropyLoss(weight=w, reduction="sum")(x, p) / 8
    np.testing.assert_allclose(loss, per_position, rtol=1e-14)


def test_kldiv_batchmean_divides_by_the_batch_and_mean_warns():
    rng = np.random.default_rng(5)
    x, p = rng.standard_normal((4, 5)), rng.dirichlet(np.ones(5), 4)
    s = npimpl.KLDivLoss(reduction="sum")(x, p)
    np.testing.assert_allclose(npimpl.KLDivLoss(reduction="batchmean")(x, p), s / 4, rtol=1e-15)
    with pytest.warns(UserWarning, match="batchmean"):
        np.testing.assert_allclose(npimpl.KLDivLoss()(x, p), s / 20, rtol=1e-15)


def test_weights_are_buffers_with_torchs_state_dict_keys():
    w, pw = np.array([0.5, 2.0, 1.0]), np.array([3.0, 0.5, 1.0])
    t = torch.nn.BCEWithLogitsLoss(weight=torch.tensor(w), pos_weight=torch.tensor(pw))
    m = npimpl.BCEWithLogitsLoss(weight=w, pos_weight=pw, dtype=np.float64)
    assert list(m.state_dict()) == list(t.state_dict()) == ["weight", "pos_weight"]
    m.load_state_dict({k: v.numpy() * 2 for k, v in t.state_dict().items()})
    np.testing.assert_array_equal(m.pos_weight, 2 * pw)
    assert list(npimpl.CrossEntropyLoss().state_dict()) == list(torch.nn.CrossEntropyLoss().state_dict())


@pytest.mark.parametrize("size_average,reduce", [(False, None), (None, False), (True, True)])
def test_legacy_flags_map_like_torch(size_average, reduce):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        expected = torch.nn.L1Loss(size_average, reduce).reduction
    assert npimpl.L1Loss(size_average, reduce).reduction == expected


@pytest.mark.parametrize("name", LOSSES)
def test_signature_is_torchs(name):
    ours = [(p.name, p.default) for p in inspect.signature(getattr(npimpl, name)).parameters.values()
            if p.name != "dtype"]
    theirs = [(p.name, p.default) for p in inspect.signature(getattr(torch.nn, name)).parameters.values()]
    assert ours == theirs


@pytest.mark.parametrize("name", LOSSES)
def test_docstring_teaches(name):
    doc = getattr(npimpl, name).__doc__
    for section in ("Args:", "Shape:", "Backward:", "What torch hides:"):
        assert section in doc, f"{name} docstring lacks {section}"


# --- bad input -----------------------------------------------------------------------------------
@pytest.mark.parametrize("name", LOSSES)
def test_unknown_reduction(name):
    with pytest.raises(ValueError, match=f"{name}: 'average' is not a valid value for reduction"):
        getattr(npimpl, name)(reduction="average")


@pytest.mark.parametrize("name", [n for n in LOSSES if n != "KLDivLoss"])
def test_batchmean_is_only_for_kldiv(name):
    with pytest.raises(ValueError, match="'batchmean' is not a valid value"):
        getattr(npimpl, name)(reduction="batchmean")


@pytest.mark.parametrize("name", PAIRWISE)
def test_target_shape_and_dtype_mismatch(name):
    m = getattr(npimpl, name)()
    x = np.full((3, 2), 0.5)
    with pytest.raises(ValueError, match=rf"{name}: target shape \(3, 1\) must equal input shape \(3, 2\)"):
        m(x, np.full((3, 1), 0.5))
    with pytest.raises(TypeError, match=f"{name}: target must have dtype float64.*got float32"):
        m(x, np.full((3, 2), 0.5, dtype=np.float32))


@pytest.mark.parametrize("where", ["input", "target"])
@pytest.mark.parametrize("bad", [1.5, -0.1, np.nan])
def test_bce_refuses_values_outside_0_1_as_torch_does(where, bad):
    x, t = np.full(3, 0.5), np.full(3, 0.5)
    (x if where == "input" else t)[1] = bad
    with pytest.raises(RuntimeError, match=f"all elements of {where} should be between 0 and 1"):
        torch.nn.BCELoss()(torch.tensor(x), torch.tensor(t))
    with pytest.raises(ValueError, match=f"BCELoss: all elements of {where} should be between 0 "
                                         f"and 1, got {bad}"):
        npimpl.BCELoss()(x, t)


@pytest.mark.parametrize("crit", ["NLLLoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("bad", [5, -1])
def test_class_index_out_of_range(crit, bad):
    with pytest.raises(IndexError, match=rf"{crit}: target {bad} is out of bounds.*\[0, 5\)"):
        getattr(npimpl, crit)()(np.zeros((2, 5)), np.array([0, bad]))


@pytest.mark.parametrize("crit", ["NLLLoss", "CrossEntropyLoss"])
@pytest.mark.parametrize("x_shape,t_shape", [((2, 5, 3), (2,)), ((2, 5), (2, 1)), ((5,), (1,)),
                                             ((2, 5, 3, 4), (2, 4, 3))])
def test_wrong_rank_or_shape_of_index_target(crit, x_shape, t_shape):
    with pytest.raises(ValueError, match=rf"{crit}: expected target of shape .* got \("):
        getattr(npimpl, crit)()(np.zeros(x_shape), np.zeros(t_shape, dtype=np.int64))


def test_cross_entropy_target_kinds_are_checked():
    ce = npimpl.CrossEntropyLoss()
    with pytest.raises(TypeError, match="CrossEntropyLoss: target must have an integer dtype"):
        ce(np.zeros((2, 5)), np.zeros(2))                      # float indices
    with pytest.raises(TypeError, match="class probabilities and must be float, got int64"):
        ce(np.zeros((2, 5)), np.zeros((2, 5), dtype=np.int64))
    with pytest.raises(ValueError, match="ignore_index is not supported for class-probability"):
        npimpl.CrossEntropyLoss(ignore_index=0)(np.zeros((2, 5)), np.full((2, 5), 0.2))
    with pytest.raises(ValueError, match=r"CrossEntropyLoss: weight must have shape \(5,\)"):
        npimpl.CrossEntropyLoss(weight=np.ones(4))(np.zeros((2, 5)), np.array([0, 1]))
    with pytest.raises(ValueError, match="label_smoothing must be in"):
        npimpl.CrossEntropyLoss(label_smoothing=1.5)
    with pytest.raises(ValueError, match="CrossEntropyLoss: input must be 1-D"):
        ce(np.zeros(()), np.zeros((), dtype=np.int64))


def test_other_bad_options_and_shapes():
    with pytest.raises(ValueError, match="SmoothL1Loss: beta must be >= 0"):
        npimpl.SmoothL1Loss(beta=-1.0)
    with pytest.raises(ValueError, match="HuberLoss: delta must be > 0"):
        npimpl.HuberLoss(delta=0.0)
    with pytest.raises(ValueError, match="MarginRankingLoss: input1, input2 and target must have"):
        npimpl.MarginRankingLoss()(np.zeros(3), np.zeros(3), np.ones(2))
    with pytest.raises(ValueError, match=r"BCEWithLogitsLoss: pos_weight of shape \(4,\) must "
                                         r"broadcast to the target's shape \(2, 3\)"):
        npimpl.BCEWithLogitsLoss(pos_weight=np.ones(4))(np.zeros((2, 3)), np.zeros((2, 3)))
    m = npimpl.MSELoss(reduction="none")
    m(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match=r"MSELoss: grad_output must have the loss's shape \(2, 3\)"):
        m.backward(np.ones(3))


def test_l1_gradient_at_a_nan_is_zero_like_torchs_sgn():
    x = np.array([np.nan, 1.0, -1.0])
    (loss, dx), (tl, tdx) = both(npimpl.L1Loss(reduction="sum"), torch.nn.L1Loss(reduction="sum"),
                                 x, np.zeros(3))
    assert np.isnan(loss) and np.isnan(tl)
    np.testing.assert_array_equal(dx, tdx)
    np.testing.assert_array_equal(dx, [0.0, 1.0, -1.0])


@pytest.mark.parametrize("crit", ["NLLLoss", "CrossEntropyLoss"])
def test_zero_classes_is_an_index_error_like_torch(crit):
    with pytest.raises(IndexError):
        getattr(torch.nn, crit)()(torch.zeros(2, 0), torch.zeros(2, dtype=torch.long))
    with pytest.raises(IndexError, match=rf"{crit}: target 0 is out of bounds.*\[0, 0\)"):
        getattr(npimpl, crit)()(np.zeros((2, 0)), np.zeros(2, dtype=np.int64))


@pytest.mark.parametrize("kw,target", [({}, np.zeros(0, dtype=np.int64)),
                                       (dict(label_smoothing=0.1), np.zeros(0, dtype=np.int64)),
                                       ({}, np.zeros((0, 3)))],
                         ids=["indices", "smoothing", "probabilities"])
def test_cross_entropy_of_an_empty_batch_is_nan_like_torch(kw, target):
    (loss, dx), (tl, tdx) = both(npimpl.CrossEntropyLoss(**kw), torch.nn.CrossEntropyLoss(**kw),
                                 np.zeros((0, 3)), target)
    assert np.isnan(loss) and np.isnan(tl)
    assert dx.shape == tdx.shape == (0, 3)


def test_gaussian_nll_differentiates_a_clamped_variance_as_torch_does():
    # var below eps: the loss uses eps, and var still gets the gradient at eps (torch clamps
    # a clone under no_grad, so autograd never sees the clamp)
    x, y, var = np.array([0.5, 0.5]), np.array([0.0, 0.0]), np.array([1e-9, 0.25])
    m = npimpl.GaussianNLLLoss(eps=0.01, reduction="sum")
    m(x, y, var)
    dx, dy, dvar = m.backward()
    ts = [torch.tensor(a, requires_grad=True) for a in (x, y, var)]
    torch.nn.GaussianNLLLoss(eps=0.01, reduction="sum")(*ts).backward()
    for ours, t in zip((dx, dy, dvar), ts):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-14)
    np.testing.assert_allclose(dvar[0], 0.5 * (1 / 0.01 - 0.25 / 0.01 ** 2), rtol=1e-14)
    assert dvar[0] != 0


@pytest.mark.parametrize("var_shape", [(4, 3), (4,), (4, 1), (1, 3)])
def test_gaussian_nll_var_layouts_sum_the_gradient_back(var_shape):
    rng = np.random.default_rng(6)
    x, y, var = rng.standard_normal((4, 3)), rng.standard_normal((4, 3)), rng.uniform(0.1, 2, var_shape)
    m = npimpl.GaussianNLLLoss()
    m(x, y, var)
    _, _, dvar = m.backward()
    t = torch.tensor(var, requires_grad=True)
    torch.nn.GaussianNLLLoss()(torch.tensor(x), torch.tensor(y), t).backward()
    assert dvar.shape == var_shape
    np.testing.assert_allclose(dvar, t.grad.numpy(), rtol=1e-13)


def test_gaussian_nll_float_var_and_bad_vars():
    m = npimpl.GaussianNLLLoss()
    m(np.zeros(3), np.ones(3), 0.5)
    assert m.backward()[2] is None
    with pytest.raises(ValueError, match="GaussianNLLLoss: var has negative entry/entries"):
        m(np.zeros(3), np.ones(3), np.array([1.0, -0.1, 1.0]))
    with pytest.raises(ValueError, match=r"GaussianNLLLoss: var is of incorrect size.*got \(2, 2\)"):
        m(np.zeros((2, 3)), np.ones((2, 3)), np.ones((2, 2)))


@pytest.mark.parametrize("reduction", ["none", "mean", "sum"])
@pytest.mark.parametrize("name", PAIRWISE)
def test_a_0d_input_gives_0d_arrays_like_torch(name, reduction):
    x, t = np.array(0.3), np.array(0.6)
    (loss, dx), (tl, tdx) = both(getattr(npimpl, name)(reduction=reduction),
                                 getattr(torch.nn, name)(reduction=reduction), x, t, np.array(1.0))
    assert isinstance(loss, np.ndarray) and isinstance(dx, np.ndarray)   # not numpy scalars
    assert loss.shape == dx.shape == ()
    np.testing.assert_allclose(loss, tl, rtol=1e-15)
    np.testing.assert_allclose(dx, tdx, rtol=1e-15)
