"""Exercise sets recognised from the trunk's orientation: the clip's rule
(firmware/clip/exercise.py, docs/exercise.md), run over a whole recording.

Every exercise here is done lying on the floor, and each raises or lowers the upper back from
a pose no desk posture has: a plank and a back extension face down, a side plank on one side,
a bridge face up. So the rule watches only the stretches from lying (the spine within 30 deg
of horizontal) until the spine is 65 deg from horizontal. There, the spine's elevation above
horizontal (``e``, degrees, positive with the shoulders higher than the hips) is compared with
the level it rested at lying in that pose: an excursion from it of at most 8 s that reaches
7 deg is a repetition, and one of 5-180 s a hold. Three or more repetitions with at most 8 s
between them are a set.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .orientation import up_in_trunk
from .windows import run_bounds

FloatArray = npt.NDArray[np.float64]

FLOOR_COS = math.sin(math.radians(30.0))  # |up . spine| below this: lying in a pose...
STAY_COS = math.sin(math.radians(65.0))  # ...until beyond this (a deep bridge lowers that far)
STEP_S = 0.1  # the rule runs at 10 Hz (the clip: at its fused steps, 2-50 Hz)
SETTLE_S = 2.0  # lying in a pose this long before an excursion counts
REST_TAU_S = 2.0  # the resting level's average
START_DEG = 5.0  # an excursion starts this far from the resting level...
END_DEG = 3.0  # ...and ends back within this
REP_MIN_DEG = 7.0
RISE_S = 3.0  # a hold's rise: the crossing times of its levels are kept from then on (a
# wobble re-crossing a level later does not move the hold's start)
REP_MAX_S = 8.0
REP_GAP_S = 8.0
MIN_REPS = 3
HOLD_MIN_S = 5.0
HOLD_MAX_S = 180.0
LEVELS = 60  # crossing times kept for each whole degree of excursion below this

PRONE, SUPINE, LEFT, RIGHT = range(4)
_HOLD_KIND = {PRONE: "plank", SUPINE: "bridge", LEFT: "side_plank_left",
              RIGHT: "side_plank_right"}
_REP_KIND = {PRONE: "back_extension", SUPINE: "bridge"}


@dataclass(frozen=True)
class ExerciseSet:
    """One set: ``kind`` (plank, side_plank_left, side_plank_right, bridge, back_extension),
    its span in s, ``reps`` (0 for a hold) and ``hold_s`` (the held time, 0 for reps): from
    the excursion's rise through half its mean level to its fall back through it."""

    kind: str
    start_s: float
    end_s: float
    reps: int
    hold_s: float


def face(up_t: FloatArray) -> npt.NDArray[np.int8]:
    """Which side faces the floor, from earth's up in the trunk frame (N, 3)."""
    ty, tz = up_t[:, 1], up_t[:, 2]
    out = np.where(np.abs(tz) >= np.abs(ty), np.where(tz > 0, PRONE, SUPINE),
                   np.where(ty < 0, LEFT, RIGHT))
    return out.astype(np.int8)


