"""What modules do besides one forward and backward, compared with torch call for call: the
seq2seq model's greedy decoding (and ``decode``); ``Module.__setattr__``'s registration order
(a parameter or child set to None and back keeps its place), ``register_buffer`` again,
``load_state_dict`` with missing keys; the containers' dict and list methods
(``ModuleList.__setitem__``, ``ParameterDict.setdefault`` / ``get`` / ``|=``, values that are
not parameters); the grad-mode context managers; a parameter whose gradient mixes a sparse and
a dense contribution; the ``is_causal`` hint a Transformer stack detects (every layout, and
masks that only look causal); the nested path after its layers were changed; more of the
transformer family's API; sizes of 0 and the 0-"norm"; GPT's own initialisation.

Most cases are a :class:`~compare.catalogue.corners.Compared`: ``compute(dtype)`` runs the
same calls on both sides and returns ``[(quantity, numpy, torch)]``; names and strings must be
equal, an exception on one side must be an exception on the other.
"""
from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass
from typing import Callable

import numpy as np
import torch
from scipy import stats
from torch import nn

import npimpl
from npimpl.models import GPT, Block, GPTConfig, Seq2SeqTransformer
from npimpl.models.seq2seq import EOS, decode
from reference import share_weights, to_numpy, torch_dtype
from reference.models import TorchGPT, _pair
from reference.seq_models import TorchSeq2SeqTransformer

from .. import init
from ..engine import Case, Result, guarded
from ..gen import args
from ..metrics import Metric, tolerance_for
from .corners import Compared, _outcome, clipped

ORDER = 96


# --- Seq2SeqTransformer.greedy and decode -------------------------------------------------------
_SRC = np.array([[7, 4, 9, 0, 0], [3, 12, 5, 8, 6], [10, 11, 0, 0, 0], [5, 5, 6, 7, 0],
                 [12, 3, 4, 8, 9]], np.int64)


def _digits(ids) -> str:
    """What ``decode`` must give, written out: digits are the tokens 3-12, EOS (2) ends the
    string, PAD (0) and BOS (1) spell nothing."""
    out = ""
    for i in ids:
        if i == EOS:
            break
        out += str(i - 3) if i >= 3 else ""
    return out


def _refusal(exc) -> str:
    """The contract's refusal of a backward with nothing cached: a RuntimeError that names the
    module it was called on (not a child that happens to have nothing cached either)."""
    if isinstance(exc, RuntimeError) and "Seq2SeqTransformer" in str(exc):
        return "RuntimeError naming the model"
    return f"{type(exc).__name__}: {exc}"


def greedy(dt):
    """A 1+1-layer model in eval mode decodes five sources of three lengths (``model(src)``:
    greedy). The generator's EOS bias is raised by 1 on both sides so that strings end at
    different steps (seed 0: after 2, 3 and 6 tokens): the later scores of a finished string
    are forced (0 for PAD, -inf elsewhere), and its decoded string stops at EOS."""
    size = dict(d_model=8, nhead=2, num_encoder_layers=1, num_decoder_layers=1,
                dim_feedforward=16, max_len=8)
    # the default vocabulary is the task's: PAD, BOS, EOS and the ten digits (torch's twin is
    # given that count, not npimpl's constant)
    m, t = _pair(Seq2SeqTransformer(**size, dtype=dt.type),
                 TorchSeq2SeqTransformer(vocab_size=3 + 10, **size), dt)
    before = _outcome(lambda: m.backward(np.ones((5, 6, 13), dt)))
    m.generator.bias.data[EOS] += 1.0
    with torch.no_grad():
        t.generator.bias[EOS] += 1.0
    m.eval()
    t.eval()
    a = m(_SRC)
    b = to_numpy(t(torch.from_numpy(_SRC)))
    ids_np, ids_t = a.argmax(-1), b.argmax(-1)
    after = _outcome(lambda: m.backward(np.ones_like(a)))  # greedy keeps nothing to differentiate
    return [("backward-before-forward", _refusal(before), "RuntimeError naming the model"),
            ("backward-after-greedy", _refusal(after), "RuntimeError naming the model"),
            ("scores", a, b),
            ("decoded", [decode(r) for r in ids_np], [_digits(r.tolist()) for r in ids_t]),
            ("eos-steps", [int(np.argmax(r == EOS)) if (r == EOS).any() else -1 for r in ids_np],
             [int(np.argmax(r == EOS)) if (r == EOS).any() else -1 for r in ids_t])]


# --- Module: registration, buffers, load_state_dict ---------------------------------------------
def _names(mod) -> list:
    return [n for n, _ in mod.named_parameters()]


