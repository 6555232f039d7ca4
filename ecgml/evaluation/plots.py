"""Figures. The only module that imports matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects and written to files;
pyplot's global state and interactive backends are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import BinaryIO

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import MultipleLocator
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)


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


def _grid(n_panels: int, size: float = 2.6) -> tuple[Figure, list]:
    cols = min(6, max(1, n_panels))
    rows = -(-n_panels // cols)
    fig = Figure(figsize=(size * cols, size * rows))
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    return fig, axes[:n_panels]


def _no_positives(ax, name: str) -> None:
    ax.text(0.5, 0.5, "no positive\ntest records", ha="center", va="center", color="0.4")
    ax.set_title(f"{name} (not scored)", fontsize=9)


def plot_roc_grid(
    y_true: np.ndarray, y_score: np.ndarray, names: Sequence[str], out_png: str | Path,
    *, title: str = "",
) -> None:  # fmt: skip
    """One ROC panel per class with its AUC; a class without positives (or without
    negatives) gets a marked, empty panel."""
    fig, axes = _grid(len(names))
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
        ax.plot([0, 1], [0, 1], color="0.8", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        positives = int(y_true[:, k].sum())
        if positives == 0 or positives == len(y_true):
            _no_positives(ax, name)
            continue
        fpr, tpr, _ = roc_curve(y_true[:, k], y_score[:, k])
        auc = roc_auc_score(y_true[:, k], y_score[:, k])
        ax.plot(fpr, tpr, lw=1.5)
        ax.set_title(f"{name} AUC {auc:.3f} (n={positives})", fontsize=9)
        ax.tick_params(labelsize=7)
    for ax in axes:
        ax.set_xlabel("1 - specificity", fontsize=7)
        ax.set_ylabel("sensitivity", fontsize=7)
        ax.tick_params(labelsize=7)
    _finish(fig, title, out_png)


def plot_pr_grid(
    y_true: np.ndarray, y_score: np.ndarray, names: Sequence[str], out_png: str | Path,
    *, title: str = "",
) -> None:  # fmt: skip
    """One precision-recall panel per class with its average precision."""
    fig, axes = _grid(len(names))
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        ax.tick_params(labelsize=7)
        positives = int(y_true[:, k].sum())
        if positives == 0:
            _no_positives(ax, name)
            continue
        precision, recall, _ = precision_recall_curve(y_true[:, k], y_score[:, k])
        ap = average_precision_score(y_true[:, k], y_score[:, k])
        ax.step(recall, precision, where="post", lw=1.5)
        ax.axhline(positives / len(y_true), color="0.8", lw=0.8)  # chance level
        ax.set_title(f"{name} AP {ap:.3f} (n={positives})", fontsize=9)
        ax.set_xlabel("recall", fontsize=7)
        ax.set_ylabel("precision", fontsize=7)
        ax.tick_params(labelsize=7)
    _finish(fig, title, out_png)


def plot_confusion_grid(
    y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str], out_png: str | Path,
    *, title: str = "",
) -> None:  # fmt: skip
    """One 2x2 confusion matrix (rows label, columns decision) per class."""
    fig, axes = _grid(len(names), size=2.2)
    for k, (ax, name) in enumerate(zip(axes, names, strict=True)):
        t, p = y_true[:, k].astype(bool), y_pred[:, k].astype(bool)
        counts = np.array([[np.sum(~t & ~p), np.sum(~t & p)], [np.sum(t & ~p), np.sum(t & p)]])
        ax.imshow(counts / max(counts.sum(), 1), cmap="Blues", vmin=0, vmax=1)
        for (i, j), c in np.ndenumerate(counts):
            ax.text(j, i, str(c), ha="center", va="center", fontsize=9)
        ax.set_xticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_yticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_xlabel("decided", fontsize=7)
        ax.set_ylabel("label", fontsize=7)
        ax.set_title(name if t.any() else f"{name} (no positives)", fontsize=9)
    _finish(fig, title, out_png)


def plot_confusion_matrix(
    y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str], out_png: str | Path,
    *, title: str = "",
) -> None:  # fmt: skip
    """One confusion matrix of one-hot labels and decisions (rows label, columns
    decision), each cell's count written and its share of the row shaded."""
    k = len(names)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.argmax(y_true, axis=1), np.argmax(y_pred, axis=1)), 1)
    fig = Figure(figsize=(1.2 * k + 2.4, 1.2 * k + 1.6))
    ax = fig.subplots()
    ax.imshow(counts / np.maximum(counts.sum(axis=1, keepdims=True), 1), cmap="Blues",
              vmin=0, vmax=1)  # fmt: skip
    for (i, j), c in np.ndenumerate(counts):
        ax.text(j, i, str(c), ha="center", va="center", fontsize=10)
    ax.set_xticks(range(k), names, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("decided", fontsize=9)
    ax.set_ylabel("label", fontsize=9)
    _finish(fig, title, out_png)


def _finish(fig: Figure, title: str, out_png: str | Path) -> None:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)


def plot_ecg(
    signal: np.ndarray,
    fs: float,
    lead_names: Sequence[str],
    out: str | Path | BinaryIO,
    *,
    seconds: float = 10.0,
    title: str = "",
) -> None:
    """A multi-lead trace, the leads in two columns (I-aVF left, V1-V6 right for 12
    leads), on a grid of the ECG paper's large squares (0.2 s by 0.5 mV).

    Args:
        signal: shape ``(n_samples, n_leads)``, mV.
        fs: its sampling rate in Hz.
        lead_names: one name per column.
        out: a PNG file path or a binary file object.
        seconds: the first seconds drawn.
        title: the figure title.
    """
    n_leads = signal.shape[1]
    shown = signal[: round(seconds * fs)]
    t = np.arange(len(shown)) / fs
    n_cols = 2 if n_leads >= 6 else 1
    n_rows = -(-n_leads // n_cols)
    fig = Figure(figsize=(7 * n_cols, 1.1 * n_rows + 0.6))
    axes = fig.subplots(n_rows, n_cols, squeeze=False, sharex=True)
    for k in range(n_rows * n_cols):
        ax = axes[k % n_rows, k // n_rows]
        if k >= n_leads:
            ax.set_visible(False)
            continue
        ax.plot(t, shown[:, k], color="black", linewidth=0.6)
        low, high = float(shown[:, k].min()), float(shown[:, k].max())
        middle, half = (low + high) / 2, max((high - low) / 2, 0.5) * 1.1
        ax.set_ylim(middle - half, middle + half)
        ax.set_xlim(0, seconds)
        ax.xaxis.set_major_locator(MultipleLocator(1.0))
        ax.xaxis.set_minor_locator(MultipleLocator(0.2))
        ax.yaxis.set_major_locator(MultipleLocator(0.5))
        ax.grid(True, which="both", color="#f4b6b6", linewidth=0.5)
        ax.tick_params(which="both", labelleft=False, labelbottom=False, length=0)
        ax.set_ylabel(lead_names[k], rotation=0, ha="right", va="center", fontsize=9)
    for ax in axes[-1]:
        ax.tick_params(labelbottom=True, labelsize=8)
        ax.set_xlabel("time (s)", fontsize=8)
    if title:
        fig.suptitle(title, fontsize=10)
    fig.tight_layout()
    fig.savefig(out, format="png", dpi=80)
