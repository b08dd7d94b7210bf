"""The checker's self-tests that measure it: ``lockstep mutate``, systematic first-order
mutation of npimpl (:mod:`.mutagen` generates the mutants, :mod:`.patching` applies one,
:mod:`.units` runs what ``lockstep report`` runs against it, :mod:`.mutate` drives a run,
:mod:`.mutation_report` writes ``reports/mutation.md`` and ``mutation.csv``).

The hand-picked gallery (:mod:`compare.mutants`) shows 21 bugs someone thought of; this
measures what the catalogue misses among every small change the generator can make.
"""
