"""Soak on the real Bluetooth stack, at the chip's word size: the whole app in the 32-bit NimBLE
build of MicroPython on a 200 KB heap (POSTURECLIP_SOAK_HEAP), connected to the library's client
on bumble: streaming quaternions at 50 Hz, a sync every 20 s, a test buzz every
15 s, for POSTURECLIP_SOAK_S seconds (default 600). No error; after collection the free heap
and the largest free block (what fragmentation eats first) stay flat."""
from __future__ import annotations

import asyncio
import contextlib
import os
import re
from pathlib import Path

import numpy as np

from postureclip.client import Clip
from postureclip.protocol import Opcode, Status, StreamKind
from postureclip.radio import Air
from postureclip.simulate import Wearer, default_day, simulate
from postureclip.store import Store

from .realclip import RealClip, central_on, transport_factory

SOAK_S = float(os.environ.get("POSTURECLIP_SOAK_S", "600"))
# 32-bit objects, as on the chip. 150 KB does not boot the clip from source (MemoryError
# opening the IMU: the lazy driver import compiles it; 66 KB free, fragmented): see the docs.
HEAPSIZE = os.environ.get("POSTURECLIP_SOAK_HEAP", "200K")
BLOCK = 16  # bytes per MicroPython heap block on a 32-bit build (4 words)


async def soak(air: Air, store: Store) -> dict[str, int]:
    central = await central_on(air)
    counts = {"syncs": 0, "records": 0, "stream_batches": 0, "buzz_tests": 0}
    async with Clip(transport_factory(central), command_timeout=10) as c:
        assert (await c.command(Opcode.SET_CONFIG, 3, 3)).status == Status.OK  # buzz after 3 s
        assert (await c.command(Opcode.SET_CONFIG, 5, 10)).status == Status.OK  # repeat 10 s
        assert (await c.command(Opcode.SET_CONFIG, 6, 60)).status == Status.OK  # cap 60/h
        assert (await c.command(Opcode.CALIBRATE, timeout=20)).status in (Status.OK,
                                                                         Status.MOVING)

        async def stream() -> None:
            async for _batch in c.stream(StreamKind.QUAT, 50):
                counts["stream_batches"] += 1

        streaming = asyncio.create_task(stream())
        loop = asyncio.get_running_loop()
        end = loop.time() + SOAK_S
        next_sync, next_buzz = loop.time() + 20, loop.time() + 7
        try:
            while loop.time() < end:
                await asyncio.sleep(0.5)
                assert not streaming.done(), streaming
                if loop.time() >= next_buzz:
                    next_buzz += 15
                    assert (await c.command(Opcode.BUZZ_TEST, 0)).status == Status.OK
                    counts["buzz_tests"] += 1
                if loop.time() >= next_sync:
                    next_sync += 20
                    report = await c.sync(store)
                    counts["records"] += report.stored
                    counts["syncs"] += 1
        finally:
            streaming.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await streaming
    return counts


def test_soak_on_the_real_stack_at_32_bits_heap_and_largest_block_flat(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    sim = simulate(default_day(rng, hours=SOAK_S / 3600 + 0.05), Wearer.random(rng, 100.0), rng)
    motion = tmp_path / "motion.csv"
    sim.write_csv(motion)

    async def run() -> tuple[dict[str, int], str]:
        air = Air(seed=5)
        clip = await RealClip(air, tmp_path, bits=32, heapsize=HEAPSIZE,
                              extra=["--motion", str(motion), "--mem-report", "5"]).start()
        try:
            with Store(tmp_path / "store.db") as store:
                counts = await soak(air, store)
        except BaseException:
            print(clip.text()[-5000:])  # the clip's side of a failure, in pytest's report
            raise
        finally:
            await clip.kill()
        return counts, clip.text()

    counts, out = asyncio.run(run())
    assert "Traceback" not in out and "MemoryError" not in out, out[-3000:]
    assert "IRQ handler error" not in out, out[-3000:]
    free = [int(m) for m in re.findall(r"mem_free (\d+)", out)]
    largest = [int(m) * BLOCK for m in re.findall(r"max free sz: (\d+)", out)]
    assert len(free) >= SOAK_S / 5 - 3 and len(largest) == len(free)
    third = len(free) // 3
    first, last = free[2:third], free[-third:]  # after start-up settles
    big_first, big_last = largest[2:third], largest[-third:]
    print(f"real-stack soak {SOAK_S:.0f} s, 32-bit, heap {HEAPSIZE}: {counts}; mem_free after "
          f"gc: first third min {min(first)}, last third min {min(last)}; largest free block: "
          f"first third min {min(big_first)}, last third min {min(big_last)} B")
    assert counts["syncs"] >= SOAK_S / 20 - 2 and counts["stream_batches"] > SOAK_S
    assert min(last) >= min(first) - 4096, (min(first), min(last))  # flat: no leak
    assert min(big_last) >= min(big_first) - 4096, (min(big_first), min(big_last))
