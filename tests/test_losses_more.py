"""The margin, hinge, Poisson and triplet losses, NLLLoss2d, and the two inputs npimpl used to
refuse (an int64 MarginRankingLoss target, a broadcasting GaussianNLLLoss target or var):
torch's choices at the kinks, exact values, the distance protocol, errors."""
import inspect
import itertools
import math
import warnings

import numpy as np
import pytest
import torch

import npimpl
from compare.docs import parse_docstring

NEW = ["HingeEmbeddingLoss", "SoftMarginLoss", "MultiLabelSoftMarginLoss", "MultiMarginLoss",
       "MultiLabelMarginLoss", "PoissonNLLLoss", "TripletMarginLoss",
       "TripletMarginWithDistanceLoss", "CTCLoss", "NLLLoss2d", "AdaptiveLogSoftmaxWithLoss",
       "LinearCrossEntropyLoss"]
REDUCTIONS = ["none", "mean", "sum"]


def run(name, xs, g=None, n_diff=1, **kw):
    """``(loss, grads)`` from npimpl and from torch autograd; the first n_diff inputs are
    differentiated."""
    m = getattr(npimpl, name)(**kw)
    loss = m(*[x.copy() for x in xs])
    grads = m.backward(g)
    grads = grads if isinstance(grads, tuple) else (grads,)
    ts = [torch.tensor(x, requires_grad=i < n_diff) for i, x in enumerate(xs)]
    tkw = {k: torch.tensor(v) if isinstance(v, np.ndarray) else v for k, v in kw.items()}
    tl = getattr(torch.nn, name)(**tkw)(*ts)
    if tl.requires_grad:
        tl.backward(None if g is None else torch.tensor(g))
    tgrads = tuple(np.zeros_like(x) if t.grad is None else t.grad.numpy()
                   for x, t in zip(xs[:n_diff], ts))
    return (loss, grads[:n_diff]), (tl.detach().numpy(), tgrads)


def assert_same(ours, theirs):
    (loss, grads), (tl, tgrads) = ours, theirs
    assert loss.shape == tl.shape and loss.dtype == tl.dtype
    np.testing.assert_allclose(loss, tl, rtol=1e-10, atol=1e-12, equal_nan=True)
    for a, b in zip(grads, tgrads):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, equal_nan=True)


# --- the contract ---------------------------------------------------------------------------------
@pytest.mark.parametrize("name", NEW)
def test_signature_is_torchs_and_docstring_teaches(name):
    def params(cls):
        return [(p.name, p.default, p.kind) for p in inspect.signature(cls).parameters.values()
                if p.name != "dtype"]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        torch_cls = getattr(torch.nn, name)
    theirs = params(torch_cls.__init__)[1:] if name == "NLLLoss2d" else params(torch_cls)
    assert params(getattr(npimpl, name)) == theirs
    _, sections = parse_docstring(getattr(npimpl, name).__doc__)
    assert {"Args", "Shape", "Backward", "What torch hides"} <= set(sections), name


@pytest.mark.parametrize("name", [n for n in NEW if n not in ("AdaptiveLogSoftmaxWithLoss",
                                                              "LinearCrossEntropyLoss")])
def test_unknown_reduction(name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)
        with pytest.raises(ValueError, match=f"{name}: 'avg' is not a valid value for reduction"):
            getattr(npimpl, name)(reduction="avg")


# --- HingeEmbeddingLoss, SoftMarginLoss -------------------------------------------------------------
def test_hinge_passes_the_gradient_at_the_margin_and_gives_odd_labels_both_branches():
    x = np.array([1.0, 0.5, 2.0, 0.3, 0.3])
    y = np.array([-1.0, -1.0, -1.0, 0.0, 2.0])
    ours, theirs = run("HingeEmbeddingLoss", [x, y], np.ones(5), reduction="none")
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours[0], [0.0, 0.5, 0.0, 1.0, 1.0])   # 0.3 + max(0, 0.7)
    np.testing.assert_array_equal(ours[1][0], [-1.0, -1.0, 0.0, 0.0, 0.0])


