"""The report's plots: per trajectory case, every trajectory at a glance, and the distribution
of ``tol_ratio`` over all rows.

Conventions kept across every plot: one colour per dtype (:data:`DTYPE_COLOUR`), NumPy solid
and torch dashed; an exact zero deviation is not drawn on a log axis (no clamp to 1e-20 and
no false spike down to it): the panel says how many steps were exact; every deviation panel
carries its tolerance (the ``atol`` floor, and ``tol_ratio = 1``, the pass limit); step axes
have integer ticks.
"""
from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.ticker import MaxNLocator  # noqa: E402

from .io import save_figure  # noqa: E402
from .metrics import TOLERANCES  # noqa: E402

#: one colour per dtype in every plot (and the oracle's rows in the histogram)
DTYPE_COLOUR = {"float32": "#1f77b4", "float64": "#d62728", "finite-difference": "#2ca02c",
                "init-ks": "#9467bd"}


def positive(values) -> np.ndarray:
    """The values with exact zeros (and negatives) as NaN: a log axis draws a gap there."""
    v = np.asarray(values, dtype=float)
    return np.where(v > 0, v, np.nan)


def log_limits(ax, *arrays, decades_below: float = 0.5) -> None:
    """A log y-axis spanning the positive values given (never down to 1e-300)."""
    vals = np.concatenate([np.asarray(a, float).ravel() for a in arrays]) if arrays else []
    vals = vals[np.isfinite(vals) & (vals > 0)] if len(vals) else vals
    if len(vals):
        ax.set_ylim(vals.min() / 10 ** decades_below, vals.max() * 10 ** decades_below)


def integer_steps(ax) -> None:
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))


def _zeros_note(dev) -> str:
    n = int((np.asarray(dev, float) == 0).sum())
    return f" ({n} steps exact)" if n else ""


def trajectory_plot(path: str, case_name: str, steps: pd.DataFrame,
                    resume_at: int | None = None) -> None:
    """Left: the loss per step, NumPy (solid) and torch (dashed), per dtype. Middle: the
    largest parameter deviation and the loss deviation |numpy - torch| per step, with each
    dtype's atol (the tolerance's floor). Right: the step's largest tol_ratio, with the pass
    limit 1. ``resume_at`` marks where a resumed run restarts from its checkpoint."""
    fig, (ax1, ax2, ax3) = plt.subplots(1, 3, figsize=(14, 3.8))
    shown = []
    for dtype, d in steps.groupby("dtype", sort=True):
        c = DTYPE_COLOUR.get(dtype)
        ax1.plot(d["step"], d["loss_numpy"], color=c, label=f"numpy {dtype}")
        ax1.plot(d["step"], d["loss_torch"], "--", color=c, alpha=.7, label=f"torch {dtype}")
        dev = d["max_param_abs_dev"]
        ax2.semilogy(d["step"], positive(dev), color=c, label=f"params {dtype}{_zeros_note(dev)}")
        if "loss_abs_dev" in d:
            ax2.semilogy(d["step"], positive(d["loss_abs_dev"]), ":", color=c,
                         label=f"loss {dtype}{_zeros_note(d['loss_abs_dev'])}")
            shown.append(d["loss_abs_dev"])
        shown.append(dev)
        tol = TOLERANCES.get(dtype)
        if tol is not None:
            ax2.axhline(tol.atol, color=c, lw=.8, ls="-.", label=f"atol {dtype} ({tol.atol:g})")
            shown.append([tol.atol])
        ax3.semilogy(d["step"], positive(d["max_tol_ratio"]), color=c, label=dtype)
    ax3.axhline(1.0, color="k", lw=1, ls="--", label="limit (tol_ratio = 1)")
    log_limits(ax2, *shown)
    log_limits(ax3, steps["max_tol_ratio"], [1.0])
    for ax in (ax1, ax2, ax3):
        integer_steps(ax)
        if resume_at is not None:
            ax.axvline(resume_at, color="grey", lw=1, ls=":")
    if resume_at is not None:
        ax1.annotate(f"resumed from the step-{resume_at} checkpoint", (resume_at, 1),
                     xycoords=("data", "axes fraction"), xytext=(4, -12),
                     textcoords="offset points", fontsize=7, color="grey")
    ax1.set(title=f"{case_name}: loss", xlabel="step", ylabel="loss")
    ax2.set(title="|numpy - torch|: params (max) and loss", xlabel="step",
            ylabel="abs deviation")
    ax3.set(title="max tol_ratio per step", xlabel="step", ylabel="tol_ratio")
    for ax in (ax1, ax2, ax3):
        ax.legend(fontsize=6.5)
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)


