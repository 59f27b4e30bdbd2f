"""Coaching people keep: false posture buzzes, missed slouches and slips, on the clip and host.

    python benchmarks/coaching.py [--wearers 6] [--hours 8] [--only days|slouch|slips]

Three sets of simulated wearers (postureclip.simulate; each wearer with a random body and a
random LSM6DSOX or MPU-6050 with its datasheet errors), recorded at the clip's 208 Hz and put
through ``postureclip firmware replay`` (the clip's firmware in MicroPython) and through
``postureclip analyze`` (the host):

- **days**: ``coaching_day``: no slouch at all, but typing with raised arms, brief reaches,
  leaning on a hand, reclining, lying, walking and two drives in 8 h. Every posture buzz the
  clip gives (reason slouch, lean or exposure) is false; on the host, every slouch episode
  lasting the clip's delay (30 s) would have buzzed and is counted the same way. Slips found
  here are false slips.
- **slouch**: ``default_day`` (sitting, slouching 15-150 s at 25-45 deg, leaning, reclining,
  walking, lifts). A true slouch of >= 60 s (the wearer in a "slouch" segment that long) is
  missed on the clip when no posture buzz was given and none was held back (HELD) inside it,
  and on the host when no slouch episode overlaps it.
- **slips**: ``with_slips(default_day)``, four slips an hour (10-30 deg in a random direction
  across the back, over 0.1-0.4 s, while sitting or standing still). A slip is found when a
  slip is reported within 10 s after it; a report with no slip in the 10 s before it is
  false. Flexion error after a slip: the clip's (host's) flexion against truth over the 5-60 s
  after each found slip while the wearer sits or stands, median of |error| per slip, compared
  with the same wearer's error before the first slip (the calibration's own error), and
  separately after each wearer's first slip and after the 11th and later: each re-anchoring
  adds its own error to the ones before (32 slips in an 8-hour day here). The clip re-anchors
  twice after a calibration; from the third slip on it asks for a calibration and holds its
  posture reminders until it gets one. The wearer here answers: at the first moment 30 s or
  more after the request when they sit or stand upright (a scripted "sit" or "stand" of 10 s
  or more within 2 deg of their first calibration's posture, 3 s into it), they calibrate.
  For the clip the figure that counts is then the error over the 5-60 s after each
  re-anchoring it coaches on (the first two after a calibration) and after each of these
  calibrations, and the time its coaching waited.
"""
from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import numpy as np
import wearer_sets

from postureclip.analysis import analyze
from postureclip.firmware_replay import replay
from postureclip.recording import Recording
from postureclip.simulate import (
    CLIP_IMU_RATE_HZ,
    Segment,
    Simulation,
    Wearer,
    coaching_day,
    default_day,
    simulate,
    with_slips,
)

POSTURE_REASONS = {"slouch", "lean", "exposure"}
DELAY_S = 30.0  # slouch_delay_s's default: a host episode this long would have buzzed
FOUND_WITHIN_S = 10.0


def _simulate(seed: int, days: Callable[[np.random.Generator], list[Segment]]) -> Simulation:
    rng = np.random.default_rng(seed)
    wearer = dataclasses.replace(Wearer.random(rng), rate_hz=CLIP_IMU_RATE_HZ, jitter=0.0)
    return simulate(days(rng), wearer, rng, gaps=0)


def upright_moments(sim: Simulation) -> list[float]:
    """When the wearer, asked to calibrate, would: 3 s into each sit or stand of 10 s or more
    within 2 deg of the upright they first calibrated in (the simulator's sits range from
    -3 to 10 deg, its stands from -2 to 6)."""
    return [a + 3.0 for a, b, seg in sim.truth.segments
            if seg.activity in ("sit", "stand") and b - a >= 10.0
            and abs(seg.flexion_deg) <= 2.0 and abs(seg.lateral_deg) <= 2.0]


def _median_after(t_f: Any, err: Any, quiet: Any, start: float, end: float) -> float | None:
    w = quiet & (t_f > start + 5.0) & (t_f < min(start + 60.0, end))
    return float(np.median(err[w])) if w.sum() > 10 else None


