"""Runs: a run folder started or reopened against its cache, its manifest, its
folds trained one after the other or as parallel jobs, and their thresholds
(:mod:`ecgml.runs.thresholds`).

This layer sits above :mod:`ecgml.training` (which fits one fold model) and below
the command line and the search (:mod:`ecgml.tune`). It receives the task
resolved once (:class:`ecgml.task.Task`) and hands its pieces to the fold job.
"""

from __future__ import annotations

from ecgml.runs.start import cache_labels, check_cache, open_run, run_folds, train_run

__all__ = ["cache_labels", "check_cache", "open_run", "run_folds", "train_run"]
