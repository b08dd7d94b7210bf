"""``lockstep bench``: forward+backward time of each layer in NumPy and in torch (CPU), side by side.

Each :class:`BenchItem` builds a NumPy step and a torch step (one forward and one
backward each, parameter gradients reset first, the same input and upstream
gradient on both sides). After warm-up the two are timed *interleaved* (numpy,
torch, torch, numpy, ...) so that a load spike from another process hits both
alike, and the medians are reported. Items with a GEMM shape also get a
float32 GEMM of that shape timed the same way: the throughput a perfect
convolution would reach on this BLAS, against which the layer's achieved
GFLOP/s is read.

Extend the bench with :func:`register` (a model step, another layer); the lead's
CLI wires ``lockstep bench`` to :func:`main`.
"""
from __future__ import annotations

import datetime as _dt
import os
import platform
import time
from dataclasses import dataclass
from typing import Callable

import numpy as np
import pandas as pd
import torch

from reference import Spec, build, to_torch

from . import options
from .io import write_text


@dataclass
class BenchItem:
    """One row of the bench.

    Attributes:
        name: row id, e.g. ``Conv2d(16,32,3,p=1) 32x16x32x32``.
        setup: ``() -> (numpy_step, torch_step)``: two zero-argument callables, each running
            one forward and one backward (built lazily, so registering costs nothing).
        flops: floating-point operations of one step (forward + backward), for GFLOP/s.
        gemm: ``(M, K, N)`` of the float32 GEMM to compare with (None: no GEMM column).
        quick: included in ``--quick`` runs (keep those tiny).
        target: the issue's allowed ratio NumPy/torch for this item, if any.
        note: shown in bench.md.
    """

    name: str
    setup: Callable[[], tuple[Callable[[], None], Callable[[], None]]]
    flops: float = float("nan")
    gemm: tuple[int, int, int] | None = None
    quick: bool = False
    target: float | None = None
    note: str = ""


BENCH_ITEMS: list[BenchItem] = []


def register(item: BenchItem) -> BenchItem:
    """Append ``item`` to :data:`BENCH_ITEMS` (names must be unique)."""
    if any(i.name == item.name for i in BENCH_ITEMS):
        raise ValueError(f"bench item {item.name!r} is already registered")
    BENCH_ITEMS.append(item)
    return item


# --- layer items --------------------------------------------------------------------------------
def layer_steps(spec: Spec, shape, dtype=np.float32, seed: int = 0):
    """``(numpy_step, torch_step)`` for forward+backward of one layer on a normal input."""
    rng = np.random.default_rng(seed)
    np_mod, t_mod = build(spec, dtype)
    x = rng.standard_normal(shape).astype(dtype)
    y = np_mod(x)
    y = y[0] if isinstance(y, tuple) else y
    g = rng.standard_normal(y.shape).astype(dtype)
    tx, tg = to_torch(x, requires_grad=True), to_torch(g)

    def np_step():
        np_mod.zero_grad()
        out = np_mod(x)
        if isinstance(out, tuple):
            np_mod.backward(g, None)
        else:
            np_mod.backward(g)

    def torch_step():
        t_mod.zero_grad()
        tx.grad = None
        out = t_mod(tx)
        (out[0] if isinstance(out, tuple) else out).backward(tg)

    return np_step, torch_step


def conv_item(c_in, c_out, k, shape, quick=False, target=None, **kw) -> BenchItem:
    """Conv2d: forward ``2*N*C_out*P*C_in/g*kh*kw`` flops, backward twice that (dx and dW)."""
    groups = kw.get("groups", 1)
    n, _, h, w = shape
    probe = build(Spec("Conv2d", c_in, c_out, k, **kw), np.float32)[0]
    ho, wo = probe(np.zeros((1, c_in, h, w), np.float32)).shape[2:]
    kk = c_in // groups * int(np.prod(probe.kernel_size))
    fwd = 2.0 * n * c_out * ho * wo * kk
    args = ",".join([str(c_in), str(c_out), str(k)] + [f"{a}={b}" for a, b in kw.items()])
    return BenchItem(f"Conv2d({args}) {'x'.join(map(str, shape))}",
                     lambda: layer_steps(Spec("Conv2d", c_in, c_out, k, **kw), shape),
                     3 * fwd, gemm=(c_out, kk, n * ho * wo) if groups == 1 else None, quick=quick,
                     target=target)


def _pool_item(spec: Spec, shape, quick=False) -> BenchItem:
    """Pools: counted as one flop per input element read per window, forward and backward."""
    np_mod = build(spec, np.float32)[0]
    out = np_mod(np.zeros((1,) + tuple(shape[1:]), np.float32))
    out = out[0] if isinstance(out, tuple) else out
    k = getattr(np_mod, "kernel_size", None)
    per_out = int(np.prod(k)) if k else int(np.prod(shape[2:])) // max(int(np.prod(out.shape[2:])), 1)
    flops = 2.0 * shape[0] * out.size * per_out
    return BenchItem(f"{spec!r} {'x'.join(map(str, shape))}", lambda: layer_steps(spec, shape),
                     flops, quick=quick)