def test_soft_margin_is_exact_for_small_exp_and_overflows_like_torch():
    x, y = np.array([40.0, -800.0, 3.0]), np.array([1.0, 1.0, -1.0])
    ours, theirs = run("SoftMarginLoss", [x, y], np.ones(3), reduction="none")
    assert_same(ours, theirs)
    assert ours[0][0] == math.log1p(math.exp(-40.0)) > 0      # log(1 + e^-40) would be 0
    assert ours[0][1] == np.inf and np.isnan(ours[1][0][1])


@pytest.mark.parametrize("name", ["HingeEmbeddingLoss", "SoftMarginLoss", "MarginRankingLoss"])
def test_integer_and_float_labels_agree_and_bool_is_refused(name):
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4))
    y = rng.choice([-1, 1], (3, 4))
    xs = [x, rng.standard_normal((3, 4))] if name == "MarginRankingLoss" else [x]
    for red in REDUCTIONS:
        ours, theirs = run(name, [*xs, y], None if red != "none" else np.ones((3, 4)),
                           n_diff=len(xs), reduction=red)
        assert_same(ours, theirs)
        as_float = getattr(npimpl, name)(reduction=red)(*xs, y.astype(float))
        np.testing.assert_array_equal(ours[0], as_float)
    with pytest.raises(TypeError, match=f"{name}: target must have dtype"):
        getattr(npimpl, name)()(*xs, y > 0)


# --- MultiLabelSoftMarginLoss -------------------------------------------------------------------------
def test_multilabel_soft_margin_is_bce_with_logits_averaged_over_classes():
    rng = np.random.default_rng(1)
    x, y, w = rng.standard_normal((4, 5)), rng.integers(0, 2, (4, 5)).astype(float), rng.random(5)
    ours = npimpl.MultiLabelSoftMarginLoss(w, reduction="none")(x, y)
    bce = npimpl.BCEWithLogitsLoss(reduction="none")(x, y)
    np.testing.assert_allclose(ours, (bce * w).mean(axis=1), rtol=1e-13)
    with pytest.raises(ValueError, match=r"MultiLabelSoftMarginLoss: weight of shape \(4,\) must "
                                         r"broadcast to the input's shape \(4, 5\)"):
        npimpl.MultiLabelSoftMarginLoss(np.ones(4))(x, y)


# --- MultiMarginLoss, MultiLabelMarginLoss -------------------------------------------------------------
def test_multi_margin_strict_hinge_and_torchs_shapes():
    x = np.array([[0.0, 1.0, 0.5, 2.0]])                 # target 1: z = 0, ., 0.5, 2
    ours, theirs = run("MultiMarginLoss", [x, np.array([1])], reduction="sum")
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours[1][0], [[0.0, -0.5, 0.25, 0.25]])   # z = 0: nothing
    for xs, ts in [((5,), ()), ((5,), (1,)), ((1, 5), ()), ((3, 5), (3,))]:
        out = npimpl.MultiMarginLoss(reduction="none")(np.ones(xs), np.zeros(ts, np.int64))
        assert out.shape == ts                            # torch: 'none' has the target's shape


def test_multi_margin_errors():
    with pytest.raises(ValueError, match="MultiMarginLoss: only p == 1 and p == 2 supported, got 3"):
        npimpl.MultiMarginLoss(p=3)
    with pytest.raises(ValueError, match="MultiMarginLoss: expected weight to be None or 1D"):
        npimpl.MultiMarginLoss(weight=np.ones((2, 2)))
    m = npimpl.MultiMarginLoss()
    with pytest.raises(IndexError, match=r"MultiMarginLoss: target out of range: expected class "
                                         r"indices in \[0, 4\), got 4"):
        m(np.zeros((2, 4)), np.array([0, 4]))
    with pytest.raises(ValueError, match="MultiMarginLoss: target must be 1-D"):
        m(np.zeros((2, 4)), np.zeros((2, 1), np.int64))
    with pytest.raises(ValueError, match="inconsistent weight size, expected 4"):
        npimpl.MultiMarginLoss(weight=np.ones(3))(np.zeros((2, 4)), np.array([0, 1]))