def registration(dt):
    """Attribute assignment in torch's order: a name first bound to a plain value (None, a
    number) and only later to a Parameter is registered when it becomes one, after the
    parameters registered meanwhile; a parameter or a child set to None keeps its place and
    comes back there; a buffer registered again under its name replaces the attribute as
    well."""
    td = torch_dtype(dt)
    rows = []
    # (not `weight = None`: npimpl registers that as an absent parameter, as a layer's
    # register_parameter('weight', None) does, where torch keeps a plain attribute)
    for first, plain in (("a", None), ("a", 3.0), ("weight", 3.0)):
        m, t = npimpl.Module(), nn.Module()
        for mod, P, arr in ((m, npimpl.Parameter, lambda v: np.full(2, v, dt)),
                            (t, nn.Parameter, lambda v: torch.full((2,), v, dtype=td))):
            setattr(mod, first, plain)
            mod.b = P(arr(1.0))
            setattr(mod, first, P(arr(2.0)))
        rows.append((f"order.{first}={plain}", _names(m), _names(t)))
    # a parameter set to None leaves named_parameters (torch keeps a None in its place)
    m, t = npimpl.Module(), nn.Module()
    for mod, P, arr in ((m, npimpl.Parameter, np.ones(2, dt)),
                        (t, nn.Parameter, torch.ones(2, dtype=td))):
        mod.w, mod.x = P(arr), P(arr)
        mod.w = None
    rows.append(("unset.names", _names(m), _names(t)))
    rows.append(("unset.attribute", [m.w], [t.w]))
    # ... and a parameter or a child set again comes back in its old place
    for mod, P, arr in ((m, npimpl.Parameter, np.ones(2, dt)),
                        (t, nn.Parameter, torch.ones(2, dtype=td))):
        mod.w = P(arr)
    rows.append(("unset.set-again.names", _names(m), _names(t)))
    names = {}
    for side, mod, lib in (("numpy", npimpl.Module(), npimpl), ("torch", nn.Module(), nn)):
        mod.c, mod.d = lib.Tanh(), lib.ReLU()
        mod.c = None
        names[side] = [[n for n, _ in mod.named_modules()], [mod.c]]
        mod.c = lib.Sigmoid()
        names[side].append([n for n, _ in mod.named_modules()])
    # a child under a parameter's name ('bias') set to None is no child any more
    for mod, lib in ((m, npimpl), (t, nn)):
        mod.bias = lib.Tanh()
        mod.bias = None
    rows.append(("child-named-bias.unset", [n for n, _ in m.named_modules()],
                 [n for n, _ in t.named_modules()]))
    # a plain attribute deleted is gone
    for mod in (m, t):
        mod.plain = 3.0
        del mod.plain
    rows.append(("del-plain-attribute", [hasattr(m, "plain")], [hasattr(t, "plain")]))
    for i, what in enumerate(("child.unset.names", "child.unset.attribute",
                              "child.unset-set-again.names")):
        rows.append((what, names["numpy"][i], names["torch"][i]))
    m, t = npimpl.Module(), nn.Module()
    m.register_buffer("s", np.zeros(2, dt))
    t.register_buffer("s", torch.zeros(2, dtype=td))
    m.s = np.ones(2, dt)
    t.s = torch.ones(2, dtype=td)
    m.register_buffer("s", np.full(2, 5.0, dt))
    t.register_buffer("s", torch.full((2,), 5.0, dtype=td))
    rows.append(("buffer.attribute", m.s, to_numpy(t.s)))
    rows.append(("buffer.named", dict(m.named_buffers())["s"],
                 to_numpy(dict(t.named_buffers())["s"])))
    return rows


def state_dicts(dt):
    """load_state_dict with keys missing: strict raises (only missing keys, none unexpected);
    strict=False reports them, a top-level key included; BatchNorm's num_batches_tracked may be
    absent (older checkpoints)."""
    td = torch_dtype(dt)
    rows = []
    np_lin, t_lin = npimpl.Linear(3, 2, dtype=dt.type), nn.Linear(3, 2, dtype=td)
    share_weights(np_lin, t_lin)
    only_w = {"weight": np.ones((2, 3), dt)}
    rows.append(("strict-missing-bias", _outcome(lambda: np_lin.load_state_dict(only_w)),
                 _outcome(lambda: t_lin.load_state_dict({"weight": torch.ones(2, 3, dtype=td)}))))
    a = np_lin.load_state_dict(only_w, strict=False)
    b = t_lin.load_state_dict({"weight": torch.ones(2, 3, dtype=td)}, strict=False)
    rows.append(("nonstrict.missing", list(a.missing_keys), list(b.missing_keys)))
    rows.append(("nonstrict.weight", np_lin.weight.data, to_numpy(t_lin.weight)))
    np_bn = npimpl.Sequential(npimpl.BatchNorm1d(3, dtype=dt.type))
    t_bn = nn.Sequential(nn.BatchNorm1d(3, dtype=td))
    sd = {k: v for k, v in t_bn.state_dict().items() if "num_batches" not in k}
    a = np_bn.load_state_dict({k: to_numpy(v) for k, v in sd.items()})
    b = t_bn.load_state_dict(sd)
    rows.append(("no-num-batches-tracked.missing", list(a.missing_keys), list(b.missing_keys)))
    return rows


