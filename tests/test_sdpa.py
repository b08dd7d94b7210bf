"""scaled_dot_product_attention's batch dims broadcast between query, key and value as in
torch (issue 15), and the gradient of a broadcast input is the sum over its copies."""
import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npimpl
from npimpl.sdpa import sdpa_backward, sdpa_forward

SHAPES = [((3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7)),
          ((4, 5), (2, 6, 5), (2, 6, 5)),
          ((2, 1, 4, 5), (1, 3, 6, 5), (1, 3, 6, 5)),
          ((2, 3, 4, 5), (2, 3, 6, 5), (1, 3, 6, 5))]


@pytest.mark.parametrize("shapes", SHAPES, ids=lambda s: "-".join("x".join(map(str, a)) for a in s))
def test_broadcast_batch_dims_match_torch_forward_and_backward(shapes):
    rng = np.random.default_rng(0)
    q, k, v = (rng.standard_normal(s) for s in shapes)
    m = npimpl.ScaledDotProductAttention()
    out = m(q, k, v)
    g = rng.standard_normal(out.shape)
    grads = m.backward(g)
    tq, tk, tv = (torch.tensor(a, requires_grad=True) for a in (q, k, v))
    tout = F.scaled_dot_product_attention(tq, tk, tv)
    tout.backward(torch.tensor(g))
    np.testing.assert_allclose(out, tout.detach().numpy(), rtol=1e-10, atol=1e-12)
    for ours, t, a in zip(grads, (tq, tk, tv), (q, k, v)):
        assert ours.shape == a.shape                            # summed back to the input
        np.testing.assert_allclose(ours, t.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_the_function_form_broadcasts_too():
    rng = np.random.default_rng(1)
    q, k, v = rng.standard_normal((3, 4, 5)), rng.standard_normal((2, 3, 6, 5)), \
        rng.standard_normal((2, 3, 6, 5))
    out = npimpl.scaled_dot_product_attention(q, k, v)
    ref = F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, v))).numpy()
    np.testing.assert_allclose(out, ref, rtol=1e-10, atol=1e-12)


def test_the_gradient_of_a_broadcast_query_is_the_sum_over_its_copies():
    rng = np.random.default_rng(2)
    q, k, v = rng.standard_normal((4, 5)), rng.standard_normal((3, 6, 5)), \
        rng.standard_normal((3, 6, 5))
    out, _, cache = sdpa_forward(q, k, v)
    g = rng.standard_normal(out.shape)
    dq, _, _ = sdpa_backward(g, cache)
    each = [sdpa_backward(g[i], sdpa_forward(q, k[i], v[i])[2])[0] for i in range(3)]
    np.testing.assert_allclose(dq, sum(each), rtol=1e-13)


def test_batch_dims_that_do_not_broadcast_are_refused_like_torch():
    rng = np.random.default_rng(3)
    q, k = rng.standard_normal((2, 4, 5)), rng.standard_normal((3, 6, 5))
    with pytest.raises(ValueError, match=r"ScaledDotProductAttention: the batch dims of query, "
                                         r"key and value \(and attn_mask\) must broadcast, got "
                                         r"\(2, 4, 5\), \(3, 6, 5\)"):
        npimpl.ScaledDotProductAttention()(q, k, k)
    with pytest.raises(RuntimeError):
        F.scaled_dot_product_attention(*(torch.tensor(a) for a in (q, k, k)))