def _default_items() -> None:
    register(conv_item(16, 32, 3, (32, 16, 32, 32), padding=1, target=2.0))
    register(conv_item(16, 32, 3, (32, 16, 32, 32), stride=2, padding=1))
    register(conv_item(32, 32, 3, (32, 32, 32, 32), padding=1, groups=32))
    register(conv_item(3, 8, 3, (2, 3, 8, 8), quick=True, padding=1))
    ct = Spec("ConvTranspose2d", 32, 16, 3, stride=2, padding=1, output_padding=1)
    register(BenchItem(f"{ct!r} 32x32x16x16", lambda: layer_steps(ct, (32, 32, 16, 16)),
                       3 * 2.0 * 32 * 32 * 16 * 16 * 16 * 9, gemm=(32, 16 * 9, 32 * 16 * 16)))
    c1 = Spec("Conv1d", 16, 32, 5, padding=2)
    register(BenchItem(f"{c1!r} 32x16x256", lambda: layer_steps(c1, (32, 16, 256)),
                       3 * 2.0 * 32 * 32 * 256 * 16 * 5, gemm=(32, 16 * 5, 32 * 256)))
    register(_pool_item(Spec("MaxPool2d", 2), (32, 32, 32, 32)))
    register(_pool_item(Spec("MaxPool2d", 3, stride=2, padding=1), (32, 32, 32, 32)))
    register(_pool_item(Spec("MaxPool2d", 2), (2, 3, 8, 8), quick=True))
    register(_pool_item(Spec("AvgPool2d", 2), (32, 32, 32, 32)))
    register(_pool_item(Spec("AdaptiveAvgPool2d", 1), (32, 32, 16, 16)))


_default_items()


def model_items() -> list[BenchItem]:
    """One training step of each ``lockstep train`` model (``compare.bench_models``), built
    only when a full bench runs."""
    from .bench_models import model_bench_items
    return model_bench_items()


# --- timing -------------------------------------------------------------------------------------
def _timed(fn) -> float:
    t0 = time.perf_counter()
    fn()
    return time.perf_counter() - t0


def time_pair(np_step, torch_step, repeat: int, warmup: int = 2):
    """Interleaved timings: lists of seconds per NumPy step and per torch step."""
    for _ in range(warmup):
        np_step()
        torch_step()
    t_np, t_t = [], []
    for r in range(repeat):
        if r % 2:   # alternate who goes first, so neither always runs on a warm cache
            t_t.append(_timed(torch_step))
            t_np.append(_timed(np_step))
        else:
            t_np.append(_timed(np_step))
            t_t.append(_timed(torch_step))
    return t_np, t_t


