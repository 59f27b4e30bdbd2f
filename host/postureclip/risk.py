"""An ergonomic risk score for lifts, per lift and per hour (docs/analysis.md, "Lift risk").

Per lift, the trunk part of REBA (Hignett & McAtamney 2000, Applied Ergonomics 31:201-205):
upright 1, flexed 0-20 deg 2, 20-60 deg 3, beyond 60 deg 4, +1 twisted or bent sideways; the
same zones as ISO 11226:2000 and EN 1005-4:2005 (0-20 deg acceptable, 20-60 deg conditionally
acceptable, beyond 60 deg not acceptable). Two additions of ours: +1 for a static bent hold
(flexed beyond 20 deg for 4 s or more, EN 1005-4's threshold of a static posture) and +1 for a
fast bend (mean sagittal speed, 2 x peak flexion / duration, beyond 60 deg/s: trunk velocity is
one of Marras et al.'s (1993, Spine 18:617-628) risk factors; the threshold is our choice, not
theirs). So a lift scores 1 to 7.

Per hour, the mean lift score divided by the NIOSH lifting equation's frequency multiplier
(Waters et al. 1993, Ergonomics 36:749-776, table 5: work of up to 1 h, lifts from below 75
cm), so that the same lifts done more often score higher; beyond 15 lifts a minute the
multiplier is 0 and the index is reported as infinite.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

LATERAL_DEG = 20.0  # a lift bent sideways this far (the clip's LIFT flag, clip/lifts.py)
STATIC_S = 4.0
FAST_DPS = 60.0

# NIOSH frequency multiplier, <= 1 h, V < 75 cm: lifts per minute -> FM (Waters et al. 1993)
_FM_RATE = (0.2, 0.5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15)
_FM = (1.00, 0.97, 0.94, 0.91, 0.88, 0.84, 0.80, 0.75, 0.70, 0.60, 0.52, 0.45, 0.41, 0.37,
       0.34, 0.31, 0.28)


def lift_score(peak_flexion_deg: float, duration_s: float, twisted: bool,
               lateral: bool) -> int:
    """A lift's score, 1 (upright, slow, straight) to 7 (see the module's docstring)."""
    flex = peak_flexion_deg
    score = 1 if flex <= 0.0 else (2 if flex <= 20.0 else (3 if flex <= 60.0 else 4))
    if twisted or lateral:
        score += 1
    if flex > 20.0 and duration_s >= STATIC_S:
        score += 1
    if duration_s > 0 and 2.0 * max(flex, 0.0) / duration_s > FAST_DPS:
        score += 1
    return score


def frequency_multiplier(lifts_per_min: float) -> float:
    """NIOSH FM for up to an hour of lifting from below 75 cm (1.0 below 0.2 lifts/min)."""
    if lifts_per_min <= _FM_RATE[0]:
        return 1.0
    if lifts_per_min > _FM_RATE[-1]:
        return 0.0
    return float(np.interp(lifts_per_min, _FM_RATE, _FM))


@dataclass(frozen=True)
class HourRisk:
    """One hour's lifts: how many, their mean score, the frequency multiplier and the index
    (mean score / multiplier; infinite beyond 15 lifts a minute)."""

    hour_start_s: float
    lifts: int
    mean_score: float
    frequency_multiplier: float
    risk_index: float

    def to_dict(self) -> dict[str, float | int | None]:
        return {"hour_start_s": round(self.hour_start_s, 3), "lifts": self.lifts,
                "mean_score": round(self.mean_score, 2),
                "frequency_multiplier": round(self.frequency_multiplier, 3),
                "risk_index": None if math.isinf(self.risk_index) else
                round(self.risk_index, 2)}


def hourly(starts_s: list[float], scores: list[int], t0: float, t1: float) -> list[HourRisk]:
    """The hours from ``t0`` to ``t1`` (s) that hold lifts, with their risk."""
    out = []
    n_hours = max(1, math.ceil((t1 - t0) / 3600.0))
    for h in range(n_hours):
        a, b = t0 + 3600.0 * h, t0 + 3600.0 * (h + 1)
        inside = [s for t, s in zip(starts_s, scores, strict=True) if a <= t < b]
        if not inside:
            continue
        minutes = max(1e-9, (min(b, t1) - a) / 60.0)
        fm = frequency_multiplier(len(inside) / minutes)
        mean = float(np.mean(inside))
        out.append(HourRisk(a, len(inside), mean, fm, mean / fm if fm > 0 else math.inf))
    return out


class MeasuredLift(Protocol):
    """A lift as the analysis or the clip measured it (times in s, angles in degrees)."""

    @property
    def start_s(self) -> float: ...
    @property
    def end_s(self) -> float: ...
    @property
    def peak_flexion_deg(self) -> float: ...
    @property
    def peak_lateral_deg(self) -> float: ...
    @property
    def twisted(self) -> bool: ...


def scored(lifts: Sequence[MeasuredLift], duration_s: float
           ) -> tuple[list[int], list[dict[str, Any]]]:
    """Each lift's score and the hours of a recording ``duration_s`` long that hold lifts, as
    `analyze` and `firmware replay` print them (``lift_risk_per_hour``)."""
    scores = [lift_score(x.peak_flexion_deg, x.end_s - x.start_s, x.twisted,
                         abs(x.peak_lateral_deg) >= LATERAL_DEG) for x in lifts]
    hours = hourly([x.start_s for x in lifts], scores, 0.0, duration_s)
    return scores, [h.to_dict() for h in hours]
