__version__ = "0.1.0"


def __getattr__(name: str):
    # ecgml.load_preset without importing Keras at ``import ecgml``
    if name == "load_preset":
        from ecgml.inference.presets import load_preset

        return load_preset
    raise AttributeError(f"module 'ecgml' has no attribute {name!r}")
