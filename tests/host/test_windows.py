"""postureclip.windows against scipy: the moving mean, maximum and median are scipy.ndimage's
bit for bit, so the analysis, with numpy alone, gives the numbers scipy would."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import maximum_filter1d, median_filter, uniform_filter1d

from postureclip.windows import (
    moving_max,
    moving_mean,
    moving_median,
    moving_std,
    run_bounds,
    sustained,
)

signals = arrays(np.float64, st.integers(1, 300),
                 elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


@settings(max_examples=1000, deadline=None)
@given(signals, st.integers(1, 700))
def test_moving_mean_is_scipys_uniform_filter_bit_for_bit(x: np.ndarray, n: int) -> None:
    # windows longer than the signal too: both reflect it again and again
    np.testing.assert_array_equal(moving_mean(x, n), uniform_filter1d(x, n))


@settings(max_examples=500, deadline=None)
@given(signals, st.integers(1, 80), st.data())
def test_a_moved_window_is_scipys_origin(x: np.ndarray, n: int, data: st.DataObject) -> None:
    origin = data.draw(st.integers(-(n // 2), (n - 1) // 2))
    np.testing.assert_array_equal(moving_mean(x, n, origin), uniform_filter1d(x, n,
                                                                              origin=origin))


@settings(max_examples=1000, deadline=None)
@given(arrays(np.float64, st.integers(1, 300),
              elements=st.floats(-1e6, 1e6, allow_nan=False) | st.just(-np.inf)),
       st.integers(1, 700))
def test_moving_max_is_scipys_maximum_filter(x: np.ndarray, n: int) -> None:
    # (-inf marks what does not count, as the lift baseline's moving samples)
    np.testing.assert_array_equal(moving_max(x, n), maximum_filter1d(x, n, mode="nearest"))


@settings(max_examples=500, deadline=None)
@given(signals, st.integers(0, 15))
def test_moving_median_is_scipys_median_filter(x: np.ndarray, half: int) -> None:
    n = 2 * half + 1
    np.testing.assert_array_equal(moving_median(x, n), median_filter(x, n, mode="nearest"))


def test_the_empty_and_the_even_median() -> None:
    for f in (moving_mean, moving_max, moving_median):
        assert f(np.zeros(0), 3).shape == (0,)
    with pytest.raises(ValueError, match="odd"):
        moving_median(np.zeros(5), 4)


def test_moving_mean_on_a_day_of_samples() -> None:
    rng = np.random.default_rng(3)
    x = rng.normal(size=200_000) * 3.0 + 9.81
    for n in (1, 2, 5, 25, 100, 250):
        np.testing.assert_array_equal(moving_mean(x, n), uniform_filter1d(x, n))


@settings(max_examples=300, deadline=None)
@given(signals, st.integers(1, 60))
def test_moving_std_is_the_spread_over_the_window(x: np.ndarray, n: int) -> None:
    mean = uniform_filter1d(x, n)
    reference = np.sqrt(np.maximum(uniform_filter1d(x * x, n) - mean * mean, 0.0))
    np.testing.assert_array_equal(moving_std(x, n), reference)


@given(st.lists(st.booleans(), max_size=50), st.integers(0, 8))
def test_runs_and_sustained(cells: list[bool], n: int) -> None:
    mask = np.array(cells, bool)
    starts, ends = run_bounds(mask)
    rebuilt = np.zeros(len(mask), bool)
    for a, b in zip(starts, ends, strict=True):
        assert a < b and mask[a:b].all()
        assert (a == 0 or not mask[a - 1]) and (b == len(mask) or not mask[b])
        rebuilt[a:b] = True
    np.testing.assert_array_equal(rebuilt, mask)
    kept = sustained(mask, n)
    assert not (kept & ~mask).any()
    for a, b in zip(starts, ends, strict=True):
        assert kept[a:b].all() == (b - a >= n) and kept[a:b].any() == (b - a >= n)


def test_the_analyze_command_imports_no_scipy(tmp_path: Path) -> None:
    """The whole ``postureclip analyze`` (on two cores) runs without scipy: its import took
    0.2 s (postureclip.rotation, postureclip.windows)."""
    path = tmp_path / "still.csv"
    n = 4000
    rows = "".join(f"{i / 50.0:.2f},9.81,0.0,0.3,0.001,-0.002,0.0\n" for i in range(n))
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + rows)
    probe = ("import sys, json, io, contextlib\n"
             "from postureclip.cli import main\n"
             "out = io.StringIO()\n"
             "with contextlib.redirect_stdout(out):\n"
             f"    assert main(['analyze', {str(path)!r}, '--format', 'json']) == 0\n"
             "assert json.loads(out.getvalue())['duration_s'] > 79.0\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_motionless_is_the_scipy_formulation_bit_for_bit() -> None:
    """stillness.motionless (numpy alone, per axis) against the (N, 3) scipy one it replaced."""
    from postureclip.recording import Uniform
    from postureclip.stillness import WEAR_OFF_GYR, motionless

    rng = np.random.default_rng(5)
    n = 30_000
    gyr = np.cumsum(rng.normal(size=(n, 3)), axis=0) * 1e-4 + rng.normal(size=(n, 3)) * 2e-3
    gyr[10_000:20_000] *= 0.5  # quieter, so that both sides of the threshold occur
    u = Uniform(np.arange(n) / 50.0, np.zeros((n, 3)), gyr, np.ones(n, bool), 50.0)
    mean = uniform_filter1d(gyr, 25, axis=0)
    spread2 = uniform_filter1d(mean * mean, 250, axis=0) - uniform_filter1d(mean, 250, axis=0) ** 2
    total = spread2[:, 0] + spread2[:, 1]
    total += spread2[:, 2]
    reference = np.sqrt(np.maximum(total, 0.0)) < WEAR_OFF_GYR
    assert 0 < reference.sum() < n
    np.testing.assert_array_equal(motionless(u), reference)


@given(st.lists(st.booleans(), max_size=80), st.integers(0, 100))
def test_widened_is_scipys_maximum_filter(cells: list[bool], r: int) -> None:
    from scipy.ndimage import maximum_filter1d

    from postureclip.windows import widened

    mask = np.array(cells, bool)
    if not len(mask):
        assert widened(mask, r).shape == (0,)
        return
    np.testing.assert_array_equal(widened(mask, r), maximum_filter1d(mask, 2 * r + 1))
