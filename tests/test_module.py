"""The module API of the contract: parameters, buffers, state_dict, modes, zero_grad."""
import numpy as np
import pytest
import torch

import npimpl
from reference import Spec, build, seq


def mlp(dtype=np.float64):
    return npimpl.Sequential(npimpl.Linear(3, 4, dtype=dtype), npimpl.ReLU(),
                             npimpl.Linear(4, 2, bias=False, dtype=dtype))


def test_named_parameters_and_state_dict_keys_match_torch():
    np_mod, t_mod = build(seq(Spec("Linear", 3, 4), Spec("ReLU"), Spec("Linear", 4, 2)),
                          np.float64)
    assert [n for n, _ in np_mod.named_parameters()] == [n for n, _ in t_mod.named_parameters()]
    sd, tsd = np_mod.state_dict(), t_mod.state_dict()
    assert list(sd) == list(tsd)
    for k in sd:
        np.testing.assert_array_equal(sd[k], tsd[k].numpy())


def test_load_state_dict_keeps_the_module_dtype_and_copies_in_place():
    m = mlp(np.float32)
    w = m[0].weight.data
    m.load_state_dict({k: np.ones(v.shape, dtype=np.float64) for k, v in m.state_dict().items()})
    assert m[0].weight.data is w and w.dtype == np.float32 and (w == 1).all()


def test_load_state_dict_rejects_missing_unexpected_and_misshapen():
    m = mlp()
    sd = dict(m.state_dict())
    with pytest.raises(ValueError, match=r"Sequential.*missing keys \['2.weight'\]"):
        m.load_state_dict({k: v for k, v in sd.items() if k != "2.weight"})
    with pytest.raises(ValueError, match="unexpected keys.*'extra'"):
        m.load_state_dict({**sd, "extra": np.zeros(1)})
    bad = {**sd, "0.weight": np.zeros((3, 4))}
    with pytest.raises(ValueError, match=r"0.weight: expected shape \(4, 3\), got \(3, 4\)"):
        m.load_state_dict(bad)
    before = m[0].bias.data.copy()
    with pytest.raises(ValueError):
        m.load_state_dict({**bad, "0.bias": np.full(4, 9.0)})
    np.testing.assert_array_equal(m[0].bias.data, before)  # nothing copied on failure
    m.load_state_dict({k: v for k, v in sd.items() if k != "2.weight"}, strict=False)


def test_train_eval_reach_every_child():
    m = mlp()
    m.eval()
    assert not any(c.training for c in m.modules())
    m.train()
    assert all(c.training for c in m.modules())


def test_backward_accumulates_until_zero_grad():
    m = mlp()
    x = np.random.default_rng(0).standard_normal((5, 3))
    g = np.ones((5, 2))
    m(x)
    m.backward(g)
    first = m[0].weight.grad.copy()
    m(x)
    m.backward(g)
    np.testing.assert_allclose(m[0].weight.grad, 2 * first, rtol=1e-15)
    m.zero_grad()
    assert all(p.grad is None for p in m.parameters())


def test_backward_before_forward_is_a_clear_error():
    with pytest.raises(RuntimeError, match="Linear.backward called before forward"):
        npimpl.Linear(2, 2).backward(np.zeros((1, 2), np.float32))
    with pytest.raises(RuntimeError, match="Sequential.backward called before forward"):
        mlp().backward(np.zeros((1, 2)))


def test_shared_parameter_is_listed_once_and_accumulates_both_uses():
    a, b = npimpl.Linear(3, 3, dtype=np.float64), npimpl.Linear(3, 3, dtype=np.float64)
    b.weight = a.weight
    m = npimpl.Sequential(a, b)
    assert [n for n, _ in m.named_parameters()] == ["0.weight", "0.bias", "1.bias"]
    assert list(m.state_dict()) == ["0.weight", "0.bias", "1.weight", "1.bias"]
    ta = torch.nn.Linear(3, 3, dtype=torch.float64)
    tb = torch.nn.Linear(3, 3, dtype=torch.float64)
    tb.weight = ta.weight
    tm = torch.nn.Sequential(ta, tb)
    m.load_state_dict({k: v.detach().numpy() for k, v in tm.state_dict().items()})
    x = np.random.default_rng(1).standard_normal((4, 3))
    m(x)
    m.backward(np.ones((4, 3)))
    tm(torch.tensor(x)).sum().backward()
    np.testing.assert_allclose(a.weight.grad, ta.weight.grad.numpy(), rtol=1e-12)


def test_sequential_refuses_non_modules_and_indexes_like_torch():
    with pytest.raises(TypeError, match="Sequential: argument 1 must be an npimpl Module"):
        npimpl.Sequential(npimpl.ReLU(), "relu")
    m = mlp()
    assert isinstance(m[-1], npimpl.Linear) and len(m) == 3 and len(m[1:]) == 2


def test_dtype_must_be_a_float_dtype():
    with pytest.raises(TypeError, match="Linear: dtype must be a NumPy float dtype"):
        npimpl.Linear(2, 2, dtype=np.int32)


# --- issue 21 D14: checkpoints as torch loads them --------------------------------------------
def test_a_batchnorm_checkpoint_without_num_batches_tracked_loads_like_torch():
    np_m, t_m = build(Spec("BatchNorm1d", 3), np.float64)
    np_m.num_batches_tracked[...] = 7
    t_m.num_batches_tracked.fill_(7)
    old = {k: v for k, v in t_m.state_dict().items() if k != "num_batches_tracked"}
    old["running_mean"] = torch.full((3,), 0.5, dtype=torch.float64)
    got = np_m.load_state_dict({k: v.numpy() for k, v in old.items()})
    t_got = t_m.load_state_dict(old)
    assert (got.missing_keys, got.unexpected_keys) == (t_got.missing_keys,
                                                        t_got.unexpected_keys) == ([], [])
    np.testing.assert_array_equal(np_m.running_mean, t_m.running_mean.numpy())
    assert int(np_m.num_batches_tracked) == int(t_m.num_batches_tracked) == 7


def test_non_strict_load_returns_torchs_missing_and_unexpected_keys():
    np_m, t_m = build(seq(Spec("Linear", 3, 4), Spec("ReLU"), Spec("Linear", 4, 2)), np.float64)
    sd = {k: v for k, v in t_m.state_dict().items() if k != "2.bias"}
    sd["extra.weight"] = torch.zeros(1, dtype=torch.float64)
    got = np_m.load_state_dict({k: v.numpy() for k, v in sd.items()}, strict=False)
    want = t_m.load_state_dict(sd, strict=False)
    assert got.missing_keys == want.missing_keys == ["2.bias"]
    assert got.unexpected_keys == want.unexpected_keys == ["extra.weight"]
    np.testing.assert_array_equal(np_m[0].weight.data, t_m[0].weight.detach().numpy())
    assert repr(mlp().load_state_dict(mlp().state_dict())) == "<All keys matched successfully>"


@pytest.mark.parametrize("bad,exc", [([("0.weight", np.zeros((4, 3)))], TypeError),
                                     ({0: np.zeros(1)}, ValueError),
                                     ({"0.weight": np.array([["a"] * 3] * 4)}, TypeError)],
                         ids=["not-a-mapping", "int-key", "strings"])
def test_bad_state_dicts_raise_the_contracts_errors(bad, exc):
    m = mlp()
    if isinstance(bad, dict) and "0.weight" in bad:
        bad = {**m.state_dict(), **bad}
    with pytest.raises(exc, match="Sequential.load_state_dict"):
        m.load_state_dict(bad)
