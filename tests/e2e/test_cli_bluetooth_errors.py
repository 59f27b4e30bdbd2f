"""Without usable Bluetooth, `postureclip sync` says so in one sentence and exits non-zero
(issue 16: it printed a 40-line traceback): no system D-Bus at all, and a D-Bus without BlueZ."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest


def run_sync(tmp_path: Path, bus: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DBUS_SYSTEM_BUS_ADDRESS": bus}
    return subprocess.run([sys.executable, "-m", "postureclip.cli", "sync", "--retries", "0",
                           "--store", str(tmp_path / "store.db")],
                          capture_output=True, text=True, env=env, timeout=60)


def test_sync_without_a_system_bus_is_one_sentence(tmp_path: Path) -> None:
    proc = run_sync(tmp_path, f"unix:path={tmp_path / 'no-such-socket'}")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "cannot reach BlueZ" in proc.stderr and "--sim" in proc.stderr


def test_sync_without_bluez_on_the_bus_is_one_sentence(tmp_path: Path) -> None:
    if subprocess.run(["which", "dbus-daemon"], capture_output=True).returncode:
        pytest.fail("dbus-daemon is missing (the fake-BlueZ test needs it too)")
    daemon = subprocess.Popen(["dbus-daemon", "--session", "--nofork", "--print-address=1",
                               "--nopidfile"], stdout=subprocess.PIPE, text=True)
    try:
        assert daemon.stdout is not None
        address = daemon.stdout.readline().strip()
        proc = run_sync(tmp_path, address)
    finally:
        daemon.kill()
        daemon.wait()
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert "BlueZ (bluetoothd) is not running" in proc.stderr, proc.stderr
