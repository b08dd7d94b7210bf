"""MultiheadAttention and scaled_dot_product_attention: what the catalogue cannot show
(torch's keys, mask polarity, fully masked rows, finite differences, errors, dropout)."""
import inspect

import numpy as np
import pytest
import torch

import npimpl
from npimpl.sdpa import sdpa_backward, sdpa_forward

R = np.random.default_rng(0)


def test_mha_signature_matches_torch():
    ours = [(n, p.default) for n, p in inspect.signature(npimpl.MultiheadAttention).parameters
            .items() if n not in ("dtype", "device", "rng")]
    theirs = [(n, p.default) for n, p in inspect.signature(torch.nn.MultiheadAttention)
              .parameters.items() if n not in ("dtype", "device")]
    assert ours == theirs


@pytest.mark.parametrize("kw", [{}, dict(kdim=5, vdim=6), dict(bias=False),
                                dict(add_bias_kv=True), dict(kdim=5, add_bias_kv=True, bias=False)],
                         ids=["packed", "separate", "nobias", "bias-kv", "separate-kv-nobias"])
def test_mha_state_dict_matches_torch(kw):
    ours = npimpl.MultiheadAttention(8, 2, **kw).state_dict()
    theirs = torch.nn.MultiheadAttention(8, 2, **kw).state_dict()
    assert list(ours) == list(theirs)
    assert [v.shape for v in ours.values()] == [tuple(v.shape) for v in theirs.values()]


def _qkv(L=4, S=5, N=2, E=8):
    return (R.standard_normal((L, N, E)), R.standard_normal((S, N, E)),
            R.standard_normal((S, N, E)))


def test_mha_bool_mask_true_blocks_and_float_mask_adds():
    m = npimpl.MultiheadAttention(8, 2, dtype=np.float64)
    q, k, v = _qkv()
    mask = R.random((4, 5)) < 0.4
    mask[:, 0] = False
    a, wa = m(q, k, v, attn_mask=mask)
    b, wb = m(q, k, v, attn_mask=np.where(mask, -np.inf, 0.0))
    np.testing.assert_array_equal(a, b)
    assert (wa[:, mask] == 0).all() and (wa[:, ~mask] > 0).all()


def test_sdpa_bool_mask_true_means_attend():
    q, k, v = (R.standard_normal((2, 4, 3)) for _ in range(3))
    keep = R.random((4, 4)) < 0.6
    keep[:, 0] = True
    a = npimpl.scaled_dot_product_attention(q, k, v, attn_mask=keep)
    b = npimpl.scaled_dot_product_attention(q, k, v, attn_mask=np.where(keep, 0.0, -np.inf))
    np.testing.assert_array_equal(a, b)
    only_first = npimpl.scaled_dot_product_attention(q, k, v, attn_mask=np.eye(4, dtype=bool))
    np.testing.assert_allclose(only_first, v, rtol=1e-14)


def test_fully_masked_row_is_nan_with_weights_and_zero_without():
    m = npimpl.MultiheadAttention(8, 2, dtype=np.float64)
    m.out_proj.bias.data[...] = R.standard_normal(8)
    q, k, v = _qkv()
    mask = np.zeros((4, 5), bool)
    mask[2] = True
    out, w = m(q, k, v, attn_mask=mask)
    assert np.isnan(out[2]).all() and np.isfinite(out[[0, 1, 3]]).all()
    assert np.isnan(w[:, 2]).all()
    out, _ = m(q, k, v, attn_mask=mask, need_weights=False)
    np.testing.assert_allclose(out[2], np.broadcast_to(m.out_proj.bias.data, (2, 8)))


def test_average_weights_are_the_mean_over_heads():
    m = npimpl.MultiheadAttention(8, 4, dtype=np.float64)
    q, k, v = _qkv()
    _, avg = m(q, k, v)
    _, per = m(q, k, v, average_attn_weights=False)
    assert per.shape == (2, 4, 4, 5) and avg.shape == (2, 4, 5)
    np.testing.assert_allclose(avg, per.mean(1), rtol=1e-14)
    np.testing.assert_allclose(per.sum(-1), 1.0, rtol=1e-14)


