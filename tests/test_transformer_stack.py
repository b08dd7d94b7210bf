"""TransformerDecoderLayer, TransformerEncoder/Decoder and Transformer: what the catalogue cannot
show (torch's keys, copies, causal detection, warnings, errors, the fast-path conditions)."""
import inspect
import warnings

import numpy as np
import pytest
import torch
from torch.nn.modules.transformer import _detect_is_causal_mask as torch_detect

import npimpl
from npimpl.transformer_stack import _detect_is_causal_mask

R = np.random.default_rng(0)
E = 8


def layers(cls_name, **kw):
    kw = dict(dim_feedforward=12, dropout=0.0, **kw)
    return getattr(npimpl, cls_name)(E, 2, **kw), getattr(torch.nn, cls_name)(E, 2, **kw)


def _names(cls):
    return [(n, p.default) for n, p in inspect.signature(cls).parameters.items()
            if n not in ("dtype", "device", "rng")]


@pytest.mark.parametrize("name", ["TransformerDecoderLayer", "TransformerEncoder",
                                  "TransformerDecoder", "Transformer"])
def test_signatures_match_torch(name):
    ours, theirs = _names(getattr(npimpl, name)), _names(getattr(torch.nn, name))
    if name in ("TransformerDecoderLayer", "Transformer"):    # torch's default is F.relu
        theirs = [(n, "relu" if n == "activation" else d) for n, d in theirs]
    assert ours == theirs


def test_state_dict_keys_match_torch():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        nl, tl = layers("TransformerDecoderLayer", bias=False)
        assert list(nl.state_dict()) == list(tl.state_dict())
        ne = npimpl.TransformerEncoder(npimpl.TransformerEncoderLayer(E, 2), 3,
                                       npimpl.LayerNorm(E))
        te = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(E, 2), 3,
                                         torch.nn.LayerNorm(E))
        assert list(ne.state_dict()) == list(te.state_dict())
        assert "layers.2.linear2.bias" in ne.state_dict() and "norm.weight" in ne.state_dict()
        nt = npimpl.Transformer(E, 2, 1, 2, 16)
        tt = torch.nn.Transformer(E, 2, 1, 2, 16)
        assert list(nt.state_dict()) == list(tt.state_dict())
        assert [v.shape for v in nt.state_dict().values()] == \
            [tuple(v.shape) for v in tt.state_dict().values()]
        no_norm = npimpl.TransformerDecoder(nl, 2)
        assert not any(k.startswith("norm") for k in no_norm.state_dict())


def test_copies_start_equal_share_one_rng_and_are_independent():
    rng = np.random.default_rng(3)
    layer = npimpl.TransformerDecoderLayer(E, 2, 12, dropout=0.5, rng=rng)
    dec = npimpl.TransformerDecoder(layer, 2)
    a, b = dec.layers[0], dec.layers[1]
    assert a is not layer and a is not b
    np.testing.assert_array_equal(a.linear1.weight.data, b.linear1.weight.data)
    assert a.linear1.weight is not b.linear1.weight
    assert all(m.rng is rng for m in (a.dropout, b.dropout3, b.multihead_attn))
    x = R.standard_normal((4, 2, E)).astype(np.float32)
    dec(x, x)
    assert not np.array_equal(a.dropout.mask, b.dropout.mask)  # one stream, not two copies of it
    other = np.random.default_rng(4)
    dec.rng = other                                          # the stack's setter reaches all
    assert dec.rng is other and all(m.rng is other for m in (a.dropout, b.multihead_attn))
    t = npimpl.Transformer(E, 2, 1, 1, 12)
    t.rng = rng
    assert t.decoder.layers[0].dropout3.rng is rng and t.encoder.layers[0].self_attn.rng is rng


def test_xavier_after_building_so_layers_differ():
    t = npimpl.Transformer(E, 2, 2, 1, 16, dropout=0.0)
    w0, w1 = (t.encoder.layers[i].linear1.weight.data for i in (0, 1))
    assert not np.array_equal(w0, w1)
    bound = np.sqrt(6 / (E + 16))
    assert np.abs(w0).max() <= bound and np.abs(w0).max() > 0.8 * bound


@pytest.mark.parametrize("mask_kind", ["bool", "float", "other", "batched"])
@pytest.mark.parametrize("hint", [None, True, False])
def test_causal_detection_follows_torch(mask_kind, hint):
    n = 5
    m = {"bool": np.triu(np.ones((n, n), bool), 1),
         "float": npimpl.Transformer.generate_square_subsequent_mask(n, dtype=np.float64),
         "other": np.triu(np.ones((n, n), bool), 2),
         "batched": np.triu(np.ones((4, n, n), bool), 1)}[mask_kind]
    assert _detect_is_causal_mask(m, hint, n) == torch_detect(torch.tensor(m), hint, n)


def test_generate_square_subsequent_mask_matches_torch():
    for dt, tdt in ((None, None), (np.float64, torch.float64)):
        a = npimpl.Transformer.generate_square_subsequent_mask(4, dtype=dt)
        b = torch.nn.Transformer.generate_square_subsequent_mask(4, dtype=tdt)
        np.testing.assert_array_equal(a, b.numpy())
        assert a.dtype == b.numpy().dtype


