"""Firmware sensing pipeline on simulated wearers, run in the real MicroPython unix port.

    python benchmarks/firmware_accuracy.py [--hours 20] [--always-active]

Each hour is a random wearer from the host's simulator (postureclip.simulate, sensor errors
and mounting included) recorded at 208 Hz without jitter, and put through
``postureclip firmware replay`` (postureclip.firmware_replay): sampled as the clip samples
(the LSM6DSOX's LSBs at the clip's ranges), calibrate pressed at the first still moment,
grouped as the app groups them, power profiles included (--always-active: the moving profile
throughout). The seconds and fused steps in each profile are reported: the still fraction and
step rates the power model (postureclip.power) uses.
Scored against truth as the host analysis is (benchmarks/analysis_accuracy.py): flexion RMS
error by activity; slouch episodes (flexion over 20 deg for >= 10 s, dips < 2 s bridged,
lifts/walking/lying excluded) against the clip's ``slouch_episodes`` at IoU >= 0.5;
lifts at IoU >= 0.3 with technique and twist (>= 30 deg) accuracy.
"""
from __future__ import annotations

import argparse
import dataclasses
import os
from concurrent.futures import ProcessPoolExecutor

import numpy as np

from postureclip.analysis import episodes_from_mask
from postureclip.firmware_replay import replay
from postureclip.recording import Recording
from postureclip.scoring import f1, match_intervals
from postureclip.simulate import CLIP_IMU_RATE_HZ, Wearer, default_day, simulate

RATE_HZ = CLIP_IMU_RATE_HZ


def one_hour(seed: int, hours: float = 1.0, always_active: bool = False) -> dict[str, object]:
    rng = np.random.default_rng(seed)
    wearer = dataclasses.replace(Wearer.random(rng), rate_hz=RATE_HZ, jitter=0.0)
    sim = simulate(default_day(rng, hours=hours), wearer, rng, gaps=0)
    res = replay(Recording(sim.t, sim.acc, sim.gyr), always_active=always_active)
    tr = sim.truth
    mask = (tr.flexion_deg > 20.0) & ~np.isin(tr.activity, ["lift", "walk", "lie"])
    true_eps = episodes_from_mask(tr.t, tr.flexion_deg, mask, 10.0, 2.0)
    found = res.slouch_episodes
    pairs = match_intervals([(e.start_s, e.end_s) for e in true_eps],
                            [(e.start_s, e.end_s) for e in found], 0.5)
    peak_err = [abs(found[j].peak_flexion_deg - true_eps[i].peak_flexion_deg) for i, j in pairs]
    tl = tr.lifts
    lp = match_intervals([(x.start_s, x.end_s) for x in tl],
                         [(x.start_s, x.end_s) for x in res.lifts], 0.3)
    out = res.series
    truth_flex = np.interp(out[:, 0], tr.t, tr.flexion_deg)
    err = out[:, 1] - truth_flex
    act = tr.activity[np.clip(np.searchsorted(tr.t, out[:, 0]), 0, len(tr.t) - 1)]
    calibrated = out[:, 0] > res.calibration["pressed_s"] + 3.6
    static = np.isin(act, ["sit", "slouch", "stand", "lean", "recline"]) & calibrated
    dyn = np.isin(act, ["walk", "lift"]) & calibrated
    pr = res.profiles
    return {"ep_true": len(true_eps), "ep_found": len(found), "ep_match": len(pairs),
            "peak_err": peak_err, "lift_true": len(tl), "lift_found": len(res.lifts),
            "lift_match": len(lp),
            "tech": [res.lifts[j].technique == tl[i].technique for i, j in lp],
            "twist": [res.lifts[j].twisted == tl[i].twisted for i, j in lp],
            "sq_static": float(np.sum(err[static] ** 2)), "n_static": int(static.sum()),
            "sq_dyn": float(np.sum(err[dyn] ** 2)), "n_dyn": int(dyn.sum()),
            "hours": float(sim.t[-1]) / 3600,
            "active_s": pr["active_s"], "still_s": pr["still_s"],
            "active_steps": pr["active_steps"], "still_steps": pr["still_steps"],
            "still_truth_s": _still_truth_s(sim)}


