"""EDF, EDF+ and BDF files (Holters, sleep and research systems), read with edfio.

edfio (MIT licence) reads EDF and BDF in pure Python and NumPy, keeps annotation
signals apart from data signals, and gives each signal's physical values with its
declared unit. pyedflib reads the same formats through a C library; edfio was
chosen because it needs no compiled extension and reads a whole file to NumPy at
once.

Signals whose unit is a voltage are the record's leads, converted to millivolts;
other signals (SpO2, temperature, event channels) are left out and named in the
record's warnings. The leads must share one rate. Age comes from an EDF+
patient's birth date and the recording's start date, where neither is
anonymised; sex from the patient field.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ecgml.data.formats.leads import standard_leads
from ecgml.data.formats.record import millivolt_record, to_millivolts
from ecgml.data.record_types import Record, RecordError

__all__ = ["SUFFIXES", "read_edf"]

SUFFIXES = (".edf", ".bdf")


def _age(edf) -> float | None:
    """Years between an EDF+ patient's birth date and the start, where both are known."""
    try:
        birth, start = edf.patient.birthdate, edf.startdate
    except Exception:  # anonymised ("X") or plain EDF: edfio raises its own errors
        return None
    if birth is None or start is None:
        return None
    return float((start - birth).days // 365.2425)


def _sex(edf) -> str | None:
    try:
        code = edf.patient.sex
    except Exception:
        return None
    return {"M": "Male", "F": "Female"}.get(code)


def read_edf(path: str | Path) -> Record:
    """An EDF, EDF+ or BDF file as a record (module docstring).

    Raises:
        RecordError: the file does not parse (truncated, not EDF), has no voltage
            signal (an annotations-only EDF+), or its leads differ in rate.
    """
    import edfio

    path = Path(path)
    rid = path.stem
    try:
        with open(path, "rb") as f:
            bdf = f.read(8) == b"\xffBIOSEMI"
        edf = (edfio.read_bdf if bdf else edfio.read_edf)(path)
    except Exception as exc:  # edfio raises ValueError, EOFError and others
        raise RecordError(rid, f"cannot read {path.name} as EDF/BDF: {exc}") from None
    leads, left_out = [], []
    for signal in edf.signals:
        factor = to_millivolts(signal.physical_dimension)
        if factor is None:
            left_out.append(
                f"{signal.label.strip()} ({signal.physical_dimension.strip() or 'no unit'})"
            )
        else:
            leads.append((signal, factor))
    if not leads:
        what = f"signals {left_out}" if left_out else "annotations only"
        raise RecordError(rid, f"{path.name} has no signal in volts ({what})")
    rates = sorted({float(s.sampling_frequency) for s, _ in leads})
    if len(rates) > 1:
        raise RecordError(rid, f"{path.name}: its leads have different rates {rates} Hz")
    n = min(len(s.data) for s, _ in leads)
    signal = np.stack([s.data[:n] * f for s, f in leads], axis=1).astype(np.float32)
    names = standard_leads([s.label for s, _ in leads])
    warnings = (f"left out signals not in volts: {', '.join(left_out)}",) if left_out else ()
    return millivolt_record(
        path, rid, signal, rates[0], names, age=_age(edf), sex=_sex(edf), warnings=warnings
    )