# --- containers -------------------------------------------------------------------------------
def containers(dt):
    """ModuleList / ModuleDict / ParameterDict / ParameterList methods, call for call."""
    td = torch_dtype(dt)
    rows = []
    # ModuleList.__setitem__ replaces an entry in place
    np_l = npimpl.ModuleList([npimpl.Linear(2, 3, dtype=dt.type), npimpl.Tanh()])
    t_l = nn.ModuleList([nn.Linear(2, 3, dtype=td), nn.Tanh()])
    np_l[1] = npimpl.Linear(3, 1, dtype=dt.type)
    t_l[1] = nn.Linear(3, 1, dtype=td)
    share_weights(np_l, t_l)
    rows.append(("modulelist.setitem.names", _names(np_l), _names(t_l)))
    rows.append(("modulelist.setitem.type", type(np_l[1]).__name__, type(t_l[1]).__name__))
    # ModuleDict: membership, keys torch refuses
    np_d = npimpl.ModuleDict({"lin": npimpl.Linear(2, 2, dtype=dt.type)})
    t_d = nn.ModuleDict({"lin": nn.Linear(2, 2, dtype=td)})
    rows.append(("moduledict.contains", ["lin" in np_d, "x" in np_d], ["lin" in t_d, "x" in t_d]))
    for key in ("", "a.b"):
        rows.append((f"moduledict.setitem[{key!r}]",
                     _outcome(lambda k=key: np_d.__setitem__(k, npimpl.Tanh())),
                     _outcome(lambda k=key: t_d.__setitem__(k, nn.Tanh()))))
    rows.append(("moduledict.keys", list(np_d.keys()), list(t_d.keys())))
    # ParameterDict
    np_p = npimpl.ParameterDict({"a": np.ones(2, dt)})
    t_p = nn.ParameterDict({"a": torch.ones(2, dtype=td)})
    for side, arr in ((np_p, lambda v: np.full(2, v, dt)),
                      (t_p, lambda v: torch.full((2,), v, dtype=td))):
        side.setdefault("b", arr(2.0))
        side.setdefault("a", arr(9.0))                     # present: unchanged
        side["s"] = "text"                                 # not a parameter: kept as it is
        side |= OrderedDict([("c", arr(3.0))])
        side["t"] = "tmp"
        side["t"] = arr(4.0)                               # a plain value becomes a parameter
        side["u"] = "gone"
        del side["u"]
        side["u"] = arr(5.0)                               # the name is free again
    rows.append(("parameterdict.keys", list(np_p.keys()), list(t_p.keys())))
    rows.append(("parameterdict.names", _names(np_p), _names(t_p)))
    for k in ("a", "b", "c", "t", "u"):
        rows.append((f"parameterdict[{k}]", np_p[k].data, to_numpy(t_p[k])))
    rows.append(("parameterdict.attribute-types",
                 [type(getattr(np_p, k)).__name__ for k in ("t", "u")],
                 [type(getattr(t_p, k)).__name__ for k in ("t", "u")]))
    rows.append(("parameterdict[s]", np_p["s"], t_p["s"]))
    rows.append(("parameterdict.get", [np_p.get("s"), np_p.get("zz", "dflt")],
                 [t_p.get("s"), t_p.get("zz", "dflt")]))
    rows.append(("parameterdict.get.value", np_p.get("b").data, to_numpy(t_p.get("b"))))
    # ParameterList.extend refuses an array (torch: a tensor), iterable as it is
    np_pl = npimpl.ParameterList([np.ones(2, dt)])
    t_pl = nn.ParameterList([torch.ones(2, dtype=td)])
    rows.append(("parameterlist.extend(array)", _outcome(lambda: np_pl.extend(np.ones(2, dt))),
                 _outcome(lambda: t_pl.extend(torch.ones(2, dtype=td)))))
    rows.append(("parameterlist.len", [len(np_pl)], [len(t_pl)]))
    return rows


# --- grad mode --------------------------------------------------------------------------------
def grad_mode(dt):
    """The context managers nest and restore the mode, and never swallow an exception."""
    rows = []
    for side, lib in (("numpy", npimpl), ("torch", torch)):
        flags = []
        with lib.no_grad():
            flags.append(lib.is_grad_enabled())
            with lib.enable_grad():
                flags.append(lib.is_grad_enabled())
            flags.append(lib.is_grad_enabled())
        flags.append(lib.is_grad_enabled())

        def raising(cm):
            with cm:
                raise ValueError("inside")
        outcomes = [_outcome(lambda: raising(lib.no_grad())),
                    _outcome(lambda: raising(lib.enable_grad())),
                    _outcome(lambda: raising(lib.set_grad_enabled(False)))]
        flags.append(lib.is_grad_enabled())
        rows.append((side, flags, outcomes))
    (_, f_np, o_np), (_, f_t, o_t) = rows
    out = [("flags", [bool(f) for f in f_np], [bool(f) for f in f_t])]
    for name, a, b in zip(("no_grad", "enable_grad", "set_grad_enabled"), o_np, o_t):
        out.append((f"raises-through.{name}", a, b))
    return out


