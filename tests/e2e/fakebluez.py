"""A small fake of BlueZ's D-Bus API (org.bluez) on a private dbus-daemon, bridged to the
virtual clip, so bleak's real, unmodified BlueZ backend can be tested without a radio.

What it implements is what bleak uses: Adapter1 (discovery), Device1 (Connect, Disconnect,
Pair; Connected, ServicesResolved, Paired...), GattService1 and GattCharacteristic1
(ReadValue, WriteValue, StartNotify/StopNotify with one PropertiesChanged(Value) signal per
notification, MTU), the ObjectManager of dbus-fast, and a `bluetoothctl --version` shim.
Object paths are BlueZ's exactly (bleak parses handles from them).
"""
# No `from __future__ import annotations` here: dbus-fast reads the D-Bus signatures from the
# method annotations at run time.
import asyncio
import contextlib
import os
import stat
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from dbus_fast import BusType, Variant
from dbus_fast.aio import MessageBus
from dbus_fast.errors import DBusError
from dbus_fast.service import PropertyAccess, ServiceInterface, dbus_property, method

from postureclip.simlink import ATT_INSUFFICIENT_ENCRYPTION, LinkError, SimLink

ADAPTER = "/org/bluez/hci0"
ADDRESS = "24:6F:28:01:02:03"
DEVICE = ADAPTER + "/dev_" + ADDRESS.replace(":", "_")
_FLAGS = ((0x0002, "read"), (0x0008, "write"), (0x0004, "write-without-response"),
          (0x0010, "notify"), (0x1000, "encrypt-write"), (0x0200, "encrypt-read"))


def _uuid128(u: str) -> str:
    return f"0000{u}-0000-1000-8000-00805f9b34fb" if len(u) == 4 else u


def _att_error(status: int) -> DBusError:
    return DBusError("org.bluez.Error.Failed", f"Operation failed with ATT error: 0x{status:02x}")


class Adapter(ServiceInterface):
    def __init__(self, fake: "FakeBluez") -> None:
        super().__init__("org.bluez.Adapter1")
        self.fake = fake
        self.discovering = False

    @method()
    async def StartDiscovery(self) -> None:
        self.discovering = True
        self.emit_properties_changed({"Discovering": True})
        self.fake.start_discovery()

    @method()
    async def StopDiscovery(self) -> None:
        self.discovering = False
        self.emit_properties_changed({"Discovering": False})
        self.fake.stop_discovery()

    @method()
    def SetDiscoveryFilter(self, properties: "a{sv}") -> None:
        pass

    @method()
    def RemoveDevice(self, device: "o") -> None:
        pass

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":
        return "00:1A:7D:DA:71:13"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":
        return "fake-hci0"

    @dbus_property(access=PropertyAccess.READ)
    def Powered(self) -> "b":
        return True

    @dbus_property(access=PropertyAccess.READ)
    def Discovering(self) -> "b":
        return self.discovering

    @dbus_property(access=PropertyAccess.READ)
    def Roles(self) -> "as":
        return ["central", "peripheral"]


class Device(ServiceInterface):
    def __init__(self, fake: "FakeBluez", name: str) -> None:
        super().__init__("org.bluez.Device1")
        self.fake = fake
        self.local_name = name  # (``name`` is the D-Bus interface name in ServiceInterface)
        self.connected = False
        self.resolved = False
        self.paired = False
        self.trusted = False
        self.rssi = -48

    @method()
    async def Connect(self) -> None:
        await self.fake.connect()

    @method()
    async def Disconnect(self) -> None:
        await self.fake.disconnect()

    @method()
    async def Pair(self) -> None:
        await self.fake.pair()

    @dbus_property(access=PropertyAccess.READ)
    def Address(self) -> "s":
        return ADDRESS

    @dbus_property(access=PropertyAccess.READ)
    def AddressType(self) -> "s":
        return "public"

    @dbus_property(access=PropertyAccess.READ)
    def Name(self) -> "s":
        return self.local_name

    @dbus_property(access=PropertyAccess.READ)
    def Alias(self) -> "s":
        return self.local_name

    @dbus_property(access=PropertyAccess.READ)
    def Adapter(self) -> "o":
        return ADAPTER

    @dbus_property(access=PropertyAccess.READ)
    def Connected(self) -> "b":
        return self.connected

    @dbus_property(access=PropertyAccess.READ)
    def ServicesResolved(self) -> "b":
        return self.resolved

    @dbus_property(access=PropertyAccess.READ)
    def Paired(self) -> "b":
        return self.paired

    @dbus_property(access=PropertyAccess.READ)
    def Bonded(self) -> "b":
        return self.paired

    @dbus_property()
    def Trusted(self) -> "b":
        return self.trusted

    @Trusted.setter
    def Trusted(self, value: "b") -> None:  # bleak trusts the device before pairing
        self.trusted = value

    @dbus_property(access=PropertyAccess.READ)
    def Blocked(self) -> "b":
        return False

    @dbus_property(access=PropertyAccess.READ)
    def RSSI(self) -> "n":
        return self.rssi

    @dbus_property(access=PropertyAccess.READ)
    def UUIDs(self) -> "as":
        return [self.fake.service_uuid, _uuid128("180f")]

    @dbus_property(access=PropertyAccess.READ)
    def ManufacturerData(self) -> "a{qv}":
        return {}

    @dbus_property(access=PropertyAccess.READ)
    def ServiceData(self) -> "a{sv}":
        return {}


