import json

import pytest

from ecgml.config import Config, config_from_dict, load_config, save_config
from ecgml.task import Task
from ecgml.training.config import TrainingConfig
from tests.conftest import REPO


def test_every_shipped_config_loads():
    paths = sorted((REPO / "configs").glob("*.json")) + sorted(
        (REPO / "bench/configs").glob("*.json")
    )
    assert paths
    for path in paths:
        assert isinstance(load_config(path), Config)


def test_missing_fields_take_defaults_and_lists_become_tuples():
    config = config_from_dict({"preprocess": {"fs": 250, "bandpass": [0.5, 40]}})
    assert config.preprocess.fs == 250
    assert config.preprocess.bandpass == (0.5, 40)
    assert config.preprocess.window == 5000
    assert config.labels.equivalent_mode == "separate"


def test_unknown_field_is_an_error_naming_it():
    with pytest.raises(ValueError, match=r"unknown field\(s\) \['windw'\] in preprocess"):
        config_from_dict({"preprocess": {"windw": 100}})


def test_unknown_section_is_an_error():
    with pytest.raises(ValueError, match="unknown field"):
        config_from_dict({"preprocessing": {}})


def test_invalid_value_is_an_error_naming_the_section():
    with pytest.raises(ValueError, match="invalid preprocess: window_policy"):
        config_from_dict({"preprocess": {"window_policy": "random"}})


def test_saved_config_loads_back_equal(tmp_path):
    config = config_from_dict(
        {"preprocess": {"bandpass": [1, 45]}, "labels": {"equivalent_mode": "merge"}}
    )
    save_config(config, tmp_path / "c.json")
    assert load_config(tmp_path / "c.json") == config
    assert json.loads((tmp_path / "c.json").read_text())["preprocess"]["bandpass"] == [1, 45]


def test_bad_json_names_the_file(tmp_path):
    (tmp_path / "c.json").write_text("{")
    with pytest.raises(ValueError, match=r"c\.json is not valid JSON"):
        load_config(tmp_path / "c.json")


def test_keeping_the_last_epoch_needs_early_stopping_off():
    with pytest.raises(ValueError, match="early_stopping_patience to 0"):
        TrainingConfig(keep_epoch="last", early_stopping_patience=5)
    with pytest.raises(ValueError, match="keep_epoch must be one of"):
        TrainingConfig(keep_epoch="first")
    assert TrainingConfig(keep_epoch="last", early_stopping_patience=0).keep_epoch == "last"


def test_a_config_without_a_task_is_the_cinc2020_task():
    task = config_from_dict({}).task
    assert (task.name, task.reader, task.target, task.scorer) == (
        "cinc2020",
        "cinc2020",
        "multilabel",
        "cinc2020",
    )
    assert not task.all_windows


def test_cinc2017_configs_name_their_reader_target_and_scorer():
    for name in ("cinc2017.json", "cinc2017-cpu.json"):
        config = load_config(REPO / "configs" / name)
        assert (config.task.reader, config.task.target, config.task.scorer) == (
            "cinc2017",
            "multiclass",
            "cinc2017",
        )
        assert config.model.architecture == "resecg"
        assert config.preprocess.leads == ("ECG",) and config.preprocess.fs == 300
        assert config.labels.classes == ("N", "A", "O", "~")


def test_unknown_task_parts_are_errors_naming_the_choices():
    # the config holds the names; resolving its task looks them up
    with pytest.raises(ValueError, match="reader must be one of"):
        Task.of(config_from_dict({"task": {"reader": "mitdb2"}}))
    with pytest.raises(ValueError, match="target must be one of"):
        Task.of(config_from_dict({"task": {"target": "regression"}}))
    with pytest.raises(ValueError, match="scorer must be one of"):
        Task.of(config_from_dict({"task": {"scorer": "kappa"}}))


def test_sliding_test_windows_are_checked():
    config = config_from_dict({"task": {"window_stride": 125, "window_aggregate": "max"}})
    assert (config.task.window_stride, config.task.window_aggregate) == (125, "max")
    with pytest.raises(ValueError, match="window_stride must be at least 1"):
        config_from_dict({"task": {"window_stride": 0}})
    with pytest.raises(ValueError, match="window_aggregate must be 'mean' or 'max'"):
        config_from_dict({"task": {"window_aggregate": "median"}})
