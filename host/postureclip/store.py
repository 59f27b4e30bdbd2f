"""The host's SQLite store of synced records: one row per (device, sequence), never two, and
the decoded tables next to them (docs/store.md).

Durability rule (DESIGN.md): a batch of records is committed in one transaction (WAL,
synchronous=FULL) *before* the clip is told to forget them; inserting a record already stored
is a no-op, so a repeated transfer after any interruption cannot duplicate anything. The
decoded rows of a batch are written in the same transaction, so readers (which WAL lets run
while a sync writes) never see records without their meaning.

Schema versions (``PRAGMA user_version``): 1 = the raw ``records`` table alone (stores of
earlier releases, which left user_version at 0); 2 = with the decoded tables of
postureclip.history. An older store is upgraded when opened (its records decoded); a newer one
is refused with a message that says to update postureclip.
"""
from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from . import history
from .errors import StoreError
from .protocol import Record, RecordType

SCHEMA_VERSION = 4  # 3: the held and slips tables; 4: exercise_sets and breaks

_RECORDS = """
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
_META = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
"""
_RECORD_COLUMNS = ("device", "seq", "type", "time_s", "time_ms", "wall_clock", "payload")


def _decoded_schema() -> str:
    out = []
    for name, columns in history.TABLES.items():
        cols = ", ".join(f"{c} {'TEXT' if c == 'technique' else 'REAL'}" for c in columns)
        out.append(f"CREATE TABLE IF NOT EXISTS {name} (device TEXT NOT NULL, seq INTEGER NOT "
                   f"NULL, boot INTEGER NOT NULL, utc REAL, since_boot_s REAL, {cols});")
        out.append(f"CREATE INDEX IF NOT EXISTS {name}_by_time ON {name} (device, utc);")
        out.append(f"CREATE INDEX IF NOT EXISTS {name}_by_seq ON {name} (device, seq);")
    return "\n".join(out)