class GattService(ServiceInterface):
    def __init__(self, uuid: str) -> None:
        super().__init__("org.bluez.GattService1")
        self.uuid = uuid

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Device(self) -> "o":
        return DEVICE

    @dbus_property(access=PropertyAccess.READ)
    def Primary(self) -> "b":
        return True


class GattCharacteristic(ServiceInterface):
    def __init__(self, fake: "FakeBluez", handle: int, uuid: str, flags: int,
                 service: str) -> None:
        super().__init__("org.bluez.GattCharacteristic1")
        self.fake = fake
        self.handle = handle
        self.uuid = uuid
        self.flags = [name for bit, name in _FLAGS if flags & bit]
        self.service = service
        self.value = b""
        self.notifying = False

    @method()
    async def ReadValue(self, options: "a{sv}") -> "ay":
        status, data = await self.fake.link_call("read", self.handle)
        if status:
            raise _att_error(status)
        return data

    @method()
    async def WriteValue(self, value: "ay", options: "a{sv}") -> None:
        status = await self.fake.link_call("write", self.handle, bytes(value))
        if status:
            raise _att_error(status)

    @method()
    async def StartNotify(self) -> None:
        await self.fake.link_call("subscribe", self.handle, True)
        self.notifying = True
        self.emit_properties_changed({"Notifying": True})

    @method()
    async def StopNotify(self) -> None:
        with contextlib.suppress(DBusError):
            await self.fake.link_call("subscribe", self.handle, False)
        self.notifying = False

    @dbus_property(access=PropertyAccess.READ)
    def UUID(self) -> "s":
        return self.uuid

    @dbus_property(access=PropertyAccess.READ)
    def Service(self) -> "o":
        return self.service

    @dbus_property(access=PropertyAccess.READ)
    def Value(self) -> "ay":
        return self.value

    @dbus_property(access=PropertyAccess.READ)
    def Notifying(self) -> "b":
        return self.notifying

    @dbus_property(access=PropertyAccess.READ)
    def Flags(self) -> "as":
        return self.flags

    @dbus_property(access=PropertyAccess.READ)
    def MTU(self) -> "q":
        return self.fake.mtu


