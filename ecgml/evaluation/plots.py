"""Figures. The only module that imports matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects and written to files;
pyplot's global state and interactive backends are never touched.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ecgml.files import atomic_write


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


def plot_losses(histories: dict[int, str | Path], out_png: str | Path, *, title: str = "") -> int:
    """Every fold's training and validation loss per epoch in one figure (the run's
    ``losses.png``): one colour per fold, solid for training, dashed for validation.

    Args:
        histories: fold number to its Keras CSV log; missing or empty logs are left out.

    Returns:
        How many folds were drawn.
    """
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    colours = [f"C{k}" for k in range(10)]
    drawn = 0
    for fold, path in sorted(histories.items()):
        path = Path(path)
        if not path.is_file() or path.stat().st_size == 0:
            continue
        history = pd.read_csv(path)
        if history.empty or "loss" not in history:
            continue
        colour = colours[fold % len(colours)]
        epochs = history["epoch"] + 1
        ax.plot(epochs, history["loss"], color=colour, label=f"fold {fold} training")
        if "val_loss" in history:
            ax.plot(epochs, history["val_loss"], color=colour, linestyle="--",
                    label=f"fold {fold} validation")  # fmt: skip
        drawn += 1
    ax.set_xlabel("epoch")
    ax.set_ylabel("loss")
    ax.grid(alpha=0.3)
    if drawn:
        ax.legend(fontsize=7, ncol=2)
    fig.suptitle(title or "training (solid) and validation (dashed) loss per fold")
    fig.tight_layout()
    # fold jobs running side by side each redraw this: a reader sees a whole file
    atomic_write(out_png, lambda tmp: fig.savefig(tmp, dpi=100))
    return drawn


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


def plot_confusion(
    kind: str, y_true: np.ndarray, y_pred: np.ndarray, names: Sequence[str],
    out_png: str | Path, *, title: str = "",
) -> None:  # fmt: skip
    """The confusion plot a target kind asks for (:attr:`ecgml.targets.Target.confusion`):
    ``"grid"`` or ``"matrix"``."""
    draw = {"grid": plot_confusion_grid, "matrix": plot_confusion_matrix}[kind]
    draw(y_true, y_pred, names, out_png, title=title)


def _finish(fig: Figure, title: str, out_png: str | Path) -> None:
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(out_png, dpi=90)
