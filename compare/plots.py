"""Trajectory plots: the loss on both sides and the largest parameter deviation per step."""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402

from .io import save_figure  # noqa: E402


def trajectory_plot(path: str, case_name: str, steps: pd.DataFrame) -> None:
    """Left: loss per step, NumPy (solid) and torch (dashed), per dtype. Right: the largest
    parameter deviation |numpy - torch| per step on a log axis (float32's growth shows here)."""
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    for dtype, d in steps.groupby("dtype", sort=True):
        ax1.plot(d["step"], d["loss_numpy"], label=f"numpy {dtype}")
        ax1.plot(d["step"], d["loss_torch"], "--", label=f"torch {dtype}")
        dev = d["max_param_abs_dev"].clip(lower=1e-20)
        ax2.semilogy(d["step"], dev, label=dtype)
    ax1.set(title=f"{case_name}: loss", xlabel="step", ylabel="loss")
    ax2.set(title="max |param_numpy - param_torch|", xlabel="step", ylabel="abs deviation")
    ax1.legend(fontsize=7)
    ax2.legend(fontsize=7)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)


def growth_plot(path: str, steps: pd.DataFrame) -> None:
    """All trajectories' float32 max parameter deviation per step, relative to float64's."""
    fig, ax = plt.subplots(figsize=(7, 3.6))
    for (case, dtype), d in steps.groupby(["case", "dtype"], sort=True):
        style = "-" if dtype == "float32" else ":"
        ax.semilogy(d["step"], d["max_param_abs_dev"].clip(lower=1e-20), style,
                    label=f"{case} {dtype}", linewidth=1)
    ax.set(title="How trajectories amplify rounding (solid float32, dotted float64)",
           xlabel="step", ylabel="max |numpy - torch| over parameters")
    ax.legend(fontsize=6, ncol=2)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)
