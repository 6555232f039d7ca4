"""The model card of an exported run: what a service needs to use the graph.

``ecgml export`` (:mod:`ecgml.serve.export`) writes it as ``model_card.json``
and ``MODEL_CARD.md``: the input (length, rate, units, lead order,
preprocessing; the tabular input's columns), the output, the decision rule with
every fold's thresholds, the training data and, where given, the held-out
scores.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ecgml.data.preprocess import PreprocessConfig
from ecgml.data.tabular import NOTES_WARNING
from ecgml.inference.ensemble import Ensemble

CARD_JSON, CARD_MD = "model_card.json", "MODEL_CARD.md"
FEATURES_NAME = "features"


def card_markdown(card: dict[str, Any]) -> str:
    i, o, d, c = card["input"], card["output"], card["decision"], card["check"]
    lines = [
        f"# Model card: {card['name']}",
        "",
        f"Exported by ecgml {card['ecgml_version']} on {card['created']} "
        f"from `{card['run']['path']}`.",
        "",
        "## Artifact",
        f"- `{card['artifact']['file']}` ({card['artifact']['format']})",
        f"- run with {c['runtime']} on {c['n_inputs']} test inputs: largest difference from the "
        f"float32 Keras graph {c['max_abs_difference']:.2e} (tolerance {c['tolerance']:g}); "
        f"from the run's models as trained ({c['precision']}) "
        f"{c['max_abs_difference_from_run_models']:.2e}",
        "",
        "## Input",
        f"- `{i['name']}`: float32, shape {i['shape']} (batch, samples, leads), {i['units']}",
        f"- {i['fs']:g} Hz, {i['samples']} samples ({i['seconds']:g} s) per window",
        f"- lead order: {', '.join(i['lead_order'])}",
        f"- preprocessing to apply first: {i['preprocessing']}",
        f"- long records: {i['long_records']}; short records: {i['short_records']} "
        f"(at least {i['min_seconds']:g} s)",
        "",
    ]
    tab = card.get("tabular_input")
    if tab:
        lines += [
            "",
            "## Tabular input",
            f"- `{tab['name']}`: float32, shape {tab['shape']}; {tab['missing']}",
            f"- blocks: {'; '.join(tab['blocks'])}",
            f"- columns, in order: {', '.join(f'`{c}`' for c in tab['columns'])}",
        ]
        if tab.get("warning"):
            lines.append(f"- **{tab['warning']}**")
    lines += [
        "",
        "## Output",
        f"- `{o['name']}`: float32, shape {o['shape']}: {o['meaning']}",
        "",
        "## Decision",
        f"- {d['rule']}",
    ]
    if d["thresholds"] is not None:
        lines += [
            "- a class without positives in a fold's validation part has that fold's fallback "
            "threshold (listed in model_card.json)",
            "",
            "| class | code | " + " | ".join(f"fold {k}" for k in card["run"]["folds"]) + " |",
            "|---|---|" + "---|" * len(card["run"]["folds"]),
        ]
        for k, c in enumerate(card["classes"]):
            cells = " | ".join(f"{t[k]:.3f}" for t in d["thresholds"])
            lines.append(f"| {c['abbreviation']} | {c['code']} | {cells} |")
    else:
        lines.append(
            "- classes: " + ", ".join(f"{c['abbreviation']} ({c['code']})" for c in card["classes"])
        )
    t = card["training"]
    lines += [
        "",
        "## Training data and scores",
        f"- cache: `{t['cache']}`; records per fold (train / validation): "
        + ", ".join(f"{f['n_train']} / {f['n_val']}" for f in t["folds"]),
    ]
    if t["threshold_objective"] is not None:
        scores = ", ".join("n/a" if s is None else f"{s:.3f}" for s in t["validation_scores"])
        lines.append(
            f"- thresholds: {t['threshold_objective']} on each fold's validation part; "
            f"validation scores: {scores}"
        )
    test = card.get("test_score")
    lines.append(
        f"- held-out test ({test['n_records']} records, `{test['data']}`): "
        + ", ".join(f"{k} {v:.3f}" for k, v in test["scores"].items() if v is not None)
        if test
        else "- held-out test: none given (`ecgml export --score score.json`)"
    )
    return "\n".join(lines) + "\n"


def preprocessing_text(pre: PreprocessConfig) -> str:
    steps = [f"resample to {pre.fs:g} Hz"]
    if pre.bandpass:
        steps.append(
            f"zero-phase Butterworth band-pass {pre.bandpass[0]:g}-{pre.bandpass[1]:g} "
            f"Hz, order {pre.filter_order} (scipy sosfiltfilt, padlen "
            f"min(n_samples - 1, ceil(fs / {pre.bandpass[0]:g})))"
        )
    if pre.normalisation == "zscore":
        steps.append("z-score each lead of each window")
    return "; ".join(steps)


def tabular_card(ensemble: Ensemble) -> dict[str, Any] | None:
    """What the model card says of a run's tabular input; ``None`` for a signal-only run."""
    tab = ensemble.config.tabular
    if not tab.enabled:
        return None
    blocks = []
    if tab.metadata:
        blocks.append(
            ", ".join(tab.metadata) + " (value and 0/1 missing indicator; sex as "
            "sex_male 1/0; age in years, height in cm, weight in kg)"
        )
    if tab.baseline:
        blocks.append(
            "ecgml.baseline's hand-crafted features (f_*), measured on the first "
            "preprocessed window of the record"
        )
    if tab.notes:
        blocks.append(
            f"the record's notes as word counts in {tab.notes} hashed buckets "
            "(scikit-learn HashingVectorizer, alternate_sign off, no norm)"
        )
    return {
        "name": FEATURES_NAME,
        "shape": ["batch", len(ensemble.feature_names)],
        "dtype": "float32",
        "missing": "NaN for a missing value: the graph fills it with the fold's training mean",
        "blocks": blocks,
        "columns": list(ensemble.feature_names),
        "warning": NOTES_WARNING if tab.notes else None,
    }


def held_out_scores(score: Path) -> dict[str, Any]:
    data = json.loads(Path(score).read_text())
    ensemble = data["models"]["ensemble"]
    overall, challenge = ensemble["overall"], ensemble.get("challenge", {})
    return {
        "file": str(Path(score).resolve()),
        "data": data["data"]["path"],
        "n_records": data["data"]["n_records"],
        "scores": {
            "macro_auroc": overall.get("macro_auroc"),
            "macro_auprc": overall.get("macro_auprc"),
            "macro_f1": overall.get("macro_f1"),
            "challenge_metric": challenge.get("challenge_metric"),
            "cinc2017_score": overall.get("cinc2017_score"),
        },
    }
