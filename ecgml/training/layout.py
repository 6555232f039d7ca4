"""Names of the files in a run folder (importing this module does not import Keras).

::

    RUN/config.json          the resolved config
    RUN/folds.json           the record ids of each fold, fixed at the first call
    RUN/manifest.json        versions, machine, cache id, class names, fold times
    RUN/fold_K/model.keras   the fold's best model
    RUN/fold_K/history.csv   per-epoch metrics
    RUN/fold_K/tensorboard/  the same, as TensorBoard logs (``tensorboard --logdir RUN``)
    RUN/fold_K/val_predictions.npz   record_ids, y_true, y_score on fold K's validation part
    RUN/fold_K/init.json     with ``training.init_from``: the layers copied and not copied
    RUN/fold_K/done.json     written last: the fold is finished
    RUN/fold_K/thresholds.json       per-class thresholds (``threshold.py``)
    RUN/fold_K/best.keras    the best epoch so far, during training
    RUN/fold_K/last.keras    the last epoch, with its optimizer state (for resuming)
    RUN/fold_K/state.json    the callbacks' state at the last epoch (for resuming)
    RUN/fold_K/stack.joblib  with ``stack.forest``: the fold's forest and weights
    RUN/losses.png           every fold's training and validation loss
"""

from __future__ import annotations

from pathlib import Path

MODEL, HISTORY, PREDICTIONS, DONE = "model.keras", "history.csv", "val_predictions.npz", "done.json"
THRESHOLDS, TENSORBOARD, INIT = "thresholds.json", "tensorboard", "init.json"
CONFIG, FOLDS, MANIFEST = "config.json", "folds.json", "manifest.json"
LAST, BEST, STATE, STACK = "last.keras", "best.keras", "state.json", "stack.joblib"
LOSSES = "losses.png"


def fold_dir(run: Path, fold: int) -> Path:
    return Path(run) / f"fold_{fold}"


def is_done(run: Path, fold: int) -> bool:
    return (fold_dir(run, fold) / DONE).is_file()
