"""Stochastic weight averaging and exponential moving averages of a model
(``torch.optim.swa_utils``): AveragedModel, SWALR, update_bn and the averaging functions."""
from __future__ import annotations

import copy
import math

import numpy as np

from ..module import Module
from .lr_scheduler import LRScheduler
from .optimizer import Optimizer, lerp_

__all__ = ["AveragedModel", "update_bn", "SWALR", "get_ema_multi_avg_fn",
           "get_swa_multi_avg_fn", "get_ema_avg_fn", "get_swa_avg_fn"]


def _check_decay(decay: float) -> None:
    if decay < 0.0 or decay > 1.0:
        raise ValueError(f"invalid decay value {decay}: expected a value in [0, 1]")


def _f32(a: np.ndarray) -> np.ndarray:
    """torch's promotion of an integer tensor in arithmetic with a Python float or a true
    division: float32 (the default dtype), whatever the other operand's precision."""
    return a.astype(np.float32) if a.dtype.kind in "iub" else a


def get_ema_multi_avg_fn(decay: float = 0.999):
    """``ema = lerp(ema, current, 1 - decay)`` for every float array (torch's
    ``_foreach_lerp_``); an integer buffer gets ``ema * decay + current * (1 - decay)`` in
    float32, truncated back."""
    _check_decay(decay)

    def ema_update(ema_list, current_list, _num_averaged) -> None:
        for e, c in zip(ema_list, current_list):
            if e.dtype.kind == "f":
                lerp_(e, c, 1 - decay)
            else:
                e[...] = _f32(e) * np.float32(decay) + _f32(c) * np.float32(1 - decay)
    return ema_update


def get_swa_multi_avg_fn():
    """``avg = lerp(avg, current, 1 / (n + 1))``: the running mean, for every array; the
    weight is torch's ``1 / (n_averaged + 1)`` of an int64 tensor, a float32."""
    def swa_update(avg_list, current_list, num_averaged) -> None:
        for a, c in zip(avg_list, current_list):
            if a.dtype.kind == "f":
                lerp_(a, c, float(np.float32(1) / np.float32(int(num_averaged) + 1)))
            else:     # torch crashes here (integer addcdiv); its historic rule: truncate
                a += np.trunc((c - a) / (int(num_averaged) + 1)).astype(a.dtype)
    return swa_update


def get_ema_avg_fn(decay: float = 0.999):
    """``decay * ema + (1 - decay) * current`` (a new array; float32 for an integer one)."""
    _check_decay(decay)

    def ema_update(ema, current, _num_averaged):
        if ema.dtype.kind != "f":
            return np.float32(decay) * _f32(ema) + np.float32(1 - decay) * _f32(current)
        return decay * ema + (1 - decay) * current
    return ema_update


def get_swa_avg_fn():
    """``avg + (current - avg) / (n + 1)`` (a new array; float32 for an integer one): what
    AveragedModel uses by default on the CPU."""
    def swa_update(avg, current, num_averaged):
        if avg.dtype.kind != "f":
            return _f32(avg) + _f32(current - avg) / np.float32(int(num_averaged) + 1)
        return avg + (current - avg) / (int(num_averaged) + 1)
    return swa_update


class AveragedModel(Module):
    r"""A copy of ``model`` whose parameters are the average of the model's parameters over
    the calls to :meth:`update_parameters` (SWA, Izmailov et al. 2018) or an exponential
    moving average of them (EMA: ``multi_avg_fn=get_ema_multi_avg_fn(decay)``).

    The first update copies the model's parameters; update n + 1 applies the averaging
    function with ``n_averaged = n``. The buffers (BatchNorm's running statistics) are
    copied from the model at every update, or averaged like the parameters with
    ``use_buffers=True``.

    Args:
        model: the npimpl model to average (deep-copied).
        device: accepted for torch's signature; no effect.
        avg_fn: ``(averaged, current, n) -> new averaged`` per array.
        multi_avg_fn: ``(averaged list, current list, n) -> None``, in place.
        use_buffers: average the buffers too instead of copying them.

    Buffers: ``n_averaged`` (an int64 0-d array), in ``state_dict()`` beside ``module.*``.

    Maths:
        \bar\theta_n = \bar\theta_{n-1} + \frac{\theta_n - \bar\theta_{n-1}}{n + 1} \ \text{(SWA)}, \qquad \bar\theta_n = \beta\, \bar\theta_{n-1} + (1 - \beta)\, \theta_n \ \text{(EMA)}

    What torch hides:
        on the CPU the default is *not* the foreach lerp the docs describe but
        ``avg + (current - avg) / (n + 1)`` (torch's foreach kernels are for accelerators
        only), which rounds differently; ``get_swa_multi_avg_fn``'s weight ``1 / (n + 1)``
        is computed from the int64 ``n_averaged`` tensor, so it is a float32 even for
        float64 weights; with ``use_buffers`` an integer buffer (BatchNorm's
        ``num_batches_tracked``) is averaged in float32 and truncated — and crashes
        ``get_swa_multi_avg_fn`` (an integer ``addcdiv``; npimpl truncates instead). The
        averaged model's BatchNorm statistics are the last model's, not an average, so
        ``update_bn`` must recompute them for the averaged weights before evaluation.
    """

    def __init__(self, model: Module, device=None, avg_fn=None, multi_avg_fn=None,
                 use_buffers: bool = False):
        super().__init__()
        if avg_fn is not None and multi_avg_fn is not None:
            raise ValueError("AveragedModel: give only one of avg_fn and multi_avg_fn")
        if not isinstance(model, Module):
            raise TypeError(f"AveragedModel: model must be an npimpl Module, got "
                            f"{type(model).__name__}")
        self.module = copy.deepcopy(model)
        self.register_buffer("n_averaged", np.array(0, dtype=np.int64))
        self.avg_fn, self.multi_avg_fn, self.use_buffers = avg_fn, multi_avg_fn, use_buffers

    def forward(self, *args, **kwargs):
        return self.module(*args, **kwargs)

    def backward(self, *grad_outputs):
        return self.module.backward(*grad_outputs)

    def _arrays(self, model: Module, own: bool) -> list:
        params = [p.data for p in (self.module if own else model).parameters()]
        if self.use_buffers:
            params += [b for _, b in (self.module if own else model).named_buffers()]
        return params

    def update_parameters(self, model: Module) -> None:
        """Fold ``model``'s current parameters into the average."""
        mine, theirs = self._arrays(model, True), self._arrays(model, False)
        n = int(self.n_averaged)
        if n == 0:
            for a, c in zip(mine, theirs):
                a[...] = c
        elif self.multi_avg_fn is not None:
            self.multi_avg_fn(mine, theirs, self.n_averaged)
        else:
            fn = self.avg_fn or get_swa_avg_fn()
            for a, c in zip(mine, theirs):
                a[...] = fn(a, c, self.n_averaged)
        if not self.use_buffers:
            for (_, b_avg), (_, b_model) in zip(self.module.named_buffers(),
                                                model.named_buffers()):
                b_avg[...] = b_model
        self.n_averaged[...] = n + 1


