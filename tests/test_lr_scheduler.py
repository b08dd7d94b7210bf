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
    ("ConstantLR", dict(factor=0.5, total_iters=20)),
    ("MultiplicativeLR", dict(lr_lambda=lambda e: 0.97 if e % 2 else 1.01)),
    ("PolynomialLR", dict(total_iters=70, power=2.0)),                 # goes past total_iters
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=7)),
    ("CyclicLR", dict(base_lr=[0.01, 0.02], max_lr=[0.1, 0.5], step_size_up=5,
                      step_size_down=11, mode="triangular2", base_momentum=0.7,
                      max_momentum=[0.9, 0.95])),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=9, mode="exp_range", gamma=0.98)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=6, scale_mode="iterations",
                      scale_fn=lambda x: 1.0 / (1.0 + 0.01 * x), cycle_momentum=False)),
    ("CosineAnnealingWarmRestarts", dict(T_0=7)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=2, eta_min=1e-3)),
]


def _show(v):
    """A test id for a value: functions by name (a repr with an address would differ between
    processes, and pytest-xdist requires every worker to collect the same ids)."""
    if callable(v):
        return "fn"
    if isinstance(v, (list, tuple)):
        return "[" + ",".join(_show(x) for x in v) + "]"
    return str(v)


def sid(name, kw):
    return "-".join([name.lower()] + [f"{k}{_show(v)}" for k, v in kw.items()
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
    pytest.param("ConstantLR", dict(factor=0.5, total_iters=6), id="constantlr"),
    pytest.param("PolynomialLR", dict(total_iters=10, power=0.5), id="polynomiallr"),
    pytest.param("CosineAnnealingWarmRestarts", dict(T_0=4, T_mult=2), id="warmrestarts"),
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


# --- the schedulers of issue 18 that the table above cannot drive ------------------------------
def test_cycliclr_cycles_adams_beta1():
    a, b = sequences("CyclicLR", dict(base_lr=1e-3, max_lr=1e-2, step_size_up=4), opt="Adam")
    np.testing.assert_allclose(a, b, rtol=1e-13, atol=0)
    assert a[:, 2].min() == pytest.approx(0.8) and a[:, 2].max() == pytest.approx(0.9)


def test_warm_restarts_fractional_epochs():
    """step(epoch) with fractional epochs, as inside an epoch's batches (torch's example)."""
    np_opt, t_opt = pair()
    kw = dict(T_0=3, T_mult=2, eta_min=0.01)
    a = L.CosineAnnealingWarmRestarts(np_opt, **kw)
    b = torch.optim.lr_scheduler.CosineAnnealingWarmRestarts(t_opt, **kw)
    for epoch in np.arange(0, 12, 0.35):
        a.step(float(epoch))
        b.step(float(epoch))
        assert a.get_last_lr() == pytest.approx(b.get_last_lr(), rel=1e-14)
        assert (a.T_cur, a.T_i) == pytest.approx((b.T_cur, b.T_i), rel=1e-14)
    with pytest.raises(ValueError, match="non-negative"):
        a.step(-1.0)


PLATEAU = [
    dict(factor=0.5, patience=2),
    dict(mode="max", factor=0.3, patience=1, threshold=0.1, threshold_mode="abs", cooldown=2),
    dict(factor=0.5, patience=0, min_lr=[0.02, 0.05], eps=1e-3),
    dict(factor=0.1, patience=3, threshold=0.0, cooldown=1, min_lr=0.001),
]


@pytest.mark.parametrize("kw", PLATEAU, ids=lambda kw: sid("plateau", kw))
def test_reduce_lr_on_plateau_follows_the_metric_like_torch(kw):
    """A metric that improves, stalls, oscillates and worsens: the same reductions at the
    same steps (lr, cooldown counter, best and bad epochs), and the state_dict resumes."""
    np_opt, t_opt = pair()
    a = L.ReduceLROnPlateau(np_opt, **kw)
    b = torch.optim.lr_scheduler.ReduceLROnPlateau(t_opt, **kw)
    metrics = np.r_[np.linspace(1, 0.5, 6), [0.5] * 5, 0.5 + 0.01 * np.sin(np.arange(12)),
                    np.linspace(0.5, 2, 8), [0.49, 0.48, 0.47]]
    for k, m in enumerate(metrics):
        a.step(float(m))
        b.step(float(m))
        assert hyper(np_opt) == hyper(t_opt), k
        assert (a.best, a.num_bad_epochs, a.cooldown_counter) == \
               (b.best, b.num_bad_epochs, b.cooldown_counter), k
    assert set(a.state_dict()) == set(b.state_dict())
    np_opt2, _ = pair()
    np_opt2.load_state_dict(np_opt.state_dict())
    c = L.ReduceLROnPlateau(np_opt2, **kw)
    c.load_state_dict(a.state_dict())
    a.step(3.0)
    c.step(3.0)
    assert hyper(np_opt2) == hyper(np_opt)


def composite(lib, opt, kind):
    if kind == "sequential":
        parts = [lib.ConstantLR(opt, factor=0.1, total_iters=4), lib.ExponentialLR(opt, 0.9),
                 lib.CosineAnnealingLR(opt, T_max=6)]
        return lib.SequentialLR(opt, parts, milestones=[5, 12])
    return lib.ChainedScheduler([lib.ConstantLR(opt, factor=0.5, total_iters=6),
                                 lib.ExponentialLR(opt, 0.95), lib.StepLR(opt, 4, 0.5)])


@pytest.mark.parametrize("kind", ["sequential", "chained"])
def test_composite_schedulers_match_torch_and_resume(kind):
    np_opt, t_opt = pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        a, b = composite(L, np_opt, kind), composite(torch.optim.lr_scheduler, t_opt, kind)
        seq_a, seq_b = [hyper(np_opt)], [hyper(t_opt)]
        for k in range(25):
            a.step()
            b.step()
            seq_a.append(hyper(np_opt))
            seq_b.append(hyper(t_opt))
            if k == 9:
                saved_opt, saved = np_opt.state_dict(), a.state_dict()
    np.testing.assert_allclose(seq_a, seq_b, rtol=1e-13, atol=0)
    assert a.get_last_lr() == pytest.approx(b.get_last_lr(), rel=1e-13)
    np_opt2, _ = pair()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c = composite(L, np_opt2, kind)
    np_opt2.load_state_dict(saved_opt)
    c.load_state_dict(saved)
    again = [hyper(np_opt2)]
    for _ in range(15):
        c.step()
        again.append(hyper(np_opt2))
    np.testing.assert_allclose(again, seq_a[10:], rtol=1e-13, atol=0)


#: constructor arguments torch refuses (or accepts at the edge): npimpl raises exactly where
#: torch does — torch's ValueError/TypeError as it is, torch's ZeroDivisionError (CyclicLR
#: with no steps per cycle) as a ValueError — its message naming the scheduler
SCHED_LIMITS = [
    ("ConstantLR", dict(factor=1.5)), ("ConstantLR", dict(factor=-0.1)),
    ("ConstantLR", dict(factor=1.0)), ("ConstantLR", dict(factor=0.0)),
    ("MultiplicativeLR", dict(lr_lambda=[lambda e: 1.0])),
    ("MultiplicativeLR", dict(lr_lambda=0.5)),
    ("PolynomialLR", dict(total_iters=0)), ("PolynomialLR", dict(power=-1.0)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, mode="sine")),
    ("CyclicLR", dict(base_lr=[0.01], max_lr=0.1)),
    ("CyclicLR", dict(base_lr=0.01, max_lr=0.1, step_size_up=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=0)), ("CosineAnnealingWarmRestarts", dict(T_0=2.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=0)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, T_mult=1.5)),
    ("CosineAnnealingWarmRestarts", dict(T_0=5, eta_min="0")),
    ("ReduceLROnPlateau", dict(factor=1.0)), ("ReduceLROnPlateau", dict(factor=1.5)),
    ("ReduceLROnPlateau", dict(mode="mean")), ("ReduceLROnPlateau", dict(threshold_mode="x")),
    ("ReduceLROnPlateau", dict(min_lr=[0.1])),
]


