"""Run every benchmark in turn (what `make bench` does); each prints its own figures."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
SCRIPTS = ["fusion_broad.py", "host_broad.py", "firmware_cost.py", "firmware_accuracy.py",
           "coaching.py", "exercise.py",
           "analysis_accuracy.py"]


# long runs of tests that `make test` runs short (the count is an environment variable)
LONG_TESTS = [("tests/realble/test_clip_fuzz.py", {"POSTURECLIP_FUZZ_N": "10000"}),
              ("tests/realble/test_radio_cycles.py", {"POSTURECLIP_RADIO_CYCLES": "20000"})]


def main() -> int:
    status = 0
    for name in SCRIPTS:
        print(f"== {name}", flush=True)
        status |= subprocess.call([sys.executable, str(HERE / name)])
    for test, env in LONG_TESTS:
        print(f"== {test} {env}", flush=True)
        status |= subprocess.call([sys.executable, "-m", "pytest", "-q", "-s",
                                   str(HERE.parent / test)], env={**os.environ, **env})
    return status


if __name__ == "__main__":
    raise SystemExit(main())