class Store:
    def __init__(self, path: str | Path, timeout: float = 10.0) -> None:
        """``timeout``: how long a write waits for another writer (a second sync) to finish."""
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise StoreError(f"cannot create the folder of the store {self.path}: "
                             f"{e.strerror or e}") from None
        try:
            self.db = sqlite3.connect(str(self.path), isolation_level=None, timeout=timeout)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=FULL")
            self._open_schema()
        except sqlite3.Error as e:
            raise StoreError(f"cannot open the store {self.path}: {e} (if the file is damaged, "
                             "move it aside and sync again: the clip keeps what was not "
                             "acknowledged)") from None

    def _open_schema(self) -> None:
        version = int(self.db.execute("PRAGMA user_version").fetchone()[0])
        tables = {r[0] for r in self.db.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table'")}
        if version > SCHEMA_VERSION:
            self.db.close()
            raise StoreError(f"the store {self.path} was written by a newer postureclip "
                             f"(schema {version}; this one knows {SCHEMA_VERSION}): update "
                             "postureclip")
        if "records" in tables:
            columns = tuple(r[1] for r in self.db.execute("PRAGMA table_info(records)"))
            if columns != _RECORD_COLUMNS:
                self.db.close()
                raise StoreError(f"{self.path} has a 'records' table that is not "
                                 "postureclip's: use another --store path")
        if version == SCHEMA_VERSION:
            return
        self.db.execute("BEGIN IMMEDIATE")
        try:
            self.db.execute(_RECORDS)
            self.db.execute(_META)
            for statement in _decoded_schema().split(";"):
                if statement.strip():
                    self.db.execute(statement)
            if version < 2:  # 1 -> 2: the decoded tables, from every record stored
                for (device,) in self.db.execute(
                        "SELECT DISTINCT device FROM records").fetchall():
                    self._decode(device, list(self._records(device, 0)))
            # 2 -> 3: the held and slips tables are new, and so are the records they hold
            # (no clip wrote HELD or SLIP before them): created empty above.
            # 3 -> 4: exercise_sets and breaks; a store of 3 may hold such records of a
            # newer clip, undecoded: decoded now, into those two tables alone
            if version == 3:
                for (device,) in self.db.execute(
                        "SELECT DISTINCT device FROM records").fetchall():
                    stored = list(self._records(device, 0))
                    if stored:
                        self._decode(device, stored, only=("exercise_sets", "breaks"))
            self.db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            self.db.execute("COMMIT")
        except BaseException:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise

    def meta(self, key: str) -> str | None:
        """A value the host keeps beside the records (the training plan), or None."""
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, key: str, value: str | None) -> None:
        """Keep ``value`` under ``key`` (None removes it); one statement, so atomic."""
        if value is None:
            self.db.execute("DELETE FROM meta WHERE key = ?", (key,))
        else:
            self.db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def add(self, device: str, records: Iterable[Record]) -> int:
        """Store a batch and its decoded rows in one transaction; returns how many were new."""
        batch = sorted({r.seq: r for r in records}.values(), key=lambda r: r.seq)
        rows = [(device, r.seq, int(r.rtype), r.time_s, r.time_ms, int(r.wall_clock), r.payload)
                for r in batch]
        try:
            self.db.execute("BEGIN IMMEDIATE")
            stored = set()
            if batch:
                stored = {int(x[0]) for x in self.db.execute(
                    "SELECT seq FROM records WHERE device = ? AND seq BETWEEN ? AND ?",
                    (device, batch[0].seq, batch[-1].seq))}
            new = [r for r in batch if r.seq not in stored]
            self.db.executemany("INSERT OR IGNORE INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                                rows)
            added = len(new)
            if new:
                self._decode(device, new)
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            hint = {"database is locked": " (is another sync running? wait for it)",
                    "database or disk is full": " (free some space and sync again: the clip "
                                                "keeps what was not stored)"}.get(str(e), "")
            raise StoreError(f"cannot write to {self.path}: {e}{hint}") from None
        return added

    def _decode(self, device: str, new: list[Record],
                only: tuple[str, ...] = tuple(history.TABLES)) -> None:
        """Write the decoded rows of ``new`` (records just stored, in sequence order); when
        they bring the TIME_SET that places a boot, give that boot's earlier rows their UTC
        time. Only the boot's BOOT and TIME_SET records are read back, so a sync of many
        small batches costs what its records cost. Inside the caller's transaction."""
        first = new[0].seq
        row = self.db.execute("SELECT MAX(seq) FROM records WHERE device = ? AND type = ? AND "
                              "seq < ?", (device, int(RecordType.BOOT), first)).fetchone()
        boot = -1 if row[0] is None else int(row[0])
        known = [r for r in self._records(device, max(boot, 0),
                                          (RecordType.BOOT, RecordType.TIME_SET))
                 if r.seq < first]
        placed_before = history.boot_offsets(known)
        offsets = history.boot_offsets(known + new)
        decoded = history.decode(device, new, boot, offsets)
        for name in only:
            marks = ", ".join("?" * (len(history.COMMON) + len(history.TABLES[name])))
            self.db.executemany(f"INSERT INTO {name} VALUES ({marks})", decoded.tables[name])
        for b, offset in offsets.items():
            if offset is not None and placed_before.get(b) is None:
                for name in history.TABLES:
                    self.db.execute(f"UPDATE {name} SET utc = ? + since_boot_s WHERE device = ? "
                                    "AND boot = ? AND utc IS NULL AND since_boot_s IS NOT NULL",
                                    (history.CLIP_EPOCH_UNIX + offset, device, b))

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

    def devices(self) -> list[str]:
        return [str(r[0]) for r in self.db.execute(
            "SELECT DISTINCT device FROM records ORDER BY device")]

    def records(self, device: str, types: Iterable[RecordType] | None = None
                ) -> Iterator[Record]:
        return self._records(device, 0, types)

    def _records(self, device: str, from_seq: int, types: Iterable[RecordType] | None = None
                 ) -> Iterator[Record]:
        q = ("SELECT type, seq, time_s, time_ms, wall_clock, payload FROM records "
             "WHERE device = ? AND seq >= ?")
        args: list[object] = [device, from_seq]
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

    def first_utc(self, table: str) -> float | None:
        """The earliest placed time (UNIX s) in a decoded table; None when none is placed."""
        if table not in history.TABLES:
            raise StoreError(f"no table {table!r}: one of {', '.join(history.TABLES)}")
        first = self.db.execute(f"SELECT MIN(utc) FROM {table}").fetchone()[0]
        return None if first is None else float(first)

    def rows(self, table: str, start_utc: float | None = None, end_utc: float | None = None,
             device: str | None = None, after_seq: int | None = None) -> list[dict[str, Any]]:
        """Rows of a decoded table (history.TABLES), oldest first; with a time range only
        placed rows (utc known) inside [start_utc, end_utc); with ``after_seq`` only rows
        from records after that sequence number."""
        if table not in history.TABLES:
            raise StoreError(f"no table {table!r}: one of {', '.join(history.TABLES)}")
        columns = (*history.COMMON, *history.TABLES[table])
        q = f"SELECT {', '.join(columns)} FROM {table} WHERE 1"
        args: list[object] = []
        if device is not None:
            q += " AND device = ?"
            args.append(device)
        if after_seq is not None:
            q += " AND seq > ?"
            args.append(after_seq)
        if start_utc is not None:
            q += " AND utc >= ?"
            args.append(start_utc)
        if end_utc is not None:
            q += " AND utc < ?"
            args.append(end_utc)
        q += " ORDER BY device, seq" if start_utc is None else " ORDER BY utc"
        return [dict(zip(columns, r, strict=True)) for r in self.db.execute(q, args)]
