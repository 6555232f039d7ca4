import pytest

from ecgml.data.preprocess import STANDARD_LEADS, PreprocessConfig
from ecgml.data.records import RecordError
from ecgml.data.samples import load_for_prediction, load_record, min_seconds, prepare_signal
from tests.conftest import sine_signal


def test_load_record_gives_windows(write_wfdb):
    prepared = load_record(
        write_wfdb("R1", sine_signal(7500)), PreprocessConfig(window_policy="all")
    )
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


def test_prepare_signal_resamples_windows_and_pads() -> None:
    config = PreprocessConfig()
    long, warnings = prepare_signal(
        sine_signal(n_samples=12_500, fs=250), 250, STANDARD_LEADS, config
    )
    assert long.shape == (5, 5000, 12) and warnings == ()  # 50 s at 500 Hz: 5 windows
    short, warnings = prepare_signal(sine_signal(n_samples=3000), 500, STANDARD_LEADS, config)
    assert short.shape == (1, 5000, 12) and not short[0, 3000:].any()
    assert warnings == ("6.00 s is shorter than a 10 s window; zero-padded",)


def test_prepare_signal_refuses_records_under_half_a_window() -> None:
    assert min_seconds(PreprocessConfig()) == 5.0
    with pytest.raises(ValueError, match=r"too short: 4.99 s, at least 5 s needed"):
        prepare_signal(sine_signal(n_samples=2495), 500, STANDARD_LEADS, PreprocessConfig())


def test_load_for_prediction_names_the_record(write_wfdb) -> None:
    header = write_wfdb("A0042", sine_signal(n_samples=1000))
    with pytest.raises(RecordError, match=r"record A0042: too short: 2.00 s"):
        load_for_prediction(header, PreprocessConfig())
