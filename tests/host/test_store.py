"""The store: placement of boot-relative records in wall-clock time, the decoded tables, schema
versions (an older store upgrades, a newer or foreign one is refused), readers during a write,
and the failures a user can meet (damaged file, a path that cannot be made)."""
from __future__ import annotations

import sqlite3
import struct
from pathlib import Path

import pytest

from postureclip.errors import StoreError
from postureclip.history import CLIP_EPOCH_UNIX
from postureclip.protocol import Record, RecordType
from postureclip.store import SCHEMA_VERSION, Store

DEV = "246f28010203"


def rec(rtype: RecordType, seq: int, t: float, wall: bool, *values: int,
        fmt: str = "") -> Record:
    payload = struct.pack(fmt, *values) if fmt else bytes(values)
    return Record(rtype, seq, int(t), round(t * 1000) % 1000, wall, payload)


def day_of_two_boots() -> list[Record]:
    """Boot A: an episode and a buzz at 100-160 s, then the host sets the clock at 500 s
    (UTC second 800,000,000); a lift after that, in UTC. Boot B: an episode, never placed."""
    wall = 800_000_000
    return [
        rec(RecordType.BOOT, 0, 0, False, 0, 1, 0, 1),
        rec(RecordType.SLOUCH_END, 1, 160, False, 60000, 300, 250, 40, fmt="<Ihhh"),
        rec(RecordType.BUZZ, 2, 130, False, 0, 1),
        rec(RecordType.TIME_SET, 3, wall, True, 500, 0, fmt="<IB"),
        rec(RecordType.LIFT, 4, wall + 60, True, 2300, 700, -350, 90, 2, 1, fmt="<HhhhBB"),
        rec(RecordType.TRACE, 5, wall + 100, True, 1, 10, -2, 11, -3, fmt="<Bbbbb"),
        rec(RecordType.BOOT, 6, 0, False, 0, 1, 0, 1),
        rec(RecordType.SLOUCH_END, 7, 90, False, 30000, 250, 220, 0, fmt="<Ihhh"),
    ]


def test_boot_relative_records_are_placed_by_their_boots_time_set(tmp_path: Path) -> None:
    records = day_of_two_boots()
    with Store(tmp_path / "s.db") as store:
        store.add(DEV, records[:3])  # the clock is not set yet: nothing placed
        assert [r["utc"] for r in store.rows("episodes")] == [None]
        store.add(DEV, records[3:])  # a later sync brings the TIME_SET: the boot is placed
        episodes = store.rows("episodes")
        wall0 = CLIP_EPOCH_UNIX + 800_000_000 - 500  # boot A's second 0 in UTC
        assert episodes[0]["utc"] == pytest.approx(wall0 + 100)  # start = end - duration
        assert episodes[0]["duration_s"] == 60 and episodes[0]["boot"] == 0
        assert episodes[1]["utc"] is None and episodes[1]["since_boot_s"] == 60  # boot B
        assert episodes[1]["boot"] == 6
        (buzz,) = store.rows("buzzes")
        assert buzz["utc"] == pytest.approx(wall0 + 130) and buzz["reason"] == 1
        (lift,) = store.rows("lifts")
        assert lift["utc"] == pytest.approx(CLIP_EPOCH_UNIX + 800_000_060)
        assert lift["technique"] == "stoop" and lift["twisted"] == 1
        trace = store.rows("trace")
        assert [t["flexion_deg"] for t in trace] == [10, 11]
        assert trace[1]["utc"] - trace[0]["utc"] == pytest.approx(1.0)
        # a time range returns placed rows only
        assert len(store.rows("episodes", wall0, wall0 + 3600)) == 1


