"""Run a case in a child process, so that a crash inside torch cannot end a report run.

torch 2.13 dies with SIGSEGV on ``EmbeddingBag(mode='max', include_last_offset=True)``
with ``offsets=[0]`` and a non-empty input (tests/test_embedding.py checks it): no
``try`` in the engine can catch that. A case marked ``Case(..., isolate=True)`` is run
in a forked child; its result comes back through a pipe, and a child that dies
instead becomes one failing ``error`` row naming the signal. Forking costs a few
milliseconds, so only the cases that ask for it pay.
"""
from __future__ import annotations

import multiprocessing
import signal
import traceback

import numpy as np

from .metrics import Metric


def _child(conn, runner, case, dtype: str, seed: int) -> None:
    try:
        res = runner(case, dtype, seed)
        conn.send((res.rows, res.steps, res.probe, res.error, res.traceback))
    except BaseException:  # noqa: BLE001 - anything but a crash goes back as an error
        conn.send(("raise", traceback.format_exc()))
    finally:
        conn.close()


def _signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        try:
            return f"{signal.Signals(-code).name} (signal {-code})"
        except ValueError:
            return f"signal {-code}"
    return f"exit status {code}"


def run_isolated(case, dtype: str, seed: int, runner):
    """``runner(case, dtype, seed) -> Result`` in a forked child; the same Result back, or a
    Result with one failing ``error`` row when the child died (or raised)."""
    from .engine import Result, _Recorder
    from .metrics import tolerance_for

    ctx = multiprocessing.get_context("fork")
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(send, runner, case, dtype, seed), daemon=True)
    proc.start()
    send.close()
    try:
        payload = recv.recv()                     # before join: a large result fills the pipe
    except EOFError:
        payload = None
    finally:
        recv.close()
    proc.join()
    res = Result(case, dtype)
    if isinstance(payload, tuple) and len(payload) == 5:
        res.rows, res.steps, res.probe, res.error, res.traceback = payload
        return res
    if payload is None:
        res.error = (f"the process running this case died with {_signal_name(proc.exitcode)}: "
                     "a crash inside torch or NumPy (the case ran isolated, so the report "
                     "run goes on)")
    else:
        res.error, res.traceback = "the isolated run raised", payload[1]
    rec = _Recorder(case, dtype, tolerance_for(dtype))
    rec.add("error", "error", None, None, Metric(np.inf, np.inf, np.inf, (), False, res.error))
    res.rows = rec.rows
    return res
