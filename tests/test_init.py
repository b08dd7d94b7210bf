"""Default initialisation (compare/init.py): npimpl's own init against torch's, as
distributions. Correct classes pass; each planted init bug is flagged by the row it should be."""
import math

import numpy as np
import pytest
import torch

import npimpl
from compare import init
from reference import Spec
from reference.twins import _build_pair


def _rows(np_cls, spec, seed=0):
    def build_pair():
        _, t_mod = _build_pair(spec, np.float64)
        return np_cls(*spec.args, **spec.kwargs, dtype=np.float64), t_mod
    return {r.quantity: r for r in init.init_rows("t", spec.name, "x", build_pair, seed)}


class SqrtFanInLinear(npimpl.Linear):
    def reset_parameters(self, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        bound = math.sqrt(self.in_features)                 # BUG: 1 / sqrt(fan_in)
        self.weight.data[...] = rng.uniform(-bound, bound, self.weight.shape)
        self.bias.data[...] = rng.uniform(-bound, bound, self.bias.shape)


class FanOutLinear(npimpl.Linear):
    def reset_parameters(self, rng=None):
        rng = rng if rng is not None else np.random.default_rng()
        bound = 1 / math.sqrt(self.out_features)            # BUG: fan from the wrong axis
        self.weight.data[...] = rng.uniform(-bound, bound, self.weight.shape)
        self.bias.data[...] = rng.uniform(-1 / math.sqrt(self.in_features),
                                          1 / math.sqrt(self.in_features), self.bias.shape)


class OneBiasMHA(npimpl.MultiheadAttention):
    def reset_parameters(self, rng=None):
        super().reset_parameters(rng)
        self.in_proj_bias.data[...] = 1.0                  # BUG: torch starts it at 0


class CountFromOneBatchNorm(npimpl.BatchNorm1d):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.num_batches_tracked[...] = 1                  # BUG: torch starts at 0


@pytest.mark.parametrize("spec", [Spec("Linear", 4, 3), Spec("Conv2d", 2, 3, 3),
                                  Spec("LSTM", 3, 4), Spec("MultiheadAttention", 4, 2),
                                  Spec("BatchNorm1d", 3), Spec("Embedding", 10, 3)],
                         ids=lambda s: s.name)
def test_npimpl_defaults_match_torch(spec):
    rows = _rows(getattr(npimpl, spec.name), spec)
    assert rows and all(r.passed for r in rows.values()), \
        [(q, r.note) for q, r in rows.items() if not r.passed]


@pytest.mark.parametrize("cls,spec,quantity", [
    (SqrtFanInLinear, Spec("Linear", 4, 3), "init.param.weight"),
    (FanOutLinear, Spec("Linear", 4, 3), "init.param.weight"),
    (OneBiasMHA, Spec("MultiheadAttention", 4, 2), "init.param.in_proj_bias"),
    (CountFromOneBatchNorm, Spec("BatchNorm1d", 3), "init.buffer.num_batches_tracked"),
], ids=["sqrt-fan-in", "fan-out-axis", "mha-bias-one", "batches-tracked-from-1"])
def test_planted_init_bugs_are_flagged(cls, spec, quantity):
    rows = _rows(cls, spec)
    failing = {q for q, r in rows.items() if not r.passed}
    assert failing == {quantity} | ({"init.param.bias"} if cls is SqrtFanInLinear else set())


def test_same_seed_same_rows_and_npimpl_state_restored():
    real = np.random.default_rng
    a = _rows(npimpl.Linear, Spec("Linear", 4, 3), seed=3)
    b = _rows(npimpl.Linear, Spec("Linear", 4, 3), seed=3)
    assert np.random.default_rng is real
    assert {q: r.max_abs for q, r in a.items()} == {q: r.max_abs for q, r in b.items()}


def test_critical_value_is_the_ks_asymptotic_bound():
    # the statistic of two samples from one distribution stays under it; of a scaled copy not
    rng = np.random.default_rng(0)
    x, y = rng.uniform(-1, 1, 5000), rng.uniform(-1, 1, 5000)
    _, ratio, ok, _ = init.compare_values(x, y, "parameter")
    assert ok and ratio < 1
    _, ratio, ok, _ = init.compare_values(1.25 * x, y, "parameter")
    assert not ok


def test_catalogue_rows_cover_every_class_with_parameters():
    rows = init.catalogue_init_rows(names={"Linear", "LayerNorm", "ReLU"})
    assert {r.layer for r in rows} == {"Linear", "LayerNorm"}     # ReLU has nothing to init
    assert all(r.passed for r in rows)
    assert torch.get_num_threads() >= 1
