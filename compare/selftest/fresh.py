"""The fresh-process re-check of a mutant that survived in-process.

A process forked from a server that has imported only torch, NumPy, pandas and SciPy
installs the import hook of :mod:`.patching` (the mutated file is what Python imports),
builds the units and runs the given ones. Nothing of npimpl is imported before the hook:
this module imports only the standard library and modules that do not import npimpl.
"""
from __future__ import annotations

import multiprocessing as mp
import os
import time

from .mutagen import Mutant
from .patching import install_import_hook

#: what the fork server imports once (the slow imports; never npimpl or compare)
PRELOAD = ["numpy", "torch", "pandas", "scipy.special", "einops"]
_CTX = None


def _context():
    global _CTX
    if _CTX is None:
        _CTX = mp.get_context("forkserver")
        _CTX.set_forkserver_preload(PRELOAD)
    return _CTX


def _child(conn, fields: dict, keys: list, seed: int, limit: float, sources: dict) -> None:
    try:
        from . import mutagen
        mutagen.SOURCES.update(sources)
        m = Mutant(**fields)
        install_import_hook(m)
        import numpy as np

        from .units import build_units, run_unit
        units = {u.key: u for u in build_units(seed)}
        for k in keys:
            with np.errstate(all="ignore"):
                res = run_unit(units[k], limit) if k in units else None
            if res is not None:
                conn.send((k, res))
                return
        conn.send((None, None))
    except BaseException as exc:  # noqa: BLE001 - an import that fails kills the mutant
        conn.send(("import", f"{type(exc).__name__}: {str(exc)[:160]}"))
    finally:
        conn.close()


def recheck(m: Mutant, keys: list, seed: int, unit_limit: float, total_limit: float):
    """Run ``keys`` against ``m`` in a fresh process; ``(killer key, what failed)`` or
    ``(None, None)`` when it survives; ``('timeout', ...)`` past ``total_limit`` seconds."""
    ctx = _context()
    parent, child = ctx.Pipe(duplex=False)
    from .mutagen import SOURCES
    fields = {k: getattr(m, k) for k in m.__dataclass_fields__}
    sources = {k: v for k, v in SOURCES.items() if k.endswith(os.sep + m.file.replace("/", os.sep))}
    p = ctx.Process(target=_child, args=(child, fields, list(keys), seed, unit_limit, sources))
    t0 = time.perf_counter()
    p.start()
    child.close()
    try:
        if parent.poll(total_limit):
            try:
                return parent.recv()
            except EOFError:
                return "crash", f"the process died (exit code {p.exitcode})"
        return "timeout", f"no answer within {total_limit:.0f} s"
    finally:
        if p.is_alive():
            p.kill()
        p.join()
        parent.close()
        _ = time.perf_counter() - t0
