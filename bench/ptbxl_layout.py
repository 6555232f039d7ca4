"""PTB-XL's layout read by ecgml: prepare speed, with and without the tabular blocks.

    python bench/ptbxl_layout.py            # writes the layout, times prepare, saves the results
    python bench/ptbxl_layout.py --table    # print the saved results

No labelled PTB-XL waveforms are available here, so this measures what can be:
the reader on the database's own layout. The 27 PTB-XL records of the CinC 2021
copy in ``../shared/data/cinc12`` (``HR*``, real signals, 10 s at 500 Hz) are
written as ``records500/…_hr`` (WFDB format 16) and ``records100/…_lr``
(decimated), with a ``ptbxl_database.csv`` of every PTB-XL column and the real
``scp_statements.csv``. The records' statements are not known (the copy has
SNOMED codes, not SCP statements), so every row's ``scp_codes`` is ``{}``: the
labels are empty and only reading is timed. Each configuration prepares into a
new cache, three times; the median is reported.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from ecgml import __version__  # noqa: E402
from ecgml.data.cache import prepare_cache  # noqa: E402
from ecgml.data.labels import LabelConfig  # noqa: E402
from ecgml.data.preprocess import PreprocessConfig  # noqa: E402
from ecgml.data.records import read_record, write_record  # noqa: E402

SHARED = ROOT.parent / "shared"
SIGNALS = SHARED / "data/cinc12/cinc2021"
STATEMENTS = SHARED / "reference/ptbxl_scp_statements.csv"
SUPERCLASSES = LabelConfig(classes=("NORM", "MI", "STTC", "CD", "HYP"))
REPEATS = 3


def write_layout(root: Path) -> int:
    """The PTB-XL layout of the shared PTB-XL signals under ``root``; returns the count."""
    root.mkdir(parents=True, exist_ok=True)
    shutil.copy(STATEMENTS, root / "scp_statements.csv")
    rows = []
    for k, header in enumerate(sorted(SIGNALS.glob("HR*.hea")), start=1):
        record = read_record(header)
        signal, leads = record.signal[:5000], record.header.lead_names
        hr, lr = f"records500/00000/{k:05d}_hr", f"records100/00000/{k:05d}_lr"
        write_record(
            root / "records500/00000", f"{k:05d}_hr", signal, 500, leads, signal_format="dat"
        )
        write_record(
            root / "records100/00000", f"{k:05d}_lr", signal[::5], 100, leads, signal_format="dat"
        )
        rows.append(
            {
                "ecg_id": k,
                "patient_id": float(k),
                "age": record.header.age or np.nan,
                "sex": {"Male": 0, "Female": 1}.get(record.header.sex, np.nan),
                "height": np.nan,
                "weight": np.nan,
                "report": "",
                "scp_codes": "{}",
                "strat_fold": 1 + k % 10,
                "filename_lr": lr,
                "filename_hr": hr,
            }
        )
    pd.DataFrame(rows).to_csv(root / "ptbxl_database.csv", index=False)
    return len(rows)


def time_prepare(root: Path, rate: int, baseline: bool, jobs: int) -> dict:
    seconds = []
    for _ in range(REPEATS):
        with tempfile.TemporaryDirectory() as out:
            started = time.perf_counter()
            report = prepare_cache(
                [root],
                Path(out) / "cache",
                PreprocessConfig(),
                SUPERCLASSES,
                jobs=jobs,
                reader="ptbxl",
                reader_options={"rate": rate},
                baseline=baseline,
                progress=False,
            )
            seconds.append(time.perf_counter() - started)
    median = statistics.median(seconds)
    return {
        "rate": rate,
        "baseline": baseline,
        "jobs": jobs,
        "records": report["cached"],
        "skipped": len(report["skipped"]),
        "seconds": [round(s, 3) for s in seconds],
        "records_per_second": round(report["cached"] / median, 1),
    }


def table(results: dict) -> str:
    lines = [
        "| files read | jobs | baseline features | seconds (median of 3) | records/s |",
        "|---|---|---|---|---|",
    ]
    for r in results["prepare"]:
        seconds = statistics.median(r["seconds"])
        baseline = "yes" if r["baseline"] else "no"
        lines.append(
            f"| {r['rate']} Hz | {r['jobs']} | {baseline} | {seconds:.2f} | "
            f"{r['records_per_second']:.1f} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/ptbxl_layout.json")
    parser.add_argument("--table", action="store_true", help="print the saved results")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    if not (SIGNALS.is_dir() and STATEMENTS.is_file()):
        raise SystemExit(f"needs {SIGNALS} and {STATEMENTS}")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "ptbxl"
        n = write_layout(root)
        print(f"{n} records in the PTB-XL layout")
        settings = [(r, b, j) for r in (500, 100) for b in (False, True) for j in (1, 2)]
        runs = [time_prepare(root, *setting) for setting in settings]
    results = {
        "command": "python bench/ptbxl_layout.py",
        "records": n,
        "prepare": runs,
        "machine": f"{platform.platform()}, {os.cpu_count()} CPUs, no GPU",
        "ecgml_version": __version__,
        "updated": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    }
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
