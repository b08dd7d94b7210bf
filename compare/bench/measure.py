"""How the bench measures: interleaved timings, peak extra memory, the GEMM reference.

Time: after warm-up the NumPy and torch steps run *interleaved* (numpy, torch, torch, numpy,
...) so that a load spike from another process hits both alike; the medians are reported.
The clock is the CPU time of the running thread (``time.thread_time``; both libraries run
on this one thread, see ``run_bench(threads=1)``): on a shared machine the wall clock
mostly measures the waits for a core. On 2 cores at load average 7, ``np.exp`` of 4M
float32 took 6.0 ms of wall time and 1.9 ms of CPU time, torch's 7.6 and 3.6 ms; idle, the
two clocks agree. The wall-clock medians are kept in bench.csv (``*_wall_ms``). With more
than one thread (``--threads 0``) the clock is the wall clock.

Memory, the peak *extra* bytes one forward+backward allocates above what was held before it,
from a clean start on both sides: the NumPy module's cached activations and every gradient
(parameters, and torch's input leaves) of the previous step are dropped first, so that the
step's own cache, outputs and gradients all count, and a gradient freed and allocated again
inside the step does not cancel out:

* NumPy: ``tracemalloc`` (NumPy reports every array buffer to it), peak minus start.
* torch: the process's resident set, ``VmHWM - VmRSS`` from ``/proc/self/status`` after
  resetting the high-water mark (``/proc/self/clear_refs`` = 5). torch's CPU allocator has
  no statistics API and its profiler folds allocations into the ops; the RSS is exact for
  every block of a page or more once glibc's malloc is told to serve those by ``mmap``
  (``mallopt(M_MMAP_THRESHOLD, 4096)``; by default it raises that threshold as blocks are
  freed and then reuses resident heap pages, which the RSS cannot see: at 64 KiB the 32 KiB
  per-step tensors of an RNN were invisible, torch's RNN measured 0.0 MiB). That setting would
  also slow the timings (every large block faulted in anew), so memory is measured in a
  separate process (:func:`memory_table`), where the NumPy side is also measured by RSS
  (``numpy_rss_mb``): the two NumPy figures agree within a few percent on every row large
  enough to matter, which is the check that the RSS figure for torch measures the same thing.
"""
from __future__ import annotations

import ctypes
import datetime as _dt
import gc
import json
import os
import platform
import subprocess
import sys
import time
import tracemalloc
from contextlib import contextmanager

import numpy as np


#: the clock of the timings: CPU time of this thread (``use_wall_clock`` switches)
CLOCK = time.thread_time


def use_wall_clock(wall: bool) -> None:
    global CLOCK
    CLOCK = time.perf_counter if wall else time.thread_time


def _timed(fn) -> tuple[float, float]:
    """``(seconds on CLOCK, wall seconds)`` of one call."""
    w0, t0 = time.perf_counter(), CLOCK()
    fn()
    t1, w1 = CLOCK(), time.perf_counter()
    return t1 - t0, w1 - w0


@contextmanager
def threads_each_side(threads: int | None):
    """Both libraries on ``threads`` threads meanwhile (NumPy's BLAS by threadpoolctl, torch by
    ``set_num_threads``; None: each its own default), timed on the thread's CPU clock when
    that is one thread (else the wall clock); restored after."""
    import torch
    from threadpoolctl import threadpool_limits

    before = torch.get_num_threads()
    limits = threadpool_limits(threads) if threads else None
    if threads:
        torch.set_num_threads(threads)
    use_wall_clock(threads != 1)
    try:
        yield
    finally:
        use_wall_clock(False)
        if limits is not None:
            limits.restore_original_limits()
            torch.set_num_threads(before)


def time_pair(np_step, torch_step, repeat: int, warmup: int = 2, wall: dict | None = None):
    """Interleaved timings: lists of seconds per NumPy step and per torch step (``wall``, a
    dict, receives the wall-clock lists under "numpy" and "torch")."""
    for _ in range(warmup):
        np_step()
        torch_step()
    t_np, t_t, w_np, w_t = [], [], [], []
    for r in range(repeat):
        # alternate who goes first, so neither always runs on a warm cache
        for step, ts, ws in ((torch_step, t_t, w_t), (np_step, t_np, w_np))[::(-1) ** r]:
            t, w = _timed(step)
            ts.append(t)
            ws.append(w)
    if wall is not None:
        wall.update(numpy=w_np, torch=w_t)
    return t_np, t_t


