"""analyze-batch on a local Dask cluster: throughput with one and with two worker processes
(in one run, so the ratio compares like with like), cost per recording-hour, and how the time
grows with the number of recordings.

    python benchmarks/batch.py [--recordings 50] [--hours 1.0] [--cache DIR]

The recordings are simulated wearers at 50 Hz (postureclip.simulate), written once to
``--cache`` and reused.
"""
from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np
from distributed import Client, LocalCluster

from postureclip import batch
from postureclip.simulate import Wearer, default_day, simulate


def recordings(folder: Path, n: int, hours: float) -> list[str]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for seed in range(n):
        path = folder / f"wearer{seed:03d}-{hours:g}h.csv"
        if not path.exists():
            rng = np.random.default_rng(seed)
            simulate(default_day(rng, hours=hours), Wearer.random(rng, rate_hz=50.0),
                     rng).write_csv(path)
        paths.append(str(path))
    return paths


def timed(paths: list[str], workers: int) -> tuple[float, float, float]:
    """(wall s, worker s summed, recording h) of one batch into a fresh dataset."""
    out = Path(tempfile.mkdtemp(prefix="batch-bench-"))
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          dashboard_address=None) as cluster, Client(cluster) as client:
            client.run(lambda: __import__("postureclip.analysis"))  # imports before the clock
            result = batch.run(paths, out, client)
        assert result.count("done") == len(paths), [o for o in result.outcomes
                                                     if o.status != "done"]
        return (result.seconds, sum(o.seconds for o in result.outcomes),
                sum(o.hours for o in result.outcomes))
    finally:
        shutil.rmtree(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--recordings", type=int, default=50)
    ap.add_argument("--hours", type=float, default=1.0)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "postureclip-batch"))
    args = ap.parse_args()
    t0 = time.perf_counter()
    paths = recordings(Path(args.cache), args.recordings, args.hours)
    print(f"{len(paths)} recordings of {args.hours:g} h at 50 Hz ready "
          f"({time.perf_counter() - t0:.0f} s)")
    half = paths[:len(paths) // 2]
    rows = []
    for workers in (1, 2):
        for subset in (half, paths):
            wall, busy, hours = timed(subset, workers)
            rows.append((workers, len(subset), wall, busy, hours))
            print(f"{workers} worker(s), {len(subset)} recordings ({hours:.1f} h): {wall:.1f} s "
                  f"wall, {hours * 3600 / wall:,.0f}x real time, "
                  f"{busy / hours:.2f} worker-s per recording-hour", flush=True)
    one = next(r for r in rows if r[0] == 1 and r[1] == len(paths))
    two = next(r for r in rows if r[0] == 2 and r[1] == len(paths))
    print(f"two workers against one on {len(paths)} recordings: {one[2] / two[2]:.2f}x "
          "the throughput")
    for workers in (1, 2):
        a = next(r for r in rows if r[0] == workers and r[1] == len(half))
        b = next(r for r in rows if r[0] == workers and r[1] == len(paths))
        print(f"{workers} worker(s): {len(paths)} recordings took {b[2] / a[2]:.2f}x the time "
              f"of {len(half)} (linear: {len(paths) / len(half):.2f}x)")


if __name__ == "__main__":
    main()
