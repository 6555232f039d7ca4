"""``ecgml demo-data``, ``ecgml prepare``, ``ecgml render`` and ``ecgml convert``."""

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

    _add_prepare(subparsers)

    _add_convert(subparsers)

    render = subparsers.add_parser(
        "render",
        help="draw records as paper ECG printouts (PNG)",
        description="Draw every record under DATA_DIR as a printed ECG page at 25 mm/s and "
        "10 mm/mV: the standard 3x4 layout with a lead II rhythm strip for 12-lead "
        "records, rhythm strips for others; a 1 mm / 5 mm grid, lead labels and a 1 mV "
        "calibration pulse. Unchanged records are not drawn again; a record that cannot "
        "be read is reported and skipped.",
    )
    render.add_argument("data_dirs", type=Path, nargs="+", metavar="DATA_DIR")
    render.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    render.add_argument("-j", "--jobs", type=int, default=1, help="worker processes")
    render.add_argument(
        "--config",
        type=Path,
        help="JSON config whose task reader finds the "
        "records (default: any WFDB record); its preprocess.image settings "
        "give the defaults below",
    )
    render.add_argument("--dpi", type=float, help="pixels per inch (default 100)")
    render.add_argument("--paper", choices=("a4", "letter"), help="paper size (default a4)")
    render.add_argument("--grid", help="grid colour: red, pink, orange or grey (default red)")
    render.add_argument(
        "--variation",
        action="store_true",
        help="add scan-like rotation, blur, noise, contrast and header text",
    )
    render.add_argument("--seed", type=int, default=0, help="seed of the variation")
    render.add_argument("--no-progress", action="store_true", help="no progress bar")
    render.set_defaults(func=run_render)


def _add_prepare(subparsers: argparse._SubParsersAction) -> None:
    prepare = subparsers.add_parser(
        "prepare",
        help="read folders of records into a training cache",
        description="Walk DATA_DIR folders for WFDB records (.hea + .mat/.dat) with the "
        "config's task reader (CinC 2020 by default), "
        "preprocess them and write a memory-mapped cache. Re-running skips records "
        "already cached and unchanged; an interrupted run resumes. Records that "
        "cannot be used are listed with the reason in CACHE_DIR/prepare_report.json. "
        "With --shard I/N it prepares part I of N into CACHE_DIR/parts (N machines, e.g. "
        "a Slurm array, prepare one dataset); --merge then joins the parts into CACHE_DIR.",
    )
    prepare.add_argument("data_dirs", type=Path, nargs="*", metavar="DATA_DIR")
    prepare.add_argument("--out", type=Path, required=True, metavar="CACHE_DIR")
    prepare.add_argument("-j", "--jobs", type=int, default=1, help="worker processes")
    prepare.add_argument(
        "--config",
        type=Path,
        help="JSON config (task, preprocess, labels); its task's reader reads the records",
    )
    prepare.add_argument("--patient-map", type=Path, help="CSV with columns record_id,patient_id")
    prepare.add_argument(
        "--min-quality",
        choices=("acceptable", "good"),
        help="leave out records whose signal-quality verdict is below this (listed in "
        "the report with the problems found); by default every record is kept",
    )
    prepare.add_argument(
        "--shard",
        metavar="I/N",
        help="prepare only the records of part I of N (by a stable hash of the record id) "
        "into CACHE_DIR/parts/I-of-N",
    )
    prepare.add_argument(
        "--merge",
        action="store_true",
        help="join the parts under CACHE_DIR/parts into the cache CACHE_DIR (no DATA_DIR)",
    )
    prepare.add_argument("--no-progress", action="store_true", help="no progress bar")
    prepare.set_defaults(func=run_prepare)


def _add_convert(subparsers: argparse._SubParsersAction) -> None:
    convert = subparsers.add_parser(
        "convert",
        help="write records of any format ecgml reads as WFDB or as arrays",
        description="Read WFDB, EDF/BDF, DICOM waveform, GE MUSE or HL7 aECG XML files and "
        "HDF5 cohorts (files, or folders walked recursively) and write each record as "
        "WFDB (.hea + .mat) or as a float32 .npy with a labels.csv table. Records that "
        "cannot be read are skipped with the reason in OUT_DIR/convert_report.json.",
    )
    convert.add_argument("inputs", type=Path, nargs="+", metavar="INPUT")
    convert.add_argument("--to", choices=("wfdb", "npy"), default="wfdb")
    convert.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    convert.add_argument(
        "--hdf5-fs", type=float, default=400.0, help="HDF5 tracings' rate in Hz (default 400)"
    )
    convert.add_argument(
        "--hdf5-units", default="mV", help="HDF5 tracings' unit: mV (default), uV or V"
    )
    convert.add_argument("--no-progress", action="store_true", help="no progress bar")
    convert.set_defaults(func=run_convert)


