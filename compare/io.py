"""Atomic file writes: every report file is written to a temporary name and renamed, so a
reader never sees half a file and an interrupted run leaves the previous report intact."""
from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager


@contextmanager
def atomic_path(path: str):
    """Yield a temporary path in the same folder; on success it replaces ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", suffix=os.path.splitext(path)[1], dir=folder)
    os.close(fd)
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def write_text(path: str, text: str) -> None:
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8", newline="\n") as f:
        f.write(text)


def write_csv(path: str, frame) -> None:
    """A pandas DataFrame as CSV, floats with 9 significant digits (byte-stable for a seed)."""
    with atomic_path(path) as tmp:
        frame.to_csv(tmp, index=False, float_format="%.9g", lineterminator="\n")


def save_figure(path: str, fig) -> None:
    """A matplotlib figure as PNG without a timestamp, so the same data gives the same bytes."""
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=90, metadata={"Software": None})
