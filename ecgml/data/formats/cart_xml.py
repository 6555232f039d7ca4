"""XML exports of ECG carts: GE MUSE ``RestingECG`` and HL7 annotated ECG (the FDA's
aECG), parsed with defusedxml.

XML from outside is untrusted. defusedxml (PSF licence) wraps the standard
library's parser and refuses entity declarations (the "billion laughs"
expansion) and external entities and DTDs (a file naming a local path); a file
larger than :data:`MAX_BYTES` is refused before it is parsed. A MUSE export
begins with ``<!DOCTYPE RestingECG SYSTEM "restecg.dtd">``: the declaration is
allowed, and the DTD is neither fetched nor expanded.

MUSE: the ``Rhythm`` waveform's leads, each base64 of little-endian int16
samples times ``LeadAmplitudeUnitsPerBit`` in ``LeadAmplitudeUnits``, at
``SampleBase`` times 10 to the ``SampleExponent`` Hz. MUSE stores eight leads
(I, II, V1-V6): III, aVR, aVL and aVF are derived from I and II
(:func:`~ecgml.data.formats.leads.derive_limb_leads`). Age and sex come from
``PatientDemographics``.

aECG: the first ``sequenceSet`` of the ``series``: its time sequence's
``increment`` gives the rate, and each lead sequence's ``SLIST_PQ`` value is
``origin + scale * digits`` in the units those declare.
"""

from __future__ import annotations

import base64
import binascii
from pathlib import Path

import numpy as np

from ecgml.data.formats.leads import derive_limb_leads, standard_leads
from ecgml.data.formats.record import millivolt_record, to_millivolts
from ecgml.data.record_types import Record, RecordError

__all__ = ["MAX_BYTES", "SUFFIXES", "read_xml"]

SUFFIXES = (".xml",)
# the largest XML file read: a 10 s 12-lead aECG at 1 kHz is about 1 MB
MAX_BYTES = 64 * 2**20
_HL7 = "{urn:hl7-org:v3}"
_UNITS = {"MICROVOLTS": "uV", "MILLIVOLTS": "mV", "VOLTS": "V"}


def _parse(path: Path, rid: str):
    """The file's root element, refusing what an untrusted XML may hold."""
    import defusedxml
    import defusedxml.ElementTree as ET

    if path.stat().st_size > MAX_BYTES:
        raise RecordError(rid, f"{path.name} is larger than {MAX_BYTES // 2**20} MB")
    try:
        return ET.parse(
            path, forbid_dtd=False, forbid_entities=True, forbid_external=True
        ).getroot()
    except defusedxml.DefusedXmlException as exc:
        raise RecordError(rid, f"{path.name}: refused, the XML {exc}") from None
    except ET.ParseError as exc:
        raise RecordError(rid, f"cannot read {path.name} as XML: {exc}") from None


def _text(element, path: str) -> str:
    found = element.find(path)
    return "" if found is None or found.text is None else found.text.strip()


def _muse(root, path: Path, rid: str) -> tuple[np.ndarray, tuple[str, ...], float, dict]:
    rhythm = [w for w in root.iter("Waveform") if _text(w, "WaveformType").lower() == "rhythm"]
    if not rhythm:
        raise RecordError(rid, f"{path.name}: no Rhythm waveform")
    wave = rhythm[0]
    try:
        fs = float(_text(wave, "SampleBase")) * 10 ** float(_text(wave, "SampleExponent") or 0)
    except ValueError:
        fs = 0.0
    if not fs > 0:
        raise RecordError(rid, f"{path.name}: no sampling rate (SampleBase)")
    leads, names = [], []
    for lead in wave.iter("LeadData"):
        name = _text(lead, "LeadID")
        unit = _UNITS.get(_text(lead, "LeadAmplitudeUnits").upper(), "")
        factor = to_millivolts(unit) if unit else None
        try:
            per_bit = float(_text(lead, "LeadAmplitudeUnitsPerBit"))
        except ValueError:
            per_bit = None
        if factor is None or per_bit is None:
            raise RecordError(rid, f"{path.name}: lead {name} has no amplitude unit")
        try:
            encoded = "".join(_text(lead, "WaveFormData").split())  # line breaks allowed
            raw = base64.b64decode(encoded, validate=True)
        except (binascii.Error, ValueError) as exc:
            raise RecordError(
                rid, f"{path.name}: lead {name}'s data do not decode: {exc}"
            ) from None
        if len(raw) % 2:
            raise RecordError(rid, f"{path.name}: lead {name}'s data are not 16-bit samples")
        leads.append(np.frombuffer(raw, dtype="<i2") * (per_bit * factor))
        names.append(name)
    if not leads:
        raise RecordError(rid, f"{path.name}: the Rhythm waveform has no leads")
    demographics = root.find("PatientDemographics")
    meta = {}
    if demographics is not None:
        age, units = _text(demographics, "PatientAge"), _text(demographics, "AgeUnits").upper()
        meta["age"] = float(age) if age.isdigit() and units in ("", "YEARS") else None
        meta["sex"] = {"MALE": "Male", "FEMALE": "Female"}.get(
            _text(demographics, "Gender").upper()
        )
    return _stacked(leads, names, path, rid), standard_leads(names), fs, meta


