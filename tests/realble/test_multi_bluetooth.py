"""MicroPython's own two-device Bluetooth tests (tests/multi_bluetooth, unmodified, with its
tests/run-multitests.py) on two NimBLE unix instances joined by the virtual radio: the proof
that the rig behaves like two radios before the firmware's own BLE tests count.

Core tests, run for several rounds at both word sizes; the other tests of the suite are run
by `make bench` (benchmarks/multi_bluetooth.py), which reports each one."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from .rig import MPBLE, MPBLE32, MPBLE_DIR, ROOT, RadioProcess, require_build

CORE = ["ble_gap_connect", "ble_characteristic", "ble_subscribe", "ble_mtu", "ble_gap_pair",
        "ble_gap_pair_bond", "ble_gatt_data_transfer"]
ROUNDS = 2


def run_multitests(tmp: Path, exe: Path, tests: list[str], timeout: float) -> str:
    tmp.mkdir(parents=True, exist_ok=True)
    a, b = tmp / "hci0", tmp / "hci1"
    wrapper = ROOT / "tools" / "mpble" / "instance.py"
    instance = f"exec:{wrapper},MICROPY_BLE_BIN={exe},PATH=/usr/bin:/bin"
    cmd = [sys.executable, "run-multitests.py", "-r", str(tmp / "results"),
           "-t", f"{instance},MICROPYBTUART={a}", "-t", f"{instance},MICROPYBTUART={b}",
           *[f"multi_bluetooth/{t}.py" for t in tests]]
    with RadioProcess([a, b]):
        done = subprocess.run(cmd, cwd=MPBLE_DIR / "tests", capture_output=True, text=True,
                              timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})
    return done.stdout + done.stderr


@pytest.mark.parametrize("exe", [MPBLE, MPBLE32], ids=["64-bit", "32-bit"])
def test_core_multi_bluetooth_tests_pass_round_after_round(tmp_path: Path, exe: Path) -> None:
    require_build()
    for round_no in range(ROUNDS):
        out = run_multitests(tmp_path / f"r{round_no}", exe, CORE, timeout=300)
        print(out)
        for test in CORE:
            assert f"multi_bluetooth/{test}.py on instance.py|instance.py: pass" in out, (
                f"round {round_no + 1}: {test} did not pass:\n{out}")
        assert f"{len(CORE)} tests passed" in out
