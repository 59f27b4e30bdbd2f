"""`postureclip demo` end to end (short shifts): a week through the firmware in MicroPython,
synced from the virtual clip over its link, today, history and the report."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from virtualclip import free_port


def test_demo_shows_a_week(tmp_path: Path) -> None:
    env = {**os.environ, "HOME": str(tmp_path)}  # its cache and store go there
    env.pop("MICROPYPATH", None)
    done = subprocess.run([sys.executable, "-m", "postureclip.cli", "demo", "--hours", "0.2",
                           "--port", str(free_port())], capture_output=True, text=True,
                          env=env, timeout=600)
    assert done.returncode == 0, done.stdout + done.stderr
    out = done.stdout
    assert "synced " in out and "new records from" in out
    history = out.split("`postureclip history`:")[1]
    rows = [line for line in history.splitlines() if line[:3] in ("Mon", "Tue", "Wed", "Thu",
                                                                   "Fri")]
    assert len(rows) == 5 and all(" 0.2 h" in r for r in rows), history
    assert "so how was this worker's posture this week?" in out
    report = tmp_path / ".cache" / "postureclip" / "demo" / "week.html"
    assert report.exists() and report.read_text().count("<svg") >= 6
