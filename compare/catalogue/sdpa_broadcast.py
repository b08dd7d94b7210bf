"""scaled_dot_product_attention with batch dims that broadcast between query, key and value
(torch's matmuls broadcast them: a 3-D query against a 4-D key and value is accepted); the
gradient of a broadcast input is summed over the dims it was repeated along."""
from __future__ import annotations

from .attention import sdpa

ORDER = 71

CASES = [
    sdpa("broadcast-3d-query-4d-kv", ((3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 7))),
    sdpa("broadcast-batch1-query", ((1, 3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5))),
    sdpa("broadcast-2d-query", ((4, 5), (2, 6, 5), (2, 6, 5))),
    sdpa("broadcast-both-ways", ((2, 1, 4, 5), (1, 3, 6, 5), (1, 3, 6, 5))),
    sdpa("broadcast-value-only", ((2, 3, 4, 5), (2, 3, 6, 5), (1, 3, 6, 5))),
    sdpa("broadcast-3d-query-mask", ((3, 4, 5), (2, 3, 6, 5), (2, 3, 6, 5)), mask="bool"),
    sdpa("broadcast-causal-scale", ((3, 4, 5), (2, 3, 6, 5), (3, 6, 5)), is_causal=True,
         scale=0.5),
]