# --- a parameter whose gradient is sparse and dense at once -------------------------------------
class TiedSparse(npimpl.Module):
    """``logits = emb(ids) @ emb.weight.T`` with ``Embedding(sparse=True)``: the weight gets a
    sparse gradient from the lookup and a dense one from the product. ``sparse_first`` says
    which backward accumulates first (the sum is the same dense table either way)."""

    def __init__(self, V=6, D=3, sparse_first=False, dtype=np.float64):
        super().__init__()
        self.emb = npimpl.Embedding(V, D, sparse=True, dtype=dtype)
        self.sparse_first = sparse_first

    def forward(self, ids):
        h = self.emb(ids)
        self._cache = h
        return h @ self.emb.weight.data.T

    def backward(self, g):
        h = self._saved()
        W = self.emb.weight
        dense = g.reshape(-1, g.shape[-1]).T @ h.reshape(-1, h.shape[-1])
        if self.sparse_first:
            self.emb.backward(g @ W.data)
            W.accumulate(dense)
        else:
            W.accumulate(dense)
            self.emb.backward(g @ W.data)
        return None


class TorchTiedSparse(nn.Module):
    def __init__(self, V=6, D=3, sparse_first=False, dtype=torch.float64):
        super().__init__()
        self.emb = nn.Embedding(V, D, sparse=True, dtype=dtype)

    def forward(self, ids):
        return self.emb(ids) @ self.emb.weight.T


def tied_sparse(sparse_first):
    def make(dt):
        np_m = TiedSparse(sparse_first=sparse_first, dtype=np.dtype(dt).type)
        t_m = TorchTiedSparse(dtype=torch_dtype(dt))
        share_weights(np_m, t_m)
        return np_m, t_m
    return make


def _ids(rng, dt):
    return rng.integers(0, 6, (2, 4)).astype(np.int64)


CASES = [
    Compared("seq2seq-greedy-eos", "Seq2SeqTransformer", "models", greedy),
    Compared("module-setattr-order-buffers", "Module", "core", registration),
    Compared("module-load-state-dict-missing", "Module", "core", state_dicts),
    Compared("containers-methods", "ParameterDict", "core", containers),
    Compared("grad-mode-nesting-exceptions", "no_grad", "core", grad_mode),
    Case("embedding-sparse-tied-dense-first", "Embedding", "core", tied_sparse(False),
         args(_ids)),
    Case("embedding-sparse-tied-sparse-first", "Embedding", "core", tied_sparse(True),
         args(_ids)),
]


# --- masks that only look causal: is_causal=None must not take them for the causal mask -----------
def _lookalikes(S):
    """Float masks (S, S) that differ from the causal mask (-inf above the diagonal, 0 on and
    below it) in one way each: none of them is the causal mask, so none gives the hint."""
    above = np.triu(np.ones((S, S), bool), 1)
    return {"zeros": np.zeros((S, S)),
            "ones-above": above.astype(float),                     # True == 1.0
            "from-second-diagonal": np.triu(np.full((S, S), -np.inf), 2),
            "inverted": np.where(above, 0.0, -np.inf),             # the last row sees nothing
            "plus-inf-above": np.where(above, np.inf, 0.0),
            "plus-one-below": np.where(above, -np.inf, 1.0)}      # the same softmax


class _FlagLayer(npimpl.TransformerEncoderLayer):
    """An encoder layer that only reports the ``is_causal`` its stack passes: ``src + 1`` where
    the stack detected a causal mask, ``src`` otherwise (torch's stack passes the hint on to
    any layer, a custom one included)."""

    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        return src + (1.0 if is_causal else 0.0)


class _TorchFlagLayer(nn.TransformerEncoderLayer):
    def forward(self, src, src_mask=None, src_key_padding_mask=None, is_causal=False):
        return src + (1.0 if is_causal else 0.0)


def causal_hint(dt):
    """The hint a stack detects from a causal mask (``is_causal=None``), for the sequence
    length of each layout: batch_first (N, S, E), sequence-first (S, N, E) and unbatched
    (S, E), with N, S and E all different; and no hint from the masks that only look causal
    (the decoder's ``tgt_is_causal`` takes the same rule)."""
    rows = []
    rng = np.random.default_rng(6)
    for bf in (True, False):
        stacks = [cls(layer(8, 2, 16, dropout=0.0, batch_first=bf, **kw), 1,
                      enable_nested_tensor=False)
                  for cls, layer, kw in ((npimpl.TransformerEncoder, _FlagLayer,
                                          dict(dtype=dt.type)),
                                         (nn.TransformerEncoder, _TorchFlagLayer,
                                          dict(dtype=torch_dtype(dt))))]
        for shape in ((2, 5, 8) if bf else (5, 2, 8), (5, 8)):
            x = rng.standard_normal(shape).astype(dt)
            for kind, mask in (("float", npimpl.Transformer.generate_square_subsequent_mask(
                    5, dtype=dt)), ("bool", np.triu(np.ones((5, 5), bool), 1))):
                a = stacks[0](x, mask=mask)
                with torch.no_grad():
                    b = stacks[1](torch.from_numpy(x), mask=torch.from_numpy(mask)).numpy()
                rows.append((f"hint.batch_first={bf}.{len(shape)}d.{kind}", a, b))
    x = rng.standard_normal((5, 2, 8)).astype(dt)          # stacks[1]: sequence-first
    for name, mask in _lookalikes(5).items():
        a = stacks[0](x, mask=mask.astype(dt))
        with torch.no_grad():
            b = stacks[1](torch.from_numpy(x), mask=torch.from_numpy(mask.astype(dt))).numpy()
        rows.append((f"lookalike.{name}", a, b))
    return rows


