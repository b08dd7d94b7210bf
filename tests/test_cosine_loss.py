"""CosineEmbeddingLoss: gradients vs torch autograd, the EPSILON, the hinge, odd labels, errors.

The catalogue compares random and constructed pairs through the engine; these tests pin each
of torch's hidden choices on its own, with the exact value where one can be written down.
"""
import inspect
import warnings

import numpy as np
import pytest
import torch

import npimpl
from compare.docs import parse_docstring
from npimpl.cosine_loss import EPSILON

REDUCTIONS = ["none", "mean", "sum"]


def both(x1, x2, y, g=None, **kw):
    """``(loss, dx1, dx2)`` from npimpl and from torch autograd (upstream gradient g)."""
    m = npimpl.CosineEmbeddingLoss(**kw)
    loss = m(x1.copy(), x2.copy(), y.copy())
    dx1, dx2 = m.backward(g)
    t1, t2 = (torch.tensor(v, requires_grad=True) for v in (x1, x2))
    tl = torch.nn.CosineEmbeddingLoss(**kw)(t1, t2, torch.tensor(y))
    tl.backward(None if g is None else torch.tensor(g))
    return (loss, dx1, dx2), (tl.detach().numpy(), t1.grad.numpy(), t2.grad.numpy())


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("margin", [0.0, 0.3, -0.5], ids=lambda m: f"margin{m}")
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_forward_and_both_gradients_match_torch_autograd_float64(reduction, margin, batched):
    rng = np.random.default_rng(1)
    shape, yshape = ((6, 5), (6,)) if batched else ((5,), ())
    x1, x2 = rng.standard_normal(shape), rng.standard_normal(shape)
    y = rng.choice([-1.0, 1.0], yshape)
    g = rng.standard_normal(yshape) if reduction == "none" else None
    ours, theirs = both(x1, x2, y, g, margin=margin, reduction=reduction)
    for a, b, what in zip(ours, theirs, ("loss", "dx1", "dx2")):
        assert a.shape == b.shape and a.dtype == np.float64, what
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=what)


def test_backward_returns_one_gradient_per_input_and_none_for_the_target():
    m = npimpl.CosineEmbeddingLoss()
    assert m.grad_inputs == (0, 1)
    rng = np.random.default_rng(2)
    m(rng.standard_normal((3, 4)), rng.standard_normal((3, 4)), np.ones(3))
    out = m.backward()
    assert isinstance(out, tuple) and len(out) == 2 and all(o.shape == (3, 4) for o in out)


def test_float32_stays_float32_and_matches_torch():
    rng = np.random.default_rng(3)
    x1, x2 = (rng.standard_normal((4, 3)).astype(np.float32) for _ in range(2))
    y = np.array([1, -1, 1, -1], dtype=np.float32)
    ours, theirs = both(x1, x2, y, margin=-0.2)
    for a, b in zip(ours, theirs):
        assert a.dtype == np.float32
        np.testing.assert_allclose(a, b, rtol=1.3e-6, atol=1e-5)


# --- the EPSILON --------------------------------------------------------------------------------
def test_epsilon_is_atens_float32_constant():
    assert EPSILON == float(np.float32(1e-12)) and EPSILON != 1e-12


def test_zero_vector_gradient_follows_the_float32_epsilon_inside_the_squared_norm():
    """x1 = 0: cos = 0 and dcos/dx1 = x2 / sqrt(EPS (|x2|^2 + EPS)), ~1e6: finite, not NaN."""
    x1, x2, y = np.zeros((1, 3)), np.array([[1.0, 2.0, 2.0]]), np.array([1.0])
    (loss, dx1, dx2), (tl, tdx1, tdx2) = both(x1, x2, y, reduction="sum")
    assert loss == 1.0 == tl
    expected = -x2 / np.sqrt(EPSILON * (9.0 + EPSILON))
    np.testing.assert_allclose(dx1, expected, rtol=1e-15)
    np.testing.assert_allclose(dx1, tdx1, rtol=1e-12)
    np.testing.assert_array_equal(dx2, np.zeros((1, 3)))
    np.testing.assert_array_equal(tdx2, np.zeros((1, 3)))
    # a double 1e-12 would miss torch by 2e-9 relative: 20 times the float64 tolerance
    with_double = -x2 / np.sqrt(1e-12 * (9.0 + 1e-12))
    assert not np.allclose(with_double, tdx1, rtol=1e-10, atol=0)


