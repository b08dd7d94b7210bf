"""``lockstep bench``: forward+backward time and peak memory of every layer, NumPy against torch.

Every public npimpl class has at least one row at a realistic size (``layers.TABLE``: a
spec, an input shape, a loss's target; a catalogue family may add a ``BENCH`` dict), then
the model training steps (``models``). Each row's NumPy and torch steps are timed
interleaved on one thread each (``measure``), its peak extra memory is measured in a child
process (``memory``), and ``run`` writes ``bench.csv`` and ``bench.md``; ``lockstep bench
--scaling`` (``scaling``) sweeps one size of four layers and fits growth exponents. The bench
asserts nothing about time: the numbers are the report.

    item.py      BenchItem (a row), Bench (a layer's entry), layer_steps, register
    layers.py    the registry: TABLE, table(), all_items()
    notes.py     why a row misses a target: the mechanism and the measurement
    models.py    the lockstep-train model steps
    measure.py   interleaved timing, tracemalloc / RSS memory, the GEMM reference
    memory.py    the memory pass's child process
    run.py       run_bench, bench.md, the CLI (main)
    scaling.py   --scaling: sweeps, exponents, the PNG
"""
from .item import BENCH_ITEMS, Bench, BenchItem, layer_steps, register
from .layers import TABLE, all_items, table
from .measure import gemm_gflops, time_pair
from .models import model_bench_items as model_items
from .run import _parser, main, render_md, run_bench

__all__ = ["BENCH_ITEMS", "Bench", "BenchItem", "TABLE", "all_items", "gemm_gflops",
           "layer_steps", "main", "model_items", "register", "render_md", "run_bench", "table",
           "time_pair"]