def _stacked(leads: list[np.ndarray], names: list[str], path: Path, rid: str) -> np.ndarray:
    lengths = {len(x) for x in leads}
    if len(lengths) > 1:
        raise RecordError(rid, f"{path.name}: leads of different lengths {sorted(lengths)}")
    return np.stack(leads, axis=1).astype(np.float32)


def _quantity(element, rid: str, path: Path) -> float:
    """A physical quantity's value in mV (aECG ``origin`` and ``scale``)."""
    if element is None:
        return 0.0
    factor = to_millivolts(element.get("unit", ""))
    if factor is None:
        raise RecordError(rid, f"{path.name}: unit {element.get('unit')!r} is not a voltage")
    return float(element.get("value", "0")) * factor


def _aecg(root, path: Path, rid: str) -> tuple[np.ndarray, tuple[str, ...], float, dict]:
    sequence_set = root.find(f".//{_HL7}sequenceSet")
    if sequence_set is None:
        raise RecordError(rid, f"{path.name}: no sequenceSet")
    fs, leads, names = 0.0, [], []
    for sequence in sequence_set.iter(f"{_HL7}sequence"):
        code = sequence.find(f"{_HL7}code")
        value = sequence.find(f"{_HL7}value")
        if code is None or value is None:
            continue
        if code.get("code", "").startswith("TIME_"):
            increment = value.find(f"{_HL7}increment")
            if increment is not None and increment.get("unit") in ("s", "ms"):
                step = float(increment.get("value", "0"))
                step /= 1000.0 if increment.get("unit") == "ms" else 1.0
                fs = 1.0 / step if step > 0 else 0.0
            continue
        origin = _quantity(value.find(f"{_HL7}origin"), rid, path)
        scale = _quantity(value.find(f"{_HL7}scale"), rid, path)
        try:
            digits = np.array(_text(value, f"{_HL7}digits").split(), dtype=np.float64)
        except ValueError as exc:
            raise RecordError(rid, f"{path.name}: digits do not parse: {exc}") from None
        leads.append(origin + scale * digits)
        names.append(code.get("code", ""))
    if not fs > 0:
        raise RecordError(rid, f"{path.name}: no sampling rate (the time sequence's increment)")
    if not leads:
        raise RecordError(rid, f"{path.name}: no lead sequences")
    return _stacked(leads, names, path, rid), standard_leads(names), fs, {}


def read_xml(path: str | Path) -> Record:
    """A GE MUSE or HL7 aECG XML file as a record (module docstring).

    Raises:
        RecordError: the file is too large, holds entities or external
            references, does not parse, is another XML, or lacks a rate, a unit
            or decodable data; or its leads differ in length.
    """
    path = Path(path)
    rid = path.stem
    root = _parse(path, rid)
    if root.tag == "RestingECG":
        signal, names, fs, meta = _muse(root, path, rid)
    elif root.tag == f"{_HL7}AnnotatedECG":
        signal, names, fs, meta = _aecg(root, path, rid)
    else:
        raise RecordError(rid, f"{path.name}: XML of another kind (<{root.tag}>)")
    signal, names = derive_limb_leads(signal, names)
    return millivolt_record(path, rid, signal, fs, names, age=meta.get("age"), sex=meta.get("sex"))
