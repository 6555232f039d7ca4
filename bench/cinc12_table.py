"""The Markdown tables of ``bench/cinc12.py``'s results (docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

from common import cell, markdown, minutes


def table(results: dict[str, Any]) -> str:
    """The results as the Markdown tables of docs/benchmarks.md."""

    lines = []
    titles = {"oof": "out of fold", "loso": "leave one source out, pooled"}
    keys = list(titles) + sorted(
        {k for entry in results["models"].values() for k in entry} - set(titles)
    )
    for variant in keys:
        title = titles.get(variant, f"{variant.replace(':', ', splits ')}, pooled")
        rows = []
        for model, entry in results["models"].items():
            if variant not in entry:
                continue
            e = entry[variant]
            f1, ch = e["thresholds_f1"], e["thresholds_challenge"]
            # a part of the splits is scored from runs trained before: no training time
            wall = "-" if ":" in variant else minutes(e["wall_seconds_this_call"])
            rows.append(
                [
                    model,
                    cell(e["macro_auroc"]),
                    cell(e["macro_auprc"]),
                    cell(f1["challenge_metric"]),
                    cell(ch["challenge_metric"]),
                    cell(f1["macro_f1"]),
                    wall,
                ]
            )
        header = [
            "model",
            "macro AUROC",
            "macro AUPRC",
            "challenge metric (F1 thr.)",
            "challenge metric (challenge thr.)",
            "macro F1 (F1 thr.)",
            "wall time",
        ]
        lines += [f"{title}:", "", *markdown(header, rows), ""]
    models = [m for m in results["models"] if "oof" in results["models"][m]]
    if not models:
        return "\n".join(lines)
    classes = results["models"][models[0]]["oof"]["classes_scored"]
    per_class = [
        [c, *(cell(results["models"][m]["oof"]["per_class_auroc"].get(c)) for m in models)]
        for c in classes
    ]
    lines += ["per-class AUROC, out of fold:", "", *markdown(["class", *models], per_class)]
    return "\n".join(lines)
