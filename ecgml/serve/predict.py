"""``ecgml predict``: classify new recordings with a run's five-fold ensemble.

Writes into the output folder:

* ``outputs/RECORD.csv``: each record's classes, decisions and probabilities in the
  challenge format (readable by ``ecgml score``);
* ``summary.csv``: one line per record given: its path, whether it was predicted,
  the decided classes, the number of windows, the duration (``seconds``) and
  rate (``fs``) it was read at, its signal quality (``good``, or the problems
  found, each naming its lead: ``flat:V3;noise:II``, :mod:`ecgml.data.quality`),
  warnings or the error (``note``: a rate the reader resolved against the
  config's, a duration implausible for the run), and one probability column per
  class (``p_AF``, ...);
* ``operating_points.csv``: per class, the sensitivity and specificity each fold
  model's decision threshold had on its own validation part
  (:func:`ecgml.runs.thresholds.operating_points`), so that a reader of
  ``summary.csv`` knows what a "yes" means;
* ``predict.json``: which run, rule and settings produced them (the reader and
  its options included), and the records that could not be used, with the reason.

A record that cannot be read or used is reported and skipped; the batch goes on.
A beat run's outputs are described in :mod:`ecgml.serve.predict_beats`. Records
go through the one record path (:func:`ecgml.inference.records.predict_paths`).
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ecgml.data.readers import Reader
from ecgml.data.record_types import RecordError
from ecgml.data.sources import find_records
from ecgml.inference.ensemble import VOTE_RULES, Ensemble
from ecgml.inference.predictors import Request, predictor_of
from ecgml.inference.records import predict_paths
from ecgml.serve import predict_beats  # noqa: F401 -- registers the beat run's writer
from ecgml.serve.predict_outputs import OUTPUTS, REPORT, SUMMARY


def find_inputs(
    inputs: Sequence[str | Path],
    *,
    suffixes: Sequence[str] = (),
    reader: Reader | None = None,
) -> list[Path]:
    """Header paths for what the user named: folders (walked recursively), ``.hea``
    files, or record paths without an extension; files with the sample kind's
    other ``suffixes`` too (an image run's PNG and JPEG files, named or in the
    folders), and for a run that reads record files, DICOM and EDF files without
    an extension, known by their first bytes, and each tracing of an HDF5 cohort
    file (``FILE.hdf5::ID``). Where the run's ``reader`` finds records
    its own way (a label table's folder or file,
    :meth:`~ecgml.data.readers.Reader.find_inputs`), the files it names.

    Raises:
        FileNotFoundError: an input names nothing on disk.
    """
    headers: list[Path] = []
    for item in map(Path, inputs):
        own = reader.find_inputs(item) if reader is not None else None
        if own is not None:
            headers += own
        elif item.is_dir():
            headers += [r.path for r in find_records([item])]
            if suffixes:
                headers += sorted(p.resolve() for p in item.rglob("*") if _taken(p, suffixes))
                headers += _tracings(sorted(item.rglob("*")), suffixes)
        elif item.is_file() and (item.suffix == ".hea" or _taken(item, suffixes)):
            headers.append(item.resolve())
        elif item.is_file() and _tracings([item], suffixes):
            headers += _tracings([item], suffixes)
        elif item.with_suffix(".hea").is_file():
            headers.append(item.with_suffix(".hea").resolve())
        elif Path(f"{item}.hea").is_file():  # a record name with a dot in it
            headers.append(Path(f"{item}.hea").resolve())
        else:
            raise FileNotFoundError(
                f"no record or folder at {item} (expected a .hea file, "
                "a record path without extension, or a folder)"
            )
    return list(dict.fromkeys(headers))


def _taken(path: Path, suffixes: Sequence[str]) -> bool:
    """Whether a file is an input besides WFDB headers: one of the ``suffixes``, or,
    where those take record files, a DICOM or EDF file without an extension."""
    from ecgml.data.formats import RECORD_SUFFIXES, is_record_file

    if path.suffix.lower() in suffixes:
        return True
    return not path.suffix and set(RECORD_SUFFIXES) <= set(suffixes) and is_record_file(path)


def _tracings(paths: Sequence[Path], suffixes: Sequence[str]) -> list[Path]:
    """A path per tracing (``FILE.hdf5::ID``) of the HDF5 cohort files among ``paths``,
    where the ``suffixes`` take record files."""
    from ecgml.data.formats import RECORD_SUFFIXES
    from ecgml.data.formats.hdf5 import SEPARATOR, SUFFIXES, tracing_paths

    if not set(RECORD_SUFFIXES) <= set(suffixes):
        return []
    found = []
    for path in (p for p in paths if p.suffix.lower() in SUFFIXES):
        try:
            found += tracing_paths(path)
        except RecordError:  # an unreadable file: one input, skipped with its reason
            found.append(Path(f"{path.resolve()}{SEPARATOR}"))
    return found


PRINTOUTS = "printouts"


def predict_records(
    run: str | Path,
    inputs: Sequence[str | Path],
    out: str | Path,
    *,
    rule: str | None = None,
    min_votes: int | None = None,
    missing_leads: str = "error",
    annotations: str | None = None,
    printouts: bool = False,
    explain: Sequence[str] | None = None,
    chunk: int = 32,
    progress: bool = True,
    ensemble: Ensemble | None = None,
    reader_options: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Predict every record named by ``inputs`` and write the output folder (module
    docstring; the options are ``ecgml predict``'s, docs/commands.md).

    Args:
        run: a trained run folder whose folds have thresholds.
        inputs: folders, ``.hea`` files or record paths (:func:`find_inputs`); for
            an image run, PNG and JPEG files too.
        out: the output folder (created).
        rule, min_votes: the vote; ``None``: the target kind's, a strict majority.
        missing_leads: ``"error"`` (skip the record) or ``"zero"``.
        annotations: beat runs: classify the beats of ``RECORD.EXT``.
        printouts: also draw each record's printout into ``out/printouts/``.
        explain: also explain each record into ``out/explain/`` (``[]``: the
            decided classes); ``None``: no explanations.
        chunk: records read before the models run on all their windows at once.
        progress, ensemble: a progress bar; an already loaded ensemble of ``run``.
        reader_options: the new data's reader options (:meth:`Ensemble.reading`).

    Returns:
        The contents of ``predict.json``.

    Raises:
        FileNotFoundError: no run, or an input that does not exist.
        ValueError: a bad option, or no record found in the inputs.
    """
    _check_settings(rule, chunk)
    started = time.time()
    ensemble = (ensemble or Ensemble.load(run)).reading(reader_options)
    samples = ensemble.task.samples
    headers = find_inputs(inputs, suffixes=samples.input_suffixes, reader=ensemble.task.reader)
    if not headers:
        raise ValueError(f"no records (.hea files) found in {', '.join(map(str, inputs))}")
    rule = ensemble.target.check_options(rule, min_votes, len(ensemble.folds), run=run)
    _check_classes(ensemble, explain)
    explain = None if explain is None else tuple(explain)
    request = Request(
        rule=rule,
        min_votes=min_votes,
        missing_leads=missing_leads,
        annotations=annotations,
        explain=explain,
    )
    predictor_of(ensemble).check(request, run)
    out = Path(out)
    outputs = OUTPUTS.named(samples.predicts)(ensemble, out, request)
    results = predict_paths(
        ensemble, headers, request, chunk=chunk, progress=progress, echo_skipped=True
    )
    rows = [outputs.write(result) for result in results]
    report = outputs.finish(
        rows, inputs=inputs, n_records=len(headers), started=started, reader_options=reader_options
    )
    if printouts:
        return _with_printouts(report, headers, out, ensemble)
    (out / REPORT).write_text(json.dumps(report, indent=1) + "\n")
    return report


