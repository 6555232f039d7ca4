"""Record files other than WFDB: fixtures written with each format's own library from a
known signal, read back to within the format's resolution; and the bad inputs."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.data.formats import MissingExtra, format_of, read_records
from ecgml.data.formats.leads import derive_limb_leads, standard_lead, standard_leads
from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.record_types import Record, RecordError
from tests.conftest import sine_signal
from tests.data.format_writers import (
    MUSE_LEADS,
    write_code15,
    write_dicom,
    write_edf,
)

edfio = pytest.importorskip("edfio")
h5py = pytest.importorskip("h5py")


def test_lead_names_of_every_format_map_to_the_standard_twelve():
    written = {
        "LEAD_I": "I",
        "MDC_ECG_LEAD_AVR": "aVR",
        "mdc_ecg_lead_V6": "V6",
        "C1": "V1",
        "ECG V2": "V2",
        "DII": "II",
        "Lead III": "III",
        "avl": "aVL",
        "aVF": "aVF",
    }
    assert {name: standard_lead(name) for name in written} == written
    assert standard_lead("SpO2") is None
    assert standard_leads(["C3", "Pleth"]) == ("V3", "Pleth")
    assert {standard_lead(n) for n in STANDARD_LEADS} == set(STANDARD_LEADS)


def test_limb_leads_are_derived_from_i_and_ii():
    signal = sine_signal(500, n_leads=12)
    eight = [STANDARD_LEADS.index(n) for n in ("I", "II", "V1", "V2", "V3", "V4", "V5", "V6")]
    derived, names = derive_limb_leads(signal[:, eight], [STANDARD_LEADS[k] for k in eight])
    lead_i, lead_ii = signal[:, 0], signal[:, 1]
    expected = {
        "III": lead_ii - lead_i,
        "aVR": -(lead_i + lead_ii) / 2,
        "aVL": lead_i - lead_ii / 2,
        "aVF": lead_ii - lead_i / 2,
    }
    for lead, values in expected.items():
        np.testing.assert_allclose(derived[:, names.index(lead)], values, atol=1e-12)
    # nothing to derive without lead II
    same, same_names = derive_limb_leads(signal[:, [0, 6]], ["I", "V1"])
    assert same_names == ("I", "V1") and same.shape == (500, 2)


def test_edf_in_microvolts_reads_back_in_millivolts_with_standard_names(tmp_path):
    signal = sine_signal(2500, fs=250.0, n_leads=3)
    path = write_edf(tmp_path / "holter.edf", signal, 250.0, ["ECG I", "ECG II", "C1"])
    (record,) = read_records(path)
    assert isinstance(record, Record)
    assert record.header.fs == 250.0 and record.header.lead_names == ("I", "II", "V1")
    # 16-bit over +-5000 uV: 0.15 uV a step
    np.testing.assert_allclose(record.signal, signal, atol=2e-4)
    assert format_of(path) == "edf"


def test_bdf_and_a_signal_not_in_volts(tmp_path):
    signal = sine_signal(1000, fs=200.0, n_leads=2)
    spo2 = edfio.BdfSignal(
        np.full(1000, 97.0), 200.0, label="SpO2", physical_dimension="%", physical_range=(0, 100)
    )
    leads = [
        edfio.BdfSignal(
            signal[:, k], 200.0, label=name, physical_dimension="mV", physical_range=(-5, 5)
        )
        for k, name in enumerate(["I", "II"])
    ]
    path = tmp_path / "cart.bdf"
    edfio.Bdf([*leads, spo2]).write(path)
    (record,) = read_records(path)
    assert record.header.lead_names == ("I", "II")
    np.testing.assert_allclose(record.signal, signal, atol=1e-5)  # 24 bits over 10 mV
    assert "SpO2 (%)" in record.warnings[0]


def test_bad_edf_files_are_refused_with_their_reason(tmp_path):
    signal = sine_signal(1000, fs=250.0, n_leads=2)
    good = write_edf(tmp_path / "good.edf", signal, 250.0, ["I", "II"])
    truncated = tmp_path / "truncated.edf"
    truncated.write_bytes(good.read_bytes()[:300])
    with pytest.raises(RecordError, match=r"cannot read truncated\.edf"):
        list(read_records(truncated))
    no_unit = write_edf(tmp_path / "no_unit.edf", signal, 250.0, ["I", "II"], unit="")
    with pytest.raises(RecordError, match="no signal in volts"):
        list(read_records(no_unit))
    mixed = tmp_path / "mixed.edf"
    edfio.Edf(
        [
            edfio.EdfSignal(
                signal[:, 0], 250.0, label="I", physical_dimension="mV", physical_range=(-5, 5)
            ),
            edfio.EdfSignal(
                signal[::2, 1], 125.0, label="II", physical_dimension="mV", physical_range=(-5, 5)
            ),
        ]
    ).write(mixed)
    with pytest.raises(RecordError, match="different rates"):
        list(read_records(mixed))


def test_an_edf_with_annotations_only_is_refused(tmp_path):
    path = tmp_path / "events.edf"
    edfio.Edf([], annotations=[edfio.EdfAnnotation(1.0, None, "start")]).write(path)
    with pytest.raises(RecordError, match="annotations only"):
        list(read_records(path))


def test_hdf5_cohort_records_lose_their_zero_padding(tmp_path):
    rng = np.random.default_rng(0)
    tracings = np.zeros((3, 4096, 12), dtype=np.float32)
    tracings[0, 48:4048] = rng.normal(size=(4000, 12))
    tracings[1, 648:3448] = rng.normal(size=(2800, 12))  # 7 s, more padding
    path = write_code15(tmp_path / "exams_part0.hdf5", tracings, np.array([101, 102, 103]))
    assert format_of(path) == "hdf5"
    first, second, empty = read_records(path)
    assert first.header.record_id == "101" and first.header.fs == 400.0
    np.testing.assert_array_equal(first.signal, tracings[0, 48:4048])
    assert second.signal.shape == (2800, 12)
    assert first.header.lead_names == tuple(STANDARD_LEADS)
    assert isinstance(empty, RecordError) and "all zeros" in str(empty)
    (in_uv, *_) = read_records(path, units="uV")
    np.testing.assert_allclose(in_uv.signal, tracings[0, 48:4048] / 1000, rtol=1e-6)


def test_hdf5_without_the_datasets_or_with_a_unit_not_a_voltage(tmp_path):
    path = tmp_path / "other.h5"
    with h5py.File(path, "w") as f:
        f.create_dataset("signals", data=np.zeros((2, 10, 12)))
    with pytest.raises(RecordError, match="no dataset"):
        list(read_records(path))
    with pytest.raises(RecordError, match="not a voltage"):
        list(read_records(path, units="mmHg"))


def test_a_file_in_no_format_and_a_missing_library(tmp_path, monkeypatch):
    text = tmp_path / "notes.txt"
    text.write_text("not an ECG")
    assert format_of(text) is None
    with pytest.raises(RecordError, match="in no format"):
        read_records(text)
    path = write_edf(tmp_path / "a.edf", sine_signal(500, n_leads=1), 500.0, ["I"])
    monkeypatch.setitem(__import__("sys").modules, "edfio", None)  # as if not installed
    with pytest.raises(MissingExtra, match=r"ecgml\[formats\]"):
        read_records(path)
    from ecgml.data.formats.hdf5 import tracing_paths

    monkeypatch.setitem(__import__("sys").modules, "h5py", None)
    with pytest.raises(MissingExtra, match=r"needs h5py: pip install 'ecgml\[formats\]'"):
        tracing_paths(tmp_path / "cohort.hdf5")


def test_an_edf_record_predicts_as_its_wfdb_twin(tmp_path, write_wfdb):
    from ecgml.inference.presets import load_preset
    from ecgml.serve.predict import find_inputs

    signal = sine_signal(5000, fs=500.0) + 0.05 * np.random.default_rng(0).normal(size=(5000, 12))
    folder = tmp_path / "mixed"
    wfdb_path = write_wfdb("twin", signal, directory=folder)
    edf_path = write_edf(
        folder / "twin_edf.edf", signal, 500.0, [f"LEAD_{n}" for n in STANDARD_LEADS]
    )
    (folder / "notes.txt").write_text("not a record")
    model = load_preset("ptbxl-superclass")
    found = find_inputs([folder], suffixes=model.task.samples.input_suffixes)
    assert set(found) == {edf_path.resolve(), wfdb_path.resolve()}  # not notes.txt
    from_wfdb, from_edf = model.predict_paths([wfdb_path, edf_path])
    assert from_edf.problem is None, from_edf.problem
    # the two files round the signal differently (EDF: 0.15 uV steps, WFDB: 1 uV)
    np.testing.assert_allclose(from_edf.answer.y_score, from_wfdb.answer.y_score, atol=1e-3)
    assert from_edf.prepared.header.lead_names == tuple(STANDARD_LEADS)


def test_each_tracing_of_an_hdf5_cohort_predicts_as_its_wfdb_twin(tmp_path, write_wfdb):
    pytest.importorskip("h5py")
    from ecgml.inference.presets import load_preset
    from ecgml.serve.predict import find_inputs

    rng = np.random.default_rng(1)
    signals = [sine_signal(4000, fs=400.0) * a + 0.05 * rng.normal(size=(4000, 12)) for a in (1, 2)]
    folder = tmp_path / "cohort"
    folder.mkdir()
    write_code15(folder / "exams_part0.hdf5", np.stack(signals).astype(np.float32), [11, 12])
    twin = write_wfdb("twin", signals[1], fs=400.0, directory=tmp_path / "wfdb")
    model = load_preset("ptbxl-superclass")
    found = find_inputs([folder], suffixes=model.task.samples.input_suffixes)
    assert [p.name for p in found] == ["exams_part0.hdf5::11", "exams_part0.hdf5::12"]
    named = find_inputs([folder / "exams_part0.hdf5"], suffixes=model.task.samples.input_suffixes)
    assert named == found
    assert [model.task.reader.record_id_at(p) for p in found] == ["11", "12"]
    from_hdf5, from_wfdb = model.predict_paths([found[1], twin])
    assert from_hdf5.problem is None, from_hdf5.problem
    assert any("declares no rate or unit" in w for w in from_hdf5.prepared.warnings)
    np.testing.assert_allclose(from_hdf5.answer.y_score, from_wfdb.answer.y_score, atol=1e-3)


def test_a_label_table_of_edf_files_prepares_a_cache(tmp_path):
    from ecgml.data.cache import Cache, prepare_cache
    from ecgml.data.labels import LabelConfig
    from ecgml.data.preprocess import PreprocessConfig

    data = tmp_path / "data"
    (data / "edf").mkdir(parents=True)
    signal = sine_signal(1000, fs=250.0, n_leads=2)
    for k in range(3):
        write_edf(data / "edf" / f"h{k}.edf", signal * (k + 1), 250.0, ["ECG I", "ECG II"])
    (data / "edf" / "h3.edf").write_bytes(b"0       truncated")
    rows = ["file,AF", *(f"edf/h{k}.edf,{k % 2}" for k in range(4))]
    (data / "labels.csv").write_text("\n".join(rows) + "\n")
    pre = PreprocessConfig(leads=("I", "II"), fs=250.0, window=1000, bandpass=None)
    report = prepare_cache(
        [data],
        tmp_path / "cache",
        pre,
        LabelConfig(classes=("AF",)),
        reader="table",
        reader_options={"label_columns": ["AF"], "fs": 250},
        progress=False,
    )
    assert report["cached"] == 3
    assert [s["record_id"] for s in report["skipped"]] == ["h3"]
    cache = Cache(tmp_path / "cache")
    np.testing.assert_allclose(cache.windows(2)[0], signal * 3, atol=5e-4)
    assert cache.labels[:, 0].tolist() == [0, 1, 0]


def test_dicom_waveform_reads_back_in_millivolts(tmp_path):
    pytest.importorskip("pydicom")
    signal = sine_signal(5000, fs=500.0)
    path = write_dicom(tmp_path / "ecg.dcm", signal, 500.0, sensitivity=2.5)
    assert format_of(path) == "dicom"
    (record,) = read_records(path)
    assert record.header.fs == 500.0 and record.header.lead_names == tuple(STANDARD_LEADS)
    assert record.header.age == 63.0 and record.header.sex == "Male"
    np.testing.assert_allclose(record.signal, signal, atol=1.25e-3 + 1e-6)  # half a 2.5 uV step
    renamed = path.rename(tmp_path / "no_extension")  # known by its DICM signature
    assert format_of(renamed) == "dicom"


def test_a_dicom_file_without_an_extension_is_found_and_read(tmp_path, write_wfdb):
    pytest.importorskip("pydicom")
    from ecgml.data.formats import RECORD_SUFFIXES
    from ecgml.data.records import read_record
    from ecgml.serve.predict import find_inputs

    folder = tmp_path / "data"
    header = write_wfdb("W1", directory=folder)
    signal = sine_signal(5000, fs=500.0)
    exported = write_dicom(folder / "IM0001.dcm", signal, 500.0).rename(folder / "IM0001")
    (folder / "RECORDS").write_text("W1\n")  # a text file without an extension: not a record
    found = find_inputs([folder], suffixes=RECORD_SUFFIXES)
    assert sorted(p.name for p in found) == ["IM0001", header.name]
    assert find_inputs([exported], suffixes=RECORD_SUFFIXES) == [exported.resolve()]
    assert find_inputs([folder], suffixes=()) == [header.resolve()]  # a run of images: no DICOM
    record = read_record(exported)
    np.testing.assert_allclose(record.signal, signal, atol=5e-4 + 1e-6)


def test_bad_dicom_files_are_refused_with_their_reason(tmp_path):
    pytest.importorskip("pydicom")
    signal = sine_signal(1000, fs=500.0)
    image = write_dicom(tmp_path / "image.dcm", signal, 500.0, image=True)
    with pytest.raises(RecordError, match="without a waveform"):
        list(read_records(image))
    no_unit = write_dicom(tmp_path / "no_unit.dcm", signal, 500.0, unit="")
    with pytest.raises(RecordError, match="not a voltage"):
        list(read_records(no_unit))
    no_rate = write_dicom(tmp_path / "no_rate.dcm", signal, 0.0)
    with pytest.raises(RecordError, match="no sampling frequency"):
        list(read_records(no_rate))
    good = write_dicom(tmp_path / "good.dcm", signal, 500.0)
    truncated = tmp_path / "truncated.dcm"
    truncated.write_bytes(good.read_bytes()[:-5000])
    with pytest.raises(RecordError, match="do not decode"):
        list(read_records(truncated))


def test_pydicoms_own_ecg_sample_is_read():
    pydicom_data = pytest.importorskip("pydicom.data")
    try:
        path = pydicom_data.get_testdata_file("waveform_ecg.dcm", download=False)
    except Exception:
        path = None
    if path is None:
        pytest.skip("pydicom's waveform_ecg.dcm is not installed")
    (record,) = read_records(path)
    assert record.header.fs == 1000.0 and record.signal.shape == (10000, 12)
    assert record.header.lead_names == tuple(STANDARD_LEADS)
    assert 0.5 < np.abs(record.signal).max() < 5.0  # millivolts, as an ECG's are


def test_missing_limb_leads_are_derived_only_when_asked():
    from ecgml.data.preprocess import select_leads

    signal = sine_signal(500, n_leads=12)
    eight = [STANDARD_LEADS.index(n) for n in MUSE_LEADS]
    names = ["i", "II", *MUSE_LEADS[2:]]  # names match whatever their case
    with pytest.raises(ValueError, match=r"missing leads \['III', 'aVR', 'aVL', 'aVF'\]"):
        select_leads(signal[:, eight], names, STANDARD_LEADS)
    out, warnings = select_leads(signal[:, eight], names, STANDARD_LEADS, missing="derive")
    lead_i, lead_ii = signal[:, 0], signal[:, 1]
    np.testing.assert_allclose(out[:, 2], lead_ii - lead_i, atol=1e-12)  # III
    np.testing.assert_allclose(out[:, 3], -(lead_i + lead_ii) / 2, atol=1e-12)  # aVR
    np.testing.assert_allclose(out[:, 6:], signal[:, 6:])
    assert warnings == ("leads ['III', 'aVR', 'aVL', 'aVF'] derived from I and II",)
    no_v1 = [k for k in range(12) if k != 6]
    with pytest.raises(ValueError, match=r"missing leads \['V1'\]"):
        select_leads(signal[:, no_v1], [STANDARD_LEADS[k] for k in no_v1], missing="derive")
