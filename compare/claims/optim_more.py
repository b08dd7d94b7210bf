"""Claims about the optimizers, schedulers and averaging of issue 18 (each "What torch hides"
sentence that a number can check), measured on torch and on npimpl."""
from __future__ import annotations

import math
import warnings

import numpy as np
import torch

import npimpl
import npimpl.optim as nopt
from npimpl.optim import swa_utils as S
from npimpl.optim._bfloat16 import ONEDNN_MIN_SIZE, matmul_bf16

from . import Measured, claim
from .optim import _np_param, _param

L, TL = nopt.lr_scheduler, torch.optim.lr_scheduler


def _first_step(torch_cls, np_cls, grad: float, **kw) -> tuple[float, float]:
    """(torch's, npimpl's) first update of a one-element parameter at 1 with ``grad``."""
    p, q = _param(1.0, grad), _np_param(1.0, grad)
    torch_cls([p], **kw).step()
    np_cls([q], **kw).step()
    return 1.0 - p.item(), 1.0 - float(q.data[0])


@claim("Adadelta", "for |g| well above sqrt(eps / (1 - rho)) ≈ 3e-3 the first update is about "
                   "sqrt(eps / (1 - rho)) · sign(g) whatever the gradient's scale, below it "
                   "about g: eps acts as the initial learning rate")
def adadelta_first_step():
    steps = {g: _first_step(torch.optim.Adadelta, nopt.Adadelta, g) for g in (1e-4, 1.0, 1e3)}
    knee = math.sqrt(1e-6 / 0.1)
    (small, _), (one, _), (big, _) = steps.values()
    return Measured("first update for g = 1e-4, 1, 1e3: "
                    + ", ".join(f"{t:.4g} (npimpl {n:.4g})" for t, n in steps.values())
                    + f"; sqrt(eps / (1 - rho)) = {knee:.4g}",
                    abs(small - 1e-4) < 0.01 * 1e-4 and abs(one - knee) < 0.01 * knee
                    and abs(big - knee) < 1e-6 * knee and all(t == n for t, n in steps.values()))


@claim("ASGD", "eta is a float32 tensor read back with .item(): a float64 model steps with "
               "lr = 0.1 rounded to float32, 0.10000000149011612")
def asgd_float32_eta():
    t, n = _first_step(torch.optim.ASGD, nopt.ASGD, 1.0, lr=0.1, lambd=0.0)
    return Measured(f"gradient 1, lambd 0: first update {t!r} (npimpl {n!r})",
                    t == n == float(np.float32(0.1)) == 0.10000000149011612)


@claim("RAdam", "with beta2 = 0.999 the first five steps are plain momentum SGD (lr · m_hat); "
                "the rectified adaptive step starts at t = 6")
def radam_first_five():
    p, q = _param(1.0, 0.5), _np_param(1.0, 0.5)
    topt, nopt_ = torch.optim.RAdam([p], lr=0.1, betas=(0.0, 0.999)), \
        nopt.RAdam([q], lr=0.1, betas=(0.0, 0.999))
    moves = []
    for _ in range(6):
        before = p.item()
        topt.step()
        nopt_.step()
        moves.append(before - p.item())
    return Measured(f"beta1 0, g 0.5, lr 0.1: steps {[round(m, 6) for m in moves]} (npimpl "
                    f"ends at {float(q.data[0])!r}, torch {p.item()!r})",
                    all(abs(m - 0.05) < 1e-15 for m in moves[:5]) and abs(moves[5] - 0.05) > 1e-3
                    and float(q.data[0]) == p.item())


@claim("Rprop", "only the gradient's sign is used, and lr is read once, at the first step: a "
                "scheduler that changes lr later has no effect")
def rprop_sign_and_lr_once():
    out = []
    for scale in (1.0, 1000.0):
        p = _param(1.0, 1.0 * scale)
        opt = torch.optim.Rprop([p], lr=0.01)
        opt.step()
        opt.param_groups[0]["lr"] = 5.0
        p.grad = torch.tensor([2.0 * scale], dtype=torch.float64)
        opt.step()
        out.append(p.item())
    q = _np_param(1.0, 1.0)
    o = nopt.Rprop([q], lr=0.01)
    o.step()
    o.param_groups[0]["lr"] = 5.0
    q.grad = np.array([2.0])
    o.step()
    return Measured(f"two steps, lr set to 5 after the first: p = {out[0]!r} (gradients x1000: "
                    f"{out[1]!r}; npimpl {float(q.data[0])!r}) = 1 - 0.01 - 0.012",
                    out[0] == out[1] == float(q.data[0]) and abs(out[0] - 0.978) < 1e-15)