def nested_layers_changed(dt):
    """The nested path (eval, no_grad, a left-aligned key padding mask) after the encoder's
    layers were changed: a copy put back in training mode cannot run on nested tensors (torch
    refuses), and a layer of another kind in its place is called with torch's arguments
    (``is_causal`` False: no mask, no hint)."""
    td = torch_dtype(dt)
    rng = np.random.default_rng(7)
    x = rng.standard_normal((3, 6, 8)).astype(dt)
    kpm = np.array([[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1]], bool)
    rows = []
    for change in ("train", "flag"):
        m = npimpl.TransformerEncoder(npimpl.TransformerEncoderLayer(
            8, 2, 12, dropout=0.0, batch_first=True, dtype=dt.type), 2)
        t = nn.TransformerEncoder(nn.TransformerEncoderLayer(
            8, 2, 12, dropout=0.0, batch_first=True, dtype=td), 2)
        share_weights(m, t)
        m.eval()
        t.eval()
        if change == "train":
            m.layers[1].train()
            t.layers[1].train()
        else:
            m.layers[1] = _FlagLayer(8, 2, 12, dropout=0.0, batch_first=True, dtype=dt.type)
            t.layers[1] = _TorchFlagLayer(8, 2, 12, dropout=0.0, batch_first=True, dtype=td)
        with npimpl.no_grad():
            a = _outcome(lambda: m(x, src_key_padding_mask=kpm))
        with torch.no_grad():
            b = _outcome(lambda: t(torch.from_numpy(x),
                                   src_key_padding_mask=torch.from_numpy(kpm)))
        rows.append((f"nested.layer-1-{change}", a,
                     b if isinstance(b, BaseException) else b.numpy()))
    return rows


CASES.append(Compared("encoder-nested-layers-changed", "TransformerEncoder", "attention",
                      nested_layers_changed))
CASES.append(Compared("transformer-causal-hint-layouts", "TransformerEncoder", "attention",
                      causal_hint))


# --- sizes of 0 and the 0-"norm" ----------------------------------------------------------------
def empty_embedding(dt):
    """Embedding(4, 0): torch builds the empty table and looks rows up in it."""
    ids = np.array([[0, 3, 1], [2, 2, 0]], np.int64)
    a = npimpl.Embedding(4, 0, dtype=dt.type)(ids)
    b = nn.Embedding(4, 0, dtype=torch_dtype(dt))(torch.from_numpy(ids)).detach().numpy()
    return [("shape", list(a.shape), list(b.shape)), ("out", a, b)]


CASES += [
    Compared("embedding-dim-0", "Embedding", "core", empty_embedding),
    # the 0-"norm" counts non-zero entries: of each gradient (one with a 1, one all zeros),
    # then of those counts
    Compared("clip-grad-norm-p0-zeros-ones", "clip_grad_norm_", "optim",
             clipped("norm", 1.0, 0.0, grads=[[0.0, 1.0, 2.0], [0.0, 0.0]])),
]


# --- more of the transformer family's API -----------------------------------------------------
class _PassThrough(npimpl.Module):
    """A custom decoder that takes any tgt and returns it (no feature check of its own)."""

    def forward(self, tgt, memory, **masks):
        return tgt


class _TorchPassThrough(nn.Module):
    def forward(self, tgt, memory, **masks):
        return tgt


def _softsign(x):
    return x / (1 + np.abs(x))


_softsign.torch = torch.nn.functional.softsign