class _Watch:
    """The streaming rule over one stretch on the floor (the clip's ExerciseWatch)."""

    def __init__(self) -> None:
        self.sets: list[ExerciseSet] = []
        self.face = -1
        self.rest = 0.0
        self.settled_s = 0.0
        self.x = 0.0
        self.up = np.zeros(LEVELS)  # when the excursion last rose through each degree
        self.down = np.zeros(LEVELS)  # ...and last fell through it
        self.start = -1.0  # an excursion: its start, peak and integral
        self.peak = 0.0
        self.area = 0.0
        self.reps = 0
        self.rep_first = 0.0
        self.rep_last = 0.0

    def step(self, t: float, e: float, side: int, dt: float) -> None:
        if side != self.face:
            self.close(t)
            self.face, self.rest, self.settled_s, self.x = side, e, 0.0, 0.0
            return
        x = (self.rest - e) if side == SUPINE else (e - self.rest)  # towards the exercise
        self._cross(t, self.x, x, dt)
        self.x = x
        if self.start < 0.0:
            if x <= -START_DEG or (x >= START_DEG and self.settled_s < SETTLE_S):
                # still settling into the pose, or lower than the resting level: it follows
                self.rest, self.settled_s, self.x = e, 0.0, 0.0
            elif x < START_DEG:
                self.rest += dt / (REST_TAU_S + dt) * (e - self.rest)
                self.settled_s += dt
            if self.reps and t - self.rep_last > REP_GAP_S:
                self._close_reps()
            if x >= START_DEG and self.settled_s >= SETTLE_S:
                self.start, self.peak, self.area = t, x, 0.0
            return
        self.peak = max(self.peak, x)
        self.area += x * dt
        if x < END_DEG:
            self._excursion_ended(t)

    def _cross(self, t: float, a: float, b: float, dt: float) -> None:
        lo, hi = max(0, math.floor(min(a, b)) + 1), min(LEVELS - 1, math.floor(max(a, b)))
        if hi < lo:
            return
        # the moment of crossing, interpolated within the step
        for level in range(lo, hi + 1):
            when = t - dt * (b - level) / (b - a)
            if b > a:
                if self.start < 0.0 or t - self.start < RISE_S:
                    self.up[level] = when
            else:
                self.down[level] = when

    def _excursion_ended(self, t: float) -> None:
        span = t - self.start
        start, self.start = self.start, -1.0
        if span <= REP_MAX_S:
            if self.peak >= REP_MIN_DEG:
                if not self.reps:
                    self.rep_first = start
                self.reps += 1
                self.rep_last = t
            return
        self._close_reps()
        if HOLD_MIN_S <= span <= HOLD_MAX_S and self.face in _HOLD_KIND:
            half = max(END_DEG, 0.5 * self.area / span)  # down-crossings below END: none
            # left the pose mid-hold (stood up from it): it ends here
            fall = max(_at(self.down, half), start) if self.x < half else t
            hold = fall - _at(self.up, half)
            self.sets.append(ExerciseSet(_HOLD_KIND[self.face], start, t, 0,
                                         round(hold, 1)))

    def _close_reps(self) -> None:
        if self.reps >= MIN_REPS and self.face in _REP_KIND:
            self.sets.append(ExerciseSet(_REP_KIND[self.face], self.rep_first, self.rep_last,
                                         self.reps, 0.0))
        self.reps = 0

    def close(self, t: float) -> None:
        """Leaving the pose: an excursion in progress ends here."""
        if self.start >= 0.0:
            self._excursion_ended(t)
        self._close_reps()


def _at(times: FloatArray, level: float) -> float:
    """The crossing time at a fractional level, between the whole degrees around it."""
    k = min(LEVELS - 2, max(0, math.floor(level)))
    f = min(1.0, max(0.0, level - k))
    return float(times[k] + f * (times[k + 1] - times[k]))


def find_sets(t: FloatArray, flex: FloatArray, lat: FloatArray) -> list[ExerciseSet]:
    """Exercise sets in a recording: ``t`` in s, trunk flexion and lateral bend in degrees."""
    if len(t) < 2:
        return []
    # |up along the spine|, in place (each temporary is 11 MB on 8 hours)
    vertical = np.radians(flex)
    np.cos(vertical, out=vertical)
    cos_lat = np.radians(lat)
    vertical *= np.cos(cos_lat, out=cos_lat)
    np.abs(vertical, out=vertical)
    starts, ends = run_bounds(vertical < STAY_COS)
    near = vertical < FLOOR_COS
    sets: list[ExerciseSet] = []
    for a0, b in zip(starts, ends, strict=True):
        entered = np.flatnonzero(near[a0:b])  # a pose begins lying
        if not entered.size:
            continue
        a = a0 + int(entered[0])
        if t[b - 1] - t[a] < SETTLE_S + HOLD_MIN_S:
            continue
        grid = np.arange(t[a], t[b - 1], STEP_S)
        idx = np.minimum(np.searchsorted(t, grid), b - 1)
        ups = up_in_trunk(flex[idx], lat[idx])
        e = np.degrees(np.arcsin(np.clip(ups[:, 0], -1.0, 1.0)))
        sides = face(ups)
        w = _Watch()
        for k in range(len(grid)):
            w.step(float(grid[k]), float(e[k]), int(sides[k]), STEP_S)
        w.close(float(grid[-1]))
        sets += w.sets
    return sets
