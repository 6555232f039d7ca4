"""Signal files without a header: a ``.npy`` array or a ``.csv`` of leads, read into a
record at a rate the caller gives (the ``table`` reader's rows, the web app's uploads)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ecgml.data.records import Record, RecordError, RecordHeader

LAYOUTS = ("time_first", "leads_first")
UNITS = ("mV", "normalised")


def _read_npy(
    path: Path, rid: str, leads: Sequence[str] | None, layout: str
) -> tuple[np.ndarray, tuple[str, ...]]:
    """A ``.npy`` array as float32 ``(time, leads)`` and the lead names the options give."""
    try:
        array = np.load(path, allow_pickle=False)
    except (OSError, ValueError) as exc:
        raise RecordError(rid, f"cannot read {path.name}: {exc}") from None
    if array.ndim != 2:
        expected = "time, leads" if layout == "time_first" else "leads, time"
        raise RecordError(rid, f"{path.name} has shape {array.shape}; expected 2-D ({expected})")
    if not (np.issubdtype(array.dtype, np.floating) or np.issubdtype(array.dtype, np.integer)):
        raise RecordError(rid, f"{path.name} holds {array.dtype}; expected numbers")
    if layout == "leads_first":
        array = array.T
    if leads is None:
        raise RecordError(rid, "a .npy file does not name its leads: set reader option leads")
    if array.shape[1] != len(leads):
        raise RecordError(
            rid,
            f"{path.name} has {array.shape[1]} leads (shape {array.shape}, "
            f"{layout}); {len(leads)} are named: {list(leads)}",
        )
    return array.astype(np.float32), tuple(leads)


def _read_csv(path: Path, rid: str) -> tuple[np.ndarray, tuple[str, ...]]:
    """A ``.csv`` file's columns as float32 ``(time, leads)`` and its header's lead names."""
    try:
        frame = pd.read_csv(path)
    except (OSError, ValueError) as exc:
        raise RecordError(rid, f"cannot read {path.name}: {exc}") from None
    bad = [c for c in frame.columns if not pd.api.types.is_numeric_dtype(frame[c])]
    if bad:
        raise RecordError(rid, f"{path.name}: column(s) {bad} are not numbers")
    return frame.to_numpy(np.float32), tuple(str(c).strip() for c in frame.columns)


def read_signal_file(
    path: str | Path,
    record_id: str,
    *,
    fs: float,
    leads: Sequence[str] | None = None,
    layout: str = "time_first",
    units: str = "mV",
    dx: tuple[str, ...] = (),
    age: float | None = None,
    sex: str | None = None,
) -> Record:
    """A ``.npy`` or ``.csv`` signal file as a record (module docstring): what a label
    table's rows name, and what the web app takes uploaded with its rate.

    Args:
        path: the file.
        record_id: the record's id.
        fs: its rate in Hz.
        leads: the names of a ``.npy`` array's columns (a CSV names its own).
        layout: ``"time_first"`` or ``"leads_first"``, for ``.npy`` arrays.
        units: ``"mV"`` or ``"normalised"``, recorded in the header.
        dx, age, sex: the record's labels and metadata.

    Raises:
        RecordError: the file cannot be read, is not 2-D numbers, has another number
            of leads than ``leads`` names, holds NaN or inf, or has no samples.
    """
    path = Path(path)
    rid = record_id
    if not fs > 0:
        raise RecordError(rid, f"sampling rate must be positive, got {fs}")
    suffix = path.suffix.lower()
    if suffix == ".npy":
        signal, names = _read_npy(path, rid, leads, layout)
    elif suffix == ".csv":
        signal, names = _read_csv(path, rid)
    else:
        raise RecordError(rid, f"{path.name}: not a .npy, .csv or .hea file")
    if signal.shape[0] == 0:
        raise RecordError(rid, f"{path.name} holds no samples")
    if not np.isfinite(signal).all():
        raise RecordError(rid, f"{int((~np.isfinite(signal)).sum())} NaN or infinite samples")
    header = RecordHeader(
        record_id=rid,
        path=path,
        fs=float(fs),
        n_samples=signal.shape[0],
        lead_names=names,
        units=(units,) * len(names),
        signal_files=(path.name,),
        age=age,
        sex=sex,
        dx=dx,
        comments={},
    )
    return Record(header=header, signal=signal)
