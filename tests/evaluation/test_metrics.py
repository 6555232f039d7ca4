"""Metrics against hand-computed values and a loop transcription of the
challenge's scoring definitions."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.evaluation import metrics


def test_confusion_counts_and_f1_by_hand() -> None:
    y_true = np.array([[1, 0], [1, 1], [0, 0], [0, 1]])
    y_pred = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    tp, fp, fn, tn = metrics.confusion_counts(y_true, y_pred)
    np.testing.assert_array_equal(tp, [1, 2])
    np.testing.assert_array_equal(fp, [1, 0])
    np.testing.assert_array_equal(fn, [1, 0])
    np.testing.assert_array_equal(tn, [1, 2])
    np.testing.assert_allclose(metrics.f1_per_class(y_true, y_pred), [0.5, 1.0])
    precision, recall = metrics.precision_recall(y_true, y_pred)
    np.testing.assert_allclose(precision, [0.5, 1.0])
    np.testing.assert_allclose(recall, [0.5, 1.0])


def test_f1_is_nan_for_a_class_never_present_nor_predicted_and_skipped_in_macro() -> None:
    y_true = np.array([[1, 0], [0, 0]])
    y_pred = np.array([[1, 0], [0, 0]])
    f1 = metrics.f1_per_class(y_true, y_pred)
    assert f1[0] == 1.0 and np.isnan(f1[1])
    assert metrics.nanmean(f1) == 1.0


def test_all_predictions_negative_give_zero_f1_and_nan_precision() -> None:
    y_true = np.array([[1], [0], [1]])
    y_pred = np.zeros_like(y_true)
    assert metrics.f1_per_class(y_true, y_pred)[0] == 0.0
    precision, recall = metrics.precision_recall(y_true, y_pred)
    assert np.isnan(precision[0]) and recall[0] == 0.0


def test_weighted_f1_weighs_by_positive_count() -> None:
    y_true = np.array([[1, 1], [1, 0], [1, 0]])
    y_pred = np.array([[1, 0], [1, 0], [1, 0]])  # class 0: F1 1 (3 positives); class 1: 0 (1)
    assert metrics.weighted_f1(y_true, y_pred) == pytest.approx(0.75)


def test_exact_match_accuracy() -> None:
    y_true = np.array([[1, 0], [1, 1], [0, 0]])
    y_pred = np.array([[1, 0], [1, 0], [0, 0]])
    assert metrics.exact_match_accuracy(y_true, y_pred) == pytest.approx(2 / 3)


def test_auroc_and_auprc_by_hand() -> None:
    y_true = np.array([[0], [0], [1], [1]])
    y_score = np.array([[0.1], [0.4], [0.35], [0.8]])
    auroc, auprc = metrics.auroc_auprc(y_true, y_score)
    assert auroc[0] == pytest.approx(0.75)  # 3 of 4 positive/negative pairs ordered
    assert auprc[0] == pytest.approx(0.5 * 1 + 0.5 * 2 / 3)


def test_auroc_with_tied_scores_counts_half() -> None:
    auroc, auprc = metrics.auroc_auprc(np.array([[1], [0]]), np.array([[0.5], [0.5]]))
    assert auroc[0] == pytest.approx(0.5) and auprc[0] == pytest.approx(0.5)


def test_auc_undefined_without_positives_and_auroc_without_negatives() -> None:
    y_true = np.array([[0, 1], [0, 1]])
    auroc, auprc = metrics.auroc_auprc(y_true, np.array([[0.2, 0.3], [0.6, 0.9]]))
    assert np.isnan(auroc).all()
    assert np.isnan(auprc[0]) and auprc[1] == 1.0


def test_challenge_beta_measures_normalise_by_labels_per_record() -> None:
    y_true = np.array([[1, 1], [1, 0]])
    y_pred = np.array([[1, 0], [0, 0]])
    f_beta, g_beta = metrics.challenge_beta_measures(y_true, y_pred, beta=2)
    # class 0: tp 1/2, fn 1; class 1: fn 1/2
    np.testing.assert_allclose(f_beta, [2.5 / 6.5, 0.0])
    np.testing.assert_allclose(g_beta, [0.5 / 2.5, 0.0])


def test_challenge_metric_by_hand() -> None:
    weights = np.array([[1.0, 0.5], [0.5, 1.0]])  # classes A, N (normal)
    y_true = np.array([[1, 0], [0, 1]])
    y_pred = np.array([[1, 1], [0, 1]])
    # observed 0.5 + 0.25 + 1 = 1.75, perfect 2, normal-only 0.25 + 1 = 1.25
    assert metrics.challenge_metric(y_true, y_pred, weights, 1) == pytest.approx(0.5 / 0.75)


def test_challenge_metric_is_one_for_perfect_and_zero_for_normal_only() -> None:
    rng = np.random.default_rng(0)
    weights = rng.uniform(0, 1, (5, 5))
    np.fill_diagonal(weights, 1.0)
    y_true = (rng.random((50, 5)) < 0.3).astype(int)
    normal_only = np.zeros_like(y_true)
    normal_only[:, 2] = 1
    assert metrics.challenge_metric(y_true, y_true, weights, 2) == pytest.approx(1.0)
    assert metrics.challenge_metric(y_true, normal_only, weights, 2) == pytest.approx(0.0)


def test_shape_mismatch_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="same shape"):
        metrics.f1_per_class(np.zeros((3, 2)), np.zeros((3, 3)))


# --- loop transcriptions of the published definitions, for random cross-checks ---


def _loop_auc(labels: np.ndarray, outputs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    c = labels.shape[1]
    auroc, auprc = np.zeros(c), np.zeros(c)
    for k in range(c):
        cuts = np.append(np.unique(outputs[:, k]), np.inf)[::-1]
        tpr, tnr, ppv = [], [], []
        for t in cuts:
            out = outputs[:, k] >= t
            tp = np.sum(out & (labels[:, k] == 1))
            fp = np.sum(out & (labels[:, k] == 0))
            fn = np.sum(~out & (labels[:, k] == 1))
            tn = np.sum(~out & (labels[:, k] == 0))
            tpr.append(tp / (tp + fn) if tp + fn else np.nan)
            tnr.append(tn / (tn + fp) if tn + fp else np.nan)
            ppv.append(tp / (tp + fp) if tp + fp else np.nan)
        for j in range(len(cuts) - 1):
            auroc[k] += 0.5 * (tpr[j + 1] - tpr[j]) * (tnr[j + 1] + tnr[j])
            auprc[k] += (tpr[j + 1] - tpr[j]) * ppv[j + 1]
    return auroc, auprc


def _loop_modified_confusion(labels: np.ndarray, outputs: np.ndarray) -> np.ndarray:
    n, c = labels.shape
    a = np.zeros((c, c))
    for i in range(n):
        norm = max(np.sum(labels[i] | outputs[i]), 1)
        for j in range(c):
            for k in range(c):
                if labels[i, j] and outputs[i, k]:
                    a[j, k] += 1 / norm
    return a


def test_vectorised_metrics_equal_the_loop_definitions_on_random_data() -> None:
    rng = np.random.default_rng(0)
    y_true = rng.random((120, 6)) < 0.25
    y_true[:, 5] = False  # a class without positives
    y_score = np.round(rng.random((120, 6)), 2)  # rounding makes ties
    y_pred = y_score > 0.6
    auroc, auprc = metrics.auroc_auprc(y_true, y_score)
    ref_auroc, ref_auprc = _loop_auc(y_true, y_score)
    np.testing.assert_allclose(auroc[:5], ref_auroc[:5], atol=1e-12)
    np.testing.assert_allclose(auprc[:5], ref_auprc[:5], atol=1e-12)
    assert np.isnan(auroc[5]) and np.isnan(ref_auroc[5])
    np.testing.assert_allclose(
        metrics.modified_confusion_matrix(y_true, y_pred),
        _loop_modified_confusion(y_true, y_pred),
        atol=1e-12,
    )
