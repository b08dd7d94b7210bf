"""What every ``lockstep`` command shares on its command line.

* :class:`Parser`: argparse with defaults shown in ``--help``, the exit codes in its epilog,
  and errors as one line on stderr (``lockstep report: argument --seed: -1 is outside
  [0, 2**32) (see lockstep report --help)``) with exit status 2, never a usage dump or a
  traceback; :func:`parse` also checks ``--out`` before anything runs.
* argument types that refuse bad values before anything runs: :func:`seed`,
  :func:`seeds`, :func:`positive`, :func:`non_negative`, :func:`dtypes`, :func:`glob`.
* :func:`show_progress`: a progress bar only on a terminal, never with ``--quiet``.
* :func:`locked`: one command at a time per output folder.
* :func:`run_command`: SIGTERM becomes an exception like Ctrl-C, so a killed command still
  removes its temporary files; a closed stdout (``lockstep list | head``) ends the command
  quietly.
"""
from __future__ import annotations

import argparse
import contextlib
import os
import signal
import sys
import threading
import warnings

EXIT_OK, EXIT_DEVIATION, EXIT_USAGE = 0, 1, 2
DTYPES = ("float32", "float64")
#: numpy's SeedSequence takes any non-negative int, torch.manual_seed < 2**64; one range
#: for every command (``lockstep export`` has the same)
SEED_LIMIT = 2 ** 32

EXIT_CODES = ("exit codes: 0 everything agreed (or the command succeeded); 1 a comparison "
              "failed, a mutant survived or an odd input neither matched torch nor raised a "
              "clear error; 2 bad usage (an unknown option, a bad value, a glob that matches "
              "no case, an output folder that is a file, read-only or being written by "
              "another run); 130/143 interrupted (Ctrl-C / SIGTERM)")


class _Help(argparse.HelpFormatter):
    """Each option's default after its help, unless the help already names it (or there is
    nothing to show: a flag, None)."""

    def _get_help_string(self, action):
        text = action.help or ""
        if "default" in text or action.default is None or action.default is False \
                or action.default is argparse.SUPPRESS or not action.option_strings:
            return text
        return text + " (default: %(default)s)"


class Parser(argparse.ArgumentParser):
    """argparse with one-line errors (exit 2) and the defaults in ``--help``."""

    def __init__(self, *args, **kw):
        kw.setdefault("formatter_class", _Help)
        kw.setdefault("epilog", EXIT_CODES)
        super().__init__(*args, **kw)

    def error(self, message: str):
        self.exit(EXIT_USAGE, f"{self.prog}: {message} (see {self.prog} --help)\n")


def add_quiet(parser: argparse.ArgumentParser) -> None:
    """``--quiet`` and ``--no-progress``, as every long-running command has them."""
    parser.add_argument("--quiet", action="store_true",
                        help="print nothing but failures (and no progress bar)")
    parser.add_argument("--no-progress", action="store_true",
                        help="no progress bar (there is none anyway when stderr is not a "
                             "terminal)")


def parse(parser: argparse.ArgumentParser, argv, unit: bool = False):
    """``parser.parse_args(argv)``, and its ``--out`` checked (:func:`compare.io.
    unusable_folder`); the arguments, or exit status 2 after the one-line error."""
    from .io import unusable_folder

    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return EXIT_USAGE if exc.code else EXIT_OK
    why = unusable_folder(args.out, unit=unit) if hasattr(args, "out") else None
    if why:
        return fail(parser.prog, f"--out: {why}")
    return args


def locked(prog: str, out: str, fn, *args) -> int:
    """``fn(*args)`` holding the lock of the output folder ``out`` for the whole command (a
    report, a training run and a benchmark all write into ``reports/``: never two at once);
    exit status 2 with one line when another run holds it."""
    from .io import FolderBusy, folder_lock

    try:
        with folder_lock(out):
            return fn(*args)
    except FolderBusy as exc:
        return fail(prog, str(exc))


def fail(prog: str, message: str) -> int:
    """Print the one-line usage error and return exit status 2."""
    print(f"{prog}: {message}", file=sys.stderr)
    return EXIT_USAGE


