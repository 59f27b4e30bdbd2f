"""``postureclip demo``: the most complete end-to-end path that exists today.

Today: a synthetic wearer's shift is simulated (sitting, slouching, walking, squat and stoop
lifts, some twisted; sensor noise, bias, mounting tilt, jittered timestamps), written as a
recording CSV, read back and analysed by the host exactly as ``postureclip analyze`` does,
and the result is compared with the simulator's ground truth. The firmware and BLE path is
not part of the demo yet (the virtual clip is still to be built).
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

from .analysis import analyze
from .recording import read_csv
from .scoring import match_intervals
from .simulate import Wearer, default_day, simulate


def run(args: argparse.Namespace) -> int:
    rng = np.random.default_rng(7)
    wearer = Wearer.random(rng, rate_hz=100.0)
    sim = simulate(default_day(rng, hours=0.5, lifts_per_hour=20), wearer, rng, gaps=2)
    print("postureclip demo — what runs today: simulate a wearer -> recording CSV -> "
          "host analysis -> compare with ground truth\n")
    print(f"simulated wearer: trunk {wearer.trunk_length_m:.2f} m, mounting tilt "
          f"{', '.join(f'{a:+.0f}' for a in wearer.mount_tilt_deg)} deg, "
          f"{wearer.rate_hz:g} Hz with jitter and 2 gaps")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shift.csv"
        sim.write_csv(path)
        rec = read_csv(path)
    result = analyze(rec)
    from .cli import format_table

    print(format_table(result))
    truth = sim.truth
    found = [(x.start_s, x.end_s) for x in result.lifts]
    true = [(x.start_s, x.end_s) for x in truth.lifts]
    pairs = match_intervals(true, found)
    tech_ok = sum(result.lifts[j].technique == truth.lifts[i].technique for i, j in pairs)
    flex = np.interp(result.series["t"], truth.t, truth.flexion_deg)
    err = result.series["flexion_deg"] - flex
    print(f"\nagainst ground truth: {len(pairs)}/{len(true)} lifts found, "
          f"{len(found) - len(pairs)} false; technique right in {tech_ok}/{len(pairs)}; "
          f"flexion RMS error {np.sqrt(np.mean(err ** 2)):.2f} deg")
    return 0
