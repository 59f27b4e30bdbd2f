"""bleak's real BlueZ backend, unmodified, against a fake org.bluez on a private dbus-daemon
bridged to the virtual clip: scan, connect, MTU, stream, control, sync, a clip-initiated
disconnect and the automatic reconnect (fresh scan, fresh BleakClient)."""
from __future__ import annotations

import asyncio
from pathlib import Path

from fakebluez import FakeBluez
from virtualclip import VirtualClip

from postureclip.client import Clip
from postureclip.protocol import Opcode, StreamKind
from postureclip.store import Store
from postureclip.transport import BleakTransport


async def test_bleak_through_fake_bluez(tmp_path: Path) -> None:
    clip = VirtualClip(tmp_path / "flash").start()
    fake = await FakeBluez(clip.port).start()
    try:
        found = await BleakTransport().scan(3.0)
        assert found and (found[0].name or "").startswith("postureclip-")
        async with Clip(BleakTransport, connect_timeout=5.0, backoff_s=0.2) as c:
            assert c.t is not None and c.t.mtu == 247
            info = await c.command(Opcode.GET_INFO)
            assert info.values[0] == 1
            assert 0 <= await c.battery() <= 100
            n = 0
            async for batch in c.stream(StreamKind.QUAT, 25):
                n += len(batch.samples)
                if n >= 20:
                    break
            with Store(tmp_path / "store.db") as store:
                first = await c.sync(store)
                assert first.stored >= 1 and store.seqs(c.device)[0] == 0
                # the clip drops the link; the client reconnects through a fresh scan
                assert fake.link is not None
                await fake.link.kick()
                await asyncio.sleep(0.2)
                await c.wait_connected(15)
                assert c.reconnects == 1
                await c.command(Opcode.SNOOZE, 3)
                second = await c.sync(store)
                assert second.stored >= 1
                seqs = store.seqs(c.device)
                assert seqs == list(range(len(seqs)))
    finally:
        await fake.stop()
        clip.stop()