def test_is_causal_needs_attn_mask_like_torch():
    m = npimpl.MultiheadAttention(8, 2, dtype=np.float64)
    with pytest.raises(ValueError, match="attn_mask"):
        m(*_qkv(), is_causal=True)


# --- finite differences --------------------------------------------------------------------------
def _fd(f, arrays, grads, eps=1e-6, n=5):
    for arr, ga in zip(arrays, grads):
        for idx in R.choice(arr.size, min(n, arr.size), replace=False):
            old = arr.flat[idx]
            arr.flat[idx] = old + eps
            up = f()
            arr.flat[idx] = old - eps
            down = f()
            arr.flat[idx] = old
            assert ga.flat[idx] == pytest.approx((up - down) / (2 * eps), rel=1e-5, abs=1e-8)


@pytest.mark.parametrize("kw,call", [
    ({}, {}),
    (dict(kdim=5, vdim=6, add_bias_kv=True, add_zero_attn=True), dict(average_attn_weights=False)),
    (dict(batch_first=True, add_bias_kv=True), dict(need_weights=False)),
], ids=["plain", "separate-biaskv-zeroattn-perhead", "batchfirst-noweights"])
def test_mha_backward_matches_finite_differences(kw, call):
    m = npimpl.MultiheadAttention(8, 2, dtype=np.float64, **kw)
    if m.in_proj_bias is not None:
        m.in_proj_bias.data[...] = R.standard_normal(24)
    q = R.standard_normal((2, 4, 8) if kw.get("batch_first") else (4, 2, 8))
    shape = lambda f: (2, 5, f) if kw.get("batch_first") else (5, 2, f)  # noqa: E731
    k, v = R.standard_normal(shape(kw.get("kdim", 8))), R.standard_normal(shape(kw.get("vdim", 8)))
    kpm = np.zeros((2, 5), bool)
    kpm[1, 3:] = True
    out, w = m(q, k, v, key_padding_mask=kpm, **call)
    go = R.standard_normal(out.shape)
    gw = None if w is None else R.standard_normal(w.shape)

    def loss():
        o, ww = m(q, k, v, key_padding_mask=kpm, **call)
        return float((o * go).sum() + (0 if ww is None else (ww * gw).sum()))
    loss()
    grads = m.backward(go, gw)
    params = list(m.parameters())
    _fd(loss, [q, k, v] + [p.data for p in params], list(grads) + [p.grad for p in params])


def test_self_attention_returns_three_gradients_that_sum_to_the_input_gradient():
    m = npimpl.MultiheadAttention(8, 2, dtype=np.float64)
    x = R.standard_normal((4, 1, 8))
    out, _ = m(x, x, x, need_weights=False)
    g = R.standard_normal(out.shape)
    gq, gk, gv = m.backward(g)
    f = lambda: float((m(x, x, x, need_weights=False)[0] * g).sum())  # noqa: E731
    _fd(f, [x], [gq + gk + gv])
    assert not np.allclose(gq, gq + gk + gv)


def test_sdpa_backward_with_gqa_matches_finite_differences():
    q = R.standard_normal((1, 4, 3, 2))
    k, v = R.standard_normal((1, 2, 5, 2)), R.standard_normal((1, 2, 5, 3))
    out, _, cache = sdpa_forward(q, k, v, None, 0.7, groups=2)
    g = R.standard_normal(out.shape)
    dq, dk, dv = sdpa_backward(g, cache)
    f = lambda: float((sdpa_forward(q, k, v, None, 0.7, groups=2)[0] * g).sum())  # noqa: E731
    _fd(f, [q, k, v], [dq, dk, dv])


def test_gqa_equals_explicit_head_repeat():
    q = R.standard_normal((1, 4, 3, 2))
    k, v = R.standard_normal((1, 2, 5, 2)), R.standard_normal((1, 2, 5, 2))
    a = npimpl.scaled_dot_product_attention(q, k, v, enable_gqa=True)
    b = npimpl.scaled_dot_product_attention(q, np.repeat(k, 2, axis=1), np.repeat(v, 2, axis=1))
    np.testing.assert_array_equal(a, b)


