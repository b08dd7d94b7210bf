"""``lockstep bench --scaling``: how time and memory grow with one size, NumPy against torch.

Four sweeps, one size growing in a constant ratio: Softmax over the classes C,
MultiheadAttention over the sequence length, LSTM over the time steps T, Conv2d over the
batch. For each side the growth exponent is the least-squares slope of log(time) (log(peak
extra memory)) against log(size): 1 for linear growth, 2 for quadratic. A hidden quadratic
term in NumPy (the Softmax Jacobian of issue 19: memory ``C^2`` per row) shows as an exponent
above torch's.

What makes the comparison a measurement rather than noise:

* **Sizes in one regime.** Every point's working set is past the 32 MiB L3 cache or its
  step long enough that per-call costs are a small part, and no side's step turns, inside a
  sweep, from reusing the memory it freed to faulting in fresh pages (glibc hands a freed
  block of 32 MiB or more back to the kernel, and smaller ones depending on its history; the
  next step pays a page fault per 4 KiB, CPU time). A point in cache, a fixed cost or such a
  turn bends the line and moves the slope, whatever the code's growth; each sweep's reason
  is in :data:`SIZES_WHY`, and the table counts every size's page faults per step.
* **Rounds interleaved across the sizes.** After warm-up, each round runs every size of a
  sweep once on each side (the order of the sizes and of the two sides alternating between
  rounds), so a load spike from another process lands on all sizes alike instead of on the
  one being measured; the clock is the thread's CPU time, as in ``lockstep bench``.
* **The exponent's uncertainty.** The rounds are resampled (bootstrap, the same rounds for
  both sides, so a round's shared load stays paired) and the exponents refitted: the 2.5 and
  97.5 percentiles give a 95 % interval for each side's exponent and for their difference.
* **A verdict per sweep**, from that difference: NumPy grows faster than torch only if the
  whole interval is above zero; if it contains zero the two grow alike within the
  measurement, below zero NumPy grows slower. Peak memory is measured once per size (it does
  not vary between runs: tracemalloc counts bytes, the RSS pages), so its verdict compares the
  exponents themselves, fitted to the *growth* of memory (the differences between successive
  sizes), because the fixed part (weights, their gradients, torch's allocator) lowers a plain
  log-log slope the more of it a side holds, which made the side with less memory look like
  the faster-growing one (LSTM: NumPy 0.86 against torch 0.76 while NumPy held less at every
  T). Time's fixed part is the per-call cost, kept small by the sizes above; its verdict uses
  the plain slope.
"""
from __future__ import annotations

import os
import resource

import numpy as np
import pandas as pd

from reference import Spec

from ..io import write_text
from .item import Bench, BenchItem
from .measure import _timed, environment_lines, memory_table, threads_each_side

#: sweep name -> (size label, sizes, size -> Bench); sizes in a constant ratio (see
#: :func:`growth_exponent`), every one in the same regime of caches and allocator (SIZES_WHY)
SWEEPS = {
    "Softmax over C": ("C", (32768, 49152, 73728, 110592),
                       lambda c: Bench(Spec("Softmax", dim=-1), (256, c))),
    "MultiheadAttention over length": ("L", (64, 128, 256, 512),
                                       lambda n: _mha(n)),
    "LSTM over T": ("T", (96, 144, 216, 324),
                    lambda t: Bench(Spec("LSTM", 256, 256), (t, 32, 256))),
    "Conv2d over batch": ("N", (64, 80, 100, 125),
                          lambda n: Bench(Spec("Conv2d", 16, 32, 3, padding=1), (n, 16, 32, 32))),
}

