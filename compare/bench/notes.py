"""Why a bench row misses the issue's targets (2x torch's time, 2x its peak memory), measured.

Each note names the mechanism and the numbers behind it; bench.md prints the note of every
row of the class (``layers.table`` attaches them). The per-operation costs were measured
with one thread, CPU time, at load average 2-4 on the 2-core machine (``lockstep bench``'s
conditions): on the 4096 x 1024 float32 batch (16 MB) one whole-array NumPy operation costs
0.7-1.2 ms (``x + x`` 1.0, ``x > 0`` 0.7, ``np.exp`` 1.9, a row-vector broadcast twice an
add), and in cache-sized blocks 0.1-0.25 ns per element; torch's elementwise layers read
and write the batch about four times in all, forward and backward (ReLU: 3.7 ms).
"""
from __future__ import annotations

_PASSES = ("{k} whole-array NumPy operations forward+backward (counted in {where}), each a "
           "pass over the 16 MB batch at 0.7-1.2 ms; torch's fused forward and backward "
           "kernels make about four ({torch})")

#: class name -> the measured reason its row misses a target
NOTES = {
    "LeakyReLU": _PASSES.format(k=8, where="activation.py: max(x, a x); then x > 0, a "
                                "4-pass select of the slope, the product", torch="3.7 ms"),
    "Hardsigmoid": _PASSES.format(k=10, where="activation.py: clip, add, divide; the band's "
                                  "two comparisons, their and, a 3-pass select, the product",
                                  torch="3.9 ms"),
    "Hardswish": _PASSES.format(k=17, where="_activation_fast.hardswish: the output 4, the "
                                "derivative's two comparisons, x/3 + 1/2 and two selects 11, "
                                "the backward's product 1", torch="3.7 ms"),
    "SiLU": _PASSES.format(k=10, where="_activation_fast.silu, in 64K blocks: the sigmoid 4, "
                           "the output 1, the derivative 4, the backward's product 1",
                           torch="4.4 ms"),
    "ELU": _PASSES.format(k=21, where="_activation_fast.elu, in 64K blocks: expm1 and exp, "
                          "min, three scalings, two 5-pass selects", torch="8.6 ms"),
    "GELU": "'none': erf, which NumPy lacks, as a float32 rational approximation: 25 "
            "NumPy operations in 128K blocks (npimpl/_gelu.py measured 16.8-17.3 ms against "
            "torch's 7.4-8.7 for its one vectorised loop); fdlibm's float64 erf took 88 ms. "
            "'tanh': 22 operations in blocks against torch's two fused kernels.",
    "Softplus": _PASSES.format(k=17, where="_activation_fast.softplus: exp, log1p (12x an add "
                               "per element: NumPy has no vectorised loop for it), two selects",
                               torch="9.0 ms"),
    "LogSigmoid": _PASSES.format(k=16, where="_activation_fast.logsigmoid: exp, log1p (see "
                                 "Softplus), a select", torch="9.3 ms"),
    "Hardshrink": _PASSES.format(k=11, where="shrink.py: the band's comparisons and two 3-pass "
                                 "selects", torch="3.9 ms"),
    "Softshrink": _PASSES.format(k=7, where="shrink.py: x - clip(x), |x| > l and a 3-pass "
                                 "select", torch="3.7 ms"),
    "Threshold": _PASSES.format(k=10, where="shrink.py: a comparison and a 5-pass select each "
                                "way", torch="4.2 ms"),
    "Softmax": "forward max, subtract, exp, sum, divide and backward multiply, sum, subtract, "
               "multiply: 9 NumPy passes over the batch (12.5 ms on 4096 x 1024), torch's "
               "softmax and its backward are one fused kernel each (4.8 ms); rows in blocks "
               "measured 11.3 ms, not enough to change the picture",
    "LogSoftmax": "8 NumPy passes (max, subtract, exp, sum, log-subtract; exp, product, "
                  "subtract) against torch's two fused kernels: 13.2 vs 6.3 ms",
    "Softmin": "Softmax's 9 passes plus the negation",
    "LayerNorm": "npimpl/_norm_fast.py runs LayerNorm in row blocks with BLAS row sums: ~15 "
                 "NumPy passes at 0.1-0.2 ns per element in cache (a row-vector broadcast "
                 "costs twice a plain product): 22.7-24.2 ms against torch's fused kernels "
                 "(6.7-12.6 ms between runs); the whole-array textbook took 41 ms",
    "GroupNorm": "LayerNorm's ~15 blocked passes (npimpl/_norm_fast.py, the per-channel affine "
                 "map inside them) against torch's fused kernel: 6.1 vs 2.5 ms",
    "InstanceNorm1d": "GroupNorm with one channel a group: the same ~15 blocked passes "
                      "(npimpl/_norm_fast.py) against torch's fused kernel",
    "InstanceNorm2d": "as InstanceNorm1d: ~15 blocked NumPy passes against torch's fused kernel",
    "InstanceNorm3d": "as InstanceNorm1d: ~15 blocked NumPy passes against torch's fused kernel",
    "MultiLabelSoftMarginLoss": "torch's Python formula is kept term by term (two log-sigmoids "
                                "with log1p, two sigmoids): ~20 passes over the (N, C) scores, "
                                "torch's autograd runs the same ops as fused kernels",
    "TripletMarginWithDistanceLoss": "the default distance is PairwiseDistance, called three "
                                     "times with its own checks and caches; torch's "
                                     "pairwise_distance is one kernel",
    "PReLU": "a per-channel slope broadcast over (N, C, H, W) and three 4-pass selects "
             "(forward, dW, dx), against torch's fused prelu kernels",
    "BatchNorm1d": "on 4096 x 256 (4 MB) the closed form's ~8 passes (npimpl/_batchnorm_fast.py: "
                   "per-channel sums by BLAS) against torch's fused kernel; between runs "
                   "1.2-2.4x as torch's own time moved from 3.6 to 1.4 ms",
    "AdaptiveAvgPool2d": "the global pool on 32 x 32 x 16 x 16 (1 MB) takes 0.2 ms in torch: "
                         "NumPy's fixed cost per call (the checks, the per-axis pooling "
                         "matrices, two products and their reshapes) is most of its 0.5 ms",
    "Conv2d": "im2col: the (C_in*k*k) x (N*H*W) column matrix (19 MB for 16 x 32 x 32 x 32 "
              "inputs) is copied once and kept for the weight gradient, 2.9x torch's peak "
              "memory (oneDNN convolves in place); the three products reach 51 GFLOP/s, "
              "96% of OpenBLAS on one GEMM of the forward's shape, oneDNN 84 GFLOP/s. The "
              "depthwise row (npimpl/_depthwise.py, banded products) is bound by the "
              "band's wasted zeros: 6.6 GFLOP/s against oneDNN's 15.7",
    "Conv3d": "im2col in 3-D: 433 rows x 32768 positions, a 56 MB column matrix (27 copies of "
              "the input), 7.4x torch's peak memory; the products run at 47 GFLOP/s where "
              "oneDNN's direct 3-D convolution reaches 111",
    "MultiLabelMarginLoss": "the (N, J, C) tensor of (target, non-target) pairs, J the most "
                            "labels of a row (7 here): 14.6 MB where torch loops over the "
                            "pairs without one",
    "MultiMarginLoss": "the (N, C) hinge array and the cached gradient: two arrays of the "
                       "scores' size (70 MB) where torch's kernel keeps none but the "
                       "gradient (31 MB)",
    "ScaledDotProductAttention": "the (B, H, L, S) attention probabilities (8 MB here) are "
                                 "cached for the backward, which makes one more of that size; "
                                 "torch's CPU flash-attention kernel keeps only each row's "
                                 "log-sum-exp and recomputes blocks",
    "EmbeddingBag": "the (n, dim) looked-up rows (32 MB) and their gradient rows: the textbook "
                    "materialises both, torch's fused kernels reduce and scatter in place",
    "AdaptiveMaxPool3d": "axis-by-axis maxima (npimpl/_adaptive_max.py) keep an intermediate "
                         "per axis and their int64 offsets",
    "FractionalMaxPool2d": "the max over every stride-1 window (npimpl/_fractional_fast.py) "
                           "is as large as the input, with its uint8 offsets",
    "FractionalMaxPool3d": "as FractionalMaxPool2d: the max over every stride-1 window is as "
                           "large as the input",
    "LSTMCell": "the four gates and their activations are cached for the backward (24 MB) "
                "where torch saves the gates' pre-activations in one workspace (11 MB)",
    "TransformerEncoder": "two layers' attention probabilities and feed-forward activations "
                          "cached (see ScaledDotProductAttention): 2.03x torch's peak",
    "TransformerDecoder": "as TransformerEncoder, with cross-attention: 2.04x",
    "Transformer": "as TransformerEncoder, encoder and decoder stacks: 2.04x torch's peak",
    # measured on the idle machine (load average 0.9-1.1, 2026-11-30): misses that the runs
    # under load hid
    "CELU": "ELU's blocked pass (_activation_fast.elu, the same 21 operations with alpha "
            "folded into the input scale): 18.4 ms against torch's fused 8.4 ms",
    "SELU": "ELU's blocked pass (_activation_fast.elu, 21 operations, the scale folded in): "
            "19.2 ms against torch's fused 8.7 ms",
    "CrossEntropyLoss": "log-softmax (max, subtract, exp, row sum, log-subtract), the target's "
                        "gather, and backward's softmax minus one-hot scaled by 1/N: about 8 "
                        "NumPy passes over the 8192 x 1000 float32 logits (32 MB, ~3.5 ms "
                        "each) against torch's log_softmax + nll_loss kernels, two each way: "
                        "29.4 vs 14.0 ms (idle); its memory is 0.67x torch's",
    "GLU": "memory 2.0x: sigmoid(b) is cached (16 MB for a 4096 x 2048 float32 input), "
           "backward's (1 - s) s a g chain makes 16 MB temporaries, and np.concatenate "
           "copies da and db into the (N, 2C) gradient; torch's glu_backward writes the "
           "gradient in one kernel",
}