def run_demo_data(args: argparse.Namespace) -> int:
    from ecgml.data.demo import write_demo_dataset

    paths = write_demo_dataset(
        args.out, n_records=args.n_records, seed=args.seed, first_id=args.first_id
    )
    print(f"wrote {len(paths)} demo records to {args.out}")
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from ecgml.config import load_config
    from ecgml.data.cache import prepare_cache
    from ecgml.data.cache_shards import parse_shard, part_folder
    from ecgml.task import Task

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    if args.merge:
        return _merge(args)
    if not args.data_dirs:
        raise ValueError("prepare needs at least one DATA_DIR (or --merge)")
    shard = parse_shard(args.shard) if args.shard else None
    config = load_config(args.config)
    Task.of(config)  # an unknown reader or a config its plug-ins refuse fails before any work
    report = prepare_cache(
        args.data_dirs,
        args.out,
        config.preprocess,
        config.labels,
        jobs=args.jobs,
        patient_map=args.patient_map,
        reader=config.task.reader,
        reader_options=config.task.reader_options,
        baseline=config.baseline_features,
        samples=config.task.samples,
        min_quality=args.min_quality,
        shard=shard,
        progress=not args.no_progress,
    )
    return _print_report(report, part_folder(args.out, shard) if shard else args.out)


def _merge(args: argparse.Namespace) -> int:
    from ecgml.data.cache_shards import merge_parts

    if args.data_dirs or args.shard:
        raise ValueError("--merge joins the parts already in CACHE_DIR: no DATA_DIR, no --shard")
    return _print_report(merge_parts(args.out, progress=not args.no_progress), args.out)


def _print_report(report: dict, out: Path) -> int:
    from ecgml.data.cache import REPORT

    quality = report["quality"]
    flagged = ", ".join(f"{c} {n}" for c, n in quality["records_flagged"].items() if n)
    print(
        f"prepare: signal quality {quality['verdicts']}"
        + (f"; records flagged by check: {flagged}" if flagged else "")
    )
    n_warned = len({w["record_id"] for w in report["warnings"]})
    beats = f"{report['beats']} beats of " if report["beats"] is not None else ""
    if report.get("not_one_class"):
        print(
            f"prepare: {report['not_one_class']} cached records have no or several of the "
            "classes; labels.one_class leaves them out of training and scoring"
        )
    print(
        f"prepare: {beats}{report['records']} records cached ({report['new']} new, "
        f"{report['unchanged']} unchanged), {len(report['skipped'])} skipped, "
        f"{n_warned} with warnings, {report['seconds']:.1f} s -> {out} "
        f"(details: {out / REPORT})"
    )
    if report["cached"] == 0:
        print(f"error: no usable record found in {', '.join(report['data_dirs'])}")
        return 1
    return 0


def run_render(args: argparse.Namespace) -> int:
    import dataclasses

    from ecgml.config import load_config
    from ecgml.printout import PrintoutConfig
    from ecgml.serve.printouts import MANIFEST, render_records
    from ecgml.task import Task

    if args.jobs < 1:
        raise ValueError(f"--jobs must be at least 1, got {args.jobs}")
    config = load_config(args.config)
    image = config.preprocess.image
    printout = image.printout if image is not None else PrintoutConfig()
    given = {
        k: v
        for k, v in (("dpi", args.dpi), ("paper", args.paper), ("grid", args.grid))
        if v is not None
    }
    printout = dataclasses.replace(
        printout, **given, seed=args.seed, variation=args.variation or printout.variation
    )
    reader = Task.of(config).reader if args.config else None
    report = render_records(
        args.data_dirs,
        args.out,
        printout,
        reader=reader,
        jobs=args.jobs,
        progress=not args.no_progress,
    )
    rate = report["printouts_per_second"]
    print(
        f"render: {report['drawn']} drawn, {report['unchanged']} unchanged, "
        f"{len(report['skipped'])} skipped in {report['seconds']:.1f} s"
        + (f" ({rate:g} printouts/s)" if rate else "")
        + f" -> {args.out}"
    )
    for item in report["skipped"]:
        print(f"  skipped {item['record_id']}: {item['reason']}")
    print(f"settings and record fingerprints: {args.out / MANIFEST}")
    return 0


def run_convert(args: argparse.Namespace) -> int:
    from ecgml.data.formats.convert import REPORT, convert

    report = convert(
        args.inputs,
        args.out,
        to=args.to,
        hdf5_options={"fs": args.hdf5_fs, "units": args.hdf5_units},
        progress=not args.no_progress,
    )
    for skipped in report["skipped"]:
        print(f"skipped {skipped['record_id']} ({skipped['path']}): {skipped['reason']}")
    print(
        f"convert: {report['converted']} records written as {args.to}, "
        f"{len(report['skipped'])} skipped, from {report['files']} files -> {args.out} "
        f"(details: {args.out / REPORT})"
    )
    return 0 if report["converted"] else 1
