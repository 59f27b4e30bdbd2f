"""postureclip.windows against scipy: the moving mean is scipy.ndimage's bit for bit, so the
first stage (numpy alone, in a forked child) gives the analysis the numbers scipy would."""
from __future__ import annotations

import subprocess
import sys

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.ndimage import uniform_filter1d

from postureclip.windows import moving_mean, moving_std, run_bounds, sustained

signals = arrays(np.float64, st.integers(1, 300),
                 elements=st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False))


@settings(max_examples=1000, deadline=None)
@given(signals, st.integers(1, 700))
def test_moving_mean_is_scipys_uniform_filter_bit_for_bit(x: np.ndarray, n: int) -> None:
    # windows longer than the signal too: both reflect it again and again
    np.testing.assert_array_equal(moving_mean(x, n), uniform_filter1d(x, n))


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


def test_the_first_stage_needs_no_scipy() -> None:
    """What the child runs is importable, and runs, without scipy: the parent imports scipy
    while it works (postureclip.prepare)."""
    probe = ("import sys; import numpy as np\n"
             "from postureclip.prepare import Prepared\n"
             "from postureclip.recording import Recording\n"
             "from postureclip.settings import AnalysisSettings\n"
             "t = np.arange(3000) / 50.0\n"
             "acc = np.tile([9.81, 0.0, 0.3], (3000, 1)); gyr = np.zeros((3000, 3))\n"
             "p = Prepared(Recording(t, acc, gyr), AnalysisSettings())\n"
             "u, still, bias = p.grid(); up = p.up(); track = p.track()\n"
             "assert up.shape == (3000, 3) and still.start == 0\n"
             "print(sorted(m for m in sys.modules if m.split('.')[0] == 'scipy'))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         check=True).stdout.strip()
    assert out == "[]"


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
