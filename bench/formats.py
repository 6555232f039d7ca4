"""How long reading one 10 s 12-lead record takes in each format ecgml reads.

    python bench/formats.py            # bench/results/formats.json

One synthetic record (12 leads, 500 Hz, 10 s; sines plus noise, in mV) is
written in every format with the tests' writers (``tests/data/format_writers.py``),
then read ``--repeats`` times through ``ecgml.data.formats`` (WFDB through
``ecgml.data.records``); the median time of one read is reported, with the
largest difference from the written signal. For EDF, pyedflib's reader is timed
beside edfio's where it is installed, as the library considered against it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecgml import __version__  # noqa: E402
from ecgml.data.formats import read_one, read_records  # noqa: E402
from ecgml.data.preprocess import STANDARD_LEADS  # noqa: E402
from ecgml.data.records import read_record, write_record  # noqa: E402


def _timed(read, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        read()
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def _pyedflib(path: Path) -> np.ndarray | None:
    try:
        import pyedflib
    except ImportError:
        return None
    with pyedflib.EdfReader(str(path)) as f:
        return np.stack([f.readSignal(k) for k in range(f.signals_in_file)], axis=1)


def main(argv: list[str] | None = None) -> int:
    from tests.data import format_writers as writers

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=50)
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/formats.json")
    args = parser.parse_args(argv)
    t = np.arange(5000) / 500.0
    rng = np.random.default_rng(0)
    signal = np.stack([np.sin(2 * np.pi * (k + 1) * t) for k in range(12)], axis=1)
    signal = 0.5 * signal + 0.02 * rng.normal(size=signal.shape)
    eight = signal[:, [STANDARD_LEADS.index(n) for n in writers.MUSE_LEADS]]
    rows = {}
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        tracings = np.zeros((1, 4096, 12), dtype=np.float32)
        tracings[0, 48:4048] = signal[:4000]
        files = {
            "WFDB (.hea + .mat)": (
                write_record(d, "w", signal, 500.0, STANDARD_LEADS),
                lambda p: read_record(p),
                signal,
            ),
            "EDF (edfio)": (
                writers.write_edf(d / "e.edf", signal, 500.0, list(STANDARD_LEADS)),
                lambda p: read_one(p),
                signal,
            ),
            "DICOM (pydicom)": (
                writers.write_dicom(d / "d.dcm", signal, 500.0, sensitivity=1.0),
                lambda p: read_one(p),
                signal,
            ),
            "GE MUSE XML (defusedxml)": (
                writers.write_muse(d / "m.xml", eight, 500, per_bit=1.0),
                lambda p: read_one(p),
                None,
            ),
            "HL7 aECG XML (defusedxml)": (
                writers.write_aecg(d / "a.xml", signal, 500.0, scale=1.0),
                lambda p: read_one(p),
                signal,
            ),
            "HDF5, one tracing (h5py)": (
                writers.write_code15(d / "c.hdf5", tracings, np.array([1])),
                lambda p: list(read_records(p)),
                None,
            ),
        }
        for name, (path, read, expected) in files.items():
            seconds = _timed(lambda read=read, path=path: read(path), args.repeats)
            size = sum(f.stat().st_size for f in path.parent.glob(f"{path.stem}.*"))
            row = {"ms_per_read": round(seconds * 1000, 3), "bytes": size}
            if expected is not None:
                got = read(path).signal
                row["max_abs_difference_mv"] = float(np.abs(got - expected).max())
            rows[name] = row
        edf = d / "e.edf"
        if _pyedflib(edf) is not None:
            seconds = _timed(lambda: _pyedflib(edf), args.repeats)
            rows["EDF (pyedflib, for comparison)"] = {
                "ms_per_read": round(seconds * 1000, 3),
                "bytes": edf.stat().st_size,
                "max_abs_difference_mv": float(np.abs(_pyedflib(edf) / 1000 - signal).max()),
            }
    results = {
        "record": "12 leads, 500 Hz, 10 s, synthetic",
        "repeats": args.repeats,
        "rows": rows,
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, no GPU",
        "ecgml_version": __version__,
        "updated": time.strftime("%Y-%m-%d"),
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    for name, row in rows.items():
        print(f"{name}: {row}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
