"""How the host reaches a clip: one small interface, two implementations.

``BleakTransport`` is the production path (bleak: BlueZ on Linux, CoreBluetooth on macOS,
WinRT on Windows); ``SimTransport`` talks to the virtual clip's loopback bridge. A transport
is one connection attempt: after a drop, make a fresh one (bleak needs a fresh scan and a
fresh client on reconnect).
"""
from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .errors import BluetoothUnavailable, ConnectionFailed, EncryptionRequired
from .protocol import SERVICE_UUID
from .simlink import ATT_SECURITY_ERRORS, LinkError, SimLink

Notify = Callable[[bytes], None]
BATTERY_LEVEL_UUID = "00002a19-0000-1000-8000-00805f9b34fb"
BATTERY_SERVICE_UUID = "0000180f-0000-1000-8000-00805f9b34fb"
DIS_UUIDS = {"manufacturer": "00002a29-0000-1000-8000-00805f9b34fb",
             "model": "00002a24-0000-1000-8000-00805f9b34fb",
             "serial": "00002a25-0000-1000-8000-00805f9b34fb",
             "firmware": "00002a26-0000-1000-8000-00805f9b34fb"}


def _short(uuid: str) -> str:
    """16-bit UUIDs in the Bluetooth base form -> the 4-hex-digit form the sim uses."""
    u = uuid.lower()
    if u.endswith("-0000-1000-8000-00805f9b34fb") and u.startswith("0000"):
        return u[4:8]
    return u


@dataclass(frozen=True)
class Found:
    """A clip seen advertising."""

    address: str
    name: str | None
    rssi: int | None
    handle: Any = None  # what the transport needs to connect (a BLEDevice for bleak)
    battery: int | None = None  # % from the advertising data, when the clip sends it


class Transport(Protocol):
    mtu: int

    async def scan(self, timeout: float) -> list[Found]: ...
    async def connect(self, found: Found, timeout: float,
                      on_disconnect: Callable[[], None]) -> None: ...
    async def disconnect(self) -> None: ...
    async def pair(self) -> None: ...
    async def start_notify(self, uuid: str, callback: Notify) -> None: ...
    async def write(self, uuid: str, data: bytes) -> None: ...
    async def read(self, uuid: str) -> bytes: ...


