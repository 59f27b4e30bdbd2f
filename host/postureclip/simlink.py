"""The central's side of the virtual clip's BLE bridge (firmware/sim/bluetooth.py).

One request at a time (as ATT: one outstanding request per link); notifications arrive on
``notifications`` as (handle, bytes) in order. Frames: u16 length (little-endian), u8 kind,
payload.
"""
from __future__ import annotations

import asyncio
import contextlib
import struct
from dataclasses import dataclass

from .errors import PostureclipError

(C_CONNECT, C_DISCONNECT, C_MTU, C_WRITE, C_SUBSCRIBE, C_READ, C_PAIR, C_SCAN, C_FAULT,
 C_KICK, C_BUTTON) = range(1, 12)
P_CONNECTED, P_MTU, P_WRITE_RESP, P_READ_RESP, P_PAIRED, P_ADV = 0x81, 0x83, 0x84, 0x86, 0x87, 0x88
P_NOTIFY, P_DISCONNECTED = 0x90, 0x91
ATT_INSUFFICIENT_AUTHENTICATION = 0x05  # NimBLE: not encrypted, no key for the peer
ATT_INSUFFICIENT_ENCRYPTION = 0x0F  # NimBLE: not encrypted, though a key for the peer is stored
ATT_SECURITY_ERRORS = (ATT_INSUFFICIENT_AUTHENTICATION, ATT_INSUFFICIENT_ENCRYPTION)


class LinkError(PostureclipError):
    """The link to the (virtual) clip is down or answered out of turn."""


@dataclass(frozen=True)
class Characteristic:
    handle: int
    uuid: str
    flags: int
    service: str


@dataclass(frozen=True)
class Advertisement:
    advertising: bool
    adv_data: bytes
    scan_response: bytes

    def _fields(self) -> list[tuple[int, bytes]]:
        out = []
        data = self.scan_response + self.adv_data
        i = 0
        while i + 1 < len(data):
            n, kind = data[i], data[i + 1]
            out.append((kind, bytes(data[i + 2:i + 1 + n])))
            i += 1 + n
        return out

    @property
    def battery(self) -> int | None:
        """Battery level (%) from Battery service data (UUID 0x180F), when advertised."""
        for kind, value in self._fields():
            if kind == 0x16 and value[:2] == b"\x0f\x18" and len(value) == 3:
                return value[2]
        return None

    @property
    def name(self) -> str | None:
        data = self.scan_response + self.adv_data
        i = 0
        while i + 1 < len(data):
            n, kind = data[i], data[i + 1]
            if kind == 0x09:
                return data[i + 2:i + 1 + n].decode()
            i += 1 + n
        return None


