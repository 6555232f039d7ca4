"""One battery for every plug-in, in the spirit of scikit-learn's ``check_estimator``.

Each registered reader, sample kind, split strategy, target kind, scorer and
architecture goes through the same checks: it is found by its name, its
settings round-trip, bad input fails with a specific error, and its outputs
have the shapes the stages after it expect. The last test registers a fourth
sample kind, here and nowhere else, and trains and scores a tiny run with it:
a new kind is new code and a registry line, not edits of the stages.
"""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from ecgml.config import config_from_dict, config_to_dict
from ecgml.data import samples as sample_kinds
from ecgml.data.loading import PreparedRecord
from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.readers import READER_NAMES, READERS, Reader, get_reader
from ecgml.data.records import RecordError
from ecgml.evaluation.scorers import SCORER_NAMES, get_scorer
from ecgml.models.config import model_configs
from ecgml.models.registry import build_model
from ecgml.targets import TARGETS, get_target
from ecgml.task import Task
from ecgml.training.folds import HELD_OUT, TRAIN_ONLY
from ecgml.training.splits import SPLITS, get_split

BUILT_IN_KINDS = ("windows", "beats", "images")


def _options(name: str) -> dict:
    """The options of a minimal reader ``name`` (its own example)."""
    return READERS[name].example_options()


def _preprocess(name: str) -> PreprocessConfig:
    """A preprocessing the sample kind ``name`` takes (its own example)."""
    return sample_kinds.get_sample_kind(name).example_preprocess()


# -- readers ---------------------------------------------------------------------------


@pytest.mark.parametrize("name", READER_NAMES)
def test_reader_is_found_by_its_name_and_its_options_round_trip(name: str) -> None:
    reader = get_reader(name, _options(name))
    assert isinstance(reader, Reader) and reader.name == name
    again = get_reader(name, reader.options)
    assert again.options == reader.options


@pytest.mark.parametrize("name", READER_NAMES)
def test_reader_refuses_an_option_it_does_not_take(name: str) -> None:
    with pytest.raises(ValueError, match="takes no option"):
        get_reader(name, {**_options(name), "no_such_option": 1})


@pytest.mark.parametrize("name", READER_NAMES)
def test_reader_names_the_record_it_cannot_read(name: str, tmp_path: Path) -> None:
    reader = get_reader(name, _options(name))
    with pytest.raises((RecordError, FileNotFoundError, ValueError)):
        reader.read(tmp_path / "missing.hea")


# -- sample kinds ----------------------------------------------------------------------


def test_the_built_in_sample_kinds_are_registered() -> None:
    assert set(BUILT_IN_KINDS) <= set(sample_kinds.SAMPLE_KINDS)
    with pytest.raises(ValueError, match="samples must be one of"):
        sample_kinds.get_sample_kind("no_such_kind")


@pytest.mark.parametrize("name", BUILT_IN_KINDS)
def test_a_config_without_samples_infers_its_kind_as_before(name: str) -> None:
    pre = _preprocess(name)
    assert sample_kinds.infer_sample_kind(pre) == name
    data = {"preprocess": config_to_dict(pre)}
    if name == "images":
        data |= {"model": {"architecture": "mobilenet_v3"}}
    config = config_from_dict(data)
    assert config.task.samples == name and Task.of(config).samples.name == name
    assert config_from_dict(config_to_dict(config)) == config  # the resolved kind round-trips


@pytest.mark.parametrize("name", BUILT_IN_KINDS)
def test_a_sample_kind_refuses_a_preprocessing_of_another_kind(name: str) -> None:
    kind = sample_kinds.get_sample_kind(name)
    others = [_preprocess(k) for k in BUILT_IN_KINDS if k != name]
    assert kind.matches(_preprocess(name)) is None
    assert all(kind.matches(pre) for pre in others)


@pytest.mark.parametrize("name", BUILT_IN_KINDS)
def test_a_sample_kind_gives_rows_of_its_row_shape(name: str) -> None:
    kind, pre = sample_kinds.get_sample_kind(name), _preprocess(name)
    fs, n = 100.0, 1000
    t = np.arange(n) / fs
    signal = np.stack([np.sin(2 * np.pi * 1.2 * t + k) for k in range(12)], axis=1)
    leads = ("I", "II", "III", "aVR", "aVL", "aVF", "V1", "V2", "V3", "V4", "V5", "V6")
    assert kind.min_seconds(pre) > 0
    if kind.predicts == "beats":
        with pytest.raises(ValueError, match="classifies beats"):
            kind.prepare_signal(signal, fs, leads, pre)
        return
    rows, _ = kind.prepare_signal(signal, fs, leads, pre)
    assert rows.dtype == np.float32 and rows.shape[1:] == kind.row_shape(pre)
    with pytest.raises(ValueError, match="too short"):
        kind.prepare_signal(signal[:10], fs, leads, pre)
    with pytest.raises(ValueError, match="NaN"):
        kind.prepare_signal(np.where(t[:, None] > 5, np.nan, signal), fs, leads, pre)


