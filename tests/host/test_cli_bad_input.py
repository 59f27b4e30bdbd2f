"""Bad input to every subcommand is one sentence on stderr and exit 2, never a traceback or
unbounded memory (issue 16's list), and `postureclip sim` stopped by SIGTERM stops its
MicroPython child."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from postureclip.cli import main

CASES = [
    (["simulate", "OUT", "--rate", "0"], "--rate: 0 is outside 10..2000"),
    (["simulate", "OUT", "--hours", "-1"], "--hours: -1 is outside"),
    (["sync", "--sim", "70000"], "--sim: 70000 is outside 1..65535"),
    (["status", "--sim", "0"], "--sim: 0 is outside"),
    (["sim", "--motion", "MISSING", "--port", "47999"], "no motion file"),
    (["config", "set", "slouch_deg", "many", "--sim", "47999"], "takes a whole number"),
    (["history", "--days", "x"], "invalid int value"),
    (["export", "--what", "moods", "--out", "OUT"], "invalid choice"),
]


@pytest.mark.parametrize(("argv", "words"), CASES, ids=[c[0][0] for c in CASES])
def test_bad_arguments_are_one_sentence(tmp_path: Path, argv: list[str], words: str,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    argv = [str(tmp_path / a) if a in ("OUT", "MISSING") else a for a in argv]
    try:
        code = main(argv)
    except SystemExit as e:  # argparse's own exit
        code = int(e.code or 0)
    err = capsys.readouterr().err
    assert code == 2 and words in err, err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1, err


def test_analyze_refuses_milliseconds_and_huge_gaps(tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    rec = tmp_path / "r.csv"
    assert main(["simulate", str(rec), "--hours", "0.02"]) == 0
    lines = rec.read_text().splitlines()
    rows = [line.split(",") for line in lines[1:]]
    ms = tmp_path / "ms.csv"
    ms.write_text("\n".join([lines[0]] + [",".join([f"{float(r[0]) * 1000:.1f}", *r[1:]])
                                          for r in rows]) + "\n")
    gap = tmp_path / "gap.csv"
    half = len(rows) // 2
    gap.write_text("\n".join([lines[0]] + [",".join(
        [f"{float(r[0]) + (3.6e6 if i >= half else 0):.4f}", *r[1:]])
        for i, r in enumerate(rows)]) + "\n")
    capsys.readouterr()
    assert main(["analyze", str(ms)]) == 2
    assert "t must be in seconds" in capsys.readouterr().err
    assert main(["analyze", str(gap)]) == 2  # a 1000-hour gap: refused, not 2.7 GB
    err = capsys.readouterr().err
    assert "a gap of 1000.0 h" in err and "split the file" in err


def children_of(pid: int) -> list[str]:
    out = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[1] == str(pid):  # fields after the name: state, ppid, ...
            out.append(stat.parent.name)
    return out


def test_sim_stopped_by_sigterm_stops_its_micropython(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "MICROPYPATH"}
    proc = subprocess.Popen([sys.executable, "-m", "postureclip.cli", "sim", "--port", "47998",
                             "--flash", str(tmp_path / "flash")], stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True, env=env)
    try:
        assert proc.stdout is not None
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if proc.stdout.readline().startswith("postureclip on"):
                break
        children = children_of(proc.pid)
        assert children, "no MicroPython child"
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=15)
        time.sleep(0.5)
        alive = [c for c in children if Path(f"/proc/{c}").exists()
                 and "zombie" not in Path(f"/proc/{c}/status").read_text().lower()]
        assert not alive, f"MicroPython child {alive} outlived postureclip sim"
    finally:
        if proc.poll() is None:
            proc.kill()


def test_debug_shows_the_traceback(tmp_path: Path) -> None:
    plain = subprocess.run([sys.executable, "-m", "postureclip.cli", "today", "--date", "x",
                            "--store", str(tmp_path / "s.db")], capture_output=True, text=True)
    debug = subprocess.run([sys.executable, "-m", "postureclip.cli", "--debug", "today",
                            "--date", "x", "--store", str(tmp_path / "s.db")],
                           capture_output=True, text=True)
    assert "Traceback" not in plain.stderr and plain.returncode == 2
    assert "Traceback" in debug.stderr and "OutOfRange" in debug.stderr and debug.returncode
