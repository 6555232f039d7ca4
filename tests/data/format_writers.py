"""Fixture writers of the record formats ecgml reads, from a known signal in mV: with
each format's own library (EDF, DICOM, HDF5) or by hand after the published layout
(GE MUSE and HL7 aECG XML). Used by ``tests/data/test_formats.py`` and
``bench/formats.py``."""

from __future__ import annotations

import base64

import numpy as np

from ecgml.data.preprocess import STANDARD_LEADS


def write_edf(path, signal, fs, labels, unit="uV", factor=1000.0, extra=()):
    signals = [
        _edfio().EdfSignal(
            signal[:, k] * factor,
            fs,
            label=label,
            physical_dimension=unit,
            physical_range=(-5000.0, 5000.0),
        )
        for k, label in enumerate(labels)
    ]
    _edfio().Edf([*signals, *extra]).write(path)
    return path


def write_code15(path, tracings, ids):
    import h5py

    with h5py.File(path, "w") as f:
        f.create_dataset("tracings", data=tracings)
        f.create_dataset("exam_id", data=ids)
    return path


def write_dicom(path, signal, fs, *, unit="uV", sensitivity=1.0, image=False):
    """A 12-lead ECG waveform object as a cart writes one: int16 counts of
    ``sensitivity`` ``unit`` each, one RHYTHM multiplex group."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import ExplicitVRLittleEndian, generate_uid

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.9.1.1"
    meta.MediaStorageSOPInstanceUID = generate_uid()
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds = Dataset()
    ds.file_meta = meta
    ds.SOPClassUID, ds.SOPInstanceUID = meta.MediaStorageSOPClassUID, generate_uid()
    ds.Modality, ds.PatientAge, ds.PatientSex = "ECG", "063Y", "M"
    if not image:
        group = Dataset()
        group.MultiplexGroupLabel = "RHYTHM"
        group.SamplingFrequency = fs
        group.NumberOfWaveformChannels, group.NumberOfWaveformSamples = signal.shape[1], len(signal)
        group.WaveformBitsAllocated, group.WaveformSampleInterpretation = 16, "SS"
        counts = np.round(signal * 1000 / sensitivity).astype("<i2")  # mV to uV counts
        group.WaveformData = counts.tobytes()
        channels = []
        for name in STANDARD_LEADS[: signal.shape[1]]:
            source, units, channel = Dataset(), Dataset(), Dataset()
            source.CodeValue, source.CodingSchemeDesignator = "x", "SCPECG"
            source.CodeMeaning = (
                f"Lead {name} (Einthoven)" if name in ("I", "II") else f"Lead {name}"
            )
            units.CodeValue, units.CodingSchemeDesignator, units.CodeMeaning = unit, "UCUM", unit
            channel.ChannelSourceSequence = [source]
            if unit:
                channel.ChannelSensitivityUnitsSequence = [units]
            channel.ChannelSensitivity = sensitivity
            channel.ChannelSensitivityCorrectionFactor, channel.ChannelBaseline = 1, 0
            channels.append(channel)
        group.ChannelDefinitionSequence = channels
        ds.WaveformSequence = [group]
    ds.save_as(path, enforce_file_format=True)
    return path


MUSE_LEADS = ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")


def write_muse(path, signal, fs=500, *, per_bit=4.88, doctype=True, data=None, lengths=None):
    """A GE MUSE RestingECG export of eight leads (columns of ``signal`` in
    MUSE_LEADS order), base64 int16 counts of ``per_bit`` microvolts."""
    leads = []
    for k, name in enumerate(MUSE_LEADS):
        counts = np.round(signal[: (lengths or {}).get(name), k] * 1000 / per_bit).astype("<i2")
        encoded = data if data is not None else base64.b64encode(counts.tobytes()).decode()
        leads.append(
            f"<LeadData><LeadID>{name}</LeadID>"
            f"<LeadAmplitudeUnitsPerBit>{per_bit}</LeadAmplitudeUnitsPerBit>"
            f"<LeadAmplitudeUnits>MICROVOLTS</LeadAmplitudeUnits>"
            f"<WaveFormData>{encoded[:60]}\n{encoded[60:]}</WaveFormData></LeadData>"
        )
    text = (
        '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
        + ('<!DOCTYPE RestingECG SYSTEM "restecg.dtd">\n' if doctype else "")
        + "<RestingECG><PatientDemographics><PatientAge>71</PatientAge>"
        "<AgeUnits>YEARS</AgeUnits><Gender>FEMALE</Gender></PatientDemographics>"
        "<Waveform><WaveformType>Median</WaveformType><SampleBase>500</SampleBase></Waveform>"
        f"<Waveform><WaveformType>Rhythm</WaveformType><SampleBase>{fs}</SampleBase>"
        f"<SampleExponent>0</SampleExponent>{''.join(leads)}</Waveform></RestingECG>"
    )
    path.write_text(text, encoding="latin-1")
    return path


def write_aecg(path, signal, fs, *, scale=5.0, unit="uV"):
    """An HL7 aECG file: a time sequence and one SLIST_PQ sequence per lead."""
    lead_sequences = "".join(
        f'<component><sequence><code code="MDC_ECG_LEAD_{name.upper()}"/>'
        f'<value xsi:type="SLIST_PQ"><origin value="0" unit="{unit}"/>'
        f'<scale value="{scale}" unit="{unit}"/><digits>'
        + " ".join(str(int(v)) for v in np.round(signal[:, k] * 1000 / scale))
        + "</digits></value></sequence></component>"
        for k, name in enumerate(STANDARD_LEADS[: signal.shape[1]])
    )
    path.write_text(
        '<?xml version="1.0"?><AnnotatedECG xmlns="urn:hl7-org:v3" '
        'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance"><component><series>'
        "<component><sequenceSet>"
        '<component><sequence><code code="TIME_ABSOLUTE"/><value xsi:type="GLIST_TS">'
        f'<head value="20260101120000.000"/><increment value="{1 / fs}" unit="s"/>'
        f"</value></sequence></component>{lead_sequences}"
        "</sequenceSet></component></series></component></AnnotatedECG>"
    )
    return path


def _edfio():
    import edfio

    return edfio
