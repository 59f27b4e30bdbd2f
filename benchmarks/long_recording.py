"""`postureclip analyze`, the whole command, on recordings of 1 h, 8 h and a week: time and
peak memory measured from outside (a fresh process each run, its own rusage), and the chunked
analysis compared with the one-piece one on the 8-hour recording.

    python benchmarks/long_recording.py [--runs 3] [--cache DIR] [--week-days 7]

The week is continuous, as a research logger records it: 4-hour simulated wearers at 50 Hz
(six of them, postureclip.simulate) one after another, each next one starting one sample
after the last, cycled to fill the span. The files are written once to ``--cache`` and
reused (the week is about 2 GB).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from postureclip.simulate import Wearer, default_day, simulate

RATE = 50.0
TILE_H = 4.0
TILES = 6
CLI = [str(Path(sys.executable).parent / "postureclip")]


def tile(args: tuple[Path, int]) -> Path:
    folder, seed = args
    path = folder / f"tile{seed}.npy"
    if not path.exists():
        rng = np.random.default_rng(1000 + seed)
        sim = simulate(default_day(rng, hours=TILE_H), Wearer.random(rng, rate_hz=RATE), rng)
        np.save(path, np.column_stack([sim.t, sim.acc, sim.gyr]))
    return path


def write_csv(path: Path, parts: list[np.ndarray]) -> None:
    """Rows in the simulator's format (t to 0.1 ms, the rest to 5 decimals)."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    tmp = path.with_suffix(".part")
    with open(tmp, "wb") as fh:
        fh.write(b"t,ax,ay,az,gx,gy,gz\n")
        for data in parts:
            cols = {"t": np.round(data[:, 0], 4)}
            for i, name in enumerate(("ax", "ay", "az", "gx", "gy", "gz"), start=1):
                cols[name] = np.round(data[:, i], 5)
            pacsv.write_csv(pa.table(cols), fh, pacsv.WriteOptions(include_header=False))
    tmp.rename(path)


def recording(folder: Path, hours: float) -> Path:
    """``hours`` of tiles back to back (written once)."""
    path = folder / f"continuous-{hours:g}h.csv"
    if path.exists():
        return path
    with ProcessPoolExecutor(2) as pool:
        tiles = list(pool.map(tile, [(folder, k) for k in range(TILES)]))
    start = 0.0
    parts = []
    k = 0
    left = hours * 3600.0
    while left > 0:
        data = np.load(tiles[k % TILES])
        data = data[data[:, 0] <= left]
        data[:, 0] += start - data[0, 0]
        parts.append(data)
        start = float(data[-1, 0]) + 1.0 / RATE
        left -= float(data[-1, 0] - data[0, 0]) + 1.0 / RATE
        k += 1
    write_csv(path, parts)
    return path


def measured(path: Path, runs: int,
             extra: list[str] | None = None) -> tuple[list[float], float, dict]:
    """Wall times (sorted) and the largest peak RSS over ``runs`` fresh commands."""
    walls, peaks, out = [], [], ""
    for _ in range(runs):
        wall, peak, out = timed_command([*CLI, "analyze", str(path), "--format", "json",
                                         *(extra or [])])
        walls.append(wall)
        peaks.append(peak)
    return sorted(walls), max(peaks), json.loads(out)


def timed_command(args: list[str]) -> tuple[float, float, str]:
    """(wall s, peak RSS MB, stdout) of one fresh process, measured by the kernel for it."""
    t0 = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        proc = subprocess.Popen(args, stdout=out, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        if status:
            err.seek(0)
            raise SystemExit(f"{' '.join(args)} failed: {err.read().decode()}")
        out.seek(0)
        return wall, usage.ru_maxrss / 1024, out.read().decode()


def differences(a: dict, b: dict, path: str = "") -> list[str]:
    """Where two analyze JSONs differ (lists by length, then item by item)."""
    if isinstance(a, dict):
        return [d for k in a for d in differences(a[k], b.get(k), f"{path}.{k}")]
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return [f"{path}: {len(a)} against {len(b) if isinstance(b, list) else b}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in differences(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: {a} against {b}"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=7)
    ap.add_argument("--week-runs", type=int, default=1)
    ap.add_argument("--week-days", type=float, default=7.0)
    ap.add_argument("--cache", default=str(Path(tempfile.gettempdir()) / "postureclip-long"))
    args = ap.parse_args()
    folder = Path(args.cache)
    folder.mkdir(parents=True, exist_ok=True)
    spans = (1.0, 8.0, 24.0 * args.week_days)
    # made in a worker process: a command forked from a parent that held a week of samples
    # would count the parent's pages in its peak
    with ProcessPoolExecutor(1) as pool:
        paths = dict(zip(spans, pool.map(recording, [folder] * 3, spans), strict=True))
    for hours in spans:
        path = paths[hours]
        walls, peak, out = measured(path, args.runs if hours <= 10 else args.week_runs)
        wall = float(np.median(walls))
        mode = "in one piece" if hours <= 10 else "in 4-hour chunks"
        print(f"{hours:g} h at 50 Hz ({path.stat().st_size / 1e6:,.0f} MB, {mode}): median "
              f"{wall:.2f} s = {hours * 3600 / wall:,.0f}x real time (fastest {walls[0]:.2f} s ="
              f" {hours * 3600 / walls[0]:,.0f}x; all: {', '.join(f'{w:.2f}' for w in walls)}),"
              f" peak RSS {peak:.0f} MB; "
              f"{out['lift_count']} lifts, {len(out['slouch_episodes'])} slouch episodes, "
              f"{len(out['slips'])} slips", flush=True)
        if hours == 8.0:
            walls_c, peak_c, chunked = measured(path, 1, ["--chunk-hours", "2"])
            diff = differences(out, chunked)
            print(f"  the same in 2-hour chunks: {walls_c[0]:.2f} s, peak RSS {peak_c:.0f} MB; "
                  f"{'the same JSON' if not diff else f'{len(diff)} differences:'}", flush=True)
            for d in diff[:20]:
                print("   ", d)


if __name__ == "__main__":
    main()
