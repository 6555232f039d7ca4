"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file ecgml replaces while another process may read it (cache index,
fold checkpoints, manifests, plots, reports) goes through :func:`atomic_write`.
The temporary file sits beside the target, so the final rename stays on one
file system, and keeps the target's suffix, since some writers choose the
format from it (Keras, ``np.savez``, matplotlib). Its name carries the process
id, so that fold jobs running side by side never share one.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["atomic_write", "write_json", "write_text"]


def atomic_write(path: str | Path, write: Callable[[Path], Any]) -> None:
    """Call ``write(tmp)`` on a temporary path beside ``path``, then rename it over
    ``path``; the temporary file is removed if ``write`` fails."""
    path = Path(path)
    tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        write(tmp)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text(path: str | Path, text: str) -> None:
    """Write ``text`` atomically."""
    atomic_write(path, lambda tmp: tmp.write_text(text))


def write_json(path: str | Path, data: Any, *, indent: int = 2) -> None:
    """Write ``data`` as indented JSON, atomically."""
    write_text(path, json.dumps(data, indent=indent) + "\n")
