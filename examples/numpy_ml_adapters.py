"""Thin adapters: numpy-ml's layers (https://github.com/ddbourgin/numpy-ml, PyPI ``numpy-ml``
0.1.2) seen through lockstep's layer protocol, so that ``compare.check`` can run them in
lockstep with their torch twins. Nothing here changes what numpy-ml computes: an adapter maps
names and layouts only (numpy-ml stores a dense weight ``(in, out)`` where torch stores
``(out, in)``, and works channels-last where torch works channels-first).

The protocol (see ``compare/api.py``): ``forward(*inputs)``, ``backward(grad_output)``,
``named_parameters()`` yielding ``(torch's name, p)`` with ``p.data`` / ``p.grad``,
``load_state_dict(torch's state_dict as arrays)``; optionally ``named_buffers()``,
``train()``/``eval()``.

Run ``python examples/numpy_ml_adapters.py`` to print what lockstep finds.
"""
from __future__ import annotations

import collections
import collections.abc

import numpy as np

# numpy-ml 0.1.2 imports ``collections.Hashable`` (moved to collections.abc in Python 3.3,
# removed from collections in 3.10): put the name back before importing it
for _name in ("Hashable", "Iterable", "Mapping", "MutableMapping", "Sequence"):
    if not hasattr(collections, _name):
        setattr(collections, _name, getattr(collections.abc, _name))

from numpy_ml.neural_nets import layers as nml          # noqa: E402
from numpy_ml.neural_nets.losses import CrossEntropy    # noqa: E402


class _Param:
    """One numpy-ml parameter under torch's name: ``data``/``grad`` read (and ``data``
    written) through the layout maps ``to_torch`` / ``from_torch``."""

    def __init__(self, layer, key, to_torch=lambda a: a, from_torch=lambda a: a):
        self.layer, self.key, self.to_torch, self.from_torch = layer, key, to_torch, from_torch

    @property
    def data(self):
        return self.to_torch(self.layer.parameters[self.key])

    @data.setter
    def data(self, value):
        self.layer.parameters[self.key] = self.from_torch(np.asarray(value))
        self.layer.gradients[self.key] = np.zeros_like(self.layer.parameters[self.key])

    @property
    def grad(self):
        g = getattr(self.layer, "gradients", {}).get(self.key)
        return None if g is None else self.to_torch(g)


class Adapter:
    """A numpy-ml layer under torch's names. ``params``: torch name -> numpy-ml key (with
    layout maps); ``buffers``: torch buffer name -> numpy-ml key."""

    def __init__(self, layer, params: dict, buffers: dict | None = None):
        self.layer = layer
        self.params = {n: _Param(layer, *spec) if isinstance(spec, tuple) else _Param(layer, spec)
                       for n, spec in params.items()}
        self.buffers = buffers or {}

    def named_parameters(self):
        return list(self.params.items())

    def named_buffers(self):
        return [(n, self.layer.parameters[k]) for n, k in self.buffers.items()]

    def load_state_dict(self, state):
        for n, p in self.params.items():
            p.data = state[n]
        for n, k in self.buffers.items():
            self.layer.parameters[k] = np.array(state[n], dtype=np.float64)

    def train(self, mode=True):
        """numpy-ml has no eval mode: ``freeze()`` (running statistics, no updates) is the
        nearest, so eval maps to it."""
        (self.layer.unfreeze if mode else self.layer.freeze)()
        return self

    def reset_parameters(self):
        """numpy-ml's own initialisation (``_init_params``, drawing from ``np.random``)."""
        self.layer._init_params()

    def eval(self):
        return self.train(False)

    def forward(self, x):
        return self.layer.forward(x)

    def backward(self, grad_output):
        return self.layer.backward(grad_output)


def fully_connected(n_in, n_out):
    """``FullyConnected(n_out)`` ↔ ``torch.nn.Linear(n_in, n_out)``: W is ``weight.T``, b is
    ``bias`` as a ``(1, n_out)`` row."""
    layer = nml.FullyConnected(n_out)
    layer.n_in = n_in
    layer._init_params()
    return Adapter(layer, {"weight": ("W", lambda w: w.T, lambda w: w.T.copy()),
                           "bias": ("b", lambda b: b.reshape(-1), lambda b: b.reshape(1, -1))})


class Conv2D(Adapter):
    """``Conv2D(out_ch, (k, k), pad, stride)`` ↔ ``torch.nn.Conv2d``: numpy-ml is channels-last
    (``(N, H, W, C)``, W ``(k, k, in, out)``); the adapter transposes inputs and outputs."""

    def forward(self, x):
        return self.layer.forward(x.transpose(0, 2, 3, 1)).transpose(0, 3, 1, 2)

    def backward(self, grad_output):
        g = self.layer.backward(grad_output.transpose(0, 2, 3, 1))
        if isinstance(g, list):                  # numpy-ml's list after several forwards
            return [gi.transpose(0, 3, 1, 2) for gi in g]
        return g.transpose(0, 3, 1, 2)