def _int(text: str) -> int:
    try:
        return int(text, 10)
    except (TypeError, ValueError):
        raise argparse.ArgumentTypeError(f"{text!r} is not an integer") from None


def seed(text: str) -> int:
    """A seed in [0, 2**32)."""
    v = _int(text)
    if not 0 <= v < SEED_LIMIT:
        raise argparse.ArgumentTypeError(f"{text} is outside [0, 2**32)")
    return v


def seeds(text: str) -> tuple:
    """``0-19`` or ``0,3,7`` or a mix (``0-3,9``): distinct seeds in [0, 2**32), in order."""
    out = []
    for part in text.split(","):
        part = part.strip()
        if not part:
            raise argparse.ArgumentTypeError(f"{text!r} has an empty item")
        lo, sep, hi = part.partition("-")
        a = seed(lo)
        b = seed(hi) if sep else a
        if b < a:
            raise argparse.ArgumentTypeError(f"{part!r} is a range that runs backwards")
        if b - a >= 10_000:
            raise argparse.ArgumentTypeError(f"{part!r} is more than 10000 seeds")
        out += [s for s in range(a, b + 1) if s not in out]
    return tuple(out)


def positive(text: str) -> int:
    v = _int(text)
    if v < 1:
        raise argparse.ArgumentTypeError(f"{text} must be at least 1")
    return v


def non_negative(text: str) -> int:
    v = _int(text)
    if v < 0:
        raise argparse.ArgumentTypeError(f"{text} must be 0 or more")
    return v


def dtypes(text: str) -> tuple:
    """Comma-separated float32/float64, at least one, no repeats."""
    out = tuple(dict.fromkeys(d.strip() for d in text.split(",") if d.strip()))
    bad = [d for d in out if d not in DTYPES]
    if bad or not out:
        raise argparse.ArgumentTypeError(f"{text!r}: choose from {', '.join(DTYPES)}")
    return out


def glob(text: str) -> str:
    """A non-empty comma-separated glob list."""
    if not text.strip() or not [p for p in text.split(",") if p.strip()]:
        raise argparse.ArgumentTypeError("an empty glob matches nothing; leave --cases out "
                                         "to run every case")
    return text


def show_progress(args) -> bool:
    """A progress bar only when stderr is a terminal and neither --quiet nor --no-progress."""
    if getattr(args, "quiet", False) or getattr(args, "no_progress", False):
        return False
    try:
        return sys.stderr.isatty()
    except (AttributeError, ValueError):
        return False


class Terminated(BaseException):
    """SIGTERM, raised where the process was, so ``finally`` blocks clean up."""


@contextlib.contextmanager
def expected_warnings_quiet():
    """Every command's run: torch's own UserWarnings (deprecated implicit dims, encoders that
    cannot take the nested-tensor path ...), its FutureWarnings (NLLLoss2d) and NumPy's
    RuntimeWarnings (the mean of an empty slice, 0/0 in a difference quotient at a NaN) are
    expected by the corner cases that provoke them, on both sides; the numbers are compared,
    and the warnings would bury the summary. Warnings from anywhere else still show."""
    with warnings.catch_warnings():
        for category in (UserWarning, FutureWarning, RuntimeWarning):
            warnings.filterwarnings("ignore", category=category,
                                    module=r"(torch|npimpl|reference|compare|numpy)\.")
        yield


def _on_sigterm(signum, frame):
    raise Terminated()


def run_command(fn, *args) -> int:
    """``fn(*args)`` with SIGTERM turned into :class:`Terminated` (exit 143) and Ctrl-C into
    exit 130 without a traceback; a reader that closes stdout early (``| head``) ends the
    command with exit 0 and no BrokenPipeError."""
    main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _on_sigterm) if main_thread else None
    try:
        return fn(*args)
    except Terminated:
        print("lockstep: terminated; temporary files removed", file=sys.stderr)
        return 128 + signal.SIGTERM
    except KeyboardInterrupt:
        print("lockstep: interrupted; temporary files removed", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        # the reader is gone: point stdout at /dev/null so the interpreter's final flush
        # does not raise again (the recipe of Python's signal documentation)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        if main_thread:
            signal.signal(signal.SIGTERM, previous)
