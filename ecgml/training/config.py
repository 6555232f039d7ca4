"""Training configuration (the ``training`` section of a config file)."""

from __future__ import annotations

from dataclasses import dataclass

MONITORS = ("val_loss", "val_auroc")
PRECISIONS = ("float32", "mixed_float16", "mixed_bfloat16")
KEEP_EPOCHS = ("best", "last")
OPTIMIZERS = ("radam", "adamw")
SCHEDULES = ("warmup_decay", "one_cycle")
AUGMENT_IN = ("step", "host")
DEVICE_DATA = ("auto", "on", "off")


@dataclass(frozen=True)
class TrainingConfig:
    """How each fold model is trained.

    Attributes:
        seed: seeds the folds, the weights and the augmentation.
        n_folds: cross-validation folds (at least 2; exactly 1 with
            ``task.split: "predefined"``, the source's own validation part).
        batch_size: samples per step.
        epochs: most epochs per fold.
        input_length: samples per training input; shorter than the cache's window
            gives random crops in training and centre crops in evaluation.
            ``None`` uses the whole window.
        loss: multi-label: ``"weighted_bce"``, ``"focal"`` or ``"bce"``;
            multi-class: ``"cce"``, ``"weighted_cce"`` (class weights) or
            ``"categorical_focal"``.
        focal_gamma: focal loss gamma.
        focal_alpha: focal loss alpha; ``None`` turns class balancing off.
        max_pos_weight: cap on weighted-BCE positive weights and on weighted-CCE
            class weights; ``None`` for none.
        optimizer: ``"radam"`` (:class:`ecgml.optimizers.RAdam`) or ``"adamw"``
            (``keras.optimizers.AdamW``, as the PTB-XL benchmark trains; with
            ``warmup_decay`` it takes no warm-up, only the linear decay).
        schedule: ``"warmup_decay"`` (linear warm-up over ``warmup_proportion``,
            then linear decay to ``min_lr``) or ``"one_cycle"``
            (:class:`ecgml.training.schedules.OneCycle`).
        learning_rate: the peak learning rate.
        beta_1: the first-moment decay.
        beta_2: the second-moment decay.
        weight_decay: decoupled weight decay; 0 for none.
        warmup_proportion: share of all steps spent in linear warm-up; 0 for none
            (``warmup_decay``).
        min_lr: learning rate at the last step of the linear decay (``warmup_decay``).
        one_cycle_pct_start: share of the steps the one-cycle rate rises.
        one_cycle_div: the one-cycle rate starts at ``learning_rate / one_cycle_div``.
        one_cycle_final_div: and ends at ``learning_rate / one_cycle_final_div``.
        monitor: ``"val_loss"`` or ``"val_auroc"`` (macro AUROC on the validation
            fold), for early stopping, plateau and the best checkpoint.
        early_stopping_patience: epochs without improvement before stopping; 0
            turns early stopping off.
        keep_epoch: which epoch's model the fold keeps: ``"best"`` by ``monitor``,
            or ``"last"`` (the end of the learning-rate schedule; needs early
            stopping off). On a small validation part the monitored value is
            noisy, and "best" picks noise peaks.
        reduce_lr_factor: ReduceLROnPlateau factor.
        reduce_lr_patience: ReduceLROnPlateau patience; 0 turns it off.
        noise_std: Gaussian noise added to training inputs (input units); 0 for none.
        lead_mask_prob: probability that a lead of a training input is zeroed.
        time_mask_prob: probability that a training input gets one span of time
            zeroed in every lead (random masking).
        time_mask_seconds: longest such span, in seconds; its length is drawn
            uniformly up to this.
        oversample_min_count: records of classes with fewer positives than this in
            the training fold are repeated (with noise) until they reach it; 0 for none.
        oversample_noise_std: noise added to those repeats.
        amplitude_scale: each training input is multiplied by a factor uniform in
            ``[1 - amplitude_scale, 1 + amplitude_scale]``; 0 for none.
        augment_in: ``"step"``: crops and augmentation run inside the compiled
            training step (:mod:`ecgml.training.augment`), the host only gathers
            rows; ``"host"``: in numpy on the host, as before (kept for
            comparison; no ``amplitude_scale``, no device data).
        device_data: ``"on"``: the training and validation windows are held on
            the device and batches gathered there; ``"off"``: read from the
            memory-mapped cache by ``data_workers`` threads; ``"auto"``: on
            when the backend is JAX or PyTorch with a GPU and they fit
            ``device_data_gib``.
        device_data_gib: the most device memory ``auto`` gives the windows
            (stored as bfloat16 or float16 under a mixed policy).
        data_workers: host threads that prefetch batches when the data is not
            on the device; 0: up to 4, one per CPU core.
        steps_per_execution: training steps per compiled call (Keras's
            ``steps_per_execution``); more cuts per-step dispatch.
        log_every_steps: TensorBoard's training curves every this many steps;
            0 logs per epoch only, which keeps the step asynchronous.
        compilation_cache: a folder where JAX keeps compiled steps between
            processes (folds and reruns skip compiling again); ``""`` for none.
            TensorFlow and PyTorch keep none.
        precision: ``"float32"``, ``"mixed_float16"`` or ``"mixed_bfloat16"``.
        jit_compile: XLA compilation of the train step.
        data_parallel: split each batch over all local GPUs.
        deterministic: deterministic kernels where the backend offers them.
        init_from: a run folder (its fold 0's model), a fold folder, a
            ``.keras`` file or ``"preset:NAME"`` (a preset's first fold model;
            the task's preprocessing must match the preset's) whose weights
            seed each new fold model: layers of the same name and weight
            shapes are copied, the others stay random and are listed in
            ``fold_K/init.json`` (transfer learning, :mod:`ecgml.training.transfer`).
            ``None``: random initialisation.
        init_freeze: the copied layers do not train.
        init_lr_scale: the copied layers train at the learning rate times this
            (1: as the others); needs ``init_freeze`` off.
    """

    seed: int = 42
    n_folds: int = 5
    batch_size: int = 64
    epochs: int = 50
    input_length: int | None = None
    loss: str = "weighted_bce"
    focal_gamma: float = 2.0
    focal_alpha: float | None = 0.25
    max_pos_weight: float | None = 50.0
    optimizer: str = "radam"
    schedule: str = "warmup_decay"
    learning_rate: float = 1e-3
    beta_1: float = 0.9
    beta_2: float = 0.999
    weight_decay: float = 0.0
    warmup_proportion: float = 0.1
    min_lr: float = 1e-5
    one_cycle_pct_start: float = 0.3
    one_cycle_div: float = 25.0
    one_cycle_final_div: float = 2.5e5
    monitor: str = "val_auroc"
    early_stopping_patience: int = 10
    keep_epoch: str = "best"
    reduce_lr_factor: float = 0.1
    reduce_lr_patience: int = 4
    noise_std: float = 0.0
    lead_mask_prob: float = 0.0
    time_mask_prob: float = 0.0
    time_mask_seconds: float = 1.0
    oversample_min_count: int = 0
    oversample_noise_std: float = 0.01
    amplitude_scale: float = 0.0
    augment_in: str = "step"
    device_data: str = "auto"
    device_data_gib: float = 16.0
    data_workers: int = 0
    steps_per_execution: int = 1
    log_every_steps: int = 0
    compilation_cache: str = "~/.cache/ecgml/jax"
    precision: str = "float32"
    jit_compile: bool = False
    data_parallel: bool = False
    deterministic: bool = False
    init_from: str | None = None
    init_freeze: bool = False
    init_lr_scale: float = 1.0

    def __post_init__(self) -> None:
        if not self.init_lr_scale > 0:
            raise ValueError(f"init_lr_scale must be positive, got {self.init_lr_scale}")
        if self.init_freeze and self.init_lr_scale != 1.0:
            raise ValueError("init_lr_scale is for copied layers that train; init_freeze is on")
        if (self.init_freeze or self.init_lr_scale != 1.0) and self.init_from is None:
            raise ValueError("init_freeze and init_lr_scale need init_from")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"optimizer must be one of {OPTIMIZERS}, got {self.optimizer!r}")
        if self.schedule not in SCHEDULES:
            raise ValueError(f"schedule must be one of {SCHEDULES}, got {self.schedule!r}")
        if self.optimizer == "adamw" and self.schedule == "warmup_decay" and self.warmup_proportion:
            raise ValueError(
                "optimizer 'adamw' takes schedule 'one_cycle', or 'warmup_decay' "
                "with warmup_proportion 0 (a linear decay)"
            )
        if self.optimizer == "adamw" and self.init_lr_scale != 1.0:
            raise ValueError("init_lr_scale (per-layer learning rates) needs optimizer 'radam'")
        if (
            not 0.0 < self.one_cycle_pct_start < 1.0
            or min(self.one_cycle_div, self.one_cycle_final_div) < 1.0
        ):
            raise ValueError(
                "one_cycle_pct_start must be in (0, 1) and one_cycle_div, "
                "one_cycle_final_div at least 1"
            )
        if self.augment_in not in AUGMENT_IN:
            raise ValueError(f"augment_in must be one of {AUGMENT_IN}, got {self.augment_in!r}")
        if self.device_data not in DEVICE_DATA:
            raise ValueError(f"device_data must be one of {DEVICE_DATA}, got {self.device_data!r}")
        if self.augment_in == "host" and (self.device_data == "on" or self.amplitude_scale):
            raise ValueError(
                "augment_in 'host' is the numpy pipeline: it takes neither "
                "device_data 'on' nor amplitude_scale"
            )
        if not 0.0 <= self.amplitude_scale < 1.0:
            raise ValueError(f"amplitude_scale must be in [0, 1), got {self.amplitude_scale}")
        if min(self.data_workers, self.log_every_steps) < 0 or self.steps_per_execution < 1:
            raise ValueError(
                "data_workers and log_every_steps must be >= 0 and steps_per_execution >= 1"
            )
        if not self.device_data_gib > 0:
            raise ValueError(f"device_data_gib must be positive, got {self.device_data_gib}")
        if self.monitor not in MONITORS:
            raise ValueError(f"monitor must be one of {MONITORS}, got {self.monitor!r}")
        if self.keep_epoch not in KEEP_EPOCHS:
            raise ValueError(f"keep_epoch must be one of {KEEP_EPOCHS}, got {self.keep_epoch!r}")
        if self.keep_epoch == "last" and self.early_stopping_patience:
            raise ValueError(
                "keep_epoch 'last' trains every epoch; set early_stopping_patience to 0"
            )
        if self.precision not in PRECISIONS:
            raise ValueError(f"precision must be one of {PRECISIONS}, got {self.precision!r}")
        if self.n_folds < 1:
            raise ValueError(f"n_folds must be at least 1, got {self.n_folds}")
        if self.batch_size < 1 or self.epochs < 1:
            raise ValueError(
                f"batch_size and epochs must be positive, got {self.batch_size}, {self.epochs}"
            )
        if not 0.0 <= self.lead_mask_prob < 1.0:
            raise ValueError(f"lead_mask_prob must be in [0, 1), got {self.lead_mask_prob}")
        if not 0.0 <= self.time_mask_prob <= 1.0 or not self.time_mask_seconds > 0:
            raise ValueError(
                "time_mask_prob must be in [0, 1] and time_mask_seconds positive, got "
                f"{self.time_mask_prob}, {self.time_mask_seconds}"
            )

    @property
    def monitor_mode(self) -> str:
        return "max" if self.monitor == "val_auroc" else "min"
