"""Read the teaching sections out of npimpl docstrings, so that code and report cannot drift.

Docstrings follow one plain-text layout (see ``npimpl/linear.py``): a first line
of maths, then sections headed ``Args:``, ``Shape:``, ``Attributes:``,
``Backward:`` and ``What torch hides:``.
"""
from __future__ import annotations

import inspect
import os
import re
from dataclasses import dataclass

import npimpl

SECTIONS = ("Args", "Shape", "Attributes", "Maths", "Derivation", "Backward", "What torch hides",
            "Returns", "Note")
_HEADER = re.compile(r"^\s*(%s):\s*$" % "|".join(re.escape(s) for s in SECTIONS))


@dataclass
class LayerDoc:
    name: str
    summary: str          # the first paragraph: one line of maths
    sections: dict        # header -> text (dedented, paragraphs joined)
    source: str           # path relative to the repository root
    line: int             # first line of the class in that file

    @property
    def backward(self) -> str:
        return self.sections.get("Backward", "")

    @property
    def body(self) -> str:
        """Free text after the summary (an optimizer's update rule)."""
        return self.sections.get("Body", "")

    @property
    def hides(self) -> str:
        return self.sections.get("What torch hides", "")


def parse_docstring(doc: str | None) -> tuple[str, dict]:
    """Split a docstring into its summary paragraph and its named sections."""
    lines = inspect.cleandoc(doc or "").splitlines()
    summary, i = [], 0
    while i < len(lines) and lines[i].strip() and not _HEADER.match(lines[i]):
        summary.append(lines[i].strip())
        i += 1
    sections, current = {}, "Body"   # text between the summary and the first header
    sections[current] = []
    for line in lines[i:]:
        m = _HEADER.match(line)
        if m and not line.startswith("        "):
            current = m.group(1)
            sections[current] = []
        elif current is not None:
            sections[current].append(line[4:] if line.startswith("    ") else line)
    sections = {k: "\n".join(v).strip() for k, v in sections.items()}
    return " ".join(summary), {k: v for k, v in sections.items() if v or k != "Body"}


def _repo_root() -> str:
    return os.path.dirname(os.path.dirname(os.path.abspath(npimpl.__file__)))


def layer_doc(cls) -> LayerDoc:
    summary, sections = parse_docstring(cls.__doc__)
    try:
        path = inspect.getsourcefile(cls)
        src, line = inspect.getsourcelines(cls)
        # point at the ``class`` line itself, past any decorator
        line += next(i for i, text in enumerate(src) if text.lstrip().startswith("class "))
        source = os.path.relpath(path, _repo_root()).replace(os.sep, "/")
    except (TypeError, OSError):
        source, line = "", 0
    return LayerDoc(cls.__name__, summary, sections, source, line)


def public_classes() -> dict:
    """Every public npimpl class by name: layers, losses, optimizers, schedulers, models."""
    out = {}
    import importlib

    mods = [npimpl]
    for sub in ("optim", "optim.lr_scheduler", "optim.swa_utils", "models"):
        try:
            mods.append(importlib.import_module(f"npimpl.{sub}"))
        except ImportError:
            pass
    for mod in mods:
        if mod is None:
            continue
        for name in getattr(mod, "__all__", []):
            obj = getattr(mod, name, None)
            if inspect.isclass(obj):
                out.setdefault(name, obj)
    return out


def find_class(name: str):
    """The npimpl class called ``name`` (None for composite names like 'MLP')."""
    return public_classes().get(name)


def one_line(text: str, table: bool = False) -> str:
    """Collapse white space into one markdown line; RST ````code```` becomes markdown's
    ```code```. In a table cell (``table``) every ``|`` is escaped, code spans included (GFM
    splits cells before it reads code spans); elsewhere ``|`` stays as it is."""
    out = " ".join(text.split()).replace("``", "`")
    return out.replace("|", "\\|") if table else out


#: a class is filed under the family of the npimpl file that defines it (whatever case uses it)
FILE_FAMILY = {
    "module": "core", "linear": "core", "shape": "core", "activation": "activation",
    "smooth": "activation", "softmax": "activation", "loss": "loss", "crossentropy": "loss",
    "bce": "loss", "distribution": "loss", "cosine_loss": "loss", "conv": "conv", "conv_transpose": "conv",
    "pooling": "pooling", "lp_pool": "pooling", "fractional_max_pool": "pooling",
    "max_unpool": "pooling", "norm": "norm", "batchnorm": "norm", "groupnorm": "norm",
    "dropout": "norm", "embedding": "norm", "rnn": "recurrent", "rnn_cell": "recurrent",
    "attention": "attention", "sdpa": "attention", "transformer": "attention",
    "transformer_decoder": "attention", "transformer_stack": "attention",
    "transformer_model": "attention",
    "recurrence": "recurrent", "grad_mode": "core",
    "shrink": "activation", "sigmoidal": "activation", "prelu": "activation",
    "container": "core", "bilinear": "distance", "distance": "distance",
    "lrn": "norm", "alpha_dropout": "norm",
    "padding": "padding", "upsampling": "resample", "pixelshuffle": "resample",
    "channelshuffle": "resample", "fold": "resample",
    "margin_loss": "loss", "multi_margin": "loss", "triplet": "loss", "ctc": "loss",
    "adaptive": "loss", "linear_ce": "loss", "deprecated": "loss",
}


def section_of(layer: str, case_family: str) -> str:
    """The report section of ``layer``: its defining file's family, else the case's."""
    cls = find_class(layer)
    if cls is not None:
        parts = cls.__module__.split(".")
        if parts[1] in ("optim", "models"):
            return parts[1]
        if parts[-1] in FILE_FAMILY:
            return FILE_FAMILY[parts[-1]]
    return case_family