def _still_truth_s(sim: object) -> float:
    """Seconds the simulated wearer sat, stood, leaned or reclined (not moving on purpose)."""
    tr = sim.truth  # type: ignore[attr-defined]
    quiet = np.isin(tr.activity, ["sit", "slouch", "stand", "lean", "recline"])
    return float(np.sum(np.diff(tr.t, append=tr.t[-1]) * quiet))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=20)
    ap.add_argument("--seed", type=int, default=5000)
    ap.add_argument("--always-active", action="store_true",
                    help="the full-rate profile throughout (no still profile)")
    args = ap.parse_args()
    seeds = range(args.seed, args.seed + args.hours)
    with ProcessPoolExecutor(os.cpu_count() or 2) as ex:
        rs = list(ex.map(one_hour, seeds, [1.0] * len(seeds),
                         [args.always_active] * len(seeds)))
    tot = {k: sum(r[k] for r in rs) for k in ("ep_true", "ep_found", "ep_match",  # type: ignore
                                               "lift_true", "lift_found", "lift_match", "hours")}
    peak = np.concatenate([r["peak_err"] for r in rs])  # type: ignore[misc]
    tech = np.concatenate([r["tech"] for r in rs])  # type: ignore[misc]
    twist = np.concatenate([r["twist"] for r in rs])  # type: ignore[misc]
    static = np.sqrt(sum(r["sq_static"] for r in rs) / sum(r["n_static"] for r in rs))  # type: ignore
    dyn = np.sqrt(sum(r["sq_dyn"] for r in rs) / sum(r["n_dyn"] for r in rs))  # type: ignore
    active = sum(r["active_s"] for r in rs)  # type: ignore[misc]
    still = sum(r["still_s"] for r in rs)  # type: ignore[misc]
    quiet = sum(r["still_truth_s"] for r in rs)  # type: ignore[misc]
    active_steps = sum(r["active_steps"] for r in rs)  # type: ignore[misc]
    still_steps = sum(r["still_steps"] for r in rs)  # type: ignore[misc]
    print(f"firmware pipeline in MicroPython: {tot['hours']:.1f} simulated h, {len(rs)} wearers, "
          f"{RATE_HZ:g} Hz simulated, read as the clip reads it")
    print(f"power profiles: still {still / (active + still):.1%} of the time "
          f"({still_steps / max(still, 1e-9):.2f} fused steps/s), active "
          f"{active / (active + still):.1%} ({active_steps / max(active, 1e-9):.2f} fused "
          f"steps/s); the simulated wearers sat, stood or leaned "
          f"{quiet / (tot['hours'] * 3600):.1%} of it")
    print(f"flexion RMS error: sitting/standing {static:.2f} deg, walking and lifts {dyn:.2f} deg")
    print(f"slouch episodes: {tot['ep_true']} true, {tot['ep_found']} found, "
          f"F1 {f1(tot['ep_true'], tot['ep_found'], tot['ep_match']):.3f} (IoU >= 0.5); "
          f"peak flexion error median {np.median(peak) if len(peak) else float('nan'):.2f} deg")
    false_lifts = tot["lift_found"] - tot["lift_match"]
    print(f"lifts: {tot['lift_true']} true, {tot['lift_found']} found, "
          f"F1 {f1(tot['lift_true'], tot['lift_found'], tot['lift_match']):.3f}, detected "
          f"{tot['lift_match'] / max(1, tot['lift_true']):.3f}, "
          f"{false_lifts / tot['hours']:.2f} false lifts per hour")
    print(f"technique accuracy {tech.mean():.3f}, twist accuracy {twist.mean():.3f} "
          f"(over {len(tech)} matched lifts)")


if __name__ == "__main__":
    main()
