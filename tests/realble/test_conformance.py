"""Conformance: the virtual clip on the real stack, exercised through docs/protocol.md's words
only (tests/realble/doccentral.py): the GATT table, what an unpaired central can and cannot
reach, every opcode with good, bad and boundary arguments, every setting at both ends and
beyond, the MTU minimums from 23 to 247 for every stream mode and the log, future and past
acks, and after each request its side effects (settings, log, sensing still alive)."""
from __future__ import annotations

import asyncio
import re
import struct
from pathlib import Path
from typing import Any
from uuid import UUID as PyUUID

from postureclip.bumble_transport import Central
from postureclip.protocol import (
    BATTERY_LEVEL_UUID,
    CONTROL_UUID,
    EVENTS_UUID,
    LOG_UUID,
    RESET_MAGIC,
    SERVICE_UUID,
    STREAM_UUID,
    ImuKind,
    LogFrameKind,
    Opcode,
    RecordType,
    StateBit,
    Status,
    StreamKind,
)
from postureclip.radio import Air

from .doccentral import (
    ATT_INSUFFICIENT_AUTHENTICATION,
    ATT_READ_NOT_PERMITTED,
    ATT_WRITE_NOT_PERMITTED,
    DocCentral,
)
from .realclip import CLIP_ADDRESS, RealClip, central_on

# docs/protocol.md, "Settings": key -> (name, default, lowest, highest)
SETTINGS = {1: ("slouch_deg", 20, 5, 45), 2: ("lean_deg", 15, 5, 45),
            3: ("slouch_delay_s", 30, 3, 600), 4: ("hysteresis_deg", 3, 1, 10),
            5: ("repeat_s", 60, 10, 3600), 6: ("max_buzz_per_hour", 6, 0, 60),
            7: ("exposure_mode", 0, 0, 1), 8: ("exposure_window_s", 1800, 60, 14400),
            9: ("exposure_limit_s", 300, 10, 14400), 10: ("intensity_pct", 80, 10, 100),
            11: ("lift_coach", 1, 0, 1), 12: ("twist_deg", 30, 15, 90),
            13: ("require_encryption", 1, 0, 1), 14: ("trace_interval_s", 1, 1, 60),
            15: ("lean_buzz", 0, 0, 1), 16: ("quiet_start_min", 0, 0, 1439),
            17: ("quiet_end_min", 0, 0, 1439), 18: ("utc_offset_min", 0, -720, 840),
            19: ("coach_phase", 1, 0, 1), 20: ("positive_tick", 0, 0, 1),
            21: ("move_after_min", 30, 0, 240), 22: ("exercise_cues", 1, 0, 1),
            23: ("hold_target_s", 0, 0, 600), 24: ("rep_target", 0, 0, 50)}
# GATT characteristic properties (Core spec): read 0x02, write 0x08, notify 0x10
PROP_READ, PROP_WRITE, PROP_NOTIFY = 0x02, 0x08, 0x10
MAX_RATE = {StreamKind.QUAT: 50, StreamKind.RAW: 200}
SAMPLE_SIZE = {StreamKind.QUAT: 8, StreamKind.RAW: 12}


def status_of(reply: bytes) -> Status:
    return Status(reply[2])