def test_tiny_vectors_are_not_unit_vectors():
    """|x|^2 = 1e-14 << EPS: the EPSILON, not the direction, sets cos (a clamp would not)."""
    x = np.array([[1e-7, 0.0]])
    (loss, _, _), (tl, _, _) = both(x, x.copy(), np.array([1.0]), reduction="sum")
    np.testing.assert_allclose(loss, tl, rtol=1e-12)
    cos = 1e-14 / (1e-14 + EPSILON)
    np.testing.assert_allclose(loss, 1 - cos, rtol=1e-12)
    assert loss > 0.9                   # a parallel pair still costs almost the full 1


# --- the hinge and the labels -------------------------------------------------------------------
def test_orthogonal_dissimilar_pair_sits_on_the_hinge_and_is_still_pushed():
    # cos = 0 exactly and margin 0: clamp_min's backward tests cos - margin >= 0
    x1, x2, y = np.array([[1.0, 0.0, 0.0]]), np.array([[0.0, 2.0, 0.0]]), np.array([-1.0])
    (loss, dx1, dx2), (tl, tdx1, tdx2) = both(x1, x2, y, reduction="sum")
    assert loss == 0.0 == tl
    np.testing.assert_array_equal(dx1, tdx1)
    np.testing.assert_array_equal(dx2, tdx2)
    np.testing.assert_allclose(dx1, [[0.0, 1.0, 0.0]], rtol=1e-11)    # x2 / |x1||x2|
    np.testing.assert_allclose(dx2, [[0.5, 0.0, 0.0]], rtol=1e-11)


def test_dissimilar_pair_below_the_margin_gets_no_gradient():
    x1, x2 = np.array([[1.0, 0.0]]), np.array([[-1.0, 1.0]])        # cos = -1/sqrt(2)
    (loss, dx1, dx2), (tl, tdx1, _) = both(x1, x2, np.array([-1.0]), margin=-0.5)
    assert loss == 0.0 == tl
    np.testing.assert_array_equal(dx1, np.zeros((1, 2)))
    np.testing.assert_array_equal(tdx1, np.zeros((1, 2)))


