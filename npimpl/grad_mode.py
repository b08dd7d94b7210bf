"""``no_grad``: torch's switch for "no backward will follow", in NumPy.

npimpl has no autograd graph; what backward needs is the cache each module keeps from its
last forward. Under ``with npimpl.no_grad():`` every module called as ``m(x)`` keeps nothing
(its cache is dropped as the call returns), ``backward`` then raises a RuntimeError that says
why, and modules that have an inference fast path may take it, exactly where torch takes
its own under ``torch.no_grad()`` (``TransformerEncoder``'s nested-tensor path).

Like torch's grad mode the switch is per thread; ``no_grad`` nests and works as a decorator.
"""
from __future__ import annotations

import functools
import threading

_state = threading.local()


def is_grad_enabled() -> bool:
    """True unless inside ``no_grad()`` (or after ``set_grad_enabled(False)``) in this thread."""
    return getattr(_state, "enabled", True)


class set_grad_enabled:
    """Set the grad mode: as a call (``set_grad_enabled(False)``) or a context manager
    (restoring the previous mode on exit), as ``torch.set_grad_enabled``."""

    def __init__(self, mode: bool):
        self.prev = is_grad_enabled()
        _state.enabled = bool(mode)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False


class no_grad:
    """Context manager (and decorator) under which modules cache nothing for backward.

    What torch hides:
        ``torch.no_grad()`` changes more than memory: in eval mode a module may take a
        different code path (TransformerEncoderLayer's fused kernel, TransformerEncoder's
        nested tensors, whose padded output rows are zeros).
    """

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = False
        return self

    def __exit__(self, *exc):
        _state.enabled = self.prev
        return False

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with no_grad():
                return fn(*args, **kwargs)
        return wrapper


class enable_grad(no_grad):
    """Re-enable caching inside a ``no_grad`` block (``torch.enable_grad``)."""

    def __enter__(self):
        self.prev = is_grad_enabled()
        _state.enabled = True
        return self

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with enable_grad():
                return fn(*args, **kwargs)
        return wrapper
