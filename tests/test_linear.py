"""Linear: torch's layout, initialisation, leading dims, accumulation and bad input."""
import math

import numpy as np
import pytest
import torch

import npimpl


def test_state_dict_layout_and_init_bound():
    """Weight (out, in) like torch; values from U(-1/sqrt(in), 1/sqrt(in)), not the article's
    U(0, 1): some are negative and none exceeds the bound."""
    m = npimpl.Linear(50, 40)
    t = torch.nn.Linear(50, 40)
    assert {k: v.shape for k, v in m.state_dict().items()} == \
        {k: tuple(v.shape) for k, v in t.state_dict().items()}
    bound = 1 / math.sqrt(50)
    for p in (m.weight.data, m.bias.data):
        assert p.dtype == np.float32
        assert np.abs(p).max() <= bound and p.min() < 0 < p.max()
    # the spread matches U(-b, b): std b/sqrt(3) within 10% on 2000 draws
    assert abs(m.weight.data.std() - bound / math.sqrt(3)) < 0.1 * bound / math.sqrt(3)


def test_reset_parameters_is_reproducible_with_an_rng():
    a, b = npimpl.Linear(4, 3), npimpl.Linear(4, 3)
    a.reset_parameters(np.random.default_rng(5))
    b.reset_parameters(np.random.default_rng(5))
    np.testing.assert_array_equal(a.weight.data, b.weight.data)


def test_backward_accumulates_and_never_updates_weights():
    """The article's Linear subtracts lr * dW inside backward; ours only fills .grad (+=)."""
    m = npimpl.Linear(3, 2, dtype=np.float64)
    w0 = m.weight.data.copy()
    x = np.arange(12.0).reshape(4, 3)
    dy = np.ones((4, 2))
    m(x)
    m.backward(dy)
    m(x)
    m.backward(dy)
    np.testing.assert_array_equal(m.weight.data, w0)
    np.testing.assert_allclose(m.weight.grad, 2 * dy.T @ x)
    np.testing.assert_allclose(m.bias.grad, 2 * dy.sum(0))


def test_zero_in_features_gives_bias_only():
    m = npimpl.Linear(0, 3, dtype=np.float64)
    y = m(np.zeros((2, 0)))
    np.testing.assert_array_equal(y, np.broadcast_to(m.bias.data, (2, 3)))


@pytest.mark.parametrize("x,match", [
    (np.zeros((4, 5), np.float32), r"Linear: expected input with 3 features in its last dim, "
                                   r"got shape \(4, 5\)"),
    (np.zeros((), np.float32), r"expected input with 3 features .* got shape \(\)"),
], ids=["wrong-features", "0-d"])
def test_wrong_feature_size_or_rank(x, match):
    with pytest.raises(ValueError, match=match):
        npimpl.Linear(3, 2)(x)


@pytest.mark.parametrize("x,match", [
    (np.zeros((4, 3), np.float64), r"Linear: input must have dtype float32 \(the module's "
                                   r"dtype\), got float64"),
    (np.zeros((4, 3), np.int64), "Linear: input must have dtype float32, got int64"),
    ([[0.0, 1.0, 2.0]], "Linear: input must be a numpy.ndarray, got list"),
], ids=["float64-into-float32", "int", "list"])
def test_wrong_dtype_or_type(x, match):
    with pytest.raises(TypeError, match=match):
        npimpl.Linear(3, 2)(x)


def test_wrong_grad_output_shape():
    m = npimpl.Linear(3, 2)
    m(np.zeros((4, 3), np.float32))
    with pytest.raises(ValueError, match=r"Linear: grad_output must have shape \(4, 2\), got "
                                         r"\(2, 4\)"):
        m.backward(np.zeros((2, 4), np.float32))


def test_bias_false_registers_none_like_torch():
    m = npimpl.Linear(3, 2, bias=False)
    assert m.bias is None and list(m.state_dict()) == ["weight"]
