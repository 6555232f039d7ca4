"""Fixtures of the data tests."""

from pathlib import Path

import numpy as np
import pytest

from ecgml.data.preprocess import STANDARD_LEADS
from tests.conftest import sine_signal

AF, NSR = "164889003", "426783006"


@pytest.fixture
def messy_dir(tmp_path, write_wfdb) -> Path:
    """Three good records, one with an unknown code, and one of each bad case."""
    data = tmp_path / "data"
    write_wfdb("G1", sine_signal(), dx=AF)
    write_wfdb("G2", sine_signal(12000), dx=f"{NSR},59118001")
    write_wfdb("G3", sine_signal(10000, fs=1000.0), fs=1000.0, dx="RBBB")
    write_wfdb("U1", dx=f"{NSR},123456789")
    (data / "B_header.hea").write_text("garbage\n")
    write_wfdb("B_nosignal").with_suffix(".dat").unlink()
    truncated = write_wfdb("B_truncated").with_suffix(".dat")
    truncated.write_bytes(truncated.read_bytes()[:500])
    nan = sine_signal()
    nan[0, 0] = np.nan
    write_wfdb("B_nan", nan)
    write_wfdb("B_leads", sine_signal(n_leads=8), leads=STANDARD_LEADS[:8])
    lines = ["B_empty 12 500 0"] + [
        f"B_empty.dat 16 1000/mV 16 0 0 0 0 {x}" for x in STANDARD_LEADS
    ]
    (data / "B_empty.hea").write_text("\n".join(lines) + "\n")
    (data / "B_empty.dat").write_bytes(b"")
    write_wfdb("G1", directory=data / "zz_copy")  # duplicated id, found after data/G1
    return data
