"""CinC 2020 scoring from arrays and from challenge-format folders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ecgml.evaluation import challenge
from ecgml.evaluation.challenge import NORMAL_CLASS, RewardMatrix

AF, IAVB, CRBBB, RBBB = "164889003", "270492004", "713427006", "59118001"


@pytest.fixture(scope="module")
def weights() -> RewardMatrix:
    return RewardMatrix.load("cinc2020")


def _write_header(folder: Path, record: str, dx: str | None) -> None:
    lines = [f"{record} 12 500 5000"]
    if dx is not None:
        lines.append(f"#Dx: {dx}")
    (folder / f"{record}.hea").write_text("\n".join(lines) + "\n")


def test_builtin_weights_are_the_27_scored_classes(weights: RewardMatrix) -> None:
    assert len(weights.classes) == 27 and NORMAL_CLASS in weights.classes
    assert weights.values[weights.classes.index(CRBBB), weights.classes.index(RBBB)] == 1.0
    np.testing.assert_array_equal(np.diag(weights.values), 1.0)


def test_perfect_outputs_score_one_and_normal_only_zero(weights: RewardMatrix) -> None:
    classes = [AF, IAVB, NORMAL_CLASS]
    labels = np.array([[1, 0, 0], [1, 1, 0], [0, 0, 1], [0, 1, 0]])
    perfect = challenge.score_arrays(classes, labels, classes, labels, labels, weights=weights)
    assert perfect["overall"]["challenge_metric"] == pytest.approx(1.0)
    assert perfect["overall"]["accuracy"] == 1.0
    normal = np.zeros_like(labels)
    normal[:, 2] = 1
    inactive = challenge.score_arrays(classes, labels, classes, normal, normal, weights=weights)
    assert inactive["overall"]["challenge_metric"] == pytest.approx(0.0)


def test_equivalent_classes_are_folded_into_one(weights: RewardMatrix) -> None:
    # labels: one record says CRBBB, the other RBBB; outputs: CRBBB yes, RBBB no
    labels_classes, labels = [CRBBB, RBBB], np.array([[1, 0], [0, 1]])
    binary = np.array([[1, 0], [1, 0]])
    scalar = np.array([[0.9, 0.1], [0.7, 0.3]])
    result = challenge.score_arrays(
        labels_classes, labels, [CRBBB, RBBB], binary, scalar, weights=weights
    )
    assert result["classes"] == sorted([CRBBB, NORMAL_CLASS])
    k = result["classes"].index(CRBBB)
    assert result["per_class"]["n_positive"][k] == 2
    assert result["per_class"]["f_measure"][k] == 1.0
    assert result["overall"]["accuracy"] == 1.0  # both members agree once folded


def test_scalar_outputs_of_a_pair_are_averaged(weights: RewardMatrix) -> None:
    # CRBBB-labelled record scores (0.9+0.1)/2 = 0.5, the other (0.2+0.6)/2 = 0.4
    labels = np.array([[1], [0]])
    scalar = np.array([[0.9, 0.1], [0.2, 0.6]])
    result = challenge.score_arrays(
        [CRBBB], labels, [CRBBB, RBBB], np.zeros((2, 2)), scalar, weights=weights
    )
    assert result["per_class"]["auroc"][result["classes"].index(CRBBB)] == 1.0


def test_a_pair_is_folded_only_where_both_codes_appear(weights: RewardMatrix) -> None:
    # labels name only CRBBB, outputs only RBBB: as in the challenge, nothing is folded
    result = challenge.score_arrays(
        [CRBBB],
        np.array([[1], [0]]),
        [RBBB],
        np.array([[1], [0]]),
        np.array([[0.9], [0.1]]),
        weights=weights,
    )
    assert result["classes"] == sorted([CRBBB, RBBB, NORMAL_CLASS])
    assert result["per_class"]["f_measure"][result["classes"].index(CRBBB)] == 0.0


def test_unscored_codes_are_not_scored(weights: RewardMatrix) -> None:
    unscored = "195042002"  # 2nd degree AV block
    result = challenge.score_arrays(
        [AF, unscored],
        np.array([[1, 1], [0, 0]]),
        [AF],
        np.array([[1], [0]]),
        np.array([[0.8], [0.1]]),
        weights=weights,
    )
    assert unscored not in result["classes"]


def test_without_weights_scores_scored_classes_and_omits_the_challenge_metric() -> None:
    result = challenge.score_arrays(
        [AF], np.array([[1], [0]]), [AF], np.array([[1], [0]]), np.array([[0.8], [0.1]])
    )
    assert result["classes"] == sorted([AF, NORMAL_CLASS])
    assert np.isnan(result["overall"]["challenge_metric"])


def test_output_file_round_trip(tmp_path: Path) -> None:
    path = tmp_path / "A1.csv"
    score = np.float32([0.123456789, 1e-7, 0.5])
    challenge.write_output_file(path, "A1", [AF, IAVB, NORMAL_CLASS], np.array([1, 0, 1]), score)
    assert path.read_text().splitlines()[0] == "#A1"
    codes, decisions, scores = challenge.read_output_file(path)
    assert codes == [AF, IAVB, NORMAL_CLASS] and decisions == [1, 0, 1]
    np.testing.assert_array_equal(np.float32(scores), score)


def test_output_file_tokens_are_read_as_the_challenge_did(tmp_path: Path) -> None:
    path = tmp_path / "A1.csv"
    path.write_text(f"#A1\n{AF},{IAVB},{NORMAL_CLASS}\nTrue,yes,t\n0.5,abc,nan\n")
    _, decisions, scores = challenge.read_output_file(path)
    assert decisions == [1, 0, 1]
    assert scores[:2] == [0.5, 0.0] and np.isnan(scores[2])


def _folders(tmp_path: Path) -> tuple[Path, Path]:
    labels, outputs = tmp_path / "labels", tmp_path / "outputs"
    labels.mkdir()
    outputs.mkdir()
    return labels, outputs


def test_score_directories_equals_score_arrays(tmp_path: Path, weights: RewardMatrix) -> None:
    labels_dir, outputs_dir = _folders(tmp_path)
    rng = np.random.default_rng(0)
    codes = list(weights.classes)
    label_sets, binary, scalar = [], [], []
    for i in range(40):
        dx = sorted(set(rng.choice(codes, size=rng.integers(1, 4)).tolist()))
        label_sets.append(dx)
        _write_header(labels_dir, f"R{i:03d}", ",".join(dx))
        s = rng.random(len(codes)).astype(np.float32)
        b = (s > 0.7).astype(int)
        challenge.write_output_file(outputs_dir / f"R{i:03d}.csv", f"R{i:03d}", codes, b, s)
        binary.append(b)
        scalar.append(s)
    from_files = challenge.score_directories(labels_dir, outputs_dir, weights=weights)
    label_classes, labels = challenge.multi_hot(label_sets)
    from_arrays = challenge.score_arrays(
        label_classes, labels, codes, np.array(binary), np.array(scalar), weights=weights
    )
    assert from_files["problems"] == [] and from_files["n_records"] == 40
    assert from_files["classes"] == from_arrays["classes"]
    for name, value in from_arrays["overall"].items():
        assert from_files["overall"][name] == pytest.approx(value, abs=1e-12), name


def test_malformed_and_missing_outputs_count_as_negative_and_are_reported(
    tmp_path: Path, weights: RewardMatrix
) -> None:
    labels_dir, outputs_dir = _folders(tmp_path)
    for record in ("A", "B", "C"):
        _write_header(labels_dir, record, AF)
    challenge.write_output_file(outputs_dir / "A.csv", "A", [AF], np.array([1]), np.array([0.9]))
    (outputs_dir / "B.csv").write_text(f"#B\n{AF},{IAVB}\n1\n0.9\n")  # lengths differ
    result = challenge.score_directories(labels_dir, outputs_dir, weights=weights)
    problems = {p["record"]: p["problem"] for p in result["problems"]}
    assert set(problems) == {"B", "C"}
    assert "malformed" in problems["B"] and "no output file" in problems["C"]
    k = result["classes"].index(AF)
    # A found, B and C all-negative: F1 of AF = 2*1 / (2*1 + 0 + 2)
    assert result["per_class"]["f_measure"][k] == pytest.approx(0.5)


def test_a_header_without_dx_is_reported(tmp_path: Path, weights: RewardMatrix) -> None:
    labels_dir, outputs_dir = _folders(tmp_path)
    _write_header(labels_dir, "A", None)
    challenge.write_output_file(outputs_dir / "A.csv", "A", [AF], np.array([0]), np.array([0.1]))
    result = challenge.score_directories(labels_dir, outputs_dir, weights=weights)
    assert result["problems"][0]["problem"] == "label file has no #Dx line"


def test_bad_weights_files_are_clear_errors(tmp_path: Path) -> None:
    path = tmp_path / "w.csv"
    path.write_text(",a,b\na,1,0\nc,0,1\n")
    with pytest.raises(ValueError, match="square"):
        RewardMatrix.load(path)
    with pytest.raises(FileNotFoundError):
        RewardMatrix.load(tmp_path / "missing.csv")


def test_missing_folders_and_empty_label_folder_are_clear_errors(tmp_path: Path) -> None:
    labels_dir, outputs_dir = _folders(tmp_path)
    with pytest.raises(ValueError, match=r"no \.hea"):
        challenge.score_directories(labels_dir, outputs_dir)
    with pytest.raises(FileNotFoundError, match="output folder"):
        challenge.score_directories(labels_dir, tmp_path / "nope")
