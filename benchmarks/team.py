"""The team report over shared worker-days: time and peak memory of the whole
`postureclip team report` command at two sizes (does it grow linearly?).

    python benchmarks/team.py [--worker-days 1000] [--days 20]

Each simulated worker's store gets ``--days`` work days (4 to 8 h recorded, slouches, 5 to 40
lifts a day, stooped more on some tasks), is shared with `postureclip.share` under a shift
and a task, and the report is made by the command in a fresh process.
"""
from __future__ import annotations

import argparse
import random
import resource
import shutil
import struct
import subprocess
import sys
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from postureclip import share
from postureclip.history import CLIP_EPOCH_UNIX
from postureclip.plan import Plan
from postureclip.protocol import Record, RecordType
from postureclip.store import Store

START = date(2026, 9, 7)  # a Monday
SHIFTS = ("early", "late", "night")
TASKS = ("picking", "packing", "loading")


def clip_seconds(day: date, hour: float) -> int:
    t = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + hour * 3600
    return int(t - CLIP_EPOCH_UNIX)


def worker(path: Path, seed: int, days: int) -> Store:
    rng = random.Random(seed)
    store = Store(path)
    records = []
    task = TASKS[seed % len(TASKS)]
    stoop = {"picking": 0.5, "packing": 0.2, "loading": 0.4}[task]
    seq = 0
    for k in range(days):
        day = START + timedelta(days=k + 2 * (k // 5))  # Monday to Friday
        for i in range(rng.randint(240, 480)):
            slouch = rng.choice((0, 0, 0, 0, 12, 30, 60))
            records.append(Record(RecordType.SUMMARY, seq, clip_seconds(day, 7) + 60 * i, 0,
                                  True, struct.pack("<HHHHBBB", 60, 60 - slouch, slouch, 0, 0,
                                                    0, 0)))
            seq += 1
        for j in range(rng.randint(5, 40)):
            bent = rng.random() < stoop
            records.append(Record(RecordType.LIFT, seq, clip_seconds(day, 8) + 300 * j, 0, True,
                                  struct.pack("<HhhhBB", rng.randint(1200, 5000),
                                              rng.randint(450, 900) if bent else
                                              rng.randint(100, 400), 60 if bent else 450, 0,
                                              2 if bent else 1, int(rng.random() < 0.2))))
            seq += 1
    store.add(f"246f28{seed:06x}", records)
    return store


def shared(folder: Path, workdir: Path, worker_days: int, days: int) -> float:
    t0 = time.perf_counter()
    plan = Plan(started=START.isoformat(), log=[((START + timedelta(days=2)).isoformat(),
                                                 "baseline done")])
    end = START + timedelta(days=days * 7 // 5 + 7)
    for seed in range(worker_days // days):
        with worker(workdir / f"w{seed}.db", seed, days) as store:
            share.share(store, folder, None, end, UTC, shift=SHIFTS[seed % len(SHIFTS)],
                        task=TASKS[seed % len(TASKS)], plan=plan)
    return time.perf_counter() - t0


def report(folder: Path, out: Path) -> tuple[float, float]:
    """(wall s, peak resident MB) of the command in a fresh process."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    t0 = time.perf_counter()
    subprocess.run([sys.executable, "-m", "postureclip.cli", "team", "report", str(folder),
                    "--by", "task", "--out", str(out)], check=True, capture_output=True)
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return wall, max(peak, before) / 1024


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker-days", type=int, default=1000)
    ap.add_argument("--days", type=int, default=20)
    args = ap.parse_args()
    rows = []
    for size in (args.worker_days, 4 * args.worker_days):
        work = Path(tempfile.mkdtemp(prefix="team-bench-"))
        try:
            made = shared(work / "team", work, size, args.days)
            n = len(list((work / "team" / "days").glob("*/*/*.parquet")))
            wall, mb = report(work / "team", work / "team.html")
            rows.append((n, wall, mb))
            print(f"{n} shared worker-days ({n // args.days} workers; shared in {made:.0f} s): "
                  f"team report {wall:.2f} s, peak {mb:.0f} MB", flush=True)
        finally:
            shutil.rmtree(work)
    (n1, w1, _), (n2, w2, _) = rows
    print(f"{n2 / n1:.0f}x the worker-days took {w2 / w1:.2f}x the time")


if __name__ == "__main__":
    main()
