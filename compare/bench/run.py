"""Running the bench: time every row, measure its memory, write ``bench.csv`` and ``bench.md``."""
from __future__ import annotations

import os
import time

import numpy as np
import pandas as pd

from .. import options
from ..io import write_text
from .item import BenchItem
from .measure import (environment_lines, gemm_gflops, memory_table, threads_each_side,
                      time_pair)

#: the issue's overall target: the median ratio over every row
MEDIAN_TARGET = 1.2
#: peak extra memory NumPy / torch allowed per row
MEMORY_TARGET = 2.0


def _repeats(np_step, t_step, repeat: int, budget: float) -> int:
    """``repeat``, fewer (at least 5) where one pair of steps would blow ``budget`` seconds."""
    t0 = time.perf_counter()
    np_step()
    t_step()
    pair = time.perf_counter() - t0
    return max(5, min(repeat, int(budget / max(pair, 1e-9))))


def time_items(items: list[BenchItem], repeat: int, warmup: int, budget: float,
               progress=None) -> list[dict]:
    rows = []
    for item in items:
        if progress:
            progress(item.name)
        np_step, t_step = item.setup()
        n = _repeats(np_step, t_step, repeat, budget)
        wall = {}
        t_np, t_t = time_pair(np_step, t_step, n, warmup, wall)
        np_s, t_s = float(np.median(t_np)), float(np.median(t_t))
        gemm = gemm_gflops(*item.gemm, max(5, min(n, 11))) if item.gemm else np.nan
        np_gf, t_gf = item.flops / np_s / 1e9, item.flops / t_s / 1e9
        ratio = np_s / t_s
        rows.append(dict(item=item.name, layer=item.layer, flops=item.flops,
                         numpy_ms=np_s * 1e3, torch_ms=t_s * 1e3, ratio=ratio,
                         numpy_gflops=np_gf, torch_gflops=t_gf,
                         gemm_shape="x".join(map(str, item.gemm or ())), gemm_gflops=gemm,
                         gemm_fraction=np_gf / gemm,
                         target=item.target if item.target is not None else np.nan,
                         meets_target=(ratio <= item.target) if item.target else None,
                         numpy_ms_min=min(t_np) * 1e3, torch_ms_min=min(t_t) * 1e3,
                         numpy_wall_ms=float(np.median(wall["numpy"])) * 1e3,
                         torch_wall_ms=float(np.median(wall["torch"])) * 1e3,
                         repeats=n, note=item.note))
        del np_step, t_step
    return rows


def add_memory(df: pd.DataFrame, memory: dict) -> pd.DataFrame:
    for col in ("numpy_mb", "torch_mb", "numpy_rss_mb"):
        df[col] = [memory.get(n, {}).get(col, np.nan) for n in df["item"]]
    df["memory_ratio"] = df["numpy_mb"] / df["torch_mb"].where(df["torch_mb"] > 0.5)
    return df


def run_bench(out_dir="reports", quick: bool = False, repeat: int | None = None,
              items: list[BenchItem] | None = None, threads: int | None = 1,
              memory: bool = True, budget: float = 4.0, progress=None) -> pd.DataFrame:
    """Time every item (``quick``: only the tiny ones, few repeats), measure each one's peak
    extra memory (in a child process, see ``measure``), write ``bench.csv`` and ``bench.md``
    into ``out_dir`` and return the table. ``threads`` caps both NumPy's BLAS (threadpoolctl)
    and torch for the run (None: leave each library's own setting)."""
    from .layers import all_items

    if items is None:
        items = all_items(quick)
    repeat = repeat or (3 if quick else 21)
    warmup = 1 if quick else 3
    load = [os.getloadavg()[0]]
    with threads_each_side(threads):
        rows = time_items(items, repeat, warmup, budget, progress)
    load.append(os.getloadavg()[0])
    df = pd.DataFrame(rows)
    mem = memory_table([i.name for i in items]) if memory else {}
    df = add_memory(df, mem)
    write_text(os.path.join(out_dir, "bench.csv"), df.to_csv(index=False))
    write_text(os.path.join(out_dir, "bench.md"), render_md(df, quick, load, threads))
    return df


def _fmt(v, spec=".2f") -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def _memory_cell(r) -> str:
    if np.isnan(r.numpy_mb):
        return " | | "
    flag = " **over 2x**" if r.memory_ratio > MEMORY_TARGET else ""
    return (f" | {_fmt(r.numpy_mb, '.1f')} | {_fmt(r.torch_mb, '.1f')} | "
            f"{_fmt(r.memory_ratio)}{'x' if not np.isnan(r.memory_ratio) else ''}{flag}")


