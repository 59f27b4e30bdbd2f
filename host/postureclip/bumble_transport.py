"""The host's side through a complete Bluetooth host stack of its own: bumble.

``BumbleTransport`` is a ``Transport`` (see transport.py) on bumble's host: a real GATT
client, SMP pairing with LE Secure Connections and bonding (Just Works: the clip has no
display or keys), and the ATT MTU exchange. Its controller can be a virtual one on
``postureclip.radio``'s air (in this process, or served over HCI on TCP by
``python -m postureclip.radio --hci-tcp PORT``), or any controller bumble's transports reach
(for example a USB dongle: ``usb:0``), which makes it a BlueZ-free path to a real clip too.

One ``Central`` (a powered-on bumble device with its bond store) serves any number of
``BumbleTransport`` connection attempts, one after the other.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import Callable
from typing import Any

from bumble import hci
from bumble.core import UUID, PhysicalTransport, ProtocolError
from bumble.core import TimeoutError as BumbleTimeout
from bumble.device import Advertisement, Connection, Device, Peer
from bumble.keys import JsonKeyStore, KeyStore, MemoryKeyStore
from bumble.pairing import PairingConfig, PairingDelegate

from .errors import ConnectionFailed, EncryptionRequired
from .protocol import SERVICE_UUID
from .simlink import ATT_SECURITY_ERRORS
from .transport import Found, Notify

CENTRAL_ADDRESS = "F0:00:00:00:00:01"  # static random address of the virtual central
DISCONNECT_TIMEOUT_S = 5.0  # a controller that never confirms a disconnect must not hang us
# Pairing and encryption end with an event or a disconnection; a procedure whose answer was
# lost on a link that stays up would wait for ever. SMP's own time-out (Core spec, Vol 3,
# Part H, 3.4) bounds it: then the link is dropped and the client tries again.
SECURITY_TIMEOUT_S = 30.0
HCI_TIMEOUT_S = 5.0  # a scan command the controller never answers


class Central:
    """A bumble device acting as the central, with its bonds (in memory, or a JSON file)."""

    def __init__(self, device: Device, controller: Any = None) -> None:
        self.device = device
        self.controller = controller  # the in-process controller, when it is one

    @classmethod
    async def open(cls, hci_spec: str | None = None, *, source: Any = None, sink: Any = None,
                   address: str = CENTRAL_ADDRESS, keys: str | None = None,
                   controller: Any = None, privacy: bool = False) -> Central:
        """Power on a central on ``hci_spec`` (a bumble transport: ``tcp-client:HOST:PORT``,
        ``usb:0``...) or on an HCI ``source``/``sink`` pair (``controller``, in this process);
        ``keys`` is a JSON file that keeps bonds across runs (default: memory only).
        ``privacy``: connect from resolvable private addresses (as phones and laptops do),
        a new one after each ``rotate_address``; bonding hands the clip the identity key."""
        if hci_spec is not None:
            from bumble.transport import open_transport

            transport = await open_transport(hci_spec)
            source, sink = transport.source, transport.sink
        device = Device.with_hci("postureclip host", hci.Address(address), source, sink)
        store: KeyStore = (JsonKeyStore(namespace=None, filename=keys) if keys
                           else MemoryKeyStore())
        device.keystore = store
        if privacy:
            device.irk = os.urandom(16)  # bumble's default identity key is all zeros
            device.le_privacy_enabled = True
            device.le_rpa_timeout = 0  # rotated by rotate_address, when the test says so
        device.pairing_config_factory = lambda _c: PairingConfig(
            sc=True, mitm=False, bonding=True,
            delegate=PairingDelegate(io_capability=PairingDelegate.NO_OUTPUT_NO_INPUT))
        await device.power_on()
        return cls(device, controller)

    async def rotate_address(self) -> str:
        """A new resolvable private address (privacy on); returns it. (Not bumble's
        ``update_rpa``: bumble 0.0.236 sends the controller the old address there.)"""
        device = self.device
        address = hci.Address.generate_private_address(device.irk)
        await device.send_sync_command(hci.HCI_LE_Set_Random_Address_Command(
            random_address=address))
        device.random_address = address
        return str(address)

    async def forget(self) -> None:
        """Drop every bond this central holds (a laptop that forgot the clip)."""
        store = self.device.keystore
        if store is not None:
            for name, _keys in await store.get_all():
                await store.delete(name)


def _found(ad: Advertisement) -> Found | None:
    from bumble.core import AdvertisingData

    uuids = ad.data.get(AdvertisingData.COMPLETE_LIST_OF_128_BIT_SERVICE_CLASS_UUIDS) or []
    if not any(str(u).lower() == SERVICE_UUID for u in uuids):
        return None
    name = ad.data.get(AdvertisingData.COMPLETE_LOCAL_NAME)
    battery = None
    for entry in ad.data.get_all(AdvertisingData.SERVICE_DATA_16_BIT_UUID) or []:
        uuid, data = entry
        if uuid == UUID.from_16_bits(0x180F) and data:
            battery = data[0]
    return Found(str(ad.address), name if isinstance(name, str) else None, ad.rssi,
                 ad.address, battery)


async def _gatt(op: Any, what: str) -> Any:
    """Await a GATT operation; a link loss under it is ``ConnectionFailed``. bumble cancels
    the pending ATT request's future when the link drops: that cancellation is the link's,
    not ours, unless this task itself is being cancelled."""
    try:
        return await op
    except asyncio.CancelledError:
        task = asyncio.current_task()
        if task is not None and task.cancelling():
            raise
        raise ConnectionFailed(f"{what}: the link went down") from None
    except (TimeoutError, BumbleTimeout, hci.HCI_Error) as e:
        raise ConnectionFailed(f"{what} failed: {e!r}") from None


class BumbleTransport:
    """One connection attempt to a clip through ``central`` (see ``transport.Transport``)."""

    def __init__(self, central: Central) -> None:
        self.central = central
        self.mtu = 23
        self.connection: Connection | None = None
        self.linked = False
        self.peer: Peer | None = None
        self._chars: dict[str, Any] = {}

    async def scan(self, timeout: float = 5.0, first: bool = True) -> list[Found]:
        device = self.central.device
        seen: dict[str, Found] = {}
        got_one = asyncio.Event()

        def on_advertisement(ad: Advertisement) -> None:
            found = _found(ad)
            if found is not None:
                seen[found.address] = found
                got_one.set()

        device.on(device.EVENT_ADVERTISEMENT, on_advertisement)
        try:
            await _gatt(asyncio.wait_for(device.start_scanning(active=True,
                                                               filter_duplicates=False),
                                         HCI_TIMEOUT_S), "scanning")
            with contextlib.suppress(TimeoutError):
                if first:
                    await asyncio.wait_for(got_one.wait(), timeout)
                else:
                    await asyncio.sleep(timeout)
        finally:
            device.remove_listener(device.EVENT_ADVERTISEMENT, on_advertisement)
            with contextlib.suppress(Exception):
                await asyncio.wait_for(device.stop_scanning(), HCI_TIMEOUT_S)
        return sorted(seen.values(), key=lambda f: -(f.rssi or -999))

    async def connect(self, found: Found, timeout: float,
                      on_disconnect: Callable[[], None]) -> None:
        device = self.central.device
        try:
            connection = await device.connect(found.handle or found.address,
                                              transport=PhysicalTransport.LE, timeout=timeout)
        except (hci.HCI_Error, TimeoutError, OSError, asyncio.CancelledError) as e:
            raise ConnectionFailed(f"cannot connect to {found.address}: {e!r}") from None
        self.connection = connection
        self.linked = True

        def disconnected(*_: object) -> None:
            self.linked = False
            on_disconnect()

        connection.on(connection.EVENT_DISCONNECTION, disconnected)
        peer = Peer(connection)
        self.peer = peer
        what = f"GATT set-up with {found.address}"
        try:
            self.mtu = await _gatt(asyncio.wait_for(peer.request_mtu(247), timeout), what)
            await _gatt(asyncio.wait_for(peer.discover_services(), timeout), what)
            await _gatt(asyncio.wait_for(peer.discover_characteristics(), timeout), what)
        except ProtocolError as e:
            raise ConnectionFailed(f"{what} failed: {e!r}") from None
        for service in peer.services:
            for char in service.characteristics:
                self._chars.setdefault(str(char.uuid).lower(), char)

    def _char(self, uuid: str) -> Any:
        if self.peer is None or self.connection is None:
            raise ConnectionFailed("not connected")
        u = uuid.lower()
        char = self._chars.get(u)
        if char is None:  # bumble names 16-bit UUIDs by their short form
            char = next((c for c in self.peer.get_characteristics_by_uuid(UUID(u))), None)
        if char is None:
            raise ConnectionFailed(f"the clip has no characteristic {uuid}")
        return char

    async def disconnect(self) -> None:
        if self.connection is not None and self.linked:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self.connection.disconnect(), DISCONNECT_TIMEOUT_S)

    async def pair(self) -> None:
        connection = self.connection
        if connection is None:
            raise ConnectionFailed("not connected")
        keys = None
        store = self.central.device.keystore
        if store is not None:
            keys = await store.get(str(connection.peer_address))
        try:
            if keys is not None and keys.ltk is not None:
                try:
                    await _gatt(asyncio.wait_for(connection.encrypt(), SECURITY_TIMEOUT_S),
                                "encryption")  # the stored bond
                    return
                except (ConnectionFailed, ProtocolError):
                    if not self.linked:
                        raise
                    # the clip lost its side of the bond: pair again
            await _gatt(asyncio.wait_for(connection.pair(), SECURITY_TIMEOUT_S), "pairing")
            if not connection.is_encrypted:
                await _gatt(asyncio.wait_for(connection.encrypt(), SECURITY_TIMEOUT_S),
                            "encryption")
        except ProtocolError as e:
            raise ConnectionFailed(f"pairing failed: {e!r}") from None

    async def start_notify(self, uuid: str, callback: Notify) -> None:
        char = self._char(uuid)
        try:
            await _gatt(char.subscribe(lambda value: callback(bytes(value))),
                        f"subscribing to {uuid}")
        except ProtocolError as e:
            raise ConnectionFailed(f"cannot subscribe to {uuid}: {e!r}") from None

    async def write(self, uuid: str, data: bytes) -> None:
        char = self._char(uuid)
        try:
            await _gatt(char.write_value(data, with_response=True), f"write to {uuid}")
        except ProtocolError as e:
            if e.error_code in ATT_SECURITY_ERRORS:
                raise EncryptionRequired(
                    f"the clip needs an encrypted link (ATT error {e.error_code:#04x})"
                ) from None
            raise ConnectionFailed(f"write to {uuid} failed: {e!r}") from None

    async def read(self, uuid: str) -> bytes:
        char = self._char(uuid)
        try:
            return bytes(await _gatt(char.read_value(), f"read of {uuid}"))
        except ProtocolError as e:
            raise ConnectionFailed(f"read of {uuid} failed: {e!r}") from None