@claim("Adafactor", "the step is relative to the parameter's RMS, floored at eps2 = 1e-3: a "
                    "zero-initialised bias moves by at most 1e-3 · rho_t on its first step")
def adafactor_zero_bias():
    p = torch.nn.Parameter(torch.zeros(4, dtype=torch.float64))
    p.grad = torch.tensor([1.0, -2.0, 1e3, -1e-3], dtype=torch.float64)
    torch.optim.Adafactor([p]).step()
    q = npimpl.Parameter(np.zeros(4))
    q.grad = p.grad.numpy().copy()
    nopt.Adafactor([q]).step()
    moved = np.abs(p.detach().numpy()).max()
    return Measured(f"zero bias, gradients from 1e-3 to 1e3, lr 1e-2: largest move {moved:.3g} "
                    f"(1e-3 · min(lr, 1/sqrt(1)) = 1e-5; npimpl "
                    f"{np.abs(q.data).max():.3g})",
                    moved <= 1e-5 * (1 + 1e-12) and np.array_equal(q.data, p.detach().numpy()))


@claim("Muon", "the orthogonalisation runs in bfloat16 on ATen's gemm below m·k·n = 4096 and "
               "oneDNN's above, and npimpl reproduces both kernels bit for bit")
def muon_bf16_kernels():
    from torch.optim._muon import _zeropower_via_newtonschulz
    from npimpl.optim._bfloat16 import newton_schulz
    from npimpl.optim.muon import NS_COEFFICIENTS
    rng = np.random.default_rng(0)
    counts = {}
    for shape in ((16, 8), (8, 16), (40, 24)):
        path = "oneDNN" if min(shape) ** 2 * max(shape) > ONEDNN_MIN_SIZE else "ATen"
        same = 0
        for _ in range(10):
            g = rng.standard_normal(shape)
            t = _zeropower_via_newtonschulz(torch.from_numpy(g), NS_COEFFICIENTS, 5, 1e-7)
            same += np.array_equal(newton_schulz(g, NS_COEFFICIENTS, 5, 1e-7), t.float().numpy())
        counts[f"{shape[0]}x{shape[1]} ({path})"] = same
    x = torch.randn(16, 16).bfloat16()
    calls = (np.array_equal(matmul_bf16(x.float().numpy(), x.float().numpy()),
                            (x @ x).float().numpy()))
    return Measured("bit-identical orthogonalisations out of 10: "
                    + ", ".join(f"{k} {v}" for k, v in counts.items())
                    + f"; a 16x16x16 product {'equal' if calls else 'differs'}",
                    all(v == 10 for v in counts.values()) and calls)


@claim("Muon", "weight_decay defaults to 0.1, not 0, and there is no step counter in the state")
def muon_defaults():
    p = torch.nn.Parameter(torch.ones(2, 3, dtype=torch.float64))
    p.grad = torch.ones(2, 3, dtype=torch.float64)
    opt = torch.optim.Muon([p])
    opt.step()
    q = npimpl.Parameter(np.ones((2, 3)))
    q.grad = np.ones((2, 3))
    n = nopt.Muon([q])
    n.step()
    return Measured(f"defaults weight_decay {opt.defaults['weight_decay']} (npimpl "
                    f"{n.defaults['weight_decay']}); state keys {sorted(opt.state[p])} (npimpl "
                    f"{sorted(n.state[q])})",
                    opt.defaults["weight_decay"] == n.defaults["weight_decay"] == 0.1
                    and sorted(opt.state[p]) == sorted(n.state[q]) == ["momentum_buffer"])


def _rosenbrock_calls(lib, line_search):
    if lib is torch:
        p = torch.nn.Parameter(torch.tensor([-1.5, 2.0], dtype=torch.float64))
        opt = torch.optim.LBFGS([p], line_search_fn=line_search)
    else:
        p = npimpl.Parameter(np.array([-1.5, 2.0]))
        opt = nopt.LBFGS([p], line_search_fn=line_search)
    calls = [0]

    def closure():
        calls[0] += 1
        x = p.detach().numpy() if lib is torch else p.data
        grad = np.array([-2 * (1 - x[0]) - 400 * x[0] * (x[1] - x[0] ** 2),
                         200 * (x[1] - x[0] ** 2)])
        if lib is torch:
            p.grad = torch.from_numpy(grad)
        else:
            p.grad = grad
        return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
    opt.step(closure)
    return calls[0]


