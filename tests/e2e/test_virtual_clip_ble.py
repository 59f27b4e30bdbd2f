"""Drive the virtual clip (real firmware, real MicroPython) as a BLE central would: scan,
connect, MTU, bonding, calibrate, stream, log sync with acknowledgement, disconnect, reconnect
and resume."""
from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from virtualclip import VirtualClip

from postureclip.protocol import (
    CONTROL_UUID,
    EVENTS_UUID,
    LOG_UUID,
    STREAM_UUID,
    LogEnd,
    LogRecords,
    Opcode,
    RecordType,
    Reply,
    Status,
    StreamKind,
    decode_log_frame,
    decode_reply,
    decode_stream,
    encode_command,
)
from postureclip.simlink import (
    ATT_INSUFFICIENT_AUTHENTICATION,
    SimLink,
)


@pytest.fixture
def clip(tmp_path: Path) -> Iterator[VirtualClip]:
    vc = VirtualClip(tmp_path / "flash").start()
    yield vc
    vc.stop()


class Central:
    """Just enough of a central for the test; the library's client is postureclip.client."""

    def __init__(self, link: SimLink) -> None:
        self.link = link
        self.h: dict[str, int] = {}
        self.token = 0
        self.other: list[tuple[int, bytes]] = []  # notifications of other characteristics

    async def setup(self) -> None:
        adv = await self.link.scan()
        assert adv.advertising and (adv.name or "").startswith("postureclip-")
        assert adv.battery is not None and 0 <= adv.battery <= 100
        assert len(adv.adv_data) <= 31 and len(adv.scan_response) <= 31
        table = await self.link.connect()
        self.h = {c.uuid: c.handle for c in table}
        assert await self.link.exchange_mtu(247) == 247
        for uuid in (CONTROL_UUID, LOG_UUID, EVENTS_UUID, STREAM_UUID):
            await self.link.subscribe(self.h[uuid])

    async def next_on(self, uuid: str, timeout: float = 10.0) -> bytes:
        handle = self.h[uuid]
        while True:
            h, data = await asyncio.wait_for(self.link.notifications.get(), timeout)
            if h == handle:
                return data
            self.other.append((h, data))

    async def command(self, op: Opcode, *args: int, timeout: float = 10.0) -> Reply:
        self.token = (self.token + 1) & 0xFF
        status = await self.link.write(self.h[CONTROL_UUID], encode_command(op, self.token, *args))
        assert status == 0, status
        while True:
            reply = decode_reply(await self.next_on(CONTROL_UUID, timeout))
            if reply.token == self.token:
                return reply

    async def sync(self, first: int) -> list[int]:
        reply = await self.command(Opcode.LOG_SEND, first, 0)
        assert reply.status == Status.OK, reply
        seqs: list[int] = []
        frame_no = 0
        while True:
            frame = decode_log_frame(await self.next_on(LOG_UUID))
            assert frame.frame == frame_no  # no lost notification
            frame_no += 1
            if isinstance(frame, LogEnd):
                assert frame.reason == 0
                return seqs
            assert isinstance(frame, LogRecords)
            seqs += [r.seq for r in frame.records]


async def test_central_session_bond_calibrate_stream_sync_resume(clip: VirtualClip) -> None:
    link = await SimLink.open(port=clip.port)
    c = Central(link)
    await c.setup()
    # control needs an encrypted link: the ATT error, not a silent success
    status = await link.write(c.h[CONTROL_UUID], encode_command(Opcode.GET_INFO, 1))
    assert status == ATT_INSUFFICIENT_AUTHENTICATION  # as NimBLE: no key for this central yet
    assert await link.pair() == (True, True, False)
    info = await c.command(Opcode.GET_INFO)
    assert info.status == Status.OK and info.values[0] == 1  # protocol version
    status_code, level = await link.read(c.h["2a19"])
    assert status_code == 0 and len(level) == 1
    assert (await c.command(Opcode.SET_TIME, 848_000_000, 250)).status == Status.OK
    cal = await c.command(Opcode.CALIBRATE, timeout=15)
    assert cal.status == Status.OK, cal
    assert abs(cal.values[4]) < 20  # the still virtual clip is upright: tilt < 2 deg

    assert (await c.command(Opcode.STREAM, StreamKind.QUAT, 25)).status == Status.OK
    batches = []
    while len(batches) < 8:
        batches.append(decode_stream(await c.next_on(STREAM_UUID)))
    await c.command(Opcode.STREAM, 0, 0)
    seq = [b.seq for b in batches]
    assert seq == list(range(seq[0], seq[0] + len(seq)))
    q = np.concatenate([b.samples for b in batches])
    norms = np.sqrt(sum(q[k] ** 2 for k in ("qw", "qx", "qy", "qz")))
    assert np.allclose(norms, 1.0, atol=1e-3)
    assert batches[0].period_us == 40000

    log_info = await c.command(Opcode.LOG_INFO)
    first, _next_seq, stored, _ = log_info.values
    seqs = await c.sync(first)
    assert seqs == list(range(first, first + len(seqs))) and len(seqs) >= stored
    kept = await c.command(Opcode.LOG_ACK, seqs[-1])
    assert kept.status == Status.OK and kept.values[0] > seqs[-1]
    await link.close()

    # reconnect: advertising again, the bond is reused, the log resumes after the ack
    await asyncio.sleep(0.3)
    link = await SimLink.open(port=clip.port)
    c = Central(link)
    await c.setup()
    assert await link.pair() == (True, True, True)
    await c.command(Opcode.SNOOZE, 5)  # makes a new record
    again = await c.sync(seqs[-1] + 1)
    assert again and again[0] == seqs[-1] + 1
    assert all(s > seqs[-1] for s in again)
    await link.close()
    assert "Traceback" not in clip.stop()


