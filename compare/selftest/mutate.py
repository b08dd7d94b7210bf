"""``lockstep mutate``: systematic first-order mutation of npimpl, scored against what
``lockstep report`` runs.

    lockstep mutate [--files GLOBS] [--per-file N] [--seed S] [--budget SECONDS]
                    [--kinds case,oracle,badinput,init] [--out reports] [--no-fresh]
                    [--ids IDS | --ids @mutation.csv] [--jobs N]

1. **Mutants**: every mutant :mod:`.mutagen` generates for the selected npimpl files, or a
   seeded sample of ``--per-file`` of each (default 40; 0 = all). The sample of a file
   depends only on the seed and the file, never on which other files are selected.
2. **Coverage**: every unit of the report (:mod:`.units`: catalogue cases, the oracle,
   the bad-input matrix, the init comparison) runs once, unmutated, under a line tracer.
3. **In-process runs**: each mutant is applied in this process (:mod:`.patching`) and run
   against the units that execute its line, likeliest killer first, until one fails
   (killed; the killing unit is re-run unmutated and must pass again, or the run stops:
   the mutant left state behind). A unit past its time limit (20× its measured time, at
   least 10 s) counts as a kill too: the report would hang. Mutants go round-robin over
   the files, so a ``--budget`` (seconds for this phase) that runs out leaves an even
   sample; the rest are "not run".
4. **Fresh re-check**: a survivor is run again in a new process that imports the mutated
   file (:mod:`.fresh`), against the same units.
5. **Named bugs**: a full run (no ``--files``, no ``--ids``) also plants the bugs issue 22
   named (:mod:`.named`) and runs the units that must catch them; one that is not killed
   fails the command too.
6. **Verdicts**: a survivor listed in ``compare/selftest/equivalents.toml`` (each entry
   with its reason) is *equivalent*; any other survivor is a failure: the command then
   exits 1. The score is killed / (run − equivalent).

``--ids`` keeps only the named mutants of the sample (``npimpl/linear.py#12,...``, or
``@path/mutation.csv`` for the survivors and unexecuted mutants of an earlier run): the way
to re-check a fix in minutes. ``--jobs N`` runs the mutants in N processes (each measures
the coverage itself, then takes every N-th mutant of the round-robin order) and merges them.

Writes ``<out>/mutation.csv`` (every mutant: file, line, function, operator, before/after,
verdict, killing unit and what failed) and ``<out>/mutation.md``.
"""
from __future__ import annotations

import argparse
import fnmatch
import glob
import os
import random
import sys
import time
import tomllib
from dataclasses import dataclass

from .mutagen import Mutant, generate
from .patching import ROOT

EQUIVALENTS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "equivalents.toml")
KILLED = ("killed", "timeout", "killed (fresh process)")
EXIT_OK, EXIT_SURVIVOR, EXIT_USAGE = 0, 1, 2


@dataclass
class Outcome:
    mutant: Mutant
    verdict: str               # killed | timeout | killed (fresh process) | survived |
    #                            not executed | equivalent | not run
    killer: str = ""           # unit key
    detail: str = ""           # what failed, or the equivalence reason
    covering: int = 0          # units that execute the mutated line
    units_run: int = 0
    seconds: float = 0.0

    @property
    def killed(self) -> bool:
        return self.verdict in KILLED


# --- selection ----------------------------------------------------------------------------
def npimpl_files(root: str = ROOT) -> list[str]:
    return sorted(os.path.relpath(p, root).replace(os.sep, "/")
                  for p in glob.glob(os.path.join(root, "npimpl", "**", "*.py"), recursive=True))


def select_files(patterns: str | None, root: str = ROOT) -> list[str]:
    """Files matching comma-separated globs over ``npimpl/...py`` paths or bare names
    (``linear.py``, ``optim/*``); all of npimpl by default."""
    files = npimpl_files(root)
    if not patterns:
        return files
    pats = [p.strip() for p in patterns.split(",") if p.strip()]
    return [f for f in files if any(fnmatch.fnmatchcase(f, p) or fnmatch.fnmatchcase(f, f"npimpl/{p}")
                                    for p in pats)]


