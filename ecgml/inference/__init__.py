"""A trained run as a classifier: the fold ensemble and its prediction path, the
inputs a recording gives it besides its windows, explanations (integrated
gradients), beat tables, and the scoring of a held-out set (postprocessing).

This layer sits above :mod:`ecgml.runs` (a run folder and its thresholds) and
:mod:`ecgml.task`, and below :mod:`ecgml.serve` and the command line. Metrics,
thresholds, scorers, reports and plots, which know nothing of runs, stay in
:mod:`ecgml.evaluation` below.
"""
