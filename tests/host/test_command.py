"""The console entry point settles the BLAS threads before numpy is imported."""
from __future__ import annotations

import os
import subprocess
import sys

import pytest

PROBE = """
import atexit, os, sys
import postureclip.command
assert "numpy" not in sys.modules, "numpy imported before the command could set its threads"
atexit.register(lambda: print(os.environ.get("OPENBLAS_NUM_THREADS"),
                              "numpy" in sys.modules))
sys.argv = ["postureclip", "analyze", "--help"]
postureclip.command.run()
"""


@pytest.mark.parametrize(("given", "expected"), [(None, "1"), ("2", "2")])
def test_one_blas_thread_unless_the_user_chose(given: str | None, expected: str) -> None:
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_NUM_THREADS"}
    if given is not None:
        env["OPENBLAS_NUM_THREADS"] = given
    done = subprocess.run([sys.executable, "-c", PROBE], capture_output=True, text=True,
                          env=env, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "usage: postureclip analyze" in done.stdout
    # the setting was in place when the command imported numpy
    assert done.stdout.splitlines()[-1] == f"{expected} True"
