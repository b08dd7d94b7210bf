"""CrossEntropyLoss and NLLLoss (npimpl/crossentropy.py): corners the catalogue cannot show.
(Most of the losses' tests are in test_loss.py.)"""
import numpy as np
import pytest
import torch

import npimpl


@pytest.mark.parametrize("name,smoothing", [("CrossEntropyLoss", 0.0), ("CrossEntropyLoss", 0.1),
                                            ("NLLLoss", 0.0)], ids=["ce", "ce-smoothed", "nll"])
def test_mean_over_class_weights_summing_to_zero_matches_torch(name, smoothing):
    """'mean' divides by sum_n w[t_n] = 0: torch's gradient is ±inf off the target and NaN
    on it (CrossEntropyLoss), ±inf or NaN at the target and 0 elsewhere (NLLLoss); the
    whole row used to be NaN."""
    kw = {"label_smoothing": smoothing} if smoothing else {}
    w = np.array([1.0, -1.0, 0.0])
    x = np.random.default_rng(0).standard_normal((3, 3))
    t = np.array([0, 1, 2])
    m = getattr(npimpl, name)(weight=w, **kw)
    with np.errstate(all="raise"):
        loss, dx = m(x, t), m.backward()
    xt = torch.from_numpy(x).requires_grad_()
    tl = getattr(torch.nn, name)(weight=torch.from_numpy(w), **kw)(xt, torch.from_numpy(t))
    tl.backward()
    np.testing.assert_array_equal(loss, tl.detach().numpy())
    np.testing.assert_array_equal(dx, xt.grad.numpy())
    assert np.isinf(dx).any() or smoothing


def test_an_ignored_row_gets_no_gradient_even_from_a_nan_grad_output():
    x = np.random.default_rng(0).standard_normal((3, 4))
    t = np.array([1, -100, 2])
    g = np.array([1.0, np.nan, 2.0])
    for name in ("CrossEntropyLoss", "NLLLoss"):
        m = getattr(npimpl, name)(reduction="none")
        m(x, t)
        xt = torch.from_numpy(x).requires_grad_()
        getattr(torch.nn, name)(reduction="none")(xt, torch.from_numpy(t)).backward(
            torch.from_numpy(g))
        np.testing.assert_array_equal(m.backward(g), xt.grad.numpy())
