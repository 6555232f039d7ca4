"""XML record files (GE MUSE, HL7 aECG): fixtures written from a known signal, read
back to within the format's resolution; the bad inputs and XML attacks."""

from __future__ import annotations

import numpy as np
import pytest

from ecgml.data.formats import read_records
from ecgml.data.preprocess import STANDARD_LEADS
from ecgml.data.record_types import RecordError
from tests.conftest import sine_signal
from tests.data.format_writers import MUSE_LEADS, write_aecg, write_muse

pytest.importorskip("defusedxml")


def test_muse_xml_reads_its_eight_leads_and_derives_four(tmp_path):
    signal = sine_signal(5000, fs=500.0)  # the standard twelve
    eight = signal[:, [STANDARD_LEADS.index(n) for n in MUSE_LEADS]]
    (record,) = read_records(write_muse(tmp_path / "muse.xml", eight, 500))
    assert record.header.fs == 500.0
    assert set(record.header.lead_names) == set(STANDARD_LEADS)
    assert record.header.age == 71.0 and record.header.sex == "Female"
    got = record.signal[:, [record.header.lead_names.index(n) for n in MUSE_LEADS]]
    np.testing.assert_allclose(got, eight, atol=2.44e-3 + 1e-6)  # half a 4.88 uV step
    lead_i, lead_ii = got[:, 0], got[:, 1]
    np.testing.assert_allclose(
        record.signal[:, record.header.lead_names.index("aVF")], lead_ii - lead_i / 2, atol=1e-6
    )


def test_bad_muse_files_are_refused_with_their_reason(tmp_path):
    eight = sine_signal(1000, fs=500.0, n_leads=8)
    with pytest.raises(RecordError, match="do not decode"):
        list(read_records(write_muse(tmp_path / "b64.xml", eight, data="not*base64!")))
    with pytest.raises(RecordError, match="no sampling rate"):
        list(read_records(write_muse(tmp_path / "rate.xml", eight, fs="")))
    with pytest.raises(RecordError, match="different lengths"):
        list(read_records(write_muse(tmp_path / "len.xml", eight, lengths={"V6": 900})))
    good = write_muse(tmp_path / "good.xml", eight).read_text(encoding="latin-1")
    (tmp_path / "cut.xml").write_text(good[: len(good) // 2], encoding="latin-1")
    with pytest.raises(RecordError, match="cannot read cut"):
        list(read_records(tmp_path / "cut.xml"))
    (tmp_path / "other.xml").write_text("<svg></svg>")
    with pytest.raises(RecordError, match="another kind"):
        list(read_records(tmp_path / "other.xml"))


def test_xml_attacks_are_refused_and_read_nothing_outside(tmp_path):
    laughs = "".join(f'<!ENTITY l{k} "{f"&l{k - 1};" * 10}">' for k in range(1, 10))
    (tmp_path / "laughs.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE RestingECG [<!ENTITY l0 "lol">{laughs}]>'
        "<RestingECG><PatientDemographics><PatientAge>&l9;</PatientAge>"
        "</PatientDemographics></RestingECG>"
    )
    with pytest.raises(RecordError, match="refused"):
        list(read_records(tmp_path / "laughs.xml"))
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET")
    (tmp_path / "external.xml").write_text(
        f'<?xml version="1.0"?><!DOCTYPE RestingECG [<!ENTITY x SYSTEM "file://{secret}">]>'
        "<RestingECG><PatientDemographics><PatientAge>&x;</PatientAge>"
        "</PatientDemographics></RestingECG>"
    )
    with pytest.raises(RecordError, match="refused") as caught:
        list(read_records(tmp_path / "external.xml"))
    assert "SECRET" not in str(caught.value)


def test_an_oversized_xml_is_refused_before_it_is_parsed(tmp_path, monkeypatch):
    from ecgml.data.formats import cart_xml

    monkeypatch.setattr(cart_xml, "MAX_BYTES", 1000)
    (tmp_path / "big.xml").write_text("<RestingECG>" + " " * 2000 + "</RestingECG>")
    with pytest.raises(RecordError, match="larger than"):
        list(read_records(tmp_path / "big.xml"))


def test_hl7_aecg_reads_back_in_millivolts(tmp_path):
    signal = sine_signal(2500, fs=250.0)
    (record,) = read_records(write_aecg(tmp_path / "aecg.xml", signal, 250.0))
    assert record.header.fs == pytest.approx(250.0)
    assert record.header.lead_names == tuple(STANDARD_LEADS)
    np.testing.assert_allclose(record.signal, signal, atol=2.5e-3 + 1e-6)  # half a 5 uV step
    with pytest.raises(RecordError, match="not a voltage"):
        list(read_records(write_aecg(tmp_path / "mmhg.xml", signal, 250.0, unit="mm[Hg]")))
