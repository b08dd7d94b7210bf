"""Float32 allowances that hold only from the step where their reason is seen
(compare/allowance.py): the digits-CNN's ReLU flip."""
import numpy as np
import pytest
import torch

import npimpl
from compare import recipes, train
from compare.allowance import relu_flip
from compare.engine import Trajectory, run
from compare.metrics import FLOAT32, FromEvent, Tolerance
from reference import Spec, build, optimizer_pair, seq


def test_the_digits_cnn_allowance_no_longer_lets_a_regression_through(monkeypatch):
    """A 1% error in the classifier's weight gradient: inside the old blanket allowance
    (rtol 1e-2, atol 3e-2) it passed; with no ReLU flip in the run the contract holds."""
    real = npimpl.Linear.backward

    def off_by_1_percent(self, g):
        dx = real(self, g)
        self.weight.grad *= np.float32(1.01)
        return dx
    monkeypatch.setattr(npimpl.Linear, "backward", off_by_1_percent)
    r = train.train("digits-cnn", "float32", max_steps=2)
    assert not r.passed and r.tolerance is FLOAT32
    old = Tolerance(1e-2, 3e-2, "old blanket allowance")
    assert max(row["max_param_abs_dev"] for row in r.rows) < old.atol     # it used to pass


def _pair_with_a_flip(dt, flip: bool):
    np_m, t_m = build(seq(Spec("Linear", 2, 3), Spec("ReLU"), Spec("Linear", 3, 1)), dt)
    with torch.no_grad():
        t_m[0].weight.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, -1.0]]))
        t_m[0].bias.zero_()
    np_m.load_state_dict({k: v.numpy() for k, v in t_m.state_dict().items()})
    if flip:                                     # NumPy's third unit just above 0, torch's at 0
        np_m[0].bias.data[2] = 1e-9
    return np_m, t_m


@pytest.mark.parametrize("flip", [True, False], ids=["flip", "no-flip"])
def test_relu_flip_finds_a_pre_activation_on_opposite_sides_of_0(flip):
    np_m, t_m = _pair_with_a_flip(np.float64, flip)
    x = np.array([[0.5, 0.5], [1.0, 2.0]])
    what = relu_flip(np_m, t_m, x)
    if flip:
        assert "layer 1 (ReLU) at (0, 2) is +1e-09 for NumPy and +0 for torch" in what
    else:
        assert what is None


def test_a_from_event_allowance_holds_only_from_the_event_and_says_so():
    """Steps before the detector fires are judged by the contract, later ones by the
    allowance, and their rows name the step and the event."""
    calls = []

    def detect(np_model, t_model, x):
        calls.append(len(calls))
        return "planted at step 2" if len(calls) == 3 else None
    allow = FromEvent(Tolerance(1e-2, 1e-2, "planted-allowance"), "a planted event", detect)
    case = Trajectory("planted", "Linear", "optim", model=lambda dt: build(Spec("Linear", 3, 2), dt),
                      loss=lambda dt: (npimpl.MSELoss(), torch.nn.MSELoss()),
                      batches=lambda rng, dt, step: (rng.standard_normal((4, 3)).astype(dt),
                                                     rng.standard_normal((4, 2)).astype(dt)),
                      optimizer=lambda m, t: optimizer_pair("SGD", m, t, lr=0.1), steps=5,
                      dtypes=("float32",), f32=allow)
    res = run(case, "float32")
    assert res.passed and len(calls) == 3          # detected once, then never asked again
    tolerances = {r.tolerance for r in res.rows}
    assert tolerances == {"float32", "planted-allowance"}
    for r in res.rows:
        if r.worst_step is not None and r.worst_step >= 2:
            assert r.tolerance == "planted-allowance"
            assert "planted-allowance from step 2: a planted event (planted at step 2)" in r.note
        elif r.worst_step is not None:
            assert r.tolerance == "float32"
    assert recipes.get("digits-cnn", max_steps=1).f32.event == "a ReLU flip"
