"""Model builders: pure functions from a config to an untrained ``keras.Model``.

No file I/O here; saving and loading is the training package's job. Import
builders from ``ecgml.models.registry``; this package's own import stays light
so that reading a config does not load Keras.
"""