def transformer_api(dt):
    """Transformer refuses a tgt whose features are not d_model even when its decoder would
    not; Transformer.reset_parameters() brings back the default init (LayerNorm weights 1,
    biases 0); a GPT Block's backward before any forward names the Block; a plain callable
    activation runs forward (under no_grad); the functional sdpa with dropout_p 1 drops
    every weight."""
    td = torch_dtype(dt)
    rng = np.random.default_rng(8)
    rows = []
    m = npimpl.Transformer(8, 2, 1, 1, 12, dropout=0.0, custom_decoder=_PassThrough(),
                           dtype=dt.type)
    t = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, custom_decoder=_TorchPassThrough(),
                       dtype=td)
    src, tgt = rng.standard_normal((5, 2, 8)).astype(dt), rng.standard_normal((4, 2, 6)).astype(dt)
    rows.append(("transformer.tgt-features-6", _outcome(lambda: m(src, tgt)),
                 _outcome(lambda: t(torch.from_numpy(src), torch.from_numpy(tgt)))))
    m = npimpl.Transformer(8, 2, 1, 1, 12, dropout=0.0, dtype=dt.type)
    t = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, dtype=td)
    m.reset_parameters()
    for name in ("encoder.norm.weight", "encoder.norm.bias", "decoder.layers.0.norm3.weight",
                 "decoder.layers.0.self_attn.in_proj_bias"):
        a = dict(m.named_parameters())[name].data
        b = dict(t.named_parameters())[name].detach().numpy()
        rows.append((f"transformer.reset_parameters.{name}", a, b))
    config = GPTConfig(vocab_size=11, block_size=8, n_layer=1, n_head=2, n_embd=8)
    for cls, shape in ((Block, (1, 3, 8)), (GPT, (1, 3, 11))):
        exc = _outcome(lambda: cls(config, dtype=dt.type).backward(np.ones(shape, dt)))
        name = cls.__name__
        rows.append((f"gpt.{name}.backward-before-forward",
                     f"RuntimeError naming {name}" if isinstance(exc, RuntimeError)
                     and f"{name}." in str(exc) else f"{type(exc).__name__}: {exc}",
                     f"RuntimeError naming {name}"))
    layer_np = npimpl.TransformerEncoderLayer(8, 2, 12, dropout=0.0, activation=_softsign,
                                              dtype=dt.type)
    layer_t = nn.TransformerEncoderLayer(8, 2, 12, dropout=0.0, activation=_softsign.torch,
                                         dtype=td)
    share_weights(layer_np, layer_t)
    x = rng.standard_normal((5, 2, 8)).astype(dt)
    with npimpl.no_grad():
        a = layer_np(x)
    with torch.no_grad():
        b = layer_t(torch.from_numpy(x)).numpy()
    rows.append(("encoderlayer.plain-callable-activation", a, b))
    # is_causal=True is taken at its word (torch drops src_mask for the causal mask), even
    # with a mask that is not causal
    mask = np.zeros((5, 5), bool)
    mask[:, 3] = True
    with npimpl.no_grad():
        a = layer_np(x, src_mask=mask, is_causal=True)
    with torch.no_grad():
        b = layer_t(torch.from_numpy(x), src_mask=torch.from_numpy(mask), is_causal=True).numpy()
    rows.append(("encoderlayer.is_causal-hint-over-mask", a, b))
    # an activation pair whose function is not callable: refused at construction
    exc = _outcome(lambda: npimpl.TransformerEncoderLayer(8, 2, 12, activation=(3, None)))
    rows.append(("encoderlayer.activation-not-callable",
                 "clear error" if isinstance(exc, (ValueError, TypeError))
                 and "TransformerEncoderLayer" in str(exc) else f"{type(exc).__name__}: {exc}",
                 "clear error"))
    # an activation that returns no array: refused with a clear error (the contract), where
    # torch's dropout raises a TypeError
    bad = npimpl.TransformerEncoderLayer(8, 2, 12, dropout=0.0, dtype=dt.type,
                                         activation=lambda h: float(h.sum()))
    exc = _outcome(lambda: bad(x))
    rows.append(("encoderlayer.activation-returns-a-float",
                 "clear error" if isinstance(exc, (ValueError, TypeError))
                 and "TransformerEncoderLayer" in str(exc) else f"{type(exc).__name__}: {exc}",
                 "clear error"))
    q, k, v = (rng.standard_normal((2, 3, 4)).astype(dt) for _ in range(3))
    other = np.float32 if dt == np.float64 else np.float64       # a key of another dtype
    rows.append(("sdpa.key-of-another-dtype",
                 _outcome(lambda: npimpl.scaled_dot_product_attention(q, k.astype(other), v)),
                 _outcome(lambda: torch.nn.functional.scaled_dot_product_attention(
                     torch.from_numpy(q), torch.from_numpy(k.astype(other)),
                     torch.from_numpy(v)))))
    exc = _outcome(lambda: npimpl.Transformer(8, 2, 1, 1, 12, dtype=dt.type).backward(
        np.ones((4, 2, 8), dt)))
    rows.append(("transformer.backward-before-forward",
                 "RuntimeError naming Transformer" if isinstance(exc, RuntimeError)
                 and "Transformer." in str(exc) else f"{type(exc).__name__}: {exc}",
                 "RuntimeError naming Transformer"))
    rows.append(("sdpa.dropout_p=1",
                 npimpl.scaled_dot_product_attention(q, k, v, dropout_p=1.0,
                                                     rng=np.random.default_rng(0)),
                 torch.nn.functional.scaled_dot_product_attention(
                     *(torch.from_numpy(a) for a in (q, k, v)), dropout_p=1.0).numpy()))
    return rows


CASES.append(Compared("transformer-family-api", "Transformer", "attention", transformer_api))


