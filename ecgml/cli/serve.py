"""``ecgml predict``, ``ecgml export`` and ``ecgml serve``: a trained run outside training."""

from __future__ import annotations

import argparse
import ipaddress
import json
import sys
from pathlib import Path

from ecgml.cli.evaluate import add_vote_arguments
from ecgml.cli.keras_commands import uses_keras

EXPORT_FORMATS = ("savedmodel", "onnx", "tflite")


def add_model_arguments(parser: argparse.ArgumentParser) -> None:
    """``--run RUN_DIR`` or ``--preset NAME``, one of them."""
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--run", type=Path, metavar="RUN_DIR", help="a trained run folder")
    which.add_argument(
        "--preset", metavar="NAME", help="a model that ships with ecgml (ecgml presets)"
    )
    add_preprocessed_argument(parser)


def add_preprocessed_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--preprocessed",
        action="store_true",
        help="with --preset: the records were already processed as the preset's training "
        "data were (its card says how; PTB-XL arrays band-passed and z-scored): do not "
        "apply those steps again",
    )


def model_of(args: argparse.Namespace):
    """The run folder and the ensemble the arguments name (a preset's is loaded,
    a run's is left to the command)."""
    if args.preset is None:
        if args.preprocessed:
            raise ValueError("--preprocessed goes with --preset")
        return args.run, None
    from ecgml.inference.presets import load_preset

    ensemble = load_preset(args.preset, preprocessed=args.preprocessed)
    return ensemble.run, ensemble


def add_predict_arguments(parser: argparse.ArgumentParser) -> None:
    add_model_arguments(parser)
    parser.add_argument(
        "inputs",
        nargs="+",
        type=Path,
        metavar="RECORD_OR_DIR",
        help="a .hea file, a record path without extension, or a folder (walked recursively)",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    add_vote_arguments(parser)
    add_missing_leads_argument(parser)
    add_reader_arguments(parser)
    parser.add_argument(
        "--annotations",
        metavar="EXT",
        help="beat runs: classify the annotated beats of RECORD.EXT (for example atr) "
        "instead of the beats wfdb's XQRS detector finds",
    )
    parser.add_argument(
        "--printouts",
        action="store_true",
        help="also draw each record as a paper printout, OUT_DIR/printouts/RECORD.png",
    )
    parser.add_argument(
        "--explain",
        nargs="*",
        metavar="CLASS",
        help="also explain each record: which leads and which part of the trace drove "
        "the decided classes (or the CLASSes named, by abbreviation or code), into "
        "OUT_DIR/explain/RECORD.csv, .npz and .png (integrated gradients; slow: about "
        "a model call per path step, per fold model, per class)",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def add_reader_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--fs",
        type=float,
        metavar="HZ",
        help="the new records' sampling rate, where the run's reader takes it from an "
        "option (a label table of arrays): the same as --reader-option fs=HZ",
    )
    parser.add_argument(
        "--reader-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="read the new records with this reader option instead of the run's "
        "(repeatable; VALUE as JSON where it parses, else text: fs_column=false, "
        'units=mV, leads=\'["I","II"]\')',
    )


def reader_options(args: argparse.Namespace) -> dict:
    """The reader options that ``--fs`` and ``--reader-option`` change.

    Raises:
        ValueError: an option not written ``KEY=VALUE``, or ``fs`` given twice apart.
    """
    options = {}
    for item in args.reader_option:
        key, sep, value = item.partition("=")
        if not sep or not key.strip():
            raise ValueError(f"--reader-option must be KEY=VALUE, got {item!r}")
        try:
            options[key.strip()] = json.loads(value)
        except json.JSONDecodeError:
            options[key.strip()] = value
    if args.fs is not None:
        if "fs" in options and options["fs"] != args.fs:
            raise ValueError(f"--fs {args.fs:g} and --reader-option fs={options['fs']} disagree")
        options["fs"] = args.fs
    return options


def add_missing_leads_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--missing-leads",
        choices=("error", "zero", "derive"),
        default="error",
        help="a record without one of the model's leads is refused (error, default), "
        "predicted with that lead set to zero and a warning (zero), or, for III, aVR, "
        "aVL and aVF only, predicted with the lead computed from I and II (derive)",
    )


@uses_keras
def run_predict(args: argparse.Namespace) -> int:
    import logging

    from ecgml.serve.predict import REPORT, SUMMARY, predict_records

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    run, ensemble = model_of(args)
    report = predict_records(
        run,
        args.inputs,
        args.out,
        rule=args.rule,
        min_votes=args.min_votes,
        missing_leads=args.missing_leads,
        annotations=args.annotations,
        printouts=args.printouts,
        explain=args.explain,
        progress=not args.no_progress,
        ensemble=ensemble,
        reader_options=reader_options(args),
    )
    print(
        f"{report['n_predicted']} of {report['n_records']} records predicted, "
        f"{report['n_skipped']} skipped (listed in {REPORT})"
    )
    per_record = "beats" if "n_beats" in report else "outputs"
    print(f"-> {args.out / SUMMARY}, {args.out / per_record}/RECORD.csv, {args.out / REPORT}")
    return 0 if report["n_predicted"] else 1


