"""The lift risk score: REBA's trunk zones and additions, the NIOSH frequency weight."""
from __future__ import annotations

import itertools
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postureclip.risk import frequency_multiplier, hourly, lift_score


@pytest.mark.parametrize(("flex", "duration", "twisted", "lateral", "score"), [
    (-5.0, 3.0, False, False, 1),  # upright (REBA 1)
    (15.0, 3.0, False, False, 2),  # 0-20 deg
    (40.0, 3.0, False, False, 3),  # 20-60 deg
    (85.0, 3.0, False, False, 4),  # beyond 60 deg: not acceptable (ISO 11226)
    (85.0, 3.0, True, False, 5),  # + twisted
    (40.0, 3.0, False, True, 4),  # + bent sideways
    (40.0, 5.0, False, False, 4),  # + held bent 4 s or more (EN 1005-4's static posture)
    (15.0, 6.0, False, False, 2),  # a long lift that never bent beyond 20 deg is not static
    (85.0, 2.0, False, False, 5),  # + faster than 60 deg/s on average (2 x 85 / 2 = 85)
    (85.0, 2.0, True, True, 6),  # twisted and bent sideways count once
])
def test_lift_score(flex: float, duration: float, twisted: bool, lateral: bool,
                    score: int) -> None:
    assert lift_score(flex, duration, twisted, lateral) == score


@given(st.floats(-90, 120), st.floats(0.1, 20), st.booleans(), st.booleans())
def test_scores_stay_in_range_and_grow_with_flexion(flex: float, duration: float,
                                                    twisted: bool, lateral: bool) -> None:
    s = lift_score(flex, duration, twisted, lateral)
    assert 1 <= s <= 7
    assert lift_score(flex + 30.0, duration, twisted, lateral) >= s or flex + 30 > 120


def test_frequency_multiplier_follows_the_niosh_table() -> None:
    assert frequency_multiplier(0.1) == 1.0 and frequency_multiplier(1.0) == 0.94
    assert frequency_multiplier(12.0) == pytest.approx(0.37)
    assert frequency_multiplier(1.5) == pytest.approx((0.94 + 0.91) / 2)
    assert frequency_multiplier(16.0) == 0.0
    rates = [0.1 * k for k in range(1, 160)]
    fms = [frequency_multiplier(r) for r in rates]
    assert all(a >= b for a, b in itertools.pairwise(fms))


def test_hourly_index() -> None:
    # hour 0: 12 lifts of score 3 (0.2/min: FM 1.0); hour 1 none; hour 2: 120 of score 4
    starts = [300.0 * k for k in range(12)] + [7200.0 + 30.0 * k for k in range(120)]
    scores = [3] * 12 + [4] * 120
    hours = hourly(starts, scores, 0.0, 3 * 3600.0)
    assert [h.hour_start_s for h in hours] == [0.0, 7200.0]
    assert hours[0].lifts == 12 and hours[0].risk_index == pytest.approx(3.0)
    assert hours[1].frequency_multiplier == pytest.approx(0.91)  # 2 lifts a minute
    assert hours[1].risk_index == pytest.approx(4 / 0.91)
    fast = hourly([k * 3.0 for k in range(1200)], [2] * 1200, 0.0, 3600.0)  # 20 a minute
    assert math.isinf(fast[0].risk_index) and fast[0].to_dict()["risk_index"] is None
