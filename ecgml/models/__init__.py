"""Model families: one module per architecture, each holding its config
dataclass and its network, registered together (:mod:`ecgml.models.family`).

No file I/O here; saving and loading is the training package's job. Importing
this package registers the built-in families without loading Keras, so that
reading a config stays light; :func:`ecgml.models.registry.build_model` builds.
Adding a family is its module, named in ``BUILT_IN``.
"""

import importlib

# The built-in family modules, each registering its family, in the order errors list them.
BUILT_IN = ("se_resnet", "resecg", "beat_cnn", "kachuee", "mobilenet", "xresnet1d", "inception1d")
for _module in BUILT_IN:
    importlib.import_module(f"ecgml.models.{_module}")
