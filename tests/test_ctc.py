"""CTCLoss: what the catalogue cannot show. The gradient convention torch uses (and why it
is invisible behind a LogSoftmax), exact values where one path is the only alignment, the
'mean' formula, impossible alignments, long inputs, the argument forms, and bad input
against torch's own answers."""
import inspect

import numpy as np
import pytest
import torch

import npimpl
from compare.docs import parse_docstring

F = torch.nn.functional
REDUCTIONS = ["none", "mean", "sum"]


def log_softmax(x, axis=-1):
    m = x.max(axis, keepdims=True)
    return x - m - np.log(np.exp(x - m).sum(axis, keepdims=True))


def to_t(a):
    return torch.tensor(a) if isinstance(a, np.ndarray) else a


def both(lp, targets, il, tl, g=None, **kw):
    """``(loss, grad)`` from npimpl and from torch autograd for upstream gradient g."""
    m = npimpl.CTCLoss(**kw)
    loss = m(lp.copy(), targets, il, tl)
    grad = m.backward(g)
    x = torch.tensor(lp, requires_grad=True)
    tl_ = F.ctc_loss(x, to_t(targets), to_t(il), to_t(tl), **kw)
    tl_.backward(None if g is None else torch.tensor(g))
    return (loss, grad), (tl_.detach().numpy(), x.grad.numpy())


def assert_same(ours, theirs, rtol=1e-10, atol=1e-12):
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype
        np.testing.assert_allclose(a, b, rtol=rtol, atol=atol, equal_nan=True)


