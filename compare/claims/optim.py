"""Claims about the optimizers and the learning-rate schedulers."""
from __future__ import annotations

import numpy as np
import torch

import npimpl
import npimpl.optim as nopt

from . import Measured, claim


def _param(value=1.0, grad=None):
    """A one-element float64 torch parameter with ``.grad`` set."""
    p = torch.nn.Parameter(torch.tensor([value], dtype=torch.float64))
    p.grad = torch.tensor([value if grad is None else grad], dtype=torch.float64)
    return p


def _np_param(value=1.0, grad=None):
    p = npimpl.Parameter(np.array([value]))
    p.grad = np.array([value if grad is None else grad])
    return p


@claim("SGD", "the momentum buffer starts as an undampened copy of the first gradient")
def sgd_first_buffer():
    p = _param(1.0, 2.0)
    opt = torch.optim.SGD([p], lr=0.1, momentum=0.9, dampening=0.5)
    opt.step()
    buf = opt.state[p]["momentum_buffer"].item()
    q = _np_param(1.0, 2.0)
    nopt.SGD([q], lr=0.1, momentum=0.9, dampening=0.5).step()
    return Measured(f"gradient 2, dampening 0.5: buffer after step 1 = {buf:g} (not "
                    f"{0.5 * 2:g}); p = {p.item():g} (npimpl {q.data[0]:g})",
                    buf == 2 and q.data[0] == p.item())


def _state_after_one_step(torch_cls, key: str, grad=None, **kw):
    """``opt.state[p][key]`` after one step of ``torch_cls`` on a one-element float64 p."""
    p = _param(1.0, grad)
    opt = torch_cls([p], **kw)
    opt.step()
    return opt.state[p][key]


@claim("Adam", "step is a float32 tensor, not an int")
def adam_step_dtype():
    s = _state_after_one_step(torch.optim.Adam, "step")
    return Measured(f"state['step'] = {s!r}", isinstance(s, torch.Tensor)
                    and s.dtype == torch.float32)


@claim("AdamW", "the decay is multiplied by lr (p <- p (1 - lr λ)): a scheduler decays it too, "
                "and its size depends on the base lr; the paper's p <- p - η_t λ p has no lr "
                "in it")
def adamw_decay_times_lr():
    p = _param(1.0, 0.0)                 # zero gradient: only the decay moves p
    torch.optim.AdamW([p], lr=0.1, weight_decay=0.05).step()
    q = _np_param(1.0, 0.0)
    nopt.AdamW([q], lr=0.1, weight_decay=0.05).step()
    return Measured(f"lr 0.1, λ 0.05, zero gradient: p 1 -> {p.item():g} = 1 - lr λ "
                    f"(npimpl {q.data[0]:g}); the paper's rule with η_t = 1 gives "
                    f"{1 - 0.05:g}", p.item() == 1 - 0.1 * 0.05 and q.data[0] == p.item())


@claim("RMSprop", "v starts at zero and is never bias-corrected: the first step is "
                  "lr / sqrt(1 - alpha), ten times lr for alpha = 0.99")
def rmsprop_first_step():
    p = _param(1.0, 3.0)
    torch.optim.RMSprop([p], lr=0.01, alpha=0.99, eps=0.0).step()
    step = 1.0 - p.item()
    return Measured(f"first step {step:.6f} = {step / 0.01:.4f} lr", abs(step - 0.1) < 1e-12)


@claim("Adagrad", "the state is created in the constructor, for every parameter")
def adagrad_eager_state():
    p = _param()
    opt = torch.optim.Adagrad([p], initial_accumulator_value=0.5)
    state = {k: (v.item() if torch.is_tensor(v) else v) for k, v in opt.state[p].items()}
    q = _np_param()
    n = nopt.Adagrad([q], initial_accumulator_value=0.5).state_dict()["state"]
    return Measured(f"before any step: {state} (npimpl state keys {sorted(n.get(0, {}))})",
                    state == {"step": 0.0, "sum": 0.5} and sorted(n.get(0, {})) == ["step", "sum"])


