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


def _bonds(flash: Path) -> dict[str, str]:
    import json

    return dict(json.loads((flash / "bonds.json").read_text()))


def test_identity_key_from_the_first_boot_survives_restarts(tmp_path: Path) -> None:
    # the IRQ handler is installed before active(True): the first activation already asks
    # for the clip's identity key (secret type 10) and the clip stores it; later boots read
    # it back instead of making a new identity
    async def scenario() -> None:
        air = Air(seed=2)
        clip = await RealClip(air, tmp_path).start()
        try:
            await asyncio.sleep(1.5)  # the task writes the flash after the IRQ
            first = {k: v for k, v in _bonds(clip.flash).items() if k.startswith("10:")}
            assert len(first) == 1, _bonds(clip.flash)
            for _ in range(2):
                await clip.restart()
                await asyncio.sleep(1.0)
                again = {k: v for k, v in _bonds(clip.flash).items() if k.startswith("10:")}
                assert again == first
        finally:
            await clip.kill()

    asyncio.run(scenario())


def test_a_central_that_forgot_the_clip_pairs_again_and_a_new_central_bonds_too(
        tmp_path: Path) -> None:
    # A laptop that forgot the clip pairs again: NimBLE deletes the old bond in a loop that
    # runs while the app says a delete succeeded; it used to spin forever (a hang and flash
    # wear). A second central (another address) bonds beside the first.
    async def scenario() -> None:
        air = Air(seed=3)
        clip = await RealClip(air, tmp_path).start()
        try:
            laptop = await central_on(air)
            async with Clip(transport_factory(laptop)) as c:
                await c.command(Opcode.GET_STATUS)
            bonds_before = _bonds(clip.flash)
            await laptop.forget()
            await asyncio.sleep(0.5)
            async with Clip(transport_factory(laptop), connect_timeout=10) as c:
                await asyncio.wait_for(c.command(Opcode.GET_STATUS), 10)
            await asyncio.sleep(0.5)
            bonds_after = _bonds(clip.flash)
            # the same central, new keys: its entries were replaced, not added
            assert len(bonds_after) == len(bonds_before)
            assert bonds_after != bonds_before
            phone = await central_on(air, address="F0:00:00:00:00:02")
            async with Clip(transport_factory(phone)) as c:
                await c.command(Opcode.GET_STATUS)
            await asyncio.sleep(0.5)
            assert len(_bonds(clip.flash)) > len(bonds_after)
            async with Clip(transport_factory(laptop)) as c:  # the first still re-encrypts
                await c.command(Opcode.GET_STATUS)
            assert "Traceback" not in clip.text(), clip.text()
        finally:
            await clip.kill()

    asyncio.run(scenario())


def test_a_central_that_rotates_its_address_reconnects_on_its_bond(tmp_path: Path) -> None:
    # Phones and laptops connect from resolvable private addresses that change every few
    # minutes. The clip gets the central's identity key when they bond; a later connection
    # from a new address must re-encrypt on the same bond - no new pairing, no second bond.
    async def scenario() -> None:
        air = Air(seed=4)
        clip = await RealClip(air, tmp_path).start()
        try:
            laptop = await central_on(air, privacy=True)
            first = str(laptop.device.random_address)
            async with Clip(transport_factory(laptop)) as c:
                await c.command(Opcode.GET_STATUS)
            await asyncio.sleep(0.5)
            bonds = _bonds(clip.flash)
            for _ in range(3):
                address = await laptop.rotate_address()
                assert address != first
                t = transport_factory(laptop)()
                found = await t.scan(10)
                await t.connect(found[0], 10, lambda: None)
                await t.pair()  # encrypts with the stored keys
                assert t.connection is not None and t.connection.is_encrypted
                await t.write(CONTROL_UUID, encode_command(Opcode.GET_STATUS, 9))
                await t.disconnect()
                await asyncio.sleep(0.5)
                assert _bonds(clip.flash) == bonds  # the same bond: nothing added
            assert "Traceback" not in clip.text(), clip.text()
        finally:
            await clip.kill()

    asyncio.run(scenario())
