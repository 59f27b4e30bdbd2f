"""The clip's own sensing pipeline on a recording: the unchanged firmware in MicroPython.

``replay`` samples a recording as the clip's IMU samples (uniform 208 Hz, the LSM6DSOX's LSBs
at the clip's ranges, saturating there), presses the calibrate button at the recording's first
still moment, and runs ``firmware/sim/pipeline_replay.py`` in MicroPython's unix port: the
app's grouping and power profiles (``firmware/sim/replay.py``) feeding ``clip.pipeline``. The
records the clip would log come back as the episodes, lifts and buzzes of the JSON of
``postureclip analyze`` (docs/json.md), so anyone can check the clip's coaching on their own
recordings.
"""
from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from . import risk
from .analysis import round_floats
from .deploy import default_firmware_dir, micropython_command
from .errors import PostureclipError
from .exercise import ExerciseSet
from .prepare import find_still
from .protocol import SETTINGS, RecordType, SlipKind, Status, decode_payload
from .recording import Recording, to_uniform
from .settings import AnalysisSettings
from .simulate import CLIP_IMU_RATE_HZ, as_clip_reads

FloatArray = npt.NDArray[np.float64]

_CAPTURE_S = 2.5  # clip/calibration.py CAPTURE_S: the press needs this long still


class ReplayError(PostureclipError):
    """The firmware could not run on the recording (MicroPython missing or failing, a bad
    setting)."""


@dataclass(frozen=True)
class ClipEpisode:
    start_s: float
    end_s: float
    peak_flexion_deg: float
    mean_flexion_deg: float
    peak_lateral_deg: float


@dataclass(frozen=True)
class ClipLift:
    start_s: float
    end_s: float
    technique: str
    twisted: bool
    twist_deg: float
    peak_flexion_deg: float
    peak_lateral_deg: float


@dataclass
class FirmwareReplay:
    """What the clip made of a recording; times in s of the recording's clock."""

    duration_s: float
    slouch_deg: float
    lean_deg: float
    calibration: dict[str, Any]
    episodes: list[ClipEpisode]
    lifts: list[ClipLift]
    buzzes: list[tuple[float, str]]
    held: list[tuple[float, str, str]]  # (t, reason due, why held back): HELD records
    # SLIP records: (t, "slip" or "worn_off", turn deg, when undone or None)
    slips: list[tuple[float, str, float, float | None]]
    profiles: dict[str, float]  # seconds and fused steps in each power profile
    series: FloatArray = field(repr=False)  # (N, 3): t, flexion, lateral per fused step
    exercise_sets: list[ExerciseSet] = field(default_factory=list)  # EXERCISE records
    breaks: list[tuple[float, float]] = field(default_factory=list)  # BREAK: (t, still s)
    calibrated: list[float] = field(default_factory=list)  # CALIBRATED records' times

    @property
    def longest_still_s(self) -> float:
        """The stretches the BREAK records ended, and the last one: from the last break or
        exercise set (the clock restarts after each) to the end."""
        restarts = [t for t, _ in self.breaks] + [x.end_s for x in self.exercise_sets]
        last = max(restarts, default=float(self.calibration["pressed_s"]))
        return max([s for _, s in self.breaks] + [self.duration_s - last])

    @property
    def slouch_episodes(self) -> list[ClipEpisode]:
        """Episodes whose peak flexion passed the slouch threshold (forward flexion)."""
        return [e for e in self.episodes if e.peak_flexion_deg > self.slouch_deg]

    @property
    def lean_episodes(self) -> list[ClipEpisode]:
        """The clip's other episodes: sideways lean alone."""
        return [e for e in self.episodes if e.peak_flexion_deg <= self.slouch_deg]

    def to_dict(self) -> dict[str, Any]:
        def ep(e: ClipEpisode, lean: bool) -> dict[str, Any]:
            d: dict[str, Any] = {"start_s": round(e.start_s, 3), "end_s": round(e.end_s, 3)}
            if lean:
                d["peak_lateral_deg"] = e.peak_lateral_deg
            else:
                d.update(peak_flexion_deg=e.peak_flexion_deg,
                         mean_flexion_deg=e.mean_flexion_deg)
            return d

        slouch = self.slouch_episodes
        scores, per_hour = risk.scored(self.lifts, self.duration_s)
        return {
            "duration_s": round(self.duration_s, 3),
            "rate_hz": CLIP_IMU_RATE_HZ,
            "slouch_episodes": [ep(e, False) for e in slouch],
            "lean_episodes": [ep(e, True) for e in self.lean_episodes],
            "lifts": [{"start_s": round(x.start_s, 3), "end_s": round(x.end_s, 3),
                       "technique": x.technique, "twisted": x.twisted,
                       "twist_deg": x.twist_deg, "peak_flexion_deg": x.peak_flexion_deg,
                       "peak_lateral_deg": x.peak_lateral_deg, "risk_score": r}
                      for x, r in zip(self.lifts, scores, strict=True)],
            "lift_risk_per_hour": per_hour,
            "time_in_slouch_s": round(sum(e.end_s - e.start_s for e in slouch), 2),
            "lift_count": len(self.lifts),
            "stooped_lifts": sum(x.technique == "stoop" for x in self.lifts),
            "twisted_lifts": sum(x.twisted for x in self.lifts),
            "buzzes": [{"t_s": round(t, 3), "reason": r} for t, r in self.buzzes],
            "held": [{"t_s": round(t, 3), "reason": r, "why": w} for t, r, w in self.held],
            "slips": [{"t_s": round(t, 3), "kind": k, "turn_deg": d,
                       "undone_s": None if u is None else round(u, 3)}
                      for t, k, d, u in self.slips],
            "exercise_sets": [round_floats(asdict(x)) for x in self.exercise_sets],
            "move_reminders": [{"t_s": round(t, 3)} for t, r in self.buzzes if r == "move"],
            "breaks": [{"t_s": round(t, 3)} for t, _ in self.breaks],
            "longest_still_s": round(self.longest_still_s, 1),
            "calibration": self.calibration,
            "power_profiles": self.profiles,
        }


