"""Files the commands write: atomic single files, and a report folder written as a unit.

* :func:`write_text`, :func:`write_csv`, :func:`save_figure`: one file, written to a
  temporary name beside it (``.tmp-<pid>-<hex>``) and renamed, so a reader never sees half
  a file. Created with the user's umask (mode ``0o666 & ~umask``), like any other file.
* :func:`replace_folder`: a whole report folder. Everything is written into a sibling
  folder ``.lockstep-<name>.new-<hex>`` and then swapped in with one atomic
  ``renameat2(RENAME_EXCHANGE)``, so at any moment ``<name>`` holds the whole previous
  report or the whole new one (so ``--out`` must be a folder of its own: not the current
  folder, nothing with sub-folders the report does not own). Where the exchange is not available (another OS, a file
  system without it) the swap is two renames; for that instant the previous report waits
  whole beside it as ``.lockstep-<name>.old-<hex>``, and the next run puts it back if it
  was killed right there. Files of the old folder that the report does not own
  (``bench.md``, ``train-*.csv`` …) are carried into the new one (hard links).
* :func:`folder_lock`: one writer per folder. An exclusive ``flock`` on
  ``.lockstep-<name>.lock`` beside the folder, removed when the run ends; the kernel
  releases the lock when the process dies, however it dies, so a killed run never leaves
  a stale lock (after SIGKILL only the empty file, which the next run takes over).

What a kill can leave behind: ``.tmp-*`` (a single file half written), the
``.lockstep-<name>.*`` siblings above; SIGTERM and Ctrl-C clean up (the commands turn
them into exceptions), and the next run removes what a SIGKILL left. ``.gitignore``
matches all of them.
"""
from __future__ import annotations

import ctypes
import errno
import glob
import os
import secrets
import shutil
import tempfile
from contextlib import contextmanager

PREFIX = ".lockstep-"


def umask() -> int:
    """The process's umask (read by setting it and putting it back)."""
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- single files ------------------------------------------------------------------------------
@contextmanager
def atomic_path(path: str):
    """Yield a temporary path in the same folder; on success it replaces ``path``."""
    folder = os.path.dirname(os.path.abspath(path))
    os.makedirs(folder, exist_ok=True)
    tmp = os.path.join(folder, f".tmp-{os.getpid()}-{secrets.token_hex(4)}"
                               f"{os.path.splitext(path)[1]}")
    os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))   # umask applies
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


# --- checking a destination before a long run ----------------------------------------------------
def unusable_folder(path: str, unit: bool = False) -> str | None:
    """Why ``path`` cannot receive output (a sentence), or None when it can: it must not be
    empty, nor a file, nor under a file, and it (or its nearest existing ancestor) must be a
    writable folder; with ``unit`` (a folder swapped in whole) its parent must be writable
    too. Writability is tried, not read from the mode bits (root ignores those)."""
    if not path or not path.strip():
        return "the output folder must not be empty"
    full = os.path.abspath(path)
    if os.path.exists(full) and not os.path.isdir(full):
        return f"{path} is a file, not a folder"
    probe = full
    while not os.path.exists(probe):
        probe = os.path.dirname(probe)
    if not os.path.isdir(probe):
        return f"{path} lies under {probe}, which is a file"
    targets = [probe]
    if unit and os.path.exists(full):
        targets.append(os.path.dirname(full))
    for folder in targets:
        try:
            tempfile.TemporaryFile(dir=folder).close()
        except OSError as exc:
            return f"{folder} is not writable ({exc.strerror or exc})"
    return None


# --- one writer per folder -----------------------------------------------------------------------
class FolderBusy(RuntimeError):
    """Another process holds the folder's lock."""


_HELD: dict[str, int] = {}


def _sibling(path: str, what: str) -> str:
    full = os.path.abspath(path)
    return os.path.join(os.path.dirname(full), f"{PREFIX}{os.path.basename(full)}{what}")


@contextmanager
def folder_lock(path: str):
    """Hold the exclusive lock of ``path`` (re-entrant within a process); FolderBusy when
    another process holds it."""
    import fcntl

    key = os.path.abspath(path)
    if key in _HELD:
        yield
        return
    os.makedirs(os.path.dirname(key), exist_ok=True)
    lock = _sibling(path, ".lock")
    while True:
        fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 32, 0).decode(errors="replace").strip() or "?"
            os.close(fd)
            raise FolderBusy(f"{path} is being written by another lockstep run (pid "
                             f"{holder}); wait for it or choose another --out") from None
        try:                                  # still the file at that name? (a run that
            same = os.fstat(fd).st_ino == os.stat(lock).st_ino    # was releasing may have
        except FileNotFoundError:                                 # removed it meanwhile)
            same = False
        if same:
            break
        os.close(fd)
    os.ftruncate(fd, 0)
    os.pwrite(fd, str(os.getpid()).encode(), 0)
    _HELD[key] = fd
    try:
        yield
    finally:
        del _HELD[key]
        try:
            os.unlink(lock)                   # removed while still held: see the loop above
        except OSError:
            pass
        os.close(fd)                          # closing releases the flock


