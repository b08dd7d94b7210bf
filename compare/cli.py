"""The ``lockstep`` command line (also ``python -m compare``).

    lockstep report [--cases GLOB] [--dtypes float32,float64] [--seed N] [--out DIR]
                    [--screenshots]
    lockstep list   [--cases GLOB]
    lockstep bench  [...]            (see ``lockstep bench --help``)
    lockstep train MODEL [...]       (see ``lockstep train --help``)
    lockstep export CASE_GLOB --out FILE.npz   (see ``lockstep export --help``)
    lockstep book   [--reports DIR] [--screenshots]   the HTML book (``lockstep report`` writes
                                     it too; see ``lockstep book --help``)
    lockstep mutate [...]            (see ``lockstep mutate --help``)

Exit codes: 0 everything agreed; 1 a comparison failed (or a mutant survived, or an odd
input neither matched torch nor raised a clear error);
2 bad usage (unknown option, a glob that matches no case, an unknown dtype).
"""
from __future__ import annotations

import argparse
import os
import sys
import warnings

EXIT_OK, EXIT_DEVIATION, EXIT_USAGE = 0, 1, 2
DTYPES = ("float32", "float64")


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lockstep", description="NumPy layers in lockstep with "
                                "torch.nn: compare, report, benchmark, train.")
    sub = p.add_subparsers(dest="command", required=True)
    r = sub.add_parser("report", help="run the catalogue and write reports/")
    r.add_argument("--cases", default=None, help="comma-separated globs over case, layer or "
                   "family names (default: all)")
    r.add_argument("--dtypes", default="float32,float64", help="comma-separated dtypes")
    r.add_argument("--seed", type=int, default=0)
    r.add_argument("--out", default="reports", help="output folder (default: reports)")
    r.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    r.add_argument("--screenshots", action="store_true", help="also save screenshots of the "
                   "book's Linear and LSTM pages under <out>/book/screenshots (needs Chromium)")
    ls = sub.add_parser("list", help="list the cases of the catalogue")
    ls.add_argument("--cases", default=None)
    sub.add_parser("bench", help="time numpy against torch (see lockstep bench --help)",
                   add_help=False)
    sub.add_parser("train", help="train a model in lockstep (see lockstep train --help)",
                   add_help=False)
    sub.add_parser("export", help="write torch's reference data of cases to .npz/.npy (see "
                   "lockstep export --help)", add_help=False)
    sub.add_parser("book", help="write the HTML book from a report folder (see lockstep book "
                   "--help)", add_help=False)
    sub.add_parser("mutate", help="mutation-test npimpl against the report (see lockstep "
                   "mutate --help)", add_help=False)
    return p


def _report(args) -> int:
    from .catalogue import select
    from .report import run_all, write_reports

    dtypes = tuple(d.strip() for d in args.dtypes.split(",") if d.strip())
    unknown = [d for d in dtypes if d not in DTYPES]
    if unknown or not dtypes:
        print(f"lockstep report: unknown dtype(s) {unknown}; choose from {list(DTYPES)}",
              file=sys.stderr)
        return EXIT_USAGE
    if args.screenshots:
        from .book import browser_path
        if not browser_path():
            print("lockstep report: --screenshots needs Chromium (apt-get install chromium)",
                  file=sys.stderr)
            return EXIT_USAGE
    cases = select(args.cases)
    if not cases:
        print(f"lockstep report: --cases {args.cases!r} matches no case (see `lockstep list`)",
              file=sys.stderr)
        return EXIT_USAGE
    with warnings.catch_warnings():
        # torch's own UserWarnings (deprecated implicit dims, projections without oneDNN ...)
        # are expected by the cases that provoke them; they would bury the summary
        warnings.filterwarnings("ignore", category=UserWarning, module=r"(torch|npimpl)\.")
        run = run_all(cases, dtypes, args.seed, progress=not args.no_progress)
    paths = write_reports(run, args.out)
    if args.screenshots:          # the README's pictures of the book (headless Chromium)
        from . import book
        paths += book.take_screenshots(os.path.join(args.out, "book"))
    rows = run.rows
    print(f"lockstep: {len(run.results)} runs, {len(rows)} quantities compared, "
          f"{len(run.failures)} failed; mutants flagged "
          f"{sum(c for _, c, _ in run.mutants)}/{len(run.mutants)}; claims held "
          f"{sum(v.passed for v in run.claims)}/{len(run.claims)}; wrote {len(paths)} files "
          f"to {args.out}/")
    for f in run.failures[:20]:
        print(f"  FAIL {f['case']} [{f['dtype']}] {f['quantity']}: max_abs={f['max_abs']:.3g} "
              f"max_rel={f['max_rel']:.3g} {f['note']}")
    for m in run.survivors:
        print(f"  SURVIVOR mutant {m.name}: {m.bug}")
    for b in run.badinput_failures[:20]:
        print(f"  BAD-INPUT {b['cls']} [{b['variant']}]: {b['outcome']} {b.get('detail', '')}")
    for v in run.claim_failures:
        print(f"  CLAIM {v.claim.layer}: {v.claim.text} -- measured: {v.value}")
    return EXIT_OK if run.ok else EXIT_DEVIATION


def _list(args) -> int:
    from .catalogue import select

    for c in select(args.cases):
        kind = "trajectory" if hasattr(c, "steps") or hasattr(c, "run") else "single-step"
        print(f"{c.name:40s} {c.layer:24s} {c.family:12s} {kind}")
    return EXIT_OK


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("bench", "train", "export", "book", "mutate"):
        import importlib

        mod = importlib.import_module({"mutate": "compare.selftest.mutate"}.get(
            argv[0], f"compare.{argv[0]}"))
        return mod.main(argv[1:])
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    return {"report": _report, "list": _list}[args.command](args)


if __name__ == "__main__":
    sys.exit(main())