@pytest.mark.parametrize("name", BUILT_IN_KINDS)
def test_a_sample_kind_checks_what_a_config_asks_of_it(name: str) -> None:
    kind = sample_kinds.get_sample_kind(name)
    data = {"preprocess": config_to_dict(_preprocess(name)), "task": {"samples": name}}
    if name == "images":
        data |= {"model": {"architecture": "mobilenet_v3"}}
    for field in kind.refused:
        value = 100 if field == "input_length" else 0.5
        with pytest.raises(ValueError, match=f"training.{field} does not apply"):
            Task.of(config_from_dict(data | {"training": {field: value}}))
    if not kind.hand_crafted:
        with pytest.raises(ValueError, match="hand-crafted"):
            Task.of(config_from_dict(data | {"stack": {"forest": True}}))


# -- split strategies -------------------------------------------------------------------


class _PartsReader(Reader):
    """A reader whose standard and predefined parts come from the record path."""

    name = "parts"

    def standard_split_at(self, path):
        return "test" if "test" in str(path) else "train"

    def predefined_split_at(self, path):
        return str(path).split("/")[0]


def _index(n: int = 40) -> tuple[pd.DataFrame, np.ndarray]:
    rng = np.random.default_rng(0)
    parts = np.array(["train"] * (n // 2) + ["validation"] * (n // 4) + ["test"] * (n // 4))
    index = pd.DataFrame(
        {
            "path": [f"{p}/r{i}.hea" for i, p in enumerate(parts)],
            "patient_id": [f"p{i // 2}" for i in range(n)],
        }
    )
    y = np.zeros((n, 3), dtype=np.uint8)
    y[np.arange(n), rng.integers(0, 3, n)] = 1
    return index, y


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_a_split_gives_every_sample_a_fold_or_a_part(name: str) -> None:
    split, (index, y) = get_split(name), _index()
    n_folds = 1 if name == "predefined" else 3
    split.check_folds(n_folds)
    folds, info = split.assign(index, y, _PartsReader(), n_folds=n_folds, seed=0, where="test")
    assert folds.shape == (len(y),) and json.dumps(info)
    in_folds = folds >= 0
    assert set(folds[in_folds]) == set(range(n_folds))
    held_out = split.held_out(index, _PartsReader())
    if held_out is None:
        assert in_folds.all()
    else:
        assert (held_out == (folds == HELD_OUT)).all() and held_out.any()
    if split.grouped and name != "predefined":  # a patient's samples share one fold
        trained = index[in_folds].assign(fold=folds[in_folds])
        assert (trained.groupby("patient_id")["fold"].nunique() == 1).all()
    if name == "predefined":
        assert (folds == TRAIN_ONLY).any()


@pytest.mark.parametrize("name", sorted(SPLITS))
def test_a_split_refuses_fold_counts_it_cannot_make(name: str) -> None:
    bad = 2 if name == "predefined" else 1
    with pytest.raises(ValueError, match="n_folds"):
        get_split(name).check_folds(bad)


# -- target kinds -----------------------------------------------------------------------


@pytest.mark.parametrize("kind", tuple(TARGETS))
def test_a_target_kind_decides_and_reports_in_the_shapes_the_stages_expect(kind: str) -> None:
    target = get_target(kind)
    rng = np.random.default_rng(0)
    scores = rng.random((3, 5, 4)).astype(np.float32)
    if target.activation == "softmax":
        scores /= scores.sum(axis=2, keepdims=True)
    thresholds = np.full((3, 4), 0.5) if target.needs_thresholds else None
    y_pred, y_score = target.combine(scores, thresholds)
    assert y_pred.shape == y_score.shape == (5, 4) and y_pred.dtype == np.uint8
    assert target.fold_decisions(scores, thresholds).shape == (3, 5, 4)
    rule = target.check_options(None, None, 3)
    assert set(target.report(3, rule)) == {"rule", "decision", "min_votes"}
    info = [{"fallback_classes": []}] * 3
    assert {"rule", "min_votes", "thresholds"} <= set(target.card([0, 1, 2], thresholds, info))
    assert target.confusion in ("grid", "matrix")
    with pytest.raises(ValueError, match="rule must be one of"):
        target.check_options("no_such_rule", None, 3)
    with pytest.raises(ValueError, match="does not fit"):
        target.check_loss("no_such_loss")


# -- scorers ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", SCORER_NAMES)
def test_a_scorer_gives_its_headline_figure(name: str) -> None:
    scorer = get_scorer(name)
    assert scorer.name == name
    example = scorer.example()
    result = scorer.score(**example)
    assert np.isfinite(result["overall"][scorer.headline])
    # the figures its intervals are drawn from, the headline among them where promised
    figures = scorer.figures(**example)
    assert set(figures) == set(scorer.intervals)
    if scorer.headline in figures:
        assert figures[scorer.headline] == pytest.approx(result["overall"][scorer.headline])


# -- architectures ----------------------------------------------------------------------


@pytest.mark.parametrize("architecture", sorted(model_configs()))
def test_an_architecture_builds_from_its_config_and_gives_one_row_per_input(architecture):
    config = model_configs()[architecture].example()
    length, leads = config.example_input()
    model = build_model(config, n_classes=3, input_length=length, n_leads=leads)
    out = np.asarray(model(np.zeros((2, length, leads), dtype=np.float32)))
    assert out.shape == (2, 3) and np.isfinite(out).all()
    assert type(config)(**dataclasses.asdict(config)) == config


@pytest.mark.parametrize("architecture", sorted(model_configs()))
def test_an_architecture_trains_a_step_and_survives_a_keras_round_trip(architecture, tmp_path):
    import keras

    config = model_configs()[architecture].example()
    length, leads = config.example_input()
    model = build_model(config, n_classes=3, input_length=length, n_leads=leads)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(4, length, leads)).astype(np.float32)
    y = np.eye(3, dtype=np.float32)[[0, 1, 2, 0]]
    model.compile(optimizer=keras.optimizers.SGD(0.01), loss="binary_crossentropy")
    before = [np.array(w) for w in model.trainable_weights]
    loss = model.train_on_batch(x, y)
    assert np.isfinite(loss)
    after = model.trainable_weights
    assert any(not np.allclose(a, np.array(b)) for a, b in zip(before, after, strict=True))
    model.save(tmp_path / "model.keras")
    again = keras.saving.load_model(tmp_path / "model.keras", safe_mode=True, compile=False)
    assert again.name == model.name
    np.testing.assert_allclose(
        np.asarray(again.predict_on_batch(x)), np.asarray(model.predict_on_batch(x)), atol=1e-5
    )


# -- a fourth sample kind, registered here only ------------------------------------------


class Reversed(sample_kinds.Windows):
    """Windows of the time-reversed signal: a kind no module knows of."""

    name = "reversed_windows"

    def load(self, path, preprocess, reader):
        prepared = super().load(path, preprocess, reader)
        return dataclasses.replace(prepared, windows=prepared.windows[:, ::-1].copy())

    def prepare_signal(self, signal, fs, lead_names, preprocess, *, missing_leads="error"):
        rows, warnings = super().prepare_signal(
            signal, fs, lead_names, preprocess, missing_leads=missing_leads
        )
        return rows[:, ::-1].copy(), warnings


@pytest.fixture
def reversed_kind():
    kind = sample_kinds.register_sample_kind(Reversed())
    yield kind
    del sample_kinds.SAMPLE_KINDS[kind.name]


@pytest.mark.slow
def test_a_sample_kind_registered_in_a_test_trains_and_scores_a_tiny_run(
    reversed_kind, tmp_path: Path
) -> None:
    from ecgml import runs
    from ecgml.data.cache import prepare_cache
    from ecgml.data.cache_reader import Cache
    from ecgml.data.demo import write_demo_dataset
    from ecgml.inference.ensemble import Ensemble
    from ecgml.inference.postprocess import evaluate_on_data
    from ecgml.runs.thresholds import fit_run_thresholds
    from tests.tiny_run import TINY_CONFIG

    config = dataclasses.replace(
        TINY_CONFIG, task=dataclasses.replace(TINY_CONFIG.task, samples=reversed_kind.name)
    )
    assert Task.of(config).samples is reversed_kind
    write_demo_dataset(tmp_path / "train", n_records=24, progress=False)
    write_demo_dataset(tmp_path / "test", n_records=6, seed=7, progress=False)
    prepare_cache(
        [tmp_path / "train"],
        tmp_path / "cache",
        config.preprocess,
        samples=reversed_kind.name,
        progress=False,
    )
    cache = Cache(tmp_path / "cache")
    plain = prepare_cache(
        [tmp_path / "train"], tmp_path / "plain", config.preprocess, progress=False
    )
    assert plain["samples"] == "windows"
    first = cache.signals[0]
    assert np.array_equal(first, Cache(tmp_path / "plain").signals[0][::-1])

    runs.train_run(tmp_path / "cache", tmp_path / "run", config, verbose=0)
    saved = json.loads((tmp_path / "run" / "config.json").read_text())
    assert saved["task"]["samples"] == reversed_kind.name
    fit_run_thresholds(tmp_path / "run")
    ensemble = Ensemble.load(tmp_path / "run")
    assert ensemble.task.samples is reversed_kind
    score = evaluate_on_data(
        tmp_path / "run", tmp_path / "test", tmp_path / "score", progress=False
    )
    assert score["data"]["n_records"] == 6
    assert np.isfinite(score["models"]["ensemble"]["overall"]["macro_auroc"])
    prepared = PreparedRecord(header=None, windows=cache.signals[:1], warnings=())
    (prediction,) = ensemble.predict_prepared([prepared])
    assert prediction.y_score.shape == (len(ensemble.class_names),)
