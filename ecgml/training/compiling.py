"""What a fold model is compiled with, and how it scores its validation records."""

from __future__ import annotations

from typing import TYPE_CHECKING

import keras
import numpy as np

from ecgml.data.cache import Cache
from ecgml.metrics import MacroAUROC
from ecgml.optimizers import RAdam
from ecgml.targets import Target
from ecgml.training.config import TrainingConfig
from ecgml.training.crops import predict_cached
from ecgml.training.schedules import OneCycle

if TYPE_CHECKING:
    from ecgml.config import TaskConfig


def compile_model(
    model: keras.Model,
    training: TrainingConfig,
    target: Target,
    y_train: np.ndarray,
    y_val: np.ndarray,
    total_steps: int,
    *,
    layer_lr_scale: dict[str, float] | None = None,
) -> None:
    """Compile as training does: RAdam with warm-up and decay over ``total_steps``, the
    ``target`` kind's loss weighted from ``y_train``, macro AUROC over ``y_val``'s
    classes; ``layer_lr_scale`` scales the learning rate of the layers it names."""
    t = training
    one_cycle = t.schedule == "one_cycle"
    learning_rate = (
        OneCycle(
            t.learning_rate,
            total_steps,
            t.one_cycle_pct_start,
            t.one_cycle_div,
            t.one_cycle_final_div,
        )
        if one_cycle
        else t.learning_rate
    )
    if t.optimizer == "adamw":
        if not one_cycle:  # no warm-up (the config refuses one): linear decay to min_lr
            learning_rate = keras.optimizers.schedules.PolynomialDecay(
                t.learning_rate, max(total_steps, 1), end_learning_rate=t.min_lr, power=1.0
            )
        optimizer = keras.optimizers.AdamW(
            learning_rate=learning_rate,
            beta_1=t.beta_1,
            beta_2=t.beta_2,
            weight_decay=t.weight_decay,
        )
    else:
        optimizer = RAdam(
            learning_rate=learning_rate,
            beta_1=t.beta_1,
            beta_2=t.beta_2,
            weight_decay=t.weight_decay or None,
            total_steps=total_steps if t.warmup_proportion and not one_cycle else 0,
            warmup_proportion=t.warmup_proportion,
            min_lr=t.min_lr,
            layer_lr_scale=layer_lr_scale,
        )
    loss = target.make_loss(t, y_train)
    # macro AUROC over the classes the validation fold has positives of; weighted, so
    # that the fill-up of validation batches over processes (weight 0) is left out
    auroc = MacroAUROC((y_val.sum(axis=0) > 0).astype("float32"))
    model.compile(
        optimizer=optimizer,
        loss=loss,
        weighted_metrics=[auroc],
        jit_compile=t.jit_compile,
        steps_per_execution=t.steps_per_execution,
    )


_CHUNK_BYTES = 256 * 2**20


def validation_scores(
    model: keras.Model,
    cache: Cache,
    indices: np.ndarray,
    length: int,
    task: TaskConfig,
    batch: int,
    features: np.ndarray | None,
) -> np.ndarray:
    """The model's scores of the records ``indices`` as the run scores held-out records
    (:mod:`ecgml.training.crops`): the first window's centre crop, or its sliding crops
    under ``task.window_stride``, combined by ``task.window_aggregate``; ``batch``
    inputs per model call."""

    def predict(x, f):
        inputs = x if f is None else {"ecg": x, "features": f}
        return np.asarray(model.predict(inputs, batch_size=batch, verbose=0))[None]

    index = cache.index
    # few, large model calls (each new input length traces the predict step again),
    # within about 256 MB of inputs
    per_crop = length * cache.signals.shape[2] * 4
    chunk = max(batch, (_CHUNK_BYTES // per_crop) // batch * batch)
    return predict_cached(
        predict,
        cache.signals,
        index["row"].to_numpy()[indices],
        index["n_windows"].to_numpy()[indices],
        length,
        stride=task.window_stride,
        how=task.window_aggregate,
        features=None if features is None else features[indices],
        chunk=chunk,
    )[0]
