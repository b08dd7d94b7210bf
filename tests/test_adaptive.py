"""AdaptiveLogSoftmaxWithLoss: torch's layout and init, the (output, loss) pair, log_prob and
predict, clusters that no target reaches, and errors."""
import warnings

import numpy as np
import pytest
import torch

import npimpl
from reference import Spec, build


def pair(*args, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)      # torch: zero-element init is a no-op
        return build(Spec("AdaptiveLogSoftmaxWithLoss", *args, **kw), np.float64)


@pytest.mark.parametrize("args,kw", [((8, 20, [5, 12]), {}),
                                     ((10, 30, [4, 10, 20]), dict(div_value=2.5, head_bias=True))],
                         ids=["zero-width-tail", "div2.5-head-bias"])
def test_state_dict_layout_is_torchs(args, kw):
    np_mod, t_mod = pair(*args, **kw)
    assert [(k, v.shape) for k, v in np_mod.state_dict().items()] == \
        [(k, tuple(v.shape)) for k, v in t_mod.state_dict().items()]
    assert np_mod.tail[1][0].out_features == int(args[0] // kw.get("div_value", 4.0) ** 2)


def test_forward_backward_with_every_cluster_and_a_zero_width_projection():
    """in_features 8, div_value 4: the second cluster's projection has width 8 // 16 = 0."""
    np_mod, t_mod = pair(8, 20, [5, 12])
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((6, 8)), np.array([0, 7, 19, 4, 12, 6])
    out = np_mod(x, t)
    assert type(out).__name__ == "ASMoutput" and out._fields == ("output", "loss")
    go, gl = rng.standard_normal(6), np.array(0.7)
    dx = np_mod.backward(go, gl)
    xt = torch.tensor(x, requires_grad=True)
    tout = t_mod(xt, torch.tensor(t))
    torch.autograd.backward([tout.output, tout.loss], [torch.tensor(go), torch.tensor(gl)])
    np.testing.assert_allclose(out.output, tout.output.detach().numpy(), rtol=1e-10)
    np.testing.assert_allclose(out.loss, tout.loss.item(), rtol=1e-10)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-12)
    for (name, p), (_, tp) in zip(np_mod.named_parameters(), t_mod.named_parameters()):
        np.testing.assert_allclose(p.grad, tp.grad.numpy(), rtol=1e-10, atol=1e-12, err_msg=name)


def test_a_cluster_no_target_reaches_gets_no_gradient_like_torch():
    np_mod, t_mod = pair(8, 15, [6, 10], 2.0)
    x, t = np.random.default_rng(1).standard_normal((4, 8)), np.array([0, 7, 3, 5])
    np_mod(x, t)
    np_mod.backward(None, 1.0)
    t_mod(torch.tensor(x), torch.tensor(t)).loss.backward()
    grads = {n: p.grad for n, p in np_mod.named_parameters()}
    t_grads = {n: p.grad for n, p in t_mod.named_parameters()}
    assert {n for n, g in grads.items() if g is None} == {"tail.1.0.weight", "tail.1.1.weight"}
    assert {n for n, g in t_grads.items() if g is None} == {"tail.1.0.weight", "tail.1.1.weight"}


def test_log_prob_is_a_distribution_and_predict_is_its_argmax():
    np_mod, t_mod = pair(6, 12, [3, 7], 1.5, True)
    x = np.random.default_rng(2).standard_normal((50, 6)) * 3
    lp = np_mod.log_prob(x)
    np.testing.assert_allclose(np.exp(lp).sum(axis=1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(lp, t_mod.log_prob(torch.tensor(x)).detach().numpy(), rtol=1e-12)
    pred = np_mod.predict(x)
    np.testing.assert_array_equal(pred, t_mod.predict(torch.tensor(x)).numpy())
    np.testing.assert_array_equal(pred, lp.argmax(axis=1))
    assert pred.dtype == np.int64 and (pred >= 3).any() and (pred < 3).any()


def test_unbatched_input_gives_0d_output():
    np_mod, t_mod = pair(6, 12, [3, 7], 1.5)
    x = np.random.default_rng(3).standard_normal(6)
    out = np_mod(x, np.array(9))
    tout = t_mod(torch.tensor(x), torch.tensor(9))
    assert out.output.shape == () == tuple(tout.output.shape)
    np.testing.assert_allclose(out.output, tout.output.item(), rtol=1e-12)
    assert np_mod.backward(np.array(1.0), None).shape == (6,)


@pytest.mark.parametrize("cutoffs", [[], [5, 3], [0, 4], [4, 10], [4, 4], [2.5]],
                         ids=["empty", "unsorted", "zero", "too-big", "repeated", "fraction"])
def test_cutoffs_are_checked_as_torch_does(cutoffs):
    with pytest.raises(ValueError):
        torch.nn.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)
    with pytest.raises(ValueError, match="AdaptiveLogSoftmaxWithLoss: cutoffs should be a "
                                         "sequence"):
        npimpl.AdaptiveLogSoftmaxWithLoss(4, 10, cutoffs)


def test_bad_targets_and_shapes():
    m = npimpl.AdaptiveLogSoftmaxWithLoss(4, 10, [3, 6], dtype=np.float64)
    x = np.zeros((3, 4))
    with pytest.raises(IndexError, match=r"target values should be in \[0, 9\], got values in "
                                         r"\[0, 10\]"):
        m(x, np.array([0, 10, 2]))
    with pytest.raises(ValueError, match="a 1D target expects a 2D input with the same batch"):
        m(x, np.array([0, 1]))
    with pytest.raises(ValueError, match="0D or 1D target expected"):
        m(x, np.zeros((3, 1), np.int64))
    with pytest.raises(ValueError, match=r"log_prob expects input of shape \(N, 4\)"):
        m.log_prob(np.zeros(4))
