"""`postureclip report` as a person sees it: headless Chromium opens the file (no network),
takes a screenshot, and the test checks that the plots rendered (the screenshot is not blank
where the figures are), the page logged no error, and the day's key numbers are on it."""
from __future__ import annotations

import math
import os
import re
import struct
import subprocess
import sys
from pathlib import Path

from test_daily import DAY1, DEV, at, build

from postureclip.protocol import Record, RecordType
from postureclip.store import Store


def with_trace(store: Store) -> None:
    """Day 1's angle trace: 1 Hz from 08:00 for 2 h, a slow sway with two slouches."""
    seq = 10_000
    records = []
    start = at(DAY1, 8)
    for first in range(0, 7200, 99):
        pairs = []
        for i in range(first, min(first + 99, 7200)):
            flex = 8 + 4 * math.sin(i / 300) + (22 if 1800 <= i < 1840 or 3600 <= i < 3690 else 0)
            pairs += [round(flex), 0]
        records.append(Record(RecordType.TRACE, seq, start + first, 0, True,
                              struct.pack(f"<B{len(pairs)}b", 1, *pairs)))
        seq += 1
    store.add(DEV, records)


def test_report_renders_in_chromium(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    store_path = tmp_path / "s.db"
    with Store(store_path) as store:
        build(store)
        with_trace(store)
        store.set_meta("exercise_program", '{"started": "2026-11-01", "level": 1}')
    out = tmp_path / "day.html"
    env = {**os.environ, "TZ": "UTC"}
    done = subprocess.run([sys.executable, "-m", "postureclip.cli", "report", "--day",
                           DAY1.isoformat(), "--out", str(out), "--store", str(store_path)],
                          capture_output=True, text=True, env=env, timeout=120)
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.count("<svg") == 3  # the week's trend, the timeline, the posture bars
    assert not re.search(r"""(src|href)\s*=\s*["']https?:""", page)  # nothing fetched
    seen = chromium(out)
    assert not seen.console, seen.console  # no script errors, no failed loads
    for words in ("Monday 23 November 2026", "98 % (goal 80 %: met)",
                  "2 min in 2 episodes", "1 squat, 1 stoop, 1 twisted", "sat up after 35 s",
                  "4 sets: plank 2 × (45 s, 38 s), bridge 12 reps, side plank (left) 1 × (30 s)",
                  "longest stretch without a break 48 min; 2 breaks, 1 reminders to move",
                  "Exercise:</b> level", "sessions in the last 7 days"):
        assert words in seen.dom, words
    # the figures rendered: ink in every band of the page (about 1,150 px high)
    assert all(dark > 500 for dark in seen.ink_bands(1200)), seen.ink_bands(1200)
