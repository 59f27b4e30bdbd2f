"""Run every benchmark in turn (what `make bench` does); each prints its own figures."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["fusion_broad.py", "host_broad.py", "firmware_cost.py", "firmware_accuracy.py",
           "analysis_accuracy.py"]


def main() -> int:
    status = 0
    for name in SCRIPTS:
        print(f"== {name}", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / name)])
    return status


if __name__ == "__main__":
    raise SystemExit(main())