#: why each sweep has its sizes (bench_scaling.md prints these)
SIZES_WHY = {
    "Softmax over C": "a real vocabulary's C; every (256, C) array 32 MiB or more, so on both "
                      "sides each step's blocks come from fresh mmaps (with rows of 2048 "
                      "x 1024-8192 the sweep crossed glibc's 32 MiB ceiling: torch's page faults "
                      "went from 1,600 to 16,400 a step and its exponent to 1.70 against NumPy's "
                      "1.12)",
    "MultiheadAttention over length": "the (B, H, L, L) probabilities grow 4x a step and pass "
                                      "the caches and the 32 MiB ceiling on both sides alike",
    "LSTM over T": "from T = 96 torch's step faults in pages in proportion to T (74 a time "
                   "step up to T = 216, none at 24 and 48), NumPy's none, so the sweep starts at "
                   "96 (over T = 24-192 torch's exponent read 1.05 [1.02, 1.06] against NumPy's "
                   "0.98, over 32-256 1.11); at T = 324 both cross once more (torch 107 a time "
                   "step, NumPy 809 in all), which the interval of the last point carries",
    "Conv2d over batch": "NumPy's column matrix (N x 590 KB) 37-74 MiB, past 32 MiB throughout, "
                         "so its step may fault in pages at any size (14-970 a step in one "
                         "run, as the allocator's history has it); over N = 16-128 it crossed "
                         "32 MiB between 32 and 64, NumPy's page faults went from 0 to ~600 a "
                         "step, and that step up read as NumPy's exponent 1.05 [1.03, 1.19] "
                         "against torch's 0.98; at N = 216 torch's step faulted too (20,700 "
                         "pages, none up to 144), so the sweep stops at 125",
}

#: bootstrap resamples of the rounds, and the interval's coverage
BOOTSTRAP = 2000
COVERAGE = 0.95


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


def growth_exponent(sizes, values) -> float:
    """The exponent of what grows: the slope of log(v[i+1] - v[i]) against log(size[i]).

    For ``v = a + b n^p`` on sizes in a constant ratio the differences are ``b n^p (r^p - 1)``,
    so the fixed part ``a`` drops out and the slope is ``p`` exactly; NaN unless ``v``
    increases from size to size (nothing grows to fit)."""
    v = np.asarray(values, float)
    return exponent(np.asarray(sizes, float)[:-1], np.diff(v))


def _slopes(x: np.ndarray, m: np.ndarray) -> np.ndarray:
    """Least-squares slopes of log(m) against x, one per row of ``m`` (shape (B, sizes))."""
    xc = x - x.mean()
    y = np.log(m)
    return (y - y.mean(axis=1, keepdims=True)) @ xc / (xc @ xc)


def bootstrap_exponents(sizes, t_np, t_t, n_boot: int = BOOTSTRAP, seed: int = 0) -> dict:
    """95 % intervals of the time exponents by resampling the rounds.

    ``t_np``, ``t_t``: arrays (sizes, rounds) of step times, paired by round (round ``r`` of
    every size ran close in time on both sides). Each resample draws the rounds with
    replacement (one draw for both sides), takes the median per size and fits the slope.
    Returns ``{numpy, torch, delta}``, each a ``(low, high)`` pair; ``delta`` is NumPy's
    exponent minus torch's."""
    t_np, t_t = np.asarray(t_np, float), np.asarray(t_t, float)
    k, r = t_np.shape
    idx = np.random.default_rng(seed).integers(0, r, size=(n_boot, k, r))
    med = {side: np.median(np.take_along_axis(np.broadcast_to(t, (n_boot, k, r)), idx, 2),
                           axis=2) for side, t in (("numpy", t_np), ("torch", t_t))}
    x = np.log(np.asarray(sizes, float))
    p = {side: _slopes(x, m) for side, m in med.items()}
    p["delta"] = p["numpy"] - p["torch"]
    q = (100 * (1 - COVERAGE) / 2, 100 * (1 + COVERAGE) / 2)
    return {side: tuple(float(v) for v in np.percentile(s, q)) for side, s in p.items()}


def verdict(low: float, high: float) -> str:
    """NumPy's growth against torch's from the interval of (NumPy's exponent - torch's)."""
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not measured"
    if low > 0:
        return "**NumPy grows faster**"
    if high < 0:
        return "NumPy grows slower"
    return "alike within the uncertainty"


def memory_verdict(numpy_exp: float, torch_exp: float) -> str:
    """The memory growth exponents compared (measured once: no interval)."""
    if not (np.isfinite(numpy_exp) and np.isfinite(torch_exp)):
        return "not measured"
    if round(numpy_exp, 2) > round(torch_exp, 2):
        return "**NumPy grows faster**"
    return "NumPy grows no faster"


