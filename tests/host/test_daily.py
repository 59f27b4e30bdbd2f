"""`postureclip today` and `history` on a store with two known days (UTC), and their answers
to a day without data, a bad date and a missing store."""
from __future__ import annotations

import os
import struct
import subprocess
import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from postureclip import daily
from postureclip.history import CLIP_EPOCH_UNIX
from postureclip.protocol import Record, RecordType
from postureclip.store import Store

DEV = "246f28010203"
DAY1, DAY2 = date(2026, 11, 23), date(2026, 11, 24)


def at(day: date, hour: float) -> int:
    """The clip's wall-clock seconds (since 2000-01-01 UTC) at ``hour`` of ``day`` (UTC)."""
    t = datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp() + hour * 3600
    return int(t - CLIP_EPOCH_UNIX)


def build(store: Store) -> None:
    seq = 0
    records = []

    def add(rtype: RecordType, t: int, fmt: str, *values: int) -> None:
        nonlocal seq
        records.append(Record(rtype, seq, t, 0, True, struct.pack(fmt, *values)))
        seq += 1

    # day 1: 2 h recorded (120 summaries of 60 s: 48 upright, 12 slouched each 10 min block)
    for i in range(120):
        add(RecordType.SUMMARY, at(DAY1, 8) + 60 * i, "<HHHHBBB",
            60, 48 if i % 10 == 0 else 60, 12 if i % 10 == 0 else 0, 0, 0, 0, 0)
    # two episodes: 40 s with a buzz at 30 s (sat up 10 s later), 90 s with one at 30 s (60 s)
    add(RecordType.BUZZ, at(DAY1, 8.5) + 30, "<BB", 0, 1)
    add(RecordType.SLOUCH_END, at(DAY1, 8.5) + 40, "<Ihhh", 40000, 300, 250, 0)
    add(RecordType.BUZZ, at(DAY1, 9) + 30, "<BB", 0, 1)
    add(RecordType.SLOUCH_END, at(DAY1, 9) + 90, "<Ihhh", 90000, 320, 260, 0)
    add(RecordType.LIFT, at(DAY1, 9.5), "<HhhhBB", 2000, 700, 50, 0, 2, 0)  # stoop
    add(RecordType.BUZZ, at(DAY1, 9.5) + 3, "<BB", 1, 3)
    add(RecordType.LIFT, at(DAY1, 9.6), "<HhhhBB", 2000, 300, 400, 0, 1, 1)  # squat, twisted
    add(RecordType.BUZZ, at(DAY1, 9.6) + 3, "<BB", 1, 4)
    # what the clip held back and its mounting: 2 held while walking, 1 lean (lean_buzz 0);
    # one slip re-measured, one re-measuring undone by the next walk, one time off the body
    add(RecordType.HELD, at(DAY1, 8.7), "<BB", 1, 4)
    add(RecordType.HELD, at(DAY1, 8.8), "<BB", 1, 4)
    add(RecordType.HELD, at(DAY1, 8.9), "<BB", 10, 9)
    add(RecordType.SLIP, at(DAY1, 9.1), "<Bh", 1, 153)
    add(RecordType.SLIP, at(DAY1, 9.2), "<Bh", 1, 120)
    add(RecordType.SLIP, at(DAY1, 9.21), "<Bh", 4, 120)
    add(RecordType.SLIP, at(DAY1, 9.7), "<Bh", 2, 0)
    # an exercise session: two planks, 12 bridges, a side plank on the left; two breaks, one
    # reminder to move (and one held while walking)
    add(RecordType.EXERCISE, at(DAY1, 7), "<BBHHB", 1, 0, 452, 461, 0)
    add(RecordType.EXERCISE, at(DAY1, 7.02), "<BBHHB", 1, 0, 380, 390, 9)
    add(RecordType.EXERCISE, at(DAY1, 7.04), "<BBHHB", 4, 12, 0, 360, 0)
    add(RecordType.EXERCISE, at(DAY1, 7.06), "<BBHHB", 2, 0, 301, 310, 0)
    add(RecordType.BREAK, at(DAY1, 7.1), "<I", 600)
    add(RecordType.BREAK, at(DAY1, 9.9), "<I", 2880)
    add(RecordType.BUZZ, at(DAY1, 9.4), "<BB", 7, 12)
    add(RecordType.HELD, at(DAY1, 9.45), "<BB", 12, 4)
    # day 2: 1 h, all upright
    for i in range(60):
        add(RecordType.SUMMARY, at(DAY2, 14) + 60 * i, "<HHHHBBB", 60, 60, 0, 0, 0, 0, 0)
    store.add(DEV, records)