@pytest.mark.parametrize("name,kw", [pytest.param(n, k, id=sid(n, k)) for n, k in SCHED_LIMITS])
def test_constructor_refuses_what_torch_refuses(name, kw):
    np_opt, t_opt = pair(momentum=0.9)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            getattr(torch.optim.lr_scheduler, name)(t_opt, **kw)
        refused = None
    except (ValueError, TypeError) as e:
        refused = type(e)
    except ZeroDivisionError:
        refused = ValueError
    if refused is None:
        getattr(L, name)(np_opt, **kw)
    else:
        with pytest.raises(refused, match=name):
            getattr(L, name)(np_opt, **kw)


def test_composite_refusals_match_torch():
    """An empty list, a scheduler of another optimizer, ReduceLROnPlateau inside, and the
    wrong number of milestones: refused on both sides."""
    np_opt, t_opt = pair()
    other_np, other_t = pair()
    cases = [
        lambda lib, o, other: lib.ChainedScheduler([]),
        lambda lib, o, other: lib.SequentialLR(o, [lib.StepLR(o, 2), lib.StepLR(other, 2)],
                                               milestones=[3]),
        lambda lib, o, other: lib.SequentialLR(o, [lib.StepLR(o, 2),
                                                   lib.ReduceLROnPlateau(o)], milestones=[3]),
        lambda lib, o, other: lib.SequentialLR(o, [lib.StepLR(o, 2), lib.StepLR(o, 3)],
                                               milestones=[3, 5]),
    ]
    for k, make in enumerate(cases):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pytest.raises((ValueError, TypeError)) as t_err:
                make(torch.optim.lr_scheduler, t_opt, other_t)
        with pytest.raises(t_err.type):
            make(L, np_opt, other_np)
