"""Firmware fusion on the BROAD trials, run in the real MicroPython unix port.

    python benchmarks/fusion_broad.py [--trials 01,08]

Prints the inclination RMSE per trial (BROAD's definition, ../shared/data/broad/inclination.py)
and the mean, plus the mean cost of one Fusion.update in MicroPython here. Needs the BROAD
data in ../shared/data/broad (not shipped with postureclip); says so and exits 0 without it.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BROAD = ROOT.parent / "shared" / "data" / "broad"
DT = 0.0035  # BROAD's native period, s


def micropython() -> str:
    exe = Path(sys.executable).with_name("micropython")
    return str(exe) if exe.exists() else "micropython"


def run_trial(path: Path, incl: object, group: int, stride: int = 1) -> tuple[str, float, float]:
    d = incl.load_csv(str(path))  # type: ignore[attr-defined]
    rows = np.column_stack([d[k] for k in ("gx", "gy", "gz", "ax", "ay", "az")])
    # a slower IMU: every stride-th sample (plain decimation, no anti-aliasing filter: a
    # harsher test than a chip that filters before it decimates)
    rows = rows[::stride]
    # as the clip's driver does: average groups of samples, fuse once per group
    rows = rows[:len(rows) // group * group].reshape(-1, group, 6).mean(axis=1)
    span = group * stride  # BROAD samples per fusion step
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        rows.astype("<f4").tofile(src)
        env = dict(os.environ, MICROPYPATH=f".frozen:{ROOT / 'firmware'}")
        out = subprocess.run([micropython(), str(ROOT / "benchmarks" / "mp_fusion.py"), str(src),
                              str(dst), repr(DT * span)], env=env, capture_output=True, text=True,
                             check=True).stdout
        q = np.fromfile(dst, "<f4").reshape(-1, 4).astype(float)
    us = float(out.split()[-1])
    # a fusion step's orientation belongs to the last sample of its group: score it there
    at = np.arange(len(q)) * span + span - stride
    qt = np.column_stack([d[k] for k in ("qw", "qx", "qy", "qz")])[at]
    rmse = incl.inclination_rmse(d["t"][at], q, qt, d["movement"][at])  # type: ignore[attr-defined]
    return path.name[6:8], rmse, us


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", help="comma-separated trial numbers (default: all)")
    ap.add_argument("--group", type=int, default=4,
                    help="samples averaged per fusion step (the clip: 4; 1 = every sample)")
    ap.add_argument("--stride", type=int, default=1,
                    help="keep every n-th sample first (a slower IMU rate)")
    args = ap.parse_args()
    if not (BROAD / "inclination.py").exists():
        print(f"BROAD data not found at {BROAD}: this benchmark needs the shared data set "
              "(see docs/benchmarks.md); nothing measured.")
        return 0
    sys.path.insert(0, str(BROAD))
    import inclination

    files = sorted(BROAD.glob("trial_*.csv.gz"))
    if args.trials:
        want = {f"{int(t):02d}" for t in args.trials.split(",")}
        files = [f for f in files if f.name[6:8] in want]
    with ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        results = list(ex.map(lambda p: run_trial(p, inclination, args.group, args.stride),
                              files))
    print(f"BROAD at {1 / DT:.0f} Hz, every {args.stride} kept, fused every {args.group} "
          f"sample(s) ({1 / DT / args.group / args.stride:.1f} Hz)")
    print("trial  incl_rmse_deg  update_us")
    for name, rmse, us in results:
        print(f"{name:>5}  {rmse:13.4f}  {us:9.2f}")
    rm = np.array([r for _, r, _ in results])
    print(f"mean inclination RMSE over {len(rm)} trials: {rm.mean():.4f} deg; "
          f"worst {rm.max():.4f} deg (trial {results[int(rm.argmax())][0]})")
    print(f"mean Fusion.update cost in MicroPython (unix port, this machine): "
          f"{np.mean([u for *_, u in results]):.2f} us/update")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
