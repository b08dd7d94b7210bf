"""Test configuration: hypothesis profiles, and one torch thread.

Hypothesis profiles (``tests/test_fuzz.py``):

* ``default`` (CI): few examples per layer, no deadline, derandomized (the same
  examples every run, so CI never flakes); the fuzz file stays under ~10 s.
* ``long``: ``pytest tests/test_fuzz.py --hypothesis-profile=long`` draws
  500 fresh random examples per layer (minutes, not seconds).

torch runs on one thread: the layers here are tiny, and on a shared 2-core machine
torch's thread pool costs far more in synchronisation than it gains (the bad-input
matrix runs 6x faster on one thread).
"""
import torch
from hypothesis import HealthCheck, settings

torch.set_num_threads(1)

settings.register_profile("default", max_examples=12, deadline=None, derandomize=True,
                          suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("long", max_examples=500, deadline=None, derandomize=False,
                          suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("default")


def pytest_collection_finish(session):
    """Remember what this session runs: tests/test_readme.py compares the README's stated
    number of tests with it when the whole suite is collected."""
    session.config.lockstep_collected = [item.nodeid for item in session.items]
