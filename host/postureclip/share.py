"""Sharing a worker's days with a team, as the worker decides (docs/team.md).

``share`` writes the worker's daily aggregates as a Parquet dataset partitioned by a
pseudonymous worker id and date::

    DIR/days/worker=<id>/date=<YYYY-MM-DD>/part-0.parquet    one row: that day (DAY_COLUMNS)
    DIR/manifests/<id>.json                                  what was shared, when, by whom

Never raw angles or event times: a day's numbers only (counts, minutes, shares, a histogram
of lift risk scores). Sharing a day again replaces its file (one file per worker-day, written
to a temporary name and renamed), so sharing again updates and never duplicates. The
worker id is random, made once per store; the manifest carries a hash of a secret kept in the
store, so two stores that happen to hold the same id cannot overwrite each other's days.
``revoke`` deletes everything the worker shared there.
"""
from __future__ import annotations

import hashlib
import json
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any

from . import daily
from .datasets import replace_whole, write_parquet
from .errors import ShareError
from .plan import Plan
from .store import Store

FORMAT = "postureclip-share"
VERSION = 1
WORKER_KEY = "share_worker"  # store meta: the pseudonymous worker id
SECRET_KEY = "share_secret"  # store meta: proves a manifest is this store's
MAX_LIFT_SCORE = 7  # postureclip.risk.lift_score's range is 1..7

# name, Arrow type, meaning; one row per worker-day (docs/team.md lists the same)
DAY_COLUMNS: tuple[tuple[str, str, str], ...] = (
    ("shift", "string", "the shift the worker named when sharing (null: none named)"),
    ("task", "string", "the task the worker named when sharing (null: none named)"),
    ("phase", "string", "'baseline' (the plan's measuring days) or 'coaching'"),
    ("worn_h", "float64", "hours the clip summarised"),
    ("upright_min", "float64", "minutes sitting or standing upright"),
    ("slouch_min", "float64", "minutes sitting or standing slouched"),
    ("moving_min", "float64", "minutes walking, lifting or handling"),
    ("upright_pct", "float64", "upright share of the sitting and standing time (null: none)"),
    ("slouch_episodes", "int32", "slouch episodes"),
    ("posture_buzzes", "int32", "posture reminders the clip gave"),
    ("median_correction_s", "float64", "median time from a reminder to sitting up (null)"),
    ("lifts", "int32", "lifts"),
    ("squat_lifts", "int32", "lifts with bent knees"),
    ("stoop_lifts", "int32", "lifts with a bent back"),
    ("twisted_lifts", "int32", "lifts with the trunk twisted or bent sideways"),
    ("lift_warnings", "int32", "lift warnings the clip gave"),
    *((f"lifts_score_{s}", "int32", f"lifts with risk score {s} (postureclip.risk)")
      for s in range(1, MAX_LIFT_SCORE + 1)),
    ("move_reminders", "int32", "reminders to move after sitting still"),
    ("breaks", "int32", "movement breaks"),
    ("exercise_sets", "int32", "exercise sets recognised"),
)


@dataclass(frozen=True)
class Shared:
    """What one ``share`` did."""

    worker: str
    written: list[date]  # days written for the first time
    replaced: list[date]  # days written again (their earlier file replaced)
    skipped_empty: int  # days in the range with nothing recorded


def worker_id(store: Store) -> str:
    """The store's pseudonymous worker id (made on first use): 'w' and 12 hex digits."""
    wid = store.meta(WORKER_KEY)
    if wid is None:
        wid = "w" + secrets.token_hex(6)
        store.set_meta(WORKER_KEY, wid)
        store.set_meta(SECRET_KEY, secrets.token_hex(16))
    return wid


def _owner(store: Store) -> str:
    secret = store.meta(SECRET_KEY)
    assert secret is not None  # worker_id() made both
    return hashlib.sha256(secret.encode()).hexdigest()[:24]


def _manifest_path(dest: Path, wid: str) -> Path:
    return dest / "manifests" / f"{wid}.json"


def _read_manifest(path: Path) -> dict[str, Any] | None:
    if not path.exists():
        return None
    try:
        m = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ShareError(f"{path} cannot be read ({e}): it is not a postureclip manifest; "
                         "move it away and share again") from e
    if not isinstance(m, dict) or m.get("format") != FORMAT:
        raise ShareError(f"{path} is not a postureclip share manifest: move it away and "
                         "share again")
    return m


def _check_owner(store: Store, dest: Path, wid: str) -> dict[str, Any] | None:
    manifest = _read_manifest(_manifest_path(dest, wid))
    if manifest is not None and manifest.get("owner") != _owner(store):
        raise ShareError(f"worker id {wid} in {dest} belongs to another store (a copied store, "
                         "or an id clash): give this store a new id with "
                         "`postureclip share --new-id` and share again")
    return manifest


