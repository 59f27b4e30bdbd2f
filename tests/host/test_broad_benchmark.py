"""benchmarks/fusion_broad.py: every-row estimates as BROAD's scorer reads them."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "benchmarks"))
from fusion_broad import BROAD, held_estimates  # noqa: E402


def test_each_row_holds_the_latest_step_and_the_initial_orientation_before_the_first() -> None:
    q = np.array([[0.0, 1.0, 0.0, 0.0], [0.0, 0.0, 1.0, 0.0], [0.0, 0.0, 0.0, 1.0]])
    out = held_estimates(q, np.array([2, 3, 7]), 10)
    assert out.shape == (10, 4)
    np.testing.assert_array_equal(out[:2], [[1.0, 0.0, 0.0, 0.0]] * 2)
    np.testing.assert_array_equal(out[2], q[0])
    np.testing.assert_array_equal(out[3:7], [q[1]] * 4)
    np.testing.assert_array_equal(out[7:], [q[2]] * 3)


@pytest.mark.skipif(not (BROAD / "inclination.py").exists(),
                    reason="BROAD data (../shared/data/broad) is not on this machine")
def test_estimates_scored_by_broads_own_script_give_the_printed_figure(tmp_path: Path) -> None:
    out = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "fusion_broad.py"),
                          "--trials", "2", "--estimates", str(tmp_path)],
                         capture_output=True, text=True, check=True).stdout
    row = next(line.split() for line in out.splitlines() if line.strip().startswith("02 "))
    printed = float(row[1])
    est = tmp_path / "trial_02.csv"
    trial = BROAD / "trial_02.csv.gz"
    lines = est.read_text().splitlines()
    assert lines[0] == "t,qw,qx,qy,qz"
    scored = subprocess.run([sys.executable, str(BROAD / "inclination.py"), str(trial), str(est)],
                            capture_output=True, text=True, check=True).stdout
    assert abs(float(scored.split()[0]) - printed) < 1e-3, (scored, printed)
    assert printed < 1.5