def sample(mutants: list[Mutant], per_file: int, seed: int) -> list[Mutant]:
    """At most ``per_file`` mutants of one file, drawn with a generator seeded by
    (seed, file), in generation order."""
    if per_file <= 0 or len(mutants) <= per_file:
        return list(mutants)
    rng = random.Random(f"{seed}:{mutants[0].file}")
    keep = sorted(rng.sample(range(len(mutants)), per_file))
    return [mutants[i] for i in keep]


def round_robin(by_file: dict, seed: int) -> list[Mutant]:
    """One mutant of each file in turn (each file's own order shuffled by the seed)."""
    queues = []
    for f in sorted(by_file):
        q = list(by_file[f])
        random.Random(f"order:{seed}:{f}").shuffle(q)
        queues.append(q)
    out = []
    while any(queues):
        for q in queues:
            if q:
                out.append(q.pop())
    return out


# --- equivalents ----------------------------------------------------------------------------
def load_equivalents(path: str = EQUIVALENTS) -> list[dict]:
    if not os.path.exists(path):
        return []
    with open(path, "rb") as fh:
        entries = tomllib.load(fh).get("equivalent", [])
    for e in entries:
        missing = [k for k in ("file", "where", "reason") if not e.get(k)]
        if missing:
            raise ValueError(f"{path}: an entry lacks {missing}: {e}")
    return entries


def equivalence(m: Mutant, entries: list[dict]) -> dict | None:
    """The entry that names ``m`` (file, function and, where given, the line's text and the
    mutation ``before -> after``), or None."""
    for e in entries:
        if (e["file"] == m.file and e["where"] == m.qualname
                and e.get("line", m.line_text) == m.line_text
                and e.get("mutation", m.mutation) == m.mutation
                and e.get("op", m.op) == m.op):
            return e
    return None


# --- running --------------------------------------------------------------------------------
def covering_units(m: Mutant, units: list) -> list:
    """The units that execute the mutated line; for a default argument also the bad-input
    units that read the class's signature without running its body."""
    if m.lines:
        want = frozenset(m.lines)
        out = [u for u in units if not want.isdisjoint(u.lines.get(m.file, ()))]
    else:
        out = [u for u in units if u.lines.get(m.file)]
    if m.scope == "defaults":
        cls = m.qualname.split(".")[0]
        names = {"signatures", cls, f"optim.{cls}", f"lr_scheduler.{cls}"}
        out += [u for u in units if u.kind == "badinput" and u.name in names and u not in out]
    return out


def _priority(m: Mutant, units: list, recent: dict) -> list:
    """Likeliest killer first: units that killed a mutant of the same function, then units of
    the class the function belongs to, then the cheapest."""
    first = recent.get((m.file, m.qualname), [])
    cls = m.qualname.split(".")[0]
    rank = {k: i for i, k in enumerate(first)}
    return sorted(units, key=lambda u: (rank.get(u.key, len(rank)),
                                        0 if u.layer == cls else 1, u.seconds))


def unit_limit(u) -> float:
    return max(10.0, 20.0 * u.seconds)


