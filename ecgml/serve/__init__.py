"""A trained run outside training: batch prediction, model export and a local web app."""
