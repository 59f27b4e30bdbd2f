"""`postureclip demo` end to end (short shifts): a week through the firmware in MicroPython,
synced from the virtual clip over its link; then every reading command on that store —
today, history, export, report (through Chromium) — as the worker would run them."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pyarrow.csv as pacsv
from virtualclip import free_port


def test_demo_week_and_the_reading_commands(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    env = {**os.environ, "HOME": str(tmp_path)}  # its cache and store go there
    env.pop("MICROPYPATH", None)

    def cli(*args: str) -> str:
        done = subprocess.run([sys.executable, "-m", "postureclip.cli", *args],
                              capture_output=True, text=True, env=env, timeout=600)
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout

    out = cli("demo", "--hours", "0.2", "--port", str(free_port()))
    assert "synced " in out and "new records from" in out
    history = out.split("`postureclip history`:")[1]
    rows = [line for line in history.splitlines() if line[:3] in ("Mon", "Tue", "Wed", "Thu",
                                                                   "Fri")]
    assert len(rows) == 5 and all(" 0.2 h" in r for r in rows), history
    assert "so how was this worker's posture this week?" in out
    demo = tmp_path / ".cache" / "postureclip" / "demo"
    store = str(demo / "store.db")
    last = re.search(r"today --date (\d{4}-\d\d-\d\d)", out)
    assert last is not None
    day = last.group(1)

    today = cli("today", "--date", day, "--store", store)
    assert "recorded       0.2 h" in today and "of the time sitting or standing" in today
    assert cli("history", "--until", day, "--store", store).count(" 0.2 h ") == 5
    cli("export", "--what", "episodes", "--format", "csv", "--out", str(tmp_path / "e.csv"),
        "--store", store)
    episodes = pacsv.read_csv(tmp_path / "e.csv").to_pylist()
    assert episodes and all(e["start"] is not None for e in episodes)  # all placed in UTC
    page = tmp_path / "day.html"
    cli("report", "--day", day, "--out", str(page), "--store", store)
    seen = chromium(page)
    assert not seen.console and day[:4] in seen.dom
    assert "recorded" in seen.dom and "lifts" in seen.dom
    assert all(dark > 500 for dark in seen.ink_bands(1200)), seen.ink_bands(1200)
