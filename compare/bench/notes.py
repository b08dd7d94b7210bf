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

_BLOCKED = ("{k} NumPy passes forward + backward in cache-sized blocks written in place "
            "({where}); measured before -> after, interleaved in one process at load 12 "
            "(both sides slower than idle): {t}")

#: class name -> the measured reason its row misses a target
NOTES = {
    "LeakyReLU": _BLOCKED.format(k="3 + 3", where="_activation_fast.leaky_relu(_grad): "
                                 "y = x clip([x > 0], a, 1), the slope redone in the "
                                 "backward's blocks", t="7.9 -> 6.2 ms, torch 3.3"),
    "Hardsigmoid": _BLOCKED.format(k="3 + 4", where="_activation_fast.hardsigmoid(_grad): "
                                   "clip(x + 3, 0, 6) / 6; |x| < 3 times the slope times dy",
                                   t="11.7 -> 6.3 ms, torch 3.8"),
    "Hardswish": _BLOCKED.format(k="4 + 7", where="_activation_fast.hardswish(_grad): the "
                                 "output 4; the derivative from clip(x, -3, 3) / 3 and its "
                                 "trunc, no select", t="16.1 -> 6.9 ms, torch 4.2"),
    "SiLU": _BLOCKED.format(k="9 + 1", where="_activation_fast.silu: the sigmoid 4 (exp and a "
                            "reciprocal), the output 1, the derivative 4, cached; the "
                            "backward's product", t="11.5 -> 10.7 ms, torch 4.7: still over "
                            "2x, bound by the nine passes that give the textbook's bits"),
    "ELU": _BLOCKED.format(k="18 + 1", where="_activation_fast.elu: min, expm1 and exp with "
                           "their scalings, the two selects on the bits with one mask each",
                           t="20.5 -> 15.7 ms, torch 8.8"),
    "GELU": "'none': erf, which NumPy lacks, as a float32 rational approximation: 25 "
            "NumPy operations in 128K blocks (npimpl/_gelu.py measured 16.8-17.3 ms against "
            "torch's 7.4-8.7 for its one vectorised loop); fdlibm's float64 erf took 88 ms. "
            "'tanh': 22 operations in blocks against torch's two fused kernels.",
    "Softplus": _PASSES.format(k=17, where="_activation_fast.softplus: exp, log1p (12x an add "
                               "per element: NumPy has no vectorised loop for it), two selects",
                               torch="9.0 ms"),
    "LogSigmoid": _PASSES.format(k=16, where="_activation_fast.logsigmoid: exp, log1p (see "
                                 "Softplus), a select", torch="9.3 ms"),
    "Hardshrink": _BLOCKED.format(k="4 + 4", where="_activation_fast.hardshrink, "
                                  "shrink_grad: |x|, the band as a bit mask, one and",
                                  t="8.5 -> 6.7 ms, torch 4.3"),
    "Softshrink": _BLOCKED.format(k="2 + 4", where="_activation_fast.softshrink: x - clip(x); "
                                  "shrink_grad", t="9.6 -> 5.3 ms, torch 3.3"),
    "Threshold": _BLOCKED.format(k="5 + 3", where="_activation_fast.threshold(_grad): one "
                                 "comparison's bit mask, a select of value and x; dy and the "
                                 "mask", t="10.6 -> 7.0 ms, torch 3.5"),
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
                    "materialises both, torch's fused kernels reduce and scatter in place; "
                    "time 38-47 ms against torch's 12.5-34.6 ms in two idle runs (1.37x, "
                    "3.03x): torch's own time moves most",
    "NLLLoss2d": "NLLLoss over (N, C, H, W): the forward reads only the N*H*W picked values "
                 "(take_along_axis), the backward scatters them into an (N*H*W, C) zeros array "
                 "(11 MB) returned as a class-axis-moved view: 4.5-4.7 ms against torch's "
                 "nll_loss2d kernels at 2.0-2.4 ms in two idle runs (1.98x, 2.28x)",
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
    "CELU": "ELU's blocked pass (_activation_fast.elu, alpha folded into the input scale): "
            "18.4 ms against torch's 8.4 (idle); in blocks written in place 20.2 -> 15.7 ms "
            "against 8.5 (load 12, interleaved)",
    "SELU": "ELU's blocked pass (_activation_fast.elu, the scale folded in): 19.2 ms against "
            "torch's 8.7 (idle); in blocks written in place 20.5 -> 15.6 ms against 8.6 (load "
            "12, interleaved)",
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
