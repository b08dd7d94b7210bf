"""ReduceLROnPlateau: cut the lr when a metric stops improving
(``torch.optim.lr_scheduler.ReduceLROnPlateau``)."""
from __future__ import annotations

import math

from ..optimizer import Optimizer
from .base import LRScheduler


class ReduceLROnPlateau(LRScheduler):
    r"""After more than ``patience`` steps without improvement of the metric, every group's lr
    becomes ``max(lr * factor, min_lr)``; then ``cooldown`` steps pass before counting again.

    ``step(metric)`` each epoch::

        1. better = metric < best (1 - threshold)   (mode 'min', threshold_mode 'rel')
                    metric < best - threshold        ('min', 'abs')
                    metric > best (1 + threshold)    ('max', 'rel');  metric > best + threshold
        2. better: best = metric, bad = 0;  else bad += 1
        3. in cooldown: cooldown_counter -= 1, bad = 0
        4. bad > patience: lr = max(lr factor, min_lr) for each group (only if it drops by
           more than eps), cooldown_counter = cooldown, bad = 0

    Args:
        optimizer: the npimpl optimizer.
        mode: 'min' (a loss) or 'max' (an accuracy).
        factor: the cut, < 1 (default 0.1).
        patience: bad epochs tolerated (default 10).
        threshold: what counts as an improvement (default 1e-4).
        threshold_mode: 'rel' or 'abs'.
        cooldown: epochs to wait after a cut (default 0).
        min_lr: a floor, one for all groups or a list per group (default 0).
        eps: a cut smaller than this is not applied (default 1e-8).

    Maths:
        \eta \leftarrow \max(\eta \cdot \text{factor},\ \eta_{\min}) \quad \text{after more than } \textit{patience} \text{ steps with } m_t \ge \text{best}\,(1 - \text{threshold}) \ (\text{mode min, rel})

    What torch hides:
        the constructor takes no step and stores no ``initial_lr`` (unlike every other
        scheduler); ``best`` starts at ±inf, so the first metric is always an improvement;
        a cut that would change the lr by less than eps is skipped silently.
    """

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1,
                 patience: int = 10, threshold: float = 1e-4, threshold_mode: str = "rel",
                 cooldown: int = 0, min_lr=0, eps: float = 1e-8):
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau: factor should be < 1.0, got {factor}")
        if not isinstance(optimizer, Optimizer):
            raise TypeError(f"ReduceLROnPlateau: {type(optimizer).__name__} is not an npimpl "
                            "Optimizer")
        self.factor, self.optimizer = factor, optimizer
        if isinstance(min_lr, (list, tuple)):
            if len(min_lr) != len(optimizer.param_groups):
                raise ValueError(f"ReduceLROnPlateau: expected {len(optimizer.param_groups)} "
                                 f"min_lrs, got {len(min_lr)}")
            self.default_min_lr, self.min_lrs = None, list(min_lr)
        else:
            self.default_min_lr, self.min_lrs = min_lr, [min_lr] * len(optimizer.param_groups)
        self.patience, self.cooldown, self.eps = patience, cooldown, eps
        self.last_epoch = 0
        self._last_lr = self._group_lrs()
        self._init_is_better(mode, threshold, threshold_mode)
        self._reset()

    def _reset(self) -> None:
        self.best = self.mode_worse
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def step(self, metrics, epoch=None) -> None:
        current = float(metrics)
        self.last_epoch = self.last_epoch + 1 if epoch is None else epoch
        if self._is_better(current, self.best):                         # 1.-2.
            self.best, self.num_bad_epochs = current, 0
        else:
            self.num_bad_epochs += 1
        if self.in_cooldown:                                            # 3.
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0
        if self.num_bad_epochs > self.patience:                         # 4.
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._group_lrs()

    def _reduce_lr(self) -> None:
        if len(self.optimizer.param_groups) != len(self.min_lrs):
            if self.default_min_lr is None:
                raise ValueError(f"ReduceLROnPlateau: the optimizer has "
                                 f"{len(self.optimizer.param_groups)} param groups but "
                                 f"{len(self.min_lrs)} min_lrs were given (a group was added); "
                                 "set min_lrs to match")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for i, group in enumerate(self.optimizer.param_groups):
            old_lr = float(group["lr"])
            new_lr = max(old_lr * self.factor, self.min_lrs[i])
            if old_lr - new_lr > self.eps:
                group["lr"] = new_lr

    @property
    def in_cooldown(self) -> bool:
        return self.cooldown_counter > 0

    def _is_better(self, a, best) -> bool:
        if self.mode == "min" and self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold)
        if self.mode == "min":
            return a < best - self.threshold
        if self.threshold_mode == "rel":
            return a > best * (self.threshold + 1.0)
        return a > best + self.threshold

    def _init_is_better(self, mode, threshold, threshold_mode) -> None:
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got "
                             f"{threshold_mode!r}")
        self.mode_worse = math.inf if mode == "min" else -math.inf
        self.mode, self.threshold, self.threshold_mode = mode, threshold, threshold_mode

    def load_state_dict(self, state_dict: dict) -> None:
        super().load_state_dict(state_dict)
        self._init_is_better(self.mode, self.threshold, self.threshold_mode)
