"""Start and stop the virtual clip (firmware/sim/run.py in the real MicroPython) for tests."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def micropython() -> list[str]:
    exe = Path(sys.executable).with_name("micropython")
    return [sys.executable, str(exe)] if exe.exists() else ["micropython"]


class VirtualClip:
    def __init__(self, flash: Path, motion: Path | None = None, heapsize: str | None = None,
                 mem_report_s: float | None = None, journal: Path | None = None,
                 port: int | None = None, radio_window_s: int | None = None) -> None:
        self.journal = journal
        self.radio_window_s = radio_window_s
        self.flash = flash
        self.motion = motion
        self.heapsize = heapsize
        self.mem_report_s = mem_report_s
        self.port = port or free_port()
        self.proc: subprocess.Popen[str] | None = None
        self.output: list[str] = []

    def start(self, timeout: float = 20.0) -> VirtualClip:
        cmd = micropython()
        if self.heapsize:
            cmd += ["-X", f"heapsize={self.heapsize}"]
        cmd += [str(ROOT / "firmware" / "sim" / "run.py"), "--port", str(self.port),
                "--flash", str(self.flash)]
        if self.motion:
            cmd += ["--motion", str(self.motion)]
        if self.journal:
            cmd += ["--journal", str(self.journal)]
        if self.mem_report_s:
            cmd += ["--mem-report", str(self.mem_report_s)]
        if self.radio_window_s:
            cmd += ["--radio-window", str(self.radio_window_s)]
        env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                                     text=True, env=env, bufsize=1)
        deadline = time.monotonic() + timeout
        assert self.proc.stdout is not None
        while time.monotonic() < deadline:
            line = self.proc.stdout.readline()
            if not line:
                raise RuntimeError("virtual clip exited:\n" + "".join(self.output))
            self.output.append(line)
            if line.startswith("postureclip on"):
                # keep draining its output so the clip never blocks on a full pipe
                threading.Thread(target=self._drain, daemon=True).start()
                return self
        raise RuntimeError("virtual clip did not start:\n" + "".join(self.output))

    def _drain(self) -> None:
        proc = self.proc
        if proc is None or proc.stdout is None:
            return
        for line in proc.stdout:
            self.output.append(line)

    def stop(self) -> str:
        if self.proc is not None:
            self.proc.kill()
            self.proc.wait(timeout=10)
            self.proc = None
        return "".join(self.output)
