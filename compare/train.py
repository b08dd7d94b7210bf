"""``lockstep train MODEL``: train an npimpl model and its torch twin side by side.

Both sides start from the same weights and see the same batches; after every
step the loss and every parameter are compared (float64 within rtol 1e-10,
float32 within the recipe's named allowance). Classifiers report test accuracy
on both sides after every epoch, and float64 test predictions must be identical.
Writes ``<out>/train-<model>.csv`` (one row per dtype and step) and
``<out>/train-<model>.png`` (loss on both sides, parameter deviation on a log axis).
"""
from __future__ import annotations

import argparse
import os
import sys
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
import torch

from reference import to_numpy, to_torch

from . import recipes
from .engine import (Result, _Recorder, build_sides, record_step, train_step,
                     trajectory_tolerance)
from .io import save_figure, write_csv
from .metrics import Tolerance

MODELS = ("article-toy", "digits-mlp", "digits-cnn", "char-gpt")


@dataclass
class TrainRun:
    """What one (model, dtype) run measured."""

    model: str
    dtype: str
    tolerance: Tolerance
    rows: list = field(default_factory=list)      # one dict per step
    test_acc_numpy: float | None = None
    test_acc_torch: float | None = None
    same_predictions: bool | None = None
    n_predictions_differ: int | None = None
    failures: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def worst_tol_ratio(self) -> float:
        return max((r["max_tol_ratio"] for r in self.rows), default=0.0)

    @property
    def worst_param_abs_dev(self) -> float:
        return max((r["max_param_abs_dev"] for r in self.rows), default=0.0)


def _accuracy(logits: np.ndarray, y: np.ndarray) -> float:
    return float((logits.argmax(axis=-1) == y).mean())


def _evaluate(np_model, t_model, x, y):
    """Test logits of both sides in eval mode (no gradients); back to train mode after."""
    np_model.eval()
    t_model.eval()
    a = np_model(x)
    with torch.no_grad():
        b = to_numpy(t_model(to_torch(x)))
    np_model.train()
    t_model.train()
    return a, b


def train(model_name: str, dtype: str = "float64", seed: int = 0, out_dir: str | None = None,
          progress: bool = False, **recipe_kw) -> TrainRun:
    """Train ``model_name`` (see :data:`MODELS`) in ``dtype`` on both sides; compare every step.

    The recipe becomes an engine :class:`~compare.engine.Trajectory`, and the engine's own
    pieces build both sides, take each step and compare it (loss, every parameter, every
    buffer), exactly as for a catalogue case; this loop adds the epochs' test accuracy.
    ``recipe_kw`` shortens the run (``max_steps=`` for every model; ``epochs=`` for the digits
    models, ``steps=`` for the GPT and the article's toy). With ``out_dir`` the run's CSV and
    PNG are written there (:func:`write`; ``main`` writes both dtypes into one pair of files).
    """
    rc = recipes.get(model_name, **recipe_kw)
    dt = np.dtype(dtype)
    case = recipes.as_trajectory(rc, seed, f32=rc.f32)
    tol = trajectory_tolerance(case, dt.name)
    run = TrainRun(model_name, dt.name, tol)
    rec, res = _Recorder(case, dt.name, tol), Result(case, dt.name)
    schedule = rc.batches(seed, dt)                    # (epoch, x, y) per step
    torch.manual_seed(seed)
    npx, tx = build_sides(case, dt)
    bar = _bar(len(schedule), f"{model_name} {dt.name}", progress)
    for step, (epoch, x, y) in enumerate(schedule):
        np_loss, t_loss = train_step(case, npx, tx, x, y)
        record_step(rec, res, step, npx.model, tx.model, np_loss, t_loss)
        row = dict(model=model_name, **res.steps[-1], epoch=epoch, tolerance=tol.name)
        del row["case"]
        last_of_epoch = step + 1 == len(schedule) or schedule[step + 1][0] != epoch
        if rc.evaluate is not None and last_of_epoch:
            xt, yt = rc.evaluate(dt)
            a, b = _evaluate(npx.model, tx.model, xt, yt)
            run.test_acc_numpy, run.test_acc_torch = _accuracy(a, yt), _accuracy(b, yt)
            run.n_predictions_differ = int((a.argmax(-1) != b.argmax(-1)).sum())
            run.same_predictions = run.n_predictions_differ == 0
            row.update(test_acc_numpy=run.test_acc_numpy, test_acc_torch=run.test_acc_torch)
        if not row["passed"]:
            missed = sorted({r.quantity for r in rec.rows if r.worst_step == step and not r.passed})
            run.failures.append(f"step {step}: {', '.join(missed)} outside {tol.name} "
                                f"(tol ratio {row['max_tol_ratio']:.3g})")
        run.rows.append(row)
        bar.update(1)
        bar.set_postfix(loss=f"{row['loss_numpy']:.4f}", dev=f"{row['max_param_abs_dev']:.1e}")
    bar.close()
    if dt == np.float64 and run.same_predictions is False:
        run.failures.append("float64 test predictions differ between NumPy and torch")
    if out_dir is not None:
        write([run], out_dir)
    return run