# --- dropout -------------------------------------------------------------------------------------
def test_mha_dropout_mask_is_drawn_in_training_only():
    m = npimpl.MultiheadAttention(8, 2, dropout=0.5, rng=np.random.default_rng(3),
                                  dtype=np.float64)
    q, k, v = _qkv()
    _, w = m(q, k, v, average_attn_weights=False)
    assert m.mask.shape == (2, 2, 4, 5) and set(np.unique(m.mask)) <= {0.0, 2.0}
    assert ((w == 0) == (m.mask == 0)).all()
    m.eval()
    m(q, k, v)
    assert m.mask is None


def test_sdpa_function_dropout_one_gives_zeros():
    q = R.standard_normal((2, 3, 4))
    out = npimpl.scaled_dot_product_attention(q, q, q, dropout_p=1.0)
    np.testing.assert_array_equal(out, 0)


# --- errors --------------------------------------------------------------------------------------
@pytest.mark.parametrize("call,exc,text", [
    (lambda m: m(*_qkv(E=6)), ValueError, "query"),
    (lambda m: m(*_qkv(), key_padding_mask=np.zeros((2, 4), bool)), ValueError,
     "key_padding_mask"),
    (lambda m: m(*_qkv(), attn_mask=np.zeros((5, 4), bool)), ValueError, "attn_mask"),
    (lambda m: m.backward(np.zeros((4, 2, 8))), RuntimeError, "before forward"),
], ids=["embed-dim", "kpm-shape", "mask-shape", "backward-first"])
def test_mha_bad_input(call, exc, text):
    with pytest.raises(exc, match=text):
        call(npimpl.MultiheadAttention(8, 2, dtype=np.float64))


def test_mha_heads_must_divide_embed_dim():
    with pytest.raises(ValueError, match="divisible"):
        npimpl.MultiheadAttention(8, 3)


def test_sdpa_refuses_mask_with_is_causal_and_mismatched_shapes():
    q = R.standard_normal((1, 3, 4))
    with pytest.raises(ValueError, match="is_causal"):
        npimpl.scaled_dot_product_attention(q, q, q, attn_mask=np.ones((3, 3), bool),
                                            is_causal=True)
    with pytest.raises(ValueError, match="key"):
        npimpl.scaled_dot_product_attention(q, R.standard_normal((1, 3, 5)), q)


def test_no_keys_at_all_gives_zeros_like_torch():
    q, k = R.standard_normal((1, 2, 3, 4)), np.zeros((1, 2, 0, 4))
    want = torch.nn.functional.scaled_dot_product_attention(*map(torch.from_numpy, (q, k, k)))
    np.testing.assert_array_equal(npimpl.scaled_dot_product_attention(q, k, k), want.numpy())


# --- issue 21 D11: a float mask must have the query's dtype -----------------------------------
@pytest.mark.parametrize("which", ["attn_mask", "key_padding_mask"])
def test_a_float32_mask_on_a_float64_module_is_refused_as_torch(which):
    m = npimpl.MultiheadAttention(4, 2, dtype=np.float64)
    t = torch.nn.MultiheadAttention(4, 2, dtype=torch.float64)
    x = np.random.default_rng(0).standard_normal((3, 2, 4))
    mask = np.zeros((3, 3) if which == "attn_mask" else (2, 3), np.float32)
    xt = torch.from_numpy(x)
    with pytest.raises(RuntimeError, match="dtypes must be the same"):
        t(xt, xt, xt, **{which: torch.from_numpy(mask)})
    with pytest.raises(TypeError, match=rf"MultiheadAttention: a float {which} must have the "
                                        rf"query's dtype float64.*got float32"):
        m(x, x, x, **{which: mask})
    m(x, x, x, **{which: mask.astype(np.float64)})                # the right dtype is fine
    m(x, x, x, **{which: mask.astype(bool)})                      # and bool masks any time
