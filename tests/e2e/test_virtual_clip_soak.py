"""Soak: the whole app in the virtual clip with BLE connected, streaming, syncing and buzzing,
on a MicroPython heap of twice a realistic ESP32 budget, for POSTURECLIP_SOAK_S seconds
(default 600): no error, and gc.mem_free() after collection stays flat (no leak)."""
from __future__ import annotations

import asyncio
import os
import re
from pathlib import Path

import numpy as np
from test_virtual_clip_ble import Central
from virtualclip import VirtualClip

from postureclip.protocol import LOG_UUID, LogEnd, Opcode, Status, StreamKind, decode_log_frame
from postureclip.simlink import SimLink
from postureclip.simulate import Wearer, default_day, simulate

SOAK_S = float(os.environ.get("POSTURECLIP_SOAK_S", "600"))
# An ESP32-C3 running MicroPython has ~150 KB of heap for the app; objects here are 64-bit,
# about twice the size: 300 KB.
HEAPSIZE = "300K"


async def soak(clip: VirtualClip) -> dict[str, int]:
    link = await SimLink.open(port=clip.port)
    c = Central(link)
    await c.setup()
    await link.pair()
    assert (await c.command(Opcode.SET_CONFIG, 3, 3)).status == Status.OK  # buzz after 3 s
    assert (await c.command(Opcode.SET_CONFIG, 5, 10)).status == Status.OK  # repeat 10 s
    assert (await c.command(Opcode.SET_CONFIG, 6, 60)).status == Status.OK  # cap 60/h
    assert (await c.command(Opcode.CALIBRATE, timeout=20)).status in (Status.OK, Status.MOVING)
    assert (await c.command(Opcode.STREAM, StreamKind.QUAT, 50)).status == Status.OK
    counts = {"syncs": 0, "records": 0, "stream_frames": 0, "buzz_tests": 0}
    acked = -1
    loop = asyncio.get_running_loop()
    end = loop.time() + SOAK_S
    next_sync = loop.time() + 20
    next_buzz = loop.time() + 7
    while loop.time() < end:
        try:
            h, _ = await asyncio.wait_for(link.notifications.get(), 1.0)
            if h == c.h["7e5a0002-3c2d-4b8f-a1e6-1f0c9a2b6d40"]:
                counts["stream_frames"] += 1
        except TimeoutError:
            pass
        if loop.time() >= next_buzz:
            next_buzz += 15
            assert (await c.command(Opcode.BUZZ_TEST, 0)).status == Status.OK
            counts["buzz_tests"] += 1
        if loop.time() >= next_sync:
            next_sync += 20
            reply = await c.command(Opcode.LOG_SEND, acked + 1, 0)
            assert reply.status == Status.OK, reply
            while True:
                frame = decode_log_frame(await c.next_on(LOG_UUID, timeout=30))
                if isinstance(frame, LogEnd):
                    break
                counts["records"] += len(frame.records)
                acked = max(acked, *(r.seq for r in frame.records))
            assert (await c.command(Opcode.LOG_ACK, acked)).status == Status.OK
            counts["syncs"] += 1
            c.other.clear()
    await link.close()
    return counts


def test_soak_streaming_syncing_buzzing_memory_flat(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    sim = simulate(default_day(rng, hours=SOAK_S / 3600 + 0.05), Wearer.random(rng, 100.0), rng)
    motion = tmp_path / "motion.csv"
    sim.write_csv(motion)
    clip = VirtualClip(tmp_path / "flash", motion=motion, heapsize=HEAPSIZE,
                       mem_report_s=5).start()
    try:
        counts = asyncio.run(soak(clip))
    except BaseException:
        print(clip.stop()[-5000:])  # the clip's side of the failure, in pytest's report
        raise
    out = clip.stop()
    assert "Traceback" not in out and "MemoryError" not in out, out[-3000:]
    free = [int(m) for m in re.findall(r"mem_free (\d+)", out)]
    assert len(free) >= SOAK_S / 5 - 3
    third = len(free) // 3
    first, last = free[2:third], free[-third:]  # after start-up settles
    print(f"soak {SOAK_S:.0f} s: {counts}; mem_free after gc: first third min {min(first)}, "
          f"last third min {min(last)}, overall min {min(free)} of heap {HEAPSIZE}")
    assert counts["syncs"] >= SOAK_S / 20 - 2 and counts["stream_frames"] > SOAK_S
    assert min(last) >= min(first) - 4096, (min(first), min(last))  # flat: no leak