def run_in_process(m: Mutant, units: list, recent: dict) -> Outcome:
    import numpy as np

    from .patching import applied
    from .units import run_unit

    cover = covering_units(m, units)
    out = Outcome(m, "not executed", covering=len(cover))
    if not cover:
        return out
    t0 = time.perf_counter()
    killer = None
    try:
        with applied(m), np.errstate(all="ignore"):
            for u in _priority(m, cover, recent):
                out.units_run += 1
                res = run_unit(u, unit_limit(u))
                if res is not None:
                    killer = u
                    out.verdict = "timeout" if res == "timeout" else "killed"
                    out.killer, out.detail = u.key, res
                    break
            else:
                out.verdict = "survived"
    except Exception as exc:  # noqa: BLE001 - the mutant cannot even be applied
        out.verdict, out.killer = "killed", "apply"
        out.detail = f"{type(exc).__name__}: {str(exc)[:160]}"
    out.seconds = time.perf_counter() - t0
    if killer is not None:
        lst = recent.setdefault((m.file, m.qualname), [])
        if killer.key in lst:
            lst.remove(killer.key)
        lst.insert(0, killer.key)
        del lst[3:]
        with np.errstate(all="ignore"):
            again = run_unit(killer, unit_limit(killer))
        if again is not None:
            # the unit fails unmutated now: it is flaky (or the mutant left state behind);
            # it can kill nothing, so it leaves the run and this mutant runs again without it
            units.remove(killer)
            FLAKY.append((killer.key, f"failed unmutated after {m.id}: {again}"))
            return run_in_process(m, units, recent)
    return out


#: units dropped during a run because they failed unmutated after a kill: (key, why)
FLAKY: list = []


def run_fresh(out: Outcome, units: list, seed: int) -> None:
    from .fresh import recheck

    cover = covering_units(out.mutant, units)
    t0 = time.perf_counter()
    key, res = recheck(out.mutant, [u.key for u in cover], seed,
                       unit_limit=max(unit_limit(u) for u in cover),
                       total_limit=60.0 + sum(unit_limit(u) for u in cover))
    out.seconds += time.perf_counter() - t0
    if key is not None:
        out.verdict = "killed (fresh process)"
        out.killer, out.detail = key, res


# --- the command ----------------------------------------------------------------------------
def _parser():
    p = argparse.ArgumentParser(prog="lockstep mutate", description=__doc__.split("\n\n")[0])
    p.add_argument("--files", default=None, help="comma-separated globs over npimpl files "
                   "(npimpl/linear.py, linear.py, optim/*); default: all of npimpl")
    p.add_argument("--per-file", type=int, default=40,
                   help="seeded sample of at most N mutants per file (0: all; default 40)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--budget", type=float, default=None,
                   help="seconds for the mutant runs; the rest of the sample is 'not run'")
    p.add_argument("--kinds", default="case,oracle,badinput,init",
                   help="units that may kill a mutant (default: everything the report runs)")
    p.add_argument("--out", default="reports")
    p.add_argument("--no-fresh", action="store_true",
                   help="skip the fresh-process re-check of survivors")
    p.add_argument("--no-progress", action="store_true")
    p.add_argument("--ids", default=None,
                   help="only these mutants of the sample: comma-separated ids "
                   "(npimpl/linear.py#12), or @mutation.csv for an earlier run's survivors")
    p.add_argument("--jobs", type=int, default=1, help="processes for the mutant runs")
    p.add_argument("--shard", default=None, help=argparse.SUPPRESS)   # K/N, for --jobs
    p.add_argument("--dump", default=None, help=argparse.SUPPRESS)    # pickle, for --jobs
    return p


def parse_ids(spec: str | None) -> set | None:
    """``--ids``: a set of mutant ids, or None for the whole sample."""
    if not spec:
        return None
    if spec.startswith("@"):
        import csv
        with open(spec[1:], newline="") as fh:
            return {r["id"] for r in csv.DictReader(fh)
                    if r["verdict"] in ("survived", "not executed")}
    return {s.strip() for s in spec.split(",") if s.strip()}


