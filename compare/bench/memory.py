"""The bench's memory pass, in its own process: ``python -m compare.bench.memory NAME ...``.

Prints one JSON line ``{name: {numpy_mb, numpy_rss_mb, torch_mb}}`` for the named rows (of
the full bench, the quick one and the scaling sweeps). Its own process because measuring
torch by RSS needs glibc to ``mmap`` every large block (``measure.mmap_large_blocks``), which
would slow the timings of the process that runs them.
"""
from __future__ import annotations

import json
import sys
import warnings


def main(argv=None) -> int:
    from .measure import measure_memory, mmap_large_blocks

    mmap_large_blocks()
    import torch
    from threadpoolctl import threadpool_limits

    from .layers import all_items
    from .scaling import scaling_items

    torch.set_num_threads(1)
    names = list(sys.argv[1:] if argv is None else argv)
    known = {i.name: i for i in all_items(quick=True) + scaling_items()}
    if any(n not in known for n in names):
        known.update({i.name: i for i in all_items()})
    out = {}
    with threadpool_limits(1), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for n in names:
            if n in known:
                out[n] = measure_memory(known[n].setup)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
