"""The CinC 2025 Chagas task end to end on synthetic records: 12-lead WFDB records at
400 Hz with a CSV label table beside them (``configs/chagas.json``: the ``table``
reader, the ``chagas`` scorer), prepared, trained, thresholded and scored."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import wfdb

import postprocessing
import threshold
from ecgml import runs
from ecgml.cli.main import main as ecgml_main
from ecgml.config import load_config, save_config
from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.models.xresnet1d import XResNet1dConfig
from tests.conftest import REPO

pytestmark = pytest.mark.slow
FS, SECONDS = 400, 7.3


def write_records(root: Path, n: int, seed: int) -> None:
    """``n`` records, every third positive: a 7 Hz wave on V1 marks the positives."""
    rng = np.random.default_rng(seed)
    root.mkdir(parents=True)
    t = np.arange(int(FS * SECONDS)) / FS
    rows = []
    for k in range(n):
        positive = k % 3 == 0
        x = rng.normal(0, 0.1, (len(t), 12)) + np.sin(2 * np.pi * 1.2 * t)[:, None]
        x[:, 6] += positive * 0.8 * np.sin(2 * np.pi * 7 * t)
        name = f"{seed}{k:04d}"
        wfdb.wrsamp(
            name,
            fs=FS,
            units=["mV"] * 12,
            sig_name=list(STANDARD_LEADS),
            p_signal=x,
            fmt=["16"] * 12,
            adc_gain=[1000.0] * 12,
            baseline=[0] * 12,
            write_dir=str(root),
        )
        rows.append({"file": f"{name}.hea", "chagas": int(positive)})
    pd.DataFrame(rows).to_csv(root / "labels.csv", index=False)


def test_the_chagas_config_trains_and_scores_the_top_five_percent(tmp_path, capsys):
    write_records(tmp_path / "train", 36, 1)
    write_records(tmp_path / "test", 40, 2)
    config = load_config(REPO / "configs" / "chagas.json")
    tiny = XResNet1dConfig(layers=(1, 1), widths=(8, 8), stem_filters=(8, 8, 8), head_units=(8,))
    training = dataclasses.replace(config.training, n_folds=2, epochs=2, batch_size=8)
    config = dataclasses.replace(config, model=tiny, training=training)
    save_config(config, tmp_path / "chagas.json")
    cache = tmp_path / "cache"
    assert (
        ecgml_main(
            [
                "prepare",
                str(tmp_path / "train"),
                "--config",
                str(tmp_path / "chagas.json"),
                "--out",
                str(cache),
                "--no-progress",
            ]
        )
        == 0
    )
    runs.train_run(cache, tmp_path / "run", config, verbose=0)
    assert threshold.main(["--run", str(tmp_path / "run")]) == 0
    out = tmp_path / "scored"
    assert (
        postprocessing.main(
            [
                "--run",
                str(tmp_path / "run"),
                "--data",
                str(tmp_path / "test"),
                "--out",
                str(out),
                "--no-progress",
            ]
        )
        == 0
    )
    # the summary line leads with the task scorer's headline
    assert "          ensemble: challenge score " in capsys.readouterr().out
    score = json.loads((out / "score.json").read_text())
    assert score["run"]["scorer"] == "chagas" and score["data"]["n_records"] == 40
    overall = score["models"]["ensemble"]["overall"]
    # 40 records: the top 2 scores are tested; 14 positives, so at most 2/14 of them
    assert 0 <= overall["challenge_score"] <= 2 / 14 + 1e-9
    assert overall["capacity"] == 0.05 and np.isfinite(overall["macro_auroc"])
    intervals = score["models"]["ensemble"]["confidence_intervals"]
    assert {"challenge_score", "macro_auroc"} <= set(intervals)
