import pytest

from ecgml.data.loading import load_record
from ecgml.data.preprocess import STANDARD_LEADS, PreprocessConfig
from ecgml.data.records import RecordError
from tests.conftest import sine_signal


def test_load_record_gives_windows(write_wfdb):
    prepared = load_record(write_wfdb("R1", sine_signal(7500)), PreprocessConfig(window_policy="all"))
    assert prepared.windows.shape == (2, 5000, 12)
    assert prepared.warnings == ()


def test_wrong_lead_count_names_the_record(write_wfdb):
    path = write_wfdb("R8", sine_signal(n_leads=8), leads=STANDARD_LEADS[:8])
    with pytest.raises(RecordError, match="record R8: expected 12 leads, got 8"):
        load_record(path)


def test_unknown_code_is_kept_with_a_warning(write_wfdb):
    prepared = load_record(write_wfdb("R1", dx="426783006,999999999"))
    assert prepared.header.dx == ("426783006", "999999999")
    assert "999999999" in prepared.warnings[0]


def test_no_dx_is_a_warning(write_wfdb):
    assert load_record(write_wfdb("R1", dx="")).warnings == ("no Dx codes in the header",)
