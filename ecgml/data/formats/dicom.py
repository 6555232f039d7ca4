"""DICOM waveform objects (12-lead and general ECG), read with pydicom.

pydicom (MIT licence) is the maintained Python reader of DICOM; it decodes a
waveform's multiplex group to a NumPy array with each channel's sensitivity,
correction factor and baseline applied. A file is read as follows:

* the multiplex group labelled ``RHYTHM`` (a 12-lead object's full-length
  leads; its ``MEDIAN`` group holds averaged beats), else the first group;
* the rate from the group's ``SamplingFrequency``;
* each channel's name from its source's code meaning ("Lead I (Einthoven)",
  "Lead V1"), mapped to the standard twelve (:mod:`ecgml.data.formats.leads`);
* each channel's unit from its ``ChannelSensitivityUnitsSequence`` code (uV, mV),
  to millivolts;
* age from ``PatientAge`` (``045Y``), sex from ``PatientSex``.

A DICOM file without a waveform (an image, a report) is refused as such.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from ecgml.data.formats.leads import standard_leads
from ecgml.data.formats.record import millivolt_record, to_millivolts
from ecgml.data.record_types import Record, RecordError

__all__ = ["SIGNATURE", "SUFFIXES", "read_dicom"]

SUFFIXES = (".dcm", ".dicom")
# "DICM" after a 128-byte preamble
SIGNATURE = b"DICM"


def _lead_name(channel) -> str:
    """A channel's name: its source's code meaning without the parenthesis
    ("Lead I (Einthoven)" is "Lead I"), else its label."""
    try:
        meaning = str(channel.ChannelSourceSequence[0].CodeMeaning)
    except (AttributeError, IndexError):
        meaning = str(channel.get("ChannelLabel", ""))
    return re.sub(r"\s*\(.*\)\s*$", "", meaning).strip()


def _unit(channel) -> str:
    try:
        return str(channel.ChannelSensitivityUnitsSequence[0].CodeValue)
    except (AttributeError, IndexError):
        return ""


def _age(value: str) -> float | None:
    """A DICOM age string (``045Y``, ``006M``) in years."""
    match = re.fullmatch(r"(\d{3})([DWMY])", value.strip())
    if not match:
        return None
    per_year = {"D": 365.2425, "W": 52.1775, "M": 12.0, "Y": 1.0}[match[2]]
    return float(int(match[1]) / per_year)


def read_dicom(path: str | Path) -> Record:
    """A DICOM ECG waveform as a record (module docstring).

    Raises:
        RecordError: the file does not parse, holds no waveform (an image), or a
            channel lacks a rate or a voltage unit.
    """
    import pydicom

    path = Path(path)
    rid = path.stem
    try:
        ds = pydicom.dcmread(path)
    except Exception as exc:  # pydicom raises InvalidDicomError, EOFError and others
        raise RecordError(rid, f"cannot read {path.name} as DICOM: {exc}") from None
    if "WaveformSequence" not in ds:
        what = ds.get("Modality", "") or "no waveform"
        raise RecordError(rid, f"{path.name} is a DICOM object without a waveform ({what})")
    groups = list(ds.WaveformSequence)
    labels = [str(g.get("MultiplexGroupLabel", "")).upper() for g in groups]
    index = labels.index("RHYTHM") if "RHYTHM" in labels else 0
    group = groups[index]
    fs = float(group.get("SamplingFrequency", 0) or 0)
    if not fs > 0:
        raise RecordError(rid, f"{path.name}: the waveform gives no sampling frequency")
    channels = list(group.get("ChannelDefinitionSequence", []))
    factors = [to_millivolts(_unit(c)) for c in channels]
    if not channels or None in factors:
        bad = [_unit(c) or "none" for c, f in zip(channels, factors, strict=True) if f is None]
        raise RecordError(rid, f"{path.name}: channel units not a voltage: {bad or 'no channels'}")
    try:
        signal = ds.waveform_array(index)
    except Exception as exc:  # a truncated WaveformData does not reshape
        raise RecordError(rid, f"{path.name}: the waveform data do not decode: {exc}") from None
    signal = (signal * np.asarray(factors)).astype(np.float32)
    names = standard_leads([_lead_name(c) for c in channels])
    sex = {"M": "Male", "F": "Female"}.get(str(ds.get("PatientSex", "")).strip())
    age = _age(str(ds.get("PatientAge", "")))
    return millivolt_record(path, rid, signal, fs, names, age=age, sex=sex)
