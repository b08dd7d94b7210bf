"""The inference fast paths, run under ``npimpl.no_grad()`` and ``torch.no_grad()`` in eval mode
on both sides: TransformerEncoder's nested-tensor path (padded rows are zeros, then the final
norm's bias; ``mask_check=False`` with holes in the mask), the conditions that refuse it, and
TransformerEncoderLayer's fused kernel (a fully masked row is NaN, any nn.GELU exact).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

import npimpl
from reference import Spec, to_numpy, to_torch

from ..engine import Case, Inputs, Result, _Recorder, case_rng, guarded
from ..metrics import tolerance_for
from .attention import bool_mask
from .transformer import E, _layer_spec, _stack_spec, perturbed, src_only

ORDER = 72


@dataclass
class Inference(Case):
    """Eval mode, forward only, under ``npimpl.no_grad()`` and ``torch.no_grad()``: the paths
    torch takes only there. Rows: ``out``; with a key padding mask also ``out.padded`` (the
    padded rows) and, for an encoder with a final norm, ``out.padded-vs-norm.bias`` (npimpl's
    padded rows against the norm's bias: exactly what the nested path gives)."""

    def run(self, dtype: str, seed: int = 0) -> Result:
        return guarded(self, dtype, tolerance_for(dtype), lambda rec, res: self._run(
            rec, np.dtype(dtype), seed))

    def _run(self, rec: _Recorder, dt, seed):
        rng = case_rng(seed, self.name, dt.name)
        torch.manual_seed(seed)
        np_mod, t_mod = self.model(dt)
        np_mod.eval()
        t_mod.eval()
        inp = self.inputs(rng, dt)
        with npimpl.no_grad():
            a = np_mod(*inp.args, **inp.kwargs)
        with torch.no_grad():
            b = to_numpy(t_mod(*to_torch(inp.args), **to_torch(inp.kwargs)))
        reason = getattr(np_mod, "why_not_sparsity_fast_path", "")
        rec.add("out", "forward", a, b)
        rec.rows[-1].note = f"why_not_sparsity_fast_path = {reason!r}"
        kpm = inp.kwargs.get("src_key_padding_mask")
        if kpm is not None and kpm.any():
            ordinary = np_mod(*inp.args, **inp.kwargs)          # grad enabled: no fast path
            rec.add("out.padded", "forward", a[kpm], b[kpm])
            gap = float(np.max(np.abs(ordinary[kpm] - a[kpm])))
            rec.rows[-1].note = (f"{int(kpm.sum())} padded rows; the ordinary path (with "
                                 f"grad) differs there by up to {gap:.3g}")
            norm = getattr(np_mod, "norm", None)
            if norm is not None and not reason:       # the nested path zeroes the rows past
                S = kpm.shape[1]                      # each sequence's count of valid tokens
                zeroed = np.arange(S)[None, :] >= (~kpm).sum(1)[:, None]
                rec.add("out.padded-vs-norm.bias", "forward", a[zeroed],
                        np.broadcast_to(norm.bias.data, a[zeroed].shape))


def fast(name, which=("kpm",), N=3, S=6, padding=None, stack_kw=None, **layer_kw):
    layer_kw = {"batch_first": True, **layer_kw}
    spec = _stack_spec("TransformerEncoder", "TransformerEncoderLayer", layer_kw=layer_kw,
                       **(stack_kw or {}))

    def gen(rng, dt):
        inp = src_only(S=S, N=N, batch_first=layer_kw["batch_first"], which=which)(rng, dt)
        if padding is not None:
            inp.kwargs["src_key_padding_mask"] = np.array(padding, bool)
        return inp
    return Inference(f"encoder-fastpath-{name}", "TransformerEncoder", "attention",
                     perturbed(spec), gen)


_LEFT = [[0, 0, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0], [0, 0, 1, 1, 1, 1]]       # left-aligned
_HOLES = [[1, 0, 0, 1, 0, 1], [0, 0, 0, 0, 0, 0], [0, 1, 1, 0, 1, 1]]      # not left-aligned


def heads(d_model, nhead, name, padding):
    """An encoder whose layers have ``nhead`` heads (``d_model`` divisible by it): odd counts
    refuse the nested path (torch checks ``num_heads % 2 == 1`` at construction)."""
    layer = Spec("TransformerEncoderLayer", d_model, nhead, dim_feedforward=12, dropout=0.0,
                 batch_first=True)
    spec = Spec("TransformerEncoder", layer, 2, norm=Spec("LayerNorm", d_model))

    def gen(rng, dt):
        x = rng.standard_normal((len(padding), len(padding[0]), d_model)).astype(dt)
        return Inputs((x,), {"src_key_padding_mask": np.array(padding, bool)})
    return Inference(f"encoder-fastpath-{name}", "TransformerEncoder", "attention",
                     perturbed(spec), gen)


def fused_layer(name, which, N=2, spec=None, **layer_kw):
    spec = spec or _layer_spec("TransformerEncoderLayer", batch_first=True, **layer_kw)

    def gen(rng, dt):
        x = rng.standard_normal((N, 5, E)).astype(dt)
        kw = {}
        if "dead-row" in which:                  # query 2 sees no key: NaN in the fused kernel
            m = bool_mask(rng, (5, 5))
            m[2] = True
            kw["src_mask"] = m
        if "kpm" in which:
            kw["src_key_padding_mask"] = bool_mask(rng, (N, 5))
        return Inputs((x,), kw)
    return Inference(f"encoderlayer-fused-{name}", "TransformerEncoderLayer", "attention",
                     perturbed(spec), gen)


CASES = [
    fast("nested", padding=_LEFT),                            # zeros, then the norm's bias
    fast("nested-no-norm", padding=_LEFT, stack_kw=dict(norm=False)),
    fast("gelu-all-padded-row", padding=[[0, 0, 0, 1, 1, 1], [1, 1, 1, 1, 1, 1],
                                         [0, 0, 0, 0, 0, 1]], activation="gelu"),
    fast("mask-check-off-holes", padding=_HOLES, stack_kw=dict(mask_check=False)),
    fast("mask-check-holes-ordinary", padding=_HOLES),        # not left-aligned: no nested path
    # a hole after a valid first key (row 0): still not left-aligned
    fast("mask-check-hole-after-first", padding=[[0, 1, 0, 0, 1, 1], [0, 0, 0, 0, 0, 0],
                                                 [0, 0, 1, 1, 1, 1]]),
    fast("nested-disabled", padding=_LEFT, stack_kw=dict(enable_nested_tensor=False)),
    fast("norm-first", padding=_LEFT, norm_first=True),       # nested refused, layers fused
    fused_layer("dead-row", ("dead-row",)),
    fused_layer("gelu-tanh", ("kpm",), activation=npimpl.GELU("tanh")),
    # odd head counts: neither the nested path nor the fused kernel (a dead row is 0, not NaN)
    heads(8, 1, "1-head", _LEFT),
    heads(6, 3, "3-heads", _LEFT),
    fused_layer("1-head-dead-row", ("dead-row",),
                spec=Spec("TransformerEncoderLayer", E, 1, dim_feedforward=12, dropout=0.0,
                          batch_first=True)),
]
