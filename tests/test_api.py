"""The public check API (compare.check / assert_lockstep / Verdict) and the pytest fixture,
on layers written the way a user would write them."""
import importlib.metadata
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch

import npimpl
from compare import Verdict, assert_lockstep, check

X = np.random.default_rng(0).standard_normal((5, 4))


class MyLinear(npimpl.Linear):
    """A user's subclass that recomputes everything itself (and is right)."""

    def forward(self, x):
        self._x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, g):
        self.weight.accumulate(g.T @ self._x)
        self.bias.accumulate(g.sum(0))
        return g @ self.weight.data


class Overwriting(MyLinear):
    def backward(self, g):
        dx = super().backward(g)
        self.weight.grad = g.T @ self._x                    # overwrites the first pass
        return dx


class WrongBias(MyLinear):
    def backward(self, g):
        dx = super().backward(g)
        self.bias.grad[2] += 0.25                           # one wrong element
        return dx


class Duck:
    """Not an npimpl.Module: plain attributes and the four protocol methods."""

    class P:
        def __init__(self, a):
            self.data, self.grad = a, None

    def __init__(self, n_in, n_out):
        self.weight, self.bias = self.P(np.zeros((n_out, n_in))), self.P(np.zeros(n_out))

    def named_parameters(self):
        return [("weight", self.weight), ("bias", self.bias)]

    def load_state_dict(self, d):
        self.weight.data, self.bias.data = d["weight"].copy(), d["bias"].copy()

    def forward(self, x):
        self.x = x
        return x @ self.weight.data.T + self.bias.data

    def backward(self, g):
        for p, v in ((self.weight, g.T @ self.x), (self.bias, g.sum(0))):
            p.grad = v if p.grad is None else p.grad + v
        return g @ self.weight.data


def test_a_correct_user_subclass_passes_in_both_dtypes_and_modes():
    v = check(MyLinear(4, 3), torch.nn.Linear(4, 3), X)
    assert isinstance(v, Verdict) and v.passed
    rows = v.rows
    assert set(rows["dtype"]) == {"float32", "float64"}
    assert {c.split("[")[1] for c in rows["case"]} == {"train]", "eval]"}
    assert {"out", "grad_in", "grad.weight", "grad.bias", "accum.grad.weight",
            "accum.grad_in"} <= set(rows["quantity"])
    assert list(rows.columns)[:6] == ["case", "family", "layer", "dtype", "quantity", "kind"]
    assert "agrees with torch" in str(v)


def test_overwriting_grad_is_flagged_and_named():
    v = check(Overwriting(4, 3), torch.nn.Linear(4, 3), X)
    assert not v.passed
    assert {r.quantity for r in v.failures} == {"accum.grad.weight"}
    assert "overwritten, not accumulated" in str(v)


def test_wrong_bias_gradient_message_names_bias_index_values_and_tolerance():
    v = check(WrongBias(4, 3), torch.nn.Linear(4, 3), X, dtypes="float64", eval=False)
    text = str(v)
    first = text.split("first failure: ", 1)[1]
    assert first.startswith("grad.bias [float64")
    assert "index (2,)" in first and "mismatched elements: 1 / 3" in first
    assert "max_abs 0.25" in first and "float64" in first and "1e-10" in first
    with pytest.raises(AssertionError) as info:
        assert_lockstep(WrongBias(4, 3), torch.nn.Linear(4, 3), X, dtypes="float64")
    assert str(info.value).startswith("lockstep: WrongBias differs from torch")


def test_a_duck_typed_layer_is_checked_and_its_missing_modes_said():
    v = check(Duck(4, 3), torch.nn.Linear(4, 3), X)
    assert v.passed, str(v)
    assert any("eval mode was not checked" in n for n in v.notes)


def test_optimizer_trajectory_compares_every_step():
    opt = (lambda p: npimpl.optim.SGD(p, lr=0.1, momentum=0.9),
           lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9))
    v = check(npimpl.Linear(4, 3), torch.nn.Linear(4, 3), X, optimizer=opt, steps=4,
              eval=False)
    traj = v.rows[v.rows["case"].str.endswith("[optimizer]")]
    assert v.passed and {"loss", "param.weight", "param.bias"} <= set(traj["quantity"])
    wrong = (opt[0], lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.8))
    bad = check(npimpl.Linear(4, 3), torch.nn.Linear(4, 3), X, optimizer=wrong, steps=4,
                eval=False)
    assert not bad.passed and "optimizer" in str(bad)


def test_init_option_flags_a_wrong_default_initialisation():
    class WideInit(npimpl.Linear):
        def reset_parameters(self, rng=None):
            rng = rng if rng is not None else np.random.default_rng()
            self.weight.data[...] = rng.uniform(-2, 2, self.weight.shape)
            self.bias.data[...] = rng.uniform(-0.5, 0.5, self.bias.shape)
    assert check(npimpl.Linear(4, 3), torch.nn.Linear(4, 3), X, init=True, eval=False).passed
    bad = check(WideInit(4, 3), torch.nn.Linear(4, 3), X, init=True, eval=False)
    assert {r.quantity for r in bad.failures} == {"init.param.weight"}