def one(job: tuple[str, int, float]) -> dict[str, Any]:
    kind, seed, hours = job
    if kind == "days":
        sim = _simulate(seed, lambda r: coaching_day(r, hours))
    elif kind == "slouch":
        sim = _simulate(seed, lambda r: default_day(r, hours))
    else:
        sim = _simulate(seed, lambda r: with_slips(default_day(r, hours), r, 4.0))
    rec = Recording(sim.t, sim.acc, sim.gyr)
    clip = replay(rec, presses=upright_moments(sim) if kind == "slips" else None)
    host = analyze(rec)
    out: dict[str, Any] = {"kind": kind, "hours": float(sim.t[-1]) / 3600, "imu": sim.wearer.imu}
    clip_slips = [t for t, k, _, _ in clip.slips if k == "slip"]
    host_slips = [x.t_s for x in host.slips if x.kind == "slip"]
    undone = {"clip": [u for _, k, _, u in clip.slips if k == "slip" and u is not None],
              "host": [x.undone_s for x in host.slips if x.kind == "slip" and x.undone_s]}
    for who in ("clip", "host"):
        out[f"{who}_undone"] = len(undone[who])
    truth = sim.truth
    if kind == "days":
        out["clip_false_buzzes"] = sum(r in POSTURE_REASONS for _, r in clip.buzzes)
        out["host_false_buzzes"] = sum(e.end_s - e.start_s >= DELAY_S
                                       for e in host.slouch_episodes)
        out["held"] = [w for _, _, w in clip.held]
        out["clip_false_slips"] = len(clip_slips)
        out["host_false_slips"] = len(host_slips)
    elif kind == "slouch":
        long_ = [(a, b) for a, b, seg in truth.segments
                 if seg.activity == "slouch" and b - a >= 60.0]
        given = [t for t, r in clip.buzzes if r in POSTURE_REASONS] + [t for t, _, _ in
                                                                       clip.held]
        out["slouches"] = len(long_)
        out["clip_missed"] = sum(not any(a <= t <= b + 2.0 for t in given) for a, b in long_)
        out["host_missed"] = sum(not any(e.start_s < b and e.end_s > a
                                         for e in host.slouch_episodes) for a, b in long_)
        out["clip_false_slips"] = len(clip_slips)
        out["host_false_slips"] = len(host_slips)
    else:
        out["slips"] = len(truth.slips)
        t_clip = clip.series[:, 0]
        for who, found, t_f, flex in (
                ("clip", clip_slips, t_clip, clip.series[:, 1]),
                ("host", host_slips, host.series["t"], host.series["flexion_deg"])):
            hit = [next((f for f in found if 0.0 <= f - s <= FOUND_WITHIN_S), None)
                   for s in truth.slips]
            out[f"{who}_found"] = sum(h is not None for h in hit)
            out[f"{who}_latency"] = [h - s for h, s in zip(hit, truth.slips, strict=True)
                                     if h is not None]
            out[f"{who}_false_slips"] = sum(not any(0.0 <= f - s <= FOUND_WITHIN_S
                                                    for s in truth.slips) for f in found)
            act = truth.activity[np.clip(np.searchsorted(truth.t, t_f), 0, len(truth.t) - 1)]
            err = np.abs(flex - np.interp(t_f, truth.t, truth.flexion_deg))
            quiet = np.isin(act, ["sit", "stand"])
            first = truth.slips[0] if truth.slips else float(t_f[-1])
            base = quiet & (t_f > 20.0) & (t_f < first)
            out[f"{who}_err_before"] = float(np.median(err[base])) if base.any() else None
            after = []  # (the slip's ordinal in the wearer's day, median |error| after it)
            for k, h in enumerate(hit):
                m = None if h is None else _median_after(t_f, err, quiet, h, float("inf"))
                if m is not None:
                    after.append((k, m))
            out[f"{who}_err_after"] = after
            if who != "clip":
                continue
            # what the clip coaches on: its first two re-anchorings after a calibration, and
            # each calibration the wearer made when asked
            anchors = [t for t, k, _, u in clip.slips if k == "slip" and u is None]
            cals = clip.calibrated
            nexts = [*truth.slips, float(t_f[-1])]
            coached, recal, waited = [], [], 0.0
            for h in hit:
                if h is None:
                    continue
                last = max([c for c in cals if c <= h], default=0.0)
                ordinal = sum(last < a <= h for a in anchors)
                end = next(x for x in nexts if x > h)
                if ordinal <= 2:
                    m = _median_after(t_f, err, quiet, h, end)
                    if m is not None:
                        coached.append(m)
                elif ordinal == 3:  # the request: the coaching waits for a calibration
                    waited += min([c for c in cals if c > h], default=float(t_f[-1])) - h
            for c in cals[1:]:
                m = _median_after(t_f, err, quiet, c, next(x for x in nexts if x > c))
                if m is not None:
                    recal.append(m)
            out["clip_err_coached"] = coached
            out["clip_err_recalibrated"] = recal
            out["clip_recalibrations"] = len(cals) - 1
            out["clip_waited_s"] = waited
    return out


