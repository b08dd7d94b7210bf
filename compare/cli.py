"""The ``lockstep`` command line (also ``python -m compare``).

    lockstep report [--cases GLOB] [--dtypes float32,float64] [--seed N | --seeds 0-19]
                    [--jobs N] [--out DIR] [--force] [--quiet] [--no-progress] [--screenshots]
    lockstep list   [--cases GLOB]
    lockstep bench  [...]            (see ``lockstep bench --help``)
    lockstep train MODEL [...]       (see ``lockstep train --help``)
    lockstep export CASE_GLOB --out FILE.npz   (see ``lockstep export --help``)
    lockstep book   [--reports DIR] [--screenshots]   the HTML book (``lockstep report`` writes
                                     it too; see ``lockstep book --help``)
    lockstep mutate [...]            (see ``lockstep mutate --help``)

Exit codes: 0 everything agreed; 1 a comparison failed (or a mutant survived, or an odd
input neither matched torch nor raised a clear error); 2 bad usage (an unknown option or
value, a glob that matches no case, an output folder that is a file, read-only or being
written by another run, a subset that would replace a fuller report); 130/143 interrupted.
Every usage error is one line on stderr, checked before anything runs.
"""
from __future__ import annotations

import os
import sys

from . import options
from .options import EXIT_DEVIATION, EXIT_OK, fail

DTYPES = options.DTYPES


def _parser() -> options.Parser:
    p = options.Parser(prog="lockstep", description="NumPy layers in lockstep with torch.nn: "
                       "compare, report, benchmark, train, export.")
    sub = p.add_subparsers(dest="command", required=True, metavar="COMMAND",
                           parser_class=options.Parser)
    r = sub.add_parser("report", help="run the catalogue and write the report folder",
                       description="Run every selected case in lockstep with torch, then the "
                       "checker's self-tests, and write deviations.csv, deviations.md, "
                       "trajectories.csv and plots/ into --out as one unit.")
    r.add_argument("--cases", type=options.glob, default=None,
                   help="comma-separated globs over case, layer or family names; the "
                        "self-tests (mutants, bad-input matrix, oracle, init) are limited "
                        "to the selected classes (default: every case)")
    r.add_argument("--dtypes", type=options.dtypes, default=",".join(DTYPES), metavar="LIST",
                   help="comma-separated dtypes, float32 and/or float64")
    seeds = r.add_mutually_exclusive_group()
    seeds.add_argument("--seed", type=options.seed, default=0,
                       help="seed of every case's inputs and weights, in [0, 2**32)")
    seeds.add_argument("--seeds", type=options.seeds, default=None, metavar="LIST",
                       help="several seeds, e.g. 0-19 or 0,3,7: every case runs once per seed "
                            "and the worst row of each quantity is kept (with its seed)")
    r.add_argument("--jobs", type=options.positive, default=1,
                   help="processes to run the cases on (a standard-library process pool; "
                        "the rows are the same as a serial run's)")
    r.add_argument("--out", default="reports",
                   help="output folder, written as a unit (other files in it are kept)")
    r.add_argument("--force", action="store_true",
                   help="let a --cases/--dtypes subset replace a report of more cases")
    options.add_quiet(r)
    r.add_argument("--screenshots", action="store_true", help="also save screenshots of the "
                   "book's Linear and LSTM pages under <out>/book/screenshots (needs Chromium)")
    ls = sub.add_parser("list", help="list the cases of the catalogue",
                        description="One line per case: name, layer, family, kind.")
    ls.add_argument("--cases", type=options.glob, default=None,
                    help="comma-separated globs over case, layer or family names (default: "
                         "every case)")
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
    from .io import not_a_unit
    from .report import REPORT_FILES

    prog = "lockstep report"
    if args.screenshots:
        from .book import browser_path
        if not browser_path():
            return fail(prog, "--screenshots needs Chromium (apt-get install chromium)")
    cases = select(args.cases)
    if not cases:
        return fail(prog, f"--cases {args.cases!r} matches no case (see `lockstep list`)")
    why = not_a_unit(args.out, REPORT_FILES)
    if why:
        return fail(prog, f"--out: {why}")
    return options.locked(prog, args.out, _report_locked, args, cases)


def _report_locked(args, cases) -> int:
    from .report import run_all, would_shrink, write_reports

    if not args.force:
        why = would_shrink(args.out, cases, args.dtypes)
        if why:
            return fail("lockstep report", f"--out: {why}")
    run = run_all(cases, args.dtypes, args.seed, progress=options.show_progress(args),
                  jobs=args.jobs, seeds=args.seeds)
    paths = write_reports(run, args.out)
    if args.screenshots:          # the README's pictures of the book (headless Chromium)
        from . import book
        paths += book.take_screenshots(os.path.join(args.out, "book"))
    rows = run.rows
    if not args.quiet:
        print(f"lockstep: {len(run.results)} runs (seed {run.seed_label}), {len(rows)} "
              f"quantities compared, {len(run.failures)} failed; mutants flagged "
              f"{sum(c for _, c, _ in run.mutants)}/{len(run.mutants)}; claims held "
              f"{sum(v.passed for v in run.claims)}/{len(run.claims)}; wrote {len(paths)} "
              f"files to {args.out}/")
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

    cases = select(args.cases)
    if not cases:
        return fail("lockstep list", f"--cases {args.cases!r} matches no case")
    for c in cases:
        kind = "trajectory" if hasattr(c, "steps") or hasattr(c, "run") else "single-step"
        print(f"{c.name:40s} {c.layer:24s} {c.family:12s} {kind}")
    return EXIT_OK


def _dispatch(argv: list[str]) -> int:
    if argv and argv[0] in ("bench", "train", "export", "book", "mutate"):
        import importlib

        mod = importlib.import_module({"mutate": "compare.selftest.mutate"}.get(
            argv[0], f"compare.{argv[0]}"))
        return mod.main(argv[1:])
    args = options.parse(_parser(), argv, unit=True)
    if isinstance(args, int):
        return args
    return {"report": _report, "list": _list}[args.command](args)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    with options.expected_warnings_quiet():
        return options.run_command(_dispatch, argv)


if __name__ == "__main__":
    sys.exit(main())
