"""``ecgml demo-data`` and ``ecgml prepare``."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    demo = subparsers.add_parser(
        "demo-data",
        help="write a synthetic CinC-format demo dataset",
        description="Write synthetic 12-lead records (.hea + .mat, 500 Hz, 10 s, SNOMED "
        "Dx codes): sinus rhythm, bradycardia, tachycardia, atrial fibrillation, "
        "RBBB, LBBB, first-degree AV block.",
    )
    demo.add_argument("out", type=Path, metavar="OUT_DIR", help="folder to write into")
    demo.add_argument("--n-records", type=int, default=300, help="records (default 300)")
    demo.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    demo.add_argument(
        "--first-id", type=int, default=1, help="number of the first record, D00001 (default 1)"
    )
    demo.set_defaults(func=run_demo_data)

    prepare = subparsers.add_parser(
        "prepare",
        help="read folders of records into a training cache",
        description="Walk DATA_DIR folders for WFDB records (.hea + .mat/.dat) with the "
        "config's task reader (CinC 2020 by default), "
        "preprocess them and write a memory-mapped cache. Re-running skips records "
        "already cached and unchanged; an interrupted run resumes. Records that "
        "cannot be used are listed with the reason in CACHE_DIR/prepare_report.json.",
    )
    prepare.add_argument("data_dirs", type=Path, nargs="+", metavar="DATA_DIR")
    prepare.add_argument("--out", type=Path, required=True, metavar="CACHE_DIR")
    prepare.add_argument("-j", "--jobs", type=int, default=1, help="worker processes")
    prepare.add_argument(
        "--config", type=Path,
        help="JSON config (task, preprocess, labels); its task's reader reads the records",
    )  # fmt: skip
    prepare.add_argument("--patient-map", type=Path, help="CSV with columns record_id,patient_id")
    prepare.add_argument("--no-progress", action="store_true", help="no progress bar")
    prepare.set_defaults(func=run_prepare)


def run_demo_data(args: argparse.Namespace) -> int:
    from ecgml.data.demo import write_demo_dataset

    paths = write_demo_dataset(
        args.out, n_records=args.n_records, seed=args.seed, first_id=args.first_id
    )
    print(f"wrote {len(paths)} demo records to {args.out}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from ecgml.config import load_config
    from ecgml.data.cache import REPORT, prepare_cache

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    config = load_config(args.config)
    report = prepare_cache(
        args.data_dirs,
        args.out,
        config.preprocess,
        config.labels,
        jobs=args.jobs,
        patient_map=args.patient_map,
        reader=config.task.reader,
        reader_options=config.task.reader_options,
        progress=not args.no_progress,
    )
    n_warned = len({w["record_id"] for w in report["warnings"]})
    beats = f"{report['beats']} beats of " if report["beats"] is not None else ""
    print(
        f"prepare: {beats}{report['records']} records cached ({report['new']} new, "
        f"{report['unchanged']} unchanged), {len(report['skipped'])} skipped, "
        f"{n_warned} with warnings, {report['seconds']:.1f} s -> {args.out} "
        f"(details: {args.out / REPORT})"
    )
    if report["cached"] == 0:
        print(f"error: no usable record found in {', '.join(map(str, args.data_dirs))}")
        return 1
    return 0
