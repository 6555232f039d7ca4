"""The summary over seeds and the Markdown table of ``bench/ptbxl.py``'s results
(docs/benchmarks.md)."""

from __future__ import annotations

from typing import Any

import numpy as np
from common import cell, minutes


def summary(rows: dict[str, dict]) -> dict[str, Any]:
    """Mean and standard deviation over a model's seeds."""
    out = {}
    for part in ("oof", "validation"):
        values = [r[part]["macro_auroc"] for r in rows.values()]
        out[part] = {
            "macro_auroc_mean": float(np.mean(values)),
            "macro_auroc_std": float(np.std(values, ddof=1)) if len(values) > 1 else None,
            "n_seeds": len(values),
        }
    return out


def table(results: dict) -> str:
    lines = [
        "| model | seed | out of fold macro AUROC (95 % CI) | validation macro AUROC (95 % CI) "
        "| validation macro F1 | training (all folds) |",
        "|---|---|---|---|---|---|",
    ]
    for model, entry in results.get("models", {}).items():
        for seed, r in entry["seeds"].items():
            o, v = r["oof"], r["validation"]
            lo, vo = o["macro_auroc_ci95"], v["macro_auroc_ci95"]
            seconds = r["info"].get("train_seconds")
            lines.append(
                f"| {model} | {seed} | {cell(o['macro_auroc'])} "
                f"({cell(lo['low'])}-{cell(lo['high'])}) "
                f"| {cell(v['macro_auroc'])} ({cell(vo['low'])}-{cell(vo['high'])}) | "
                f"{cell(v['macro_f1'])} | {minutes(seconds)} |"
            )
        if len(entry["seeds"]) > 1:
            s = entry["summary"]
            lines.append(
                f"| {model} | mean ± sd of {s['oof']['n_seeds']} | "
                f"{cell(s['oof']['macro_auroc_mean'])} ± {cell(s['oof']['macro_auroc_std'])} | "
                f"{cell(s['validation']['macro_auroc_mean'])} ± "
                f"{cell(s['validation']['macro_auroc_std'])} | | |"
            )
    return "\n".join(lines)