def gemm_gflops(m: int, k: int, n: int, repeat: int, seed: int = 0) -> float:
    """Median GFLOP/s of a float32 ``(m, k) @ (k, n)`` with NumPy's BLAS."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    np.matmul(a, b, out=out)
    ts = [_timed(lambda: np.matmul(a, b, out=out)) for _ in range(repeat)]
    return 2.0 * m * k * n / float(np.median(ts)) / 1e9


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info
    return threadpool_info()


def run_bench(out_dir="reports", quick: bool = False, repeat: int | None = None,
              items: list[BenchItem] | None = None, threads: int | None = None) -> pd.DataFrame:
    """Time every item (``quick``: only the tiny ones, few repeats), write ``bench.csv`` and
    ``bench.md`` into ``out_dir`` and return the table. ``threads`` caps both NumPy's BLAS
    (threadpoolctl) and torch for the run (default: leave each library's own setting)."""
    if threads is None:
        return _run_bench(out_dir, quick, repeat, items)
    from threadpoolctl import threadpool_limits
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        with threadpool_limits(threads):
            return _run_bench(out_dir, quick, repeat, items)
    finally:
        torch.set_num_threads(before)


def _run_bench(out_dir, quick, repeat, items) -> pd.DataFrame:
    repeat = repeat or (3 if quick else 21)
    warmup = 1 if quick else 3
    if items is None:
        items = [i for i in BENCH_ITEMS if i.quick or not quick]
        if not quick:
            items += model_items()
    rows = []
    for item in items:
        np_step, t_step = item.setup()
        t_np, t_t = time_pair(np_step, t_step, repeat, warmup)
        np_s, t_s = float(np.median(t_np)), float(np.median(t_t))
        gemm = gemm_gflops(*item.gemm, repeat) if item.gemm else np.nan
        np_gf, t_gf = item.flops / np_s / 1e9, item.flops / t_s / 1e9
        rows.append(dict(item=item.name, flops=item.flops, numpy_ms=np_s * 1e3,
                         torch_ms=t_s * 1e3, ratio=np_s / t_s, numpy_gflops=np_gf,
                         torch_gflops=t_gf, gemm_shape="x".join(map(str, item.gemm or ())),
                         gemm_gflops=gemm, gemm_fraction=np_gf / gemm,
                         target=item.target if item.target is not None else np.nan,
                         meets_target=(np_s / t_s <= item.target) if item.target else None,
                         numpy_ms_min=min(t_np) * 1e3, torch_ms_min=min(t_t) * 1e3,
                         repeats=repeat, note=item.note))
    df = pd.DataFrame(rows)
    write_text(os.path.join(out_dir, "bench.csv"), df.to_csv(index=False))
    write_text(os.path.join(out_dir, "bench.md"), render_md(df, quick))
    return df


def _fmt(v, spec=".2f") -> str:
    return "" if v is None or (isinstance(v, float) and np.isnan(v)) else format(v, spec)


def render_md(df: pd.DataFrame, quick: bool = False) -> str:
    blas = [i for i in blas_info() if i.get("user_api") == "blas"]
    blas_s = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                       f"{i.get('num_threads')} threads, {os.path.basename(i.get('filepath', ''))})"
                       for i in blas) or "unknown"
    lines = [
        "# lockstep bench: forward+backward, NumPy vs torch CPU",
        "",
        f"- date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}"
        + (" (quick run)" if quick else ""),
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}",
        f"- NumPy {np.__version__}, BLAS: {blas_s}",
        f"- torch {torch.__version__}, {torch.get_num_threads()} threads, "
        f"oneDNN {'on' if torch.backends.mkldnn.is_available() else 'off'}",
        "- each step: zero grads, forward, backward with a fixed upstream gradient, float32;",
        "  timings interleaved NumPy/torch after warm-up; medians (min in bench.csv).",
        "- ratio = NumPy time / torch time (lower is better for NumPy);",
        "  GEMM = one float32 NumPy matmul of the shape given (for a conv: its forward as one",
        "  GEMM, C_out x C_in*kh*kw/g ... x N*H_out*W_out), the throughput this BLAS reaches there.",
        "",
        "| item | NumPy ms | torch ms | ratio | target | NumPy GFLOP/s | torch GFLOP/s "
        "| GEMM GFLOP/s | NumPy / GEMM |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in df.itertuples():
        target = ("" if np.isnan(r.target) else
                  f"≤ {r.target:g}x {'met' if r.meets_target else 'MISSED'}")
        lines.append(f"| {r.item} | {_fmt(r.numpy_ms)} | {_fmt(r.torch_ms)} | {_fmt(r.ratio)}x | "
                     f"{target} | {_fmt(r.numpy_gflops, '.1f')} | {_fmt(r.torch_gflops, '.1f')} | "
                     f"{_fmt(r.gemm_gflops, '.1f')} | {_fmt(r.gemm_fraction * 100, '.0f')}"
                     f"{'%' if not np.isnan(r.gemm_fraction) else ''} |")
    notes = [f"- {r.item}: {r.note}" for r in df.itertuples() if r.note]
    if notes:
        lines += ["", *notes]
    return "\n".join(lines) + "\n"


def _parser():
    p = options.Parser(prog="lockstep bench", description=__doc__.splitlines()[0])
    p.add_argument("--out", default="reports", help="folder for bench.csv and bench.md")
    p.add_argument("--quick", action="store_true", help="only the tiny items, 3 repeats")
    p.add_argument("--repeat", type=options.positive, default=None,
                   help="timed repetitions per item (default: 21, or 3 with --quick)")
    p.add_argument("--threads", type=options.non_negative, default=1,
                   help="threads for both NumPy's BLAS and torch (on a shared machine two "
                        "libraries spinning on oversubscribed cores measure the load, not the "
                        "code; 0 = each library's own default)")
    p.add_argument("--only", default=None,
                   help="only the items whose name contains this text (default: every item)")
    p.add_argument("--quiet", action="store_true", help="print nothing but errors")
    return p


def main(argv=None) -> int:
    a = options.parse(_parser(), argv)
    if isinstance(a, int):
        return a
    items = None
    if a.only is not None:
        items = [i for i in BENCH_ITEMS if a.only in i.name]
        if not items:
            items = [i for i in model_items() if a.only in i.name]
        if not items:
            return options.fail("lockstep bench", f"--only {a.only!r} matches no item; items: "
                                + "; ".join(i.name for i in BENCH_ITEMS) + " and the model "
                                "train steps")
    return options.locked("lockstep bench", a.out, _main, a, items)


def _main(a, items) -> int:
    df = run_bench(a.out, quick=a.quick, repeat=a.repeat, items=items,
                   threads=a.threads or None)
    if not a.quiet:
        print(df[["item", "numpy_ms", "torch_ms", "ratio", "numpy_gflops", "gemm_fraction"]]
              .to_string(index=False))
        print(f"wrote {os.path.join(a.out, 'bench.csv')} and bench.md")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
