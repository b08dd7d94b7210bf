"""The README's counts come from a check, not from memory: cases, mutants and tests (the
summary it quotes from the committed report: tests/test_committed_report.py). A number written ``~N`` or ``about N`` may be
10% off (it survives a few new cases); a plain number must be exact."""
import os
import re
import subprocess
import sys

from compare.catalogue import all_cases
from compare.mutants import all_mutants

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TEXT = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()


def _stated(pattern: str) -> tuple[int, bool]:
    """The number the README states where ``pattern`` (with a ``{n}`` slot) matches, and
    whether it is an approximation."""
    rx = pattern.replace("{n}", r"(?P<approx>~|about )?(?P<n>\d[\d,]*)")
    m = re.search(rx, TEXT)
    assert m, f"README no longer states {pattern!r}: update this test with the README"
    return int(m.group("n").replace(",", "")), bool(m.group("approx"))


def _agrees(stated: tuple[int, bool], real: int) -> bool:
    n, approx = stated
    return abs(n - real) <= 0.1 * real if approx else n == real


def test_the_number_of_cases():
    real = len(all_cases())
    stated = _stated(r"the catalogue: {n} cases")
    assert _agrees(stated, real), f"README says {stated[0]} cases, the catalogue has {real}"


def test_the_number_of_mutants():
    real = len(all_mutants())
    stated = _stated(r"{n} deliberately wrong layers")
    assert _agrees(stated, real), f"README says {stated[0]} mutants, the gallery has {real}"


def _collected(config) -> int:
    """The suite's size: this session's own count when it collected every test file (no -k,
    no -m), else a ``pytest --collect-only`` of its own (slow: only when run on its own)."""
    ids = getattr(config, "lockstep_collected", [])
    files = {i.split("::")[0] for i in ids}
    every = {f"tests/{f}" for f in os.listdir(os.path.join(ROOT, "tests"))
             if f.startswith("test_") and f.endswith(".py")}
    if files >= every - {"tests/test_committed_report.py"} and not config.option.keyword \
            and not config.option.markexpr:
        return len(ids)
    out = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q",
                          "-p", "no:cacheprovider"], cwd=ROOT, capture_output=True, text=True,
                         timeout=600).stdout
    return int(re.search(r"(\d+) tests? collected", out).group(1))


def test_the_number_of_tests(request):
    real = _collected(request.config)
    stated = _stated(r"Run the test suite \({n} tests")
    assert _agrees(stated, real), f"README says {stated[0]} tests, the suite has {real}"
