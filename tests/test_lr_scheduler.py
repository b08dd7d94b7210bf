"""npimpl.optim.lr_scheduler against torch.optim.lr_scheduler: lr sequences (two param
groups with different lrs), momentum cycling, closed-form stepping, resuming, errors."""
import warnings

import numpy as np
import pytest
import torch

import npimpl
from npimpl import Parameter
from npimpl.optim import SGD, Adam
from npimpl.optim import lr_scheduler as L

STEPS = 120

SCHEDULES = [
    ("StepLR", dict(step_size=7, gamma=0.5)),
    ("MultiStepLR", dict(milestones=[5, 30, 30, 80], gamma=0.3)),  # a repeated milestone
    ("ExponentialLR", dict(gamma=0.97)),
    ("CosineAnnealingLR", dict(T_max=17, eta_min=1e-3)),           # goes past T_max, climbs back
    ("CosineAnnealingLR", dict(T_max=40)),
    ("LinearLR", dict()),
    ("LinearLR", dict(start_factor=0.2, end_factor=0.9, total_iters=50)),
    ("LambdaLR", dict(lr_lambda=lambda e: 0.95 ** e + 0.01 * (e % 3))),
    ("OneCycleLR", dict(max_lr=[0.5, 0.2], total_steps=STEPS)),
    ("OneCycleLR", dict(max_lr=0.5, total_steps=STEPS, three_phase=True, pct_start=0.25,
                        anneal_strategy="linear", base_momentum=0.7, max_momentum=0.9)),
    ("OneCycleLR", dict(max_lr=0.5, epochs=4, steps_per_epoch=STEPS // 4, cycle_momentum=False)),
]


def sid(name, kw):
    return "-".join([name.lower()] + [f"{k}{v}" for k, v in kw.items()
                                      if not callable(v)]).replace(" ", "")


def pair(opt="SGD", **okw):
    """The same two-group optimizer on both sides (lr 0.1 and 0.3)."""
    np_ps = [Parameter(np.zeros(2)), Parameter(np.zeros(1))]
    t_ps = [torch.nn.Parameter(torch.zeros(2, dtype=torch.float64)),
            torch.nn.Parameter(torch.zeros(1, dtype=torch.float64))]
    mk = lambda mod, ps: getattr(mod, opt)([{"params": [ps[0]]}, {"params": [ps[1]], "lr": 0.3}],
                                           lr=0.1, **okw)
    return mk(npimpl.optim, np_ps), mk(torch.optim, t_ps)


def hyper(opt):
    """lr, momentum and beta1 of every group."""
    out = []
    for g in opt.param_groups:
        out += [g["lr"], g.get("momentum", 0.0), g["betas"][0] if "betas" in g else 0.0]
    return out


def sequences(name, kw, opt="SGD", steps=STEPS, **okw):
    np_opt, t_opt = pair(opt, **okw)
    a = getattr(L, name)(np_opt, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when optimizer.step was never called
        b = getattr(torch.optim.lr_scheduler, name)(t_opt, **kw)
        seq_a, seq_b = [hyper(np_opt)], [hyper(t_opt)]
        for _ in range(steps):
            a.step()
            b.step()
            seq_a.append(hyper(np_opt))
            seq_b.append(hyper(t_opt))
    assert a.get_last_lr() == b.get_last_lr()
    return np.array(seq_a), np.array(seq_b)


@pytest.mark.parametrize("name,kw", [pytest.param(n, k, id=sid(n, k)) for n, k in SCHEDULES])
def test_lr_sequence_matches_torch(name, kw):
    a, b = sequences(name, kw, momentum=0.9)
    # float64 Python arithmetic in torch's recursive order: equal to rounding
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)


def test_onecycle_cycles_adams_beta1():
    a, b = sequences("OneCycleLR", dict(max_lr=0.05, total_steps=STEPS), opt="Adam")
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)
    assert a[:, 2].min() == pytest.approx(0.85) and a[0, 2] == pytest.approx(0.95)


def test_recursive_form_keeps_an_lr_changed_by_hand():
    """torch's chainable schedules scale the *current* lr; the closed form would undo this."""
    np_opt, t_opt = pair()
    a, b = L.ExponentialLR(np_opt, 0.9), torch.optim.lr_scheduler.ExponentialLR(t_opt, 0.9)
    for k in range(6):
        if k == 3:
            np_opt.param_groups[0]["lr"] = t_opt.param_groups[0]["lr"] = 1.0
        a.step()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            b.step()
    assert np_opt.param_groups[0]["lr"] == pytest.approx(0.9 ** 3)
    assert hyper(np_opt) == pytest.approx(hyper(t_opt), rel=1e-15)


@pytest.mark.parametrize("name,kw", [
    pytest.param("StepLR", dict(step_size=4, gamma=0.5), id="steplr"),
    pytest.param("MultiStepLR", dict(milestones=[3, 8], gamma=0.1), id="multisteplr"),
    pytest.param("ExponentialLR", dict(gamma=0.9), id="exponentiallr"),
    pytest.param("CosineAnnealingLR", dict(T_max=10, eta_min=0.01), id="cosine"),
    pytest.param("LinearLR", dict(start_factor=0.25, total_iters=6), id="linearlr"),
])
def test_step_with_epoch_uses_torchs_closed_form(name, kw):
    np_opt, t_opt = pair()
    a, b = getattr(L, name)(np_opt, **kw), getattr(torch.optim.lr_scheduler, name)(t_opt, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for epoch in (5, 2, 9, 13):
            a.step(epoch)
            b.step(epoch)
            assert a.get_last_lr() == pytest.approx(b.get_last_lr(), rel=1e-14)


@pytest.mark.parametrize("name,kw", [pytest.param(n, k, id=sid(n, k)) for n, k in SCHEDULES])
def test_state_dict_resumes_the_schedule(name, kw):
    np_opt, _ = pair(momentum=0.9)
    s = getattr(L, name)(np_opt, **kw)
    for _ in range(30):
        s.step()
    saved_opt, saved = np_opt.state_dict(), s.state_dict()
    rest = []
    for _ in range(40):
        s.step()
        rest.append(hyper(np_opt))
    np_opt2, _ = pair(momentum=0.9)
    s2 = getattr(L, name)(np_opt2, **kw)  # build the scheduler first, then load (torch's order)
    np_opt2.load_state_dict(saved_opt)
    s2.load_state_dict(saved)
    again = []
    for _ in range(40):
        s2.step()
        again.append(hyper(np_opt2))
    assert again == rest


def test_state_dict_keys_and_lambda_handling():
    np_opt, t_opt = pair()
    a = L.StepLR(np_opt, 3)
    b = torch.optim.lr_scheduler.StepLR(t_opt, 3)
    ours = set(a.state_dict())
    assert {"step_size", "gamma", "base_lrs", "last_epoch", "_step_count", "_last_lr"} <= ours
    assert ours <= set(b.state_dict())
    lam = L.LambdaLR(np_opt, lambda e: 1.0)
    assert lam.state_dict()["lr_lambdas"] == [None, None]  # functions are not saved, as torch


def test_initial_lr_and_base_lrs():
    np_opt, _ = pair()
    s = L.LinearLR(np_opt, start_factor=0.5, total_iters=4)
    assert [g["initial_lr"] for g in np_opt.param_groups] == [0.1, 0.3]
    assert s.base_lrs == [0.1, 0.3]
    assert s.get_last_lr() == [0.05, 0.15]  # the constructor already stepped to epoch 0
    assert s.last_epoch == 0


def test_errors():
    np_opt, _ = pair()
    with pytest.raises(TypeError, match="Optimizer"):
        L.StepLR(object(), 3)
    with pytest.raises(KeyError, match="initial_lr"):
        L.StepLR(np_opt, 3, last_epoch=5)
    with pytest.raises(ValueError, match="start_factor"):
        L.LinearLR(np_opt, start_factor=0.0)
    with pytest.raises(ValueError, match="end_factor"):
        L.LinearLR(np_opt, end_factor=1.5)
    with pytest.raises(ValueError, match="lr_lambdas"):
        L.LambdaLR(np_opt, [lambda e: 1.0])
    with pytest.raises(ValueError, match="total_steps"):
        L.OneCycleLR(np_opt, 0.1)
    with pytest.raises(ValueError, match="anneal_strategy"):
        L.OneCycleLR(np_opt, 0.1, total_steps=10, anneal_strategy="exp")
    with pytest.raises(ValueError, match="pct_start"):
        L.OneCycleLR(np_opt, 0.1, total_steps=10, pct_start=1.5)
    with pytest.raises(ValueError, match="max_lr"):
        L.OneCycleLR(np_opt, [0.1], total_steps=10)
    p = Parameter(np.zeros(1))
    with pytest.raises(ValueError, match="momentum"):
        L.OneCycleLR(npimpl.optim.Adagrad([p]), 0.1, total_steps=10)
    s = L.OneCycleLR(SGD([p], lr=0.1, momentum=0.9), 0.1, total_steps=3)
    for _ in range(3):
        s.step()
    with pytest.raises(ValueError, match="total steps"):
        s.step()


def test_schedulers_drive_real_training_like_torch():
    """The lr a scheduler writes is the one the next step uses (Adam, two groups)."""
    np_opt, t_opt = pair("Adam")
    a = L.CosineAnnealingLR(np_opt, T_max=10)
    b = torch.optim.lr_scheduler.CosineAnnealingLR(t_opt, T_max=10)
    rng = np.random.default_rng(0)
    np_ps = [p for g in np_opt.param_groups for p in g["params"]]
    t_ps = [p for g in t_opt.param_groups for p in g["params"]]
    for _ in range(15):
        for p, t in zip(np_ps, t_ps):
            g = rng.standard_normal(p.data.shape)
            p.grad, t.grad = g.copy(), torch.from_numpy(g.copy())
        np_opt.step()
        t_opt.step()
        a.step()
        b.step()
    assert isinstance(np_opt, Adam)
    for p, t in zip(np_ps, t_ps):
        np.testing.assert_allclose(p.data, t.detach().numpy(), rtol=1e-12, atol=1e-14)