class FakeBluez:
    """``await FakeBluez.start(clip_port)`` sets DBUS_SYSTEM_BUS_ADDRESS and PATH for bleak."""

    def __init__(self, clip_port: int, adapter: bool = True) -> None:
        self.clip_port = clip_port
        self.has_adapter = adapter  # False: BlueZ runs but finds no Bluetooth adapter
        self.tmp = tempfile.TemporaryDirectory()
        self.daemon: subprocess.Popen[str] | None = None
        self.bus: MessageBus | None = None
        self.link: SimLink | None = None
        self.device: Device | None = None
        self.chars: dict[int, GattCharacteristic] = {}
        self.gatt_paths: list[str] = []
        self.mtu = 23
        self.service_uuid = ""
        self._scan: asyncio.Task[None] | None = None
        self._pump: asyncio.Task[None] | None = None
        self.saved_env: dict[str, str | None] = {}

    async def start(self) -> "FakeBluez":
        tmp = Path(self.tmp.name)
        self.daemon = subprocess.Popen(
            ["dbus-daemon", "--session", "--nofork", "--print-address=1",
             f"--address=unix:path={tmp / 'bus'}"], stdout=subprocess.PIPE, text=True)
        assert self.daemon.stdout is not None
        address = self.daemon.stdout.readline().strip()
        shim = tmp / "bluetoothctl"
        shim.write_text("#!/bin/sh\necho 5.66\n")
        shim.chmod(shim.stat().st_mode | stat.S_IEXEC)
        for k, v in (("DBUS_SYSTEM_BUS_ADDRESS", address),
                     ("PATH", f"{tmp}{os.pathsep}{os.environ.get('PATH', '')}")):
            self.saved_env[k] = os.environ.get(k)
            os.environ[k] = v
        self.bus = await MessageBus(bus_address=address, bus_type=BusType.SYSTEM).connect()
        if self.has_adapter:
            self.bus.export(ADAPTER, Adapter(self))
        await self.bus.request_name("org.bluez")
        return self

    async def stop(self) -> None:
        self.stop_discovery()
        await self.disconnect()
        if self.bus is not None:
            self.bus.disconnect()
        if self.daemon is not None:
            self.daemon.kill()
            self.daemon.wait()
        for k, v in self.saved_env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        self.tmp.cleanup()

    # --- discovery: scans see only InterfacesAdded/PropertiesChanged: re-advertise --------
    def start_discovery(self) -> None:
        if self._scan is None:
            self._scan = asyncio.get_running_loop().create_task(self._discover())

    def stop_discovery(self) -> None:
        if self._scan is not None:
            self._scan.cancel()
            self._scan = None

    async def _discover(self) -> None:
        while True:
            if self.link is None:
                with contextlib.suppress(LinkError):
                    link = await SimLink.open(port=self.clip_port, timeout=1.0)
                    try:
                        adv = await link.scan()
                    finally:
                        await link.close()
                    if adv.advertising:
                        self._advertised(adv.name or "postureclip")
            await asyncio.sleep(0.1)

    def _advertised(self, name: str) -> None:
        from postureclip.protocol import SERVICE_UUID

        assert self.bus is not None
        self.service_uuid = SERVICE_UUID
        if self.device is None:
            self.device = Device(self, name)
            self.bus.export(DEVICE, self.device)
        else:
            self.device.rssi = -48 if self.device.rssi != -48 else -47
            self.device.emit_properties_changed({"RSSI": self.device.rssi})

    # --- the link -----------------------------------------------------------------------
    async def connect(self) -> None:
        assert self.bus is not None and self.device is not None
        if self.link is not None:
            return
        try:
            self.link = await SimLink.open(port=self.clip_port)
            table = await self.link.connect()
            self.mtu = await self.link.exchange_mtu(247)
            if self.device.paired:  # a bonded device: BlueZ encrypts with the stored key
                await self.link.pair()
        except LinkError as e:
            self.link = None
            raise DBusError("org.bluez.Error.Failed", f"connection failed: {e}") from None
        dev = self.device
        dev.connected = True
        dev.emit_properties_changed({"Connected": True})
        services: dict[str, str] = {}
        for c in table:
            svc = _uuid128(c.service)
            if svc not in services:
                path = f"{DEVICE}/service{c.handle - 2:04x}"
                services[svc] = path
                self.bus.export(path, GattService(svc))
                self.gatt_paths.append(path)
            cpath = f"{services[svc]}/char{c.handle - 1:04x}"
            char = GattCharacteristic(self, c.handle, _uuid128(c.uuid), c.flags, services[svc])
            self.chars[c.handle] = char
            self.bus.export(cpath, char)
            self.gatt_paths.append(cpath)
        dev.resolved = True
        dev.emit_properties_changed({"ServicesResolved": True})
        self._pump = asyncio.get_running_loop().create_task(self._notifications(self.link))

    async def _notifications(self, link: SimLink) -> None:
        get = asyncio.ensure_future(link.notifications.get())
        gone = asyncio.ensure_future(link.disconnected.wait())
        try:
            while True:
                done, _ = await asyncio.wait({get, gone}, return_when=asyncio.FIRST_COMPLETED)
                if get in done:
                    handle, data = get.result()
                    char = self.chars.get(handle)
                    if char is not None:
                        char.value = data
                        char.emit_properties_changed({"Value": data})  # one per notification
                    get = asyncio.ensure_future(link.notifications.get())
                    continue
                break
        finally:
            get.cancel()
            gone.cancel()
        if self.link is link:  # the clip dropped the link
            await self._gone()

    async def _gone(self) -> None:
        self.link = None
        assert self.bus is not None
        for path in reversed(self.gatt_paths):
            self.bus.unexport(path)
        self.gatt_paths = []
        self.chars = {}
        if self.device is not None:
            self.device.resolved = False
            self.device.connected = False
            self.device.emit_properties_changed({"ServicesResolved": False})
            self.device.emit_properties_changed({"Connected": False})

    async def disconnect(self) -> None:
        link = self.link
        if link is None:
            return
        self.link = None
        if self._pump is not None:
            self._pump.cancel()
        await link.close()
        await self._gone()

    async def pair(self) -> None:
        if self.link is None:
            await self.connect()
        assert self.link is not None and self.device is not None
        await self.link.pair()
        self.device.paired = True
        self.device.emit_properties_changed({"Paired": True, "Bonded": True})

    async def link_call(self, what: str, handle: int, *args: Any) -> Any:
        if self.link is None:
            raise DBusError("org.bluez.Error.Failed", "Not connected")
        try:
            if what == "read":
                return await self.link.read(handle)
            if what == "write":
                return await self.link.write(handle, *args)
            return await self.link.subscribe(handle, *args)
        except LinkError as e:
            raise DBusError("org.bluez.Error.Failed", str(e)) from None


__all__ = ["ATT_INSUFFICIENT_ENCRYPTION", "FakeBluez", "Variant"]