def gemm_gflops(m: int, k: int, n: int, repeat: int, seed: int = 0) -> float:
    """Median GFLOP/s of a float32 ``(m, k) @ (k, n)`` with NumPy's BLAS."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal((m, k)).astype(np.float32)
    b = rng.standard_normal((k, n)).astype(np.float32)
    out = np.empty((m, n), np.float32)
    np.matmul(a, b, out=out)
    ts = [_timed(lambda: np.matmul(a, b, out=out))[0] for _ in range(repeat)]
    return 2.0 * m * k * n / float(np.median(ts)) / 1e9


def blas_info() -> list[dict]:
    from threadpoolctl import threadpool_info
    return threadpool_info()


def environment_lines(threads, load=None) -> list[str]:
    """The machine, the libraries and the load a bench ran under (bench.md's header, and
    bench_scaling.md's)."""
    import torch
    blas = [i for i in blas_info() if i.get("user_api") == "blas"]
    blas_s = "; ".join(f"{i.get('internal_api')} {i.get('version')} ({i.get('architecture')}, "
                       f"{os.path.basename(i.get('filepath', ''))})" for i in blas) or "unknown"
    lines = [
        f"- date: {_dt.datetime.now(_dt.timezone.utc).strftime('%Y-%m-%d %H:%M UTC')}",
        f"- machine: {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}"
        + (f"; load average {load[0]:.1f} at the start, {load[-1]:.1f} at the end" if load
           else ""),
        f"- NumPy {np.__version__}, BLAS: {blas_s}",
        f"- torch {torch.__version__}, oneDNN "
        f"{'on' if torch.backends.mkldnn.is_available() else 'off'}"
        f"; {threads or 'default'} thread(s) each side (BLAS via threadpoolctl, "
        "torch.set_num_threads)",
    ]
    return lines


# --- memory ------------------------------------------------------------------------------------
def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field):
                return int(line.split()[1])
    raise OSError(f"no {field} in /proc/self/status")


def rss_supported() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        _status_kb("VmHWM")
        return True
    except OSError:
        return False


def peak_rss_mb(step, before=None) -> float:
    """Peak resident memory above the start while ``step()`` runs, in MiB (see the module
    docstring for why this needs ``mmap`` for large blocks); ``before()`` runs first,
    outside the measurement."""
    if before is not None:
        before()
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")                        # reset VmHWM to the current VmRSS
    before = _status_kb("VmRSS")
    step()
    return (_status_kb("VmHWM") - before) / 1024


def peak_traced_mb(step, before=None) -> float:
    """Peak bytes NumPy (and Python) allocated above the start while ``step()`` runs, MiB;
    ``before()`` runs first, outside the measurement."""
    if before is not None:
        before()
    gc.collect()
    tracemalloc.start()
    try:
        start = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step()
        return (tracemalloc.get_traced_memory()[1] - start) / 2 ** 20
    finally:
        tracemalloc.stop()


def drop_caches(np_mod) -> None:
    """Forget every module's cached forward and every gradient (the step about to be measured
    allocates its own)."""
    for m in np_mod.modules():
        m._cache = None
    np_mod.zero_grad(set_to_none=True)


def drop_grads(t_step) -> None:
    """Set the torch module's and input leaves' gradients to None (a step built by
    ``layer_steps`` exposes them; a model step its module)."""
    mod = getattr(t_step, "module", None)
    if mod is not None:
        mod.zero_grad(set_to_none=True)
    for leaf in getattr(t_step, "leaves", ()):
        leaf.grad = None


def mmap_large_blocks() -> None:
    """glibc: serve every block of a page or more by mmap, return it on free (this process)."""
    libc = ctypes.CDLL("libc.so.6")
    libc.mallopt(-3, 4096)                  # M_MMAP_THRESHOLD (fixed: no dynamic raising)
    libc.mallopt(-1, 4096)                  # M_TRIM_THRESHOLD


def measure_memory(setup) -> dict:
    """``{numpy_mb, numpy_rss_mb, torch_mb}`` of one item, each after one warm-up step and
    from a clean start (:func:`drop_caches`, :func:`drop_grads`). ``setup`` returns
    ``(numpy_step, torch_step)``; a step built by ``layer_steps`` exposes its modules (and
    torch's input leaves) as attributes, so that their caches and gradients can be dropped."""
    np_step, t_step = setup()
    mod = getattr(np_step, "module", None)

    def clean_np():
        if mod is not None:
            drop_caches(mod)

    np_step()
    t_step()
    return {"numpy_mb": peak_traced_mb(np_step, before=clean_np),
            "numpy_rss_mb": peak_rss_mb(np_step, before=clean_np),
            "torch_mb": peak_rss_mb(t_step, before=lambda: drop_grads(t_step))}


def memory_table(names: list[str], env: dict | None = None, timeout: float = 3600) -> dict:
    """``{item name: memory dict}``, measured in a child process (``python -m
    compare.bench.memory``) so that the malloc setting never touches the timings."""
    if not names or not rss_supported():
        return {}
    cmd = [sys.executable, "-m", "compare.bench.memory", *names]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})
    if proc.returncode != 0:
        raise RuntimeError(f"bench memory pass failed:\n{proc.stderr[-2000:]}")
    return json.loads(proc.stdout.strip().splitlines()[-1])
