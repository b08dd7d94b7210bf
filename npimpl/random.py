"""npimpl's default generator: what a module draws from when it is given no ``rng``.

torch's modules draw their initial weights and dropout masks from one global generator,
which ``torch.manual_seed`` re-seeds; npimpl's modules take ``rng=`` (a
``numpy.random.Generator``) and, without one, share this module's generator, which
:func:`manual_seed` re-seeds in place (modules built earlier see the new stream, as in torch).
So a run is reproducible from one seed either way; the two libraries' streams differ, which
is why lockstep copies weights and shares masks instead of re-drawing them.
"""
from __future__ import annotations

import numpy as np

_DEFAULT = np.random.default_rng()


def default_generator() -> np.random.Generator:
    """The generator every module without its own ``rng`` draws from."""
    return _DEFAULT


def manual_seed(seed: int) -> np.random.Generator:
    """Re-seed the default generator in place (``torch.manual_seed``'s counterpart)."""
    _DEFAULT.bit_generator.state = type(_DEFAULT.bit_generator)(seed).state
    return _DEFAULT


def generator(rng: np.random.Generator | None = None) -> np.random.Generator:
    """``rng`` itself, or the default generator when it is None."""
    return _DEFAULT if rng is None else rng
