"""lockstep train seq2seq, cut to a few steps (the full 300 are ``lockstep train seq2seq``): the
synthetic task, greedy decoding on both sides, the key-bias gradient, the fast paths used."""
import numpy as np
import torch

import npimpl
from compare import recipes, train
from compare.seq2seq_task import (MAX_LEN, MIN_LEN, reverse_held_out, reverse_strings,
                                  warmup_cosine)
from npimpl.models.seq2seq import BOS, EOS, PAD, decode
from reference import to_numpy, to_torch
from reference.seq_models import seq2seq_pair


def test_few_float32_steps_agree_and_decode_identically():
    """float64's first steps are the catalogue's seq2seq-train case; here float32, whose
    decoded strings must also be identical."""
    run = train.train("seq2seq", "float32", max_steps=3)
    assert run.passed, run.failures
    assert run.same_predictions and run.test_acc_numpy == run.test_acc_torch
    assert recipes.get("seq2seq").same_predictions == ("float32", "float64")


def test_task_reverses_padded_strings():
    src, tgt_in, tgt_out = reverse_strings(np.random.default_rng(0), 50)
    for s, ti, to in zip(src, tgt_in, tgt_out):
        n = int((s != PAD).sum())
        assert MIN_LEN <= n <= MAX_LEN and np.all(s[n:] == PAD)
        assert ti[0] == BOS and list(ti[1:n + 1]) == list(s[:n][::-1])
        assert list(to[:n]) == list(s[:n][::-1]) and to[n] == EOS and np.all(to[n + 1:] == PAD)
        assert decode(to) == "".join(str(t - 3) for t in s[:n][::-1])
    held, _ = reverse_held_out(np.float64)
    train_src = {tuple(r) for r in src}
    assert len(held) == 200 and sum(tuple(r) in train_src for r in held) < 5


def test_greedy_decoding_forces_pad_after_eos_and_keeps_no_cache():
    np_m, t_m = seq2seq_pair(np.float64)
    np_m.eval()
    t_m.eval()
    src, _ = reverse_held_out(np.float64)
    a = np_m(src[:20])
    b = to_numpy(t_m(to_torch(src[:20])))
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    ids = a.argmax(-1)
    for row in ids:
        hit = np.flatnonzero(row == EOS)
        if hit.size:
            assert np.all(row[hit[0] + 1:] == PAD)
    assert all(m._cache is None or m._cache is npimpl.module.NO_GRAD for m in np_m.modules())


def test_post_norm_greedy_takes_the_nested_path_on_both_sides():
    """With norm_first=False the encoder's nested-tensor path runs in greedy decoding: the
    memory's padded rows are the final norm's bias on both sides (masked out of the
    cross-attention, so the decoded strings are those of the ordinary path)."""
    np_m, t_m = seq2seq_pair(np.float64, norm_first=False)
    np_m.eval()
    t_m.eval()
    src, _ = reverse_held_out(np.float64)
    src = src[:8]
    pad = src == PAD
    enc = np_m.transformer.encoder
    with npimpl.no_grad():
        mem = enc(np_m._embed(np_m.src_tok, np_m.src_pos, src), src_key_padding_mask=pad)
    assert enc.why_not_sparsity_fast_path == ""
    with torch.no_grad():
        t_src = torch.from_numpy(src)
        t_mem = t_m.transformer.encoder(t_m._embed(t_m.src_tok, t_m.src_pos, t_src),
                                        src_key_padding_mask=t_src == PAD).numpy()
    np.testing.assert_allclose(mem, t_mem, rtol=1e-10, atol=1e-12)
    np.testing.assert_array_equal(mem[pad], np.broadcast_to(enc.norm.bias.data, mem[pad].shape))
    np.testing.assert_array_equal(np_m(src).argmax(-1), t_m(t_src).argmax(-1).numpy())


def test_key_bias_gradient_is_rounding_noise_that_the_recipe_zeroes():
    np_m, t_m = seq2seq_pair(np.float64, norm_first=True)
    x, y = recipes.get("seq2seq").batches(0, np.float64)[0][1:]
    crit, _ = recipes.get("seq2seq").loss(np.float64)
    crit(np_m(x), y)
    np_m.backward(crit.backward())
    t_crit = torch.nn.CrossEntropyLoss(ignore_index=PAD)
    t_crit(t_m(to_torch(x)).reshape(-1, 13), torch.from_numpy(y).reshape(-1)).backward()
    biases = [(p, q) for (n, p), (_, q) in zip(np_m.named_parameters(), t_m.named_parameters())
              if n.endswith("in_proj_bias")]
    E = 32
    for p, q in biases:
        assert np.abs(p.grad[E:2 * E]).max() < 1e-14                # zero up to rounding
        assert np.abs(p.grad[:E]).max() > 1e-6                      # the query part is not
    recipes.zero_key_bias_grads(np_m, t_m)
    for p, q in biases:
        assert not p.grad[E:2 * E].any() and not q.grad[E:2 * E].any()


def test_schedule_warms_up_then_decays_to_zero():
    f = [warmup_cosine(k) for k in range(301)]
    assert f[0] == 1 / 30 and max(f) == f[29] and f[29] > 0.97
    assert all(a >= b for a, b in zip(f[29:], f[30:])) and f[300] == 0
