"""``postureclip demo`` (the README's main command, `make demo`): the product end to end.

A simulated worker's week — five shifts on the five weekdays before today — goes through the
clip's own firmware: for each shift the whole app boots on the virtual clip's flash, the
"host" sets its clock, and the shift's IMU samples (a random wearer from
postureclip.simulate, as the LSM6DSOX delivers them) are replayed through the real sensing
pipeline in MicroPython faster than real time (firmware/sim/replay.py). The virtual clip then
runs on that flash, and the companion syncs its log over the virtual clip's Bluetooth link
into a fresh store, exactly as `postureclip sync` does, and shows `today`, `history` and the
week's HTML report, whose path it prints. The shifts' samples are cached in
``~/.cache/postureclip/demo`` (the same seeds give the same week), so later runs are quick.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import subprocess
import time
from concurrent.futures import ProcessPoolExecutor
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import numpy as np

from .client import CLIP_EPOCH
from .deploy import default_firmware_dir, micropython_command
from .errors import PostureclipError

CACHE = Path("~/.cache/postureclip/demo").expanduser()
SEED = 2026


def workweek(before: date) -> list[date]:
    """The five weekdays before ``before``, oldest first."""
    days: list[date] = []
    d = before
    while len(days) < 5:
        d -= timedelta(days=1)
        if d.weekday() < 5:
            days.append(d)
    return days[::-1]


def _shift_samples(args: tuple[int, float, str]) -> str:
    """Simulate one shift (cached); returns the path of its samples for the replay."""
    seed, hours, folder = args
    path = Path(folder) / f"shift-{seed}-{hours:g}h.bin"
    if not path.exists():
        from .simulate import clip_imu_samples

        rows, _ = clip_imu_samples(seed, hours)
        tmp = path.with_suffix(".tmp")
        rows.astype("<f4").tofile(tmp)
        tmp.rename(path)
    return str(path)


def _firmware() -> Path:
    firmware = default_firmware_dir()
    if not (firmware / "sim" / "replay.py").exists():
        raise PostureclipError(f"no firmware at {firmware}: run the demo from a clone of the "
                               "repository")
    return firmware


def run(args: argparse.Namespace) -> int:
    from . import daily, report
    from .cli import _local_tz, sync_summary
    from .client import Clip
    from .store import Store
    from .transport import SimTransport

    t_start = time.monotonic()
    firmware = _firmware()
    mp = micropython_command()
    CACHE.mkdir(parents=True, exist_ok=True)
    days = workweek(date.today())
    tz = _local_tz()
    print(f"postureclip demo: a worker's week ({days[0]:%a %d %b} to {days[-1]:%a %d %b}, "
          f"{args.hours:g} h shifts) through the clip's own firmware, synced over its "
          "Bluetooth link, shown as the worker sees it\n")
    jobs = [(SEED + i, args.hours, str(CACHE)) for i in range(len(days))]
    with ProcessPoolExecutor(min(len(jobs), os.cpu_count() or 2)) as pool:
        samples = list(pool.map(_shift_samples, jobs))
    print(f"1. simulated the shifts' IMU samples ({time.monotonic() - t_start:.0f} s; cached in "
          f"{CACHE})")

    flash = CACHE / "flash"
    shutil.rmtree(flash, ignore_errors=True)
    env = {**os.environ, "MICROPYPATH": f".frozen:{firmware}"}
    for day, path in zip(days, samples, strict=True):
        start = datetime(day.year, day.month, day.day, 8, 0, tzinfo=tz)
        wall_s = int((start.astimezone(UTC) - CLIP_EPOCH).total_seconds())
        done = subprocess.run([*mp, str(firmware / "sim" / "replay.py"), path, str(flash),
                               str(wall_s), "1.0"], capture_output=True, text=True, env=env)
        if done.returncode:
            raise PostureclipError(f"the firmware replay of {day} failed:\n{done.stderr[-800:]}")
    print(f"2. replayed them through the firmware in MicroPython, one boot a day, the clock "
          f"set at 08:00 ({time.monotonic() - t_start:.0f} s)")

    store_path = CACHE / "store.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{store_path}{suffix}").unlink(missing_ok=True)
    port = args.port
    clip = subprocess.Popen([*mp, str(firmware / "sim" / "run.py"), "--port", str(port),
                             "--flash", str(flash)], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True,
                            env={k: v for k, v in os.environ.items() if k != "MICROPYPATH"})
    try:
        assert clip.stdout is not None
        for line in clip.stdout:
            if line.startswith("postureclip on"):
                break
        else:
            raise PostureclipError("the virtual clip did not start")

        async def sync() -> tuple[int, int, float, str]:
            with Store(store_path) as store:
                async with Clip(lambda: SimTransport(port)) as c:
                    r = await c.sync(store)
                    return r.stored, await c.battery(), r.seconds, c.device

        stored, battery, seconds, device = asyncio.run(sync())
    finally:
        clip.terminate()
        clip.wait()
    with Store(store_path) as store:
        print("3. synced the virtual clip over its Bluetooth link, as `postureclip sync` "
              "does:\n")
        print(sync_summary(store, device, -1, stored, battery, seconds, store_path))
        last = daily.summarize(store, days[-1], tz)
        print(f"\n4. `postureclip today --date {days[-1]}`:\n")
        print(daily.format_day(last, daily.DEFAULT_GOAL_UPRIGHT_PCT))
        print("\n5. `postureclip history`:\n")
        week = [daily.summarize(store, d, tz) for d in days]
        print(daily.format_history(week, daily.DEFAULT_GOAL_UPRIGHT_PCT))
        out = CACHE / "week.html"
        report.write(store, days, tz, daily.DEFAULT_GOAL_UPRIGHT_PCT,
                     f"Posture and lifting, {days[0]:%d %b} to {days[-1]:%d %b %Y} (demo)",
                     out)
    upright = [d.upright_pct for d in week if d.upright_pct is not None]
    print(f"\n6. the week's report: {out}\n   (open it in a browser; the store is {store_path}: "
          f"try postureclip today --date {days[-1]} --store {store_path})")
    print(f"\nso how was this worker's posture this week? upright {np.mean(upright):.0f} % "
          "of the time sitting or standing on average (the goal is 80 %); done in "
          f"{time.monotonic() - t_start:.0f} s")
    return 0
