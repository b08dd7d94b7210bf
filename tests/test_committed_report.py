"""The committed report is a product: its links resolve and it names every npimpl class."""
import os
import re

import pytest

from compare import docs

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPORT = os.path.join(ROOT, "reports", "deviations.md")


@pytest.fixture(scope="module")
def text():
    if not os.path.exists(REPORT):
        pytest.fail("reports/deviations.md is missing: run `lockstep report` and commit it")
    return open(REPORT, encoding="utf-8").read()


def test_every_link_and_image_resolves(text):
    targets = re.findall(r"\]\(([^)#\s]+)(?:#L\d+)?\)", text)
    assert len(targets) > 10
    missing = [t for t in targets
               if not t.startswith("http") and
               not os.path.exists(os.path.normpath(os.path.join(ROOT, "reports", t)))]
    assert not missing


def test_every_public_npimpl_class_appears(text):
    absent = [n for n in docs.public_classes() if f"`{n}`" not in text and f"### {n}" not in text]
    assert not absent, f"not in reports/deviations.md: {absent} (rerun `lockstep report`)"


def test_source_links_point_at_the_class(text):
    for path, line in re.findall(r"\]\(\.\./(npimpl/[\w/]+\.py)#L(\d+)\)", text):
        src = open(os.path.join(ROOT, path), encoding="utf-8").read().splitlines()
        assert src[int(line) - 1].lstrip().startswith("class "), (path, line)


def test_the_readme_quotes_this_summary(text):
    """README's "From its summary" block is copied from this report: regenerate both."""
    readme = open(os.path.join(ROOT, "README.md"), encoding="utf-8").read()
    quoted = [q[2:] for q in readme.splitlines() if q.startswith("> | **")]
    assert quoted
    stale = [q for q in quoted if q not in text.splitlines()]
    assert not stale, f"README quotes lines the committed report no longer has: {stale}"