class SimTransport:
    """The virtual clip (``postureclip sim``) on ``host:port``."""

    def __init__(self, port: int = 47000, host: str = "127.0.0.1", want_mtu: int = 247) -> None:
        self.host = host
        self.port = port
        self.want_mtu = want_mtu  # what this central asks for (a system may allow less)
        self.mtu = 23
        self.link: SimLink | None = None
        self._handles: dict[str, int] = {}
        self._callbacks: dict[int, Notify] = {}
        self._pump: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None

    async def press_button(self, ms: int = 200, timeout: float = 5.0) -> None:
        """Press the virtual clip's button, as a wearer does before syncing."""
        try:
            link = await SimLink.open(self.host, self.port, timeout)
        except LinkError as e:
            raise ConnectionFailed(f"virtual clip at {self.host}:{self.port}: {e}") from None
        try:
            await link.press_button(ms)
        finally:
            await link.close()

    async def scan(self, timeout: float = 5.0) -> list[Found]:
        try:
            link = await SimLink.open(self.host, self.port, timeout)
        except LinkError:
            return []
        try:
            adv = await link.scan()
        finally:
            await link.close()
        if not adv.advertising:
            return []
        return [Found(f"sim:{self.host}:{self.port}", adv.name, -40, battery=adv.battery)]

    async def connect(self, found: Found, timeout: float,
                      on_disconnect: Callable[[], None]) -> None:
        try:
            self.link = await SimLink.open(self.host, self.port, timeout)
            table = await self.link.connect()
            self.mtu = await self.link.exchange_mtu(self.want_mtu)
        except LinkError as e:
            raise ConnectionFailed(f"virtual clip at {self.host}:{self.port}: {e}") from None
        self._handles = {c.uuid: c.handle for c in table}
        self._pump = asyncio.get_running_loop().create_task(self._dispatch())
        self._watch = asyncio.get_running_loop().create_task(self._watch_link(on_disconnect))

    async def _dispatch(self) -> None:
        assert self.link is not None
        while True:
            h, data = await self.link.notifications.get()
            cb = self._callbacks.get(h)
            if cb is not None:
                cb(data)

    async def _watch_link(self, on_disconnect: Callable[[], None]) -> None:
        assert self.link is not None
        await self.link.disconnected.wait()
        on_disconnect()

    def _handle(self, uuid: str) -> int:
        try:
            return self._handles[_short(uuid)]
        except KeyError:
            raise ConnectionFailed(f"the clip has no characteristic {uuid}") from None

    def _require(self) -> SimLink:
        if self.link is None or self.link.disconnected.is_set():
            raise ConnectionFailed("not connected")
        return self.link

    async def disconnect(self) -> None:
        # the watch task stays: like bleak's callback, on_disconnect runs for our own
        # disconnects too
        if self._pump is not None:
            self._pump.cancel()
        if self.link is not None:
            await self.link.close()

    async def pair(self) -> None:
        try:
            await self._require().pair()
        except LinkError as e:
            raise ConnectionFailed(str(e)) from None

    async def start_notify(self, uuid: str, callback: Notify) -> None:
        h = self._handle(uuid)
        self._callbacks[h] = callback
        try:
            await self._require().subscribe(h)
        except LinkError as e:
            raise ConnectionFailed(str(e)) from None

    async def write(self, uuid: str, data: bytes) -> None:
        try:
            status = await self._require().write(self._handle(uuid), data)
        except LinkError as e:
            raise ConnectionFailed(str(e)) from None
        if status in ATT_SECURITY_ERRORS:
            raise EncryptionRequired("the clip needs an encrypted link for this: pair first")
        if status:
            raise ConnectionFailed(f"write refused with ATT error 0x{status:02x}")

    async def read(self, uuid: str) -> bytes:
        try:
            status, data = await self._require().read(self._handle(uuid))
        except LinkError as e:
            raise ConnectionFailed(str(e)) from None
        if status in ATT_SECURITY_ERRORS:
            raise EncryptionRequired("the clip needs an encrypted link for this: pair first")
        return data


def bluetooth_unavailable(e: BaseException) -> BluetoothUnavailable | None:
    """The sentence for a Bluetooth stack that cannot be used at all (as opposed to a clip
    that is not found or a link that failed), or None."""
    text = f"{type(e).__name__}: {e}"
    sim = " (or reach the virtual clip with --sim PORT)"
    if isinstance(e, FileNotFoundError | ConnectionRefusedError) or \
            "system_bus_socket" in text:
        return BluetoothUnavailable(
            "cannot reach BlueZ: the system D-Bus is not running. Install and start BlueZ "
            "(Debian/Ubuntu: sudo apt install bluez && sudo systemctl start bluetooth)" + sim)
    if "ServiceUnknown" in text or "org.bluez was not provided" in text:
        return BluetoothUnavailable(
            "BlueZ (bluetoothd) is not running: start it with sudo systemctl start "
            "bluetooth" + sim)
    if "AccessDenied" in text or "NotPermitted" in text or isinstance(e, PermissionError):
        return BluetoothUnavailable(
            "permission denied by BlueZ: add yourself to the bluetooth group (sudo usermod "
            "-aG bluetooth $USER, then log in again)" + sim)
    if "No Bluetooth adapters found" in text or ("adapter" in text and "not found" in text):
        return BluetoothUnavailable(
            "no Bluetooth adapter found: plug one in, or unblock it (rfkill unblock "
            "bluetooth)" + sim)
    if "NotReady" in text or "Not Powered" in text or "not turned on" in text:
        return BluetoothUnavailable(
            "the Bluetooth adapter is off: switch it on (bluetoothctl power on)" + sim)
    return None