def stream_min_mtu(kind: StreamKind, rate: int) -> int:
    """docs/protocol.md, "MTU minimums": room for 30 ms of samples."""
    samples = max(1, -(-rate * 30 // 1000))
    return 3 + 11 + samples * SAMPLE_SIZE[kind]


class Clock:
    """Tokens for requests: each request its own, so replies cannot be confused."""

    def __init__(self) -> None:
        self.n = 0

    def __call__(self) -> int:
        self.n = (self.n + 1) % 256
        return self.n


async def press(button: Path, *steps: int) -> None:
    """The wearer's hand: press ms, then gap, press... (run.py --button-file)."""
    tmp = button.with_suffix(".tmp")
    tmp.write_text(",".join(str(ms) for ms in steps))
    tmp.rename(button)
    while button.exists():
        await asyncio.sleep(0.05)
    await asyncio.sleep(sum(steps) / 1000 + 0.3)


async def status_bits(c: DocCentral, token: int) -> StateBit:
    reply = await c.command(Opcode.GET_STATUS, token)
    assert status_of(reply) is Status.OK and len(reply) == 3 + 8, reply.hex()
    _mv, pct, bits, _uptime = struct.unpack_from("<HBBI", reply, 3)
    assert 0 <= pct <= 100
    assert bits & ~0x7F == 0, f"undocumented state bits {bits:#x}"
    return StateBit(bits)


async def log_info(c: DocCentral, token: int) -> tuple[int, int, int, int]:
    reply = await c.command(Opcode.LOG_INFO, token)
    assert status_of(reply) is Status.OK
    return struct.unpack_from("<IIII", reply, 3)


def ad_structures(data: bytes) -> dict[int, list[bytes]]:
    """Advertising data as {AD type: [values]} (Core spec, Vol 3 Part C 11)."""
    out: dict[int, list[bytes]] = {}
    i = 0
    while i < len(data) and data[i]:
        n = data[i]
        out.setdefault(data[i + 1], []).append(data[i + 2:i + 1 + n])
        i += 1 + n
    assert i == len(data), data.hex()
    return out


async def advertising(central: Central) -> None:
    """docs/protocol.md, Advertising: flags, the service UUID and battery service data in the
    advertising PDU (31 bytes at most), the local name in the scan response."""
    device = central.device
    seen: dict[bool, bytes] = {}

    def on_ad(ad: Any) -> None:
        if str(ad.address).upper().startswith(CLIP_ADDRESS):
            seen[bool(ad.is_scan_response)] = bytes(ad.data_bytes)

    device.on(device.EVENT_ADVERTISEMENT, on_ad)
    for active in (False, True):  # bumble reports an active scan's scan responses
        await device.start_scanning(active=active, filter_duplicates=False)
        for _ in range(40):
            if active in seen:
                break
            await asyncio.sleep(0.05)
        await device.stop_scanning()
    device.remove_listener(device.EVENT_ADVERTISEMENT, on_ad)
    adv, response = seen[False], seen[True]
    assert len(adv) <= 31 and len(response) <= 31
    ads = ad_structures(adv)
    assert ads[0x01] == [b"\x06"]  # LE general discoverable, BR/EDR not supported
    assert ads[0x07] == [PyUUID(SERVICE_UUID).bytes[::-1]]  # complete 128-bit list
    assert ads[0x03] == [b"\x0f\x18"]  # 16-bit: Battery
    (battery,) = ads[0x16]
    assert battery[:2] == b"\x0f\x18" and len(battery) == 3 and battery[2] <= 100
    assert 0x09 not in ads
    name = ad_structures(response)[0x09][0].decode()
    assert re.fullmatch(r"postureclip-[0-9a-f]{4}", name), name


async def unpaired(c: DocCentral, button: Path) -> None:
    """What a central that never paired sees: the GATT table, Read Not Permitted on the
    service's characteristics, Insufficient Authentication on control, no events."""
    props = {u: c.properties(u) for u in (STREAM_UUID, EVENTS_UUID, CONTROL_UUID, LOG_UUID,
                                          BATTERY_LEVEL_UUID)}
    assert props[STREAM_UUID] & (PROP_READ | PROP_WRITE | PROP_NOTIFY) == PROP_NOTIFY
    assert props[EVENTS_UUID] & (PROP_READ | PROP_WRITE | PROP_NOTIFY) == PROP_NOTIFY
    assert props[LOG_UUID] & (PROP_READ | PROP_WRITE | PROP_NOTIFY) == PROP_NOTIFY
    assert props[CONTROL_UUID] & (PROP_READ | PROP_WRITE | PROP_NOTIFY) == PROP_WRITE | PROP_NOTIFY
    assert props[BATTERY_LEVEL_UUID] & PROP_READ
    for uuid in (STREAM_UUID, EVENTS_UUID, CONTROL_UUID, LOG_UUID):
        assert await c.read(uuid) == (ATT_READ_NOT_PERMITTED, b""), uuid
    for uuid in (STREAM_UUID, EVENTS_UUID, LOG_UUID):
        assert await c.write(uuid, b"\x01\x00") == ATT_WRITE_NOT_PERMITTED, uuid
    level = await c.read(BATTERY_LEVEL_UUID)
    assert level[0] == 0 and len(level[1]) == 1 and level[1][0] <= 100
    assert await c.write(CONTROL_UUID, bytes((Opcode.GET_INFO, 1))) == \
        ATT_INSUFFICIENT_AUTHENTICATION
    await c.subscribe(EVENTS_UUID, CONTROL_UUID)
    await press(button, 150, 250, 150)  # a double press snoozes: its record must not reach us
    await asyncio.sleep(1.0)
    assert c.notes[EVENTS_UUID] == [] and c.notes[CONTROL_UUID] == []


async def opcodes(c: DocCentral, token: Clock, button: Path) -> None:
    """Every opcode, good, bad and at the bounds, with its side effects."""
    await c.subscribe(CONTROL_UUID, EVENTS_UUID, LOG_UUID, STREAM_UUID)
    assert StateBit.SNOOZED in await status_bits(c, token())  # the stranger's double press
    await c.command(Opcode.SNOOZE, token(), "<H", 0)

    def snoozes() -> list[bytes]:
        return [n for n in c.notes[EVENTS_UUID] if n[1] == RecordType.SNOOZE]

    await asyncio.sleep(0.3)
    before = len(snoozes())
    await press(button, 200)  # a single press only opens the radio window: coaching unchanged
    await asyncio.sleep(0.5)
    assert len(snoozes()) == before
    assert StateBit.SNOOZED not in await status_bits(c, token())
    await press(button, 150, 250, 150)  # a double press snoozes; encrypted, the event comes
    for _ in range(40):
        if len(snoozes()) > before:
            break
        await asyncio.sleep(0.1)
    assert len(snoozes()) == before + 1, c.notes[EVENTS_UUID]
    assert struct.unpack_from("<H", snoozes()[-1], 14)[0] == 30  # minutes
    assert StateBit.SNOOZED in await status_bits(c, token())
    await c.command(Opcode.SNOOZE, token(), "<H", 0)

    info = await c.command(Opcode.GET_INFO, token())
    assert status_of(info) is Status.OK and len(info) == 3 + 7
    protocol, _maj, _min, _patch, imu, features = struct.unpack_from("<BBBBBH", info, 3)
    assert protocol == 1 and imu in set(ImuKind) and features == 0

    # malformed: unknown opcodes, wrong lengths, a one-byte write
    for op in (0x00, 0x0C, 0x0F, 0x14, 0x7F, 0x80, 0xFF):
        t = token()
        assert status_of(await c.command(op, t)) is Status.UNKNOWN_OPCODE, op
    t = token()
    assert status_of(await c.command(Opcode.GET_INFO, t, "<B", 0)) is Status.BAD_LENGTH
    t = token()
    assert status_of(await c.command(Opcode.SET_CONFIG, t, "<B", 1)) is Status.BAD_LENGTH
    reply = await c.request(bytes((Opcode.GET_STATUS,)))
    assert reply is not None and reply[1] == 0 and status_of(reply) is Status.BAD_LENGTH
    assert await c.request(b"", timeout=0.5) is None  # an empty write is not answered

    # settings: both ends, beyond them, unknown keys, the cross-limit
    async def set_config(key: int, value: int) -> None:
        r = await c.command(Opcode.SET_CONFIG, token(), "<Bi", key, value)
        assert status_of(r) is Status.OK and struct.unpack_from("<Bi", r, 3) == (key, value)

    for key, (_name, default, _lo, _hi) in SETTINGS.items():
        got = await c.command(Opcode.GET_CONFIG, token(), "<B", key)
        assert status_of(got) is Status.OK and struct.unpack_from("<Bi", got, 3) == (key, default)
    await set_config(9, 10)  # the exposure limit at its lowest: any window is allowed...
    for key, (name, default, lo, hi) in SETTINGS.items():
        if key == 13:
            continue  # require_encryption: 0 would open the clip; the privacy test has it
        if key == 9:
            await set_config(8, 14400)  # ...and the window at its highest: any limit
        for value in (lo, hi):
            r = await c.command(Opcode.SET_CONFIG, token(), "<Bi", key, value)
            assert status_of(r) is Status.OK and struct.unpack_from("<Bi", r, 3) == (key, value)
        for value in (lo - 1, hi + 1, -(2 ** 31), 2 ** 31 - 1):
            if lo <= value <= hi:
                continue
            r = await c.command(Opcode.SET_CONFIG, token(), "<Bi", key, value)
            assert status_of(r) is Status.OUT_OF_RANGE, (name, value)
        got = await c.command(Opcode.GET_CONFIG, token(), "<B", key)
        assert struct.unpack_from("<Bi", got, 3)[1] == hi, name  # refusals changed nothing
        await set_config(key, default)
        if key == 9:
            await set_config(8, 1800)
    for key, (name, default, _lo, _hi) in SETTINGS.items():
        got = await c.command(Opcode.GET_CONFIG, token(), "<B", key)
        assert struct.unpack_from("<Bi", got, 3) == (key, default), name
    for key in (0, 25, 255):
        assert status_of(await c.command(Opcode.GET_CONFIG, token(), "<B", key)) is \
            Status.OUT_OF_RANGE
        assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", key, 1)) is \
            Status.OUT_OF_RANGE
    # exposure_limit_s <= exposure_window_s, whichever of the two is written
    assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", 9, 1801)) is \
        Status.OUT_OF_RANGE
    assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", 8, 299)) is \
        Status.OUT_OF_RANGE
    assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", 8, 300)) is Status.OK
    assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", 8, 1800)) is Status.OK

    # SNOOZE, BUZZ_TEST, SET_TIME at and beyond their bounds
    for minutes, want in ((1440, Status.OK), (1441, Status.OUT_OF_RANGE),
                          (65535, Status.OUT_OF_RANGE)):
        assert status_of(await c.command(Opcode.SNOOZE, token(), "<H", minutes)) is want
    assert StateBit.SNOOZED in await status_bits(c, token())
    assert status_of(await c.command(Opcode.SNOOZE, token(), "<H", 0)) is Status.OK
    assert StateBit.SNOOZED not in await status_bits(c, token())
    for pattern in (0, 1, 2, 3, 5, 6, 7, 8, 9, 10):  # every pattern but the fault code
        r = await c.command(Opcode.BUZZ_TEST, token(), "<B", pattern)
        assert status_of(r) is Status.OK and r[3] == pattern
    for pattern in (4, 11, 255):
        r = await c.command(Opcode.BUZZ_TEST, token(), "<B", pattern)
        assert status_of(r) is Status.OUT_OF_RANGE
    assert StateBit.WALL_CLOCK not in await status_bits(c, token())
    for args, want in (((3155760000, 0), Status.OUT_OF_RANGE), ((0, 1000), Status.OUT_OF_RANGE),
                       ((3155759999, 999), Status.OK), ((880000000, 500), Status.OK)):
        assert status_of(await c.command(Opcode.SET_TIME, token(), "<IH", *args)) is want, args
    assert StateBit.WALL_CLOCK in await status_bits(c, token())

    # STREAM: modes and rates at their bounds (MTU 247 here; the sweep is below)
    for mode, rate, want in ((3, 10, Status.OUT_OF_RANGE), (1, 0, Status.OUT_OF_RANGE),
                             (1, 51, Status.OUT_OF_RANGE), (2, 201, Status.OUT_OF_RANGE),
                             (0, 0, Status.OK)):
        assert status_of(await c.command(Opcode.STREAM, token(), "<BH", mode, rate)) is want

    # CALIBRATE: the clip lies still, so it succeeds after the capture
    assert StateBit.CALIBRATED not in await status_bits(c, token())
    r = await c.command(Opcode.CALIBRATE, token(), timeout=10)
    assert status_of(r) is Status.OK and len(r) == 3 + 10
    assert StateBit.CALIBRATED in await status_bits(c, token())

    # the log: LOG_INFO, future and past acks, nothing to send, a transfer, abort
    first, nxt, stored, _dropped = await log_info(c, token())
    assert stored == nxt - first and stored > 0
    for seq in (nxt, nxt + 1, 0xFFFFFFFF):
        assert status_of(await c.command(Opcode.LOG_ACK, token(), "<I", seq)) is \
            Status.OUT_OF_RANGE
    assert await log_info(c, token()) == (first, nxt, stored, _dropped)
    assert status_of(await c.command(Opcode.LOG_SEND, token(), "<II", nxt + 5, 0)) is \
        Status.NO_RECORDS
    assert status_of(await c.command(Opcode.LOG_ABORT, token())) is Status.NO_RECORDS
    del c.notes[LOG_UUID][:]
    r = await c.command(Opcode.LOG_SEND, token(), "<II", first, 3)
    assert status_of(r) is Status.OK and struct.unpack_from("<II", r, 3) == (first, 3)
    for _ in range(50):
        if c.notes[LOG_UUID] and c.notes[LOG_UUID][-1][1] == LogFrameKind.END:
            break
        await asyncio.sleep(0.1)
    frames = c.notes[LOG_UUID]
    assert frames[-1][1] == LogFrameKind.END
    assert struct.unpack_from("<IB", frames[-1], 4) == (first + 3, 0)  # next after the last
    assert all(len(f) <= c.mtu - 3 for f in frames)
    r = await c.command(Opcode.LOG_ACK, token(), "<I", first)  # a past ack: one record
    assert status_of(r) is Status.OK
    assert (await log_info(c, token()))[1] >= nxt

    # FACTORY_RESET: a wrong word changes nothing; the right one resets settings and
    # calibration, keeps the log and the clock
    assert status_of(await c.command(Opcode.SET_CONFIG, token(), "<Bi", 1, 33)) is Status.OK
    assert status_of(await c.command(Opcode.FACTORY_RESET, token(), "<I", RESET_MAGIC ^ 1)) is \
        Status.OUT_OF_RANGE
    got = await c.command(Opcode.GET_CONFIG, token(), "<B", 1)
    assert struct.unpack_from("<Bi", got, 3) == (1, 33)
    before = await log_info(c, token())
    assert status_of(await c.command(Opcode.FACTORY_RESET, token(), "<I", RESET_MAGIC)) is \
        Status.OK
    got = await c.command(Opcode.GET_CONFIG, token(), "<B", 1)
    assert struct.unpack_from("<Bi", got, 3) == (1, 20)
    bits = await status_bits(c, token())
    assert StateBit.CALIBRATED not in bits and StateBit.WALL_CLOCK in bits
    after = await log_info(c, token())
    assert after[0] == before[0] and after[1] >= before[1]
    assert StateBit.FAULT not in await status_bits(c, token())


async def mtu_sweep(air: Air, clip: RealClip, keys: object, token: Clock) -> None:
    """Every stream mode at its top rate, and the log, from MTU 23 to 247: served exactly
    when the document's minimum is met, refused with MTU_TOO_SMALL below it; the clip keeps
    sensing either way."""
    for mtu in (23, 29, 30, 50, 85, 86, 185, 224, 225, 247):
        central = await central_on(air, keys=keys)  # type: ignore[arg-type]
        c = DocCentral(central)
        await c.connect(mtu)
        assert c.mtu == mtu, (mtu, c.mtu)
        await c.pair()
        await c.subscribe(CONTROL_UUID, STREAM_UUID, LOG_UUID)
        for kind in (StreamKind.QUAT, StreamKind.RAW):
            rates = (1, MAX_RATE[kind] // 2, MAX_RATE[kind]) if mtu in (23, 247) else \
                (MAX_RATE[kind] // 2, MAX_RATE[kind])
            for rate in rates:
                del c.notes[STREAM_UUID][:]
                r = await c.command(Opcode.STREAM, token(), "<BH", kind, rate)
                need = stream_min_mtu(kind, rate)
                if mtu < need:
                    assert status_of(r) is Status.MTU_TOO_SMALL, (mtu, kind, rate)
                    continue
                assert status_of(r) is Status.OK, (mtu, kind, rate, r.hex())
                for _ in range(60):  # two batches (a second at 1 Hz: a batch is a sample)
                    if len(c.notes[STREAM_UUID]) >= 2:
                        break
                    await asyncio.sleep(0.05)
                frames = list(c.notes[STREAM_UUID])
                assert frames, (mtu, kind, rate)
                for f in frames:
                    assert len(f) <= mtu - 3 and f[1] == kind
                    count = f[10]
                    assert count >= 1 and len(f) == 11 + count * SAMPLE_SIZE[kind]
                assert status_of(await c.command(Opcode.STREAM, token(), "<BH", 0, 0)) is \
                    Status.OK
        r = await c.command(Opcode.LOG_SEND, token(), "<II", 0, 1)
        assert status_of(r) is (Status.OK if mtu >= 225 else Status.MTU_TOO_SMALL), mtu
        if status_of(r) is Status.OK:
            for _ in range(50):
                if c.notes[LOG_UUID] and c.notes[LOG_UUID][-1][1] == LogFrameKind.END:
                    break
                await asyncio.sleep(0.1)
            assert c.notes[LOG_UUID][-1][1] == LogFrameKind.END
        bits = await status_bits(c, token())
        assert StateBit.FAULT not in bits and StateBit.STREAMING not in bits, mtu
        await c.disconnect()
        air.remove_controller(central.controller)
    assert "Traceback" not in clip.text(), clip.text()


def test_conformance_through_the_document(tmp_path: Path) -> None:
    button = tmp_path / "button"

    async def scenario() -> None:
        air = Air(seed=3)
        clip = await RealClip(air, tmp_path, extra=["--button-file", str(button)]).start()
        token = Clock()
        try:
            stranger = await central_on(air, address="F0:00:00:00:00:0A")
            await advertising(stranger)
            c = DocCentral(stranger)
            await c.connect(247)
            await unpaired(c, button)
            await c.disconnect()
            air.remove_controller(stranger.controller)

            owner = await central_on(air)
            c = DocCentral(owner)
            await c.connect(247)
            await c.pair()
            await opcodes(c, token, button)
            keys = owner.device.keystore
            await c.disconnect()
            air.remove_controller(owner.controller)

            await mtu_sweep(air, clip, keys, token)
            text = clip.text()
            assert "Traceback" not in text and "IRQ handler error" not in text, text
        finally:
            await clip.kill()

    asyncio.run(asyncio.wait_for(scenario(), 240))