def _refused_then_backward(name, np_mod, t_mod, good, bad, rng, dt):
    """Forward ``good``, then a call torch refuses (``bad``, other values), then backward: the
    gradients are those of the good forward on both sides (a refused call leaves nothing
    behind), input by input and parameter by parameter."""
    t_good = [torch.from_numpy(a.copy()).requires_grad_() for a in good]
    a = np_mod(*good)
    b = t_mod(*t_good)
    rows = [(f"{name}.out", a, b.detach().numpy())]
    rows.append((f"{name}.refused", _outcome(lambda: np_mod(*bad)),
                 _outcome(lambda: t_mod(*(torch.from_numpy(x) for x in bad)))))
    g = rng.standard_normal(a.shape).astype(dt)
    np_g = np_mod.backward(g)
    b.backward(torch.from_numpy(g))
    for i, (x, y) in enumerate(zip(np_g, t_good)):
        rows.append((f"{name}.grad_in[{i}]", x, y.grad.numpy()))
    t_p = dict(t_mod.named_parameters())
    for pname, p in np_mod.named_parameters():
        rows.append((f"{name}.grad.{pname}", p.grad, t_p[pname].grad.numpy()))
    return rows


def refused_calls(dt):
    """A decoder layer given a 2-D memory with a 3-D tgt, a norm_first one given 4-D tgt and
    memory, a Transformer given a 2-D src with a 3-D tgt or batches of 2 and 3: refused before
    any child runs, so the backward that follows is the good forward's."""
    td = torch_dtype(dt)
    rng = np.random.default_rng(9)

    def seq(*shape):
        return rng.standard_normal(shape).astype(dt)
    rows = []
    m = npimpl.TransformerDecoderLayer(8, 2, 12, dropout=0.0, dtype=dt.type)
    t = nn.TransformerDecoderLayer(8, 2, 12, dropout=0.0, dtype=td)
    share_weights(m, t)
    rows += _refused_then_backward("decoderlayer", m, t, (seq(4, 2, 8), seq(5, 2, 8)),
                                   (seq(4, 2, 8), seq(5, 8)), rng, dt)
    m = npimpl.TransformerDecoderLayer(8, 2, 12, dropout=0.0, norm_first=True, dtype=dt.type)
    t = nn.TransformerDecoderLayer(8, 2, 12, dropout=0.0, norm_first=True, dtype=td)
    share_weights(m, t)
    rows += _refused_then_backward("decoderlayer-norm-first", m, t,
                                   (seq(4, 2, 8), seq(5, 2, 8)),
                                   (seq(1, 4, 2, 8), seq(1, 5, 2, 8)), rng, dt)
    m = npimpl.Transformer(8, 2, 1, 1, 12, dropout=0.0, dtype=dt.type)
    t = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, dtype=td)
    share_weights(m, t)
    rows += _refused_then_backward("transformer", m, t, (seq(5, 2, 8), seq(4, 2, 8)),
                                   (seq(5, 8), seq(4, 2, 8)), rng, dt)
    for p in list(m.parameters()) + list(t.parameters()):   # a second good forward, afresh
        p.grad = None
    rows += _refused_then_backward("transformer-batch-3-vs-2", m, t,
                                   (seq(5, 2, 8), seq(4, 2, 8)),
                                   (seq(5, 2, 8), seq(4, 3, 8)), rng, dt)
    # unbatched with batch_first: src and tgt lengths differ, no batch dim to compare
    m = npimpl.Transformer(8, 2, 1, 1, 12, dropout=0.0, batch_first=True, dtype=dt.type)
    t = nn.Transformer(8, 2, 1, 1, 12, dropout=0.0, batch_first=True, dtype=td)
    share_weights(m, t)
    src, tgt = seq(5, 8), seq(3, 8)
    with torch.no_grad():
        rows.append(("transformer.batch-first-unbatched", m(src, tgt),
                     t(torch.from_numpy(src), torch.from_numpy(tgt)).numpy()))
    return rows


CASES.append(Compared("transformer-refused-calls", "Transformer", "attention", refused_calls))


# --- GPT's own initialisation ----------------------------------------------------------------
@dataclass
class InitDraw:
    """One model built from its own defaults on each side (nothing shared), every parameter
    compared as a distribution: a parameter torch sets to one constant must be exactly that
    constant, any other must pass the two-sample Kolmogorov-Smirnov test of
    :mod:`compare.init` (statistic under its critical value at alpha 1e-6). The init report's
    range check is left out: these draws are normal, with no bound to reach past."""

    name: str
    layer: str
    family: str
    build_pair: Callable
    dtypes: tuple = ("float64",)
    note: str = ""

    def run(self, dtype: str, seed: int = 0) -> Result:
        def body(rec, res):
            torch.manual_seed(seed)
            with init.seeded_numpy([seed, 7]):
                np_m, t_m = self.build_pair()
            for pname, (a, b, kind) in init._state(np_m, t_m).items():
                if np.all(b == b[0]):
                    rec.add(f"init.{pname}", "init", a, np.full_like(a, b[0]))
                    continue
                d = float(stats.ks_2samp(a, b).statistic)
                ratio = d / init.critical_d(a.size, b.size)
                rec.add(f"init.{pname}", "init", None, None,
                        Metric(d, d, ratio, (), ratio <= 1.0,
                               f"KS D={d:.4f}, {ratio:.2f} of its critical value; n={a.size}"))
        return guarded(self, dtype, tolerance_for(dtype), body)


_GPT = GPTConfig(vocab_size=11, block_size=8, n_layer=2, n_head=2, n_embd=16)


