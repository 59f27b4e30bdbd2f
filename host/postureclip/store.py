"""The host's SQLite store of synced records: one row per (device, sequence), never two.

Durability rule (DESIGN.md): a batch of records is committed in one transaction (WAL,
synchronous=FULL) *before* the clip is told to forget them; inserting a record already stored
is a no-op, so a repeated transfer after any interruption cannot duplicate anything.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path

from .errors import StoreError
from .protocol import Record, RecordType

_SCHEMA = """
CREATE TABLE IF NOT EXISTS records (
    device TEXT NOT NULL,
    seq INTEGER NOT NULL,
    type INTEGER NOT NULL,
    time_s INTEGER NOT NULL,
    time_ms INTEGER NOT NULL,
    wall_clock INTEGER NOT NULL,
    payload BLOB NOT NULL,
    PRIMARY KEY (device, seq)
) WITHOUT ROWID;
"""


class Store:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(str(self.path), isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self.db.executescript(_SCHEMA)
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the store {self.path}: {e}") from None

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, device: str, records: Iterable[Record]) -> int:
        """Store a batch in one transaction; returns how many were new."""
        rows = [(device, r.seq, int(r.rtype), r.time_s, r.time_ms, int(r.wall_clock), r.payload)
                for r in records]
        try:
            self.db.execute("BEGIN IMMEDIATE")
            before = self.db.total_changes
            self.db.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                                rows)
            added = self.db.total_changes - before
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            self.db.execute("ROLLBACK") if self.db.in_transaction else None
            raise StoreError(f"cannot write to {self.path}: {e}") from None
        return added

    def last_seq(self, device: str) -> int:
        """Highest stored sequence of ``device``, -1 when none."""
        row = self.db.execute("SELECT MAX(seq) FROM records WHERE device = ?",
                              (device,)).fetchone()
        return -1 if row[0] is None else int(row[0])

    def count(self, device: str) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM records WHERE device = ?",
                                   (device,)).fetchone()[0])

    def seqs(self, device: str) -> list[int]:
        return [int(r[0]) for r in self.db.execute(
            "SELECT seq FROM records WHERE device = ? ORDER BY seq", (device,))]

    def records(self, device: str, types: Iterable[RecordType] | None = None
                ) -> Iterator[Record]:
        q = "SELECT type, seq, time_s, time_ms, wall_clock, payload FROM records WHERE device = ?"
        args: list[object] = [device]
        if types is not None:
            t = [int(x) for x in types]
            q += f" AND type IN ({','.join('?' * len(t))})"
            args += t
        for rtype, seq, ts, tms, wall, payload in self.db.execute(q + " ORDER BY seq", args):
            try:
                rt: RecordType | int = RecordType(rtype)
            except ValueError:
                rt = rtype
            yield Record(rt, seq, ts, tms, bool(wall), bytes(payload))
