"""The book: built into a temporary folder from a small run, opened in headless Chromium
(one browser process for every page): every page loads, its maths is MathML laid out by the
browser with no raw LaTeX left, no link or image is broken, nothing is fetched from the
network; screenshots of the Linear and LSTM pages are saved."""
import os
import re
from urllib.parse import unquote, urlparse

import numpy as np
import pytest

import npimpl.linear
from compare import book, claims, docs
from compare.book import Context, pages, text
from compare.catalogue import all_cases, select
from compare.io import write_text
from compare.markdown import render
from compare.report import run_all

CASES = "linear-2d,lstm-base,mlp-batchnorm-dropout-cumulative-sgd"


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("report"))
    run = run_all(select(CASES), ("float64",), seed=0, progress=False, checks=False)
    verdicts = claims.check(claims.for_layer("Linear") + claims.for_layer("LSTMCell")
                            + claims.for_layer("LayerNorm"))
    os.makedirs(os.path.join(out, "plots"))
    from compare import plots
    for name, d in run.steps.groupby("case"):
        plots.trajectory_plot(os.path.join(out, "plots", f"{name}.png"), name, d)
    from compare.mutants import all_mutants
    mutants = [(m, None, None) for m in all_mutants() if m.case.layer in ("Linear", "LSTMCell")]
    run.claims = verdicts
    write_text(os.path.join(out, "deviations.md"), render(run, out))
    ctx = Context(out, run.rows, run.steps, verdicts, mutants, all_cases(), 0, "test build")
    paths = book.build(ctx)
    return ctx, paths


def test_one_page_per_public_class_and_an_index(built):
    ctx, paths = built
    names = {os.path.basename(p) for p in paths}
    assert {"index.html", "style.css", "search.js", "search-index.js"} <= names
    missing = [n for n in docs.public_classes() if pages.page_name(n) not in names]
    assert not missing
    index = open(os.path.join(ctx.book_dir, "index.html"), encoding="utf-8").read()
    assert 'href="LSTM.html"' in index and 'id="search"' in index   # LSTM: one click away


def test_linear_page_shows_each_part(built):
    ctx, _ = built
    page = open(os.path.join(ctx.book_dir, "Linear.html"), encoding="utf-8").read()
    for part in ("What it computes", "<math", "The backward, step by step", "linear_backward",
                 '<ol class="derivation">',
                 "What torch hides", "✓", "Worked example", "tol_ratio", "linear-2d",
                 "tests/test_linear.py::", "Exercise 1"):
        assert part in page, part
    # the source link, relative to the book's folder wherever both live, reaches the real file
    links = re.findall(r'href="([^"#]*npimpl/linear\.py)#L\d+"', page)
    assert links
    assert os.path.samefile(os.path.join(ctx.book_dir, links[0]), npimpl.linear.__file__)


def test_lstm_page_follows_the_backward_from_equations_to_code(built):
    ctx, _ = built
    page = open(os.path.join(ctx.book_dir, "LSTM.html"), encoding="utf-8").read()
    assert page.index('<ol class="derivation">') < page.index("lstm_step_backward</strong>")
    assert "lstm-base" in page and "BatchNorm1d" not in page.split("<h1>")[1][:200]
    bn = open(os.path.join(ctx.book_dir, "BatchNorm1d.html"), encoding="utf-8").read()
    assert '<li value="7">' in bn                 # numbered like the code's steps, 7 down to 1
    assert 'src="../plots/mlp-batchnorm-dropout-cumulative-sgd.png"' in bn


def test_worked_example_numbers_are_numpy_beside_torch():
    from compare.book import worked

    w = worked.run(worked.pick(select("linear-*")))
    assert not w.error
    pairs = [q for q in w.quantities if q.torch is not None]
    assert {q.name for q in pairs} >= {"y", "dx", "dweight", "dbias"}
    for q in pairs:
        np.testing.assert_allclose(q.numpy, q.torch, rtol=1e-10, atol=1e-12)


