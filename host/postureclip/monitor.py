"""`postureclip monitor`: a live terminal view of the clip.

It first syncs quietly (so today's numbers and the latest calibration are in the store), then
streams the clip's fused orientation at 10 Hz and shows, once a second: the trunk angles
(flexion forward, lateral lean, in degrees from the calibrated upright posture, computed as the
clip computes them: firmware/clip/calibration.py), the posture now against `slouch_deg`, time
slouched today (the synced minutes plus what the monitor saw since), and the last buzz. The
client resumes the stream after a reconnect; Ctrl-C stops streaming and leaves.
"""
from __future__ import annotations

import asyncio
import math
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime, tzinfo
from typing import TextIO

import numpy as np

from . import daily
from .client import Clip
from .orientation import up_in_sensor
from .protocol import BuzzReason, Opcode, Record, RecordType, StreamKind, decode_payload
from .store import Store

RATE_HZ = 10


def neutral_from(store: Store, device: str) -> np.ndarray | None:
    """The sensor-to-trunk rotation (w, x, y, z) of the clip's latest calibration, if stored."""
    last = None
    for r in store.records(device, [RecordType.CALIBRATED]):
        last = r
    if last is None:
        return None
    return np.asarray(decode_payload(last.rtype, last.payload)["neutral_quat"], float)


def trunk_angles(q: np.ndarray, neutral: np.ndarray | None) -> tuple[float, float]:
    """(flexion, lateral) in degrees for one sensor-to-earth quaternion; without a neutral,
    the tilt of the sensor's +x axis (up the spine) from vertical, lateral 0."""
    u = up_in_sensor(q.reshape(1, 4))[0]
    if neutral is None:
        return math.degrees(math.acos(max(-1.0, min(1.0, u[0])))), 0.0
    w, x, y, z = neutral
    # t = R(neutral) u, the rotation of u by the neutral quaternion
    t = np.array([
        (1 - 2 * (y * y + z * z)) * u[0] + 2 * (x * y - w * z) * u[1] + 2 * (x * z + w * y) * u[2],
        2 * (x * y + w * z) * u[0] + (1 - 2 * (x * x + z * z)) * u[1] + 2 * (y * z - w * x) * u[2],
        2 * (x * z - w * y) * u[0] + 2 * (y * z + w * x) * u[1] + (1 - 2 * (x * x + y * y)) * u[2],
    ])
    return math.degrees(math.atan2(t[2], t[0])), -math.degrees(math.asin(max(-1, min(1, t[1]))))


@dataclass
class View:
    slouch_deg: float
    slouched_before_s: float  # today, from the store
    seen_slouched_s: float = 0.0
    flexion: float = 0.0
    lateral: float = 0.0
    slouched_for_s: float = 0.0
    last_buzz: str = "none yet"
    calibrated: bool = True

    def line(self, tz: tzinfo) -> str:
        now = datetime.now(tz).strftime("%H:%M:%S")
        posture = (f"slouched for {self.slouched_for_s:.0f} s" if self.slouched_for_s
                   else "upright")
        today = (self.slouched_before_s + self.seen_slouched_s) / 60
        angles = (f"flexion {self.flexion:+5.1f}°  lean {self.lateral:+5.1f}°"
                  if self.calibrated else f"tilt {self.flexion:5.1f}° (not calibrated)")
        return (f"{now}  {angles}  {posture:18s}  today slouched {today:4.0f} min  "
                f"last buzz {self.last_buzz}")


def on_record(view: View, rec: Record, tz: tzinfo) -> None:
    if rec.rtype is RecordType.BUZZ:
        v = decode_payload(rec.rtype, rec.payload)
        try:
            why = BuzzReason(v["reason"]).name.lower().replace("_", " ")
        except ValueError:
            why = "other"
        view.last_buzz = f"{datetime.now(tz):%H:%M} ({why})"


async def run(clip: Clip, store: Store, tz: tzinfo, seconds: float | None,
              out: TextIO = sys.stdout) -> int:
    await clip.sync(store)
    slouch_deg = (await clip.command(Opcode.GET_CONFIG, 1)).values[1]
    neutral = neutral_from(store, clip.device)
    today = daily.summarize(store, date.today(), tz, clip.device)
    view = View(float(slouch_deg), today.slouch_s, calibrated=neutral is not None)
    live = out.isatty()
    start = time.monotonic()
    last_shown = 0.0

    async def watch_events() -> None:
        async for rec in clip.events():
            on_record(view, rec, tz)

    watcher = asyncio.get_running_loop().create_task(watch_events())
    try:
        async for batch in clip.stream(StreamKind.QUAT, RATE_HZ):
            s = batch.samples
            q = np.array([s["qw"][-1], s["qx"][-1], s["qy"][-1], s["qz"][-1]])
            view.flexion, view.lateral = trunk_angles(q, neutral)
            dt = len(s) / RATE_HZ
            if view.calibrated and view.flexion > view.slouch_deg:
                view.slouched_for_s += dt
                view.seen_slouched_s += dt
            else:
                view.slouched_for_s = 0.0
            now = time.monotonic()
            if now - last_shown >= 1.0:
                last_shown = now
                print(("\r" if live else "") + view.line(tz), end="" if live else "\n",
                      file=out, flush=True)
            if seconds is not None and now - start >= seconds:
                break
    finally:
        watcher.cancel()
        if live:
            print(file=out)
    return 0
