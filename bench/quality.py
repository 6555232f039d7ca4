"""How many real records each signal-quality check flags (:mod:`ecgml.data.quality`).

    python bench/quality.py            # every data set here (a few minutes on 2 cores)
    python bench/quality.py --table    # print the saved results

Each record is read by its task's reader (the config named below) as ``ecgml
prepare`` reads it, at its own rate and in its own units, and checked once; no
threshold was changed after these counts were seen. The flagged records are
listed in the results file so that they can be looked at.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

from ecgml import __version__
from ecgml.config import load_config
from ecgml.data.quality import CHECKS, VERDICTS, assess
from ecgml.data.readers import get_reader
from ecgml.data.records import RecordError

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import markdown

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared/data"
SETS = {  # name: (config whose reader reads it, folder)
    "cinc12": ("configs/se-resnet.json", "cinc12"),
    "ptbxl": ("configs/ptbxl-arrays.json", "ptbxl"),
    "cinc2017": ("configs/cinc2017.json", "cinc2017"),
    "mitbih": ("configs/mitbih.json", "mitdb"),
}


def check_set(config_path: str, folder: Path) -> dict:
    config = load_config(ROOT / config_path)
    reader = get_reader(config.task.reader, config.task.reader_options)
    started = time.time()
    verdicts = dict.fromkeys(VERDICTS, 0)
    flagged = dict.fromkeys(CHECKS, 0)
    records, unreadable = [], 0
    for found in reader.find([folder]):
        try:
            record = reader.read_signal(found.path)
        except RecordError:
            unreadable += 1
            continue
        header = record.header
        quality = assess(record.signal, header.fs, header.lead_names, header.units)
        verdicts[quality.verdict] += 1
        for check in {c for c, _ in quality.problems}:
            flagged[check] += 1
        if quality.problems:
            records.append(
                {"record": header.record_id, "quality": quality.label, "verdict": quality.verdict}
            )
    return {
        "config": config_path,
        "n_records": sum(verdicts.values()),
        "unreadable": unreadable,
        "verdicts": verdicts,
        "records_flagged": flagged,
        "seconds": round(time.time() - started, 1),
        "flagged": records,
    }


def table(results: dict) -> str:
    rows = [
        [
            name,
            r["n_records"],
            *(r["records_flagged"][c] for c in CHECKS),
            r["verdicts"]["acceptable"],
            r["verdicts"]["poor"],
        ]
        for name, r in results["sets"].items()
    ]
    return "\n".join(markdown(["data", "records", *CHECKS, "acceptable", "poor"], rows))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "bench/results/quality.json")
    parser.add_argument("--table", action="store_true", help="print --out as Markdown, run nothing")
    args = parser.parse_args(argv)
    if args.table:
        print(table(json.loads(args.out.read_text())))
        return 0
    results = {"sets": {}, "ecgml_version": __version__, "updated": time.strftime("%Y-%m-%d")}
    for name, (config, folder) in SETS.items():
        if not (SHARED / folder).exists():
            print(f"not found: {SHARED / folder}; left out", file=sys.stderr)
            continue
        results["sets"][name] = check_set(config, SHARED / folder)
        print(
            f"{name}: {results['sets'][name]['n_records']} records, "
            f"{results['sets'][name]['seconds']} s",
            flush=True,
        )
    args.out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