def test_a_page_for_a_class_the_book_has_never_seen(built, tmp_path):
    ctx, _ = built

    class Strange:
        r"""``y = 2x`` for $x \in \mathbb{R}$, and a broken formula $\frac{1}{$.

        Derivation:
            1. $y = 2x$, so $\frac{\partial y}{\partial x} = 2$.

        What torch hides:
            nothing | at all, and ``a|b``.
        """

    ctx2 = Context(str(tmp_path), ctx.rows.iloc[:0], ctx.steps.iloc[:0], [], [], [], 0)
    paths = book.build(ctx2, {"Strange": Strange})
    page = open(os.path.join(ctx2.book_dir, "Strange.html"), encoding="utf-8").read()
    assert page.count("<math") == 3 and 'class="bad-tex"' in page and "<code>a|b</code>" in page
    assert len(paths) == 5


def test_text_keeps_maths_code_and_pipes_apart():
    html = text.inline(r"``a | b`` then $\sigma(x)$ and *em*")
    assert html.startswith("<code>a | b</code>") and "<math" in html and "<em>em</em>" in html
    assert text.steps("1. one\n   more\n2. two") == [("1", "one more"), ("2", "two")]


needs_chromium = pytest.mark.skipif(book.browser_path() is None and not os.environ.get("CI"),
                                    reason="Chromium is not installed (apt-get install chromium;"
                                           " .ci/run installs it)")


@needs_chromium
def test_every_page_renders_in_chromium_and_the_search_box_works(built, tmp_path):
    from compare.book.browser import Browser

    ctx, paths = built
    html_pages = sorted(p for p in paths if p.endswith(".html"))
    seen, problems = {}, []
    with Browser() as b:
        for path in html_pages:
            r = b.inspect(path)
            seen[os.path.abspath(path)] = set(r["ids"])
            name = os.path.basename(path)
            if not r["title"].endswith("lockstep book") or r["styled"] == "rgba(0, 0, 0, 0)":
                problems.append(f"{name}: not loaded with its style sheet")
            if r["maths"] != r["mathsLaidOut"] or r["badTex"] or r["raw"]:
                problems.append(f"{name}: maths {r['mathsLaidOut']}/{r['maths']} laid out, "
                                f"{r['badTex']} unreadable, raw LaTeX {r['raw'][:3]}")
            for img in r["images"]:
                if not img["ok"]:
                    problems.append(f"{name}: broken image {img['src']}")
            for url in r["links"] + r["resources"]:
                u = urlparse(url)
                if u.scheme != "file":
                    problems.append(f"{name}: non-local link {url}")
                elif not os.path.exists(unquote(u.path)):
                    problems.append(f"{name}: broken link {url}")
        for name in book.SCREENSHOTS:
            b.screenshot(os.path.join(ctx.book_dir, pages.page_name(name)),
                         str(tmp_path / f"{name}.png"))
        # the index's search box (the book's one script) finds LSTM from two words
        b.load(os.path.join(ctx.book_dir, "index.html"))
        hits = b.evaluate("(() => { const s = document.getElementById('search'); "
                          "s.value = 'lstm gate'; s.dispatchEvent(new Event('input')); "
                          "return [...document.querySelectorAll('#hits a')]"
                          ".map(a => a.textContent); })()")
    assert "LSTM" in hits and "Linear" not in hits
    assert not problems, problems[:10]
    maths = sum(1 for p in html_pages if "<math" in open(p, encoding="utf-8").read())
    assert maths >= 10
    for name in book.SCREENSHOTS:                 # PNG files of a real size
        data = open(tmp_path / f"{name}.png", "rb").read()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 20000
    # every in-book anchor a page links to exists on the target page
    for path in html_pages:
        for href in re.findall(r'href="([^"#]+\.html)#([^"]+)"', open(path).read()):
            target = os.path.abspath(os.path.join(os.path.dirname(path), href[0]))
            assert href[1] in seen.get(target, set()), (path, href)
