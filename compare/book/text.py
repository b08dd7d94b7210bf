"""Docstring text to HTML: LaTeX maths to MathML (at build time, by ``latex2mathml``: the
pages need no JavaScript and no CDN to show it), RST/markdown code spans, emphasis.

Inline maths is written ``$...$`` and display maths ``$$...$$`` in the docstrings' ``Maths:``
and ``Derivation:`` sections; every other section is plain text, whose ``code`` spans and
``*emphasis*`` become HTML. A formula latex2mathml cannot read is shown as code with a
visible mark rather than crashing the build.
"""
from __future__ import annotations

import html
import re
import textwrap
from functools import lru_cache

from latex2mathml.converter import convert

_MATH = re.compile(r"\$\$(.+?)\$\$|\$(.+?)\$", re.S)
_CODE = re.compile(r"``(.+?)``|`([^`]+)`", re.S)
_EM = re.compile(r"(?<![\w*])\*(?!\s)([^*]+?)(?<!\s)\*(?![\w*])")
_STEP = re.compile(r"^\s*(\d+)\.\s+")


@lru_cache(maxsize=None)
def tex(source: str, display: bool = False) -> str:
    """MathML for one LaTeX formula (``display`` for a block)."""
    try:
        out = convert(source.strip(), display="block" if display else "inline")
    except Exception:  # noqa: BLE001 - an unreadable formula must not kill the book
        return (f'<code class="bad-tex" title="latex2mathml could not read this formula">'
                f'{html.escape(source)}</code>')
    return out


def inline(text: str) -> str:
    """Plain docstring text (with ``code``, *emphasis* and ``$maths$``) as HTML."""
    out, pos = [], 0
    for m in _MATH.finditer(text):
        out.append(_prose(text[pos:m.start()]))
        out.append(tex(m.group(1), display=True) if m.group(1) is not None else tex(m.group(2)))
        pos = m.end()
    out.append(_prose(text[pos:]))
    return "".join(out)


def _prose(text: str) -> str:
    out, pos = [], 0
    for m in _CODE.finditer(text):
        out.append(_em(html.escape(text[pos:m.start()], quote=False)))
        out.append(f"<code>{html.escape(m.group(1) or m.group(2), quote=False)}</code>")
        pos = m.end()
    out.append(_em(html.escape(text[pos:], quote=False)))
    return "".join(out)


def _em(escaped: str) -> str:
    return _EM.sub(r"<em>\1</em>", escaped)


def paragraphs(text: str) -> str:
    """Blank-line separated paragraphs, each joined into one ``<p>``; a paragraph ending in
    ``::`` introduces a literal block (the rest of the text, kept line by line, as RST)."""
    head, sep, literal = text.partition("::\n")
    paras = [" ".join(p.split()) for p in re.split(r"\n\s*\n", head.strip()) if p.strip()]
    out = "".join(f"<p>{inline(p)}</p>" for p in paras)
    if sep:
        out = out[:-4] + ":</p>" if out.endswith("</p>") else out
        out += f'<pre class="text">{html.escape(textwrap.dedent(literal).strip())}</pre>'
    return out


def display_block(text: str) -> str:
    """A ``Maths:`` section: one display formula per line (a line ending in ``\\`` continues)."""
    formulas, cur = [], ""
    for line in text.splitlines():
        cur += " " + line.strip()
        if cur.strip() and not cur.rstrip().endswith("\\"):
            formulas.append(cur.strip())
            cur = ""
    if cur.strip():
        formulas.append(cur.strip().rstrip("\\"))
    return "".join(f'<div class="eq">{tex(f, display=True)}</div>' for f in formulas)


def steps(text: str) -> list[tuple[str, str]]:
    """A ``Derivation:`` section as ``[(number, text)]``: a line starting ``N.`` opens step N,
    the lines after it continue it; text before the first number is step ``''``."""
    out: list[list[str]] = []
    for line in text.splitlines():
        m = _STEP.match(line)
        if m:
            out.append([m.group(1), line[m.end():].strip()])
        elif out:
            out[-1][1] += "\n" + line.strip()
        elif line.strip():
            out.append(["", line.strip()])
    return [(n, " ".join(t.split())) for n, t in out]


def definitions(text: str) -> list[tuple[str, str]]:
    """An ``Args:``/``Attributes:`` section as ``[(name, description)]`` (``name: text`` at the
    section's own indent, deeper lines continue it); text that is not of that form is one
    entry with an empty name."""
    items: list[list[str]] = []
    for line in text.splitlines():
        m = re.match(r"^(\S[^:]{0,60}):\s*(.*)$", line)
        if m and not line.startswith(" "):
            items.append([m.group(1), m.group(2)])
        elif items:
            items[-1][1] += " " + line.strip()
        elif line.strip():
            items.append(["", line.strip()])
    return [(k, " ".join(v.split())) for k, v in items]


def code_names(text: str) -> list[str]:
    """Functions a derivation points at, written ``name()`` (shown under "The code")."""
    return list(dict.fromkeys(re.findall(r"`{1,2}(?:self\.)?([A-Za-z_]\w*)\(\)`{1,2}", text)))


def plain(text: str) -> str:
    """Text without markup, for the search index."""
    return " ".join(re.sub(r"`+|\$+|\\(?=[a-zA-Z])", "", text).split())