def run_jobs(argv: list[str], jobs: int):
    """``--jobs N``: the same command in N processes, each on every N-th mutant; their
    ``(outcomes, info)`` merged in the order one process would give."""
    import pickle
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory(prefix="lockstep-mutate-") as tmp:
        dumps = [os.path.join(tmp, f"{k}.pkl") for k in range(jobs)]
        # through the CLI (its warning filters), so the pickled Outcome is
        # compare.selftest.mutate's, not __main__'s
        procs = [subprocess.Popen([sys.executable, "-m", "compare", "mutate", *argv,
                                   "--jobs", "1", "--shard", f"{k}/{jobs}", "--dump", dumps[k],
                                   "--no-progress", "--out", os.path.join(tmp, str(k))],
                                  cwd=ROOT) for k in range(jobs)]
        codes = [p.wait() for p in procs]
        if any(not os.path.exists(d) for d in dumps):
            raise RuntimeError(f"lockstep mutate --jobs: a process ended without a result "
                               f"(exit codes {codes})")
        parts = []
        for d in dumps:
            with open(d, "rb") as fh:
                parts.append(pickle.load(fh))
    info = dict(parts[0][1])
    file_rank = {f: i for i, f in enumerate(info["files"])}
    outcomes = sorted((o for outs, _ in parts for o in outs),      # run()'s order: by file,
                      key=lambda o: (file_rank[o.mutant.file], o.mutant.index))   # then index
    for key in ("flaky", "broken", "listed_but_killed"):
        info[key] = [x for _, i in parts for x in i[key]]
    for key in ("peak_mb", "coverage_seconds", "mutant_seconds", "total_seconds"):
        info[key] = max(i[key] for _, i in parts)
    info["broken"] = list(dict.fromkeys(info["broken"]))
    info["jobs"] = jobs
    return outcomes, info


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    files = select_files(args.files)
    if not files:
        print(f"lockstep mutate: --files {args.files!r} matches no npimpl file", file=sys.stderr)
        return EXIT_USAGE
    kinds = tuple(k.strip() for k in args.kinds.split(",") if k.strip())
    from .units import KINDS
    if not kinds or set(kinds) - set(KINDS):
        print(f"lockstep mutate: --kinds {args.kinds!r}: choose from {list(KINDS)}",
              file=sys.stderr)
        return EXIT_USAGE
    if args.jobs < 1:
        print("lockstep mutate: --jobs must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    ids = parse_ids(args.ids)
    if args.jobs > 1:
        outcomes, info = run_jobs(list(argv if argv is not None else sys.argv[1:]), args.jobs)
    else:
        shard = tuple(int(v) for v in args.shard.split("/")) if args.shard else None
        outcomes, info = run(files, args.per_file, args.seed, args.budget, kinds,
                             fresh=not args.no_fresh, progress=not args.no_progress,
                             out_dir=None if shard else args.out, ids=ids, shard=shard)
        if args.dump:
            import pickle
            with open(args.dump, "wb") as fh:
                pickle.dump((outcomes, info), fh)
            return EXIT_OK
    if args.files is None and ids is None:          # a full run: the named bugs too
        from .named import check
        info["named"] = check(seed=args.seed)
    from .mutation_report import summary_line, write
    paths = write(outcomes, info, args.out)
    print(summary_line(outcomes, info) + f"; wrote {', '.join(paths)}")
    bad = unexplained(outcomes)
    for o in bad[:50]:
        m = o.mutant
        print(f"  SURVIVOR {m.file}:{m.line} {m.qualname} [{m.op}] {m.mutation}")
    for e in info["stale"]:
        print(f"  STALE equivalent entry (matches no mutant): {e['file']} {e['where']} "
              f"{e.get('mutation', '')}")
    named_missed = [r for r in info.get("named", []) if r.verdict != "killed"]
    for r in named_missed:
        print(f"  NAMED BUG {r.verdict.upper()}: {r.named.file} {r.named.where}: {r.named.issue} "
              f"{r.detail[:120]}")
    return EXIT_SURVIVOR if bad or named_missed else EXIT_OK


def unexplained(outcomes) -> list:
    """Survivors not named in the equivalents list: each is a failure of the command."""
    return [o for o in outcomes if o.verdict in ("survived", "not executed")]


def run(files, per_file=40, seed=0, budget=None, kinds=("case", "oracle", "badinput", "init"),
        fresh=True, progress=True, out_dir=None, units=None, ids=None, shard=None):
    """Generate, measure, run; returns ``(outcomes, info)`` for :mod:`.mutation_report`.
    Survivors are printed as they turn up; with ``out_dir``, the mutants done so far are
    written to ``mutation.csv`` every 50 (a long run can be read while it runs). ``units``
    replaces the report's units (the tests run a handful). ``ids`` keeps only those mutants
    of the sample; ``shard=(k, n)`` runs every n-th mutant of the order, from the k-th."""
    import warnings

    from tqdm import tqdm

    from .units import build_units, measure

    t_start = time.perf_counter()
    generated = {f: generate(ROOT, f) for f in files}
    chosen = {f: sample(ms, per_file, seed) for f, ms in generated.items()}
    if ids is not None:
        chosen = {f: [m for m in ms if m.id in ids] for f, ms in chosen.items()}
    entries = load_equivalents()
    in_scope = [e for e in entries if e["file"] in generated]
    stale = [e for e in in_scope
             if not any(equivalence(m, [e]) for m in generated[e["file"]])]

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        units = build_units(seed, kinds) if units is None else list(units)
        bar = tqdm(total=len(units), desc="coverage", unit="unit", disable=not progress,
                   leave=False)
        measure(units, progress=lambda i, n, u: bar.update(1))
        bar.close()
    broken = [u for u in units if u.baseline is not None]
    units = [u for u in units if u.baseline is None]
    t_cover = time.perf_counter() - t_start

    order = round_robin(chosen, seed)
    if shard is not None:
        order = order[shard[0]::shard[1]]
    outcomes: dict = {}
    recent: dict = {}
    t0 = time.perf_counter()
    bar = tqdm(total=len(order), desc="mutants", unit="mutant", disable=not progress,
               leave=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for m in order:
            if budget is not None and time.perf_counter() - t0 > budget:
                outcomes[m.id] = Outcome(m, "not run")
                continue
            o = run_in_process(m, units, recent)
            if o.verdict == "survived" and fresh:
                run_fresh(o, units, seed)
            outcomes[m.id] = o
            bar.update(1)
            if o.verdict in ("survived", "not executed"):
                bar.write(f"  {o.verdict}: {m.file}:{m.line} {m.qualname} [{m.op}] "
                          f"{m.mutation} ({o.covering} units, {o.seconds:.1f} s)", sys.stderr)
            if out_dir and len(outcomes) % 50 == 0:
                from .mutation_report import frame
                from ..io import write_csv
                os.makedirs(out_dir, exist_ok=True)
                write_csv(os.path.join(out_dir, "mutation.csv"), frame(list(outcomes.values())))
    bar.close()
    result = []
    for f in files:
        for m in chosen[f]:
            if m.id not in outcomes:        # another shard's
                continue
            o = outcomes[m.id]
            if o.verdict in ("survived", "not executed"):
                e = equivalence(m, entries)
                if e is not None:
                    o.verdict, o.detail = "equivalent", e["reason"].strip()
            result.append(o)
    # an entry naming one mutation that is killed after all is wrong; one naming a whole
    # function (its reason covers the survivors of it) may see some of its mutants killed
    listed_but_killed = [o for o in result if o.killed and any(
        "mutation" in e for e in entries if equivalence(o.mutant, [e]))]
    import resource
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    info = dict(peak_mb=peak_mb, flaky=list(FLAKY), files=files, generated={f: len(v) for f, v in generated.items()},
                per_file=per_file, seed=seed, budget=budget, kinds=kinds,
                units=len(units), broken=[(u.key, u.baseline) for u in broken],
                stale=stale, listed_but_killed=listed_but_killed,
                coverage_seconds=t_cover, mutant_seconds=time.perf_counter() - t0,
                total_seconds=time.perf_counter() - t_start)
    return result, info


if __name__ == "__main__":
    sys.exit(main())