def conv2d(in_ch, out_ch, k, pad=0, stride=1):
    layer = nml.Conv2D(out_ch, (k, k), pad=pad, stride=stride)
    layer.in_ch = in_ch
    layer._init_params()
    return Conv2D(layer, {"weight": ("W", lambda w: w.transpose(3, 2, 0, 1),
                                     lambda w: w.transpose(2, 3, 1, 0).copy()),
                          "bias": ("b", lambda b: b.reshape(-1),
                                   lambda b: b.reshape(1, 1, 1, -1))})


def batchnorm1d(n):
    """``BatchNorm1D()`` ↔ ``torch.nn.BatchNorm1d(n)``: scaler/intercept are weight/bias."""
    layer = nml.BatchNorm1D()
    layer.n_in = layer.n_out = n
    layer._init_params()
    return Adapter(layer, {"weight": "scaler", "bias": "intercept"},
                   {"running_mean": "running_mean", "running_var": "running_var"})


def layernorm1d(n):
    """``LayerNorm1D()`` ↔ ``torch.nn.LayerNorm(n)``."""
    layer = nml.LayerNorm1D()
    layer.n_in = layer.n_out = n
    layer._init_params()
    return Adapter(layer, {"weight": "scaler", "bias": "intercept"})


def softmax(n):
    """``Softmax(dim=-1)`` ↔ ``torch.nn.Softmax(dim=-1)``."""
    layer = nml.Softmax(dim=-1)
    layer.n_in = n
    layer._init_params()
    return Adapter(layer, {})


class SoftmaxCrossEntropy:
    """numpy-ml's ``CrossEntropy`` on ``softmax(logits)`` ↔ ``torch.nn.CrossEntropyLoss``:
    ``loss(y, p) = -sum(y log(p + eps))`` with one-hot ``y``; its ``grad(y, p) = p - y`` is the
    gradient with respect to the *logits* (softmax and loss differentiated together)."""

    grad_inputs = (0,)

    def __init__(self, n_classes):
        self.n_classes, self.loss = n_classes, CrossEntropy()

    def named_parameters(self):
        return []

    def load_state_dict(self, state):
        pass

    def forward(self, logits, target):
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        self.p, self.y = e / e.sum(axis=1, keepdims=True), np.eye(self.n_classes)[target]
        return np.asarray(self.loss.loss(self.y, self.p))

    def backward(self, grad_output=1.0):
        return self.loss.grad(self.y, self.p) * grad_output


#: (name, adapter factory, torch twin factory, input factory(rng)) for each layer checked
LAYERS = [
    ("FullyConnected", lambda: fully_connected(4, 3), "torch.nn.Linear(4, 3)",
     lambda rng: (rng.standard_normal((5, 4)),)),
    ("Conv2D", lambda: conv2d(2, 3, 3, pad=1), "torch.nn.Conv2d(2, 3, 3, padding=1)",
     lambda rng: (rng.standard_normal((2, 2, 5, 5)),)),
    ("BatchNorm1D", lambda: batchnorm1d(3), "torch.nn.BatchNorm1d(3)",
     lambda rng: (rng.standard_normal((6, 3)),)),
    ("LayerNorm1D", lambda: layernorm1d(5), "torch.nn.LayerNorm(5)",
     lambda rng: (rng.standard_normal((4, 5)),)),
    ("Softmax", lambda: softmax(6), "torch.nn.Softmax(dim=-1)",
     lambda rng: (rng.standard_normal((3, 6)),)),
    ("CrossEntropy", lambda: SoftmaxCrossEntropy(4), "torch.nn.CrossEntropyLoss()",
     lambda rng: (rng.standard_normal((5, 4)), rng.integers(0, 4, 5))),
]


def run_all(seed: int = 0, **options):
    """``{name: Verdict}``: each layer checked in float64 (numpy-ml computes in float64),
    its default initialisation included (``np.random`` seeded first: numpy-ml draws from
    NumPy's global generator)."""
    import torch

    from compare import check
    out = {}
    for name, make, twin, inputs in LAYERS:
        rng = np.random.default_rng(seed)
        np.random.seed(seed)
        out[name] = check(make(), eval(twin, {"torch": torch}), *inputs(rng),
                          dtypes="float64", seed=seed, label=f"numpy-ml {name}",
                          init=True, **options)
    return out


if __name__ == "__main__":
    for name, verdict in run_all().items():
        print(verdict, end="\n\n")