def _faults() -> int:
    """Minor page faults of this thread so far (a fresh page handed over, zeroed, by the
    kernel). Counted, not timed: the split of CPU time into user and system is sampled at the
    timer tick, and one step's repeats read 1-26 ms of 48 ms as user time."""
    return resource.getrusage(resource.RUSAGE_THREAD).ru_minflt


def time_sweep(items: list[BenchItem], repeat: int, warmup: int = 2):
    """``(numpy, torch, numpy_faults, torch_faults)`` arrays (sizes, repeat) of step times and
    page faults: warm-up, then ``repeat`` rounds, each running every item once on each
    side (the items' order and the sides' alternating)."""
    steps = [item.setup() for item in items]
    for np_step, t_step in steps:
        for _ in range(warmup):
            np_step()
            t_step()
    t_np, t_t, s_np, s_t = (np.empty((len(items), repeat)) for _ in range(4))
    for r in range(repeat):
        order = range(len(items)) if r % 2 == 0 else range(len(items) - 1, -1, -1)
        for k in order:
            np_step, t_step = steps[k]
            pair = ((t_np, s_np, np_step), (t_t, s_t, t_step))
            for out, faults, step in pair[::(-1) ** (r // 2)]:
                f0 = _faults()
                out[k, r] = _timed(step)[0]
                faults[k, r] = _faults() - f0
    return t_np, t_t, s_np, s_t


def run_scaling(out_dir="reports", repeat: int = 9, threads: int | None = 1,
                memory: bool = True, only: str | None = None) -> pd.DataFrame:
    items = scaling_items(only)
    rows, samples = [], {}
    load = [os.getloadavg()[0]]
    with threads_each_side(threads):
        for sweep in dict.fromkeys(i.name.rsplit(": ", 1)[0] for i in items):
            sweep_items = [i for i in items if i.name.rsplit(": ", 1)[0] == sweep]
            t_np, t_t, s_np, s_t = time_sweep(sweep_items, repeat)
            samples[sweep] = (t_np, t_t)
            for k, item in enumerate(sweep_items):
                size = int(item.name.rsplit("=", 1)[1])
                rows.append(dict(sweep=sweep, item=item.name, size=size,
                                 numpy_ms=float(np.median(t_np[k])) * 1e3,
                                 torch_ms=float(np.median(t_t[k])) * 1e3,
                                 numpy_ms_iqr=float(np.subtract(*np.percentile(t_np[k], [75, 25])))
                                 * 1e3,
                                 torch_ms_iqr=float(np.subtract(*np.percentile(t_t[k], [75, 25])))
                                 * 1e3,
                                 numpy_faults=float(np.median(s_np[k])),
                                 torch_faults=float(np.median(s_t[k])),
                                 rounds=repeat))
    load.append(os.getloadavg()[0])
    df = pd.DataFrame(rows)
    mem = memory_table([i.name for i in items]) if memory else {}
    for col in ("numpy_mb", "torch_mb", "numpy_rss_mb"):
        df[col] = [mem.get(n, {}).get(col, np.nan) for n in df["item"]]
    fits = fit_table(df, samples)
    write_text(os.path.join(out_dir, "bench_scaling.csv"), df.to_csv(index=False))
    scaling_plot(os.path.join(out_dir, "bench_scaling.png"), df)
    write_text(os.path.join(out_dir, "bench_scaling.md"), render(df, fits, load, threads))
    return df


def fit_table(df: pd.DataFrame, samples: dict | None = None) -> pd.DataFrame:
    """One row per sweep: each side's time and memory exponents, the time exponents' 95 %
    intervals (``samples``: sweep -> (numpy, torch) arrays of round times; NaN without) and
    the verdicts."""
    rows = []
    for sweep, d in df.groupby("sweep", sort=False):
        row = dict(sweep=sweep)
        for side in ("numpy", "torch"):
            row[f"{side}_time_exp"] = exponent(d["size"], d[f"{side}_ms"])
            row[f"{side}_memory_exp"] = exponent(d["size"], d[f"{side}_mb"])
            row[f"{side}_memory_growth_exp"] = growth_exponent(d["size"], d[f"{side}_mb"])
        ci = (bootstrap_exponents(d["size"], *samples[sweep]) if samples and sweep in samples
              else {k: (np.nan, np.nan) for k in ("numpy", "torch", "delta")})
        for side, (lo, hi) in ci.items():
            row[f"{side}_time_low"], row[f"{side}_time_high"] = lo, hi
        row["time_verdict"] = verdict(*ci["delta"])
        row["memory_verdict"] = memory_verdict(row["numpy_memory_growth_exp"],
                                               row["torch_memory_growth_exp"])
        rows.append(row)
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


def _interval(r, side) -> str:
    exp, lo, hi = (getattr(r, f"{side}_time_exp"), getattr(r, f"{side}_time_low"),
                   getattr(r, f"{side}_time_high"))
    return f"{exp:.2f}" if np.isnan(lo) else f"{exp:.2f} [{lo:.2f}, {hi:.2f}]"


def _fmt(r, col) -> str:
    v = getattr(r, col, float("nan"))
    return "-" if np.isnan(v) else f"{v:.0f}"


def render(df, fits, load, threads) -> str:
    rounds = int(df["rounds"].iloc[0]) if "rounds" in df else 0
    lines = ["# lockstep bench --scaling: growth of time and peak memory with one size", "",
             *environment_lines(threads, load),
             "- forward+backward, float32, every size past the caches and fixed costs (see",
             "  compare/bench/scaling.py); time: median CPU time of "
             f"{rounds or 'the'} rounds, each running every size",
             "  of a sweep once on each side; memory: peak extra MiB (NumPy tracemalloc, torch",
             "  peak RSS; see bench.md), once per size.",
             "- exponent: least-squares slope of log(value) against log(size); [low, high]: its",
             f"  {COVERAGE:.0%} interval from {BOOTSTRAP} bootstrap resamples of the rounds. Time "
             "verdict:",
             "  NumPy grows faster only if the interval of (NumPy's exponent - torch's) lies above",
             "  zero. Memory verdict: the exponents of memory's growth (the differences between",
             "  successive sizes: the fixed part, weights and allocator, drops out) compared.", "",
             "![scaling](bench_scaling.png)", "",
             "| sweep | NumPy time exp | torch time exp | NumPy - torch | time verdict "
             "| NumPy memory exp (growth) | torch memory exp (growth) | memory verdict |",
             "|---|---:|---:|---:|---|---:|---:|---|"]
    why = []
    for r in fits.itertuples():
        delta = round(r.numpy_time_exp - r.torch_time_exp, 2) + 0.0     # no "-0.00"
        why.append(f"- {r.sweep}: {SIZES_WHY[r.sweep]}." if r.sweep in SIZES_WHY else "")
        d_ci = "" if np.isnan(r.delta_time_low) else \
            f" [{r.delta_time_low:.2f}, {r.delta_time_high:.2f}]"
        lines.append(f"| {r.sweep} | {_interval(r, 'numpy')} | {_interval(r, 'torch')} | "
                     f"{delta:+.2f}{d_ci} | {r.time_verdict} | {r.numpy_memory_exp:.2f} "
                     f"({r.numpy_memory_growth_exp:.2f}) | {r.torch_memory_exp:.2f} "
                     f"({r.torch_memory_growth_exp:.2f}) | {r.memory_verdict} |")
    lines += ["", "Sizes:", "", *[w for w in why if w]]
    lines += ["", "Per size: medians over the rounds, with the page faults of a step (a block of "
              "32 MiB or more comes from a fresh mmap every step, above glibc's ceiling for "
              "reusing freed memory, and each of its 4 KiB pages is faulted in and zeroed by the "
              "kernel: CPU time the step pays).", "",
              "| item | NumPy ms (page faults) | torch ms (page faults) | ratio | NumPy MiB "
              "| torch MiB |",
              "|---|---:|---:|---:|---:|---:|"]
    for r in df.itertuples():
        lines.append(f"| {r.item} | {r.numpy_ms:.2f} ({_fmt(r, 'numpy_faults')}) | "
                     f"{r.torch_ms:.2f} ({_fmt(r, 'torch_faults')}) | "
                     f"{r.numpy_ms / r.torch_ms:.2f}x | {r.numpy_mb:.1f} | {r.torch_mb:.1f} |")
    return "\n".join(lines) + "\n"
