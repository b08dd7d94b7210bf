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
    """Every trajectory's largest parameter deviation per step: float32 (left), float64
    (right), one colour per case, the legend beside the plots."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.2), sharex=True)
    cases = list(dict.fromkeys(steps["case"]))
    colours = plt.get_cmap("tab20")
    for ax, dtype in zip(axes, ("float32", "float64")):
        for i, case in enumerate(cases):
            d = steps[(steps["case"] == case) & (steps["dtype"] == dtype)]
            if not d.empty:
                ax.semilogy(d["step"], d["max_param_abs_dev"].clip(lower=1e-20),
                            color=colours(i % 20), linewidth=1, label=case)
        ax.set(title=f"{dtype}: max |numpy - torch| over parameters", xlabel="step")
    axes[0].set_ylabel("abs deviation")
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="center left", bbox_to_anchor=(0.80, 0.5), fontsize=6)
    fig.tight_layout(rect=(0, 0, 0.80, 1))
    save_figure(path, fig)
    plt.close(fig)