def render_md(df: pd.DataFrame, quick: bool = False, load=None, threads=1) -> str:
    ratios = df["ratio"]
    misses = df[df["meets_target"] == False]  # noqa: E712  (None: no target)
    mem_over = df[df.get("memory_ratio", pd.Series(dtype=float)) > MEMORY_TARGET]
    lines = [
        "# lockstep bench: forward+backward, NumPy vs torch CPU" + (" (quick run)" if quick
                                                                    else ""),
        "",
        *environment_lines(threads, load),
        "- each step: zero grads, forward, backward with a fixed upstream gradient on the first",
        "  output, float32; timings interleaved NumPy/torch after warm-up; medians (min and",
        "  wall-clock medians in bench.csv) of the CPU time of the one thread both run on (on a",
        "  shared machine the wall clock mostly measures waits for a core; idle, they agree).",
        "  ratio = NumPy time / torch time (lower is better for NumPy).",
        "- memory: peak extra MiB of one step above what was held before it (the module's",
        "  previous cache dropped): NumPy by tracemalloc, torch by the process's peak RSS",
        "  (VmHWM, reset per step, large blocks mmapped; see compare/bench/measure.py), in a",
        "  separate process; `numpy_rss_mb` in bench.csv measures NumPy the torch way.",
        "- GEMM: one float32 NumPy matmul of the shape given, the throughput this BLAS reaches",
        "  there; NumPy / GEMM is the layer's achieved GFLOP/s as a fraction of it.",
        "- growth with size (Softmax over C, attention over length, LSTM over T, conv over",
        "  batch): `lockstep bench --scaling` writes [bench_scaling.md](bench_scaling.md).",
        "",
        f"**{len(df)} rows; median ratio {np.median(ratios):.2f}x (target ≤ {MEDIAN_TARGET}x); "
        f"{len(df) - len(misses)} of {int(df['meets_target'].notna().sum())} rows within their "
        f"time target; {len(mem_over)} over {MEMORY_TARGET:g}x torch's peak memory.**",
        "",
        "| item | NumPy ms | torch ms | ratio | target | NumPy MiB | torch MiB | memory ratio "
        "| NumPy GFLOP/s | NumPy / GEMM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in df.itertuples():
        target = ("" if np.isnan(r.target) else
                  f"≤ {r.target:g}x {'met' if r.meets_target else '**MISSED**'}")
        lines.append(f"| {r.item} | {_fmt(r.numpy_ms)} | {_fmt(r.torch_ms)} | {_fmt(r.ratio)}x | "
                     f"{target}{_memory_cell(r)} | {_fmt(r.numpy_gflops, '.1f')} | "
                     f"{_fmt(r.gemm_fraction * 100, '.0f')}"
                     f"{'%' if not np.isnan(r.gemm_fraction) else ''} |")
    notes = [f"- {r.item}: {r.note}" for r in df.itertuples() if r.note]
    if notes:
        lines += ["", "Notes (what a row measured where it misses, and how the step is built):",
                  "", *notes]
    return "\n".join(lines) + "\n"


def _parser():
    p = options.Parser(prog="lockstep bench",
                       description="forward+backward time and memory of every layer, NumPy "
                                   "against torch (CPU)")
    p.add_argument("--out", default="reports", help="folder for bench.csv and bench.md")
    p.add_argument("--quick", action="store_true", help="only the tiny items, 3 repeats")
    p.add_argument("--repeat", type=options.positive, default=None,
                   help="timed repetitions per item (default: 21, or 3 with --quick)")
    p.add_argument("--budget", type=float, default=4.0,
                   help="seconds of timing per row at most (fewer repeats, at least 5, for slow "
                        "rows)")
    p.add_argument("--threads", type=options.non_negative, default=1,
                   help="threads for both NumPy's BLAS and torch (on a shared machine two "
                        "libraries spinning on oversubscribed cores measure the load, not the "
                        "code; 0 = each library's own default)")
    p.add_argument("--only", default=None,
                   help="only the items whose name contains one of these comma-separated "
                        "texts (default: every item)")
    p.add_argument("--no-memory", action="store_true", help="skip the memory pass")
    p.add_argument("--scaling", action="store_true",
                   help="instead: the scaling sweeps (bench_scaling.md/.csv/.png)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv=None) -> int:
    from .layers import QUICK, all_items

    a = options.parse(_parser(), argv)
    if isinstance(a, int):
        return a
    if a.scaling:
        return options.locked("lockstep bench", a.out, _scaling, a)
    items = all_items(a.quick)
    if a.only is not None:
        keys = [k.strip() for k in a.only.split(",") if k.strip()]
        pool = items if a.quick else items + [b.item(quick=True) for b in QUICK]
        items = [i for i in pool if any(k in i.name for k in keys)]
        if not items:
            return options.fail("lockstep bench", f"--only {a.only!r} matches no item (see "
                                "compare/bench/layers.py for the rows)")
    return options.locked("lockstep bench", a.out, _main, a, items)


def _scaling(a) -> int:
    from .scaling import run_scaling
    run_scaling(a.out, repeat=a.repeat or 9, threads=a.threads or None,
                memory=not a.no_memory, only=a.only)
    if not a.quiet:
        print(f"wrote {os.path.join(a.out, 'bench_scaling.md')} (.csv, .png)")
    return 0


def _main(a, items) -> int:
    progress = None if a.quiet else (lambda name: print(f"  {name}", flush=True))
    df = run_bench(a.out, quick=a.quick, repeat=a.repeat, items=items,
                   threads=a.threads or None, memory=not a.no_memory, budget=a.budget,
                   progress=progress)
    if not a.quiet:
        print(df[["item", "numpy_ms", "torch_ms", "ratio", "numpy_mb", "torch_mb"]]
              .to_string(index=False))
        print(f"wrote {os.path.join(a.out, 'bench.csv')} and bench.md")
    return 0
