"""Claims about the losses."""
from __future__ import annotations

import warnings

import numpy as np
import torch
import torch.nn.functional as F

import npimpl

from . import Measured, claim, same, t64


@claim("CrossEntropyLoss", "'mean' divides by the sum of the target classes' weights, not by N")
def ce_weighted_mean():
    x = torch.tensor([[1.0, 2.0, 0.5], [0.1, -1.0, 2.0]], dtype=torch.float64)
    y = torch.tensor([0, 2])
    w = torch.tensor([2.0, 1.0, 0.5], dtype=torch.float64)
    mean = F.cross_entropy(x, y, weight=w).item()
    total = F.cross_entropy(x, y, weight=w, reduction="sum").item()
    n = npimpl.CrossEntropyLoss(weight=w.numpy())(x.numpy(), y.numpy())
    return Measured(f"sum {total:.6f}; mean {mean:.6f} = sum / (w[0] + w[2]) = "
                    f"{total / 2.5:.6f}, not sum / N = {total / 2:.6f} (npimpl {float(n):.6f})",
                    abs(mean - total / 2.5) < 1e-15 and same(n, mean))


@claim("NLLLoss", "if every target is ignored, 'mean' is 0/0 = NaN while the gradient stays 0")
def nll_all_ignored():
    x = t64(-1.0, -2.0).reshape(1, 2)
    x.retain_grad()
    loss = F.nll_loss(x, torch.tensor([-100]))
    loss.backward()
    return Measured(f"loss {loss.item()}, gradient {x.grad.tolist()}",
                    bool(loss.isnan()) and bool((x.grad == 0).all()))


@claim("BCELoss", "the forward clamps log at -100 and the backward floors x (1 - x) at the "
                  "float32 constant 1e-12: the float64 gradient at p = 1, y = 0.75 is "
                  "2.50000001e11")
def bce_floors():
    p = t64(1.0)
    loss = F.binary_cross_entropy(p, torch.tensor([0.75], dtype=torch.float64))
    loss.backward()
    zero = F.binary_cross_entropy(torch.tensor([0.0], dtype=torch.float64),
                                  torch.tensor([1.0], dtype=torch.float64)).item()
    m = npimpl.BCELoss()
    m(np.array([1.0]), np.array([0.75]))
    n = m.backward()[0]
    g = p.grad.item()
    return Measured(f"loss at p = 0, y = 1: {zero:g}; gradient at p = 1, y = 0.75: {g:.9e} "
                    f"(npimpl {n:.9e})", zero == 100 and abs(g - 2.50000001e11) < 1e3
                    and same(n, g))


@claim("BCEWithLogitsLoss", "at x = -700, y = 1 the loss is ~700 and the gradient exactly "
                            "sigmoid(x) - y, where BCELoss(sigmoid(x)) is stuck at 100")
def bce_logits_stable():
    x = t64(-700.0)
    loss = F.binary_cross_entropy_with_logits(x, torch.tensor([1.0], dtype=torch.float64))
    loss.backward()
    unfused = F.binary_cross_entropy(torch.sigmoid(torch.tensor([-700.0], dtype=torch.float64)),
                                     torch.tensor([1.0], dtype=torch.float64)).item()
    return Measured(f"fused loss {loss.item():g}, gradient {x.grad.item():g}; "
                    f"BCELoss(sigmoid(x)) = {unfused:g}",
                    abs(loss.item() - 700) < 1e-9 and x.grad.item() == -1.0 and unfused == 100)


@claim("KLDivLoss", "the default reduction 'mean' averages over the classes too, so it is not "
                    "the KL divergence ('batchmean' is)")
def kldiv_mean():
    logq = torch.log_softmax(torch.tensor([[0.1, 0.5, -0.3, 1.0]] * 2, dtype=torch.float64), 1)
    p = torch.softmax(torch.tensor([[1.0, 0.0, 0.5, -1.0]] * 2, dtype=torch.float64), 1)
    with warnings.catch_warnings():      # torch warns that 'mean' is not the KL divergence
        warnings.simplefilter("ignore")
        mean = F.kl_div(logq, p, reduction="mean").item()
    batchmean = F.kl_div(logq, p, reduction="batchmean").item()
    kl = (p[0] * (p[0].log() - logq[0])).sum().item()
    return Measured(f"KL(p||q) = {kl:.6f}; 'batchmean' {batchmean:.6f}; 'mean' {mean:.6f} = "
                    f"KL / C (C = 4)", abs(batchmean - kl) < 1e-15 and abs(mean - kl / 4) < 1e-15)


