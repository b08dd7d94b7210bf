"""Every npimpl optimizer on PyTorch's own optimizer test inputs.

``torch.testing._internal.common_optimizers.optim_db`` lists, per optimizer, the constructor
arguments torch's test suite runs (``optim_inputs_func(device='cpu')``). Each one drives
npimpl's optimizer and torch's for 30 steps in float64 from the same parameters and
gradients; parameters and state must agree to the contract's float64 tolerance. Flags that
only choose torch's implementation (foreach, fused, capturable, differentiable) are dropped
and listed; a tensor ``lr`` becomes a 0-d array of its dtype.
"""
from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.testing._internal.common_optimizers import optim_db

import npimpl
from npimpl import Parameter
from npimpl.sparse import SparseGrad

#: choose torch's kernel, not the maths: dropped from the inputs (and counted)
TORCH_ONLY = ("foreach", "fused", "capturable", "differentiable")
STEPS = 30
RTOL, ATOL = 1e-10, 1e-12


def to_numpy_kwargs(kwargs: dict) -> tuple[dict, dict, list]:
    """(torch's kwargs, npimpl's kwargs, dropped flag names): torch-only flags removed from
    both; a tensor becomes a NumPy array of its dtype (shape kept) on the npimpl side."""
    dropped = sorted(k for k in kwargs if k in TORCH_ONLY)
    t_kw = {k: v for k, v in kwargs.items() if k not in TORCH_ONLY}
    n_kw = {k: (v.detach().numpy().copy() if isinstance(v, torch.Tensor) else
                tuple(x.detach().numpy().copy() if isinstance(x, torch.Tensor) else x for x in v)
                if isinstance(v, tuple) else v) for k, v in t_kw.items()}
    return t_kw, n_kw, dropped


def optim_db_inputs() -> list[tuple[str, dict, dict, str, list]]:
    """``(name, torch kwargs, npimpl kwargs, torch's description, dropped flags)`` for every
    CPU input of every optimizer in optim_db that npimpl has."""
    out = []
    for info in optim_db:
        name = info.optim_cls.__name__
        if not hasattr(npimpl.optim, name):
            continue
        for inp in info.optim_inputs_func(device="cpu"):
            if inp.params is not None:         # none today; a test would need them built
                raise NotImplementedError(f"{name}: optim_db input with its own params")
            t_kw, n_kw, dropped = to_numpy_kwargs(inp.kwargs)
            out.append((name, t_kw, n_kw, inp.desc, dropped))
    return out


def optim_db_counts() -> dict:
    """What the README states: optimizers and inputs run, and the torch-only flags dropped."""
    inputs = optim_db_inputs()
    dropped: dict[str, int] = {}
    for *_, flags in inputs:
        for f in flags:
            dropped[f] = dropped.get(f, 0) + 1
    return dict(optimizers=len({name for name, *_ in inputs}), inputs=len(inputs),
                dropped=dropped)


# --- the problems each optimizer is run on -------------------------------------------------
def _dense_problem(shapes):
    """Parameters of ``shapes`` on both sides and gradients ``noise + 0.3 p`` per step."""
    rng = np.random.default_rng(0)
    init = [rng.standard_normal(s) for s in shapes]
    nps = [Parameter(a.copy()) for a in init]
    ts = [torch.nn.Parameter(torch.from_numpy(a.copy())) for a in init]

    def set_grads(step):
        r = np.random.default_rng(100 + step)
        for n, t in zip(nps, ts):
            g = r.standard_normal(n.data.shape) + 0.3 * n.data
            n.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
    return nps, ts, set_grads


def _sparse_problem():
    """A (6, 3) embedding table; each step a sparse gradient of 5 rows, duplicates included."""
    init = np.random.default_rng(0).standard_normal((6, 3))
    nps, ts = [Parameter(init.copy())], [torch.nn.Parameter(torch.from_numpy(init.copy()))]

    def set_grads(step):
        r = np.random.default_rng(100 + step)
        rows, values = r.integers(0, 6, 5), r.standard_normal((5, 3)) + 0.3 * nps[0].data[
            r.integers(0, 6, 5)]
        nps[0].grad = SparseGrad(rows, values, (6, 3))
        ts[0].grad = torch.sparse_coo_tensor(torch.from_numpy(rows)[None], torch.from_numpy(
            values), (6, 3))
    return nps, ts, set_grads


#: the smooth objective LBFGS minimises: sum c p^2 / 2 + d p + p^4 / 20 per parameter
_C = [np.random.default_rng(1).uniform(0.5, 2.0, s) for s in ((4, 3), (3,))]
_D = [np.random.default_rng(2).standard_normal(s) for s in ((4, 3), (3,))]


