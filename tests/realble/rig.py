"""The real-stack rig for tests: MicroPython's unix port with NimBLE (built by `make mpble`)
and the virtual radio (postureclip.radio) its HCI UART talks to."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
MPBLE_DIR = ROOT / ".venv" / "micropython-ble"
MPBLE = MPBLE_DIR / "ports" / "unix" / "build-standard" / "micropython"
MPBLE32 = MPBLE_DIR / "ports" / "unix" / "build-x86" / "micropython"


def require_build() -> None:
    if not MPBLE.exists() or not MPBLE32.exists():
        raise RuntimeError(f"{MPBLE} is missing: `make mpble` builds it (make test does)")


class RadioProcess:
    """``python -m postureclip.radio`` with a controller per pty path."""

    def __init__(self, ptys: list[Path]) -> None:
        self.ptys = ptys
        self.proc: subprocess.Popen[str] | None = None

    def __enter__(self) -> RadioProcess:
        for p in self.ptys:
            p.unlink(missing_ok=True)
        cmd = [sys.executable, "-m", "postureclip.radio"]
        for p in self.ptys:
            cmd += ["--pty", str(p)]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, start_new_session=True)
        assert self.proc.stdout is not None
        deadline = time.monotonic() + 20
        lines: list[str] = []
        while time.monotonic() < deadline:
            lines.append(self.proc.stdout.readline())
            if not lines[-1] or lines[-1].startswith("radio ready"):
                break
        if not lines[-1].startswith("radio ready"):
            raise RuntimeError("the virtual radio did not start:\n" + "".join(lines))
        return self

    def __exit__(self, *exc: object) -> None:
        if self.proc is not None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=10)