#: colours × line styles for many cases: no two share both
_STYLES = [(plt.get_cmap("tab10")(i), ls) for ls in ("-", "--", ":") for i in range(10)]


def growth_plot(path: str, steps: pd.DataFrame) -> None:
    """Every trajectory's largest parameter deviation per step: float32 (left), float64
    (right), each case in its own colour and line style, each dtype's atol drawn, and the
    legend in columns under the plots."""
    cases = list(dict.fromkeys(steps["case"]))
    fig, axes = plt.subplots(1, 2, figsize=(13, 4.6 + 0.22 * ((len(cases) + 2) // 3)),
                             squeeze=False)
    axes = axes[0]
    for ax, dtype in zip(axes, ("float32", "float64")):
        vals = []
        for i, case in enumerate(cases):
            d = steps[(steps["case"] == case) & (steps["dtype"] == dtype)]
            if not d.empty:
                colour, ls = _STYLES[i % len(_STYLES)]
                ax.semilogy(d["step"], positive(d["max_param_abs_dev"]), color=colour, ls=ls,
                            lw=1.1, label=case)
                vals.append(d["max_param_abs_dev"])
        tol = TOLERANCES[dtype]
        ax.axhline(tol.atol, color="k", lw=1, ls="-.", label=f"atol ({tol.atol:g})")
        log_limits(ax, *vals, [tol.atol])
        integer_steps(ax)
        ax.set(title=f"{dtype}: max |numpy - torch| over parameters", xlabel="step")
    axes[0].set_ylabel("abs deviation")
    handles, labels = axes[0].get_legend_handles_labels()
    more = [(h, lab) for h, lab in zip(*axes[1].get_legend_handles_labels()) if lab not in labels]
    handles += [h for h, _ in more]
    labels += [lab for _, lab in more]
    fig.legend(handles, labels, loc="lower center", ncol=3, fontsize=7, frameon=False)
    rows = (len(labels) + 2) // 3
    fig.tight_layout(rect=(0, min(0.6, 0.05 * rows + 0.02), 1, 1))
    save_figure(path, fig)
    plt.close(fig)


def tol_ratio_histogram(path: str, rows: pd.DataFrame) -> None:
    """How close every compared quantity came to its tolerance: a histogram of log10 tol_ratio
    per dtype (and for the finite-difference oracle's and the initialisation test's rows),
    the pass limit at 1; exact
    agreements (tol_ratio 0) are counted in the legend, since a log axis cannot place them."""
    fig, ax = plt.subplots(figsize=(9, 3.8))
    tr = pd.to_numeric(rows["tol_ratio"], errors="coerce") if not rows.empty else pd.Series([])
    finite = tr[np.isfinite(tr) & (tr > 0)]
    lo = np.floor(np.log10(finite.min())) if len(finite) else -6
    hi = max(1.0, np.ceil(np.log10(finite.max()))) if len(finite) else 1
    bins = np.linspace(lo, hi, int((hi - lo) * 4) + 1)
    special = rows["tolerance"].isin(["finite-difference", "init-ks"]) if not rows.empty \
        else pd.Series([], dtype=bool)
    groups = rows["tolerance"].where(special, rows["dtype"]) if not rows.empty \
        else pd.Series([], dtype=str)
    for name in ("float32", "float64", "finite-difference", "init-ks"):
        v = tr[groups == name]
        if v.empty:
            continue
        pos = v[np.isfinite(v) & (v > 0)]
        ax.hist(np.log10(pos), bins=bins, histtype="step", lw=1.6,
                color=DTYPE_COLOUR[name],
                label=f"{name}: {len(v)} rows, {int((v == 0).sum())} exact, "
                      f"{int((v > 1).sum())} above 1")
    ax.axvline(0, color="k", ls="--", lw=1, label="limit: tol_ratio = 1")
    ax.set(title="tol_ratio = max |numpy - torch| / (atol + rtol |torch|), all rows",
           xlabel="log10 tol_ratio", ylabel="rows")
    ax.legend(fontsize=7, loc="upper left")
    fig.tight_layout()
    save_figure(path, fig)
    plt.close(fig)