def test_multi_label_margin_counts_a_repeated_label_twice_and_checks_the_padding():
    x = np.array([[0.1, 0.2, 0.4, 0.8]])
    ours, theirs = run("MultiLabelMarginLoss", [x, np.array([[3, 3, -1, 1]])], reduction="sum")
    assert_same(ours, theirs)
    once = npimpl.MultiLabelMarginLoss(reduction="sum")(x, np.array([[3, -1, 0, 0]]))
    np.testing.assert_allclose(ours[0], 2 * once, rtol=1e-15)
    with pytest.raises(IndexError, match=r"MultiLabelMarginLoss: target is out of range: "
                                         r"expected class indices in \[0, 4\) or -1, got 7"):
        npimpl.MultiLabelMarginLoss()(x, np.array([[3, -1, 7, 1]]))     # after the -1: torch too
    with pytest.raises(RuntimeError, match="out of range"):
        torch.nn.MultiLabelMarginLoss()(torch.tensor(x), torch.tensor([[3, -1, 7, 1]]))


def test_multi_label_margin_strict_hinge():
    x = np.array([[0.0, 1.0, 0.0, 0.5]])                 # target 1: z = 0, 0 and 0.5
    ours, theirs = run("MultiLabelMarginLoss", [x, np.array([[1, -1, 0, 0]])], reduction="sum")
    assert_same(ours, theirs)
    np.testing.assert_array_equal(ours[1][0], [[0.0, -0.25, 0.0, 0.25]])


@pytest.mark.parametrize("name", ["MultiMarginLoss", "MultiLabelMarginLoss"])
def test_an_empty_batch_has_mean_zero(name):
    """torch's kernels return uninitialised memory here for 'mean' and 'sum' (measured:
    6.9e-310, 2.1e-281); npimpl returns 0."""
    target = np.zeros(0, np.int64) if name == "MultiMarginLoss" else np.zeros((0, 4), np.int64)
    for red in ("mean", "sum"):
        assert getattr(npimpl, name)(reduction=red)(np.zeros((0, 4)), target) == 0.0


# --- PoissonNLLLoss -------------------------------------------------------------------------------
@pytest.mark.parametrize("log_input,full", list(itertools.product([True, False], repeat=2)))
def test_poisson_matches_torch_and_masks_stirling_at_counts_up_to_1(log_input, full):
    rng = np.random.default_rng(2)
    x = rng.uniform(0.1, 2.0, (3, 4))
    y = np.array([[0.0, 1.0, 0.5, 2.0], [3.0, 7.0, 1.0, 0.0], [4.0, 0.2, 1.5, 10.0]])
    ours, theirs = run("PoissonNLLLoss", [x, y], np.ones((3, 4)), log_input=log_input,
                       full=full, eps=1e-3, reduction="none")
    assert_same(ours, theirs)
    base = np.exp(x) - y * x if log_input else x - y * np.log(x + 1e-3)
    y1 = np.maximum(y, 1)                                             # the masked entries
    stirling = np.where(y > 1, y1 * np.log(y1) - y1 + 0.5 * np.log(2 * np.pi * y1), 0)
    np.testing.assert_allclose(ours[0], base + (stirling if full else 0), rtol=1e-14)


# --- TripletMarginLoss --------------------------------------------------------------------------------
def test_eps_goes_into_the_difference_so_equal_vectors_are_apart():
    a = np.array([[1.0, 2.0, 3.0, 4.0]])
    for p in (1.0, 2.0, 3.0):
        d, _ = npimpl.triplet.pairwise_distance(a, a, p, 1e-6)
        np.testing.assert_allclose(d, [1e-6 * 4 ** (1 / p)], rtol=1e-12)
        td = torch.nn.functional.pairwise_distance(torch.tensor(a), torch.tensor(a), p, 1e-6)
        np.testing.assert_allclose(d, td.numpy(), rtol=1e-14)


