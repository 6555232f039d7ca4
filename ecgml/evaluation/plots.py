"""Figures. The only module that imports matplotlib.

Figures are built as ``matplotlib.figure.Figure`` objects and written to files;
pyplot's global state and interactive backends are never touched.
"""

from __future__ import annotations

import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
    roc_curve,
)

from ecgml.evaluation import calibration
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
            ax.plot(
                epochs,
                history["val_loss"],
                color=colour,
                linestyle="--",
                label=f"fold {fold} validation",
            )
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


_NOTE_LINE = 0.17  # inches per line of the note under a grid


def _grid(n_panels: int, size: float = 2.6, note: str = "") -> tuple[Figure, list, float]:
    """A grid of panels, the ``note`` written under it; also the note's height in inches."""
    cols = min(6, max(1, n_panels))
    rows = -(-n_panels // cols)
    width = size * max(cols, 3 if note else 1)  # room for the note's line
    lines = textwrap.wrap(note, int(width * 13)) if note else []  # ~13 characters an inch
    fig = Figure(figsize=(width, size * rows + _NOTE_LINE * (len(lines) + 1) * bool(lines)))
    axes = fig.subplots(rows, cols, squeeze=False).ravel().tolist()
    for ax in axes[n_panels:]:
        ax.set_axis_off()
    if lines:
        fig.text(0.01, 0.01, "\n".join(lines), fontsize=8, color="0.3", va="bottom")
    return fig, axes[:n_panels], _NOTE_LINE * (len(lines) + 1) * bool(lines)


def _panels(
    y_true: np.ndarray,
    names: Sequence[str],
    shown: np.ndarray,
    size: float = 2.6,
    left_out: str = "no positive test records",
) -> tuple[Figure, list[tuple[int, object]], float]:
    """A grid with a panel for each ``shown`` class, most positives first, and a
    line under it naming the classes left out (its height in inches returned too)."""
    order = sorted(np.nonzero(shown)[0], key=lambda k: (-int(y_true[:, k].sum()), k))
    left = [names[k] for k in range(len(names)) if not shown[k]]
    note = f"not drawn, {left_out}: {', '.join(left)}" if left else ""
    fig, axes, bottom = _grid(max(len(order), 1), size, note)
    if not order:
        axes[0].text(
            0.5, 0.5, "no class has\npositive test records", ha="center", va="center", color="0.4"
        )
        axes[0].set_axis_off()
    return fig, list(zip(order, axes, strict=False)), bottom


def _scorable(y_true: np.ndarray) -> np.ndarray:
    """Classes with positive and negative records, which a ranking curve needs."""
    positives = y_true.sum(axis=0)
    return (positives > 0) & (positives < len(y_true))


def plot_roc_grid(
    y_true: np.ndarray,
    y_score: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """One ROC panel with its AUC per class that has positive (and negative)
    records, most positives first; the other classes are named in one line."""
    fig, panels, bottom = _panels(y_true, names, _scorable(y_true))
    for k, ax in panels:
        ax.plot([0, 1], [0, 1], color="0.8", lw=0.8)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        fpr, tpr, _ = roc_curve(y_true[:, k], y_score[:, k])
        auc = roc_auc_score(y_true[:, k], y_score[:, k])
        ax.plot(fpr, tpr, lw=1.5)
        ax.set_title(f"{names[k]} AUC {auc:.3f} (n={int(y_true[:, k].sum())})", fontsize=9)
        ax.set_xlabel("1 - specificity", fontsize=7)
        ax.set_ylabel("sensitivity", fontsize=7)
        ax.tick_params(labelsize=7)
    _finish(fig, title, out_png, bottom)


def plot_pr_grid(
    y_true: np.ndarray,
    y_score: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """One precision-recall panel with its average precision per class that has
    positive records, most positives first; the others named in one line."""
    fig, panels, bottom = _panels(y_true, names, y_true.sum(axis=0) > 0)
    for k, ax in panels:
        positives = int(y_true[:, k].sum())
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1.02)
        precision, recall, _ = precision_recall_curve(y_true[:, k], y_score[:, k])
        ap = average_precision_score(y_true[:, k], y_score[:, k])
        ax.step(recall, precision, where="post", lw=1.5)
        ax.axhline(positives / len(y_true), color="0.8", lw=0.8)  # chance level
        ax.set_title(f"{names[k]} AP {ap:.3f} (n={positives})", fontsize=9)
        ax.set_xlabel("recall", fontsize=7)
        ax.set_ylabel("precision", fontsize=7)
        ax.tick_params(labelsize=7)
    _finish(fig, title, out_png, bottom)


def plot_calibration(
    y_true: np.ndarray,
    y_score: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """A reliability diagram per class that has positive records, most positives
    first (:mod:`ecgml.evaluation.calibration`): the share of positives against
    the mean probability in each bin, a point's area its number of records, with
    the class's ECE and Brier score; the other classes are named in one line."""
    fig, panels, bottom = _panels(y_true, names, y_true.sum(axis=0) > 0)
    for k, ax in panels:
        prob_true, prob_pred, counts = calibration.reliability(y_true[:, k], y_score[:, k])
        ece = calibration.expected_calibration_error(y_true[:, k], y_score[:, k])
        brier = brier_score_loss(y_true[:, k].astype(bool), y_score[:, k], pos_label=True)
        ax.plot([0, 1], [0, 1], color="0.8", lw=0.8)  # perfectly calibrated
        ax.plot(prob_pred, prob_true, color="C0", lw=1)
        ax.scatter(prob_pred, prob_true, s=12 + 150 * counts / counts.max(), color="C0")
        ax.set_xlim(0, 1)
        ax.set_ylim(-0.02, 1.02)
        ax.set_title(f"{names[k]} ECE {ece:.3f} Brier {brier:.3f}", fontsize=8)
        ax.set_xlabel("mean probability", fontsize=7)
        ax.set_ylabel("share positive", fontsize=7)
        ax.tick_params(labelsize=7)
    _finish(fig, title, out_png, bottom)


def plot_confusion_grid(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """One 2x2 confusion matrix (rows label, columns decision) per class with a
    positive label or decision, most positives first; the others in one line."""
    shown = (y_true.sum(axis=0) > 0) | (y_pred.sum(axis=0) > 0)
    fig, panels, bottom = _panels(
        y_true, names, shown, size=2.2, left_out="no positive label or decision"
    )
    for k, ax in panels:
        t, p = y_true[:, k].astype(bool), y_pred[:, k].astype(bool)
        counts = np.array([[np.sum(~t & ~p), np.sum(~t & p)], [np.sum(t & ~p), np.sum(t & p)]])
        ax.imshow(counts / max(counts.sum(), 1), cmap="Blues", vmin=0, vmax=1)
        for (i, j), c in np.ndenumerate(counts):
            ax.text(j, i, str(c), ha="center", va="center", fontsize=9)
        ax.set_xticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_yticks([0, 1], ["no", "yes"], fontsize=7)
        ax.set_xlabel("decided", fontsize=7)
        ax.set_ylabel("label", fontsize=7)
        ax.set_title(names[k] if t.any() else f"{names[k]} (no positives)", fontsize=9)
    _finish(fig, title, out_png, bottom)


def plot_confusion_matrix(
    y_true: np.ndarray,
    y_pred: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """One confusion matrix of one-hot labels and decisions (rows label, columns
    decision), each cell's count written and its share of the row shaded."""
    k = len(names)
    counts = np.zeros((k, k), dtype=np.int64)
    np.add.at(counts, (np.argmax(y_true, axis=1), np.argmax(y_pred, axis=1)), 1)
    fig = Figure(figsize=(1.2 * k + 2.4, 1.2 * k + 1.6))
    ax = fig.subplots()
    ax.imshow(
        counts / np.maximum(counts.sum(axis=1, keepdims=True), 1), cmap="Blues", vmin=0, vmax=1
    )
    for (i, j), c in np.ndenumerate(counts):
        ax.text(j, i, str(c), ha="center", va="center", fontsize=10)
    ax.set_xticks(range(k), names, fontsize=8)
    ax.set_yticks(range(k), names, fontsize=8)
    ax.set_xlabel("decided", fontsize=9)
    ax.set_ylabel("label", fontsize=9)
    _finish(fig, title, out_png)


def plot_confusion(
    kind: str,
    y_true: np.ndarray,
    y_pred: np.ndarray,
    names: Sequence[str],
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """The confusion plot a target kind asks for (:attr:`ecgml.targets.Target.confusion`):
    ``"grid"`` or ``"matrix"``."""
    draw = {"grid": plot_confusion_grid, "matrix": plot_confusion_matrix}[kind]
    draw(y_true, y_pred, names, out_png, title=title)


def plot_beat_explanations(
    windows: np.ndarray,
    maps: np.ndarray,
    classes: Sequence[str],
    fs: float,
    offset: int,
    out_png: str | Path,
    *,
    title: str = "",
) -> None:
    """A beat run's explanation: per explained class, the mean beat of its beats
    (first lead, ``windows`` ``(n, window, n_leads)``) over the beat window, with
    the mean absolute attribution (``maps``, the same shape) shaded under it;
    time 0 is the R peak, ``offset`` samples into the window."""
    names = list(dict.fromkeys(classes))
    fig, axes = _grid(len(names), size=3.2)[:2]
    t = (np.arange(windows.shape[1]) - offset) / fs * 1000.0
    chosen = np.asarray(classes)
    for ax, name in zip(axes, names, strict=True):
        rows = chosen == name
        beat = windows[rows, :, 0].mean(axis=0)
        weight = np.abs(maps[rows]).sum(axis=2).mean(axis=0)
        weight = weight / weight.max() if weight.max() > 0 else weight
        low, high = float(beat.min()), float(beat.max())
        ax.fill_between(
            t, low, low + (high - low) * weight, color="C3", alpha=0.35, label="importance"
        )
        ax.plot(t, beat, color="k", lw=1.2, label="mean beat")
        ax.axvline(0, color="0.6", lw=0.8)
        ax.set_title(f"{name} ({int(rows.sum())} beats)", fontsize=9)
        ax.set_xlabel("ms from the R peak", fontsize=7)
        ax.tick_params(labelsize=7)
    axes[0].legend(fontsize=7)
    _finish(fig, title, out_png)


def _finish(fig: Figure, title: str, out_png: str | Path, bottom: float = 0.0) -> None:
    """Title, layout above ``bottom`` inches kept for a note, and the file."""
    if title:
        fig.suptitle(title)
    fig.tight_layout(rect=(0, bottom / fig.get_figheight(), 1, 1))
    fig.savefig(out_png, dpi=90)


def plot_study(study: Any, out: Path, n_complete: int) -> None:
    """An Optuna study's optimisation history (``history.png``) and parameter
    importances (``importance.png``, from two complete trials), drawn by Optuna's
    matplotlib views; a plot Optuna cannot draw is said, not raised."""
    import warnings

    import matplotlib.pyplot as plt
    from optuna.visualization import matplotlib as views

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the matplotlib views are marked experimental
        for name, draw, needs in (
            ("history.png", views.plot_optimization_history, 1),
            ("importance.png", views.plot_param_importances, 2),
        ):
            if n_complete < needs:
                print(f"{name}: needs {needs} complete trial(s), the study has {n_complete}")
                continue
            try:
                ax = draw(study)
            except (ValueError, RuntimeError) as exc:
                print(f"{name}: not drawn ({exc})")
                continue
            figure = ax.figure if hasattr(ax, "figure") else ax.flat[0].figure
            figure.tight_layout()
            atomic_write(Path(out) / name, lambda tmp, f=figure: f.savefig(tmp, dpi=120))
            plt.close(figure)
