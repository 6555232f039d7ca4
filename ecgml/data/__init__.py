"""Records, labels, preprocessing and the training cache.

Nothing here imports a model, a backend or matplotlib.
"""