class BleakTransport:
    """A real clip over the system's Bluetooth, through bleak."""

    def __init__(self) -> None:
        self.mtu = 23
        self.client: Any = None

    async def scan(self, timeout: float = 5.0, first: bool = True) -> list[Found]:
        """Clips advertising the postureclip service, strongest first. With ``first`` the
        scan ends at the first one (what connecting needs) instead of after ``timeout``."""
        from bleak import BleakScanner

        seen: dict[str, Found] = {}

        def match(device: Any, adv: Any) -> bool:
            if SERVICE_UUID in [u.lower() for u in adv.service_uuids]:
                level = adv.service_data.get(BATTERY_SERVICE_UUID)
                seen[device.address] = Found(device.address, adv.local_name or device.name,
                                             adv.rssi, device, level[0] if level else None)
                return True
            return False

        try:
            if first:
                await BleakScanner.find_device_by_filter(match, timeout=timeout,
                                                         service_uuids=[SERVICE_UUID])
            else:
                found = await BleakScanner.discover(timeout=timeout,
                                                    service_uuids=[SERVICE_UUID],
                                                    return_adv=True)
                for device, adv in found.values():
                    match(device, adv)
        except Exception as e:
            unavailable = bluetooth_unavailable(e)
            if unavailable is not None:
                raise unavailable from None
            raise ConnectionFailed(f"scanning failed: {e}") from None
        return sorted(seen.values(), key=lambda f: -(f.rssi or -999))

    async def connect(self, found: Found, timeout: float,
                      on_disconnect: Callable[[], None]) -> None:
        from bleak import BleakClient
        from bleak.exc import BleakError

        self.client = BleakClient(found.handle or found.address, timeout=timeout,
                                  disconnected_callback=lambda _c: on_disconnect())
        try:
            await self.client.connect()
        except (BleakError, TimeoutError, OSError) as e:
            raise ConnectionFailed(f"cannot connect to {found.address}: {e}") from None
        # BlueZ >= 5.62 reports the negotiated MTU per characteristic; bleak exposes it as the
        # largest write without response (MTU - 3). Other backends know mtu_size directly.
        sizes = [c.max_write_without_response_size + 3
                 for c in self.client.services.characteristics.values()]
        self.mtu = max([23, *sizes])

    async def disconnect(self) -> None:
        if self.client is not None:
            with contextlib.suppress(Exception):
                await self.client.disconnect()

    async def pair(self) -> None:
        from bleak.exc import BleakError

        try:
            await self.client.pair()
        except (BleakError, NotImplementedError) as e:
            # macOS and the web pair on demand; elsewhere this is a real failure
            if not isinstance(e, NotImplementedError):
                raise ConnectionFailed(f"pairing failed: {e}") from None

    async def start_notify(self, uuid: str, callback: Notify) -> None:
        from bleak.exc import BleakError

        try:
            await self.client.start_notify(uuid, lambda _ch, data: callback(bytes(data)))
        except (BleakError, TimeoutError, EOFError, OSError) as e:
            raise ConnectionFailed(f"cannot subscribe to {uuid}: {e}") from None

    async def write(self, uuid: str, data: bytes) -> None:
        from bleak.exc import BleakError

        try:
            await self.client.write_gatt_char(uuid, data, response=True)
        except (TimeoutError, EOFError, OSError) as e:  # the link went under the write
            raise ConnectionFailed(f"write to {uuid} failed: {e}") from None
        except BleakError as e:
            text = str(e).lower()
            if "encrypt" in text or "0x0f" in text or "authenticat" in text:
                raise EncryptionRequired(f"the clip needs an encrypted link: {e}") from None
            raise ConnectionFailed(f"write to {uuid} failed: {e}") from None

    async def read(self, uuid: str) -> bytes:
        from bleak.exc import BleakError

        try:
            return bytes(await self.client.read_gatt_char(uuid))
        except (BleakError, TimeoutError, EOFError, OSError) as e:
            raise ConnectionFailed(f"read of {uuid} failed: {e}") from None