@claim("Adamax", "eps is added to |g| before the max, so u >= eps even for a zero gradient")
def adamax_eps():
    u = _state_after_one_step(torch.optim.Adamax, "exp_inf", grad=0.0, eps=1e-3).item()
    return Measured(f"zero gradient, eps 1e-3: u = {u:g}", u == 1e-3)


@claim("NAdam", "mu_product is a float32 tensor even for float64 parameters")
def nadam_mu_product():
    mp = _state_after_one_step(torch.optim.NAdam, "mu_product")
    return Measured(f"mu_product {mp!r}", mp.dtype == torch.float32)


@claim("LRScheduler", "the constructor already calls step() once: LinearLR's lr at epoch 0 is "
                      "start_factor * lr")
def scheduler_constructor_steps():
    opt = torch.optim.SGD([_param()], lr=0.3)
    torch.optim.lr_scheduler.LinearLR(opt, start_factor=0.5)
    lr = opt.param_groups[0]["lr"]
    nopt_ = nopt.SGD([_np_param()], lr=0.3)
    nopt.lr_scheduler.LinearLR(nopt_, start_factor=0.5)
    return Measured(f"lr right after LinearLR(start_factor=0.5): {lr:g} (npimpl "
                    f"{nopt_.param_groups[0]['lr']:g})",
                    lr == 0.15 and nopt_.param_groups[0]["lr"] == lr)


@claim("CosineAnnealingLR", "past T_max the lr climbs back to base_lr at 2 T_max")
def cosine_restarts():
    opt = torch.optim.SGD([_param()], lr=1.0)
    s = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=4)
    lrs = [opt.param_groups[0]["lr"]]
    for _ in range(8):
        opt.step()
        s.step()
        lrs.append(opt.param_groups[0]["lr"])
    return Measured(f"T_max 4, lr per epoch: {[round(v, 4) for v in lrs]}",
                    abs(lrs[4]) < 1e-12 and abs(lrs[8] - 1.0) < 1e-12)


@claim("OneCycleLR", "the constructor overwrites the optimizer's lr with max_lr / div_factor")
def onecycle_overwrites_lr():
    opt = torch.optim.SGD([_param()], lr=123.0, momentum=0.9)
    torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=1.0, total_steps=10)
    lr = opt.param_groups[0]["lr"]
    # the annealing at step 0 returns initial_lr up to rounding: 0.040000000000000036
    return Measured(f"lr 123 before, {lr!r} after (max_lr 1 / div_factor 25 = 0.04)",
                    abs(lr - 1 / 25) < 1e-15)


@claim("Optimizer", "state_dict() replaces each parameter by its position counted over all "
                    "groups")
def optimizer_state_dict_positions():
    a, b, c = _param(), _param(), _param()
    opt = torch.optim.SGD([{"params": [a, b]}, {"params": [c]}], lr=0.1, momentum=0.9)
    opt.step()
    sd = opt.state_dict()
    return Measured(f"param_groups params: {[g['params'] for g in sd['param_groups']]}, state "
                    f"keys {sorted(sd['state'])}",
                    [g["params"] for g in sd["param_groups"]] == [[0, 1], [2]])


@claim("RMSprop", "eps sits outside the square root: p -= lr g / (sqrt(v) + eps)")
def rmsprop_eps_outside():
    p = _param(1.0, 2.0)
    torch.optim.RMSprop([p], lr=0.1, alpha=0.5, eps=0.5).step()
    v = 0.5 * 4.0
    outside, inside = 0.1 * 2 / (v ** 0.5 + 0.5), 0.1 * 2 / (v + 0.5) ** 0.5
    step = 1.0 - p.item()
    return Measured(f"step {step:.12f}; lr g / (sqrt(v) + eps) = {outside:.12f}, "
                    f"lr g / sqrt(v + eps) = {inside:.12f}", abs(step - outside) < 1e-15)
