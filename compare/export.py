"""``lockstep export``: torch's reference data for catalogue cases, for people who check a
C/CUDA kernel (or anything else) without Python in the loop.

    lockstep export 'linear-*' --out reference.npz
    lockstep export 'conv2d-*' --out reference/ --format dir-of-npy

For each matching single-step case and dtype, everything lockstep compares, as torch computed
it, keyed ``<case>/<dtype>/<quantity>`` with the quantity names of ``deviations.csv``:

* ``input[i]`` (nested inputs ``input[i][j]``; keyword inputs ``input.<name>``),
* ``param.<name>`` — the weights and buffers, torch's ``state_dict`` names and layouts,
* ``grad_output`` (``grad_output[k]`` per output of a tuple),
* ``out`` / ``out[k]``, ``grad_in`` / ``grad_in[i]``, ``grad.<name>`` (parameter gradients).

A JSON manifest lists every key with its shape and dtype, each case's class and the seed:
``FILE.json`` beside ``FILE.npz``, or ``manifest.json`` inside the folder (one ``.npy`` per
key, the key's ``/`` as folders). Trajectory cases are not exported (they are listed as
skipped). Exit codes: 0 written; 1 a case crashed; 2 bad usage.
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile

import numpy as np
import torch

from .engine import Case, one_thread, run_case

FORMATS = ("npz", "dir-of-npy")


def collect(cases, dtypes=("float32", "float64"), seed: int = 0):
    """``(arrays, manifest)`` for the single-step ``cases``."""
    arrays, entries, meta, skipped = {}, {}, {}, {}
    with one_thread():
        for case in cases:
            if not isinstance(case, Case) or hasattr(case, "run"):
                skipped[case.name] = "a trajectory: only single-step cases are exported"
                continue
            for dt in (d for d in case.dtypes if d in dtypes):
                capture: dict = {}
                res = run_case(case, dt, seed, accumulate=False, capture=capture)
                if res.error is not None:
                    skipped[f"{case.name}/{dt}"] = f"the case crashed: {res.error}"
                    continue
                for q, v in capture.items():
                    key = f"{case.name}/{dt}/{q}"
                    arrays[key] = np.ascontiguousarray(v)
                    entries[key] = {"shape": list(np.shape(v)), "dtype": np.asarray(v).dtype.name}
                meta.setdefault(case.name, {"layer": case.layer, "family": case.family,
                                            "dtypes": []})["dtypes"].append(dt)
    manifest = {"format": "lockstep-export-1", "seed": seed, "torch": torch.__version__,
                "numpy": np.__version__, "cases": meta, "skipped": skipped, "entries": entries}
    return arrays, manifest


def write(arrays: dict, manifest: dict, out: str, fmt: str) -> list[str]:
    """Write next to ``out`` first, then move into place (a reader never sees half a file)."""
    out = os.path.abspath(out)
    parent = os.path.dirname(out)
    os.makedirs(parent, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix=".lockstep-export-", dir=parent)
    try:
        if fmt == "npz":
            np.savez(os.path.join(tmp, "data.npz"), **arrays)
            with open(os.path.join(tmp, "data.json"), "w", encoding="utf-8") as f:
                json.dump(manifest, f, indent=1, sort_keys=True)
            meta = os.path.splitext(out)[0] + ".json"
            os.replace(os.path.join(tmp, "data.npz"), out)
            os.replace(os.path.join(tmp, "data.json"), meta)
            return [out, meta]
        root = os.path.join(tmp, "d")
        for key, v in arrays.items():
            path = os.path.join(root, *key.split("/")) + ".npy"
            os.makedirs(os.path.dirname(path), exist_ok=True)
            np.save(path, v)
        with open(os.path.join(root, "manifest.json"), "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=1, sort_keys=True)
        if os.path.isdir(out):
            shutil.rmtree(out)
        os.replace(root, out)
        return [out]
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lockstep export", description=__doc__.split("\n\n")[0],
                                epilog="exit codes: 0 written; 1 a case crashed (the rest is "
                                "written); 2 bad usage")
    p.add_argument("cases", help="comma-separated globs over case, layer or family names "
                   "(see `lockstep list`)")
    p.add_argument("--out", required=True, help="FILE.npz, or a folder with --format dir-of-npy")
    p.add_argument("--format", choices=FORMATS, default=None,
                   help="npz (default when --out ends in .npz) or dir-of-npy (otherwise)")
    p.add_argument("--dtypes", default="float32,float64", help="default: float32,float64")
    p.add_argument("--seed", type=int, default=0, help="default: 0")
    return p


def main(argv=None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return 2 if exc.code else 0
    from .catalogue import select

    dtypes = [d.strip() for d in args.dtypes.split(",") if d.strip()]
    if not dtypes or any(d not in ("float32", "float64") for d in dtypes):
        print(f"lockstep export: --dtypes must be float32 and/or float64, got {args.dtypes!r}",
              file=sys.stderr)
        return 2
    if args.seed < 0 or args.seed >= 2 ** 32:
        print(f"lockstep export: --seed must be in [0, 2**32), got {args.seed}", file=sys.stderr)
        return 2
    fmt = args.format or ("npz" if args.out.endswith(".npz") else "dir-of-npy")
    if fmt == "npz" and not args.out.endswith(".npz"):
        print("lockstep export: with --format npz, --out must end in .npz", file=sys.stderr)
        return 2
    if not args.cases.strip():
        print("lockstep export: give a case glob (see `lockstep list`)", file=sys.stderr)
        return 2
    cases = select(args.cases)
    if not cases:
        print(f"lockstep export: {args.cases!r} matches no case (see `lockstep list`)",
              file=sys.stderr)
        return 2
    arrays, manifest = collect(cases, tuple(dtypes), args.seed)
    if not arrays:
        print(f"lockstep export: nothing to export: {manifest['skipped']}", file=sys.stderr)
        return 1
    paths = write(arrays, manifest, args.out, fmt)
    crashed = [k for k, why in manifest["skipped"].items() if why.startswith("the case crashed")]
    print(f"lockstep export: {len(manifest['cases'])} cases, {len(arrays)} arrays -> "
          f"{', '.join(paths)}" + (f"; {len(manifest['skipped'])} skipped" if
                                   manifest["skipped"] else ""))
    return 1 if crashed else 0
