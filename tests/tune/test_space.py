"""The search space file: every kind of parameter, and what is refused before a trial."""

import json

import pytest

optuna = pytest.importorskip("optuna")

from ecgml.config import Config  # noqa: E402
from ecgml.tune.space import load_space, parse_space  # noqa: E402

SPACE = {
    "parameters": {
        "training.learning_rate": {"low": 0.0001, "high": 0.01, "log": True},
        "training.noise_std": {"low": 0.0, "high": 0.05, "step": 0.01},
        "training.batch_size": {"low": 16, "high": 64, "step": 16},
        "model.blocks_per_stage": {"low": 1, "high": 3},
        "model.filters": {"choices": [[16, 32], [32, 64, 128]]},
        "training.loss": {"choices": ["weighted_bce", "focal"]},
    },
    "folds": 2,
}


def test_each_kind_is_read_and_drawn_into_a_config():
    space = parse_space(SPACE, Config())
    kinds = {p.path: p.kind for p in space.parameters}
    assert kinds == {
        "training.learning_rate": "float",
        "training.noise_std": "float",
        "training.batch_size": "int",
        "model.blocks_per_stage": "int",
        "model.filters": "categorical",
        "training.loss": "categorical",
    }
    assert space.folds == 2
    # a list of choices travels through Optuna as JSON text, a string as itself
    fixed = optuna.trial.FixedTrial(
        {
            "training.learning_rate": 0.002,
            "training.noise_std": 0.03,
            "training.batch_size": 48,
            "model.blocks_per_stage": 3,
            "model.filters": "[32, 64, 128]",
            "training.loss": "focal",
        }
    )
    values = {p.path: p.suggest(fixed) for p in space.parameters}
    assert values["model.filters"] == [32, 64, 128]
    config = space.apply(Config(), values)
    assert config.training.learning_rate == 0.002
    assert config.training.batch_size == 48
    assert config.model.blocks_per_stage == 3
    assert config.model.filters == (32, 64, 128)
    assert config.training.loss == "focal"
    # every other field stays as it was
    assert config.training.epochs == Config().training.epochs
    assert config.preprocess == Config().preprocess


def test_a_drawn_value_lies_in_its_range_on_its_steps():
    space = parse_space(SPACE, Config())
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(20):
        trial = study.ask()
        values = {p.path: p.suggest(trial) for p in space.parameters}
        assert 0.0001 <= values["training.learning_rate"] <= 0.01
        assert values["training.batch_size"] in (16, 32, 48, 64)
        assert round(values["training.noise_std"] * 100, 6) in (0, 1, 2, 3, 4, 5)
        study.tell(trial, 0.5)


def test_another_architecture_starts_from_its_own_defaults():
    space = parse_space(
        {"parameters": {"model.architecture": {"choices": ["se_resnet", "xresnet1d"]}}}, Config()
    )
    config = space.apply(Config(), {"model.architecture": "xresnet1d"})
    assert config.model.architecture == "xresnet1d"


@pytest.mark.parametrize(
    ("parameters", "message"),
    [
        ({"training.nope": {"low": 1, "high": 2}}, "has no field 'nope'"),
        ({"nosection.x": {"low": 1, "high": 2}}, "no section 'nosection'"),
        ({"learning_rate": {"low": 1, "high": 2}}, "section.field"),
        ({"training.learning_rate": {"low": 0.01, "high": 0.001}}, "must be below"),
        ({"training.learning_rate": {"low": 0.0, "high": 0.1, "log": True}}, "above 0"),
        (
            {"training.learning_rate": {"low": 0.001, "high": 0.1, "log": True, "step": 0.01}},
            "not both",
        ),
        ({"training.noise_std": {"low": 0.0, "high": 0.1, "step": -0.1}}, "positive"),
        ({"training.learning_rate": {"low": 0.001}}, "both 'low' and 'high'"),
        ({"training.learning_rate": {"low": "a", "high": 1}}, "must be numbers"),
        ({"training.learning_rate": {"low": 0.001, "high": 0.1, "scale": "log"}}, "unknown key"),
        ({"training.loss": {"choices": []}}, "non-empty list"),
        ({"training.loss": {"choices": ["focal", "focal"]}}, "repeats"),
        # ends and choices the config itself refuses
        ({"training.batch_size": {"low": 0, "high": 64}}, "batch_size and epochs must be positive"),
        ({"training.loss": {"choices": ["focal", "no_such_loss"]}}, "loss"),
        ({"training.n_folds": {"low": 3, "high": 5}}, "n_folds cannot be searched"),
    ],
)
def test_bad_paths_and_ranges_are_refused(parameters, message):
    with pytest.raises(ValueError, match=message):
        parse_space({"parameters": parameters}, Config())


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"folds": 9}, "'folds' must be an integer from 1"),
        ({"pruner": {"kind": "hyperband-ish"}}, "'pruner'"),
        ({"pruner": {"kind": "median", "n_startup": 2}}, "pruner or sampler options"),
        ({"sampler": {"kind": "grid"}}, "'sampler'"),
        ({"objective": "f1"}, "unknown key"),
    ],
)
def test_bad_study_settings_are_refused(extra, message):
    data = {"parameters": {"training.learning_rate": {"low": 0.001, "high": 0.01}}, **extra}
    with pytest.raises(ValueError, match=message):
        parse_space(data, Config())


def test_a_space_file_names_itself_in_its_errors(tmp_path):
    path = tmp_path / "space.json"
    path.write_text(json.dumps({"parameters": {"training.nope": {"low": 1, "high": 2}}}))
    with pytest.raises(ValueError, match=r"space\.json: training\.nope"):
        load_space(path, Config())
    path.write_text("{")
    with pytest.raises(ValueError, match="not valid JSON"):
        load_space(path, Config())


def test_the_demo_space_fits_the_demo_config():
    from ecgml.config import load_config

    space = load_space("configs/tune/demo.json", load_config("configs/demo.json"))
    assert space.folds == 1
    assert {p.path for p in space.parameters} >= {"training.learning_rate"}
