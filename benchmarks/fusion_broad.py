"""Firmware fusion on the BROAD trials, run in the real MicroPython unix port.

    python benchmarks/fusion_broad.py [--trials 01,08] [--stride N] [--group N]
                                      [--fast-rate R | --no-fast] [--estimates DIR]

Prints the inclination RMSE per trial (BROAD's definition, ../shared/data/broad/inclination.py)
and the mean, plus the mean cost of one Fusion.update in MicroPython here. Needs the BROAD
data in ../shared/data/broad (not shipped with postureclip); says so and exits 0 without it.

Scored as BROAD's scorer prescribes: on every row of the trial, with the orientation the clip
has at that row - the output of its latest fused step (the fusion's initial orientation
before the first). The input is first clipped to the clip's ranges (ACCEL_RANGE_G and
GYRO_RANGE_DPS of firmware/clip/fusion.py, what the app configures the IMU with; ``--range-g``
and ``--range-dps`` try others). The figure at the rows where a fused step
comes out is printed beside it, labelled ("step rows only"). ``--estimates DIR`` writes
``DIR/trial_NN.csv`` (t,qw,qx,qy,qz, one row per trial row) for BROAD's own
``inclination.py`` to score.

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


def firmware_constant(name: str, module: str = "power") -> object:
    """A constant of firmware/clip/MODULE.py (the benchmark follows the firmware)."""
    src = (ROOT / "firmware" / "clip" / f"{module}.py").read_text()
    m = re.search(rf"^{name} = (const\((.+)\)|.+)$", src, re.M)
    assert m is not None, name
    return ast.literal_eval(m.group(2) or m.group(1))


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


def held_estimates(q: np.ndarray, last: np.ndarray, n: int) -> np.ndarray:
    """One orientation per input row: the latest step's output at or before the row (step i
    comes out at row ``last[i]``), the fusion's initial orientation before the first."""
    idx = np.searchsorted(last, np.arange(n), side="right") - 1
    out = np.tile([1.0, 0.0, 0.0, 0.0], (n, 1))
    have = idx >= 0
    out[have] = q[idx[have]]
    return out


def run_trial(path: Path, incl: object, group: int, stride: int, fast_rate: float,
              fast_group: int, ranges: tuple[float, float], estimates: Path | None
              ) -> tuple[str, float, float, float, float]:
    d = incl.load_csv(str(path))  # type: ignore[attr-defined]
    rows = np.column_stack([d[k] for k in ("gx", "gy", "gz", "ax", "ay", "az")])
    acc_range, gyr_range = ranges[0] * 9.80665, np.radians(ranges[1])
    rows[:, :3] = np.clip(rows[:, :3], -gyr_range, gyr_range)
    rows[:, 3:] = np.clip(rows[:, 3:], -acc_range, acc_range)
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
    at = last * stride  # native row of each step's last sample: where it comes out
    qt = np.column_stack([d[k] for k in ("qw", "qx", "qy", "qz")])
    every = held_estimates(q, at, len(d["t"]))
    rmse = incl.inclination_rmse(d["t"], every, qt, d["movement"])  # type: ignore[attr-defined]
    at_steps = incl.inclination_rmse(d["t"][at], q, qt[at],  # type: ignore[attr-defined]
                                     d["movement"][at])
    name = path.name[:8]
    if estimates is not None:
        with open(estimates / f"{name}.csv", "w") as fh:
            fh.write("t,qw,qx,qy,qz\n")
            np.savetxt(fh, np.column_stack([d["t"], every]), fmt="%.9g", delimiter=",")
    return name[6:8], rmse, at_steps, us, len(last) / (len(rows) * DT * stride)


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
    ap.add_argument("--range-g", type=float,
                    default=firmware_constant("ACCEL_RANGE_G", "fusion"),
                    help="accelerometer range the input is clipped to, g (default: the clip's; "
                         "the fusion's saturation guard follows the clip's, not this)")
    ap.add_argument("--range-dps", type=float,
                    default=firmware_constant("GYRO_RANGE_DPS", "fusion"),
                    help="gyro range the input is clipped to, deg/s (default: the clip's)")
    ap.add_argument("--estimates", type=Path, metavar="DIR",
                    help="write DIR/trial_NN.csv (t,qw,qx,qy,qz per trial row) for BROAD's "
                         "inclination.py")
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
    if args.estimates is not None:
        args.estimates.mkdir(parents=True, exist_ok=True)
    with ThreadPoolExecutor(os.cpu_count() or 2) as ex:
        results = list(ex.map(lambda p: run_trial(p, inclination, args.group, args.stride,
                                                  fast_rate, args.fast_group,
                                                  (args.range_g, args.range_dps), args.estimates),
                              files))
    rate = 1 / DT / args.stride
    turns = (f", turns faster than {fast_rate:g} rad/s in groups of {args.fast_group}"
             if fast_rate else "")
    print(f"BROAD at {1 / DT:.0f} Hz clipped to +-{args.range_g:g} g and +-{args.range_dps:g} "
          f"deg/s, every {args.stride} kept "
          f"({rate:.1f} Hz), fused in groups of {args.group} ({rate / args.group:.1f} Hz){turns}")
    print("trial  every_row_deg  step_rows_deg  update_us  steps_per_s")
    for name, rmse, at_steps, us, hz in results:
        print(f"{name:>5}  {rmse:13.4f}  {at_steps:13.4f}  {us:9.2f}  {hz:11.1f}")
    rm = np.array([r[1] for r in results])
    st = np.array([r[2] for r in results])
    print(f"mean inclination RMSE over {len(rm)} trials, every row (BROAD's rule): "
          f"{rm.mean():.4f} deg; worst {rm.max():.4f} deg (trial {results[int(rm.argmax())][0]})")
    print(f"  step rows only (where a fused step comes out): mean {st.mean():.4f} deg; "
          f"worst {st.max():.4f} deg")
    print(f"fused steps per second: mean {np.mean([h for *_, h in results]):.1f}")
    print(f"mean Fusion.update cost in MicroPython (unix port, this machine): "
          f"{np.mean([r[3] for r in results]):.2f} us/update")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