def batch(T=10, N=3, C=5, seed=0, normalised=True, scale=1.0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((T, N, C)) * scale
    return log_softmax(x) if normalised else x


TG = np.array([[1, 2, 2], [3, 1, 0], [4, 1, 4]])
IL, TL = np.array([10, 7, 10]), np.array([3, 2, 3])


# --- the gradient convention ---------------------------------------------------------------------
def numeric_grad(f, x, idx, h=1e-6):
    x1, x2 = x.copy(), x.copy()
    x1[idx] += h
    x2[idx] -= h
    return (f(x1) - f(x2)) / (2 * h)


def test_torch_returns_exp_log_probs_minus_gamma_not_the_derivative():
    """For unnormalised log_probs torch's gradient is exp(lp) - gamma (npimpl's too), and the
    derivative of the loss is -gamma = gradient - exp(lp): measured by finite differences."""
    lp = batch(normalised=False, seed=1)
    (loss, grad), (tl, tgrad) = both(lp, TG, IL, TL, reduction="sum")
    np.testing.assert_allclose(grad, tgrad, rtol=1e-10, atol=1e-12)
    m = npimpl.CTCLoss(reduction="sum")
    derivative = grad - np.exp(lp) * (np.arange(10)[:, None] < IL)[:, :, None]   # -gamma
    for idx in [(0, 0, 1), (3, 1, 0), (6, 2, 4), (9, 0, 0), (5, 1, 3)]:
        d = numeric_grad(lambda z: float(m(z, TG, IL, TL)), lp, idx)
        assert abs(derivative[idx] - d) < 1e-7
        assert abs(grad[idx] - d) > 1e-3                  # torch's value is not the derivative
    assert np.abs(grad - derivative).max() > 1.0          # exp(lp) of unnormalised scores


def test_through_a_log_softmax_both_conventions_give_the_derivative():
    """log_softmax's backward cancels the extra exp(lp) = softmax exactly: the chain matches
    torch's autograd and finite differences of the composite."""
    rng = np.random.default_rng(2)
    logits = rng.standard_normal((10, 3, 5)) * 2
    g = rng.standard_normal(3)
    lsm, ctc = npimpl.LogSoftmax(dim=-1), npimpl.CTCLoss(reduction="none")
    ctc(lsm(logits), TG, IL, TL)
    dx = lsm.backward(ctc.backward(g))
    x = torch.tensor(logits, requires_grad=True)
    F.ctc_loss(x.log_softmax(-1), torch.tensor(TG), torch.tensor(IL), torch.tensor(TL),
               reduction="none").backward(torch.tensor(g))
    np.testing.assert_allclose(dx, x.grad.numpy(), rtol=1e-10, atol=1e-12)

    def f(z):
        return float((npimpl.CTCLoss(reduction="none")(log_softmax(z), TG, IL, TL) * g).sum())
    for idx in [(0, 0, 0), (4, 2, 3), (9, 1, 2)]:
        assert abs(dx[idx] - numeric_grad(f, logits, idx)) < 1e-7


# --- exact values ---------------------------------------------------------------------------------
def test_repeated_label_needs_a_blank_between():
    """'a a' in 3 frames has one alignment, a-blank-a; in 2 frames none (loss inf)."""
    lp = batch(T=3, N=1, C=3, seed=3)
    loss = npimpl.CTCLoss(reduction="sum")(lp, np.array([[1, 1]]), (3,), (2,))
    np.testing.assert_allclose(loss, -(lp[0, 0, 1] + lp[1, 0, 0] + lp[2, 0, 1]), rtol=1e-14)
    short = npimpl.CTCLoss(reduction="none")(lp[:2], np.array([[1, 1]]), (2,), (2,))
    assert short[0] == np.inf
    distinct = npimpl.CTCLoss(reduction="none")(lp[:2], np.array([[1, 2]]), (2,), (2,))
    np.testing.assert_allclose(distinct, [-(lp[0, 0, 1] + lp[1, 0, 2])], rtol=1e-14)


def test_an_empty_target_is_all_blanks_and_an_empty_input_is_certain_or_impossible():
    lp = batch(T=4, N=3, C=3, seed=4)
    (loss, grad), (tl, tgrad) = both(lp, np.array([[1], [1], [0]]), (4, 0, 0), (0, 1, 0),
                                     np.ones(3), reduction="none")
    np.testing.assert_allclose(loss[0], -lp[:, 0, 0].sum(), rtol=1e-14)
    assert loss[1] == np.inf and loss[2] == 0.0
    assert not np.any(grad[:, 1:]) and not np.any(tgrad[:, 1:])    # no frames, no gradient
    assert_same((loss, grad), (tl, tgrad))


def test_mean_divides_each_loss_by_its_target_length_first():
    lp = batch(seed=5)
    tl = np.array([3, 0, 2])
    per = npimpl.CTCLoss(reduction="none")(lp, TG, IL, tl)
    mean = npimpl.CTCLoss()(lp, TG, IL, tl)
    np.testing.assert_allclose(mean, (per / np.maximum(tl, 1)).mean(), rtol=1e-15)
    assert not np.isclose(mean, per.sum() / tl.sum())
    (l, g), (t, tg) = both(lp, TG, IL, tl, reduction="mean")
    assert_same((l, g), (t, tg))


@pytest.mark.parametrize("zero_infinity", [False, True])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_impossible_alignments_match_torch(reduction, zero_infinity):
    lp = batch(T=4, seed=6)
    targets = np.array([[1, 1, 1], [1, 2, 3], [2, 2, 2]])            # 5, 3 and 5 frames needed
    il, tl = np.array([4, 4, 4]), np.array([3, 3, 2])
    g = np.array([0.5, -1.0, 2.0]) if reduction == "none" else None
    (loss, grad), theirs = both(lp, targets, il, tl, g, reduction=reduction,
                                zero_infinity=zero_infinity)
    assert_same((loss, grad), theirs)
    if zero_infinity:
        assert np.isfinite(loss).all() and not np.any(grad[:, 0])
    elif reduction == "none":
        assert loss[0] == np.inf and np.isnan(grad[:, 0]).all() and np.isfinite(grad[:, 1]).all()


def test_long_inputs_stay_finite_and_match_torch():
    """T = 400 frames with log-probs near -3: path probabilities around e^-1100, far below
    float64's e^-745, are summed in log space."""
    lp = batch(T=400, N=2, C=6, seed=7, scale=3.0)
    rng = np.random.default_rng(7)
    targets = rng.integers(1, 6, (2, 60))
    (loss, grad), theirs = both(lp, targets, (400, 350), (60, 45), np.ones(2), reduction="none")
    assert np.all(loss > 745) and np.isfinite(grad).all()
    assert_same((loss, grad), theirs)


# --- argument forms ---------------------------------------------------------------------------------
def test_lengths_as_arrays_tuples_lists_and_targets_padded_or_concatenated_agree():
    lp = batch(seed=8)
    concat = np.concatenate([TG[n, :TL[n]] for n in range(3)])
    m = npimpl.CTCLoss(reduction="none")
    ref = m(lp, TG, IL, TL)
    for targets, il, tl in [(concat, IL, TL), (TG, tuple(IL.tolist()), list(TL.tolist())),
                            (TG, IL.astype(np.int32), TL.astype(np.uint8)),
                            (concat, [np.int64(v) for v in IL], tuple(TL))]:
        np.testing.assert_array_equal(m(lp, targets, il, tl), ref)


@pytest.mark.parametrize("targets", [np.array([2, 1, 2]), np.array([[2, 1, 2, 0]])],
                         ids=["concatenated", "padded"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_unbatched_input_matches_torch(reduction, targets):
    lp = batch(T=8, N=1, C=4, seed=9)[:, 0]
    g = np.array(1.5) if reduction == "none" else None
    ours, theirs = both(lp, targets, np.array(7), np.array(3), g, reduction=reduction)
    assert ours[0].shape == () and ours[1].shape == (8, 4)
    assert_same(ours, theirs)


def test_float32_and_nonzero_blank_match_torch():
    lp = batch(T=30, seed=10).astype(np.float32)
    targets = np.array([[0, 1, 2], [2, 2, 0], [4, 1, 0]])
    ours, theirs = both(lp, targets, (30, 25, 20), (3, 2, 3), reduction="mean", blank=3)
    assert ours[0].dtype == np.float32
    assert_same(ours, theirs, rtol=1.3e-6, atol=1e-5)


# --- bad input ------------------------------------------------------------------------------------
def torch_raises(*args, **kw):
    with pytest.raises((RuntimeError, ValueError, TypeError, IndexError)):
        F.ctc_loss(*[to_t(a) for a in args], **kw)


@pytest.mark.parametrize("il,tl,msg", [
    ((11, 7, 10), (3, 2, 3), r"input_lengths must lie in \[0, T = 10\], got 11"),
    ((10, -1, 10), (3, 2, 3), r"input_lengths must lie in \[0, T = 10\], got -1"),
    ((10, 7, 10), (3, -2, 3), "target_lengths must be >= 0, got -2"),
    ((10, 7), (3, 2, 3), "input_lengths must have one entry per sample: expected 3, got 2"),
    ((10, 7, 10), (3, 2, 4), r"2-D targets must be \(N = 3, S >= max target length 4\)"),
], ids=["input-longer-than-T", "negative-input", "negative-target", "too-few", "target-longer"])
def test_bad_lengths_raise_where_torch_does(il, tl, msg):
    lp = batch(seed=11)
    with pytest.raises(ValueError, match=f"CTCLoss: {msg}"):
        npimpl.CTCLoss()(lp, TG, il, tl)
    torch_raises(lp, TG, il, tl)


@pytest.mark.parametrize("lp_shape,targets,err,msg", [
    ((10, 3, 5, 1), TG, ValueError, r"log_probs must be \(T, N, C\) or unbatched \(T, C\)"),
    ((10,), TG, ValueError, r"log_probs must be \(T, N, C\)"),
    ((10, 3, 5), TG[:, :, None], ValueError, "targets must be 1-D .concatenated. or 2-D"),
    ((10, 3, 5), np.arange(7), ValueError, "1-D targets are the concatenated targets: expected "
     r"sum.target_lengths. = 8 labels, got 7"),
    ((0, 3, 5), TG, ValueError, "log_probs must not be empty"),
], ids=["4d", "1d", "3d-targets", "concatenated-short", "empty"])
def test_wrong_ranks_and_sizes_raise_where_torch_does(lp_shape, targets, err, msg):
    lp = np.zeros(lp_shape)
    with pytest.raises(err, match=f"CTCLoss: {msg}"):
        npimpl.CTCLoss()(lp, targets, IL, TL)
    torch_raises(lp, targets, IL if lp.ndim == 3 else (10,), TL if lp.ndim == 3 else (3,))


def test_blank_out_of_range_and_argument_types():
    lp = batch(seed=12)
    for blank in (5, -1):
        with pytest.raises(ValueError, match=r"CTCLoss: blank must be in label range \[0, 5\)"):
            npimpl.CTCLoss(blank=blank)(lp, TG, IL, TL)
        torch_raises(lp, TG, IL, TL, blank=blank)
    with pytest.raises(TypeError, match="CTCLoss: input_lengths must hold integers"):
        npimpl.CTCLoss()(lp, TG, IL.astype(float), TL)
    torch_raises(lp, TG, torch.tensor(IL, dtype=torch.float64), torch.tensor(TL))
    with pytest.raises(TypeError, match="CTCLoss: input_lengths must be a tuple or list of ints"):
        npimpl.CTCLoss()(lp, TG, [10.0, 7.0, 10.0], TL)
    with pytest.raises(TypeError, match="CTCLoss: input_lengths must be an integer array"):
        npimpl.CTCLoss()(lp[:, :1], TG[:1], 10, 3)                # torch refuses a bare int too
    torch_raises(lp[:, :1], TG[:1], 10, 3)
    with pytest.raises(TypeError, match="CTCLoss: targets must have an integer dtype"):
        npimpl.CTCLoss()(lp, TG.astype(float), IL, TL)          # torch casts; npimpl refuses


def test_out_of_range_labels_raise_where_torchs_kernel_reads_past_the_row():
    """torch does not check labels: label C of sample 0 reads log_probs[t, 1, 0], sample 1's
    blank, and gives a finite loss. (Only the forward is run, and only with a label whose read
    stays inside the tensor: torch's backward would *write* out of bounds.)"""
    lp = batch(seed=13)
    bad = TG.copy()
    bad[0, 1] = 5
    with pytest.raises(IndexError, match=r"CTCLoss: target label 5 is out of range: expected "
                                         r"classes in \[0, 5\)"):
        npimpl.CTCLoss()(lp, bad, IL, TL)
    loss = F.ctc_loss(torch.tensor(lp), torch.tensor(bad), torch.tensor(IL), torch.tensor(TL),
                      reduction="none")
    assert torch.isfinite(loss).all()                           # no error in torch


def test_a_label_equal_to_blank_is_refused_because_torchs_gradient_is_then_inconsistent():
    """torch computes it, but with the last label equal to blank its gradient (through a
    LogSoftmax, where it should be the derivative) misses torch's own finite difference."""
    rng = np.random.default_rng(14)
    logits = rng.standard_normal((6, 1, 4))
    targets, il, tl = torch.tensor([[1, 2]]), (6,), (2,)
    with pytest.raises(ValueError, match="CTCLoss: target labels must not be the blank index 2"):
        npimpl.CTCLoss(blank=2)(log_softmax(logits), targets.numpy(), il, tl)

    def torch_loss(z):
        return F.ctc_loss(torch.tensor(z).log_softmax(-1), targets, il, tl, blank=2,
                          reduction="sum").item()
    x = torch.tensor(logits, requires_grad=True)
    F.ctc_loss(x.log_softmax(-1), targets, il, tl, blank=2, reduction="sum").backward()
    last_blank = (5, 0, 2)
    assert abs(x.grad[last_blank].item() - numeric_grad(torch_loss, logits, last_blank)) > 1e-2
    inner = (2, 0, 2)
    assert abs(x.grad[inner].item() - numeric_grad(torch_loss, logits, inner)) < 1e-7


def test_nan_log_probs_give_nan_like_torch():
    """A NaN in a class the target reads poisons that sample; one in any other class only
    its own gradient entry (exp(NaN))."""
    lp = batch(seed=15)
    lp[3, 1, 3] = np.nan                    # sample 1 reads classes 0 (blank), 3 and 1
    lp[2, 2, 2] = np.nan                    # sample 2 reads 0, 4 and 1, not 2
    ours, theirs = both(lp, TG, IL, TL, np.ones(3), reduction="none")
    assert np.isnan(ours[0][1]) and np.isfinite(ours[0][[0, 2]]).all()
    assert np.isnan(ours[1][2, 2, 2]) and np.isnan(ours[1][:7, 1]).all()
    assert np.isfinite(np.delete(ours[1][:, 2], 2, axis=0)).all()
    assert_same(ours, theirs)


# --- the contract -----------------------------------------------------------------------------------
def test_signature_and_docstring():
    ours = [(p.name, p.default) for p in inspect.signature(npimpl.CTCLoss).parameters.values()
            if p.name != "dtype"]
    theirs = [(p.name, p.default) for p in inspect.signature(torch.nn.CTCLoss).parameters.values()]
    assert ours == theirs
    _, sections = parse_docstring(npimpl.CTCLoss.__doc__)
    assert {"Args", "Shape", "Backward", "What torch hides"} <= set(sections)
    assert "exp(log_probs) - gamma" in sections["What torch hides"]