@pytest.mark.parametrize("kw,reason", [
    (dict(), "batch_first was not True"),
    (dict(batch_first=True, norm_first=True), "norm_first was True"),
    (dict(batch_first=True, bias=False), "passed bias=False"),
    (dict(batch_first=True, activation=(np.tanh, np.cos)), "activation_relu_or_gelu"),
], ids=["time-major", "norm-first", "nobias", "callable"])
def test_nested_tensor_refused_at_construction_warns_like_torch(kw, reason):
    with pytest.warns(UserWarning, match=reason):
        enc = npimpl.TransformerEncoder(npimpl.TransformerEncoderLayer(E, 2, **kw), 1)
    assert enc.use_nested_tensor is False and enc.enable_nested_tensor is True
    with warnings.catch_warnings():
        warnings.simplefilter("error")                       # enable_nested_tensor=False: silent
        npimpl.TransformerEncoder(npimpl.TransformerEncoderLayer(E, 2, **kw), 1,
                                  enable_nested_tensor=False)


def _fast_encoder():
    layer = npimpl.TransformerEncoderLayer(E, 2, 12, dropout=0.0, batch_first=True,
                                           dtype=np.float64)
    return npimpl.TransformerEncoder(layer, 2, npimpl.LayerNorm(E, dtype=np.float64)).eval()


def test_fast_path_conditions_in_torch_order():
    enc = _fast_encoder()
    x = R.standard_normal((2, 4, E))
    kpm = np.array([[0, 0, 1, 1], [0, 0, 0, 0]], bool)
    cases = [(dict(src_key_padding_mask=kpm), True, ""),
             (dict(), True, "src_key_padding_mask was None"),
             (dict(src_key_padding_mask=kpm[:, ::-1]), True, "not left aligned"),
             (dict(src_key_padding_mask=kpm, mask=np.zeros((4, 4))), True, "both supplied"),
             (dict(src_key_padding_mask=kpm), False, "grad is enabled")]
    for kw, no_grad, reason in cases:
        with npimpl.set_grad_enabled(not no_grad):
            out = enc(x, **kw)
        assert reason in enc.why_not_sparsity_fast_path and bool(reason) == bool(
            enc.why_not_sparsity_fast_path)
        if not reason:                                       # padded rows: the norm's bias
            np.testing.assert_array_equal(out[kpm], np.broadcast_to(enc.norm.bias.data, (2, E)))
    enc.train()
    with npimpl.no_grad():
        enc(x, src_key_padding_mask=kpm)
    assert "training mode" in enc.why_not_sparsity_fast_path
    with npimpl.no_grad():
        enc.eval()(x[0], src_key_padding_mask=kpm[0])
    assert "not batched" in enc.why_not_sparsity_fast_path


def test_fast_path_backward_raises_and_mask_kinds_warn():
    enc = _fast_encoder()
    x = R.standard_normal((2, 4, E))
    with npimpl.no_grad():
        enc(x, src_key_padding_mask=np.array([[0, 0, 1, 1], [0, 0, 0, 0]], bool))
    with pytest.raises(RuntimeError, match="no_grad"):
        enc.backward(np.ones_like(x))
    with pytest.warns(UserWarning, match="mismatched src_key_padding_mask and mask"):
        enc(x, mask=np.zeros((4, 4)), src_key_padding_mask=np.zeros((2, 4), bool))
    with pytest.raises(TypeError, match="only bool and floating"):
        enc(x, src_key_padding_mask=np.zeros((2, 4), np.int64))


def test_callable_activation_pair_and_plain_callable():
    pair = npimpl.TransformerDecoderLayer(E, 2, 12, dropout=0.0, activation=(np.tanh, np.cos),
                                          dtype=np.float64)
    x = R.standard_normal((3, 1, E))
    pair(x, x)
    pair.backward(np.ones_like(x))                           # uses the given derivative
    plain = npimpl.TransformerDecoderLayer(E, 2, 12, dropout=0.0, activation=np.tanh,
                                           dtype=np.float64)
    plain(x, x)
    with pytest.raises(RuntimeError, match="derivative is unknown"):
        plain.backward(np.ones_like(x))
    with pytest.raises(TypeError, match=r"\(fn, grad\)"):
        npimpl.TransformerDecoderLayer(E, 2, activation=(np.tanh,))
    with pytest.raises(ValueError, match="relu/gelu"):
        npimpl.TransformerDecoderLayer(E, 2, activation="tanh")


@pytest.mark.parametrize("call,exc,text", [
    (lambda t: t(R.standard_normal((5, 2, E)), R.standard_normal((4, 3, E))), ValueError,
     "batch number of src and tgt"),
    (lambda t: t(R.standard_normal((5, 2, 6)), R.standard_normal((4, 2, 6))), ValueError,
     "d_model=8"),
    (lambda t: t(R.standard_normal((5, 2, E)), R.standard_normal((4, E))), ValueError,
     "tgt must be 3-D"),
    (lambda t: t.decoder.layers[0](R.standard_normal((4, 2, E)), R.standard_normal((5, E))),
     ValueError, "memory must be 3-D"),
    (lambda t: t.backward(np.ones((4, 2, E))), RuntimeError, "before forward"),
], ids=["batch", "features", "tgt-rank", "memory-rank", "backward-first"])
def test_errors_name_the_module(call, exc, text):
    t = npimpl.Transformer(E, 2, 1, 1, 12, dropout=0.0, dtype=np.float64)
    with pytest.raises(exc, match=text):
        call(t)


def test_decoder_layer_grad_output_shape_is_checked():
    m = npimpl.TransformerDecoderLayer(E, 2, 12, dropout=0.0, dtype=np.float64)
    x = R.standard_normal((3, 2, E))
    m(x, R.standard_normal((5, 2, E)))
    with pytest.raises(ValueError, match="grad_output must have the output's shape"):
        m.backward(np.ones((3, 1, E)))
