"""Metrics, threshold optimisation, the scorers, calibration, bootstrap intervals, reports
and plots: figures of predictions, which know nothing of runs or tasks."""
