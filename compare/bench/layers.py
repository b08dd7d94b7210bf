"""The bench's layer registry: at least one row per public npimpl class, at a realistic size.

:data:`TABLE` maps a class name to one :class:`~compare.bench.item.Bench` (or a list of
them); a catalogue family may add its own classes' entries as a ``BENCH`` dict beside its
cases (``compare/catalogue/<family>.py``), as it adds ``BAD_INPUT``. ``tests/test_bench.py``
fails for a public class with no entry. Sizes: the issue's (issue 19) where it names one,
else a batch of a few MB, the size a training step on a CPU meets (pointwise layers on
4096x1024, images 32x64x32x32, sequences T 64 or L 128 by batch 16-32, width 256).
"""
from __future__ import annotations

import numpy as np

from compare.badinput import (_classes, _key_value, _log_probabilities, _probabilities, _same,
                              _signs)
from reference import Spec, seq

from .item import BENCH_ITEMS, Bench, BenchItem

POINTWISE = (4096, 1024)          # the GELU size: 4M elements, 16 MB in float32
IMAGE = (32, 64, 32, 32)          # the GroupNorm/BatchNorm size
SEQ1D = (32, 64, 1024)
VOLUME = (8, 32, 16, 16, 16)


def gemm_flops(m: int, k: int, n: int, calls: int = 1) -> float:
    """Forward ``2mkn`` per call, backward twice that (dx and dW): ``3 * 2mkn``."""
    return 3 * 2.0 * m * k * n * calls


def _out(size, k, s=1, p=0, d=1):
    return (size + 2 * p - d * (k - 1) - 1) // s + 1


