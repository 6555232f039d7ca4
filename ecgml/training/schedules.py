"""Learning-rate schedules beyond RAdam's own warm-up and decay."""

from __future__ import annotations

import math

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ecgml")
class OneCycle(keras.optimizers.schedules.LearningRateSchedule):
    """The one-cycle policy (Smith, 2018) as fastai's ``fit_one_cycle`` runs it, which
    the PTB-XL benchmark trains with (Strodthoff et al., 2021).

    The rate rises from ``max_lr / div`` to ``max_lr`` over the first ``pct_start``
    of ``total_steps``, then falls to ``max_lr / final_div`` at the last step, both
    phases along a half cosine. fastai also cycles Adam's first-moment decay
    (0.95 to 0.85 and back); that part is not done here.

    Args:
        max_lr: the peak rate.
        total_steps: steps of the whole training.
        pct_start: share of the steps spent rising.
        div: ``max_lr / div`` is the first rate.
        final_div: ``max_lr / final_div`` is the last.
    """

    def __init__(
        self,
        max_lr: float,
        total_steps: int,
        pct_start: float = 0.3,
        div: float = 25.0,
        final_div: float = 2.5e5,
    ) -> None:
        if total_steps < 1:
            raise ValueError(f"total_steps must be positive, got {total_steps}")
        if not 0.0 < pct_start < 1.0 or div < 1.0 or final_div < 1.0:
            raise ValueError(
                f"need 0 < pct_start < 1 and div, final_div >= 1, got "
                f"{pct_start}, {div}, {final_div}"
            )
        self.max_lr, self.total_steps = float(max_lr), int(total_steps)
        self.pct_start, self.div, self.final_div = float(pct_start), float(div), float(final_div)

    def __call__(self, step):
        step = ops.cast(step, "float32")
        rise = max(1.0, round(self.pct_start * self.total_steps))
        fall = max(1.0, self.total_steps - rise)
        low, high, end = self.max_lr / self.div, self.max_lr, self.max_lr / self.final_div

        def cosine(start, stop, fraction):
            fraction = ops.clip(fraction, 0.0, 1.0)
            return stop + (start - stop) * (1.0 + ops.cos(math.pi * fraction)) / 2.0

        return ops.where(
            step < rise, cosine(low, high, step / rise), cosine(high, end, (step - rise) / fall)
        )

    def get_config(self):
        return {
            "max_lr": self.max_lr,
            "total_steps": self.total_steps,
            "pct_start": self.pct_start,
            "div": self.div,
            "final_div": self.final_div,
        }
