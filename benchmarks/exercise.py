"""Exercise sets and movement breaks, on the clip and the host.

    python benchmarks/exercise.py [--wearers 8] [--hours 8] [--only sessions|days|sitting]

Simulated wearers (postureclip.simulate; each a random body and a random LSM6DSOX or MPU-6050
with its datasheet errors), recorded at the clip's 208 Hz and put through ``postureclip
firmware replay`` (the clip's firmware in MicroPython) and ``postureclip analyze`` (the host):

- **sessions**: ``exercise_session``: all five exercises in a random order, 2-3 sets each with
  rests on the floor, holds of 15-60 s with a slow wobble, 6-15 repetitions of varying speed
  and depth. A set is recognised when exactly one reported set overlaps it and has its kind;
  its repetitions and its hold time are then compared with the script's (hold: mid-ramp up
  to mid-ramp down).
- **days**: ``coaching_day`` (typing, reaching, leaning on a hand, reclining, lying on the
  back, walking, driving) and ``default_day`` (sitting, slouching, walking, lifts), alternately:
  every reported set is false.
- **sitting**: ``sitting_day``: 10-80 min desk stretches between walks of 20 s-5 min. The
  expected reminders are the rule (postureclip.breaks) run on the script's own activity
  (walking = the "walk" segments); a reminder is on time when it comes within 60 s of an
  expected one, and it is counted if it came while the script has the wearer walking.
"""
from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np
import wearer_sets

from postureclip.analysis import analyze
from postureclip.breaks import find_breaks
from postureclip.firmware_replay import replay
from postureclip.recording import Recording
from postureclip.simulate import (
    CLIP_IMU_RATE_HZ,
    Wearer,
    coaching_day,
    default_day,
    exercise_session,
    simulate,
    sitting_day,
)

ON_TIME_S = 60.0


def one(job: tuple[str, int, float]) -> dict[str, Any]:
    kind, seed, hours = job
    rng = np.random.default_rng(seed)
    wearer = dataclasses.replace(Wearer.random(rng), rate_hz=CLIP_IMU_RATE_HZ, jitter=0.0)
    if kind == "sessions":
        segments = exercise_session(rng)
    elif kind == "days":
        segments = (coaching_day if seed % 2 else default_day)(rng, hours)
    else:
        segments = sitting_day(rng, hours)
    sim = simulate(segments, wearer, rng)
    rec = Recording(sim.t, sim.acc, sim.gyr)
    clip = replay(rec).to_dict()
    host = analyze(rec).to_dict()
    truth = sim.truth
    out: dict[str, Any] = {"kind": kind, "hours": float(sim.t[-1]) / 3600,
                           "imu": wearer.imu}
    for who, d in (("clip", clip), ("host", host)):
        sets = d["exercise_sets"]
        if kind == "sessions":
            rows = []
            for s in truth.exercise_sets:
                over = [x for x in sets if x["start_s"] < s.end_s and x["end_s"] > s.start_s]
                ok = len(over) == 1 and over[0]["kind"] == s.kind
                rows.append((s.kind, ok, over[0]["reps"] - s.reps if ok else None,
                             over[0]["hold_s"] - s.hold_s if ok and not s.reps else None))
            out[f"{who}_sets"] = rows
            out[f"{who}_extra"] = sum(not any(x["start_s"] < s.end_s and x["end_s"] > s.start_s
                                              for s in truth.exercise_sets) for x in sets)
        else:
            out[f"{who}_false_sets"] = len(sets)
        if kind == "sitting":
            out[f"{who}_reminders"] = [x["t_s"] for x in d["move_reminders"]]
    if kind == "sitting":
        t = truth.t[::40]  # 10 Hz
        act = truth.activity[::40]
        expected = find_breaks(t, act == "walk", np.zeros(len(t), bool),
                               np.zeros(len(t), bool), []).reminders
        out["expected"] = expected
        for who in ("clip", "host"):
            got = out[f"{who}_reminders"]
            at = np.clip(np.searchsorted(truth.t, got), 0, len(truth.t) - 1)
            out[f"{who}_while_walking"] = int(np.sum(truth.activity[at] == "walk"))
            out[f"{who}_on_time"] = sum(any(abs(g - e) <= ON_TIME_S for g in got)
                                        for e in expected)
            out[f"{who}_unexpected"] = sum(not any(abs(g - e) <= ON_TIME_S for e in expected)
                                           for g in got)
            out[f"{who}_late_s"] = [min((g - e for g in got if abs(g - e) <= ON_TIME_S),
                                        key=abs) for e in expected
                                    if any(abs(g - e) <= ON_TIME_S for g in got)]
    return out


def main() -> None:
    kinds = ["sessions", "days", "sitting"]
    args = wearer_sets.parse(__doc__.splitlines()[0], kinds, 8)
    kinds = [args.only] if args.only else kinds
    by_kind = wearer_sets.run(one, kinds, args.wearers, args.hours, 7000)
    for k in kinds:
        rs = by_kind[k]
        hours = wearer_sets.heading(k, rs)
        for who in ("clip", "host"):
            if k == "sessions":
                rows = [x for r in rs for x in r[f"{who}_sets"]]
                ok = [x for x in rows if x[1]]
                reps = [x[2] for x in ok if x[3] is None]
                holds = [x[3] for x in ok if x[3] is not None]
                kinds_missed = sorted({x[0] for x in rows if not x[1]})
                missed = f" missed: {', '.join(kinds_missed)}" if kinds_missed else ""
                print(f"  {who}: sets recognised {len(ok)} of {len(rows)} "
                      f"({100 * len(ok) / max(1, len(rows)):.1f} %){missed}; extra sets "
                      f"{sum(r[f'{who}_extra'] for r in rs)}")
                print(f"    reps within +-1: {sum(abs(x) <= 1 for x in reps)} of {len(reps)} "
                      f"(exact {sum(x == 0 for x in reps)}); hold within +-1 s: "
                      f"{sum(abs(x) <= 1.0 for x in holds)} of {len(holds)} (median |error| "
                      f"{np.median(np.abs(holds)) if holds else float('nan'):.2f} s, worst "
                      f"{max(np.abs(holds)) if holds else float('nan'):.2f} s)")
            elif k == "days":
                n = sum(r[f"{who}_false_sets"] for r in rs)
                print(f"  {who}: false exercise sets {n} = {n / (hours / 8.0):.2f} per 8 h")
            else:
                expected = sum(len(r["expected"]) for r in rs)
                on_time = sum(r[f"{who}_on_time"] for r in rs)
                late = [x for r in rs for x in r[f"{who}_late_s"]]
                print(f"  {who}: reminders within {ON_TIME_S:.0f} s of the rule on the script "
                      f"{on_time} of {expected}; unexpected "
                      f"{sum(r[f'{who}_unexpected'] for r in rs)}; while walking "
                      f"{sum(r[f'{who}_while_walking'] for r in rs)}; offset median "
                      f"{np.median(late) if late else float('nan'):.1f} s, worst "
                      f"{max(late, key=abs) if late else float('nan'):.1f} s")


if __name__ == "__main__":
    main()