async def test_log_records_have_the_events_of_the_session(clip: VirtualClip) -> None:
    link = await SimLink.open(port=clip.port)
    c = Central(link)
    await c.setup()
    await link.pair()
    await c.command(Opcode.BUZZ_TEST, 1)
    await c.command(Opcode.SNOOZE, 10)
    reply = await c.command(Opcode.LOG_SEND, 0, 0)
    assert reply.status == Status.OK
    types = []
    while True:
        frame = decode_log_frame(await c.next_on(LOG_UUID))
        if isinstance(frame, LogEnd):
            break
        types += [r.rtype for r in frame.records]
    assert types[0] == RecordType.BOOT
    assert RecordType.BUZZ in types and RecordType.SNOOZE in types
    await link.close()


async def _log_info_and_pair(port: int) -> tuple[tuple[int, ...], tuple[bool, bool, bool]]:
    link = await SimLink.open(port=port)
    c = Central(link)
    await c.setup()
    paired = await link.pair()
    info = await c.command(Opcode.LOG_INFO)
    await link.close()
    return info.values, paired


def test_reboot_keeps_sequence_bonds_and_records(tmp_path: Path) -> None:
    flash = tmp_path / "flash"
    clip = VirtualClip(flash).start()
    try:
        (first, next_seq, stored, _), paired = asyncio.run(_log_info_and_pair(clip.port))
    finally:
        clip.stop()  # a power cut: the process is killed
    assert paired == (True, True, False) and stored >= 1
    clip = VirtualClip(flash).start()
    try:
        (first2, next2, stored2, _), paired2 = asyncio.run(_log_info_and_pair(clip.port))
    finally:
        clip.stop()
    assert paired2 == (True, True, True)  # the bond survived on flash
    assert first2 == first and next2 > next_seq and stored2 > stored  # a new BOOT record


async def test_bad_control_writes_get_status_replies_and_change_nothing(clip: VirtualClip
                                                                        ) -> None:
    link = await SimLink.open(port=clip.port)
    c = Central(link)
    await c.setup()
    await link.pair()
    before = await c.command(Opcode.GET_CONFIG, 1)
    cases = [(b"", None),  # names no command: no reply
             (b"\x04", bytes((0x84, 0, Status.BAD_LENGTH))),
             (b"\x7f\x09", bytes((0xFF, 9, Status.UNKNOWN_OPCODE))),
             (bytes((Opcode.SET_CONFIG, 9, 1)), bytes((0x84, 9, Status.BAD_LENGTH))),
             (encode_command(Opcode.SET_CONFIG, 9, 1, 99), bytes((0x84, 9, Status.OUT_OF_RANGE))),
             (encode_command(Opcode.SET_CONFIG, 9, 200, 1), bytes((0x84, 9, Status.OUT_OF_RANGE))),
             (encode_command(Opcode.STREAM, 9, 7, 10), bytes((0x88, 9, Status.OUT_OF_RANGE)))]
    for data, reply in cases:
        assert await link.write(c.h[CONTROL_UUID], data) == 0
        if reply is not None:
            assert await c.next_on(CONTROL_UUID) == reply, data
    after = await c.command(Opcode.GET_CONFIG, 1)
    assert after.values == before.values  # nothing changed
    assert (await c.command(Opcode.GET_INFO)).status == Status.OK  # and it still answers
    await link.close()
    assert "Traceback" not in clip.stop()