def update_bn(loader, model: Module, device=None) -> None:
    """Recompute every BatchNorm's running statistics for ``model``'s current weights: reset
    them, set momentum None (a cumulative average over the batches) and run the model in
    training mode over ``loader`` (batches, or ``(input, ...)`` tuples whose first element is
    the input); the momenta and the training flag are restored."""
    from ..batchnorm import _BatchNorm

    momenta = {}
    for m in model.modules():
        if isinstance(m, _BatchNorm):
            m.reset_running_stats()
            momenta[m] = m.momentum
    if not momenta:
        return
    was_training = model.training
    model.train()
    for m in momenta:
        m.momentum = None
    for batch in loader:
        if isinstance(batch, (list, tuple)):
            batch = batch[0]
        model(batch)
    for m, momentum in momenta.items():
        m.momentum = momentum
    model.train(was_training)


class SWALR(LRScheduler):
    r"""Anneal each group's lr to ``swa_lr`` over ``anneal_epochs`` steps (cosine or linear),
    then hold it there.

    Args:
        optimizer: the npimpl optimizer.
        swa_lr: the target lr (one for all groups or a list).
        anneal_epochs: steps of annealing (default 10; 0 jumps to swa_lr).
        anneal_strategy: 'cos' (default) or 'linear'.
        last_epoch: -1 to start afresh.

    Maths:
        \eta_t = \alpha_t\, \eta_{\text{swa}} + (1 - \alpha_t)\, \eta_0, \qquad \alpha_t = \frac{1 - \cos(\pi \min(1, t / T))}{2} \ \text{(cos)}, \ \min(1, t/T) \ \text{(linear)}

    What torch hides:
        each step first reconstructs the lr the annealing started from out of the current
        lr, ``(lr - alpha_prev swa_lr) / (1 - alpha_prev)``, then re-applies the new alpha:
        an lr changed by hand in between shifts the whole remaining curve.
    """

    def __init__(self, optimizer: Optimizer, swa_lr, anneal_epochs: int = 10,
                 anneal_strategy: str = "cos", last_epoch: int = -1):
        swa_lrs = list(swa_lr) if isinstance(swa_lr, (list, tuple)) else \
            [swa_lr] * len(optimizer.param_groups)
        if len(swa_lrs) != len(optimizer.param_groups):
            raise ValueError(f"SWALR: expected {len(optimizer.param_groups)} swa_lr values, got "
                             f"{len(swa_lrs)}")
        for lr, group in zip(swa_lrs, optimizer.param_groups):
            group["swa_lr"] = lr
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"SWALR: anneal_strategy must be 'cos' or 'linear', got "
                             f"{anneal_strategy!r}")
        self._anneal_strategy = anneal_strategy
        if not isinstance(anneal_epochs, int) or anneal_epochs < 0:
            raise ValueError(f"SWALR: anneal_epochs must be an int >= 0, got {anneal_epochs!r}")
        self.anneal_epochs = anneal_epochs
        super().__init__(optimizer, last_epoch)

    def anneal_func(self, t: float) -> float:
        return (1 - math.cos(math.pi * t)) / 2 if self._anneal_strategy == "cos" else t

    @staticmethod
    def _get_initial_lr(lr, swa_lr, alpha):
        return swa_lr if alpha == 1 else (lr - alpha * swa_lr) / (1 - alpha)

    def get_lr(self) -> list:
        step = self._step_count - 1
        if self.anneal_epochs == 0:
            step = max(1, step)
        prev_t = max(0, min(1, (step - 1) / max(1, self.anneal_epochs)))
        prev_alpha = self.anneal_func(prev_t)
        prev_lrs = [self._get_initial_lr(g["lr"], g["swa_lr"], prev_alpha)
                    for g in self.optimizer.param_groups]
        t = max(0, min(1, step / max(1, self.anneal_epochs)))
        alpha = self.anneal_func(t)
        return [g["swa_lr"] * alpha + lr * (1 - alpha)
                for g, lr in zip(self.optimizer.param_groups, prev_lrs)]


