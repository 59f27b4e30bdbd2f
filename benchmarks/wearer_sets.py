"""Sets of simulated wearers run side by side: the shared frame of benchmarks/coaching.py and
benchmarks/exercise.py (each job a (kind, seed, hours) triple, each result a dict with "kind",
"hours" and "imu")."""
from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any

Result = dict[str, Any]


def parse(description: str, kinds: list[str], wearers: int) -> argparse.Namespace:
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--wearers", type=int, default=wearers)
    ap.add_argument("--hours", type=float, default=8.0)
    ap.add_argument("--only", choices=kinds)
    return ap.parse_args()


def run(one: Callable[[tuple[str, int, float]], Result], kinds: list[str], wearers: int,
        hours: float, seed0: int) -> dict[str, list[Result]]:
    """``one`` on ``wearers`` seeds of each kind, on every core; results by kind, each
    announced with a heading line."""
    jobs = [(k, seed0 + 100 * i + n, hours) for i, k in enumerate(kinds)
            for n in range(wearers)]
    with ProcessPoolExecutor(max_workers=os.cpu_count() or 2) as pool:
        results = list(pool.map(one, jobs))
    return {k: [r for r in results if r["kind"] == k] for k in kinds}


def heading(kind: str, rs: list[Result]) -> float:
    """Print the set's heading; return its hours."""
    hours = float(sum(r["hours"] for r in rs))
    print(f"== {kind}: {len(rs)} wearers, {hours:.1f} h "
          f"({sum(r['imu'] == 'MPU-6050' for r in rs)} with an MPU-6050)")
    return hours