def _deg(value: float) -> float:
    """An angle of a record (0.1 deg counts) without the float noise of the scaling."""
    return round(value, 1)


def parse_settings(pairs: list[str]) -> dict[str, int]:
    """``NAME=VALUE`` pairs of the clip's coaching settings, checked against their bounds."""
    known = {s.name: s for s in SETTINGS}
    out: dict[str, int] = {}
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep or name not in known:
            raise ReplayError(f"--set {pair!r}: expected NAME=VALUE with NAME one of "
                              f"{', '.join(sorted(known))}")
        s = known[name]
        try:
            v = int(value)
        except ValueError:
            raise ReplayError(f"--set {pair!r}: {name} takes a whole number") from None
        if not s.lo <= v <= s.hi:
            raise ReplayError(f"--set {pair!r}: {name} must be {s.lo} to {s.hi}")
        out[name] = v
    return out


def calibrate_at(rec: Recording) -> float:
    """When a wearer would press calibrate: the start of the recording's first still stretch
    long enough for the clip's capture (raises CalibrationError without one)."""
    u = to_uniform(rec)
    still = find_still(u, AnalysisSettings(calib_still_s=_CAPTURE_S + 0.5))
    return float(u.t[still.start])


def replay(rec: Recording, settings: dict[str, int] | None = None,
           firmware: Path | None = None, always_active: bool = False,
           presses: list[float] | None = None) -> FirmwareReplay:
    """Run the clip's pipeline on ``rec`` (see the module's docstring); ``always_active``:
    the moving power profile throughout (for measuring what the still profile costs);
    ``presses``: ascending times (s) when the wearer sits or stands upright and would
    calibrate if the clip asked for it (firmware/sim/replay.py)."""
    settings = settings or {}
    cal_at = calibrate_at(rec)
    u = to_uniform(rec, CLIP_IMU_RATE_HZ)
    acc, gyr = as_clip_reads(u.acc, u.gyr)
    rows = np.column_stack([u.t, gyr, acc])
    fw = firmware or default_firmware_dir()
    script = fw / "sim" / "pipeline_replay.py"
    if not script.is_file():
        raise ReplayError(f"no firmware tree at {fw} (expected sim/pipeline_replay.py): run "
                          "from a clone of the postureclip repository")
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, ev = (Path(tmp) / n for n in ("in.bin", "out.bin", "events.txt"))
        rows.astype("<f4").tofile(src)
        env = dict(os.environ, MICROPYPATH=f".frozen:{fw}:{fw / 'sim'}")
        args = [f"{k}={v}" for k, v in settings.items()] + (["active"] if always_active else [])
        if presses:
            (Path(tmp) / "presses.txt").write_text("".join(f"{x:.3f}\n" for x in presses))
            args.append(f"presses:{Path(tmp) / 'presses.txt'}")
        done = subprocess.run([*micropython_command(), str(script), str(src), str(dst),
                               str(ev), f"{cal_at:.3f}", *args], env=env, capture_output=True,
                              text=True)
        if done.returncode:
            raise ReplayError("the firmware failed on this recording:\n"
                              f"{done.stdout}{done.stderr}".rstrip())
        series = np.fromfile(dst, "<f4").reshape(-1, 3).astype(float)
        events = [line.split() for line in ev.read_text().splitlines()]
    out = dict(line.split(None, 1) for line in done.stdout.splitlines())
    status = int(out["calibration"])
    active, still = (int(x) for x in out["steps"].split())
    active_s, still_s = (float(x) for x in out["profiles_s"].split())
    episodes, lifts, buzzes, held = [], [], [], []
    sets: list[ExerciseSet] = []
    breaks: list[tuple[float, float]] = []
    slips: list[tuple[float, str, float, float | None]] = []
    calibrated: list[float] = []
    for rtype, t_text, payload in events:  # the records the clip would log
        t = float(t_text)
        kind = RecordType(int(rtype))
        v = decode_payload(kind, bytes.fromhex(payload))
        if kind is RecordType.SLOUCH_END:
            episodes.append(ClipEpisode(t - v["duration_s"], t, _deg(v["peak_flexion_deg"]),
                                        _deg(v["mean_flexion_deg"]),
                                        _deg(v["peak_lateral_deg"])))
        elif kind is RecordType.LIFT:
            lifts.append(ClipLift(t, t + v["duration_s"], v["technique"], v["twisted"],
                                  _deg(v["twist_deg"]), _deg(v["peak_flexion_deg"]),
                                  _deg(v["peak_lateral_deg"])))
        elif kind is RecordType.BUZZ:
            buzzes.append((t, v["reason_name"]))
        elif kind is RecordType.HELD:
            held.append((t, v["reason_name"], v["why_name"]))
        elif kind is RecordType.SLIP and v["kind"] == SlipKind.UNDONE and slips:
            last = slips[-1]
            slips[-1] = (last[0], last[1], last[2], t)
        elif kind is RecordType.EXERCISE:
            sets.append(ExerciseSet(v["kind_name"], t, round(t + v["span_s"], 3), v["reps"],
                                    v["hold_s"]))
        elif kind is RecordType.BREAK:
            breaks.append((t, float(v["still_s"])))
        elif kind is RecordType.CALIBRATED:
            calibrated.append(t)
        elif kind is RecordType.SLIP and v["kind"] != SlipKind.PUT_ON:
            slips.append((t, "slip" if v["kind"] == SlipKind.REANCHORED else "worn_off",
                          _deg(v["turn_deg"]), None))
    names = {s.name: s.default for s in SETTINGS} | settings
    return FirmwareReplay(
        duration_s=rec.duration_s, slouch_deg=float(names["slouch_deg"]),
        lean_deg=float(names["lean_deg"]),
        calibration={"pressed_s": round(cal_at, 3),
                     "status": "ok" if status == Status.OK else "refused"},
        episodes=episodes, lifts=lifts, buzzes=buzzes, held=held, slips=slips,
        profiles={"active_s": round(active_s, 1), "still_s": round(still_s, 1),
                  "active_steps": active, "still_steps": still}, series=series,
        exercise_sets=sorted(sets, key=lambda x: x.start_s), breaks=breaks,
        calibrated=calibrated)


def write_series(result: FirmwareReplay, path: str | Path) -> None:
    """``t,flexion_deg,lateral_deg``: one row per fused step of the clip."""
    try:
        with open(path, "w") as fh:
            fh.write("t,flexion_deg,lateral_deg\n")
            np.savetxt(fh, result.series, fmt=["%.4f", "%.2f", "%.2f"], delimiter=",")
    except OSError as e:
        raise ReplayError(f"cannot write the series to {path}: {e}") from None
