"""Metrics, thresholds, the ensemble, reports and plots."""