@claim("LBFGS", "one step() is up to 20 iterations and 25 closure calls, not one update")
def lbfgs_calls_per_step():
    c = {(lib.__name__, ls): _rosenbrock_calls(lib, ls) for lib in (torch, npimpl)
         for ls in (None, "strong_wolfe")}
    return Measured(f"closure calls in one step on Rosenbrock: {c[('torch', None)]} without a "
                    f"line search, {c[('torch', 'strong_wolfe')]} with strong_wolfe (npimpl "
                    f"{c[('npimpl', None)]}, {c[('npimpl', 'strong_wolfe')]})",
                    c[("torch", None)] == c[("npimpl", None)] == 20
                    and c[("torch", "strong_wolfe")] == c[("npimpl", "strong_wolfe")] == 25)


@claim("SparseAdam", "a row absent from the batch keeps its moments frozen instead of decaying "
                     "them, and step is a plain int")
def sparseadam_frozen_rows():
    t = torch.nn.Embedding(4, 2, sparse=True, dtype=torch.float64)
    opt = torch.optim.SparseAdam(t.parameters())
    for rows in ([0, 1], [1]):
        opt.zero_grad()
        t(torch.tensor(rows)).sum().backward()
        opt.step()
    st = opt.state[t.weight]
    n = npimpl.Embedding(4, 2, sparse=True, dtype=np.float64)
    n_opt = nopt.SparseAdam(n.parameters())
    for rows in ([0, 1], [1]):
        n_opt.zero_grad()
        n(np.array(rows))
        n.backward(np.ones((len(rows), 2)))
        n_opt.step()
    ns = n_opt.state[n.weight]
    return Measured(f"row 0 seen at step 1 only: exp_avg {st['exp_avg'][0].tolist()} after "
                    f"step 2 (npimpl {ns['exp_avg'][0].tolist()}); step {st['step']!r}",
                    st["exp_avg"][0].tolist() == [(1 - 0.9) * 1.0] * 2 == ns["exp_avg"][0].tolist()
                    and type(st["step"]) is int and type(ns["step"]) is int)


def _lrs(lib, make, steps, opt_kw=None):
    opt = (torch.optim.SGD([_param()], lr=1.0, **(opt_kw or {})) if lib is TL
           else nopt.SGD([_np_param()], lr=1.0, **(opt_kw or {})))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        s = make(lib, opt)
        out = [opt.param_groups[0]["lr"]]
        for _ in range(steps):
            s.step()
            out.append(opt.param_groups[0]["lr"])
    return out


@claim("PolynomialLR", "the recursive form reaches exactly 0 at t = total_iters and stays there")
def polynomial_exact_zero():
    a = _lrs(TL, lambda lib, o: lib.PolynomialLR(o, total_iters=4, power=1.5), 7)
    b = _lrs(L, lambda lib, o: lib.PolynomialLR(o, total_iters=4, power=1.5), 7)
    return Measured(f"lr per step: {[round(v, 6) for v in a]} (npimpl equal: {a == b})",
                    a[4:] == [0.0] * 4 and a == b)


@claim("MultiplicativeLR", "the factor multiplies the current lr (a constant 0.95 is "
                           "exponential decay), and none is applied at construction")
def multiplicative_is_recursive():
    a = _lrs(TL, lambda lib, o: lib.MultiplicativeLR(o, lambda e: 0.95), 3)
    b = _lrs(L, lambda lib, o: lib.MultiplicativeLR(o, lambda e: 0.95), 3)
    return Measured(f"lr per step: {a} (npimpl {b})",
                    a == b and a[0] == 1.0 and abs(a[3] - 0.95 ** 3) < 1e-15)


@claim("ConstantLR", "factor = 0 is accepted at construction and divides by zero at "
                     "total_iters")
