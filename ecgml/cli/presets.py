"""``ecgml presets`` and ``ecgml embed``: the models that ship in the package."""

from __future__ import annotations

import argparse
from pathlib import Path

from ecgml.cli.keras_commands import uses_keras


def run_presets(args: argparse.Namespace) -> int:
    from ecgml.presets import Preset, preset_names
    from ecgml.presets.card import headline

    if args.action == "show":
        if not args.name:
            raise ValueError("ecgml presets show NAME: name a preset")
        print(Preset.named(args.name).card())
        return 0
    names = preset_names()
    if not names:
        print("no presets installed")
        return 1
    for name in names:
        preset = Preset.named(name)
        info = preset.info
        print(
            f"{name} (v{info['version']}): {info['task']}, {info['target']}, "
            f"{len(info['preprocess']['leads'])} lead(s), classes "
            f"{' '.join(info['abbreviations'])}; {preset.size_bytes / 1e6:.1f} MB; "
            f"{headline(info)}"
        )
    print("ecgml presets show NAME prints a preset's card")
    return 0


@uses_keras
def run_embed(args: argparse.Namespace) -> int:
    import numpy as np

    from ecgml.inference.embed import embed_paths
    from ecgml.inference.presets import load_preset
    from ecgml.serve.predict import find_inputs

    ensemble = load_preset(args.preset, preprocessed=args.preprocessed)
    if not 0 <= args.fold < len(ensemble.models):
        raise ValueError(f"--fold must be in 0..{len(ensemble.models) - 1}, got {args.fold}")
    samples = ensemble.task.samples
    paths = find_inputs(args.inputs, suffixes=samples.input_suffixes, reader=ensemble.task.reader)
    if not paths:
        raise ValueError(f"no records found in {', '.join(map(str, args.inputs))}")
    found = embed_paths(
        ensemble,
        paths,
        fold=args.fold,
        missing_leads=args.missing_leads,
        progress=not args.no_progress,
    )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    np.savez(
        args.out,
        record_ids=np.array(found["record_ids"], dtype=str),
        paths=np.array(found["paths"], dtype=str),
        embeddings=found["embeddings"],
        preset=args.preset,
        fold=args.fold,
    )
    for path, problem in found["skipped"]:
        print(f"skipped {path}: {problem}")
    n, d = found["embeddings"].shape
    skipped = len(found["skipped"])
    print(f"{n} records embedded ({d} features each), {skipped} skipped -> {args.out}")
    return 0 if n else 1


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    from ecgml.cli.serve import add_missing_leads_argument, add_preprocessed_argument

    presets = subparsers.add_parser(
        "presets",
        help="list the trained models that ship with ecgml, or show one's card",
        description="Presets are trained models inside the package: predict with "
        "'ecgml predict --preset NAME', serve with 'ecgml serve --preset NAME', "
        'start training from one with training.init_from: "preset:NAME".',
    )
    presets.add_argument("action", nargs="?", choices=("list", "show"), default="list")
    presets.add_argument("name", nargs="?", metavar="NAME")
    presets.set_defaults(func=run_presets)

    embed = subparsers.add_parser(
        "embed",
        help="a preset's pooled features of every record, for your own models",
        description="Read records as 'ecgml predict --preset' does and write one fold "
        "model's pooled features (the layer before its head, averaged over a record's "
        "windows) to an .npz: record_ids, paths, embeddings (records x features).",
    )
    embed.add_argument("--preset", required=True, metavar="NAME")
    embed.add_argument("inputs", nargs="+", type=Path, metavar="RECORD_OR_DIR")
    embed.add_argument("--out", type=Path, required=True, metavar="FILE.npz")
    embed.add_argument("--fold", type=int, default=0, help="the fold model to use (default 0)")
    add_missing_leads_argument(embed)
    add_preprocessed_argument(embed)
    embed.add_argument("--no-progress", action="store_true", help="no progress bar")
    embed.set_defaults(func=run_embed)