def _check_settings(rule: str | None, chunk: int) -> None:
    if rule is not None and rule not in VOTE_RULES:
        raise ValueError(f"rule must be one of {VOTE_RULES}, got {rule!r}")
    if chunk < 1:
        raise ValueError(f"chunk must be at least 1, got {chunk}")


def _check_classes(ensemble: Ensemble, explain: Sequence[str] | None) -> None:
    """Refuse classes to explain that the run does not have."""
    for name in explain or ():
        if name not in ensemble.abbreviations and name not in ensemble.class_names:
            raise ValueError(
                f"--explain: unknown class {name!r}; the run's classes: "
                f"{', '.join(ensemble.abbreviations)}"
            )


def _with_printouts(
    report: dict[str, Any], headers: Sequence[Path], out: Path, ensemble: Ensemble
) -> dict[str, Any]:
    """Draw every record's printout (read by the task's reader; an image input is
    one already) into ``out/printouts`` and note it in ``predict.json``."""
    from ecgml.serve.printouts import render_paths

    images = ensemble.task.samples.input_suffixes
    records = [h for h in headers if h.suffix.lower() not in images]
    failed = render_paths(records, out / PRINTOUTS, reader=ensemble.task.reader)
    report = report | {"printouts": PRINTOUTS, "printouts_failed": failed}
    (out / REPORT).write_text(json.dumps(report, indent=1) + "\n")
    return report


def read_summary(out: str | Path) -> pd.DataFrame:
    """The summary table of an output folder: decided classes as lists, numbers as
    numbers (missing on skipped records)."""
    text = {"record": str, "decided": str, "note": str, "quality": str}
    table = pd.read_csv(Path(out) / SUMMARY, dtype=text)
    present = [c for c in ("decided", "note", "quality") if c in table]
    table[present] = table[present].fillna("")
    table["decided"] = [s.split() for s in table["decided"]]
    table["n_windows"] = table["n_windows"].astype("Int64")
    return table
