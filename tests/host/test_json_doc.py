"""docs/json.md lists exactly the keys `analyze` and `firmware replay` print, and replay
finds what the clip should on a simulated wearer."""
from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from postureclip.cli import main
from postureclip.scoring import match_intervals
from postureclip.simulate import Segment, Wearer, simulate

DOC = Path(__file__).resolve().parents[2] / "docs" / "json.md"


def documented(name: str) -> set[str]:
    text = DOC.read_text()
    block = text.split(f"<!-- keys: {name} -->", 1)[1].split("\n\n", 1)[0]
    return set(re.findall(r"^\| `([^`]+)` \|", block, re.M))


def flat(d: dict[str, Any], prefix: str = "") -> set[str]:
    out = set()
    for k, v in d.items():
        out.add(prefix + k)
        if isinstance(v, dict):
            out |= flat(v, f"{prefix}{k}.")
        elif isinstance(v, list):
            for item in v:
                if isinstance(item, dict):
                    out |= flat(item, f"{prefix}{k}[].")
    return out


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    """A short day with a slouch, a slip of the clip, a lean, a stooped and a twisted squat
    lift, a walk and a plank."""
    rng = np.random.default_rng(11)
    segs = [Segment("sit", 8), Segment("slouch", 60, flexion_deg=35), Segment("sit", 10),
            Segment("slip", 0.2, clip_turn_deg=(15.0, 6.0)), Segment("sit", 10),
            Segment("lean", 45, lateral_deg=25), Segment("stand", 5),
            Segment("lift", 3.5, flexion_deg=85, hip_drop_m=0.03, technique="stoop"),
            Segment("stand", 5),
            Segment("lift", 3.5, flexion_deg=30, twist_deg=55, hip_drop_m=0.45,
                    technique="squat"),
            Segment("stand", 8), Segment("walk", 65, flexion_deg=3), Segment("stand", 5),
            Segment("floor", 8, flexion_deg=90),
            Segment("plank", 20, flexion_deg=90, incline_deg=15, wobble_deg=1.0),
            Segment("floor", 10, flexion_deg=90), Segment("stand", 8)]
    wearer = Wearer.random(rng, rate_hz=100.0)
    sim = simulate(segs, wearer, rng)
    path = tmp_path_factory.mktemp("json") / "day.csv"
    sim.write_csv(path)
    return path, sim


def run_json(capsys: pytest.CaptureFixture[str], *argv: str) -> dict[str, Any]:
    assert main(list(argv)) == 0
    out: dict[str, Any] = json.loads(capsys.readouterr().out)
    return out


def test_analyze_prints_the_documented_keys(recording: tuple[Path, Any],
                                            capsys: pytest.CaptureFixture[str]) -> None:
    d = run_json(capsys, "analyze", str(recording[0]), "--format", "json", "--move-after", "1")
    assert d["slouch_episodes"] and d["lifts"] and d["move_reminders"] and d["breaks"]
    assert [x["kind"] for x in d["exercise_sets"]] == ["plank"]
    assert flat(d) == documented("analyze")
    (slip,) = d["slips"]
    assert slip["kind"] == "slip" and abs(slip["turn_deg"] - 16.2) < 2.0
    assert 78.0 < slip["t_s"] < 80.0


def test_replay_prints_the_documented_keys_and_what_the_clip_did(
        recording: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    path, sim = recording
    d = run_json(capsys, "firmware", "replay", str(path), "--format", "json",
                 "--set", "move_after_min=1")
    assert flat(d) == documented("replay")
    assert d["move_reminders"] and d["breaks"]
    assert [(x["kind"], x["reps"]) for x in d["exercise_sets"]] == [("plank", 0)]
    assert abs(d["exercise_sets"][0]["hold_s"] - sim.truth.exercise_sets[0].hold_s) < 1.0
    assert d["calibration"]["status"] == "ok" and d["calibration"]["pressed_s"] < 8.0
    truth = sim.truth
    assert len(d["slouch_episodes"]) == 1 and len(d["lean_episodes"]) == 1
    e = d["slouch_episodes"][0]
    assert abs(e["peak_flexion_deg"] - 35.0) < 4.0
    assert d["lean_episodes"][0]["peak_lateral_deg"] > 15.0
    pairs = match_intervals([(x.start_s, x.end_s) for x in truth.lifts],
                            [(x["start_s"], x["end_s"]) for x in d["lifts"]], 0.3)
    assert len(pairs) == 2 and len(d["lifts"]) == 2
    assert [d["lifts"][j]["technique"] for _, j in pairs] == ["stoop", "squat"]
    assert [d["lifts"][j]["twisted"] for _, j in pairs] == [False, True]
    (slip,) = d["slips"]
    assert slip["kind"] == "slip" and 78.0 < slip["t_s"] < 80.0
    assert {(h["reason"], h["why"]) for h in d["held"]} == {("lean", "lean_off"),
                                                           ("move", "walking")}
    reasons = [b["reason"] for b in d["buzzes"]]
    assert reasons[0] == "calibration" and "slip" in reasons
    assert "slouch" in reasons and "lift_stoop" in reasons and "lift_twist" in reasons
    assert d["power_profiles"]["active_steps"] > 0


def test_replay_settings_change_the_clips_coaching(recording: tuple[Path, Any],
                                                   capsys: pytest.CaptureFixture[str],
                                                   tmp_path: Path) -> None:
    series = tmp_path / "s.csv"
    d = run_json(capsys, "firmware", "replay", str(recording[0]), "--format", "json",
                 "--set", "lift_coach=0", "--set", "slouch_delay_s=600",
                 "--series", str(series))
    reasons = {b["reason"] for b in d["buzzes"]}
    # lifts still logged, nothing buzzed for them; the plank's ticks are not posture buzzes
    assert reasons == {"calibration", "slip", "exercise"}
    assert d["lift_count"] == 2
    rows = np.loadtxt(series, delimiter=",", skiprows=1)
    assert series.read_text().startswith("t,flexion_deg,lateral_deg\n")
    assert rows.shape[1] == 3 and np.all(np.diff(rows[:, 0]) > 0)


def test_replay_refuses_an_unknown_or_out_of_range_setting(
        recording: tuple[Path, Any], capsys: pytest.CaptureFixture[str]) -> None:
    for bad, words in (("foo=1", "expected NAME=VALUE"), ("slouch_deg=99", "5 to 45"),
                       ("slouch_deg=x", "whole number")):
        assert main(["firmware", "replay", str(recording[0]), "--set", bad]) != 0
        assert words in capsys.readouterr().err


def test_replay_says_when_a_recording_has_no_still_start(tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]
                                                         ) -> None:
    rng = np.random.default_rng(2)
    sim = simulate([Segment("walk", 40)], Wearer.random(rng, rate_hz=50.0), rng)
    path = tmp_path / "walk.csv"
    sim.write_csv(path)
    assert main(["firmware", "replay", str(path)]) != 0
    assert "still" in capsys.readouterr().err
