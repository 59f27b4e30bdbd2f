"""Firmware fusion on the BROAD trials, run in the real MicroPython unix port.

    python benchmarks/fusion_broad.py [--trials 01,08] [--stride N] [--group N]
                                      [--fast-rate R | --no-fast]

Prints the inclination RMSE per trial (BROAD's definition, ../shared/data/broad/inclination.py)
and the mean, plus the mean cost of one Fusion.update in MicroPython here. Needs the BROAD
data in ../shared/data/broad (not shipped with postureclip); says so and exits 0 without it.

By default the samples reach the fusion as the clip's moving profile delivers them
(firmware/clip/power.py): every 3rd BROAD sample (95 Hz, near the IMU's 104 Hz) in groups of
16, samples turning faster than FAST_SAMPLE_RATE on any axis - and the driver's FAST_HOLD
after the last of them - in groups of FAST_GROUP, the open coarse group closing before the
first turning sample (clip.drivers.imu). ``--no-fast`` gives fixed groups.
"""
from __future__ import annotations

import argparse
import ast
import os
import re
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
BROAD = ROOT.parent / "shared" / "data" / "broad"
DT = 0.0035  # BROAD's native period, s
FAST_HOLD = 16  # clip.drivers.imu.FAST_HOLD


def firmware_constant(name: str) -> object:
    """A constant of firmware/clip/power.py (the benchmark follows the firmware)."""
    src = (ROOT / "firmware" / "clip" / "power.py").read_text()
    m = re.search(rf"^{name} = (.+)$", src, re.M)
    assert m is not None, name
    return ast.literal_eval(m.group(1))


def clip_groups(rows: np.ndarray, group: int, fast_rate: float,
                fast_group: int) -> tuple[np.ndarray, np.ndarray]:
    """Group samples as the clip's driver does: returns the group means and each group's
    last row index. ``fast_rate`` 0: fixed groups of ``group``."""
    fast = np.abs(rows[:, :3]).max(axis=1) > fast_rate if fast_rate else np.zeros(len(rows), bool)
    ends = []
    n = hold = 0
    for i in range(len(rows)):
        if fast[i]:
            if not hold and n:
                ends.append(i - 1)  # a turn starts a group of its own
                n = 0
            hold = FAST_HOLD
        n += 1
        if hold:
            hold -= 1
            if n >= fast_group:
                ends.append(i)
                n = 0
        elif n == group:
            ends.append(i)
            n = 0
    last = np.array(ends, dtype=np.int64)
    first = np.concatenate([[0], last[:-1] + 1])
    sums = np.add.reduceat(rows, first, axis=0)[:len(last)]
    return sums / (last - first + 1)[:, None], last


def micropython() -> str:
    exe = Path(sys.executable).with_name("micropython")
    return str(exe) if exe.exists() else "micropython"


def run_trial(path: Path, incl: object, group: int, stride: int, fast_rate: float,
              fast_group: int) -> tuple[str, float, float, float]:
    d = incl.load_csv(str(path))  # type: ignore[attr-defined]
    rows = np.column_stack([d[k] for k in ("gx", "gy", "gz", "ax", "ay", "az")])
    # a slower IMU: every stride-th sample (plain decimation, no anti-aliasing filter: a
    # harsher test than a chip that filters before it decimates)
    rows = rows[::stride]
    means, last = clip_groups(rows, group, fast_rate, fast_group)
    sizes = np.diff(np.concatenate([[-1], last]))
    steps = np.column_stack([means, sizes * DT * stride])
    with tempfile.TemporaryDirectory() as tmp:
        src, dst = Path(tmp) / "in.bin", Path(tmp) / "out.bin"
        steps.astype("<f4").tofile(src)
        env = dict(os.environ, MICROPYPATH=f".frozen:{ROOT / 'firmware'}")
        out = subprocess.run([micropython(), str(ROOT / "benchmarks" / "mp_fusion.py"), str(src),
                              str(dst)], env=env, capture_output=True, text=True,
                             check=True).stdout
        q = np.fromfile(dst, "<f4").reshape(-1, 4).astype(float)
    us = float(out.split()[-1])
    # a fusion step's orientation belongs to the last sample of its group: score it there
    at = last * stride
    qt = np.column_stack([d[k] for k in ("qw", "qx", "qy", "qz")])[at]
    rmse = incl.inclination_rmse(d["t"][at], q, qt, d["movement"][at])  # type: ignore[attr-defined]
    return path.name[6:8], rmse, us, len(last) / (len(rows) * DT * stride)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--trials", help="comma-separated trial numbers (default: all)")
    profile = firmware_constant("PROFILES")[0]  # type: ignore[index]
    ap.add_argument("--group", type=int, default=profile[1],
                    help=f"samples averaged per coarse fusion step (the clip: {profile[1]}; "
                         "1 = every sample)")
    ap.add_argument("--stride", type=int, default=3,
                    help="keep every n-th sample first (3: 95 Hz, near the clip's 104 Hz)")
    ap.add_argument("--fast-rate", type=float, default=firmware_constant("FAST_SAMPLE_RATE"),
                    help="rad/s: faster-turning samples go in groups of --fast-group")
    ap.add_argument("--fast-group", type=int, default=firmware_constant("FAST_GROUP"))
    ap.add_argument("--no-fast", action="store_true", help="fixed groups of --group")
    args = ap.parse_args()
    fast_rate = 0.0 if args.no_fast else args.fast_rate
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
        results = list(ex.map(lambda p: run_trial(p, inclination, args.group, args.stride,
                                                  fast_rate, args.fast_group), files))
    rate = 1 / DT / args.stride
    turns = (f", turns faster than {fast_rate:g} rad/s in groups of {args.fast_group}"
             if fast_rate else "")
    print(f"BROAD at {1 / DT:.0f} Hz, every {args.stride} kept ({rate:.1f} Hz), fused in groups "
          f"of {args.group} ({rate / args.group:.1f} Hz){turns}")
    print("trial  incl_rmse_deg  update_us  steps_per_s")
    for name, rmse, us, hz in results:
        print(f"{name:>5}  {rmse:13.4f}  {us:9.2f}  {hz:11.1f}")
    rm = np.array([r for _, r, *_ in results])
    print(f"mean inclination RMSE over {len(rm)} trials: {rm.mean():.4f} deg; "
          f"worst {rm.max():.4f} deg (trial {results[int(rm.argmax())][0]})")
    print(f"fused steps per second: mean {np.mean([h for *_, h in results]):.1f}")
    print(f"mean Fusion.update cost in MicroPython (unix port, this machine): "
          f"{np.mean([u for _, _, u, _ in results]):.2f} us/update")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
