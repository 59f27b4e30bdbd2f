"""Cost of the clip's hot path in the real MicroPython unix port: time, heap, instructions.

    python benchmarks/firmware_cost.py [--no-callgrind]

Runs benchmarks/mp_pipeline_cost.py (LSM6DSOX FIFO decode + fusion + trunk angles + activity
+ lift and posture coaches, grouped as the moving profile groups them) for µs per sample and
heap bytes, then counts instructions per sample and per fused step under
`valgrind --tool=callgrind` as the difference between two run lengths (start-up cancels out),
which is repeatable on a noisy machine.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / "benchmarks" / "mp_pipeline_cost.py"
SHORT, LONG = 200, 1200  # groups per callgrind run


def micropython_cmd() -> list[str]:
    exe = Path(sys.executable).with_name("micropython")
    if exe.exists():
        # the PyPI package's command is a Python entry point running MicroPython in-process
        return [sys.executable, str(exe)]
    return ["micropython"]


def env() -> dict[str, str]:
    fw = ROOT / "firmware"
    return dict(os.environ, MICROPYPATH=f".frozen:{fw}:{fw / 'sim'}")


def instructions(groups: int) -> int:
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          *micropython_cmd(), str(SCRIPT), str(groups)], env=env(),
                         capture_output=True, text=True, check=True).stderr
    m = re.search(r"Collected : (\d+)", out)
    if m is None:
        raise RuntimeError("callgrind printed no instruction count:\n" + out[-2000:])
    return int(m.group(1))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--no-callgrind", action="store_true")
    args = ap.parse_args()
    out = subprocess.run([*micropython_cmd(), "-X", "heapsize=256M", str(SCRIPT)], env=env(),
                         capture_output=True, text=True, check=True).stdout
    print(out.rstrip())
    if args.no_callgrind:
        return 0
    if shutil.which("valgrind") is None:
        print("valgrind not installed (apt-get install valgrind): no instruction count")
        return 0
    group = int(re.search(r"samples per group: (\d+)", out).group(1))  # type: ignore[union-attr]
    per_step = (instructions(LONG) - instructions(SHORT)) / (LONG - SHORT)
    print(f"callgrind: {per_step:,.0f} instructions per fused step of {group} samples = "
          f"{per_step / group:,.0f} instructions/sample (difference of {LONG} and {SHORT} "
          "groups)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
