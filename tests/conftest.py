"""Fixtures: tiny synthetic WFDB records written into ``tmp_path``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pytest
import wfdb

from ecgml.data.preprocess import STANDARD_LEADS

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO.parent / "shared" / "data"


def sine_signal(n_samples: int = 5000, fs: float = 500.0, n_leads: int = 12) -> np.ndarray:
    """A different sine per lead (lead k at k + 1 Hz, amplitude 0.1 * (k + 1) mV)."""
    t = np.arange(n_samples) / fs
    return np.stack(
        [0.1 * (k + 1) * np.sin(2 * np.pi * (k + 1) * t) for k in range(n_leads)], axis=1
    )


WriteRecord = Callable[..., Path]


@pytest.fixture
def write_wfdb(tmp_path: Path) -> WriteRecord:
    """Write a record with ``wfdb.wrsamp`` (format 16 ``.dat``); returns its header path."""

    def write(
        record_id: str,
        signal: np.ndarray | None = None,
        *,
        fs: float = 500.0,
        leads: Sequence[str] = STANDARD_LEADS,
        dx: str = "426783006",
        age: str = "50",
        sex: str = "Male",
        directory: Path | None = None,
        units: str = "mV",
        adc_gain: float = 1000.0,
        baseline: int = 0,
    ) -> Path:
        directory = directory or tmp_path / "data"
        directory.mkdir(parents=True, exist_ok=True)
        if signal is None:
            signal = sine_signal(n_leads=len(leads), fs=fs)
        n = len(leads)
        wfdb.wrsamp(
            record_id,
            fs=fs,
            units=[units] * n,
            sig_name=list(leads),
            p_signal=np.asarray(signal, dtype=np.float64),
            fmt=["16"] * n,
            adc_gain=[adc_gain] * n,
            baseline=[baseline] * n,
            comments=[f"Age: {age}", f"Sex: {sex}", f"Dx: {dx}"],
            write_dir=str(directory),
        )
        return directory / f"{record_id}.hea"

    return write


@pytest.fixture
def shared_data() -> Path:
    """``../shared/data``; the test is skipped where it is absent."""
    if not (SHARED_DATA / "cinc12").is_dir():
        pytest.skip(f"real data not found at {SHARED_DATA}")
    return SHARED_DATA