def _gpt_init_pair():
    """nanoGPT's init: the residual projections' smaller std, unit LayerNorm weights, zero
    biases, N(0, 0.02) elsewhere."""
    return GPT(_GPT, dtype=np.float64), TorchGPT(_GPT).double()


CASES.append(InitDraw("gpt-own-init", "GPT", "models", _gpt_init_pair))


@dataclass
class InitScale:
    """The scale of a zero-mean normal init, compared by its mean square: ``draws(dtype)``
    returns ``{name: (numpy values, torch values)}``; a row passes when the log of the ratio
    of the two mean squares stays within 5.3 standard errors, sqrt(2/n + 2/m) (two-sided
    alpha 1e-7: for normal draws n·ms/σ² is chi-squared with n degrees of freedom). A KS test
    needs far more draws to see a std off by 20%."""

    name: str
    layer: str
    family: str
    draws: Callable
    dtypes: tuple = ("float64",)
    note: str = ""

    def run(self, dtype: str, seed: int = 0) -> Result:
        def body(rec, res):
            torch.manual_seed(seed)
            with init.seeded_numpy([seed, 8]):
                pairs = self.draws()
            for pname, (a, b) in pairs.items():
                lr = float(np.log(np.mean(a * a) / np.mean(b * b)))
                se = float(np.sqrt(2 / a.size + 2 / b.size))
                ratio = abs(lr) / (5.3 * se)
                rec.add(f"init-scale.{pname}", "init", None, None,
                        Metric(abs(lr), abs(lr), ratio, (), ratio <= 1.0,
                               f"log mean-square ratio {lr:+.4f}, {ratio:.2f} of its bound; "
                               f"n={a.size}"))
        return guarded(self, dtype, tolerance_for(dtype), body)


def _bias_kv_draws(resets=32, E=32):
    """bias_k and bias_v pooled (both xavier_normal_ of (1, 1, E): std sqrt(2 / 2E)) over
    ``resets`` re-initialisations of one MultiheadAttention per side: 2048 draws each."""
    m = npimpl.MultiheadAttention(E, 2, add_bias_kv=True, dtype=np.float64)
    t = nn.MultiheadAttention(E, 2, add_bias_kv=True, dtype=torch.float64)
    a, b = [], []
    for _ in range(resets):
        m.reset_parameters()
        t._reset_parameters()
        for name in ("bias_k", "bias_v"):                    # copies: reset writes in place
            a.append(getattr(m, name).data.ravel().copy())
            b.append(getattr(t, name).detach().numpy().ravel().copy())
    return {"bias_k+bias_v": (np.concatenate(a), np.concatenate(b))}


CASES.append(InitScale("mha-bias-kv-init-scale", "MultiheadAttention", "attention",
                       _bias_kv_draws))


class _ConvEncoder(npimpl.Module):
    """A custom encoder that only holds a Conv2d: a 4-D parameter for Transformer's xavier."""

    def __init__(self, dtype):
        super().__init__()
        self.conv = npimpl.Conv2d(4, 6, 3, dtype=dtype)


class _TorchConvEncoder(nn.Module):
    def __init__(self, dtype):
        super().__init__()
        self.conv = nn.Conv2d(4, 6, 3, dtype=dtype)


def _custom_xavier_draws(resets=40):
    """Transformer._reset_parameters (xavier_uniform_ on every parameter of more than one
    dimension, a custom encoder's included) on a Conv2d weight (6, 4, 3, 3): fan_in 4 * 9,
    fan_out 6 * 9 (torch counts the kernel on both sides); and on a matrix."""
    m = npimpl.Transformer(8, 2, num_decoder_layers=1, dim_feedforward=12, dropout=0.0,
                           custom_encoder=_ConvEncoder(np.float64), dtype=np.float64)
    t = nn.Transformer(8, 2, num_decoder_layers=1, dim_feedforward=12, dropout=0.0,
                       custom_encoder=_TorchConvEncoder(torch.float64), dtype=torch.float64)
    names = ("encoder.conv.weight", "decoder.layers.0.linear1.weight")
    out = {n: ([], []) for n in names}
    for _ in range(resets):
        m._reset_parameters()
        t._reset_parameters()
        np_p, t_p = dict(m.named_parameters()), dict(t.named_parameters())
        for n, (a, b) in out.items():
            a.append(np_p[n].data.ravel().copy())
            b.append(t_p[n].detach().numpy().ravel().copy())
    a, b = [], []
    for _ in range(resets):                # the public reset: each submodule's own, then xavier
        m.reset_parameters()
        for mod in t.modules():
            if mod is not t and hasattr(mod, "reset_parameters"):
                mod.reset_parameters()
        t._reset_parameters()
        a.append(m.decoder.layers[0].linear2.weight.data.ravel().copy())
        b.append(t.decoder.layers[0].linear2.weight.detach().numpy().ravel().copy())
    out["reset_parameters.decoder.layers.0.linear2.weight"] = (a, b)
    return {n: (np.concatenate(a), np.concatenate(b)) for n, (a, b) in out.items()}


CASES.append(InitScale("transformer-custom-encoder-xavier-scale", "Transformer", "attention",
                       _custom_xavier_draws))
