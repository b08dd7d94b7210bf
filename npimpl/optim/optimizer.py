"""Optimizer base: parameter groups and per-parameter state, as ``torch.optim.Optimizer``."""
from __future__ import annotations

from ..module import Parameter


class Optimizer:
    """Holds ``param_groups`` (a list of dicts: ``params`` plus that group's options)
    and ``state`` (a dict keyed by Parameter with the per-parameter buffers).

    ``params`` may be an iterable of Parameters or of dicts ``{'params': [...], 'lr': ...}``;
    options missing from a group are taken from ``defaults``, as in torch.
    """

    def __init__(self, params, defaults: dict):
        self.defaults = dict(defaults)
        self.state: dict = {}
        self.param_groups: list[dict] = []
        params = list(params)
        if not params:
            raise ValueError(f"{type(self).__name__}: optimizer got an empty parameter list")
        groups = params if isinstance(params[0], dict) else [{"params": params}]
        for g in groups:
            self.add_param_group(g)

    def add_param_group(self, group: dict) -> None:
        group = dict(group)
        ps = group["params"]
        group["params"] = [ps] if isinstance(ps, Parameter) else list(ps)
        for p in group["params"]:
            if not isinstance(p, Parameter):
                raise TypeError(f"{type(self).__name__}: can only optimize npimpl Parameters, "
                                f"got {type(p).__name__}")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one "
                             "parameter group")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        for g in self.param_groups:
            for p in g["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:
                    p.grad[...] = 0

    def step(self) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        opts = ", ".join(f"{k}={v}" for k, v in self.defaults.items())
        return f"{type(self).__name__}({opts})"
