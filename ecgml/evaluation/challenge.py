"""Scoring exactly as the PhysioNet/CinC Challenge 2020 did.

The challenge scored a folder of label files (``.hea`` headers with a ``#Dx:``
line) against a folder of output files, one ``RECORD.csv`` per header::

    #RECORD
    270492004,164889003,...     (class codes)
    0,1,...                     (binary decisions)
    0.12,0.93,...               (scalar outputs, probabilities)

Its final scoring (``evaluate_12ECG_score.py``, Perez Alday et al., 2020) did,
in order, what :func:`score_arrays` does:

1. one column per code found in the labels, and separately per code found in the
   outputs, each with the normal class (sinus rhythm, 426783006) added;
2. each equivalent pair (CRBBB/RBBB, PAC/SVPB, PVC/VPB) present as two columns is
   folded into its first code: a label or a binary output is positive if either
   code is, a scalar output is the mean of the two;
3. label and output columns are aligned on the union of their codes, in sorted
   order; missing scalar values count as 0;
4. only the classes with a non-zero column in the reward matrix are scored;
5. macro AUROC and AUPRC, recording-wise accuracy, macro F-measure, macro F-beta
   and G-beta (beta = 2, per-record normalised counts), and the challenge metric
   normalised between the normal-only classifier (0) and the perfect one (1).

An output file that is missing or cannot be parsed counts as all-negative outputs
for its record (all binary outputs 0, all scalars 0), and is reported.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from ecgml.data.labels import DEFAULT_EQUIVALENT_PAIRS, scored_diagnoses
from ecgml.evaluation import metrics

NORMAL_CLASS = "426783006"
BETA = 2.0
BUILTIN_WEIGHTS = "cinc2020"
_TRUE_TOKENS = ("1", "True", "true", "T", "t")


@dataclass(frozen=True)
class RewardMatrix:
    """The challenge metric's reward matrix: ``values[i, j]`` is the credit for
    predicting ``classes[j]`` on a record labelled ``classes[i]``."""

    classes: tuple[str, ...]
    values: np.ndarray = field(repr=False)

    @classmethod
    def load(cls, path: str | Path) -> RewardMatrix:
        """Read a weights table in the format of the challenge's ``weights.csv``;
        ``"cinc2020"`` reads the CinC 2020 table that ships with ecgml."""
        if str(path) == BUILTIN_WEIGHTS:
            text = resources.files("ecgml.data").joinpath("tables", "weights_cinc2020.csv")
            return cls._parse(text.read_text(), "the built-in CinC 2020 weights")
        path = Path(path)
        if not path.is_file():
            raise FileNotFoundError(f"weights file {path} not found")
        return cls._parse(path.read_text(), str(path))

    @classmethod
    def _parse(cls, text: str, source: str) -> RewardMatrix:
        rows = [[cell.strip() for cell in line.split(",")] for line in text.splitlines() if line]
        if len(rows) < 2:
            raise ValueError(f"{source}: a weights table needs a header and at least one row")
        header = rows[0][1:]
        names = [row[0] for row in rows[1:]]
        if any(len(row) != len(header) + 1 for row in rows[1:]) or names != header:
            raise ValueError(
                f"{source}: expected a square table whose row names equal its column names"
            )
        if any("|" in name for name in names):
            raise ValueError(
                f"{source}: merged classes ('a|b', the CinC 2021 format) are not supported; "
                "use a table with one code per row, as in CinC 2020"
            )

        def number(cell: str) -> float:
            try:
                return float(cell)
            except ValueError:
                return float("nan")

        values = np.array([[number(c) for c in row[1:]] for row in rows[1:]], dtype=np.float64)
        return cls(tuple(names), values)

    def for_classes(self, classes: Sequence[str]) -> np.ndarray:
        """The sub-matrix for ``classes`` (zeros for codes the table lacks)."""
        position = {c: i for i, c in enumerate(self.classes)}
        known = [(k, position[c]) for k, c in enumerate(classes) if c in position]
        out = np.zeros((len(classes), len(classes)))
        if known:
            ours, theirs = map(list, zip(*known, strict=True))
            out[np.ix_(ours, ours)] = self.values[np.ix_(theirs, theirs)]
        return out


def _with_normal(classes: list[str], *arrays: np.ndarray) -> tuple[list[str], list[np.ndarray]]:
    if NORMAL_CLASS in classes:
        return classes, list(arrays)
    return [*classes, NORMAL_CLASS], [np.pad(a, ((0, 0), (0, 1))) for a in arrays]


def _fold_equivalents(
    classes: list[str], arrays: list[np.ndarray], rules: Sequence[str]
) -> tuple[list[str], list[np.ndarray]]:
    """Step 2: fold each equivalent pair into its first code ("any" or "mean")."""
    drop = []
    arrays = [a.copy() for a in arrays]
    for pair in DEFAULT_EQUIVALENT_PAIRS:
        present = [classes.index(c) for c in pair if c in classes]
        if len(present) < 2:
            continue
        for a, rule in zip(arrays, rules, strict=True):
            if rule == "any":
                a[:, present[0]] = a[:, present].any(axis=1)
            else:
                with np.errstate(invalid="ignore"):
                    a[:, present[0]] = np.nanmean(a[:, present], axis=1)
        drop += present[1:]
    keep = [i for i in range(len(classes)) if i not in drop]
    return [classes[i] for i in keep], [a[:, keep] for a in arrays]


def _place(classes: list[str], values: np.ndarray, onto: list[str]) -> np.ndarray:
    out = np.zeros((len(values), len(onto)), dtype=values.dtype)
    out[:, [onto.index(c) for c in classes]] = values
    return out


def scored_arrays(
    label_classes: Sequence[str],
    labels: np.ndarray,
    output_classes: Sequence[str],
    binary: np.ndarray,
    scalar: np.ndarray,
    *,
    weights: RewardMatrix | None = None,
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray, np.ndarray | None]:
    """Labels and outputs as the CinC 2020 scoring compares them (:func:`score_arrays`'s
    arguments): equivalent classes folded, columns on the union of both sides' classes,
    unscored classes dropped.

    Returns:
        ``(classes, labels, binary, scalar, w)``: the scored classes, the three arrays
        on them, and the reward matrix on them (``None`` without ``weights``).
    """
    labels = np.asarray(labels, dtype=bool)
    binary = np.asarray(binary, dtype=bool)
    scalar = np.asarray(scalar, dtype=np.float64)
    if not len(labels) == len(binary) == len(scalar):
        raise ValueError(
            f"labels, binary and scalar outputs must have one row per record, got "
            f"{len(labels)}, {len(binary)} and {len(scalar)}"
        )
    lab_classes, (labels,) = _with_normal(list(label_classes), labels)
    out_classes, (binary, scalar) = _with_normal(list(output_classes), binary, scalar)
    lab_classes, (labels,) = _fold_equivalents(lab_classes, [labels], ["any"])
    out_classes, (binary, scalar) = _fold_equivalents(
        out_classes, [binary, scalar], ["any", "mean"]
    )
    classes = sorted(set(lab_classes) | set(out_classes))
    labels = _place(lab_classes, labels, classes)
    binary = _place(out_classes, binary, classes)
    scalar = np.nan_to_num(
        _place(out_classes, scalar, classes), nan=0.0, posinf=np.inf, neginf=-np.inf
    )

    if weights is not None:
        w = weights.for_classes(classes)
        scored = w.any(axis=0)
        w = w[np.ix_(scored, scored)]
    else:
        codes = {d.code for d in scored_diagnoses()}
        scored = np.array([c in codes for c in classes], dtype=bool)
    classes = [c for c, s in zip(classes, scored, strict=True) if s]
    labels, binary, scalar = labels[:, scored], binary[:, scored], scalar[:, scored]
    return classes, labels, binary, scalar, (w if weights is not None else None)


def score_arrays(
    label_classes: Sequence[str],
    labels: np.ndarray,
    output_classes: Sequence[str],
    binary: np.ndarray,
    scalar: np.ndarray,
    *,
    weights: RewardMatrix | None = None,
) -> dict[str, Any]:
    """Score outputs against labels as the CinC 2020 scoring did (module docstring).

    Args:
        label_classes: code of each column of ``labels``.
        labels: shape ``(n, len(label_classes))``, 0/1.
        output_classes: code of each column of ``binary`` and ``scalar``.
        binary: shape ``(n, len(output_classes))``, 0/1 decisions.
        scalar: same shape, probabilities.
        weights: the reward matrix; ``None`` scores the 27 scored CinC 2020 classes
            (equivalent pairs folded) and leaves the challenge metric out.

    Returns:
        ``{"classes", "overall": {auroc, auprc, accuracy, f_measure, f_beta_measure,
        g_beta_measure, challenge_metric}, "per_class": {metric: [value per class]}}``;
        ``nan`` where a value is undefined.
    """
    classes, labels, binary, scalar, w = scored_arrays(
        label_classes, labels, output_classes, binary, scalar, weights=weights
    )
    auroc, auprc = metrics.auroc_auprc(labels, scalar)
    f_measure = metrics.f1_per_class(labels, binary)
    f_beta, g_beta = metrics.challenge_beta_measures(labels, binary, beta=BETA)
    challenge = float("nan")
    if w is not None and NORMAL_CLASS in classes:
        challenge = metrics.challenge_metric(labels, binary, w, classes.index(NORMAL_CLASS))
    return {
        "classes": classes,
        "overall": {
            "auroc": metrics.nanmean(auroc),
            "auprc": metrics.nanmean(auprc),
            "accuracy": metrics.exact_match_accuracy(labels, binary),
            "f_measure": metrics.nanmean(f_measure),
            "f_beta_measure": metrics.nanmean(f_beta),
            "g_beta_measure": metrics.nanmean(g_beta),
            "challenge_metric": challenge,
        },
        "per_class": {
            "auroc": auroc.tolist(),
            "auprc": auprc.tolist(),
            "f_measure": f_measure.tolist(),
            "f_beta_measure": f_beta.tolist(),
            "g_beta_measure": g_beta.tolist(),
            "n_positive": labels.sum(axis=0).astype(int).tolist(),
        },
    }


def multi_hot(code_sets: Sequence[Sequence[str]]) -> tuple[list[str], np.ndarray]:
    """Sorted codes and the 0/1 matrix of lists of codes, shape ``(n, n_codes)``."""
    classes = sorted(set().union(*map(set, code_sets))) if code_sets else []
    column = {c: i for i, c in enumerate(classes)}
    out = np.zeros((len(code_sets), len(classes)), dtype=bool)
    for i, codes in enumerate(code_sets):
        out[i, [column[c] for c in codes]] = True
    return classes, out


def output_codes(class_names: Sequence[str]) -> tuple[list[str], np.ndarray]:
    """Challenge output columns for model classes: a merged class ``"a|b"`` gives
    two columns, ``a`` and ``b``, with the same values.

    Returns:
        The codes, and for each code the index of its model class.
    """
    codes, source = [], []
    for k, name in enumerate(class_names):
        for code in name.split("|"):
            codes.append(code)
            source.append(k)
    return codes, np.array(source, dtype=np.int64)


def write_output_file(
    path: Path, record_id: str, codes: Sequence[str], y_pred: np.ndarray, y_score: np.ndarray
) -> None:
    """One record's outputs in the challenge format (module docstring).

    Scores are written with 9 significant digits, which round-trips float32.
    """
    lines = [
        f"#{record_id}",
        ",".join(codes),
        ",".join(str(int(v)) for v in y_pred),
        ",".join(format(float(v), ".9g") for v in y_score),
    ]
    path.write_text("\n".join(lines) + "\n")


def read_label_codes(header: Path) -> list[str] | None:
    """The codes of a header's ``#Dx:`` line, or ``None`` if it has none."""
    for line in header.read_text(errors="replace").splitlines():
        if line.startswith("#Dx"):
            parts = line.split(": ")
            if len(parts) < 2:
                return []
            return sorted({code.strip() for code in parts[1].split(",")} - {""})
    return None


