"""One check the layer test files share: an npimpl class has its torch twin's signature."""
import inspect

import torch

import npimpl


def assert_signature_matches_torch(name: str) -> None:
    """The parameter names of ``torch.nn.<name>`` in torch's order (npimpl adds ``dtype``),
    with torch's defaults."""
    ours = inspect.signature(getattr(npimpl, name)).parameters
    theirs = inspect.signature(getattr(torch.nn, name)).parameters
    assert [k for k in ours if k != "dtype"] == list(theirs)
    for k, p in theirs.items():
        assert ours[k].default == p.default, k