def test_arguments_are_never_modified():
    np_mod, t_mod = MyLinear(4, 3), torch.nn.Linear(4, 3)
    w, x = np_mod.weight.data.copy(), X.copy()
    check(np_mod, t_mod, x)
    assert np.array_equal(np_mod.weight.data, w) and np_mod.weight.grad is None
    assert np.array_equal(x, X) and t_mod.weight.dtype == torch.float32
    assert t_mod.weight.grad is None


@pytest.mark.parametrize("call,exc,words", [
    (lambda: check(object(), torch.nn.Linear(4, 3), X), TypeError, "has no forward"),
    (lambda: check(MyLinear(4, 3), np.zeros(3), X), TypeError, "torch.nn.Module"),
    (lambda: check(MyLinear(4, 3), torch.nn.Linear(4, 3)), ValueError, "no inputs"),
    (lambda: check(MyLinear(4, 3), torch.nn.Linear(4, 3, bias=False), X), ValueError,
     "only in the NumPy module ['bias']"),
    (lambda: check(MyLinear(4, 3), torch.nn.Linear(4, 3), X, dtypes=["float8"]), ValueError,
     "float8"),
    (lambda: check(MyLinear(4, 3), torch.nn.Linear(4, 3), X, optimizer=print), TypeError,
     "optimizer must be a pair"),
], ids=["not-a-layer", "not-torch", "no-inputs", "state-dict-keys", "dtype", "optimizer"])
def test_bad_arguments_give_clear_errors(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    assert words in str(info.value)


def test_the_pytest_fixture_from_a_separate_test_file(tmp_path):
    """A user's test file with only the fixture, run by pytest in a subprocess: the passing
    test passes, the failing one shows the verdict's text (not a repr)."""
    (tmp_path / "test_user.py").write_text(textwrap.dedent('''
        import numpy as np, torch, npimpl

        class Mine(npimpl.Linear):
            def backward(self, g):
                dx = super().backward(g)
                self.bias.grad[0] *= 2
                return dx

        X = np.random.default_rng(1).standard_normal((3, 4))

        def test_good(lockstep):
            lockstep.assert_(npimpl.Linear(4, 3), torch.nn.Linear(4, 3), X)

        def test_bad(lockstep):
            lockstep.assert_(Mine(4, 3), torch.nn.Linear(4, 3), X)
    '''))
    installed = any(e.value == "compare.pytest_plugin"
                    for e in importlib.metadata.entry_points(group="pytest11"))
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)]
    if not installed:               # a source tree not installed with its entry points
        cmd[3:3] = ["-p", "compare.pytest_plugin"]
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(__file__)))
    out = subprocess.run(cmd, capture_output=True, text=True, cwd=tmp_path, env=env)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "1 failed, 1 passed" in out.stdout
    assert "lockstep: Mine differs from torch" in out.stdout
    assert "first failure: grad.bias" in out.stdout
    assert "Verdict(" not in out.stdout and "object at 0x" not in out.stdout


def test_export_round_trip(tmp_path):
    """`lockstep export` writes torch's side of a case; reloaded with plain NumPy, the arrays
    reproduce torch (forward and gradients) from the exported inputs and weights."""
    import json

    from compare.cli import main
    out = tmp_path / "ref.npz"
    assert main(["export", "linear-2d,linear-tied-weights", "--out", str(out)]) == 0
    data, manifest = np.load(out), json.loads((tmp_path / "ref.json").read_text())
    assert set(manifest["cases"]) == {"linear-2d", "linear-tied-weights"}
    assert sorted(data.files) == sorted(manifest["entries"])
    for dt in ("float32", "float64"):
        k = f"linear-2d/{dt}/"
        x, w, b = data[k + "input[0]"], data[k + "param.weight"], data[k + "param.bias"]
        g = data[k + "grad_output"]
        assert x.dtype == np.dtype(dt) and manifest["entries"][k + "out"]["shape"] == [4, 3]
        t = torch.nn.Linear(5, 3).to(getattr(torch, dt))
        t.load_state_dict({"weight": torch.from_numpy(w), "bias": torch.from_numpy(b)})
        xt = torch.from_numpy(x).requires_grad_()
        y = t(xt)
        y.backward(torch.from_numpy(g))
        assert np.array_equal(y.detach().numpy(), data[k + "out"])
        assert np.array_equal(xt.grad.numpy(), data[k + "grad_in"])
        assert np.array_equal(t.weight.grad.numpy(), data[k + "grad.weight"])
    folder = tmp_path / "refdir"
    assert main(["export", "linear-2d", "--out", str(folder), "--dtypes", "float64"]) == 0
    assert np.array_equal(np.load(folder / "linear-2d" / "float64" / "out.npy"),
                          data["linear-2d/float64/out"])
    assert "linear-2d/float64/grad.weight" in json.loads((folder / "manifest.json").read_text())[
        "entries"]
    assert main(["export", "zzz-nothing*", "--out", str(out)]) == 2
    assert main(["export", "linear-2d", "--out", str(tmp_path / "x.txt"), "--format", "npz"]) == 2
