"""The challenge scoring on the real CinC 2021 headers of ../shared/data/cinc12."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgml.evaluation.challenge import (
    NORMAL_CLASS,
    RewardMatrix,
    read_label_codes,
    score_directories,
    write_output_file,
)
from tests.conftest import SHARED_DATA

pytestmark = pytest.mark.realdata
LABELS = SHARED_DATA / "cinc12" / "cinc2021"


def _write_outputs(out: Path, decide) -> None:
    weights = RewardMatrix.load("cinc2020")
    codes = list(weights.classes)
    for header in sorted(LABELS.glob("*.hea")):
        dx = set(read_label_codes(header) or [])
        pred = np.array([decide(code, dx) for code in codes], dtype=int)
        write_output_file(out / f"{header.stem}.csv", header.stem, codes, pred, pred * 0.9 + 0.05)


@pytest.fixture(autouse=True)
def _need_data() -> None:
    if not LABELS.is_dir():
        pytest.skip(f"real data not found at {LABELS}")


def test_the_labels_themselves_score_one(tmp_path: Path) -> None:
    _write_outputs(tmp_path, lambda code, dx: code in dx)
    result = score_directories(LABELS, tmp_path, weights=RewardMatrix.load("cinc2020"))
    assert result["problems"] == [] and result["n_records"] == len(list(LABELS.glob("*.hea")))
    assert result["overall"]["challenge_metric"] == pytest.approx(1.0, abs=1e-12)
    assert result["overall"]["auroc"] == pytest.approx(1.0)
    assert result["overall"]["f_measure"] == pytest.approx(1.0)


def test_sinus_rhythm_only_scores_zero(tmp_path: Path) -> None:
    _write_outputs(tmp_path, lambda code, dx: code == NORMAL_CLASS)
    result = score_directories(LABELS, tmp_path, weights=RewardMatrix.load("cinc2020"))
    assert result["overall"]["challenge_metric"] == pytest.approx(0.0, abs=1e-12)