@pytest.mark.parametrize("p", [0.0, 0.5, 1.0, 1.5, 2.0, 3.0, math.inf], ids=str)
def test_every_norm_degree_matches_torch_with_zero_differences(p):
    rng = np.random.default_rng(3)
    a, pos, neg = (rng.standard_normal((4, 5)) for _ in range(3))
    pos[0, 1] = a[0, 1] + 1e-6                   # v = a - p + eps = 0 exactly in one entry
    ours, theirs = run("TripletMarginLoss", [a, pos, neg], np.ones(4), n_diff=3, p=p, margin=3.0,
                       swap=True, reduction="none")
    assert_same(ours, theirs)


def test_swap_tie_splits_the_gradient_in_half():
    a = np.array([[1.0, -0.5, 2.0]])
    n = np.array([[0.0, 1.0, 1.0]])
    ours, theirs = run("TripletMarginLoss", [a, a.copy(), n], n_diff=3, margin=5.0, swap=True)
    assert_same(ours, theirs)
    full = npimpl.TripletMarginLoss(margin=5.0)
    full(a, a.copy(), n)
    _, _, dn_full = full.backward()
    np.testing.assert_allclose(ours[1][2], dn_full, rtol=1e-14)      # half + half = all


def test_triplet_errors():
    with pytest.raises(ValueError, match="TripletMarginLoss: expected margin to be greater than 0"):
        npimpl.TripletMarginLoss(margin=0.0)
    m = npimpl.TripletMarginLoss()
    with pytest.raises(ValueError, match="the same number of dimensions, but got: anchor 2D, "
                                         "positive 1D, and negative 2D"):
        m(np.ones((3, 4)), np.ones(4), np.ones((3, 4)))
    with pytest.raises(ValueError, match=r"TripletMarginLoss: anchor, positive and negative must "
                                         r"have the same shape"):
        m(np.ones((3, 4)), np.ones((1, 4)), np.ones((3, 4)))          # torch broadcasts


# --- TripletMarginWithDistanceLoss: the distance protocol -----------------------------------------
class LearnedScale(npimpl.Module):
    """A module distance with a parameter: d = s * sum (x1 - x2)^2."""

    def __init__(self):
        super().__init__()
        self.s = npimpl.Parameter(np.array(1.5))
        self.calls = 0

    def forward(self, x1, x2):
        self.calls += 1
        self._cache = (x1 - x2, ((x1 - x2) ** 2).sum(-1))
        return self.s.data * self._cache[1]

    def backward(self, g):
        diff, sq = self._saved()
        self.s.accumulate(np.sum(g * sq))
        d = 2 * self.s.data * diff * g[..., None]
        return d, -d


def test_a_module_distance_is_rerun_before_each_backward_and_accumulates_its_parameter():
    rng = np.random.default_rng(4)
    a, p, n = (rng.standard_normal((5, 3)) for _ in range(3))
    dist = LearnedScale()
    m = npimpl.TripletMarginWithDistanceLoss(distance_function=dist, margin=4.0, swap=True,
                                             reduction="sum")
    m(a, p, n)
    assert dist.calls == 3 and [k for k, _ in m.named_parameters()] == ["distance_function.s"]
    da, dp, dn = m.backward()
    assert dist.calls == 6
    s = torch.tensor(1.5, dtype=torch.float64, requires_grad=True)
    ts = [torch.tensor(v, requires_grad=True) for v in (a, p, n)]
    torch.nn.TripletMarginWithDistanceLoss(distance_function=lambda x, y: s * ((x - y) ** 2).sum(-1),
                                           margin=4.0, swap=True, reduction="sum")(*ts).backward()
    for ours, t in zip((da, dp, dn, dist.s.grad), (*ts, s)):
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-12)


def test_the_default_distance_is_torchs_pairwise_distance():
    rng = np.random.default_rng(5)
    xs = [rng.standard_normal((4, 3)) for _ in range(3)]
    ours = npimpl.TripletMarginWithDistanceLoss(reduction="none")
    ref = npimpl.TripletMarginLoss(reduction="none")
    np.testing.assert_array_equal(ours(*xs), ref(*xs))
    for a, b in zip(ours.backward(np.ones(4)), ref.backward(np.ones(4))):
        np.testing.assert_array_equal(a, b)


