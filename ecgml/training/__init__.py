"""Folds, the input pipeline, fitting, checkpoints and resumable fold jobs."""
