"""Sync throughput: a full 7-workday log from the virtual clip into the SQLite store.

    python benchmarks/sync_rate.py [--days 7]

Builds the clip's flash as 7 workdays of 8 h leave it (a 1 Hz angle trace in 99-sample TRACE
records, a SUMMARY a minute, ~25 events an hour), starts the virtual clip (the real firmware
in MicroPython) on it and times `postureclip.client.Clip.sync` through SimTransport. The
virtual radio models a good link: a connection event every 15 ms carrying up to 3
notifications of up to MTU 247 (firmware/sim/bluetooth.py); the firmware spaces its
notifications by at least 8 ms.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "e2e"))
from virtualclip import VirtualClip

from postureclip.client import Clip
from postureclip.protocol import RecordType, encode_record
from postureclip.store import Store
from postureclip.transport import SimTransport

SEG_BYTES = 8192


def workday_records(days: int, rng: np.random.Generator) -> list[bytes]:
    recs: list[bytes] = []
    t = 848_000_000
    seq = 0

    def add(rtype: RecordType, payload: bytes) -> None:
        nonlocal seq
        recs.append(encode_record(rtype, seq, t, 0, 1, payload))
        seq += 1

    traced = 0
    for _ in range(days):
        for _minute in range(8 * 60):
            t += 60
            add(RecordType.SUMMARY, bytes([60, 0, 40, 0, 15, 0, 5, 0, 0, 0, 0]))
            for _ in range(int(rng.poisson(25 / 60))):
                add(RecordType.BUZZ, bytes([0, 1]))
            traced += 60
            while traced >= 99:  # 99 one-second angle pairs per TRACE record
                traced -= 99
                pairs = rng.integers(-30, 60, 198).astype(np.int8).tobytes()
                add(RecordType.TRACE, bytes([1]) + pairs)
        t += 16 * 3600
    return recs


def build_flash(flash: Path, recs: list[bytes]) -> int:
    log = flash / "log"
    log.mkdir(parents=True)
    segs: list[tuple[int, list[bytes]]] = []
    size = SEG_BYTES
    for i, r in enumerate(recs):
        if size + len(r) > SEG_BYTES:
            segs.append((i, []))
            size = 0
        segs[-1][1].append(r)
        size += len(r)
    closed = {}
    for first, rs in segs:
        (log / f"{first:08x}.seg").write_bytes(b"".join(rs))
        closed[str(first)] = [first + len(rs) - 1, len(rs)]
    del closed[str(segs[-1][0])]
    (log / "state.json").write_text(json.dumps({"next": len(recs), "acked": -1, "dropped": 0,
                                                "closed": closed}))
    (flash / "board.txt").write_text("xiao_esp32c3")
    return sum(len(r) for r in recs)


async def sync(port: int, db: Path) -> tuple[float, int]:
    async with Clip(lambda: SimTransport(port)) as clip:
        with Store(db) as store:
            t0 = time.perf_counter()
            report = await clip.sync(store)
            return time.perf_counter() - t0, report.stored


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--days", type=int, default=7)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        recs = workday_records(args.days, np.random.default_rng(7))
        nbytes = build_flash(Path(tmp) / "flash", recs)
        clip = VirtualClip(Path(tmp) / "flash").start()
        try:
            seconds, stored = asyncio.run(sync(clip.port, Path(tmp) / "store.db"))
        finally:
            clip.stop()
    print(f"{args.days} workdays: {len(recs)} records, {nbytes / 1024:.0f} KiB on flash; "
          f"synced {stored} records in {seconds:.1f} s = {nbytes / 1024 / seconds:.1f} KiB/s "
          f"({len(recs) / seconds:.0f} records/s)")


if __name__ == "__main__":
    main()