# --- a folder written as a unit ------------------------------------------------------------------
def _exchange(a: str, b: str) -> bool:
    """Swap two paths atomically (Linux renameat2 RENAME_EXCHANGE); False if unsupported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    if renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange) == 0:
        return True
    err = ctypes.get_errno()
    if err in (errno.EINVAL, errno.ENOSYS, errno.EPERM, errno.ENOTSUP):
        return False
    raise OSError(err, os.strerror(err), b)


def not_a_unit(path: str, owned: set) -> str | None:
    """Why ``path`` must not be replaced as a unit (a sentence), or None: it holds the
    current folder, a git checkout, or sub-folders the report does not own (their files
    would have to be copied over; a report folder holds files and the report's own
    sub-folders only)."""
    full = os.path.abspath(path)
    if not os.path.isdir(full):
        return None
    cwd = os.path.abspath(os.getcwd())
    if cwd == full or cwd.startswith(full.rstrip(os.sep) + os.sep):
        return (f"{path} contains the current folder; the report replaces its folder as a "
                "unit: give it a folder of its own (default: reports)")
    foreign = sorted(n for n in os.listdir(full) if n not in owned and not n.startswith(
        (".tmp-", PREFIX)) and os.path.isdir(os.path.join(full, n)))
    if foreign:
        return (f"{path} holds folders the report does not own ({', '.join(foreign[:3])}); "
                "the report replaces its folder as a unit: give it a folder of its own")
    return None


def _carry(old: str, new: str, owned: set) -> None:
    """Hard-link (or copy) into ``new`` every file of ``old`` that the report does not own
    and did not write (``bench.md``, ``train-*.csv`` ...)."""
    for name in sorted(os.listdir(old)):
        src, dst = os.path.join(old, name), os.path.join(new, name)
        if name in owned or os.path.lexists(dst) or name.startswith((".tmp-", PREFIX)) \
                or (os.path.isdir(src) and not os.path.islink(src)):
            continue
        try:
            os.link(src, dst, follow_symlinks=False)
        except OSError:
            shutil.copy2(src, dst, follow_symlinks=False)


def recover(path: str) -> None:
    """Undo what a killed run left beside ``path``: put back a previous report that waited
    whole as ``.old-*`` while ``path`` is missing, and remove every other ``.new-*`` /
    ``.old-*`` sibling. Call it holding :func:`folder_lock`."""
    full = os.path.abspath(path)
    olds = sorted(glob.glob(glob.escape(_sibling(path, ".old-")) + "*"),
                  key=os.path.getmtime)
    if olds and not os.path.exists(full):
        os.rename(olds.pop(), full)
    for left in olds + glob.glob(glob.escape(_sibling(path, ".new-")) + "*"):
        shutil.rmtree(left, ignore_errors=True)


@contextmanager
def replace_folder(path: str, owned: set):
    """Yield a fresh sibling folder to write a whole report into; on success it becomes
    ``path`` in one atomic swap (see the module docstring), carrying over the entries of
    the old folder that are not in ``owned``. On any exception ``path`` is untouched and the
    sibling removed. Takes :func:`folder_lock`."""
    full = os.path.abspath(path)
    why = not_a_unit(full, owned)
    if why:
        raise ValueError(why)
    with folder_lock(full):
        recover(full)
        os.makedirs(os.path.dirname(full), exist_ok=True)
        tmp = tempfile.mkdtemp(prefix=os.path.basename(_sibling(full, ".new-")),
                               dir=os.path.dirname(full))
        os.chmod(tmp, 0o777 & ~umask())
        try:
            yield tmp
            if not os.path.exists(full):
                os.rename(tmp, full)
                return
            _carry(full, tmp, owned)
            if _exchange(tmp, full):              # tmp now holds the previous report
                shutil.rmtree(tmp)
                return
            old = _sibling(full, f".old-{secrets.token_hex(4)}")
            os.rename(full, old)                  # for this instant the old report waits
            os.rename(tmp, full)                  # whole beside; recover() puts it back
            shutil.rmtree(old)
        finally:
            if os.path.exists(tmp):
                shutil.rmtree(tmp, ignore_errors=True)
