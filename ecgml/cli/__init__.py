"""The ``ecgml`` command line: argument parsing only; the work is in the package."""
