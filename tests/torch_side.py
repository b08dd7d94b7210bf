"""Helpers the layer tests share: run an npimpl module and its torch twin on the same inputs,
and hold a class's signature and docstring against torch's and the house style."""
import inspect

import numpy as np
import torch

import npimpl


def run_both(np_mod, t_mod, *xs, g=None):
    """Forward both on ``xs`` (copies) and backward with ``g`` (default: ones).

    Returns ``(y, dx), (ty, tdx)``; with several inputs ``dx`` and ``tdx`` are tuples (torch's
    missing gradient becomes zeros)."""
    y = np_mod(*(x.copy() for x in xs))
    g = np.ones_like(y) if g is None else g
    dx = np_mod.backward(g)
    ts = [torch.tensor(x, requires_grad=True) for x in xs]
    ty = t_mod(*ts)
    ty.backward(torch.tensor(g))
    tdx = tuple(np.zeros_like(x) if t.grad is None else t.grad.numpy() for x, t in zip(xs, ts))
    return (y, dx), (ty.detach().numpy(), tdx[0] if len(xs) == 1 else tdx)


def _params(cls, skip):
    return [(p.name, p.default) for p in inspect.signature(cls).parameters.values()
            if p.name not in skip
            and p.kind not in (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)]


def assert_signature_is_torchs(name, skip=("dtype",)):
    """Names, order and defaults of ``npimpl.<name>`` are ``torch.nn.<name>``'s (less ``skip``:
    npimpl's ``dtype=`` default and its ``rng=``)."""
    assert _params(getattr(npimpl, name), skip) == _params(getattr(torch.nn, name), skip)


def assert_docstring_teaches(name):
    doc = getattr(npimpl, name).__doc__
    for section in ("Args:", "Shape:", "Backward:", "What torch hides:"):
        assert section in doc, f"{name} docstring lacks {section}"