def test_an_older_store_is_upgraded_and_a_newer_or_foreign_one_refused(tmp_path: Path) -> None:
    old = tmp_path / "old.db"
    db = sqlite3.connect(old)
    db.executescript("""CREATE TABLE records (device TEXT NOT NULL, seq INTEGER NOT NULL,
        type INTEGER NOT NULL, time_s INTEGER NOT NULL, time_ms INTEGER NOT NULL,
        wall_clock INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (device, seq))
        WITHOUT ROWID;""")
    for r in day_of_two_boots():  # as the first release wrote them: records only
        db.execute("INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                   (DEV, r.seq, int(r.rtype), r.time_s, r.time_ms, int(r.wall_clock),
                    r.payload))
    db.commit()
    db.close()
    with Store(old) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
        assert len(store.rows("episodes")) == 2 and store.count(DEV) == 8
    db = sqlite3.connect(old)
    db.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match=r"newer postureclip .* update postureclip"):
        Store(old)
    foreign = tmp_path / "foreign.db"
    db = sqlite3.connect(foreign)
    db.execute("CREATE TABLE records (id INTEGER, note TEXT)")
    db.commit()
    db.close()
    with pytest.raises(StoreError, match="not postureclip's"):
        Store(foreign)


def test_a_version_2_store_gains_the_held_and_slips_tables_and_keeps_its_rows(
        tmp_path: Path) -> None:
    path = tmp_path / "v2.db"
    with Store(path) as store:
        store.add(DEV, day_of_two_boots())
        before = {t: len(store.rows(t)) for t in ("episodes", "buzzes", "trace")}
    db = sqlite3.connect(path)  # as the second release left it
    db.executescript("DROP TABLE held; DROP TABLE slips; PRAGMA user_version = 2;")
    db.commit()
    db.close()
    with Store(path) as store:
        assert store.db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION == 4
        assert {t: len(store.rows(t)) for t in before} == before  # nothing decoded twice
        assert store.rows("held") == [] and store.rows("slips") == []


def test_a_version_3_store_decodes_the_exercise_and_break_records_it_kept_undecoded(
        tmp_path: Path) -> None:
    path = tmp_path / "v3.db"
    extra = [rec(RecordType.EXERCISE, 8, 200, False, 1, 0, 452, 461, 3, fmt="<BBHHB"),
             rec(RecordType.BREAK, 9, 400, False, 2710, fmt="<I")]
    with Store(path) as store:
        store.add(DEV, day_of_two_boots() + extra)
        before = {t: len(store.rows(t)) for t in ("episodes", "buzzes", "trace", "held")}
    db = sqlite3.connect(path)  # as the third release left it: the records kept, undecoded
    db.executescript("DROP TABLE exercise_sets; DROP TABLE breaks; PRAGMA user_version = 3;")
    db.commit()
    db.close()
    with Store(path) as store:
        assert {t: len(store.rows(t)) for t in before} == before  # nothing decoded twice
        (s,) = store.rows("exercise_sets")
        assert (s["kind"], s["reps"], s["hold_s"], s["span_s"]) == (1, 0, 45.2, 46.1)
        assert [b["still_s"] for b in store.rows("breaks")] == [2710]


def test_readers_work_while_a_sync_writes(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as writer:
        writer.add(DEV, day_of_two_boots()[:3])
        writer.db.execute("BEGIN IMMEDIATE")  # a sync in the middle of its transaction
        writer.db.execute("INSERT INTO records VALUES (?, 99, 12, 0, 0, 0, x'0500')", (DEV,))
        with Store(tmp_path / "s.db") as reader:
            assert reader.count(DEV) == 3 and len(reader.rows("episodes")) == 1
        writer.db.execute("ROLLBACK")


def test_damaged_and_unwritable_stores_are_one_clear_error(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"SQLite format 3\x00" + b"\xff" * 4000)
    with pytest.raises(StoreError, match="move it aside and sync again"):
        Store(bad)
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(StoreError, match="cannot create the folder"):
        Store(blocker / "sub" / "store.db")


def test_a_locked_store_is_one_clear_error_and_keeps_nothing_half(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as first:
        first.add(DEV, day_of_two_boots()[:2])
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another sync writing
    try:
        with Store(path, timeout=0.2) as store, \
                pytest.raises(StoreError, match=r"database is locked .*another sync running"):
            store.add(DEV, day_of_two_boots()[2:])
    finally:
        other.execute("ROLLBACK")
        other.close()
    with Store(path) as store:
        assert store.count(DEV) == 2 and len(store.rows("buzzes")) == 0
