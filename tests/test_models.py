"""npimpl.models: layouts, weight tying, causality and errors (the catalogue checks the maths)."""
import numpy as np
import pytest
import torch

from npimpl.models import GPT, CausalSelfAttention, DigitsMLP, GPTConfig
from reference.models import TorchGPT, digits_mlp_pair, gpt_pair, torch_digits_mlp

CFG = GPTConfig(vocab_size=13, block_size=6, n_layer=2, n_head=2, n_embd=8)


def test_digits_mlp_state_dict_matches_torch_sequential():
    np_m = DigitsMLP(dtype=np.float64)
    t_m = torch_digits_mlp(dtype=torch.float64)
    assert [(k, v.shape) for k, v in np_m.state_dict().items()] == \
           [(k, tuple(v.shape)) for k, v in t_m.state_dict().items()]


def test_digits_mlp_pair_shares_weights():
    np_m, t_m = digits_mlp_pair("float64")
    for k, v in t_m.state_dict().items():
        np.testing.assert_array_equal(np_m.state_dict()[k], v.numpy())


def test_gpt_state_dict_keys_are_nanogpts():
    np_keys = list(GPT(CFG).state_dict())
    assert np_keys == list(TorchGPT(CFG).state_dict())
    assert "transformer.h.1.attn.c_attn.weight" in np_keys
    assert np_keys[-1] == "lm_head.weight"


def test_gpt_head_is_tied_to_the_token_embedding():
    m = GPT(CFG)
    assert m.lm_head.weight is m.transformer.wte.weight
    names = [n for n, _ in m.named_parameters()]
    assert "transformer.wte.weight" in names and "lm_head.weight" not in names
    assert set(m.state_dict()) >= {"transformer.wte.weight", "lm_head.weight"}


def test_gpt_tied_gradient_is_the_sum_of_head_and_lookup():
    """The tied weight's gradient equals the head's gradient plus the embedding's, measured
    separately by backpropagating through an untied copy (torch, float64)."""
    np_m, t_m = gpt_pair("float64", CFG)
    assert t_m.lm_head.weight is t_m.transformer.wte.weight     # .to(float64) kept the tie
    idx = np.random.default_rng(0).integers(0, CFG.vocab_size, (2, 5))
    logits = np_m(idx)
    g = np.random.default_rng(1).standard_normal(logits.shape)
    np_m.backward(g)
    untied = TorchGPT(CFG, dtype=torch.float64)
    untied.load_state_dict(t_m.state_dict())
    untied.lm_head.weight = torch.nn.Parameter(t_m.lm_head.weight.detach().clone())
    untied(torch.from_numpy(idx)).backward(torch.from_numpy(g))
    head = untied.lm_head.weight.grad.numpy()
    lookup = untied.transformer.wte.weight.grad.numpy()
    assert np.abs(head).max() > 0 and np.abs(lookup).max() > 0
    np.testing.assert_allclose(np_m.transformer.wte.weight.grad, head + lookup, rtol=1e-10,
                               atol=1e-12)


def test_gpt_init_follows_nanogpt():
    cfg = GPTConfig(vocab_size=64, block_size=16, n_layer=2, n_head=2, n_embd=64)
    m = GPT(cfg, dtype=np.float64)
    m.reset_parameters(np.random.default_rng(0))
    sd = m.state_dict()
    assert sd["transformer.wte.weight"].std() == pytest.approx(0.02, rel=0.05)
    assert sd["transformer.h.0.attn.c_proj.weight"].std() == pytest.approx(0.01, rel=0.05)
    assert (sd["transformer.h.0.ln_1.weight"] == 1).all()
    assert (sd["transformer.h.0.mlp.c_fc.bias"] == 0).all()


def test_attention_is_causal():
    """Changing the last position's input changes no earlier output."""
    att = CausalSelfAttention(CFG, dtype=np.float64)
    x = np.random.default_rng(0).standard_normal((2, 5, 8))
    x2 = x.copy()
    x2[:, -1] += 1.0
    y, y2 = att(x), att(x2)
    np.testing.assert_array_equal(y[:, :-1], y2[:, :-1])
    assert not np.allclose(y[:, -1], y2[:, -1])


@pytest.mark.parametrize("idx,err,match", [
    (np.zeros((2, 7), dtype=np.int64), ValueError, "block size"),
    (np.zeros((2, 3)), TypeError, "integer"),
    (np.zeros(4, dtype=np.int64), ValueError, "2-D"),
], ids=["too-long", "float-ids", "1d"])
def test_gpt_rejects_bad_idx(idx, err, match):
    with pytest.raises(err, match=match):
        GPT(CFG)(idx)


def test_attention_rejects_bad_config_and_input():
    with pytest.raises(ValueError, match="divisible"):
        CausalSelfAttention(GPTConfig(vocab_size=5, n_head=3, n_embd=8))
    with pytest.raises(ValueError, match=r"\(B, T, 8\)"):
        CausalSelfAttention(CFG)(np.zeros((2, 5, 7), dtype=np.float32))


def test_gpt_backward_before_forward_raises():
    with pytest.raises(RuntimeError, match="before forward"):
        GPT(CFG).backward(np.zeros((1, 1, CFG.vocab_size), dtype=np.float32))