def conv(nd: int, c_in, c_out, k, shape, *, stride=1, padding=0, groups=1, note="",
         target_ratio=2.0, transpose=False, **kw) -> Bench:
    """A convolution's entry with its flops and GEMM (``C_out x C_in*k^d/g x N*P``); for a
    transposed convolution the GEMM of its input-gradient convolution (the same flops)."""
    name = f"Conv{'Transpose' if transpose else ''}{nd}d"
    spec_kw = {**kw}
    if stride != 1:
        spec_kw["stride"] = stride
    if padding:
        spec_kw["padding"] = padding
    if groups != 1:
        spec_kw["groups"] = groups
    spatial = shape[2:]
    if transpose:
        out = [(s - 1) * stride - 2 * padding + k + kw.get("output_padding", 0) for s in spatial]
        in_pos = int(np.prod(spatial))
        flops = gemm_flops(c_in, c_out // groups * k ** nd, shape[0] * in_pos)
        gemm = (c_in, c_out // groups * k ** nd, shape[0] * in_pos)
    else:
        out = [_out(s, k, stride, padding) for s in spatial]
        kk = c_in // groups * k ** nd
        flops = gemm_flops(c_out, kk, shape[0] * int(np.prod(out)))
        gemm = (c_out, kk, shape[0] * int(np.prod(out))) if groups == 1 else None
    return Bench(Spec(name, c_in, c_out, k, **spec_kw), shape, flops=flops, gemm=gemm,
                 note=note, target_ratio=target_ratio)


def _unpool(nd: int):
    """Indices a MaxPool{nd}d(2) could return for an input of ``x``'s shape: in each window a
    random one of its 2^nd positions, flattened over the unpooled (doubled) spatial dims."""
    def extra(rng, x):
        spatial = x.shape[2:]
        grids = np.meshgrid(*[np.arange(s) for s in spatial], indexing="ij")
        coords = [2 * g + rng.integers(0, 2, x.shape) for g in grids]
        flat = np.zeros(x.shape, np.int64)
        for c, s in zip(coords, spatial):
            flat = flat * (2 * s) + c
        return [flat]
    return extra


def _pointwise(*names, **kw):
    return {n: Bench(Spec(n, **kw), POINTWISE) for n in names}


def _padding():
    out = {}
    for nd, shape in ((1, SEQ1D), (2, IMAGE), (3, VOLUME)):
        for kind in ("Circular", "Reflection", "Replication", "Zero"):
            out[f"{kind}Pad{nd}d"] = Bench(Spec(f"{kind}Pad{nd}d", 2), shape)
        out[f"ConstantPad{nd}d"] = Bench(Spec(f"ConstantPad{nd}d", 2, 0.5), shape)
    return out


def _pools():
    out = {}
    for nd, shape in ((1, SEQ1D), (3, VOLUME)):
        out[f"MaxPool{nd}d"] = Bench(Spec(f"MaxPool{nd}d", 2), shape)
        out[f"AvgPool{nd}d"] = Bench(Spec(f"AvgPool{nd}d", 2), shape)
        out[f"LPPool{nd}d"] = Bench(Spec(f"LPPool{nd}d", 2, 2), shape)
        out[f"AdaptiveAvgPool{nd}d"] = Bench(Spec(f"AdaptiveAvgPool{nd}d", 5), shape)
        out[f"AdaptiveMaxPool{nd}d"] = Bench(Spec(f"AdaptiveMaxPool{nd}d", 5), shape)
        half = tuple(shape[:2]) + tuple(s // 2 for s in shape[2:])
        out[f"MaxUnpool{nd}d"] = Bench(Spec(f"MaxUnpool{nd}d", 2), half, extra=_unpool(nd))
    out["MaxPool2d"] = [Bench(Spec("MaxPool2d", 2), (32, 32, 32, 32)),
                        Bench(Spec("MaxPool2d", 3, stride=2, padding=1), (32, 32, 32, 32))]
    out["AvgPool2d"] = Bench(Spec("AvgPool2d", 2), (32, 32, 32, 32))
    out["LPPool2d"] = Bench(Spec("LPPool2d", 2, 2), IMAGE)
    out["AdaptiveAvgPool2d"] = [Bench(Spec("AdaptiveAvgPool2d", 1), (32, 32, 16, 16)),
                                Bench(Spec("AdaptiveAvgPool2d", 7), IMAGE)]
    out["AdaptiveMaxPool2d"] = Bench(Spec("AdaptiveMaxPool2d", 7), IMAGE)
    out["MaxUnpool2d"] = Bench(Spec("MaxUnpool2d", 2), (32, 64, 16, 16), extra=_unpool(2))
    out["FractionalMaxPool2d"] = Bench(Spec("FractionalMaxPool2d", 3, output_size=16), IMAGE,
                                       plain_torch=True)
    out["FractionalMaxPool3d"] = Bench(Spec("FractionalMaxPool3d", 2, output_size=8), VOLUME,
                                       plain_torch=True)
    return out


def _recurrent():
    t, b, h = 64, 32, 256
    out = {}
    for name, gates in (("RNN", 1), ("LSTM", 4), ("GRU", 3)):
        flops = gemm_flops(t * b, h, gates * h) * 2          # input and recurrent products
        out[name] = Bench(Spec(name, h, h), (t, b, h), flops=flops, gemm=(t * b, h, gates * h))
        out[f"{name}Cell"] = Bench(Spec(f"{name}Cell", h, h), (1024, h),
                                   flops=gemm_flops(1024, h, gates * h) * 2,
                                   gemm=(1024, h, gates * h))
    return out


def _attention():
    e, heads, length, batch = 256, 8, 128, 16
    tokens = length * batch
    proj = gemm_flops(tokens, e, e) * 4                      # q, k, v and out projections
    scores = 2 * gemm_flops(batch * heads, length, length) * (e // heads) / length
    mha = Bench(Spec("MultiheadAttention", e, heads), (length, batch, e), extra=_key_value,
                flops=proj + scores, gemm=(tokens, e, e))
    ffn = gemm_flops(tokens, e, 2048) * 2
    tel = Bench(Spec("TransformerEncoderLayer", e, heads, dropout=0.0), (length, batch, e),
                flops=proj + scores + ffn, gemm=(tokens, e, 2048))
    sdpa = Bench(Spec("ScaledDotProductAttention"), (batch, heads, length, e // heads),
                 extra=_key_value, flops=scores, gemm=(length, e // heads, length))
    def memory(rng, x):                                       # the decoder's memory: (L, B, E)
        return [rng.standard_normal(x.shape)]

    tdl = Bench(Spec("TransformerDecoderLayer", e, heads, dropout=0.0), (length, batch, e),
                extra=memory, flops=2 * (proj + scores) + ffn, gemm=(tokens, e, 2048))
    enc = Bench(Spec("TransformerEncoder", Spec("TransformerEncoderLayer", e, heads, dropout=0.0),
                     2, norm=Spec("LayerNorm", e)), (length, batch, e),
                flops=2 * (proj + scores + ffn), gemm=(tokens, e, 2048))
    dec = Bench(Spec("TransformerDecoder", Spec("TransformerDecoderLayer", e, heads, dropout=0.0),
                     2, norm=Spec("LayerNorm", e)), (length, batch, e), extra=memory,
                flops=2 * (2 * (proj + scores) + ffn), gemm=(tokens, e, 2048))
    tr = Bench(Spec("Transformer", e, heads, 1, 1, dropout=0.0), (length, batch, e), extra=memory,
               flops=3 * (proj + scores) + 2 * ffn, gemm=(tokens, e, 2048))
    return {"MultiheadAttention": mha, "TransformerEncoderLayer": tel,
            "ScaledDotProductAttention": sdpa, "TransformerDecoderLayer": tdl,
            "TransformerEncoder": enc, "TransformerDecoder": dec, "Transformer": tr}


def _losses():
    n, c = 8192, 1000
    return {
        "CrossEntropyLoss": Bench(Spec("CrossEntropyLoss"), (n, c), _classes(c)),
        "NLLLoss": Bench(Spec("NLLLoss"), (n, c), _classes(c), valid=_log_probabilities),
        "MSELoss": Bench(Spec("MSELoss"), POINTWISE, _same),
        "L1Loss": Bench(Spec("L1Loss"), POINTWISE, _same),
        "HuberLoss": Bench(Spec("HuberLoss"), POINTWISE, _same),
        "SmoothL1Loss": Bench(Spec("SmoothL1Loss"), POINTWISE, _same),
        "KLDivLoss": Bench(Spec("KLDivLoss", reduction="batchmean"), POINTWISE,
                           lambda rng, x: np.exp(_log_probabilities(rng, x.shape)),
                           valid=_log_probabilities),
        "GaussianNLLLoss": Bench(Spec("GaussianNLLLoss"), POINTWISE, _same,
                                 extra=lambda rng, x: [rng.uniform(0.1, 2.0, x.shape)]),
        "BCELoss": Bench(Spec("BCELoss"), POINTWISE, lambda rng, x: rng.random(x.shape),
                         valid=_probabilities),
        "BCEWithLogitsLoss": Bench(Spec("BCEWithLogitsLoss"), POINTWISE,
                                   lambda rng, x: rng.random(x.shape)),
        "MarginRankingLoss": Bench(Spec("MarginRankingLoss"), (1 << 20,),
                                   extra=lambda rng, x: [rng.standard_normal(x.shape),
                                                         _signs(rng, x)]),
        "CosineEmbeddingLoss": Bench(Spec("CosineEmbeddingLoss"), (4096, 512),
                                     extra=lambda rng, x: [rng.standard_normal(x.shape),
                                                           _signs(rng, x[:, 0])]),
    }


def _indices(n):
    return lambda rng, shape: rng.integers(0, n, shape).astype(np.int64)


def _normal_like(rng, x):
    return [rng.standard_normal(x.shape)]


def _label_sets(rng, x):
    """MultiLabelMarginLoss targets: per row a few distinct classes, then -1."""
    n, c = x.shape
    t = rng.integers(0, c, (n, c))
    k = rng.integers(1, 8, n)                               # 1..7 listed classes per row
    for row, kk in zip(t, k):
        row[:kk] = rng.permutation(c)[:kk]
        row[kk] = -1
    return t.astype(np.int64)


def _log_softmax_rows(rng, shape):
    x = rng.standard_normal(shape)
    return x - np.log(np.exp(x).sum(-1, keepdims=True))


def _more_losses():
    ctc_t, ctc_n, ctc_c, ctc_s = 128, 32, 32, 40
    return {
        "PoissonNLLLoss": Bench(Spec("PoissonNLLLoss"), POINTWISE,
                                lambda rng, x: rng.poisson(2.0, x.shape).astype(float)),
        "HingeEmbeddingLoss": Bench(Spec("HingeEmbeddingLoss"), POINTWISE, _signs),
        "SoftMarginLoss": Bench(Spec("SoftMarginLoss"), POINTWISE, _signs),
        "MultiLabelSoftMarginLoss": Bench(Spec("MultiLabelSoftMarginLoss"), (4096, 1000),
                                          lambda rng, x: rng.integers(0, 2, x.shape).astype(float)),
        "MultiMarginLoss": Bench(Spec("MultiMarginLoss"), (8192, 1000), _classes(1000)),
        "MultiLabelMarginLoss": Bench(Spec("MultiLabelMarginLoss"), (2048, 100), _label_sets),
        "TripletMarginLoss": Bench(Spec("TripletMarginLoss"), (4096, 512),
                                   extra=lambda rng, x: _normal_like(rng, x) * 2),
        "TripletMarginWithDistanceLoss": Bench(Spec("TripletMarginWithDistanceLoss"), (4096, 512),
                                               extra=lambda rng, x: _normal_like(rng, x) * 2),
        "CTCLoss": Bench(Spec("CTCLoss"), (ctc_t, ctc_n, ctc_c), valid=_log_softmax_rows,
                         target=lambda rng, x: rng.integers(1, ctc_c, (ctc_n, ctc_s))
                         .astype(np.int64),
                         extra=lambda rng, x: [np.full(ctc_n, ctc_t, np.int64),
                                               rng.integers(ctc_s // 2, ctc_s + 1, ctc_n)]),
        "AdaptiveLogSoftmaxWithLoss": Bench(
            Spec("AdaptiveLogSoftmaxWithLoss", 256, 8192, [1024, 4096], 4.0), (1024, 256),
            _classes(8192)),
        "LinearCrossEntropyLoss": Bench(Spec("LinearCrossEntropyLoss", 256, 4096), (1024, 256),
                                        _classes(4096), flops=gemm_flops(1024, 256, 4096),
                                        gemm=(1024, 256, 4096)),
        "NLLLoss2d": Bench(Spec("NLLLoss2d"), (32, 21, 64, 64),
                           lambda rng, x: rng.integers(0, 21, (32, 64, 64)).astype(np.int64),
                           valid=lambda rng, shape: np.log(rng.dirichlet(np.ones(21), (32, 64, 64))
                                                           ).transpose(0, 3, 1, 2).copy()),
    }


#: one entry (or a list) per public npimpl class
TABLE: dict = {
    "Sequential": Bench(seq(Spec("Linear", 512, 512), Spec("ReLU"), Spec("Linear", 512, 512)),
                        (4096, 512), flops=2 * gemm_flops(4096, 512, 512), gemm=(4096, 512, 512),
                        label="Sequential(Linear(512, 512), ReLU(), Linear(512, 512)) 4096x512"),
    "Identity": Bench(Spec("Identity"), POINTWISE),
    "Linear": Bench(Spec("Linear", 512, 512), (4096, 512), flops=gemm_flops(4096, 512, 512),
                    gemm=(4096, 512, 512)),
    **_pointwise("ReLU", "ReLU6", "LeakyReLU", "Hardtanh", "Hardsigmoid", "Hardswish", "Sigmoid",
                 "Tanh", "ELU", "CELU", "SELU", "SiLU", "Mish", "Softplus"),
    "GELU": [Bench(Spec("GELU"), POINTWISE), Bench(Spec("GELU", approximate="tanh"), POINTWISE)],
    "Softmax": [Bench(Spec("Softmax", dim=-1), (1024, 256)), Bench(Spec("Softmax", dim=-1),
                                                                   POINTWISE),
                Bench(Spec("Softmax", dim=1), IMAGE)],
    "LogSoftmax": Bench(Spec("LogSoftmax", dim=-1), POINTWISE),
    "Softmin": Bench(Spec("Softmin", dim=-1), POINTWISE),
    **_losses(),
    "Flatten": Bench(Spec("Flatten"), IMAGE),
    "Unflatten": Bench(Spec("Unflatten", 1, (8, 8)), (32, 64, 1024)),
    "Dropout": Bench(Spec("Dropout", 0.5), POINTWISE, plain_torch=True),
    "Dropout1d": Bench(Spec("Dropout1d", 0.5), SEQ1D, plain_torch=True),
    "Dropout2d": Bench(Spec("Dropout2d", 0.5), IMAGE, plain_torch=True),
    "Dropout3d": Bench(Spec("Dropout3d", 0.5), VOLUME, plain_torch=True),
    "LayerNorm": Bench(Spec("LayerNorm", 768), (8192, 768)),
    "RMSNorm": Bench(Spec("RMSNorm", 768), (8192, 768)),
    "BatchNorm1d": [Bench(Spec("BatchNorm1d", 256), (4096, 256)),
                    Bench(Spec("BatchNorm1d", 64), SEQ1D)],
    "BatchNorm2d": [Bench(Spec("BatchNorm2d", 64), IMAGE),
                    Bench(Spec("BatchNorm2d", 64), IMAGE, mode="eval")],
    "BatchNorm3d": Bench(Spec("BatchNorm3d", 32), VOLUME),
    "GroupNorm": Bench(Spec("GroupNorm", 8, 64), IMAGE),
    "InstanceNorm1d": Bench(Spec("InstanceNorm1d", 64, affine=True), SEQ1D),
    "InstanceNorm2d": Bench(Spec("InstanceNorm2d", 64, affine=True), IMAGE),
    "InstanceNorm3d": Bench(Spec("InstanceNorm3d", 32, affine=True), VOLUME),
    "Embedding": Bench(Spec("Embedding", 50000, 256), (64, 512), valid=_indices(50000)),
    "EmbeddingBag": Bench(Spec("EmbeddingBag", 50000, 256), (64, 512), valid=_indices(50000)),
    "Conv1d": conv(1, 16, 32, 5, (32, 16, 256), padding=2),
    "Conv2d": [conv(2, 16, 32, 3, (32, 16, 32, 32), padding=1, target_ratio=1.4),
               conv(2, 16, 32, 3, (32, 16, 32, 32), stride=2, padding=1),
               conv(2, 32, 32, 3, (32, 32, 32, 32), padding=1, groups=32)],
    "Conv3d": conv(3, 16, 32, 3, (8, 16, 16, 16, 16), padding=1),
    "ConvTranspose1d": conv(1, 32, 16, 4, (32, 32, 256), stride=2, padding=1, transpose=True),
    "ConvTranspose2d": conv(2, 32, 16, 3, (32, 32, 16, 16), stride=2, padding=1,
                            output_padding=1, transpose=True),
    "ConvTranspose3d": conv(3, 16, 8, 2, (8, 16, 8, 8, 8), stride=2, transpose=True),
    **_recurrent(),
    **_pools(),
    **_padding(),
    "Upsample": [Bench(Spec("Upsample", scale_factor=2, mode="bilinear"), (32, 32, 32, 32)),
                 Bench(Spec("Upsample", scale_factor=2, mode="nearest"), (32, 32, 32, 32))],
    "UpsamplingBilinear2d": Bench(Spec("UpsamplingBilinear2d", scale_factor=2), (32, 32, 32, 32)),
    "UpsamplingNearest2d": Bench(Spec("UpsamplingNearest2d", scale_factor=2), (32, 32, 32, 32)),
    "PixelShuffle": Bench(Spec("PixelShuffle", 2), IMAGE),
    "PixelUnshuffle": Bench(Spec("PixelUnshuffle", 2), (32, 16, 64, 64)),
    "ChannelShuffle": Bench(Spec("ChannelShuffle", 4), IMAGE),
    "Fold": Bench(Spec("Fold", (32, 32), 3, padding=1), (32, 144, 1024)),
    "Unfold": Bench(Spec("Unfold", 3, padding=1), (32, 16, 32, 32)),
    **_attention(),
    **_more_losses(),
    **_pointwise("Hardshrink", "Softshrink", "Tanhshrink", "LogSigmoid", "Softsign"),
    "Threshold": Bench(Spec("Threshold", 0.1, 20.0), POINTWISE),
    "GLU": Bench(Spec("GLU"), (4096, 2048)),
    "PReLU": Bench(Spec("PReLU", 64), IMAGE),
    "RReLU": Bench(Spec("RReLU"), POINTWISE, plain_torch=True),
    "Softmax2d": Bench(Spec("Softmax2d"), IMAGE),
    "LocalResponseNorm": Bench(Spec("LocalResponseNorm", 5), IMAGE),
    "CrossMapLRN2d": Bench(Spec("CrossMapLRN2d", 5), IMAGE),
    "AlphaDropout": Bench(Spec("AlphaDropout", 0.5), POINTWISE, plain_torch=True),
    "FeatureAlphaDropout": Bench(Spec("FeatureAlphaDropout", 0.5), IMAGE, plain_torch=True),
    "Bilinear": Bench(Spec("Bilinear", 64, 64, 64), (1024, 64), extra=_normal_like,
                      flops=3 * 2.0 * 1024 * 64 * 64 * 64),
    "CosineSimilarity": Bench(Spec("CosineSimilarity"), (4096, 1024), extra=_normal_like),
    "PairwiseDistance": Bench(Spec("PairwiseDistance"), (4096, 1024), extra=_normal_like),
}

#: tiny rows for ``--quick`` (and the tests): the bench's machinery, not its numbers
QUICK = [Bench(Spec("Conv2d", 3, 8, 3, padding=1), (2, 3, 8, 8), target_ratio=None),
         Bench(Spec("MaxPool2d", 2), (2, 3, 8, 8), target_ratio=None)]


def table() -> dict[str, list[Bench]]:
    """:data:`TABLE` plus every catalogue family's ``BENCH`` dict, each value a list; a
    class's measured note (``notes.NOTES``) is given to its rows that have none."""
    from compare.catalogue import family_attr

    from .notes import NOTES

    out = {k: (v if isinstance(v, list) else [v]) for k, v in TABLE.items()}
    for mod_name, extra in family_attr("BENCH"):
        clash = sorted(set(extra) & set(out))
        if clash:
            raise ValueError(f"bench entries for {clash} are defined twice "
                             f"(compare.bench.layers.TABLE and {mod_name})")
        out.update({k: (v if isinstance(v, list) else [v]) for k, v in extra.items()})
    for name, entries in out.items():
        for b in entries:
            if not b.note and name in NOTES:
                b.note = NOTES[name]
    return out


def layer_items() -> list[BenchItem]:
    """Every layer row, in the order of ``npimpl.__all__`` (then classes it does not list)."""
    from compare.badinput import public_classes

    entries = table()
    order = [n for n in public_classes() if n in entries] + \
        [n for n in entries if n not in public_classes()]
    return [b.item() for n in order for b in entries[n]]


def all_items(quick: bool = False) -> list[BenchItem]:
    """The rows of a run: ``quick`` the tiny ones, else every layer, the registered extra
    items (:func:`~compare.bench.item.register`) and the model steps."""
    if quick:
        return [b.item(quick=True) for b in QUICK]
    from .models import model_bench_items

    return layer_items() + list(BENCH_ITEMS) + model_bench_items()