def read_output_file(path: Path) -> tuple[list[str], list[int], list[float]]:
    """Parse one output file as the challenge did: decisions other than
    1/True/true/T/t count as 0, scalars that are not numbers as 0.

    Raises:
        ValueError: the file does not have the three lines of equal length.
    """
    lines = path.read_text().splitlines()
    if len(lines) < 4:
        raise ValueError(f"expected 4 lines, found {len(lines)}")
    codes, decisions, scores = ([c.strip() for c in line.split(",")] for line in lines[1:4])
    if not len(codes) == len(decisions) == len(scores):
        raise ValueError(
            f"{len(codes)} classes, {len(decisions)} decisions and {len(scores)} scores"
        )
    if "" in codes or len(set(codes)) != len(codes):
        raise ValueError("empty or repeated class codes")

    def number(token: str) -> float:
        try:
            return float(token)
        except ValueError:
            return 0.0

    return codes, [int(d in _TRUE_TOKENS) for d in decisions], [number(s) for s in scores]


def score_directories(
    label_dir: str | Path, output_dir: str | Path, *, weights: RewardMatrix | None = None
) -> dict[str, Any]:
    """``ecgml score``: score a folder of output files against a folder of headers.

    Every ``.hea`` file directly in ``label_dir`` (sorted, hidden files skipped) is a
    record; its outputs are ``output_dir/<name>.csv``.

    Returns:
        :func:`score_arrays`'s result plus ``n_records``, ``records`` and
        ``problems`` (record, problem) for missing or malformed files.
    """
    label_dir, output_dir = Path(label_dir), Path(output_dir)
    for folder, what in ((label_dir, "label"), (output_dir, "output")):
        if not folder.is_dir():
            raise FileNotFoundError(f"{what} folder {folder} not found")
    headers = sorted(
        p
        for p in label_dir.iterdir()
        if p.is_file() and p.suffix.lower() == ".hea" and not p.name.startswith(".")
    )
    if not headers:
        raise ValueError(f"no .hea label files in {label_dir}")
    problems: list[dict[str, str]] = []
    label_sets, outputs = [], []
    for header in headers:
        record = header.stem
        codes = read_label_codes(header)
        if codes is None:
            problems.append({"record": record, "problem": "label file has no #Dx line"})
        label_sets.append(codes or [])
        out_path = output_dir / f"{record}.csv"
        try:
            outputs.append(read_output_file(out_path))
        except FileNotFoundError:
            problems.append({"record": record, "problem": f"no output file {out_path.name}"})
            outputs.append(([], [], []))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            problems.append({"record": record, "problem": f"malformed output file: {exc}"})
            outputs.append(([], [], []))

    label_classes, labels = multi_hot(label_sets)
    output_classes = sorted(set().union(*(set(o[0]) for o in outputs)))
    column = {c: i for i, c in enumerate(output_classes)}
    binary = np.zeros((len(headers), len(output_classes)), dtype=bool)
    scalar = np.zeros((len(headers), len(output_classes)))
    for i, (codes, decisions, scores) in enumerate(outputs):
        idx = [column[c] for c in codes]
        binary[i, idx] = decisions
        scalar[i, idx] = scores
    result = score_arrays(label_classes, labels, output_classes, binary, scalar, weights=weights)
    return {
        "n_records": len(headers),
        "problems": problems,
        **result,
        "records": [h.stem for h in headers],
    }
