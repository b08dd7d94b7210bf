"""``lockstep bench --scaling``: how time and memory grow with one size, NumPy against torch.

Four sweeps, four sizes each, doubling: Softmax over the classes C, MultiheadAttention over
the sequence length, LSTM over the time steps T, Conv2d over the batch. For each side the
growth exponent is the least-squares slope of log(time) (log(peak extra memory)) against
log(size): 1 for linear growth, 2 for quadratic. A hidden quadratic term in NumPy (the
Softmax Jacobian of issue 19: memory ``C^2`` per row) shows as an exponent above torch's.
"""
from __future__ import annotations

import os

import numpy as np
import pandas as pd

from reference import Spec

from ..io import write_text
from .item import Bench, BenchItem
from .measure import environment_lines, memory_table, threads_each_side, time_pair

#: sweep name -> (size label, sizes, size -> Bench)
SWEEPS = {
    "Softmax over C": ("C", (512, 1024, 2048, 4096),
                       lambda c: Bench(Spec("Softmax", dim=-1), (1024, c))),
    "MultiheadAttention over length": ("L", (64, 128, 256, 512),
                                       lambda n: _mha(n)),
    "LSTM over T": ("T", (16, 32, 64, 128), lambda t: Bench(Spec("LSTM", 256, 256), (t, 32, 256))),
    "Conv2d over batch": ("N", (4, 8, 16, 32),
                          lambda n: Bench(Spec("Conv2d", 16, 32, 3, padding=1), (n, 16, 32, 32))),
}


def _mha(length: int) -> Bench:
    from compare.badinput import _key_value
    return Bench(Spec("MultiheadAttention", 256, 8), (length, 16, 256), extra=_key_value)


def scaling_items(only: str | None = None) -> list[BenchItem]:
    """Every (sweep, size) as a bench item, named ``<sweep>: <label>=<size>``."""
    out = []
    for sweep, (label, sizes, make) in SWEEPS.items():
        if only and only not in sweep:
            continue
        for s in sizes:
            b = make(s)
            b.label = f"{sweep}: {label}={s}"
            out.append(b.item())
    return out


def exponent(sizes, values) -> float:
    """The slope of log(values) against log(sizes) (least squares); NaN if any value <= 0."""
    v = np.asarray(values, float)
    if np.any(~(v > 0)):
        return float("nan")
    return float(np.polyfit(np.log(np.asarray(sizes, float)), np.log(v), 1)[0])


def run_scaling(out_dir="reports", repeat: int = 7, threads: int | None = 1,
                memory: bool = True, only: str | None = None) -> pd.DataFrame:
    items = scaling_items(only)
    rows = []
    load = [os.getloadavg()[0]]
    with threads_each_side(threads):
        for item in items:
            np_step, t_step = item.setup()
            t_np, t_t = time_pair(np_step, t_step, repeat, warmup=2)
            sweep, size = item.name.rsplit(": ", 1)
            rows.append(dict(sweep=sweep, item=item.name, size=int(size.split("=")[1]),
                             numpy_ms=float(np.median(t_np)) * 1e3,
                             torch_ms=float(np.median(t_t)) * 1e3))
            del np_step, t_step
    load.append(os.getloadavg()[0])
    df = pd.DataFrame(rows)
    mem = memory_table([i.name for i in items]) if memory else {}
    for col in ("numpy_mb", "torch_mb"):
        df[col] = [mem.get(n, {}).get(col, np.nan) for n in df["item"]]
    fits = fit_table(df)
    write_text(os.path.join(out_dir, "bench_scaling.csv"), df.to_csv(index=False))
    scaling_plot(os.path.join(out_dir, "bench_scaling.png"), df)
    write_text(os.path.join(out_dir, "bench_scaling.md"), render(df, fits, load, threads))
    return df


def fit_table(df: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for sweep, d in df.groupby("sweep", sort=False):
        rows.append(dict(sweep=sweep, **{f"{side}_{what}_exp": exponent(d["size"], d[f"{side}_{u}"])
                                         for side in ("numpy", "torch")
                                         for what, u in (("time", "ms"), ("memory", "mb"))}))
    return pd.DataFrame(rows)


def scaling_plot(path: str, df: pd.DataFrame) -> None:
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from ..io import save_figure

    sweeps = list(dict.fromkeys(df["sweep"]))
    fig, axes = plt.subplots(2, len(sweeps), figsize=(3.4 * len(sweeps), 6.2), squeeze=False)
    for j, sweep in enumerate(sweeps):
        d = df[df["sweep"] == sweep]
        for i, (unit, title) in enumerate((("ms", "time (ms)"), ("mb", "peak extra memory (MiB)"))):
            ax = axes[i][j]
            for side, style in (("numpy", "o-"), ("torch", "s--")):
                y = d[f"{side}_{unit}"]
                if y.notna().any() and (y > 0).all():
                    ax.loglog(d["size"], y, style, label=f"{side} "
                              f"(exp {exponent(d['size'], y):.2f})", base=2)
            ax.set(title=f"{sweep}" if i == 0 else "", xlabel=d["item"].iloc[0].rsplit(": ", 1)[1]
                   .split("=")[0], ylabel=title)
            ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)


def render(df, fits, load, threads) -> str:
    lines = ["# lockstep bench --scaling: growth of time and peak memory with one size", "",
             *environment_lines(threads, load),
             "- forward+backward, float32; time: median of interleaved runs; memory: peak extra",
             "  MiB (NumPy tracemalloc, torch peak RSS; see bench.md); exponent: least-squares",
             "  slope of log(value) against log(size).", "",
             "![scaling](bench_scaling.png)", "",
             "| sweep | NumPy time exp | torch time exp | NumPy memory exp | torch memory exp |",
             "|---|---:|---:|---:|---:|"]
    for r in fits.itertuples():
        lines.append(f"| {r.sweep} | {r.numpy_time_exp:.2f} | {r.torch_time_exp:.2f} | "
                     f"{r.numpy_memory_exp:.2f} | {r.torch_memory_exp:.2f} |")
    lines += ["", "| item | NumPy ms | torch ms | ratio | NumPy MiB | torch MiB |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in df.itertuples():
        lines.append(f"| {r.item} | {r.numpy_ms:.2f} | {r.torch_ms:.2f} | "
                     f"{r.numpy_ms / r.torch_ms:.2f}x | {r.numpy_mb:.1f} | {r.torch_mb:.1f} |")
    return "\n".join(lines) + "\n"
