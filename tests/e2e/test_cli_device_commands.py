"""The worker's device commands end to end against the virtual clip (real firmware in
MicroPython, its radio bridged): status, config get/set, calibrate, buzz, snooze — and what
each does with bad input (one sentence on stderr, exit 2, nothing changed)."""
from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

from virtualclip import VirtualClip

from postureclip.protocol import SETTINGS


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    return subprocess.run([sys.executable, "-m", "postureclip.cli", *args],
                          capture_output=True, text=True, timeout=120, env=env)


def ok(*args: str) -> str:
    proc = cli(*args)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def refused(*args: str) -> str:
    proc = cli(*args)
    assert proc.returncode == 2, proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    return proc.stderr


def test_device_commands_against_the_virtual_clip(tmp_path: Path) -> None:
    clip = VirtualClip(tmp_path / "flash").start()
    sim = ["--sim", str(clip.port)]
    try:
        status = ok("status", *sim, "--store", str(tmp_path / "store.db"))
        assert "calibrated        no" in status and "clock set         yes" in status
        assert "battery" in status and "firmware          0.1.0" in status
        assert "records waiting" in status

        every = ok("config", "get", *sim)
        assert len(every.strip().splitlines()) == len(SETTINGS) == 24 and "slouch_delay_s" in every
        assert ok("config", "set", "slouch_delay_s", "45", *sim).strip() == "slouch_delay_s = 45s"
        assert "45" in ok("config", "get", "slouch_delay_s", *sim)
        # refused before anything is sent: unknown name, out of range, not a number
        assert "there is no setting 'slouch'" in refused("config", "set", "slouch", "3", *sim)
        assert "between 3 and 600 s" in refused("config", "set", "slouch_delay_s", "2", *sim)
        assert "whole number" in refused("config", "set", "slouch_deg", "2.5", *sim)
        # refused by the clip: the exposure limit may not pass its window
        err = refused("config", "set", "exposure_limit_s", "2000", *sim)
        assert "may not exceed exposure_window_s (now 300 s and 1800 s)" in err, err
        assert "45" in ok("config", "get", "slouch_delay_s", *sim)  # nothing changed

        assert "calibrated:" in ok("calibrate", *sim)
        assert "calibrated        yes" in ok("status", *sim)
        assert "buzzed the lift pattern" in ok("buzz", "lift", *sim)
        assert "invalid choice" in cli("buzz", "loud", *sim).stderr
        assert "snoozed for 60 min" in ok("snooze", "60", *sim)
        assert "snoozed           yes" in ok("status", *sim)
        assert "back on" in ok("snooze", "off", *sim)
        assert "1 to 1440 minutes" in refused("snooze", "1441", *sim)
        assert "snoozed for 90 min" in ok("snooze", "1h30m", *sim)
        assert "quiet hours 22:00-07:00" in ok("quiet", "22:00-07:00", *sim)
        assert "quiet_start_min        1320" in ok("config", "get", "quiet_start_min", *sim)
        assert "HH:MM-HH:MM" in refused("quiet", "25:00-07:00", *sim)
        assert "back on" in ok("snooze", "off", *sim)
        assert "snoozed           no" in ok("status", *sim)
        # a sync says what it brought, in words; the store then answers today
        store = str(tmp_path / "store.db")
        synced = ok("sync", *sim, "--store", store)
        assert "synced " in synced and "new records from" in synced, synced
        assert f"covering {date.today().isoformat()}" in synced and "battery" in synced
        # again: only the record of this connection's clock setting (TIME_SET) is new
        assert "synced 1 new record from" in ok("sync", *sim, "--store", store)
        # the live view: the clip lies still where it was calibrated, so upright, ~0°
        lines = ok("monitor", *sim, "--store", store, "--seconds", "3").strip().splitlines()
        assert len(lines) >= 2, lines
        flexion = float(lines[-1].split("flexion")[1].split("°")[0])
        assert abs(flexion) < 3 and "upright" in lines[-1] and "today slouched" in lines[-1]
        # a training plan: its baseline reaches the clip at the next sync, and only then
        assert "plan started: baseline" in ok("plan", "start", "--store", store)
        assert "coach_phase               1" in ok("config", "get", "coach_phase", *sim)
        synced = ok("sync", *sim, "--store", store)
        assert "plan: baseline, worn day 0 of 3" in synced, synced
        assert "coach_phase               0" in ok("config", "get", "coach_phase", *sim)
        assert "plan stopped" in ok("plan", "off", "--store", store)
        # an exercise programme: its targets reach the clip at the next sync
        assert "level 2 of 7: holds of 30 s" in ok("exercise", "start", "--store", store)
        assert ok("config", "get", "hold_target_s", *sim).split()[:2] == ["hold_target_s", "0s"]
        synced = ok("sync", *sim, "--store", store)
        assert "exercise: level 2 of 7" in synced and "0 of 3 sessions" in synced, synced
        assert ok("config", "get", "hold_target_s", *sim).split()[:2] == ["hold_target_s", "30s"]
        assert ok("config", "get", "rep_target", *sim).split()[:2] == ["rep_target", "10"]
        assert "exercise programme stopped" in ok("exercise", "off", "--store", store)
    finally:
        clip.stop()


def test_every_command_explains_itself() -> None:
    for command in (["status"], ["config", "get"], ["config", "set"], ["calibrate"], ["buzz"],
                    ["snooze"], ["quiet"], ["sync"]):
        text = ok(*command, "--help")
        assert "--sim" in text and "example" in text.lower(), command
