"""Atomic file writes: a reader sees the old file or the new one, never half of one.

Every file ecgml replaces while another process may read it (cache index,
fold checkpoints, manifests, plots, reports) goes through :func:`atomic_write`.
The temporary file sits beside the target, so the final rename stays on one
file system, and keeps the target's suffix, since some writers choose the
format from it (Keras, ``np.savez``, matplotlib). Its name carries the process
id, so that fold jobs running side by side never share one.

Files that several processes read, change and rewrite (a run's manifest, a
cache being prepared) are held under :func:`locked` meanwhile.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

try:
    import fcntl
except ImportError:  # Windows: no advisory locks; one job at a time there
    fcntl = None

__all__ = ["atomic_write", "locked", "write_json", "write_text"]


@contextlib.contextmanager
def locked(path: Path, *, waiting: str | None = None) -> Iterator[None]:
    """Hold an exclusive lock on ``path.lock`` while inside, blocking until
    another process lets it go; ``waiting`` is printed to stderr if it must wait."""
    if fcntl is None:
        yield
        return
    with open(path.with_name(path.name + ".lock"), "a") as lock:
        try:
            fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            if waiting:
                print(waiting, file=sys.stderr, flush=True)
            fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


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
