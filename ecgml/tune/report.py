"""The end of a search: ``trials.csv``, ``best.json``, ``tune.json`` and the plots
(:mod:`ecgml.tune.search` describes the folder)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from optuna.trial import TrialState

from ecgml.config import Config, save_config
from ecgml.files import write_json
from ecgml.tune.space import Space


def params_text(params: dict[str, Any]) -> str:
    """A trial's parameters in one line, each by the last part of its path."""

    def short(v: Any) -> str:
        return f"{v:.4g}" if isinstance(v, float) else str(v)

    return ", ".join(f"{k.split('.')[-1]}={short(v)}" for k, v in params.items())


def write_report(
    study: Any, out: Path, config: Config, space: Space, *, storage: str, n_test: int
) -> None:
    """``trials.csv``, ``best.json``, ``tune.json``, ``history.png``, ``importance.png``,
    and the trials as a table on stdout."""
    paths = [p.path for p in space.parameters]
    rows = []
    for t in study.get_trials(deepcopy=False):
        rows.append(
            {
                "trial": t.number,
                "state": t.state.name.lower(),
                # a pruned trial's value would be its last epoch figure, not the headline
                "value": t.value if t.state == TrialState.COMPLETE else None,
                "last_step": t.last_step,
                "seconds": round(t.duration.total_seconds(), 1) if t.duration else None,
                "run": t.user_attrs.get("run"),
                **{p: t.params.get(p) for p in paths},
            }
        )
    import pandas as pd

    table = pd.DataFrame(rows)
    table.to_csv(out / "trials.csv", index=False)
    print(table.to_string(index=False))
    complete = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    summary: dict[str, Any] = {
        "study": study.study_name,
        "storage": storage,
        "states": {
            s.name.lower(): sum(t.state == s for t in study.get_trials(deepcopy=False))
            for s in TrialState
        },
        "held_out_samples": n_test,
    }
    if complete:
        best = study.best_trial
        values = {p.path: p.decode(best.params[p.path]) for p in space.parameters}
        save_config(space.apply(config, values), out / "best.json")
        summary["best"] = {
            "trial": best.number,
            "value": best.value,
            "params": values,
            "objective": best.user_attrs.get("objective"),
            "run": best.user_attrs.get("run"),
        }
        print(
            f"best: trial {best.number}, {best.user_attrs.get('objective')} "
            f"{best.value:.4f} ({params_text(values)}) -> {out / 'best.json'}"
        )
    write_json(out / "tune.json", summary)
    from ecgml.evaluation.plots import plot_study

    plot_study(study, out, len(complete))
