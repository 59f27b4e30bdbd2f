"""Firmware sensing pipeline on simulated wearers, run in the real MicroPython unix port.

    python benchmarks/firmware_accuracy.py [--hours 20] [--always-active]

Each hour is a random wearer from the host's simulator (postureclip.simulate) sampled as the
clip samples: a uniform 208 Hz (LSM6DSOX rate) quantised to the chip's LSBs at the firmware's
ranges (16 g, 2000 dps) and grouped as the app groups them (benchmarks/mp_pipeline.py): the IMU
at 104 Hz (every 2nd sample) in groups of 16, fast turns in pairs, while the wearer moves, and
at 26 Hz in 0.5 s groups while the wearer is still (clip.power's profiles; --always-active:
the moving profile throughout). The seconds and fused steps in each profile are reported: the
still fraction and step rates the power model (postureclip.power) uses. The wearer presses
the calibrate button 1 s into the still start.
Scored against truth: flexion RMS error by activity; posture episodes (slouch over 20 deg or
lean over 15 deg for >= 10 s, dips < 2 s bridged, lifts/walking/lying excluded) matched at
IoU >= 0.5; lifts matched at IoU >= 0.3 with technique and twist (>= 30 deg) accuracy.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from postureclip.analysis import episodes_from_mask
from postureclip.scoring import f1, match_intervals
from postureclip.simulate import CLIP_IMU_RATE_HZ, clip_imu_samples

ROOT = Path(__file__).resolve().parents[1]
RATE_HZ = CLIP_IMU_RATE_HZ
REC_SLOUCH_START, REC_SLOUCH_END, REC_LIFT = 3, 4, 5


def micropython() -> str:
    exe = Path(sys.executable).with_name("micropython")
    return str(exe) if exe.exists() else "micropython"


def device_samples(seed: int, hours: float) -> tuple[np.ndarray, object]:
    return clip_imu_samples(seed, hours)


def run_firmware(rows: np.ndarray,
                 always_active: bool = False) -> tuple[np.ndarray, list[list[float]],
                                                       tuple[float, float, int, int]]:
    with tempfile.TemporaryDirectory() as tmp:
        src, dst, ev = (Path(tmp) / n for n in ("in.bin", "out.bin", "events.txt"))
        rows.astype("<f4").tofile(src)
        fw = ROOT / "firmware"
        env = dict(os.environ, MICROPYPATH=f".frozen:{fw}:{fw / 'sim'}")
        done = subprocess.run([micropython(), str(ROOT / "benchmarks" / "mp_pipeline.py"),
                               str(src), str(dst), str(ev), "1.0",
                               *(["active"] if always_active else [])], env=env,
                              capture_output=True, text=True)
        if done.returncode:
            raise RuntimeError(f"the firmware pipeline failed:\n{done.stdout}{done.stderr}")
        out = np.fromfile(dst, "<f4").reshape(-1, 3).astype(float)
        events = [[float(x) for x in line.split()] for line in ev.read_text().splitlines()]
    lines = dict(line.split(None, 1) for line in done.stdout.splitlines())
    active_s, still_s = (float(x) for x in lines["profiles_s"].split())
    active_steps, still_steps = (int(x) for x in lines["steps"].split())
    return out, events, (active_s, still_s, active_steps, still_steps)


def one_hour(seed: int, hours: float = 1.0, always_active: bool = False) -> dict[str, object]:
    rows, sim = device_samples(seed, hours)
    out, events, (active_s, still_s, active_steps, still_steps) = run_firmware(rows,
                                                                                always_active)
    tr = sim.truth  # type: ignore[attr-defined]
    excluded = np.isin(tr.activity, ["lift", "walk", "lie", "reach"])
    mask = ((tr.flexion_deg > 20.0) | (np.abs(tr.lateral_deg) > 15.0)) & ~excluded
    true_eps = episodes_from_mask(tr.t, tr.flexion_deg, mask, 10.0, 2.0)
    found = []
    for e in events:
        if e[0] == REC_SLOUCH_END:
            found.append((e[1] - e[2] / 1000.0, e[1], e[3] / 10.0))
    pairs = match_intervals([(e.start_s, e.end_s) for e in true_eps],
                            [(a, b) for a, b, _ in found], 0.5)
    peak_err = [abs(found[j][2] - true_eps[i].peak_flexion_deg) for i, j in pairs
                if true_eps[i].peak_flexion_deg > 20.0]
    lifts = [(e[1], e[1] + e[2] / 1000.0, "squat" if e[6] == 1 else "stoop",
              bool(int(e[7]) & 1)) for e in events if e[0] == REC_LIFT]
    tl = tr.lifts
    lp = match_intervals([(x.start_s, x.end_s) for x in tl], [(a, b) for a, b, *_ in lifts], 0.3)
    truth_flex = np.interp(out[:, 0], tr.t, tr.flexion_deg)
    err = out[:, 1] - truth_flex
    act = tr.activity[np.clip(np.searchsorted(tr.t, out[:, 0]), 0, len(tr.t) - 1)]
    static = np.isin(act, ["sit", "slouch", "stand", "lean", "recline"]) & (out[:, 0] > 3.6)
    dyn = np.isin(act, ["walk", "lift"])
    return {"ep_true": len(true_eps), "ep_found": len(found), "ep_match": len(pairs),
            "peak_err": peak_err, "lift_true": len(tl), "lift_found": len(lifts),
            "lift_match": len(lp), "tech": [lifts[j][2] == tl[i].technique for i, j in lp],
            "twist": [lifts[j][3] == tl[i].twisted for i, j in lp],
            "sq_static": float(np.sum(err[static] ** 2)), "n_static": int(static.sum()),
            "sq_dyn": float(np.sum(err[dyn] ** 2)), "n_dyn": int(dyn.sum()),
            "hours": float(sim.t[-1]) / 3600,  # type: ignore[attr-defined]
            "active_s": active_s, "still_s": still_s,
            "active_steps": active_steps, "still_steps": still_steps,
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
    print(f"posture episodes: {tot['ep_true']} true, {tot['ep_found']} found, "
          f"F1 {f1(tot['ep_true'], tot['ep_found'], tot['ep_match']):.3f} (IoU >= 0.5); "
          f"peak flexion error median {np.median(peak) if len(peak) else float('nan'):.2f} deg")
    false_lifts = tot["lift_found"] - tot["lift_match"]
    print(f"lifts: {tot['lift_true']} true, {tot['lift_found']} found, detected "
          f"{tot['lift_match'] / max(1, tot['lift_true']):.3f}, "
          f"{false_lifts / tot['hours']:.2f} false lifts per hour")
    print(f"technique accuracy {tech.mean():.3f}, twist accuracy {twist.mean():.3f} "
          f"(over {len(tech)} matched lifts)")


if __name__ == "__main__":
    main()
