"""Files of datasets that other programs read while we write them (the shared days, the batch
analysis): each appears whole or not at all, written beside its place under a hidden name
(which readers skip) and renamed over it."""
from __future__ import annotations

import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any


def replace_whole(path: Path, write: Callable[[Path], object]) -> None:
    """``write(tmp)`` a file, then put it at ``path`` in one rename: a reader sees the old
    file or the new one, never half (the folders are made as needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{time.monotonic_ns()}.tmp")
    write(tmp)
    os.replace(tmp, path)


def write_parquet(path: Path, table: Any) -> None:
    """A pyarrow table as a Parquet file at ``path``, whole (``replace_whole``)."""
    import pyarrow.parquet as pq

    replace_whole(path, lambda tmp: pq.write_table(table, tmp))
