"""TransformerEncoderLayer: torch's parameter names, finite differences both norm orders,
dropout bookkeeping, errors."""
import numpy as np
import pytest
import torch

import npimpl

R = np.random.default_rng(0)


@pytest.mark.parametrize("kw", [{}, dict(bias=False, norm_first=True)], ids=["default", "nobias"])
def test_state_dict_matches_torch(kw):
    ours = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kw).state_dict()
    theirs = torch.nn.TransformerEncoderLayer(8, 2, dim_feedforward=16, **kw).state_dict()
    assert list(ours) == list(theirs)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


@pytest.mark.parametrize("norm_first", [False, True], ids=["postnorm", "prenorm"])
@pytest.mark.parametrize("activation", ["relu", "gelu"])
def test_backward_matches_finite_differences(norm_first, activation):
    m = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0,
                                       activation=activation, norm_first=norm_first,
                                       dtype=np.float64)
    for p in m.parameters():
        p.data[...] += 0.1 * R.standard_normal(p.shape)   # non-trivial norm weights and biases
    x = R.standard_normal((5, 2, 8))
    mask = np.triu(np.ones((5, 5), bool), 1)
    g = R.standard_normal(x.shape)
    f = lambda: float((m(x, src_mask=mask) * g).sum())  # noqa: E731
    f()
    dx = m.backward(g)
    params = list(m.parameters())
    eps = 1e-6
    for arr, ga in [(x, dx)] + [(p.data, p.grad) for p in params]:
        for idx in R.choice(arr.size, min(4, arr.size), replace=False):
            old = arr.flat[idx]
            arr.flat[idx] = old + eps
            up = f()
            arr.flat[idx] = old - eps
            down = f()
            arr.flat[idx] = old
            assert ga.flat[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)


def test_dropout_masks_drawn_in_training_and_eval_is_deterministic():
    m = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.5,
                                       rng=np.random.default_rng(0), dtype=np.float64)
    x = R.standard_normal((5, 1, 8))
    m(x)
    assert all(d.mask is not None for d in (m.dropout, m.dropout1, m.dropout2, m.self_attn))
    m.eval()
    # eval is the layer without dropout: the same weights with dropout=0 give the same output
    plain = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=12, dropout=0.0,
                                           dtype=np.float64)
    plain.load_state_dict(m.state_dict())
    np.testing.assert_array_equal(m(x), plain(x))
    assert m.dropout.mask is None and m.self_attn.mask is None


def test_rng_setter_reaches_every_dropout():
    m = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=12)
    rng = np.random.default_rng(5)
    m.rng = rng
    assert all(d.rng is rng for d in (m.dropout, m.dropout1, m.dropout2, m.self_attn))


def test_bad_activation_and_backward_first():
    with pytest.raises(ValueError, match="activation"):
        npimpl.TransformerEncoderLayer(8, 2, activation="tanh")
    with pytest.raises(RuntimeError, match="before forward"):
        npimpl.TransformerEncoderLayer(8, 2).backward(np.zeros((3, 1, 8), np.float32))


@pytest.mark.parametrize("shape", [(5, 2, 6), (5,), (1, 5, 2, 8)], ids=["features", "1d", "4d"])
def test_bad_src_is_refused_naming_the_layer(shape):
    m = npimpl.TransformerEncoderLayer(8, 2, dim_feedforward=12, dtype=np.float64)
    with pytest.raises(ValueError, match="TransformerEncoderLayer"):
        m(np.zeros(shape))
