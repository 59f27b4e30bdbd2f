"""`postureclip doctor` against the fake BlueZ (ready), a bus without BlueZ, no bus at all, and
stores it must warn about."""
from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from fakebluez import FakeBluez
from virtualclip import VirtualClip

from postureclip import doctor


async def test_doctor_finds_bluez_and_a_powered_adapter(tmp_path: Path) -> None:
    clip = VirtualClip(tmp_path / "flash").start()
    fake = await FakeBluez(clip.port).start()
    try:
        checks = {c.name: c for c in await doctor._bluez()}
    finally:
        await fake.stop()
        clip.stop()
    assert checks["system D-Bus"].ok and checks["BlueZ"].ok
    adapters = [c for name, c in checks.items() if name.startswith("adapter ")]
    assert adapters and all(c.ok and c.found == "powered" for c in adapters)


def doctor_cli(bus: str, store: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postureclip.cli", "doctor", "--store",
                           str(store)], capture_output=True, text=True, timeout=60,
                          env={**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus})


def test_doctor_says_what_is_missing_and_how_to_fix_it(tmp_path: Path) -> None:
    out = doctor_cli(f"unix:path={tmp_path / 'none'}", tmp_path / "new" / "store.db")
    assert out.returncode == 1 and "Traceback" not in out.stderr
    assert "NO  system D-Bus" in out.stdout and "systemctl start bluetooth" in out.stdout
    assert "ok  store" in out.stdout and "not created yet" in out.stdout
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                               "--nopidfile"], stdout=subprocess.PIPE, text=True)
    newer = tmp_path / "newer.db"
    db = sqlite3.connect(newer)
    db.execute("CREATE TABLE records (device TEXT)")
    db.execute("PRAGMA user_version = 99")
    db.commit()
    db.close()
    try:
        assert daemon.stdout is not None
        out = doctor_cli(daemon.stdout.readline().strip(), newer)
    finally:
        daemon.kill()
        daemon.wait()
    assert out.returncode == 1
    assert "ok  system D-Bus" in out.stdout and "NO  BlueZ" in out.stdout
    assert "NO  store" in out.stdout and "update postureclip" in out.stdout


async def test_bluez_without_an_adapter_is_one_sentence(tmp_path: Path) -> None:
    # BlueZ runs but has no adapter: doctor says so, and sync says it in one sentence
    fake = await FakeBluez(0, adapter=False).start()
    try:
        checks = {c.name: c for c in await doctor._bluez()}
        # (a child process: this loop serves the fake BlueZ meanwhile)
        proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "postureclip.cli", "sync", "--retries", "0", "--store",
            str(tmp_path / "s.db"), stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE)
        _, err_bytes = await asyncio.wait_for(proc.communicate(), 60)
        err = err_bytes.decode()
    finally:
        await fake.stop()
    assert checks["BlueZ"].ok and not checks["Bluetooth adapter"].ok
    assert "rfkill" in checks["Bluetooth adapter"].fix
    assert proc.returncode == 2 and "Traceback" not in err, err
    assert "no Bluetooth adapter found" in err, err


def test_a_clip_that_is_not_there_is_one_sentence(tmp_path: Path) -> None:
    from virtualclip import free_port

    done = subprocess.run([sys.executable, "-m", "postureclip.cli", "status", "--sim",
                           str(free_port()), "--retries", "0"], capture_output=True,
                          text=True, timeout=60)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "no postureclip advertising nearby: press the clip's button" in done.stderr
