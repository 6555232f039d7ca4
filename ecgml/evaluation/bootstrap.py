"""Bootstrap confidence intervals for a figure computed from held-out predictions.

The percentile bootstrap (Efron and Tibshirani, 1993): the records are drawn with
replacement, as many as there are, and the figure recomputed on each draw; the
interval is the middle 95 % of the recomputed figures. Where samples are not
independent (the beats of one record), whole groups are drawn instead: the unit
of resampling is the unit that was sampled from the population.

Two intervals that overlap do not show that two models are equal, and two that
do not overlap are a stricter test than one needs: each interval is the
uncertainty of one model's figure on this test set, not of the difference
between two models scored on the same records. For the difference, bootstrap
the difference on the same draws (as :func:`bootstrap_interval` does for any
function of the record indices).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

N_RESAMPLES = 1000
SEED = 0
LEVEL = 0.95


def _draws(n: int, groups: Sequence[str] | None, n_resamples: int, seed: int):
    """Index arrays of ``n_resamples`` draws of whole units, with replacement."""
    rng = np.random.default_rng(seed)
    if groups is None:
        for _ in range(n_resamples):
            yield rng.integers(0, n, size=n)
        return
    if len(groups) != n:
        raise ValueError(f"{len(groups)} groups for {n} samples")
    _, unit = np.unique(np.asarray(groups, dtype=str), return_inverse=True)
    order = np.argsort(unit, kind="stable")
    n_units = int(unit.max()) + 1
    bounds = np.searchsorted(unit[order], np.arange(n_units + 1))
    members = [order[bounds[u] : bounds[u + 1]] for u in range(n_units)]
    for _ in range(n_resamples):
        yield np.concatenate([members[u] for u in rng.integers(0, n_units, size=n_units)])


def bootstrap_figures(
    figures: Callable[[np.ndarray], dict[str, float]],
    n: int,
    *,
    groups: Sequence[str] | None = None,
    n_resamples: int = N_RESAMPLES,
    seed: int = SEED,
    level: float = LEVEL,
) -> dict[str, dict]:
    """Percentile bootstrap intervals of several figures, from the same draws.

    Args:
        figures: the figures of the samples at the given indices (with repeats),
            ``figures(np.arange(n))`` being the figures themselves. A draw on which
            a figure is undefined (NaN: a class without positives, say) is left out
            of that figure's interval and counted.
        n: samples.
        groups: the unit each sample belongs to (a record, for beats; a patient);
            whole units are drawn. ``None``: each sample is its own unit.
        n_resamples: draws.
        seed: seeds the draws.
        level: the intervals' coverage.

    Returns:
        Per figure ``{"estimate", "low", "high", "level", "n_resamples", "n_valid",
        "seed", "unit"}``; ``low`` and ``high`` are ``None`` when fewer than half
        the draws give the figure.
    """
    if n < 1:
        raise ValueError("no samples to resample")
    if not 0.0 < level < 1.0:
        raise ValueError(f"level must be in (0, 1), got {level}")
    estimate = figures(np.arange(n))
    values = {name: [] for name in estimate}
    for index in _draws(n, groups, n_resamples, seed):
        for name, value in figures(index).items():
            values[name].append(value)
    tail = (1.0 - level) / 2 * 100
    out = {}
    for name, drawn in values.items():
        drawn = np.asarray(drawn, dtype=np.float64)
        valid = drawn[np.isfinite(drawn)]
        enough = len(valid) >= n_resamples / 2
        low, high = np.percentile(valid, [tail, 100 - tail]) if enough else (None, None)
        out[name] = {
            "estimate": None if not np.isfinite(estimate[name]) else float(estimate[name]),
            "low": None if low is None else float(low),
            "high": None if high is None else float(high),
            "level": level,
            "n_resamples": n_resamples,
            "n_valid": len(valid),
            "seed": seed,
            "unit": "sample" if groups is None else "group",
        }
    return out


def bootstrap_interval(figure: Callable[[np.ndarray], float], n: int, **options) -> dict:
    """:func:`bootstrap_figures` of one figure."""
    return bootstrap_figures(lambda i: {"figure": figure(i)}, n, **options)["figure"]
