"""lockstep on code nobody here wrote: numpy-ml's layers through thin adapters
(examples/numpy_ml_adapters.py). What lockstep finds is a result: each test asserts that the
deviation is reported, with the quantity the README's table names, and that the maths the
layer gets right passes."""
import os
import sys
import warnings

import numpy as np
import pytest
import torch

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(__file__)), "examples"))
with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    import numpy_ml_adapters as A  # noqa: E402

from compare import check  # noqa: E402


@pytest.fixture(scope="module")
def verdicts():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return A.run_all()


def failing(v, mode=None):
    return {r.quantity for r in v.failures if mode is None or r.case.endswith(f"[{mode}]")}


LAYERS = ["FullyConnected", "Conv2D", "BatchNorm1D", "LayerNorm1D", "Softmax"]


@pytest.mark.parametrize("name", LAYERS)
def test_single_pass_maths_agree_but_a_second_backward_returns_a_list(verdicts, name):
    """forward appends its input to layer.X until flush_gradients(); the second backward then
    returns [dx] where torch's contract (and ours) is an array."""
    v = verdicts[name]
    single = {r.quantity: r.passed for r in v.row_objects if r.case.endswith("[train]")
              and not r.quantity.startswith("accum.") and "running_var" not in r.quantity
              and "num_batches" not in r.quantity}
    assert single and all(single.values()), single
    assert "accum.grad_in structure" in failing(v, "train")
    assert any("list of 1" in r.note for r in v.failures)


@pytest.mark.parametrize("name", LAYERS)
def test_no_gradient_in_eval_mode(verdicts, name):
    """numpy-ml has no eval mode; freeze() is the nearest and refuses backward."""
    errors = [r.note for r in verdicts[name].failures if r.case.endswith("[eval]")]
    assert errors and all("Layer is frozen" in e for e in errors)


def test_batchnorm_stores_the_biased_running_variance(verdicts):
    v = verdicts["BatchNorm1D"]
    rv = next(r for r in v.failures if r.quantity == "buffer.running_var")
    n = 6               # the batch size; both update running_var = 0.9 * 1 + 0.1 * var
    # numpy-ml's var divides by n, torch's (unbiased) by n - 1
    t_var = (rv.detail["torch"] - 0.9) / 0.1
    np_var = (rv.detail["numpy"] - 0.9) / 0.1
    assert np_var == pytest.approx(t_var * (n - 1) / n, rel=1e-9)
    assert {"buffer.num_batches_tracked", "init.param.weight"} <= failing(v)


def test_initialisations_differ_from_torchs(verdicts):
    assert {"init.param.weight", "init.param.bias"} <= failing(verdicts["FullyConnected"])
    assert {"init.param.weight", "init.param.bias"} <= failing(verdicts["Conv2D"])
    assert "init.param.weight" in failing(verdicts["LayerNorm1D"])        # U(0, 1), not ones


def test_cross_entropy_sums_where_torch_averages():
    rng = np.random.default_rng(0)
    x, t = rng.standard_normal((5, 4)), rng.integers(0, 4, 5)
    mean = check(A.SoftmaxCrossEntropy(4), torch.nn.CrossEntropyLoss(), x, t, dtypes="float64")
    out = next(r for r in mean.failures if r.quantity == "out")
    assert out.detail["numpy"] == pytest.approx(5 * out.detail["torch"], rel=1e-12)
    assert check(A.SoftmaxCrossEntropy(4), torch.nn.CrossEntropyLoss(reduction="sum"), x, t,
                 dtypes="float64").passed