def main() -> None:
    kinds = ["days", "slouch", "slips"]
    args = wearer_sets.parse(__doc__.splitlines()[0], kinds, 6)
    kinds = [args.only] if args.only else kinds
    by_kind = wearer_sets.run(one, kinds, args.wearers, args.hours, 9000)
    for k in kinds:
        rs = by_kind[k]
        days8 = wearer_sets.heading(k, rs) / 8.0
        if k == "days":
            for who in ("clip", "host"):
                n = sum(r[f"{who}_false_buzzes"] for r in rs)
                print(f"  {who}: false posture buzzes {n} = {n / days8:.2f} per 8 h; "
                      f"false slips {sum(r[f'{who}_false_slips'] for r in rs)}"
                      f" ({sum(r[f'{who}_undone'] for r in rs)} undone by the next walk)")
            held: dict[str, int] = {}
            for r in rs:
                for w in r["held"]:
                    held[w] = held.get(w, 0) + 1
            print("  clip held back:", ", ".join(f"{w} {n}" for w, n in sorted(held.items())))
        elif k == "slouch":
            total = sum(r["slouches"] for r in rs)
            for who in ("clip", "host"):
                print(f"  {who}: slouches >= 60 s missed {sum(r[f'{who}_missed'] for r in rs)}"
                      f" of {total}; false slips {sum(r[f'{who}_false_slips'] for r in rs)} "
                      f"= {sum(r[f'{who}_false_slips'] for r in rs) / days8:.2f} per 8 h"
                      f" ({sum(r[f'{who}_undone'] for r in rs)} undone by the next walk)")
        else:
            total = sum(r["slips"] for r in rs)
            for who in ("clip", "host"):
                found = sum(r[f"{who}_found"] for r in rs)
                lat = [x for r in rs for x in r[f"{who}_latency"]]
                after = [x for r in rs for _, x in r[f"{who}_err_after"]]
                first = [x for r in rs for k, x in r[f"{who}_err_after"] if k == 0]
                late = [x for r in rs for k, x in r[f"{who}_err_after"] if k >= 10]
                before = [r[f"{who}_err_before"] for r in rs if r[f"{who}_err_before"] is not None]
                print(f"  {who}: slips found within {FOUND_WITHIN_S:.0f} s {found} of {total} "
                      f"({100 * found / max(1, total):.1f} %), latency median "
                      f"{np.median(lat) if lat else float('nan'):.2f} s, max "
                      f"{max(lat) if lat else float('nan'):.2f} s; false "
                      f"{sum(r[f'{who}_false_slips'] for r in rs)}")
                print(f"    re-anchorings undone by the next walk: "
                      f"{sum(r[f'{who}_undone'] for r in rs)}")
                if after:
                    print(f"    flexion |error| after a found slip: median "
                          f"{np.median(after):.2f} deg, worst {max(after):.2f} deg, "
                          f"{sum(a <= 2.0 for a in after)} of {len(after)} within 2 deg; "
                          f"before any slip: median {np.median(before):.2f} deg")
                    print(f"    after each wearer's first slip: median {np.median(first):.2f} deg"
                          f" ({sum(a <= 2.0 for a in first)} of {len(first)} within 2 deg); "
                          f"after the 11th and later (re-anchorings compound): median "
                          f"{np.median(late) if late else float('nan'):.2f} deg")
                if who == "clip":
                    coached = [x for r in rs for x in r["clip_err_coached"]]
                    recal = [x for r in rs for x in r["clip_err_recalibrated"]]
                    waited = sum(r["clip_waited_s"] for r in rs)
                    both = coached + recal
                    print(f"    coached on (the first two re-anchorings after a calibration, "
                          f"and each calibration the wearer made when asked): median "
                          f"{np.median(both):.2f} deg, {sum(a <= 2.0 for a in both)} of "
                          f"{len(both)} within 2 deg; after re-anchorings "
                          f"{np.median(coached):.2f} deg ({len(coached)}), after "
                          f"{sum(r['clip_recalibrations'] for r in rs)} calibrations "
                          f"{np.median(recal) if recal else float('nan'):.2f} deg; the "
                          f"coaching waited for a calibration {waited / 60 / days8:.1f} min "
                          f"per 8 h")


if __name__ == "__main__":
    main()