def test_a_distance_without_a_gradient_or_of_the_wrong_dtype_is_refused():
    with pytest.raises(TypeError, match="TripletMarginWithDistanceLoss: distance_function must "
                                        "be a pair .fn, grad_fn."):
        npimpl.TripletMarginWithDistanceLoss(distance_function=lambda x, y: np.abs(x - y).sum(-1))
    m = npimpl.TripletMarginWithDistanceLoss(
        distance_function=(lambda x, y: [0.0], lambda x, y, g: (x, y)))
    with pytest.raises(TypeError, match="must return an ndarray of dtype float64, got list"):
        m(np.ones((2, 3)), np.ones((2, 3)), np.ones((2, 3)))
    with pytest.raises(ValueError, match="the default pairwise distance needs inputs of one "
                                         "shape"):
        npimpl.TripletMarginWithDistanceLoss()(np.ones((2, 3)), np.ones((1, 3)), np.ones((2, 3)))


# --- NLLLoss2d -------------------------------------------------------------------------------------
def test_nll_loss_2d_is_nll_loss_and_warns_like_torch():
    rng = np.random.default_rng(6)
    x, t = rng.standard_normal((2, 3, 4, 4)), rng.integers(0, 3, (2, 4, 4))
    with pytest.warns(FutureWarning, match="NLLLoss2d. has been deprecated"):
        m = npimpl.NLLLoss2d(np.array([1.0, 2.0, 0.5]), ignore_index=1)
    ref = npimpl.NLLLoss(np.array([1.0, 2.0, 0.5]), ignore_index=1)
    np.testing.assert_array_equal(m(x, t), ref(x, t))
    np.testing.assert_array_equal(m.backward(), ref.backward())
    assert list(m.state_dict()) == ["weight"]


# --- GaussianNLLLoss: every layout of torch's op tests --------------------------------------------
def gaussian_samples():
    """torch's sample_inputs_gaussian_nll_loss shapes (S = 3): target and var each the input's
    shape, with a last dim of 1, or one dim short; every reduction, full and eps."""
    for s in [(3,), (3, 3), (3, 3, 3)]:
        layouts = [s, (*s[:-1], 1), s[:-1]]
        for ts, vs, red, full, eps in itertools.product(layouts, layouts, REDUCTIONS,
                                                        (False, True), (1e-6, 1e-3)):
            yield s, ts, vs, dict(reduction=red, full=full, eps=eps)


def test_gaussian_nll_accepts_all_of_torchs_op_test_layouts():
    rng = np.random.default_rng(7)
    n = 0
    for s, ts, vs, kw in gaussian_samples():
        x, y, v = rng.standard_normal(s), rng.standard_normal(ts), rng.uniform(0.1, 2.0, vs)
        g = rng.standard_normal(s) if kw["reduction"] == "none" else None
        ours, theirs = run("GaussianNLLLoss", [x, np.asarray(y), np.asarray(v)], g, n_diff=3, **kw)
        assert_same(ours, theirs)
        n += 1
    assert n == 324


def test_gaussian_nll_refuses_what_torch_refuses():
    m = npimpl.GaussianNLLLoss()
    x = np.zeros((10, 2, 3))
    with pytest.raises(ValueError, match="GaussianNLLLoss: var is of incorrect size"):
        m(x, x, np.ones((10, 2, 2)))
    with pytest.raises(ValueError, match=r"GaussianNLLLoss: target shape \(10, 2, 2\) must "
                                         r"broadcast to the input shape \(10, 2, 3\)"):
        m(x, np.zeros((10, 2, 2)), np.ones((10, 2, 3)))
    with pytest.raises(RuntimeError, match="must match the size of tensor b"):
        torch.nn.GaussianNLLLoss()(torch.zeros(10, 2, 3), torch.zeros(10, 2, 2), torch.ones(10, 2, 3))
    with pytest.raises(ValueError, match=r"target shape \(3, 4\) must broadcast to the input "
                                         r"shape \(3, 1\)"):
        m(np.zeros((3, 1)), np.zeros((3, 4)), np.ones((3, 1)))        # torch would grow the loss
