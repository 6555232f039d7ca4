"""A preset's model card (``CARD.md``), written from its ``preset.json`` alone, so
that the card can never say something its files do not."""

from __future__ import annotations

from typing import Any


def _interval(value: dict[str, Any]) -> str:
    if value["low"] is None:
        return f"{value['estimate']:.3f}"
    return f"{value['estimate']:.3f} (95 % CI {value['low']:.3f}-{value['high']:.3f})"


def _preprocessing(p: dict[str, Any]) -> str:
    band = p.get("bandpass")
    filtered = (
        f"band-pass {band[0]:g}-{band[1]:g} Hz (Butterworth, order {p.get('filter_order', 3)}, "
        "zero phase)"
        if band
        else "no filter"
    )
    return (
        f"leads {', '.join(p['leads'])}, resampled to {p['fs']:g} Hz, {filtered}, "
        f"normalisation {p.get('normalisation', 'none')}, windows of {p['window']} samples "
        f"({p['window'] / p['fs']:g} s, policy {p.get('window_policy', 'first')})"
    )


def headline(info: dict[str, Any]) -> str:
    """The card's first figure, for ``ecgml presets``: the first interval figure."""
    name, value = next(iter(info["figures"]["intervals"].items()))
    return f"{name} {_interval(value)}"


def render_card(info: dict[str, Any], *, size_bytes: int) -> str:
    """``CARD.md`` for a preset's ``preset.json`` contents and its files' size."""
    figures, weights = info["figures"], info["weights"]
    lines = [
        f"# Preset `{info['name']}` (version {info['version']})",
        "",
        info["description"],
        "",
        "## What it is",
        "",
        f"- Task: `{info['task']}`, {info['target']}; classes: "
        + ", ".join(
            a if a == c else f"{a} ({c})"
            for c, a in zip(info["classes"], info["abbreviations"], strict=True)
        ),
        f"- Model: {len(info['folds'])} fold models of `{info['architecture']}` "
        f"({info['n_parameters']:,} parameters each)"
        + (", each stacked with a feature forest" if info["stacked_forest"] else ""),
        "- Preprocessing, applied to every record it is given: "
        + _preprocessing(info["preprocess"]),
        f"- New records are read with the `{info['prediction_reader']['reader']}` reader.",
        f"- Weights stored as {weights['dtype']}: rounding them to float16 moves the "
        f"probabilities of {weights['n_inputs']} real inputs by up to "
        f"{weights['max_abs_difference_float16']:.1e} (float16 where that is at most "
        f"{weights['tolerance']:g}).",
        f"- Size: {size_bytes / 1e6:.1f} MB; built with ecgml {info['ecgml_version']}.",
        "",
        "## Data",
        "",
        info["data"],
        "",
        "## Validation",
        "",
        info["validation"],
        "",
        f"Out of fold over {figures['n_records']:,} records "
        "(each record scored by the fold model that did not train on it):",
        "",
        "| figure | value |",
        "|---|---|",
        *(f"| {name} | {_interval(value)} |" for name, value in figures["intervals"].items()),
        *(
            f"| {name} | {value:.3f} |"
            for name, value in figures["overall"].items()
            if name not in figures["intervals"]
        ),
        "",
        "## Use",
        "",
        info["intended_use"],
        "",
        "**Not for:** " + info["not_for"],
        "",
        "## Rebuild",
        "",
        f"`{info['command']}` (deterministic on a CPU); every file's SHA-256 is in "
        "`preset.json` and is checked at load.",
        "",
    ]
    return "\n".join(lines)
