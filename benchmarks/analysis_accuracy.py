"""Host analysis accuracy on simulated wearers with ground truth, and its speed.

    python benchmarks/analysis_accuracy.py [--hours 20] [--speed-hours 8]

Each simulated hour is a different random wearer (trunk length, mounting tilt, gyro and
accelerometer bias, noise, sample rate 25-200 Hz, timestamp jitter, gaps). Truth slouch
episodes come from the true flexion by the same rule the analysis applies (flexion above
20 deg for >= 10 s, dips < 2 s bridged, lifts/walking/lying excluded; a brief reach
while slouched stays flexed and so stays in the episode); a found episode matches
a true one at IoU >= 0.5. Lifts match at IoU >= 0.3.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np

from postureclip.analysis import AnalysisSettings, analyze, episodes_from_mask
from postureclip.recording import Recording, read_csv
from postureclip.scoring import f1, match_intervals
from postureclip.simulate import Wearer, default_day, simulate


def one_hour(seed: int) -> dict[str, float]:
    rng = np.random.default_rng(seed)
    sim = simulate(default_day(rng, hours=1.0), Wearer.random(rng), rng, gaps=2)
    res = analyze(Recording(sim.t, sim.acc, sim.gyr))
    tr = sim.truth
    s = AnalysisSettings()
    mask = (tr.flexion_deg > s.slouch_deg) & ~np.isin(tr.activity, ["lift", "walk", "lie"])
    true_eps = episodes_from_mask(tr.t, tr.flexion_deg, mask, s.min_episode_s, s.max_dip_s)
    pairs = match_intervals([(e.start_s, e.end_s) for e in true_eps],
                            [(e.start_s, e.end_s) for e in res.slouch_episodes], 0.5)
    peak_err = [abs(res.slouch_episodes[j].peak_flexion_deg - true_eps[i].peak_flexion_deg)
                for i, j in pairs]
    tl = tr.lifts
    lp = match_intervals([(x.start_s, x.end_s) for x in tl],
                         [(x.start_s, x.end_s) for x in res.lifts], 0.3)
    tech = [res.lifts[j].technique == tl[i].technique for i, j in lp]
    twist = [res.lifts[j].twisted == tl[i].twisted for i, j in lp]
    truth_flex = np.interp(res.series["t"], tr.t, tr.flexion_deg)
    err = res.series["flexion_deg"] - truth_flex
    act = tr.activity[np.clip(np.searchsorted(tr.t, res.series["t"]), 0, len(tr.t) - 1)]
    sitstand = np.isin(act, ["sit", "slouch", "stand", "lean", "recline"])
    dyn = np.isin(act, ["walk", "lift"])
    return {"ep_true": len(true_eps), "ep_found": len(res.slouch_episodes), "ep_match": len(pairs),
            "peak_err": peak_err, "lift_true": len(tl), "lift_found": len(res.lifts),
            "lift_match": len(lp), "tech": tech, "twist": twist,
            "flex_sq_static": float(np.sum(err[sitstand] ** 2)), "n_static": int(sitstand.sum()),
            "flex_sq_dyn": float(np.sum(err[dyn] ** 2)), "n_dyn": int(dyn.sum()),
            "hours": sim.t[-1] / 3600}


_TIMED = ("import resource,sys,time;from postureclip.recording import read_csv;"
          "from postureclip.analysis import analyze;t0=time.perf_counter();"
          "analyze(read_csv(sys.argv[1]));t1=time.perf_counter();"
          "print(t1-t0,resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)")


def speed(hours: float, runs: int = 5) -> dict[str, list[float]]:
    """End-to-end analyses (CSV read included) of one ``hours`` long 50 Hz recording:
    ``fresh``: seconds in ``runs`` fresh processes (library imported, nothing read yet) with
    ``rss_mb`` their peak RSS; ``warm``: ``runs`` analyses in one process; ``cli``: wall time
    of ``postureclip analyze --format json`` (interpreter start and imports included)."""
    rng = np.random.default_rng(1234)
    n = int(hours * 3600 * 50)
    t = np.arange(n) / 50.0 + rng.uniform(-0.002, 0.002, n)
    t[0] = 0.0
    acc = np.tile([9.81, 0.0, 0.0], (n, 1)) + rng.normal(0, 0.05, (n, 3))
    # some motion so the filters work on real numbers: slow flexion changes
    ang = np.radians(15) * np.sin(2 * np.pi * t / 120.0)
    acc[:, 0] = 9.81 * np.cos(ang)
    acc[:, 2] = 9.81 * np.sin(ang)
    gyr = rng.normal(0, 0.005, (n, 3))
    gyr[:, 1] += np.gradient(ang, t)
    out: dict[str, list[float]] = {"fresh": [], "rss_mb": [], "warm": [], "cli": []}
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "8h.csv"
        with open(path, "w") as fh:
            fh.write("t,ax,ay,az,gx,gy,gz\n")
            np.savetxt(fh, np.column_stack([t, acc, gyr]), fmt="%.5f", delimiter=",")
        del t, acc, gyr
        for _ in range(runs):
            secs, rss = subprocess.run([sys.executable, "-c", _TIMED, str(path)],
                                       capture_output=True, text=True,
                                       check=True).stdout.split()
            out["fresh"].append(float(secs))
            out["rss_mb"].append(int(rss) / 1024)
        for _ in range(runs):
            t0 = time.perf_counter()
            analyze(read_csv(path))
            out["warm"].append(time.perf_counter() - t0)
        for _ in range(runs):
            t0 = time.perf_counter()
            # the console command a user runs (its entry point settles the BLAS threads)
            subprocess.run([str(Path(sys.executable).parent / "postureclip"), "analyze",
                            str(path), "--format", "json"], capture_output=True, check=True)
            out["cli"].append(time.perf_counter() - t0)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--hours", type=int, default=20)
    ap.add_argument("--speed-hours", type=float, default=8.0)
    args = ap.parse_args()
    with ProcessPoolExecutor(os.cpu_count() or 2) as ex:
        rs = list(ex.map(one_hour, range(1000, 1000 + args.hours)))
    if rs:
        report(rs)
    if args.speed_hours > 0:
        sp = speed(args.speed_hours)
        real = args.speed_hours * 3600

        def fig(xs: list[float]) -> str:
            return (f"median {np.median(xs):.2f} s = {real / np.median(xs):,.0f}x real time "
                    f"(runs {', '.join(f'{x:.2f}' for x in xs)})")

        print(f"speed: {args.speed_hours:g} h at 50 Hz analysed end to end (CSV read "
              f"included), each in a fresh process: {fig(sp['fresh'])}; peak RSS "
              f"{max(sp['rss_mb']):.0f} MB")
        print(f"  again in one process: {fig(sp['warm'])}")
        print(f"  the whole command (postureclip analyze --format json, interpreter start and "
              f"imports included): {fig(sp['cli'])}")


def report(rs: list[dict[str, float]]) -> None:
    tot = {k: sum(r[k] for r in rs) for k in ("ep_true", "ep_found", "ep_match", "lift_true",
                                               "lift_found", "lift_match", "hours")}
    peak = np.concatenate([r["peak_err"] for r in rs])
    tech = np.concatenate([r["tech"] for r in rs])
    twist = np.concatenate([r["twist"] for r in rs])
    static = np.sqrt(sum(r["flex_sq_static"] for r in rs) / sum(r["n_static"] for r in rs))
    dyn = np.sqrt(sum(r["flex_sq_dyn"] for r in rs) / sum(r["n_dyn"] for r in rs))
    print(f"simulated: {tot['hours']:.1f} h, {len(rs)} wearers")
    print(f"slouch episodes: {tot['ep_true']} true, {tot['ep_found']} found, "
          f"F1 {f1(tot['ep_true'], tot['ep_found'], tot['ep_match']):.3f} (IoU >= 0.5); "
          f"peak-angle error median {np.median(peak):.2f} deg")
    false_lifts = tot["lift_found"] - tot["lift_match"]
    print(f"lifts: {tot['lift_true']} true, {tot['lift_found']} found, "
          f"F1 {f1(tot['lift_true'], tot['lift_found'], tot['lift_match']):.3f}; "
          f"{false_lifts / tot['hours']:.2f} false lifts per hour")
    print(f"technique accuracy {tech.mean():.3f}, twist accuracy {twist.mean():.3f} "
          f"(over {len(tech)} matched lifts)")
    print(f"flexion RMS error: sitting/standing {static:.2f} deg, walking and lifts {dyn:.2f} deg")


if __name__ == "__main__":
    main()
