"""Figures. The only module that imports matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects and written to files;
pyplot's global state and interactive backends are never touched.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from matplotlib.figure import Figure


def plot_history(history_csv: str | Path, out_png: str | Path, *, title: str = "") -> None:
    """Loss and AUROC per epoch, training and validation, from a Keras CSV log."""
    history = pd.read_csv(history_csv)
    metrics = [m for m in ("loss", "auroc") if m in history]
    fig = Figure(figsize=(5 * len(metrics), 3.5))
    axes = fig.subplots(1, len(metrics), squeeze=False)
    for ax, metric in zip(axes[0], metrics, strict=True):
        ax.plot(history["epoch"] + 1, history[metric], label="training")
        if f"val_{metric}" in history:
            ax.plot(history["epoch"] + 1, history[f"val_{metric}"], label="validation")
        ax.set_xlabel("epoch")
        ax.set_ylabel("macro AUROC" if metric == "auroc" else metric)
        ax.grid(alpha=0.3)
        ax.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=100)
