"""Diagnosis codes and multi-hot label encoding for the CinC 2020 scored classes.

The 27 scored diagnoses and the unscored ones ship as package data
(``tables/dx_scored.csv``, ``tables/dx_unscored.csv``), copied from the
PhysioNet/CinC Challenge 2020 scoring tables (Perez Alday et al., 2020).

The challenge scores three pairs of codes as one diagnosis (CRBBB/RBBB,
PAC/SVPB, PVC/VPB). How a training target treats them is a choice, made by
``LabelConfig.equivalent_mode``:

* ``"separate"``: every code has its own column and sets only that column;
  27 outputs, what each source actually wrote.
* ``"mirror"``: 27 columns, but a code of a pair sets both columns of its pair,
  so the two outputs learn the same target.
* ``"merge"``: one column per pair (named ``"713427006|59118001"``, as in the
  challenge's weights file), 24 columns.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import cache
from importlib import resources

import numpy as np

EQUIVALENT_MODES = ("separate", "mirror", "merge")

# The challenge's equivalent pairs (dx_mapping_scored.csv, "Notes" column).
DEFAULT_EQUIVALENT_PAIRS: tuple[tuple[str, str], ...] = (
    ("713427006", "59118001"),  # CRBBB / RBBB
    ("284470004", "63593006"),  # PAC / SVPB
    ("427172004", "17338001"),  # PVC / VPB
)

# Text labels used by the early CinC 2020 release (CPSC 2018 headers, "#Dx: RBBB").
TEXT_LABELS: dict[str, str] = {
    "AF": "164889003",
    "I-AVB": "270492004",
    "IAVB": "270492004",
    "LBBB": "164909002",
    "NORMAL": "426783006",
    "PAC": "284470004",
    "PVC": "427172004",
    "RBBB": "59118001",
    "STD": "429622005",
    "STE": "164931005",
}


@dataclass(frozen=True)
class Diagnosis:
    """One row of a diagnosis table."""

    code: str
    abbreviation: str
    name: str
    scored: bool


@cache
def _read_table(filename: str, scored: bool) -> tuple[Diagnosis, ...]:
    text = resources.files("ecgml.data").joinpath("tables", filename).read_text()
    rows = csv.DictReader(text.splitlines())
    return tuple(Diagnosis(r["snomed_code"], r["abbreviation"], r["name"], scored) for r in rows)


def scored_diagnoses() -> tuple[Diagnosis, ...]:
    """The 27 scored CinC 2020 diagnoses, in the order of the challenge's table."""
    return _read_table("dx_scored.csv", True)


def known_diagnoses() -> dict[str, Diagnosis]:
    """Every diagnosis the CinC 2020 tables name, scored or not, by SNOMED code."""
    rows = _read_table("dx_scored.csv", True) + _read_table("dx_unscored.csv", False)
    return {d.code: d for d in rows}


def normalise_dx(token: str) -> str:
    """Map one ``#Dx`` entry to a SNOMED code string.

    Numeric entries are returned stripped; early-2020 text labels ("RBBB",
    "I-AVB", "Normal") are mapped through ``TEXT_LABELS``. Anything else is
    returned as given, so that the caller can report it as unknown.
    """
    token = token.strip()
    if token.isdigit():
        return token
    return TEXT_LABELS.get(token.upper(), token)


@dataclass(frozen=True)
class LabelConfig:
    """Which classes a model predicts and how equivalent codes are encoded.

    Attributes:
        classes: SNOMED codes of the output columns, before merging. ``None``
            means the 27 scored CinC 2020 diagnoses.
        equivalent_pairs: pairs of codes the challenge scores as one class.
        equivalent_mode: ``"separate"``, ``"mirror"`` or ``"merge"`` (module docstring).
        one_class: use only records with exactly one of the classes (the samples of
            a multiclass task drawn from multi-label records); the others stay in
            the cache and are left out when it is opened.
    """

    classes: tuple[str, ...] | None = None
    equivalent_pairs: tuple[tuple[str, str], ...] = DEFAULT_EQUIVALENT_PAIRS
    equivalent_mode: str = "separate"
    one_class: bool = False

    def __post_init__(self) -> None:
        if self.equivalent_mode not in EQUIVALENT_MODES:
            raise ValueError(
                f"equivalent_mode must be one of {EQUIVALENT_MODES}, got {self.equivalent_mode!r}"
            )
        for pair in self.equivalent_pairs:
            if len(pair) != 2:
                raise ValueError(f"an equivalent pair has two codes, got {pair!r}")
        if self.classes is not None and len(set(self.classes)) != len(self.classes):
            raise ValueError("classes contains a code twice")


@dataclass(frozen=True)
class LabelEncoder:
    """Turns lists of SNOMED codes into multi-hot rows.

    Build one with :meth:`from_config`; ``class_names`` are the column names
    (a code, or ``"a|b"`` for a merged pair) and ``abbreviations`` their short names.
    """

    class_names: tuple[str, ...]
    abbreviations: tuple[str, ...]
    _columns: dict[str, tuple[int, ...]] = field(repr=False)

    @classmethod
    def from_config(cls, config: LabelConfig | None = None) -> LabelEncoder:
        config = config or LabelConfig()
        known = known_diagnoses()
        codes = config.classes or tuple(d.code for d in scored_diagnoses())
        pairs = [p for p in config.equivalent_pairs if p[0] in codes and p[1] in codes]

        def abbr(code: str) -> str:
            return known[code].abbreviation if code in known else code

        names, abbreviations, columns = [], [], {}
        partner = {a: b for a, b in pairs} | {b: a for a, b in pairs}
        for code in codes:
            if config.equivalent_mode == "merge" and code in partner:
                first, second = (code, partner[code])
                if codes.index(second) < codes.index(first):
                    continue  # the pair's column was made at its first member
                index = len(names)
                names.append(f"{first}|{second}")
                abbreviations.append(f"{abbr(first)}|{abbr(second)}")
                columns[first] = columns[second] = (index,)
            else:
                columns[code] = (len(names),)
                names.append(code)
                abbreviations.append(abbr(code))
        if config.equivalent_mode == "mirror":
            for a, b in pairs:
                columns[a] = columns[b] = columns[a] + columns[b]
        return cls(tuple(names), tuple(abbreviations), columns)

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def encode(self, codes: Iterable[str]) -> np.ndarray:
        """Multi-hot vector, shape ``(n_classes,)``, dtype uint8; unscored codes are ignored."""
        row = np.zeros(self.n_classes, dtype=np.uint8)
        for code in codes:
            for column in self._columns.get(code, ()):
                row[column] = 1
        return row

    def encode_many(self, code_lists: Sequence[Iterable[str]]) -> np.ndarray:
        """Multi-hot matrix, shape ``(n_records, n_classes)``, dtype uint8."""
        out = np.zeros((len(code_lists), self.n_classes), dtype=np.uint8)
        for i, codes in enumerate(code_lists):
            out[i] = self.encode(codes)
        return out