@claim("L1Loss", "at x == y the gradient is sgn(0) = 0")
def l1_zero_at_target():
    x = t64(1.5, 2.0)
    F.l1_loss(x, torch.tensor([1.5, 1.0], dtype=torch.float64), reduction="sum").backward()
    return Measured(f"gradient at x == y: {x.grad[0].item():g} (elsewhere {x.grad[1].item():g})",
                    x.grad[0].item() == 0 and x.grad[1].item() == 1)


@claim("MarginRankingLoss", "exactly at the hinge a pair still gets gradient (clamp_min passes "
                            "it where the argument is >= 0)")
def margin_ranking_hinge():
    x1, x2 = t64(1.0), t64(1.0)
    F.margin_ranking_loss(x1, x2, torch.tensor([1.0], dtype=torch.float64),
                          reduction="sum").backward()
    return Measured(f"at -y (x1 - x2) + margin = 0: d/dx1 = {x1.grad.item():g}",
                    x1.grad.item() == -1)


@claim("HuberLoss", "HuberLoss(delta) = delta * SmoothL1Loss(beta=delta)")
def huber_is_scaled_smooth_l1():
    x = torch.linspace(-3, 3, 13, dtype=torch.float64)
    y = torch.zeros(13, dtype=torch.float64)
    h = F.huber_loss(x, y, reduction="none", delta=0.7)
    s = F.smooth_l1_loss(x, y, reduction="none", beta=0.7)
    d = (h - 0.7 * s).abs().max().item()
    return Measured(f"max |huber - delta smooth_l1| = {d:.1e}", d < 1e-15)


@claim("CosineEmbeddingLoss", "ATen adds 1e-12 to each squared norm: two equal vectors of "
                              "norm 1e-7 have cosine 0.0099 in the loss, 1 in "
                              "F.cosine_similarity")
def cosine_embedding_eps():
    v = torch.full((1, 1), 1e-7, dtype=torch.float64)
    loss = F.cosine_embedding_loss(v, v, torch.tensor([1.0], dtype=torch.float64)).item()
    cos = F.cosine_similarity(v, v).item()
    n = float(npimpl.CosineEmbeddingLoss()(v.numpy(), v.numpy(), np.array([1.0])))
    return Measured(f"loss = 1 - cos = {loss:.4f}, so cos = {1 - loss:.4f}; "
                    f"F.cosine_similarity = {cos:g} (npimpl loss {n:.4f})",
                    abs((1 - loss) - 0.0099) < 5e-5 and cos == 1 and same(n, loss))


@claim("SmoothL1Loss", "beta = 0 is routed to l1_loss: the gradient at d = 0 is 0, not 0/0")
def smooth_l1_beta_zero():
    x = t64(1.0, 3.0)
    F.smooth_l1_loss(x, torch.tensor([1.0, 1.0], dtype=torch.float64), beta=0.0,
                     reduction="sum").backward()
    return Measured(f"gradient at d = 0 and d = 2: {x.grad.tolist()}", x.grad.tolist() == [0, 1])


@claim("GaussianNLLLoss", "where var < eps the loss uses eps, yet var still gets the gradient "
                          "evaluated at eps (not 0, as a clamp in the graph would give)")
def gaussian_nll_clamp():
    var = t64(1e-9)
    F.gaussian_nll_loss(torch.tensor([0.5], dtype=torch.float64),
                        torch.tensor([0.0], dtype=torch.float64), var, eps=1e-6).backward()
    at_eps = 0.5 * (1 / 1e-6 - 0.25 / 1e-12)        # d/dv (log v + d^2 / v) / 2 at v = eps
    return Measured(f"dL/dvar at var = 1e-9 (eps 1e-6): {var.grad.item():.6g}; the formula at "
                    f"eps: {at_eps:.6g}", abs(var.grad.item() / at_eps - 1) < 1e-12)
