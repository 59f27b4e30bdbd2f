"""The firmware's sensing pipeline, in the real MicroPython, on a simulated wearer's morning:
the same path as benchmarks/firmware_accuracy.py, short enough for every test run."""
from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "benchmarks"))
from firmware_accuracy import one_hour


@pytest.mark.parametrize("seed", [7, 8])
def test_firmware_finds_slouches_and_lifts_of_a_simulated_wearer(seed: int) -> None:
    r = one_hour(seed, hours=0.3)
    assert r["lift_true"] > 0 and r["ep_true"] > 0
    # every scripted lift found, nothing invented, technique and twist right
    assert r["lift_match"] >= r["lift_true"] - 1
    assert r["lift_found"] - r["lift_match"] <= 1
    assert all(r["tech"]) and sum(r["twist"]) >= len(r["twist"]) - 1  # type: ignore[arg-type]
    assert r["ep_match"] >= 0.8 * r["ep_true"]  # type: ignore[operator]
    static = (r["sq_static"] / r["n_static"]) ** 0.5  # type: ignore[operator]
    assert static < 2.0, static
