"""A central that knows the clip only through docs/protocol.md: raw GATT (reads, writes and
subscriptions by UUID, ATT errors as numbers), control requests as bytes, replies matched by
token. It uses bumble's host directly, not the host library (whose own decoding is what the
conformance suite must not lean on), and the protocol's numbers from the host's enums, which
tests/host/test_protocol_doc.py holds equal to the document's tables."""
from __future__ import annotations

import asyncio
import contextlib
import struct
from typing import Any

from bumble import hci
from bumble.core import UUID, PhysicalTransport, ProtocolError
from bumble.device import Peer

from postureclip.bumble_transport import Central
from postureclip.protocol import CONTROL_UUID, EVENTS_UUID, LOG_UUID, STREAM_UUID

from .realclip import CLIP_ADDRESS

ATT_READ_NOT_PERMITTED = 0x02
ATT_WRITE_NOT_PERMITTED = 0x03
ATT_INSUFFICIENT_AUTHENTICATION = 0x05
ATT_INSUFFICIENT_ENCRYPTION = 0x0F


class DocCentral:
    """One connection to the clip at a chosen ATT MTU."""

    def __init__(self, central: Central) -> None:
        self.central = central
        self.connection: Any = None
        self.peer: Peer | None = None
        self.mtu = 23
        self.chars: dict[str, Any] = {}
        self.notes: dict[str, list[bytes]] = {u: [] for u in
                                              (CONTROL_UUID, EVENTS_UUID, LOG_UUID, STREAM_UUID)}
        self._reply = asyncio.Condition()

    async def connect(self, mtu: int = 247, timeout: float = 15.0) -> None:
        device = self.central.device
        device.gatt_server.max_mtu = mtu  # what we answer the clip's own MTU request with
        deadline = asyncio.get_running_loop().time() + timeout
        while True:  # the clip may still be between links (it re-advertises within ~1 s)
            try:
                self.connection = await device.connect(
                    hci.Address(CLIP_ADDRESS, hci.Address.PUBLIC_DEVICE_ADDRESS),
                    transport=PhysicalTransport.LE, timeout=5.0)
                break
            except Exception:
                if asyncio.get_running_loop().time() > deadline:
                    raise
                await asyncio.sleep(0.5)
        self.peer = Peer(self.connection)
        self.mtu = await self.peer.request_mtu(mtu)
        await self.peer.discover_services()
        await self.peer.discover_characteristics()
        for service in self.peer.services:
            for char in service.characteristics:
                self.chars[str(char.uuid).lower()] = char
        # the clip asks for 247 itself; whichever exchange finishes last sets the link's MTU
        await asyncio.sleep(0.3)
        self.mtu = self.connection.att_mtu

    def char(self, uuid: str) -> Any:
        char = self.chars.get(uuid.lower())
        if char is None:
            assert self.peer is not None
            char = next(iter(self.peer.get_characteristics_by_uuid(UUID(uuid))), None)
        assert char is not None, f"no characteristic {uuid}"
        return char

    def properties(self, uuid: str) -> int:
        return int(self.char(uuid).properties)

    async def pair(self) -> None:
        await self.connection.pair()
        if not self.connection.is_encrypted:
            await self.connection.encrypt()

    async def read(self, uuid: str) -> tuple[int, bytes]:
        """(0, value) or (ATT error code, b"")."""
        try:
            return 0, bytes(await self.char(uuid).read_value())
        except ProtocolError as e:
            return int(e.error_code), b""

    async def write(self, uuid: str, data: bytes) -> int:
        """Write with response: 0, or the ATT error code."""
        try:
            await self.char(uuid).write_value(data, with_response=True)
            return 0
        except ProtocolError as e:
            return int(e.error_code)

    async def subscribe(self, *uuids: str) -> None:
        for uuid in uuids:
            box = self.notes[uuid]

            def on_value(value: bytes, box: list[bytes] = box) -> None:
                box.append(bytes(value))
                if box is self.notes[CONTROL_UUID]:
                    asyncio.get_running_loop().create_task(self._wake())

            await self.char(uuid).subscribe(on_value)

    async def _wake(self) -> None:
        async with self._reply:
            self._reply.notify_all()

    async def request(self, data: bytes, timeout: float = 5.0) -> bytes | None:
        """Write a control request; its reply (matched by opcode | 0x80 and token), or None
        when none came within ``timeout``. An ATT error raises AssertionError."""
        box = self.notes[CONTROL_UUID]
        start = len(box)
        status = await self.write(CONTROL_UUID, data)
        assert status == 0, f"ATT error {status:#04x} writing {data.hex()}"
        want = (data[0] | 0x80, data[1] if len(data) > 1 else 0) if data else None

        def found() -> bytes | None:
            for reply in box[start:]:
                if want is None or (len(reply) >= 3 and (reply[0], reply[1]) == want):
                    return reply  # (an empty request: any reply at all is wrong)
            return None

        with contextlib.suppress(TimeoutError):
            async with self._reply:
                await asyncio.wait_for(self._reply.wait_for(lambda: found() is not None),
                                       timeout)
        return found()

    async def command(self, op: int, token: int, fmt: str = "<", *args: Any,
                      timeout: float = 5.0) -> bytes:
        """A well-formed request; its reply (asserted to come)."""
        reply = await self.request(bytes((op, token)) + struct.pack(fmt, *args), timeout)
        assert reply is not None, f"no reply to opcode {op:#04x} token {token}"
        return reply

    async def disconnect(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.disconnect(), 5)
        self.connection = None