def _lbfgs_closures(nps, ts):
    def np_closure():
        loss = 0.0
        for p, c, d in zip(nps, _C, _D):
            loss += float(np.sum(0.5 * c * p.data ** 2 + d * p.data + 0.05 * p.data ** 4))
            p.grad = c * p.data + d + 0.2 * p.data ** 3
        return loss

    def t_closure():                     # the same formulas in torch (no autograd: faster)
        loss = 0.0
        with torch.no_grad():
            for p, c, d in zip(ts, map(torch.from_numpy, _C), map(torch.from_numpy, _D)):
                loss += float(torch.sum(0.5 * c * p ** 2 + d * p + 0.05 * p ** 4))
                p.grad = c * p + d + 0.2 * p ** 3
        return loss
    return np_closure, t_closure


def _run(name, t_kw, n_kw):
    if name == "SparseAdam":
        nps, ts, set_grads = _sparse_problem()
    else:
        nps, ts, set_grads = _dense_problem([(4, 3), (3, 5)] if name == "Muon" else
                                            [(4, 3), (3,)])
    np_opt = getattr(npimpl.optim, name)(nps, **n_kw)
    t_opt = getattr(torch.optim, name)(ts, **t_kw)
    closures = _lbfgs_closures(nps, ts) if name == "LBFGS" else None
    for step in range(STEPS):
        if closures:
            np_opt.step(closures[0])
            t_opt.step(closures[1])
        else:
            set_grads(step)
            np_opt.step()
            t_opt.step()
    return nps, ts, np_opt, t_opt


def _leaves(obj, path=""):
    """(path, array) for every tensor/array in an optimizer state (LBFGS keeps lists)."""
    if isinstance(obj, (list, tuple)):
        return [x for i, o in enumerate(obj) for x in _leaves(o, f"{path}[{i}]")]
    if isinstance(obj, torch.Tensor):
        return [(path, obj.detach().numpy())]
    if isinstance(obj, (np.ndarray, np.generic, float, int)) and not isinstance(obj, bool):
        return [(path, np.asarray(obj))]
    return []


INPUTS = optim_db_inputs()


@pytest.mark.parametrize("name,t_kw,n_kw,desc,dropped", [
    pytest.param(*inp, id=f"{inp[0]}-{inp[3].replace(' ', '_')}") for inp in INPUTS])
def test_optim_db_input_matches_torch_for_30_steps_float64(name, t_kw, n_kw, desc, dropped):
    nps, ts, np_opt, t_opt = _run(name, t_kw, n_kw)
    for i, (n, t) in enumerate(zip(nps, ts)):
        np.testing.assert_allclose(n.data, t.detach().numpy(), rtol=RTOL, atol=ATOL,
                                   err_msg=f"parameter {i}")
        t_state, n_state = t_opt.state.get(t, {}), np_opt.state.get(n, {})
        assert sorted(n_state) == sorted(t_state), f"state keys of parameter {i}"
        for key, tv in t_state.items():
            t_leaves, n_leaves = _leaves(tv, key), _leaves(n_state[key], key)
            assert [p for p, _ in n_leaves] == [p for p, _ in t_leaves], key
            for (path, a), (_, b) in zip(n_leaves, t_leaves):
                np.testing.assert_allclose(a, b, rtol=RTOL, atol=ATOL, err_msg=path)


def test_optim_db_covers_every_npimpl_optimizer():
    """Every optimizer npimpl has is in optim_db (none is skipped for lack of inputs)."""
    ours = {n for n in npimpl.optim.__all__
            if isinstance(getattr(npimpl.optim, n), type)
            and issubclass(getattr(npimpl.optim, n), npimpl.optim.Optimizer)
            and n != "Optimizer"}
    counts = optim_db_counts()
    assert {name for name, *_ in INPUTS} == ours
    assert counts["optimizers"] == len(ours) and counts["inputs"] == len(INPUTS)


def test_torch_only_flags_are_dropped_not_kept():
    t_kw, n_kw, dropped = to_numpy_kwargs(dict(lr=torch.tensor(0.01), foreach=True,
                                               capturable=False, maximize=True))
    assert dropped == ["capturable", "foreach"]
    assert set(t_kw) == set(n_kw) == {"lr", "maximize"}
    assert isinstance(n_kw["lr"], np.ndarray) and n_kw["lr"].dtype == np.float32


def test_readme_states_these_counts():
    """The README's optim_db sentence comes from :func:`optim_db_counts`, not by hand."""
    import os
    import re
    readme = " ".join(open(os.path.join(os.path.dirname(__file__), "..", "README.md"),
                           encoding="utf-8").read().split())
    m = re.search(r"(\d+) inputs of (\d+) optimizers, all agree", readme)
    assert m, "README: the optim_db sentence is missing"
    c = optim_db_counts()
    assert (int(m.group(1)), int(m.group(2))) == (c["inputs"], c["optimizers"])
    assert ("None of these inputs sets a torch-only flag" in readme) == (not c["dropped"])
