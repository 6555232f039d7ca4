"""``ecgml modelbuild`` (also ``python modelbuild.py``)."""

from __future__ import annotations

import argparse
from pathlib import Path

from ecgml.cli.keras_commands import uses_keras


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, help="JSON config (model, preprocess, labels)")
    parser.add_argument("--out", type=Path, help="save the untrained model here (.keras)")


def add_parsers(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "modelbuild",
        help="build the untrained model a config describes and print its summary",
        description="Build the untrained model, print its layers, parameters and FLOPs "
        "per sample, and optionally save it as a .keras file.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run_modelbuild)


@uses_keras
def run_modelbuild(args: argparse.Namespace) -> int:
    from ecgml.config import load_config
    from ecgml.data.labels import LabelEncoder
    from ecgml.models.registry import build_model, count_flops
    from ecgml.task import Task

    if args.out is not None and args.out.suffix != ".keras":
        raise ValueError(f"--out must end in .keras, got {args.out}")
    config = load_config(args.config)
    n_classes = LabelEncoder.from_config(config.labels).n_classes
    task = Task.of(config)
    rows, columns = task.samples.row_shape(config.preprocess)
    model = build_model(
        config.model,
        n_classes=n_classes,
        input_length=config.training.input_length or rows,
        n_leads=columns,
        activation=task.target.activation,
    )
    flops = count_flops(model)
    signal_shape = model.input_shape[1:]
    tabular = ""
    if config.tabular.enabled:
        import numpy as np

        from ecgml.data.tabular import column_names
        from ecgml.models.fusion import with_tabular

        n_columns = len(column_names(config.tabular, config.preprocess.leads))
        # placeholder statistics: training sets them from each fold's training rows
        tab = config.tabular
        model = with_tabular(
            model,
            mean=np.zeros(n_columns),
            variance=np.ones(n_columns),
            units=tab.units,
            dropout=tab.dropout,
        )
        tabular = f" and a tabular input of {n_columns} columns"
    model.summary()
    activation = model.get_layer("output").activation.__name__
    print(
        f"input {signal_shape}{tabular}, {n_classes} {activation} outputs, "
        f"{model.count_params():,} parameters, "
        f"{flops / 1e9:.3g} GFLOPs per sample{' of the signal model' if tabular else ''} "
        "(convolutions and dense layers)"
    )
    if args.out is not None:
        args.out.parent.mkdir(parents=True, exist_ok=True)
        model.save(args.out)
        print(f"saved {args.out}")
    return 0
