"""What a bad-input cell concludes: a clear error, the same refusal as torch, or a signature
that matches torch's. Shared by the layers' matrix (:mod:`compare.badinput`) and the
optimizers' (:mod:`compare.badinput_optim`), which both import it.
"""
from __future__ import annotations

import inspect

import numpy as np
import torch

CLEAR_ERRORS = (ValueError, TypeError, IndexError)


def _is_clear(exc: Exception, name: str) -> bool:
    """A ValueError/TypeError/IndexError naming the module and saying what it got or wanted."""
    msg = str(exc)
    return (isinstance(exc, CLEAR_ERRORS) and name in msg
            and any(w in msg for w in ("got", "expected", "must", "need", "should")))


#: the outcome of a clear error where torch accepted the input: reported apart from the clear
#: errors torch raises too (refusing what torch accepts is allowed, but it is a difference)
TORCH_ACCEPTS = "clear error (torch accepts)"


def clear_outcome(t_exc) -> str:
    """``'clear error'`` when torch refused the input too, else :data:`TORCH_ACCEPTS`."""
    return "clear error" if t_exc is not None else TORCH_ACCEPTS


# --- signatures -------------------------------------------------------------------------------
#: parameters only one side has by design: npimpl's dtype/rng, torch's device
SIGNATURE_SKIP = {"self", "dtype", "device", "rng"}


def signature_cell(name: str, np_obj, torch_obj) -> dict:
    """The parameters both signatures have come in the same order with the same defaults
    (torch's names, positional order, keywords and defaults are the API): a default changed
    on the NumPy side is a FAIL even where no case leaves that argument out."""
    row = dict(cls=name, variant="signature")
    a = inspect.signature(np_obj).parameters
    b = inspect.signature(torch_obj).parameters
    if isinstance(torch_obj, type) and all(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                                           for p in b.values()):
        # torch.nn.LSTM(*args, **kwargs): the parameters live in a base class's __init__
        base = next((c for c in torch_obj.__mro__[1:] if any(
            p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
            for p in inspect.signature(c.__init__).parameters.values() if p.name != "self")),
            None)
        if base is not None and base is not torch.nn.Module:
            b = {k: v for k, v in inspect.signature(base.__init__).parameters.items()
                 if k != "mode"}
    common = [n for n in a if n in b and n not in SIGNATURE_SKIP]
    problems = []
    if common != [n for n in b if n in common]:
        problems.append(f"order {common} vs torch's {[n for n in b if n in common]}")
    for n in common:
        da, db = a[n].default, b[n].default
        if isinstance(da, str) and callable(db) and \
                getattr(torch.nn.functional, da, None) is db:
            continue                    # activation="relu" is torch's F.relu by name
        if not (da is db or (type(da) is type(db) and np.all(da == db))
                or (isinstance(da, (int, float)) and isinstance(db, (int, float))
                    and not isinstance(da, bool) and not isinstance(db, bool) and da == db)):
            problems.append(f"{n}={da!r}, torch's {db!r}")
    if problems:
        return {**row, "outcome": "FAIL: differs from torch", "detail": "; ".join(problems)}
    return {**row, "outcome": "matches torch", "detail": f"{len(common)} parameters"}