def phase_of(day: date, plan: Plan | None) -> str:
    """'baseline' on the plan's measuring days, else 'coaching' (the clip coaches by default)."""
    if plan is None or day < date.fromisoformat(plan.started):
        return "coaching"
    for when, what in plan.log:
        if what.startswith("baseline done"):
            return "baseline" if day <= date.fromisoformat(when) else "coaching"
    return "baseline"  # the baseline runs still


def day_row(d: daily.Day, phase: str, shift: str | None, task: str | None) -> dict[str, Any]:
    """A day's shared row (DAY_COLUMNS)."""
    scores = [0] * MAX_LIFT_SCORE
    for s in d.lift_scores:
        scores[min(max(int(s), 1), MAX_LIFT_SCORE) - 1] += 1
    row: dict[str, Any] = {
        "shift": shift, "task": task, "phase": phase,
        "worn_h": d.recorded_s / 3600.0, "upright_min": d.upright_s / 60.0,
        "slouch_min": d.slouch_s / 60.0, "moving_min": d.moving_s / 60.0,
        "upright_pct": d.upright_pct, "slouch_episodes": d.episodes,
        "posture_buzzes": d.posture_buzzes, "median_correction_s": d.median_correction_s,
        "lifts": d.lifts, "squat_lifts": d.squats, "stoop_lifts": d.stoops,
        "twisted_lifts": d.twisted_lifts, "lift_warnings": d.lift_warnings,
        "move_reminders": d.move_reminders, "breaks": d.breaks,
        "exercise_sets": len(d.exercise)}
    for s in range(1, MAX_LIFT_SCORE + 1):
        row[f"lifts_score_{s}"] = scores[s - 1]
    return row


def _schema() -> Any:
    import pyarrow as pa

    types = {"string": pa.string(), "float64": pa.float64(), "int32": pa.int32()}
    return pa.schema([(name, types[kind]) for name, kind, _ in DAY_COLUMNS])


def _write_day(path: Path, row: dict[str, Any]) -> None:
    import pyarrow as pa

    write_parquet(path, pa.Table.from_pylist([row], schema=_schema()))


def first_day(store: Store, tz: tzinfo) -> date | None:
    """The first local day with a placed summary or lift; None when nothing is placed."""
    firsts = [u for u in (store.first_utc("summaries"), store.first_utc("lifts"))
              if u is not None]
    if not firsts:
        return None
    return datetime.fromtimestamp(min(firsts), tz).date()


def share(store: Store, dest: Path, start: date | None, end: date, tz: tzinfo,
          shift: str | None = None, task: str | None = None,
          plan: Plan | None = None) -> Shared:
    """Write the days ``start``..``end`` (``start`` None: from the first recorded day) that
    hold anything recorded, and the manifest; raises ShareError before writing anything when
    ``dest`` holds this worker id for another store."""
    dest = Path(dest)
    wid = worker_id(store)
    manifest = _check_owner(store, dest, wid)
    if start is None:
        start = first_day(store, tz) or end
    if start > end:
        raise ShareError(f"the range starts {start} after it ends {end}: give --from before "
                         "--until")
    written: list[date] = []
    replaced: list[date] = []
    empty = 0
    day = start
    while day <= end:
        d = daily.summarize(store, day, tz)
        if d.empty:
            empty += 1
        else:
            path = dest / "days" / f"worker={wid}" / f"date={day.isoformat()}" / "part-0.parquet"
            (replaced if path.exists() else written).append(day)
            _write_day(path, day_row(d, phase_of(day, plan), shift, task))
        day += timedelta(days=1)
    days = sorted(set(manifest.get("days", []) if manifest else [])
                  | {d.isoformat() for d in written + replaced})
    _write_manifest(dest, wid, {
        "format": FORMAT, "version": VERSION, "worker": wid, "owner": _owner(store),
        "shared_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "days": days, "columns": {name: meaning for name, _, meaning in DAY_COLUMNS},
        "never_shared": "raw angles, event times, single lifts or episodes, the clip's id"})
    return Shared(wid, written, replaced, empty)


def _write_manifest(dest: Path, wid: str, manifest: dict[str, Any]) -> None:
    text = json.dumps(manifest, indent=1) + "\n"
    replace_whole(_manifest_path(dest, wid), lambda tmp: tmp.write_text(text, encoding="utf-8"))


def revoke(store: Store, dest: Path) -> int:
    """Delete every day this store shared in ``dest`` and its manifest; returns the days
    deleted (0 when it never shared there)."""
    dest = Path(dest)
    wid = store.meta(WORKER_KEY)
    if wid is None:
        return 0
    _check_owner(store, dest, wid)
    folder = dest / "days" / f"worker={wid}"
    n = 0
    if folder.exists():
        n = len(list(folder.glob("date=*")))
        shutil.rmtree(folder)
    _manifest_path(dest, wid).unlink(missing_ok=True)
    return n


def new_id(store: Store) -> str:
    """Give the store a new worker id and secret. Days shared under the old id stay where
    they are: revoke them first."""
    store.set_meta(WORKER_KEY, None)
    store.set_meta(SECRET_KEY, None)
    return worker_id(store)
