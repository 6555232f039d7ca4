"""The optimizer and schedule a config asks for, and the checks on them."""

import dataclasses

import keras
import numpy as np
import pytest

from ecgml.config import Config
from ecgml.models.registry import build_model
from ecgml.models.xresnet1d import XResNet1dConfig
from ecgml.optimizers import RAdam
from ecgml.task import Task
from ecgml.training.compiling import compile_model
from ecgml.training.config import TrainingConfig
from ecgml.training.schedules import OneCycle

Y = np.array([[1, 0], [0, 1], [1, 1], [0, 0]], dtype=np.uint8)


def compiled(**training):
    config = Config(
        model=XResNet1dConfig(layers=(1,), widths=(4,), stem_filters=(4, 4, 4)),
        training=TrainingConfig(**training),
    )
    model = build_model(config.model, n_classes=2, input_length=32, n_leads=1)
    compile_model(model, config.training, Task.of(config).target, Y, Y, total_steps=100)
    return model


def test_adamw_with_the_one_cycle_schedule():
    model = compiled(
        optimizer="adamw",
        schedule="one_cycle",
        learning_rate=0.01,
        weight_decay=0.01,
        warmup_proportion=0.0,
    )
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0.01
    schedule = optimizer._learning_rate
    assert isinstance(schedule, OneCycle)
    assert (schedule.max_lr, schedule.total_steps, schedule.div) == (0.01, 100, 25.0)


def test_radam_keeps_its_warm_up_unless_one_cycle_drives_it():
    assert compiled().optimizer.total_steps == 100
    one_cycle = compiled(schedule="one_cycle").optimizer
    assert isinstance(one_cycle, RAdam) and one_cycle.total_steps == 0
    assert isinstance(one_cycle._learning_rate, OneCycle)


def test_adamw_without_warm_up_decays_linearly():
    schedule = compiled(optimizer="adamw", warmup_proportion=0.0, min_lr=1e-5).optimizer
    rate = schedule._learning_rate
    assert float(rate(0)) == pytest.approx(1e-3) and float(rate(100)) == pytest.approx(1e-5)


@pytest.mark.parametrize(
    ("fields", "match"),
    [
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"schedule": "step"}, "schedule must be one of"),
        ({"optimizer": "adamw"}, "takes schedule 'one_cycle'"),
        ({"one_cycle_pct_start": 1.0}, "one_cycle_pct_start"),
    ],
)
def test_bad_optimizer_settings_are_refused(fields, match):
    with pytest.raises(ValueError, match=match):
        dataclasses.replace(TrainingConfig(), **fields)