def constantlr_zero_factor():
    errors = []
    for lib in (TL, L):
        try:
            _lrs(lib, lambda lib_, o: lib_.ConstantLR(o, factor=0.0, total_iters=2), 3)
            errors.append("none")
        except ZeroDivisionError as e:
            errors.append(f"ZeroDivisionError ({e})")
    return Measured(f"torch: {errors[0]}; npimpl: {errors[1]}",
                    all(e.startswith("ZeroDivisionError") for e in errors))


@claim("CyclicLR", "the constructor overwrites every group's lr with base_lr and its momentum "
                   "with max_momentum")
def cyclic_overwrites():
    vals = []
    for lib in (TL, L):
        opt = (torch.optim.SGD([_param()], lr=5.0, momentum=0.1) if lib is TL
               else nopt.SGD([_np_param()], lr=5.0, momentum=0.1))
        lib.CyclicLR(opt, base_lr=0.01, max_lr=0.1, max_momentum=0.95)
        vals.append((opt.param_groups[0]["lr"], opt.param_groups[0]["momentum"]))
    return Measured(f"lr 5, momentum 0.1 before; after: {vals[0]} (npimpl {vals[1]})",
                    vals[0] == vals[1] == (0.01, 0.95))


@claim("ReduceLROnPlateau", "the constructor takes no step and stores no initial_lr; the first "
                            "metric is always an improvement")
def plateau_no_initial_lr():
    out = []
    for lib in (TL, L):
        opt = (torch.optim.SGD([_param()], lr=0.5) if lib is TL else nopt.SGD([_np_param()],
                                                                           lr=0.5))
        s = lib.ReduceLROnPlateau(opt, patience=0)
        s.step(1e300)
        out.append(("initial_lr" in opt.param_groups[0], s.best, s.num_bad_epochs))
    return Measured(f"(initial_lr stored, best, bad epochs) after one step on 1e300: {out[0]} "
                    f"(npimpl {out[1]})", out[0] == out[1] == (False, 1e300, 0))


@claim("AveragedModel", "on the CPU the default average is avg + (current - avg) / (n + 1), "
                        "not the lerp of the docs, which rounds differently")
def averaged_model_cpu_formula():
    rng = np.random.default_rng(0)
    ws = [rng.standard_normal(64) for _ in range(4)]
    lin = torch.nn.Linear(64, 1, bias=False, dtype=torch.float64)
    avg = torch.optim.swa_utils.AveragedModel(lin)
    formula = ws[0].copy()
    lerp = torch.from_numpy(ws[0].copy())
    for n, w in enumerate(ws):
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(w)[None])
        avg.update_parameters(lin)
        if n:
            formula = formula + (w - formula) / (n + 1)
            lerp = lerp.lerp(torch.from_numpy(w), 1 / (n + 1))
    got = avg.module.weight.detach().numpy()[0]
    m = npimpl.Linear(64, 1, bias=False, dtype=np.float64)
    navg = S.AveragedModel(m)
    for w in ws:
        m.weight.data[...] = w[None]
        navg.update_parameters(m)
    return Measured(f"after 4 updates: equal to the formula {np.array_equal(got, formula)}, to "
                    f"the lerp {np.array_equal(got, lerp.numpy())} ("
                    f"{int((got != lerp.numpy()).sum())} of 64 differ); npimpl equal "
                    f"{np.array_equal(navg.module.weight.data[0], got)}",
                    np.array_equal(got, formula) and not np.array_equal(got, lerp.numpy())
                    and np.array_equal(navg.module.weight.data[0], got))


@claim("SWALR", "an lr changed by hand between steps shifts the whole remaining curve")
def swalr_hand_set_lr():
    curves = []
    for lib, sw in ((TL, torch.optim.swa_utils), (L, S)):
        for touch in (False, True):
            opt = (torch.optim.SGD([_param()], lr=1.0) if lib is TL
                   else nopt.SGD([_np_param()], lr=1.0))
            s = sw.SWALR(opt, swa_lr=0.1, anneal_epochs=6)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for k in range(5):
                    if touch and k == 2:
                        opt.param_groups[0]["lr"] = 2.0
                    s.step()
            curves.append(opt.param_groups[0]["lr"])
    return Measured(f"lr after 5 steps: {curves[0]:.6g} untouched, {curves[1]:.6g} with lr set "
                    f"to 2 at step 2 (npimpl {curves[2]:.6g}, {curves[3]:.6g})",
                    curves[0] != curves[1] and curves[:2] == curves[2:])
