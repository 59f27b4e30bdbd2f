"""What the synced records mean in time: wall-clock placement and the decoded tables.

The clip stamps a record with UTC once the host has set its clock (SET_TIME), and with
seconds since boot before that. Within one boot (records from a BOOT record up to the next),
the first TIME_SET whose previous time was boot-relative fixes that boot's offset, so every
boot-relative record of the boot — before the clock was set too — gets a UTC time. A boot that
never had its clock set keeps its records unplaced: ``utc`` is NULL and ``since_boot_s`` and
``boot`` (the BOOT record's sequence number) say where they are.

``decode`` turns records (in sequence order) into rows of the store's decoded tables
(docs/store.md lists every column). It is pure: the store calls it, inside the transaction that
stores them, for the records a batch adds; when the batch brings the TIME_SET that places its
boot's earlier records, the store fills in their ``utc`` from ``since_boot_s``.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from .protocol import Record, RecordType, decode_payload

CLIP_EPOCH_UNIX = datetime(2000, 1, 1, tzinfo=UTC).timestamp()  # the clip's wall clock zero

# decoded table -> its columns after the common (device, seq, boot, utc, since_boot_s)
TABLES: dict[str, tuple[str, ...]] = {
    "episodes": ("duration_s", "peak_flexion_deg", "mean_flexion_deg", "peak_lateral_deg"),
    "lifts": ("duration_s", "peak_flexion_deg", "twist_deg", "peak_lateral_deg", "technique",
              "twisted", "lateral"),
    "buzzes": ("pattern", "reason"),
    "summaries": ("span_s", "upright_s", "slouch_s", "moving_s", "lifts", "stooped_lifts",
                  "buzzes"),
    "trace": ("flexion_deg", "lateral_deg"),
    "faults": ("code", "detail"),
    "held": ("reason", "why"),
    "slips": ("kind", "turn_deg"),
    "exercise_sets": ("kind", "reps", "hold_s", "span_s", "drift_deg"),
    "breaks": ("still_s",),
}
COMMON = ("device", "seq", "boot", "utc", "since_boot_s")


@dataclass
class Rows:
    """Decoded rows per table, each a tuple in COMMON + TABLES[name] order."""

    tables: dict[str, list[tuple[Any, ...]]] = field(
        default_factory=lambda: {name: [] for name in TABLES})


def boot_offsets(records: Sequence[Record]) -> dict[int, float | None]:
    """BOOT sequence -> seconds to add to a boot-relative time for seconds since the clip's
    epoch (None: that boot's clock was never set). Records before the first BOOT seen belong
    to boot -1."""
    offsets: dict[int, float | None] = {}
    boot = -1
    offsets[boot] = None
    for r in records:
        if r.rtype is RecordType.BOOT:
            boot = r.seq
            offsets[boot] = None
        elif r.rtype is RecordType.TIME_SET and offsets[boot] is None:
            values = decode_payload(r.rtype, r.payload)
            if r.wall_clock and not values["previous_wall_clock"]:
                offsets[boot] = r.time - values["previous_time_s"]
    return offsets


def decode(device: str, records: Sequence[Record], boot: int = -1,
           offsets: dict[int, float | None] | None = None) -> Rows:
    """Rows of the decoded tables for ``records`` (sequence order). ``boot``: the boot the
    first record belongs to when it is not a BOOT record; ``offsets``: boot_offsets of that
    boot's clock records too (default: of ``records`` alone)."""
    if offsets is None:
        offsets = boot_offsets(records)
    rows = Rows()
    for r in records:
        if r.rtype is RecordType.BOOT:
            boot = r.seq
        if r.wall_clock:
            since = None
            utc: float | None = CLIP_EPOCH_UNIX + r.time
        else:
            since = r.time
            offset = offsets.get(boot)
            utc = None if offset is None else CLIP_EPOCH_UNIX + r.time + offset
        for table, values in _rows_of(r):
            when = values.pop("_at", 0.0)  # seconds from the record's own time
            rows.tables[table].append(
                (device, r.seq, boot, None if utc is None else utc + when,
                 None if since is None else since + when,
                 *[values[c] for c in TABLES[table]]))
    return rows


def _rows_of(r: Record) -> Iterable[tuple[str, dict[str, Any]]]:
    if not isinstance(r.rtype, RecordType):
        return
    v = decode_payload(r.rtype, r.payload)
    if r.rtype is RecordType.SLOUCH_END:  # the record's time is the end: rows use the start
        yield "episodes", {**{k: v[k] for k in TABLES["episodes"]}, "_at": -v["duration_s"]}
    elif r.rtype is RecordType.LIFT:
        yield "lifts", {k: v[k] for k in TABLES["lifts"]}
    elif r.rtype is RecordType.BUZZ:
        yield "buzzes", {"pattern": v["pattern"], "reason": v["reason"]}
    elif r.rtype is RecordType.SUMMARY:
        yield "summaries", {k: v[k] for k in TABLES["summaries"]}
    elif r.rtype is RecordType.TRACE:
        step = v["interval_s"]
        for i, (flex, lat) in enumerate(zip(v["flexion_deg"], v["lateral_deg"], strict=True)):
            yield "trace", {"flexion_deg": flex, "lateral_deg": lat, "_at": i * step}
    elif r.rtype is RecordType.FAULT:
        yield "faults", {"code": v["code"], "detail": v["detail"]}
    elif r.rtype is RecordType.HELD:
        yield "held", {"reason": v["reason"], "why": v["why"]}
    elif r.rtype is RecordType.SLIP:
        yield "slips", {"kind": v["kind"], "turn_deg": v["turn_deg"]}
    elif r.rtype is RecordType.EXERCISE:
        yield "exercise_sets", {k: v[k] for k in TABLES["exercise_sets"]}
    elif r.rtype is RecordType.BREAK:
        yield "breaks", {"still_s": v["still_s"]}
