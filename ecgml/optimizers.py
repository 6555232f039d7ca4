"""Rectified Adam for Keras 3, with the optional linear warm-up and decay.

RAdam (Liu et al., 2020, "On the Variance of the Adaptive Learning Rate and
Beyond", ICLR) rectifies Adam's adaptive step by

    r_t = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))

while the variance estimate is tractable (rho_t > ``sma_threshold``), and takes
the bias-corrected momentum step without adaptation before that, where

    rho_inf = 2 / (1 - beta_2) - 1,    rho_t = rho_inf - 2 t beta_2^t / (1 - beta_2^t).

With ``total_steps > 0`` the learning rate also rises linearly from 0 over
``warmup_proportion * total_steps`` steps, then falls linearly to ``min_lr`` at
``total_steps``: what the seed project had from tensorflow-addons'
``RectifiedAdam(total_steps, warmup_proportion=0.1, min_lr=1e-5)``. The warm-up
multiplies the optimizer's current ``learning_rate``, which stays a plain
variable, so ``keras.callbacks.ReduceLROnPlateau`` still works.
"""

from __future__ import annotations

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="ecgml")
class RAdam(keras.optimizers.Optimizer):
    """Rectified Adam; the constructor takes ``keras.optimizers.Adam``'s arguments.

    Args:
        learning_rate: float or ``keras.optimizers.schedules.LearningRateSchedule``.
        beta_1: decay of the first moment.
        beta_2: decay of the second moment.
        epsilon: added to the root of the second moment.
        sma_threshold: rectify only while rho_t exceeds this (5, as in tensorflow-addons).
        total_steps: steps of the whole training for warm-up and decay; 0 turns them off.
        warmup_proportion: share of ``total_steps`` spent warming up.
        min_lr: learning rate reached at ``total_steps``.
        layer_lr_scale: ``{layer name: factor}``; the variables of those layers
            step with the learning rate times the factor (fine-tuning layers
            copied from another model at their own rate, ``training.init_lr_scale``).
        **kwargs: the base optimizer's arguments (``weight_decay``, ``clipnorm``,
            ``global_clipnorm``, ``use_ema``, ``loss_scale_factor``,
            ``gradient_accumulation_steps``, ``name``, ...).
    """

    def __init__(
        self,
        learning_rate: float = 0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        sma_threshold: float = 5.0,
        total_steps: int = 0,
        warmup_proportion: float = 0.1,
        min_lr: float = 0.0,
        layer_lr_scale: dict[str, float] | None = None,
        name: str = "radam",
        **kwargs,
    ) -> None:
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if not 0.0 <= warmup_proportion < 1.0:
            raise ValueError(f"warmup_proportion must be in [0, 1), got {warmup_proportion}")
        if total_steps < 0:
            raise ValueError(f"total_steps must be >= 0, got {total_steps}")
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.sma_threshold = sma_threshold
        self.total_steps = int(total_steps)
        self.warmup_proportion = warmup_proportion
        self.min_lr = min_lr
        self.layer_lr_scale = {str(k): float(v) for k, v in (layer_lr_scale or {}).items()}

    def _scale_of(self, path: str) -> float:
        """The learning-rate factor of a variable, by the layer names in its path."""
        for part in path.split("/")[:-1]:
            if part in self.layer_lr_scale:
                return self.layer_lr_scale[part]
        return 1.0

    def build(self, var_list):
        if self.built:
            return
        super().build(var_list)
        self._momentums, self._velocities = self.add_optimizer_variables(
            var_list, ["momentum", "velocity"]
        )
        # by index: the backend's update step may see the raw variable, without a path;
        # a backend variable (a plain ``tf.Variable``) has a name but no path
        self._lr_scales = [self._scale_of(getattr(v, "path", v.name)) for v in var_list]

    def _warmed_up(self, lr, step, dtype):
        """The learning rate after warm-up and linear decay at ``step`` (1-based)."""
        total = ops.cast(self.total_steps, dtype)
        warmup = total * self.warmup_proportion
        decay_steps = ops.maximum(total - warmup, 1.0)
        rising = lr * step / ops.maximum(warmup, 1.0)
        falling = lr + (self.min_lr - lr) / decay_steps * ops.minimum(step - warmup, decay_steps)
        return ops.where(step <= warmup, rising, falling)

    def update_step(self, gradient, variable, learning_rate):
        dtype = variable.dtype
        lr = ops.cast(learning_rate, dtype)
        gradient = ops.cast(gradient, dtype)
        step = ops.cast(self.iterations + 1, dtype)
        if self.total_steps > 0:
            lr = self._warmed_up(lr, step, dtype)
        if self.layer_lr_scale:
            lr = lr * self._lr_scales[self._get_variable_index(variable)]
        beta_1 = ops.cast(self.beta_1, dtype)
        beta_2 = ops.cast(self.beta_2, dtype)
        beta_1_power = ops.power(beta_1, step)
        beta_2_power = ops.power(beta_2, step)

        m = self._momentums[self._get_variable_index(variable)]
        v = self._velocities[self._get_variable_index(variable)]
        self.assign_add(m, ops.multiply(ops.subtract(gradient, m), 1 - beta_1))
        self.assign_add(v, ops.multiply(ops.subtract(ops.square(gradient), v), 1 - beta_2))

        m_hat = m / (1 - beta_1_power)
        rho_inf = 2 / (1 - beta_2) - 1
        rho_t = rho_inf - 2 * step * beta_2_power / (1 - beta_2_power)
        ratio = (rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t)
        rectifier = ops.sqrt(ops.maximum(ratio, 0.0))
        v_hat_root = ops.sqrt(v / (1 - beta_2_power))
        adapted = rectifier * m_hat / (v_hat_root + self.epsilon)
        update = ops.where(rho_t > self.sma_threshold, adapted, m_hat)
        self.assign_sub(variable, lr * update)

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "beta_1": self.beta_1,
                "beta_2": self.beta_2,
                "epsilon": self.epsilon,
                "sma_threshold": self.sma_threshold,
                "total_steps": self.total_steps,
                "warmup_proportion": self.warmup_proportion,
                "min_lr": self.min_lr,
                "layer_lr_scale": dict(self.layer_lr_scale),
            }
        )
        return config
