"""The library's client and sync against the virtual clip through SimTransport."""
from __future__ import annotations

import asyncio
from pathlib import Path

from virtualclip import VirtualClip

from postureclip.client import Clip, SyncProgress
from postureclip.protocol import Opcode, RecordType, StreamKind
from postureclip.store import Store
from postureclip.transport import SimTransport


async def session(port: int, store: Store) -> tuple[int, list[SyncProgress], int, dict[str, str]]:
    progress: list[SyncProgress] = []
    async with Clip(lambda: SimTransport(port)) as clip:
        assert clip.found is not None and clip.found.battery is not None  # from advertising
        info = await clip.device_info()
        await clip.command(Opcode.BUZZ_TEST, 2)
        n = 0
        async for batch in clip.stream(StreamKind.RAW, 50):
            n += len(batch.samples)
            if n >= 100:
                break
        report = await clip.sync(store, progress.append)
        battery = await clip.battery()
        again = await clip.sync(store)
    assert again.stored == 0  # nothing twice
    return report.stored, progress, battery, info


def test_client_streams_and_syncs_into_the_store(tmp_path: Path) -> None:
    clip = VirtualClip(tmp_path / "flash").start()
    try:
        with Store(tmp_path / "store.db") as store:
            stored, progress, battery, info = asyncio.run(session(clip.port, store))
            device = info["serial"]
            seqs = store.seqs(device)
            types = {r.rtype for r in store.records(device)}
    finally:
        clip.stop()
    assert stored == len(seqs) and seqs == list(range(len(seqs)))
    assert RecordType.BOOT in types and RecordType.BUZZ in types
    assert progress and progress[-1].records == stored
    assert 0 <= battery <= 100 and info["firmware"] == "0.1.0"


def test_every_connection_sets_the_clips_clock(tmp_path: Path) -> None:
    # issue 16: without SET_TIME every record was "seconds since boot"
    from datetime import UTC, datetime

    from postureclip.client import CLIP_EPOCH
    from postureclip.protocol import StateBit

    async def scenario(port: int, store: Store) -> tuple[int, str]:
        async with Clip(lambda: SimTransport(port)) as clip:
            status = await clip.command(Opcode.GET_STATUS)
            await clip.command(Opcode.SNOOZE, 5)  # a record made after the clock was set
            await clip.command(Opcode.BUZZ_TEST, 1)
            await clip.sync(store)
            return status.values[2], clip.device

    clip = VirtualClip(tmp_path / "flash").start()
    try:
        with Store(tmp_path / "store.db") as store:
            bits, device = asyncio.run(scenario(clip.port, store))
            records = list(store.records(device))
            buzzes = store.rows("buzzes", device=device)
    finally:
        clip.stop()
    assert bits & StateBit.WALL_CLOCK
    time_set = [r for r in records if r.rtype is RecordType.TIME_SET]
    snooze = [r for r in records if r.rtype is RecordType.SNOOZE]
    assert time_set and time_set[-1].wall_clock and snooze[-1].wall_clock
    now = (datetime.now(UTC) - CLIP_EPOCH).total_seconds()
    assert abs(snooze[-1].time - now) < 60, (snooze[-1].time, now)
    # the decoded table places it (and the boot's records before the clock was set) in UTC
    assert buzzes and abs(buzzes[-1]["utc"] - datetime.now(UTC).timestamp()) < 60


def test_a_sync_that_cannot_complete_raises_and_keeps_what_was_stored(tmp_path: Path) -> None:
    # issue 16: Clip.sync returned an ordinary report after 50 failed attempts, even for an
    # error no retry fixes (MTU too small), and `postureclip sync` exited 0
    import pytest

    from postureclip.errors import SyncIncomplete

    devices: list[str] = []

    async def scenario(port: int, store: Store) -> None:
        async with Clip(lambda: SimTransport(port, want_mtu=100)) as clip:
            devices.append(clip.device)
            await clip.sync(store)

    clip = VirtualClip(tmp_path / "flash").start()
    try:
        with Store(tmp_path / "store.db") as store:
            with pytest.raises(SyncIncomplete, match="MTU"):
                asyncio.run(asyncio.wait_for(scenario(clip.port, store), 30))
            assert devices and store.count(devices[0]) == 0  # refused at once: nothing sent
    finally:
        clip.stop()
