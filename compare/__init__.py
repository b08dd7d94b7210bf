"""compare: the lockstep engine, the case catalogue, metrics, report writers, bench and CLI."""