def _bar(total: int, desc: str, enabled: bool):
    from tqdm import tqdm
    return tqdm(total=total, desc=desc, file=sys.stderr, disable=not enabled, leave=False,
                mininterval=0.5)


# --- writing -------------------------------------------------------------------------------
def write(runs: list[TrainRun], out_dir: str) -> tuple[str, str]:
    """Write ``train-<model>.csv`` and ``train-<model>.png`` for runs of one model."""
    model = runs[0].model
    csv = os.path.join(out_dir, f"train-{model}.csv")
    png = os.path.join(out_dir, f"train-{model}.png")
    write_csv(csv, pd.DataFrame([r for run in runs for r in run.rows]))
    _plot(runs, png)
    return csv, png


def _plot(runs: list[TrainRun], path: str) -> None:
    """Three panels sharing the step axis: the loss on both sides per dtype; the loss
    deviation |loss_numpy - loss_torch| per step; the largest parameter deviation per step.
    Deviations are on log axes, exact zeros left as gaps (counted in the legend), each dtype
    in its colour with its tolerance's atol (the floor of ``atol + rtol |torch|``)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from .plots import DTYPE_COLOUR, integer_steps, log_limits, positive
    fig, (ax_l, ax_loss, ax_d) = plt.subplots(3, 1, figsize=(10, 9), sharex=True)
    shown_loss, shown_par = [], []
    for run in runs:
        c = DTYPE_COLOUR.get(run.dtype)
        steps = [r["step"] for r in run.rows]
        acc = ("" if run.test_acc_numpy is None else
               f", test acc {run.test_acc_numpy:.3f} / {run.test_acc_torch:.3f}")
        ax_l.plot(steps, [r["loss_numpy"] for r in run.rows], color=c,
                  label=f"NumPy {run.dtype}{acc}")
        ax_l.plot(steps, [r["loss_torch"] for r in run.rows], ls="--", color=c, alpha=.7,
                  label=f"torch {run.dtype}")
        for ax, key, shown in ((ax_loss, "loss_abs_dev", shown_loss),
                               (ax_d, "max_param_abs_dev", shown_par)):
            dev = [r[key] for r in run.rows]
            exact = sum(v == 0 for v in dev)
            ax.semilogy(steps, positive(dev), color=c, label=run.dtype + (
                f" ({exact} steps exact)" if exact else ""))
            ax.axhline(run.tolerance.atol, ls=":", color=c,
                       label=f"atol of {run.tolerance.name} ({run.tolerance.atol:g})")
            shown += [dev, [run.tolerance.atol]]
    log_limits(ax_loss, *shown_loss)
    log_limits(ax_d, *shown_par)
    ax_l.set(title=f"{runs[0].model}: training loss", ylabel="loss")
    ax_loss.set(title="|loss_numpy - loss_torch| per step", ylabel="abs deviation")
    ax_d.set(title="largest |NumPy - torch| over all parameters", xlabel="step",
             ylabel="max abs deviation")
    for ax in (ax_l, ax_loss, ax_d):
        integer_steps(ax)
        ax.legend(fontsize=7)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)


def summary(run: TrainRun) -> str:
    s = (f"{run.model} {run.dtype}: {len(run.rows)} steps, final loss "
         f"{run.rows[-1]['loss_numpy']:.4f} (torch {run.rows[-1]['loss_torch']:.4f}), worst "
         f"parameter deviation {run.worst_param_abs_dev:.2e}, worst tol ratio "
         f"{run.worst_tol_ratio:.3g} under {run.tolerance.name}")
    if run.test_acc_numpy is not None:
        same = ("predictions identical" if run.same_predictions else
                f"{run.n_predictions_differ} test predictions differ")
        s += f"; test accuracy NumPy {run.test_acc_numpy:.4f} torch {run.test_acc_torch:.4f}, {same}"
    return s + ("" if run.passed else f" -- FAILED: {run.failures[0]}")


def main(argv=None) -> int:
    p = argparse.ArgumentParser(prog="lockstep train",
                                description="Train an npimpl model and its torch twin side by "
                                            "side, comparing every step.")
    p.add_argument("model", choices=MODELS)
    p.add_argument("--dtypes", default="float32,float64",
                   help="comma-separated dtypes (default float32,float64)")
    p.add_argument("--seed", type=int, default=0,
                   help="initial weights, batch order and GPT windows (default 0)")
    p.add_argument("--out", default="reports", help="output folder (default reports)")
    p.add_argument("--max-steps", type=int, default=None,
                   help="stop after this many steps (a quick look; the full run is the default)")
    a = p.parse_args(argv)
    dtypes = [d.strip() for d in a.dtypes.split(",") if d.strip()]
    for d in dtypes:
        if d not in ("float32", "float64"):
            p.error(f"--dtypes: {d!r} is not float32 or float64")
    # one torch thread: the models are tiny, and a thread pool costs more than it gains here
    torch.set_num_threads(1)
    runs = [train(a.model, d, seed=a.seed, progress=True, max_steps=a.max_steps) for d in dtypes]
    csv, png = write(runs, a.out)
    for run in runs:
        print(summary(run))
    print(f"wrote {csv} and {png}")
    return 0 if all(r.passed for r in runs) else 1


if __name__ == "__main__":
    sys.exit(main())
