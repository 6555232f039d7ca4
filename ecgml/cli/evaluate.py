"""``ecgml threshold`` (``threshold.py``), ``ecgml postprocess`` (``postprocessing.py``)
and ``ecgml score``."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from ecgml.cli.keras_commands import uses_keras

WEIGHTS_HELP = (
    "reward matrix of the challenge metric, in the format of the challenge's weights.csv "
    "(default: 'cinc2020', the CinC 2020 table shipped with ecgml; 'none' leaves the "
    "challenge metric out)"
)


def _weights(value: str):
    from ecgml.evaluation.challenge import RewardMatrix

    return None if value == "none" else RewardMatrix.load(value)


def _objective(value: str) -> str:
    from ecgml.evaluation.thresholds import parse_objective

    try:
        parse_objective(value)
    except ValueError as error:
        raise argparse.ArgumentTypeError(str(error)) from None
    return value


def add_threshold_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=Path, required=True, metavar="RUN_DIR")
    parser.add_argument(
        "--objective",
        type=_objective,
        default="f1",
        metavar="OBJECTIVE",
        help="per class: f1 (default), fbeta, youden (sensitivity + specificity - 1), "
        "sensitivity:X (the best specificity with sensitivity at least X, e.g. "
        "sensitivity:0.90), specificity:X (the best sensitivity with specificity at "
        "least X); or challenge (the CinC 2020 metric, all classes jointly)",
    )
    parser.add_argument("--beta", type=float, default=2.0, help="beta of fbeta (default 2)")
    parser.add_argument(
        "--grid",
        type=int,
        metavar="G",
        help="search G evenly spaced thresholds in [0, 1] (default: every distinct score)",
    )
    parser.add_argument(
        "--fallback",
        type=float,
        default=0.5,
        help="threshold of a class without validation positives (default 0.5)",
    )
    parser.add_argument("--weights", default="cinc2020", metavar="CSV", help=WEIGHTS_HELP)
    parser.add_argument("--fold", type=int, action="append", metavar="K", help="only fold K")
    parser.add_argument(
        "--pooled",
        action="store_true",
        help="one set of thresholds from every fold's validation predictions together, "
        "written for each fold (more records behind each threshold; still none of a "
        "held-out set's)",
    )


@uses_keras
def run_threshold(args: argparse.Namespace) -> int:
    from ecgml.runs.thresholds import fit_run_thresholds

    weights = _weights(args.weights) if args.objective == "challenge" else None
    results = fit_run_thresholds(
        args.run,
        objective=args.objective,
        beta=args.beta,
        grid=args.grid,
        fallback=args.fallback,
        weights=weights,
        folds=args.fold,
        pooled=args.pooled,
    )
    if not results:
        print(
            f"{args.run} is a multiclass run: each decision is the argmax of the "
            "probabilities, so there is nothing to threshold"
        )
        return 0
    for r in results:
        score = r["validation_score"]
        print(
            f"fold {r['fold']}: {r['objective']} on {r['n_validation']} validation records "
            f"= {'n/a' if score is None else f'{score:.4f}'}; "
            f"{len(r['fallback_classes'])} classes without validation positives get "
            f"{r['fallback']}"
        )
    print(f"thresholds -> {args.run}/fold_K/thresholds.json")
    return 0


def add_vote_arguments(parser: argparse.ArgumentParser) -> None:
    """``--rule`` and ``--min-votes``: how the fold models' decisions combine."""
    parser.add_argument(
        "--rule",
        choices=("majority", "mean"),
        help="how the fold models combine. Multilabel runs: majority vote of the fold "
        "decisions (default), or the mean probability against the mean threshold. "
        "Multiclass runs: argmax of the mean probability (mean, default), or the most "
        "votes among the folds' argmaxes (majority; ties to the higher mean probability)",
    )
    parser.add_argument(
        "--min-votes",
        type=int,
        help="votes a class needs under 'majority' (default: more than half the folds)",
    )


