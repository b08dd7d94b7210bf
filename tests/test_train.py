"""``lockstep train``: the run compares every step, writes its files, and exits 1 on a miss."""
import os

import numpy as np
import pandas as pd
import pytest
import torch

from compare import recipes, train
from compare.metrics import FLOAT64
from reference import optimizer_pair


def test_digits_mlp_float64_agrees_every_step():
    run = train.train("digits-mlp", "float64", max_steps=4)
    assert run.passed, run.failures
    assert [r["step"] for r in run.rows] == [0, 1, 2, 3]
    assert run.tolerance == FLOAT64
    for r in run.rows:
        assert abs(r["loss_numpy"] - r["loss_torch"]) <= 1e-10 * abs(r["loss_torch"])
    # the truncated run still ends with a test evaluation, identical on both sides
    assert run.same_predictions is True
    assert run.test_acc_numpy == run.test_acc_torch
    assert 0 < run.test_acc_numpy <= 1


def test_digits_split_is_fixed_and_disjoint():
    xtr, ytr, xte, yte = recipes.digits()
    assert (len(xtr), len(xte)) == (1437, 360)
    assert xtr.shape[1] == 64 and set(np.concatenate([ytr, yte]).tolist()) == set(range(10))
    assert xtr.max() <= 1.0 and xtr.min() >= 0.0
    b1 = recipes.digits_batches(1)(seed=3, dt=np.float64)
    b2 = recipes.digits_batches(1)(seed=3, dt=np.float64)
    assert all((x1 == x2).all() for (_, x1, _), (_, x2, _) in zip(b1, b2))
    assert sum(len(y) for _, _, y in b1) == 1437      # one epoch sees every example once


def test_text_ships_with_sklearn_and_encodes_losslessly():
    data, vocab = recipes.char_data()
    assert len(data) > 10_000
    assert "".join(vocab[i] for i in data[:200]) == recipes.text()[:200]


def test_main_writes_csv_and_png(tmp_path, capsys):
    code = train.main(["digits-mlp", "--dtypes", "float32,float64", "--max-steps", "3",
                       "--out", str(tmp_path)])
    assert code == 0
    out = capsys.readouterr().out
    assert "digits-mlp float64: 3 steps" in out and "predictions identical" in out
    df = pd.read_csv(tmp_path / "train-digits-mlp.csv")
    assert len(df) == 6
    assert {"loss_numpy", "loss_torch", "max_param_abs_dev", "test_acc_numpy",
            "test_acc_torch", "max_tol_ratio", "tolerance"} <= set(df.columns)
    assert set(df["dtype"]) == {"float32", "float64"}
    assert (tmp_path / "train-digits-mlp.png").read_bytes()[:4] == b"\x89PNG"
    assert not [f for f in os.listdir(tmp_path) if f.startswith(".tmp")]


def test_main_exits_1_when_the_numpy_side_drifts(tmp_path, monkeypatch):
    """A NumPy optimizer with a learning rate 1e-9 off is caught in float64."""
    def drifting(**kw):
        rc = recipes.digits_mlp(**kw)

        def opt(m, t):
            np_opt, t_opt = optimizer_pair("SGD", m, t, lr=0.1, momentum=0.9)
            np_opt.param_groups[0]["lr"] = 0.1 * (1 + 1e-6)
            return np_opt, t_opt
        rc.optimizer = opt
        return rc
    monkeypatch.setitem(recipes.RECIPES, "digits-mlp", drifting)
    code = train.main(["digits-mlp", "--dtypes", "float64", "--max-steps", "2",
                       "--out", str(tmp_path)])
    assert code == 1


def test_main_refuses_unknown_model_and_dtype(tmp_path):
    assert train.main(["resnet", "--out", str(tmp_path)]) == 2
    assert train.main(["digits-mlp", "--dtypes", "float16", "--out", str(tmp_path)]) == 2


def test_train_with_out_dir_writes_one_runs_files(tmp_path):
    run = train.train("article-toy", "float32", max_steps=3, out_dir=str(tmp_path))
    df = pd.read_csv(tmp_path / "train-article-toy.csv")
    assert run.passed and list(df["step"]) == [0, 1, 2] and set(df["dtype"]) == {"float32"}


def test_model_bench_items_run_one_step_each_side():
    from compare.bench import model_items
    from compare.bench.models import model_bench_items
    (item,) = model_bench_items(["digits-mlp"])
    assert item.name in {i.name for i in model_items()}   # a full `lockstep bench` times it
    np_step, torch_step = item.setup()
    (np_loss, _), (t_loss, _) = np_step(), torch_step()
    # float32 on both sides: the contract's float32 tolerance, torch's assert_close defaults
    torch.testing.assert_close(torch.tensor(float(np_loss), dtype=t_loss.dtype), t_loss.detach())