@pytest.mark.parametrize("label", [0.0, 2.0, 0.5, -0.0], ids=str)
def test_a_label_other_than_pm1_takes_neither_branch(label):
    rng = np.random.default_rng(4)
    x1, x2 = rng.standard_normal((3, 4)), rng.standard_normal((3, 4))
    y = np.array([1.0, label, -1.0])
    (loss, dx1, dx2), (tl, tdx1, tdx2) = both(x1, x2, y, margin=-1.0, reduction="none",
                                              g=np.ones(3))
    assert loss[1] == 0.0 == tl[1]
    assert loss[0] > 0 and loss[2] > 0
    np.testing.assert_array_equal(dx1[1], 0.0)
    np.testing.assert_array_equal(dx2[1], 0.0)
    np.testing.assert_allclose(dx1, tdx1, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(dx2, tdx2, rtol=1e-10, atol=1e-12)


def test_mean_divides_by_every_pair_including_those_with_odd_labels():
    rng = np.random.default_rng(5)
    x1, x2 = rng.standard_normal((4, 3)), rng.standard_normal((4, 3))
    y = np.array([1.0, 0.0, 0.0, 1.0])
    m = npimpl.CosineEmbeddingLoss(reduction="none")
    per_pair = m(x1, x2, y)
    np.testing.assert_allclose(npimpl.CosineEmbeddingLoss()(x1, x2, y), per_pair.sum() / 4,
                               rtol=1e-15)


def test_empty_batch_mean_is_nan_like_torch():
    x = np.zeros((0, 3))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        (loss, dx1, dx2), (tl, tdx1, _) = both(x, x.copy(), np.zeros(0))
    assert np.isnan(loss) and np.isnan(tl)
    assert dx1.shape == tdx1.shape == (0, 3) and dx2.shape == (0, 3)


# --- the signature and the errors ---------------------------------------------------------------
def test_signature_is_torchs():
    ours = inspect.signature(npimpl.CosineEmbeddingLoss)
    theirs = inspect.signature(torch.nn.CosineEmbeddingLoss)
    assert [(p.name, p.default) for p in ours.parameters.values()][:4] == \
           [(p.name, p.default) for p in theirs.parameters.values()]
    assert list(ours.parameters)[4:] == ["dtype"]


def test_docstring_has_the_teaching_sections():
    summary, sections = parse_docstring(npimpl.CosineEmbeddingLoss.__doc__)
    assert "cos(x1_i, x2_i)" in summary
    for name in ("Args", "Shape", "Backward", "What torch hides"):
        assert sections.get(name), name
    assert "EPSILON" in sections["What torch hides"]


def _raises(exc, match, x1_shape, x2_shape, y, **kw):
    rng = np.random.default_rng(6)
    m = npimpl.CosineEmbeddingLoss(**kw)
    with pytest.raises(exc, match=match):
        m(rng.standard_normal(x1_shape), rng.standard_normal(x2_shape), y)


@pytest.mark.parametrize("x1_shape,x2_shape,y,match", [
    ((3, 4), (3, 4), np.ones((3, 1)), r"expected a 0-D or 1-D target .* got 2-D .* \(3, 1\)"),
    ((3, 4), (3, 4), np.array(1.0), r"a 0-D target expects 1-D inputs, got input1 \(3, 4\)"),
    ((4,), (4,), np.ones(3), r"a 1-D target expects 2-D inputs, got input1 \(4,\)"),
    ((3, 4), (4,), np.ones(3), r"a 1-D target expects 2-D inputs, .* input2 \(4,\)"),
    ((2, 3, 4), (2, 3, 4), np.ones(2), r"a 1-D target expects 2-D inputs"),
    ((3, 4), (3, 5), np.ones(3), r"input1 and input2 must have the same shape, got \(3, 4\)"),
    ((3, 4), (1, 4), np.ones(3), r"input1 and input2 must have the same shape, got \(3, 4\) "
                                 r"and \(1, 4\)"),
    ((3, 4), (3, 4), np.ones(2), r"target must have shape \(3,\) .* got \(2,\)"),
    ((3, 4), (3, 4), np.ones(1), r"target must have shape \(3,\) .* got \(1,\)"),
], ids=["target-2d", "target-0d-inputs-2d", "target-1d-inputs-1d", "input2-1d", "inputs-3d",
        "width-differs", "input2-broadcast", "target-short", "target-broadcast"])
def test_shape_errors_name_the_module_and_both_shapes(x1_shape, x2_shape, y, match):
    _raises(ValueError, "CosineEmbeddingLoss: " + match, x1_shape, x2_shape, y)


@pytest.mark.parametrize("x1_shape,x2_shape,y", [
    ((3, 4), (3, 4), np.ones((3, 1))), ((3, 4), (3, 4), np.array(1.0)),
    ((4,), (4,), np.ones(3)), ((3, 4), (3, 5), np.ones(3)), ((3, 4), (3, 4), np.ones(2)),
], ids=["target-2d", "target-0d-inputs-2d", "target-1d-inputs-1d", "width-differs",
        "target-short"])
def test_torch_refuses_the_same_shapes(x1_shape, x2_shape, y):
    with pytest.raises(RuntimeError):
        torch.nn.CosineEmbeddingLoss()(torch.randn(x1_shape), torch.randn(x2_shape),
                                       torch.tensor(y))


def test_dtype_errors():
    x = np.ones((2, 3))
    m = npimpl.CosineEmbeddingLoss()
    with pytest.raises(TypeError, match="CosineEmbeddingLoss: target must have dtype float64"):
        m(x, x, np.ones(2, dtype=np.int64))
    with pytest.raises(TypeError, match="CosineEmbeddingLoss: input2 must have dtype float64"):
        m(x, x.astype(np.float32), np.ones(2))
    with pytest.raises(TypeError, match="CosineEmbeddingLoss: input1 must be a numpy.ndarray"):
        m(x.tolist(), x, np.ones(2))
    with pytest.raises(TypeError, match="input1 must have dtype float32 .the module's dtype"):
        npimpl.CosineEmbeddingLoss(dtype=np.float32)(x, x, np.ones(2))


def test_reduction_grad_output_and_order_errors():
    with pytest.raises(ValueError, match="CosineEmbeddingLoss: 'avg' is not a valid value"):
        npimpl.CosineEmbeddingLoss(reduction="avg")
    m = npimpl.CosineEmbeddingLoss(reduction="none")
    with pytest.raises(RuntimeError):
        m.backward()
    m(np.ones((3, 2)), np.ones((3, 2)), np.ones(3))
    with pytest.raises(ValueError, match=r"grad_output must have the loss's shape \(3,\)"):
        m.backward(np.ones(2))


def test_legacy_flags_map_like_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for size_average, reduce in [(None, False), (False, None), (True, True)]:
            ours = npimpl.CosineEmbeddingLoss(0.0, size_average, reduce).reduction
            assert ours == torch.nn.CosineEmbeddingLoss(0.0, size_average, reduce).reduction