def add_postprocess_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--run", type=Path, required=True, metavar="RUN_DIR")
    parser.add_argument(
        "--data",
        type=Path,
        required=True,
        metavar="TEST_CACHE_OR_DIR",
        help="held-out records: a cache from 'ecgml prepare' or a folder of records",
    )
    parser.add_argument("--out", type=Path, required=True, metavar="OUT_DIR")
    add_vote_arguments(parser)
    parser.add_argument("--weights", default="cinc2020", metavar="CSV", help=WEIGHTS_HELP)
    parser.add_argument(
        "--all-windows",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="average the predictions over every 'window' of long records, or only the "
        "first window (default: the task's all_windows)",
    )
    parser.add_argument(
        "--crops",
        type=int,
        default=1,
        help="evenly spaced crops per window to average when the model input is shorter",
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, help="processes reading records")
    parser.add_argument("--no-progress", action="store_true", help="no progress bars")


@uses_keras
def run_postprocess(args: argparse.Namespace) -> int:
    import logging

    from ecgml.evaluation.scorers import get_scorer
    from ecgml.inference.postprocess import SCORE, evaluate_on_data

    # TensorFlow warns about "retracing" when five models each trace their predict
    # step; that is expected here, one trace per model.
    logging.getLogger("tensorflow").setLevel(logging.ERROR)

    score = evaluate_on_data(
        args.run,
        args.data,
        args.out,
        rule=args.rule,
        min_votes=args.min_votes,
        weights=_weights(args.weights),
        weights_source=args.weights,
        all_windows=args.all_windows,
        crops=args.crops,
        jobs=args.jobs,
        progress=not args.no_progress,
    )
    data = score["data"]
    print(
        f"{data['n_records']} records scored, {data['n_excluded']} left out "
        "(unreadable; listed in score.json)"
    )
    # the task scorer's headline first, then the figures every scorer gives
    headline = get_scorer(score["run"]["scorer"]).headline
    for name, result in score["models"].items():
        figures = {**(result.get("challenge") or {}), **result["overall"]}
        shown = dict.fromkeys([headline, "macro_auroc", "macro_f1"])
        if "challenge" in result:
            shown["challenge_metric"] = None
        line = "  ".join(f"{k.replace('_', ' ')} {_fmt(figures.get(k))}" for k in shown)
        print(f"{name:>18}: {line}")
    print(f"-> {args.out / SCORE}, roc.png, pr.png, confusion.png, outputs/")
    return 0


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None or not isinstance(value, int | float) else f"{value:.3f}"


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    threshold = subparsers.add_parser(
        "threshold",
        help="learn per-class thresholds for each fold of a run",
        description="Learn one threshold per class for each finished fold, from that "
        "fold's validation predictions only, into RUN_DIR/fold_K/thresholds.json.",
    )
    add_threshold_arguments(threshold)
    threshold.set_defaults(func=run_threshold)

    post = subparsers.add_parser(
        "postprocess",
        help="score a run's ensemble on held-out records",
        description="Predict every held-out record with each fold model, combine them by "
        "majority vote, and write score.json, ROC/PR/confusion plots and challenge-format "
        "output files.",
    )
    add_postprocess_arguments(post)
    post.set_defaults(func=run_postprocess)

    score = subparsers.add_parser(
        "score",
        help="score challenge-format output files as the CinC 2020 challenge did",
        description="Score OUTPUT_DIR/RECORD.csv against the #Dx lines of LABEL_DIR/RECORD.hea "
        "with the CinC 2020 definitions: equivalent classes folded, macro AUROC/AUPRC, "
        "accuracy, F-measure, F-beta, G-beta and the challenge metric.",
    )
    score.add_argument("--labels", type=Path, required=True, metavar="LABEL_DIR")
    score.add_argument("--outputs", type=Path, required=True, metavar="OUTPUT_DIR")
    score.add_argument("--weights", default="cinc2020", metavar="CSV", help=WEIGHTS_HELP)
    score.add_argument("--out", type=Path, metavar="JSON", help="also write the scores here")
    score.set_defaults(func=run_score)


def run_score(args: argparse.Namespace) -> int:
    from ecgml.evaluation.challenge import score_directories
    from ecgml.evaluation.report import json_safe

    result = json_safe(score_directories(args.labels, args.outputs, weights=_weights(args.weights)))
    for name, value in result["overall"].items():
        print(f"{name:>17}: {_fmt(value)}")
    if result["problems"]:
        print(
            f"{len(result['problems'])} of {result['n_records']} records had missing or "
            "malformed output files, scored as all-negative:"
        )
        for p in result["problems"][:10]:
            print(f"  {p['record']}: {p['problem']}")
    if args.out:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(result, indent=1) + "\n")
        print(f"-> {args.out}")
    return 0
