"""`analyze` over many recordings on a Dask cluster, into one Parquet dataset (docs/team.md).

Each recording's ``analyze`` JSON (docs/json.md) is split by kind::

    DATASET/summaries/<key>.parquet        one row: the JSON's numbers; its objects flattened
                                           as "object.key" columns (time_in_posture_s.upright)
    DATASET/<list key>/<key>.parquet       one row per item of that list (lifts,
                                           slouch_episodes, slips, ...), with "item" its index

Every row names its ``recording`` (the path as the batch was given it). ``<key>`` is the
recording's file stem and a hash of its absolute path, so two folders' ``day1.csv`` differ.
Files are written under a temporary name and renamed, the summary last: a recording is done
exactly when its summary exists, a rerun skips what is done and redoes the rest, and a worker
killed mid-recording leaves nothing that a rerun or Dask's retry would duplicate (the same
names are written again).
"""
from __future__ import annotations

import glob
import hashlib
import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .datasets import write_parquet
from .errors import BatchError, PostureclipError

if TYPE_CHECKING:
    from .analysis import AnalysisSettings

SUMMARY = "summaries"


def recording_key(path: str) -> str:
    """The file name a recording's rows get in each kind's folder (without .parquet)."""
    digest = hashlib.sha1(os.path.abspath(path).encode()).hexdigest()[:10]
    return f"{Path(path).stem}-{digest}"


def split(recording: str, d: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``analyze``'s JSON dict as rows by kind (the module's docstring)."""
    summary: dict[str, Any] = {"recording": recording}
    kinds: dict[str, list[dict[str, Any]]] = {}
    for key, value in d.items():
        if isinstance(value, list):
            kinds[key] = [{"recording": recording, "item": i, **row}
                          for i, row in enumerate(value)]
        elif isinstance(value, dict):
            summary.update({f"{key}.{k}": v for k, v in value.items()})
        else:
            summary[key] = value
    kinds[SUMMARY] = [summary]
    return kinds


def join(kinds: dict[str, list[dict[str, Any]]]) -> dict[str, Any]:
    """The inverse of ``split`` for one recording: its ``analyze`` JSON dict again."""
    summary = dict(kinds[SUMMARY][0])
    summary.pop("recording")
    d: dict[str, Any] = {}
    for column, value in summary.items():
        if "." in column:
            key, sub = column.split(".", 1)
            d.setdefault(key, {})[sub] = value
        else:
            d[column] = value
    for kind, rows in kinds.items():
        if kind != SUMMARY:
            d[kind] = [{k: v for k, v in r.items() if k not in ("recording", "item")}
                       for r in sorted(rows, key=lambda r: r["item"])]
    return d


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    import pyarrow as pa

    table = pa.Table.from_pylist(rows)
    # a key that is null in every row here (undone_s, risk_index) is a number elsewhere:
    # typed so, the kind's files read as one table
    write_parquet(path, table.cast(pa.schema([
        pa.field(f.name, pa.float64()) if pa.types.is_null(f.type) else f
        for f in table.schema])))


@dataclass(frozen=True)
class Outcome:
    """One recording's fate: 'done', 'skipped' (done before) or 'failed' (with why)."""

    recording: str
    status: str
    error: str | None = None
    seconds: float = 0.0
    hours: float = 0.0  # of recording analysed


def analyze_one(recording: str, out: str, settings: AnalysisSettings | None = None
                ) -> Outcome:
    """Analyse one recording into the dataset ``out`` (runs on a Dask worker)."""
    from .chunked import analyze_path

    key = recording_key(recording)
    dest = Path(out)
    if (dest / SUMMARY / f"{key}.parquet").exists():
        return Outcome(recording, "skipped")
    t0 = time.perf_counter()
    try:
        d = analyze_path(recording, settings).to_dict()
    except PostureclipError as e:
        return Outcome(recording, "failed", str(e))
    except (OSError, ValueError) as e:
        return Outcome(recording, "failed", f"{type(e).__name__}: {e}")
    kinds = split(recording, d)
    for kind, rows in kinds.items():
        if kind != SUMMARY:
            path = dest / kind / f"{key}.parquet"
            if rows:
                _write(path, rows)
            else:
                path.unlink(missing_ok=True)  # a rerun after a change of settings
    _write(dest / SUMMARY / f"{key}.parquet", kinds[SUMMARY])  # last: marks it done
    return Outcome(recording, "done", seconds=time.perf_counter() - t0,
                   hours=d["duration_s"] / 3600.0)


@dataclass
class BatchResult:
    outcomes: list[Outcome] = field(default_factory=list)
    seconds: float = 0.0
    workers: int = 0

    def count(self, status: str) -> int:
        return sum(o.status == status for o in self.outcomes)


def expand(pattern: str) -> list[str]:
    """The recordings a glob names (sorted; ``**`` reaches into folders)."""
    found = sorted(p for p in glob.glob(pattern, recursive=True) if os.path.isfile(p))
    if not found:
        raise BatchError(f"no file matches {pattern!r}: quote the pattern so the shell leaves "
                         "it to postureclip, e.g. 'recordings/**/*.csv'")
    return found


def connect(scheduler: str | None, workers: int) -> tuple[Any, Any]:
    """A Dask client: to ``scheduler`` (an address) or to a new local cluster of ``workers``
    processes; returns (client, the local cluster or None)."""
    from distributed import Client, LocalCluster

    if scheduler is None:
        cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(scheduler, timeout="10s"), None
    except (OSError, TimeoutError, ValueError) as e:
        raise BatchError(f"cannot reach the Dask scheduler at {scheduler} ({e}): check the "
                         "address (tcp://HOST:8786) and that the scheduler runs, or leave "
                         "--scheduler out for a local cluster") from None


def run(recordings: list[str], out: Path, client: Any,
        settings: AnalysisSettings | None = None,
        report: Callable[[Outcome], None] | None = None) -> BatchResult:
    """Analyse ``recordings`` on ``client``'s cluster into ``out`` (``settings``: analyze's,
    None for its defaults); every recording gets an outcome (a worker lost more often than
    Dask retries is a failure of that recording)."""
    from distributed import as_completed

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t0 = time.perf_counter()
    futures = client.map(analyze_one, recordings, out=str(out), settings=settings, pure=False)
    owner = {f.key: r for f, r in zip(futures, recordings, strict=True)}
    result = BatchResult(workers=len(client.scheduler_info().get("workers", {})))
    for future in as_completed(futures):
        try:
            outcome = future.result()
        except Exception as e:  # KilledWorker and the like: the batch goes on
            outcome = Outcome(owner[future.key], "failed", f"{type(e).__name__}: {e}")
        result.outcomes.append(outcome)
        if report is not None:
            report(outcome)
    result.seconds = time.perf_counter() - t0
    return result