class SimLink:
    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._r = reader
        self._w = writer
        self.notifications: asyncio.Queue[tuple[int, bytes]] = asyncio.Queue()
        self.disconnected = asyncio.Event()
        self._pending: asyncio.Future[tuple[int, bytes]] | None = None
        self._lock = asyncio.Lock()
        self._task = asyncio.get_running_loop().create_task(self._read())

    @classmethod
    async def open(cls, host: str = "127.0.0.1", port: int = 47000,
                   timeout: float = 5.0) -> SimLink:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while True:  # a clip that is still booting is not listening yet
            try:
                r, w = await asyncio.wait_for(asyncio.open_connection(host, port), timeout)
                return cls(r, w)
            except (TimeoutError, OSError) as e:
                if loop.time() >= deadline:
                    raise LinkError(f"no virtual clip at {host}:{port} ({e}); start it with "
                                    "`postureclip sim` or firmware/sim/run.py") from None
                await asyncio.sleep(0.05)

    async def _read(self) -> None:
        try:
            while True:
                head = await self._r.readexactly(3)
                n, kind = struct.unpack("<HB", head)
                payload = await self._r.readexactly(n - 1)
                if kind == P_NOTIFY:
                    (h,) = struct.unpack_from("<H", payload)
                    self.notifications.put_nowait((h, payload[2:]))
                elif kind == P_DISCONNECTED:
                    self.disconnected.set()
                elif self._pending is not None and not self._pending.done():
                    self._pending.set_result((kind, payload))
        except (asyncio.IncompleteReadError, ConnectionError, OSError):
            pass
        finally:
            self.disconnected.set()
            if self._pending is not None and not self._pending.done():
                self._pending.set_exception(LinkError("link lost"))

    async def _request(self, kind: int, payload: bytes = b"", expect: int | None = None,
                       timeout: float = 5.0) -> bytes:
        async with self._lock:
            if self.disconnected.is_set():
                raise LinkError("not connected")
            fut: asyncio.Future[tuple[int, bytes]] = asyncio.get_running_loop().create_future()
            self._pending = fut if expect is not None else None
            try:
                self._w.write(struct.pack("<HB", len(payload) + 1, kind) + payload)
                await self._w.drain()
            except (ConnectionError, OSError) as e:  # the socket went while we wrote
                self.disconnected.set()
                raise LinkError(f"link lost: {e}") from None
            if expect is None:
                return b""
            try:
                got, data = await asyncio.wait_for(fut, timeout)
            except TimeoutError:
                raise LinkError(f"no answer to request {kind}") from None
            if got == P_DISCONNECTED:
                raise LinkError("disconnected")
            if got != expect:
                raise LinkError(f"expected frame 0x{expect:02x}, got 0x{got:02x}")
            return data

    async def scan(self) -> Advertisement:
        p = await self._request(C_SCAN, expect=P_ADV)
        n = p[1]
        return Advertisement(bool(p[0]), bytes(p[2:2 + n]), bytes(p[2 + n:]))

    async def connect(self, address: bytes = b"\x01\x02\x03\x04\x05\x06") -> list[Characteristic]:
        p = await self._request(C_CONNECT, address, expect=P_CONNECTED)
        out = []
        i = 0
        while i < len(p):
            h, flags, n = struct.unpack_from("<HHB", p, i)
            uuid = p[i + 5:i + 5 + n].decode()
            m = p[i + 5 + n]
            service = p[i + 6 + n:i + 6 + n + m].decode()
            out.append(Characteristic(h, uuid, flags, service))
            i += 6 + n + m
        return out

    async def exchange_mtu(self, want: int = 247) -> int:
        p = await self._request(C_MTU, struct.pack("<H", want), expect=P_MTU)
        return int(struct.unpack("<H", p)[0])

    async def pair(self) -> tuple[bool, bool, bool]:
        """LE Secure Connections; returns (encrypted, bonded, an existing bond was reused)."""
        p = await self._request(C_PAIR, expect=P_PAIRED)
        return bool(p[0]), bool(p[1]), bool(p[2])

    async def subscribe(self, handle: int, on: bool = True) -> None:
        await self._request(C_SUBSCRIBE, struct.pack("<HB", handle, 1 if on else 0))

    async def write(self, handle: int, data: bytes) -> int:
        """Write with response; returns the ATT status (0 = ok)."""
        p = await self._request(C_WRITE, struct.pack("<H", handle) + data, expect=P_WRITE_RESP)
        return p[0]

    async def read(self, handle: int) -> tuple[int, bytes]:
        p = await self._request(C_READ, struct.pack("<H", handle), expect=P_READ_RESP)
        return p[0], bytes(p[1:])

    async def inject(self, drop_every: int = 0, delay_ms: int = 0) -> None:
        """Fault injection: the clip's radio drops every n-th notification and/or waits
        ``delay_ms`` more per connection event (0, 0 = a clean link again)."""
        await self._request(C_FAULT, struct.pack("<HH", drop_every, delay_ms))

    async def kick(self) -> None:
        """Fault injection: the clip drops this link itself (a peripheral-initiated
        disconnect)."""
        await self._request(C_KICK)

    async def press_button(self, ms: int = 200) -> None:
        """The wearer presses the virtual clip's button for ``ms`` (any press opens its
        radio window)."""
        await self._request(C_BUTTON, struct.pack("<H", ms))

    async def close(self) -> None:
        if not self.disconnected.is_set():
            with contextlib.suppress(LinkError):
                await self._request(C_DISCONNECT)
        self._w.close()
        with contextlib.suppress(ConnectionError, OSError):
            await self._w.wait_closed()
        self._task.cancel()