@uses_keras
def run_export(args: argparse.Namespace) -> int:
    import logging

    from ecgml.serve.export import export_run

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    card = export_run(args.run, args.out, fmt=args.format, score=args.score)
    check = card["check"]
    print(
        f"exported the {len(card['run']['folds'])}-model ensemble as {args.format}: "
        f"{args.out / card['artifact']['file']}"
    )
    print(
        f"check with {check['runtime']} on {check['n_inputs']} inputs: largest difference from "
        f"the float32 Keras graph {check['max_abs_difference']:.2e} (tolerance "
        f"{check['tolerance']:g}), from the run's {check['precision']} models "
        f"{check['max_abs_difference_from_run_models']:.2e}"
    )
    print(f"-> model card {args.out / 'model_card.json'}, {args.out / 'MODEL_CARD.md'}")
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@uses_keras
def run_serve(args: argparse.Namespace) -> int:
    import logging

    import waitress

    from ecgml.serve.app import create_app

    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    if args.max_upload_mb <= 0:
        raise ValueError(f"--max-upload-mb must be positive, got {args.max_upload_mb}")
    if not 0 < args.port < 65536:
        raise ValueError(f"--port must be between 1 and 65535, got {args.port}")
    if not _is_loopback(args.host):
        print(
            f"warning: binding to {args.host} makes the app reachable from other machines; "
            "it has no authentication",
            file=sys.stderr,
        )
    run, ensemble = model_of(args)
    app = create_app(
        run,
        ensemble=ensemble,
        max_upload_mb=args.max_upload_mb,
        missing_leads=args.missing_leads,
        reader_options=reader_options(args),
    )
    try:
        server = waitress.create_server(app, host=args.host, port=args.port, threads=4)
    except OSError as exc:  # the port is taken, or the host is not an address here
        raise ValueError(f"cannot listen on {args.host}:{args.port}: {exc}") from exc
    where = f"http://{args.host}:{args.port}/"
    print(f"serving {args.preset or args.run} on {where} (Ctrl-C stops)", flush=True)
    server.run()
    return 0


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    predict = subparsers.add_parser(
        "predict",
        help="classify new recordings with a run's ensemble",
        description="Classify WFDB records of any sampling rate, length (at least half a "
        "window) and lead order with the run's fold models and thresholds. Writes "
        "OUT_DIR/outputs/RECORD.csv (challenge format), summary.csv and predict.json; a "
        "record that cannot be used is reported and skipped. A beat run (MIT-BIH) "
        "classifies every beat instead: OUT_DIR/beats/RECORD.csv, one row per beat.",
    )
    add_predict_arguments(predict)
    predict.set_defaults(func=run_predict)

    export = subparsers.add_parser(
        "export",
        help="export a run's ensemble as one SavedModel, ONNX or TFLite graph",
        description="Write the run's fold models as one graph (input: windows in mV, "
        "output: every fold's probabilities) that a non-Python service can serve, "
        "check it against the Keras models, and write a model card. Needs the "
        "TensorFlow backend.",
    )
    export.add_argument("--run", type=Path, required=True, metavar="RUN_DIR")
    export.add_argument("--format", choices=EXPORT_FORMATS, required=True)
    export.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    export.add_argument(
        "--score",
        type=Path,
        metavar="SCORE_JSON",
        help="a score.json from 'ecgml postprocess' on held-out data, quoted in the model card",
    )
    export.set_defaults(func=run_export)

    serve = subparsers.add_parser(
        "serve",
        help="a local web app: upload a recording, see its trace and the ensemble's answer",
        description="Start a web app for the run: a page to upload a record (.hea and its "
        ".mat or .dat, or a .zip of them) that shows the 12-lead trace, every class's "
        "probability and the decisions, and POST /api/predict returning the same as JSON.",
    )
    add_model_arguments(serve)
    serve.add_argument("--host", default="127.0.0.1", help="address to bind (default loopback)")
    serve.add_argument("--port", type=int, default=8000, help="port (default 8000)")
    serve.add_argument(
        "--max-upload-mb",
        type=float,
        default=20.0,
        help="largest upload accepted, in MB (default 20)",
    )
    add_missing_leads_argument(serve)
    add_reader_arguments(serve)
    serve.set_defaults(func=run_serve)
