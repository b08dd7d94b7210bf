"""compare: the lockstep engine, the case catalogue, metrics, report writers, bench and CLI.

The public check API (imported on first use, so ``import compare`` stays cheap and changes
nothing in torch):

* :func:`compare.check` ``(np_module, torch_module, *inputs, **options) -> Verdict``
* :func:`compare.assert_lockstep` — the same, raising ``AssertionError(str(verdict))``
* :class:`compare.Verdict`
"""
__all__ = ["check", "assert_lockstep", "Verdict"]


def __getattr__(name):
    if name in __all__:
        from . import api
        return getattr(api, name)
    raise AttributeError(f"module 'compare' has no attribute {name!r}")