def test_days_from_the_decoded_tables(tmp_path: Path) -> None:
    with Store(tmp_path / "s.db") as store:
        build(store)
        d1 = daily.summarize(store, DAY1, UTC)
        d2 = daily.summarize(store, DAY2, UTC)
        d3 = daily.summarize(store, date(2026, 11, 25), UTC)
    assert d1.recorded_s == 7200 and d1.slouch_s == 12 * 12
    assert d1.upright_pct == pytest.approx(100 * (7200 - 144) / 7200)  # nothing moving here
    assert d1.episodes == 2 and d1.longest_episode_s == 90
    assert d1.posture_buzzes == 2 and d1.median_correction_s == pytest.approx(35)
    assert (d1.lifts, d1.squats, d1.stoops, d1.twisted_lifts, d1.lift_warnings) == (2, 1, 1, 1, 2)
    assert d1.held == {"while walking": 3, "leaning to one side (lean_buzz 0)": 1}
    assert d1.exercise == [("plank", 0, 45.2), ("plank", 0, 38.0), ("bridge", 12, 0.0),
                           ("side plank (left)", 0, 30.1)]
    assert (d1.breaks, d1.longest_still_s, d1.move_reminders) == (2, 2880, 1)
    assert d1.posture_buzzes == 2  # the reminder to move is not a posture buzz
    assert (d1.slips, d1.worn_off) == (1, 1) and sorted(d1.corrections_s) == [10.0, 60.0]
    # the stoop: 70 deg (4) + 70 deg/s on average (+1); the squat: 30 deg (3) + twisted (+1)
    assert d1.lift_scores == [5, 4]
    assert d2.upright_pct == 100 and d2.goal_met(80) and d3.empty
    assert d2.held == {} and d2.slips == 0


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postureclip.cli", *args], capture_output=True,
                          text=True, timeout=60, env={**os.environ, "TZ": "UTC"})


def test_today_and_history_commands(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with Store(path) as store:
        build(store)
    out = cli("today", "--date", "2026-11-23", "--store", str(path))
    assert out.returncode == 0, out.stderr
    assert "Monday 23 November 2026" in out.stdout
    assert "98 % of the time sitting or standing (goal 80 %)" in out.stdout
    assert "2 min in 2 episodes, longest 90 s" in out.stdout
    assert "sat up 35 s after a buzz" in out.stdout and "1 squat, 1 stoop, 1 twisted" in out.stdout
    assert ("held back      4: 3 while walking, 1 leaning to one side (lean_buzz 0)"
            in out.stdout)
    assert ("exercise       4 sets: plank 2 × (45 s, 38 s), bridge 12 reps, side plank (left) "
            "1 × (30 s)") in out.stdout
    assert "breaks         2 (a minute's walk or an exercise session); longest still stretch " \
        "48 min; 1 reminder to move" in out.stdout
    assert "clip moved     1 time on your back" in out.stdout
    assert "taken off      1 time" in out.stdout
    assert "risk 4.5 of 7 on average, 1 at 5 or more" in out.stdout
    out = cli("history", "--days", "3", "--until", "2026-11-25", "--store", str(path))
    assert out.returncode == 0, out.stderr
    lines = out.stdout.strip().splitlines()
    assert len(lines) == 5 and lines[1].startswith("Mon 23 Nov") and lines[3].endswith("–")
    assert "met on 2 of 2 days with data" in lines[-1]
    for args, words in (
            (("today", "--date", "2026-11-25"), "nothing recorded on 2026-11-25"),
            (("today", "--date", "27/11/2026"), "is not a date"),
            (("history", "--days", "0"), "--days takes 1 to 366")):
        bad = cli(*args, "--store", str(path))
        assert bad.returncode == 2 and words in bad.stderr, bad.stderr
        assert "Traceback" not in bad.stderr and len(bad.stderr.strip().splitlines()) == 1
    missing = cli("today", "--store", str(tmp_path / "none.db"))
    assert missing.returncode == 2 and "sync first" in missing.stderr
    assert not (tmp_path / "none.db").exists()


@pytest.mark.parametrize("fmt", ["csv", "parquet", "jsonl"])
def test_export_is_read_back_by_pyarrow(tmp_path: Path, fmt: str) -> None:
    import pyarrow.csv as pacsv
    import pyarrow.json as pajson
    import pyarrow.parquet as pq

    path = tmp_path / "s.db"
    with Store(path) as store:
        build(store)
    out = tmp_path / f"lifts.{fmt}"
    done = cli("export", "--what", "lifts", "--format", fmt, "--out", str(out),
               "--from", "2026-11-23", "--to", "2026-11-23", "--store", str(path))
    assert done.returncode == 0, done.stderr
    table = {"csv": pacsv.read_csv, "parquet": pq.read_table, "jsonl": pajson.read_json}[fmt](out)
    rows = table.to_pylist()
    assert [r["technique"] for r in rows] == ["stoop", "squat"]
    assert list(table.column_names) == [
        "device", "seq", "start", "end", "boot", "since_boot_s", "duration_s",
        "peak_flexion_deg", "twist_deg", "peak_lateral_deg", "technique", "twisted", "lateral"]
    start = rows[0]["start"]
    start = start if isinstance(start, str) else start.isoformat()
    assert start.startswith("2026-11-23T09:30:00") and rows[0]["peak_flexion_deg"] == 70.0
    # another day: nothing; a bad range: one sentence
    empty = cli("export", "--what", "episodes", "--out", str(tmp_path / "e.csv"),
                "--from", "2026-11-24", "--store", str(path))
    assert empty.returncode == 0 and empty.stdout.startswith("0 episodes rows")
    bad = cli("export", "--what", "episodes", "--out", str(tmp_path / "e.csv"), "--from",
              "2026-11-24", "--to", "2026-11-20", "--store", str(path))
    assert bad.returncode == 2 and "is before --from" in bad.stderr
