# Exercise sets: planks, side planks, bridges and back extensions, recognised from the trunk's
# orientation (docs/exercise.md; the host's postureclip/exercise.py is the same rule).
#
# Every one is done lying on the floor and raises or lowers the upper back from a pose no desk
# posture has: a plank and a back extension face down, a side plank on one side, a bridge face
# up. So the watch works from lying (the spine within 30 deg of horizontal) to 65 deg; it follows
# the spine's elevation above horizontal (e, deg; the shoulders higher than the hips positive)
# against the level it rests at in that pose. An excursion from that level of at most
# REP_MAX_S reaching REP_MIN_DEG is a repetition, one of HOLD_MIN_S..HOLD_MAX_S a hold; three
# repetitions or more with at most REP_GAP_S between them make a set.
# Pure: fed once per fused step with the trunk-frame up vector; sets go to ``emit`` as
# EXERCISE records, and ``update`` returns a cue (a haptic pattern) or -1.
import math
from array import array

from micropython import const

from clip import protocol as P

FLOOR_COS = 0.5  # sin 30 deg: |up . spine| below this, lying in a pose...
STAY_COS = 0.906  # sin 65 deg: ...until beyond this (a deep bridge lowers that far)
SETTLE_S = 2.0  # lying in a pose this long before an excursion counts
REST_TAU_S = 2.0  # the resting level's average
START_DEG = 5.0  # an excursion starts this far from the resting level...
END_DEG = 3.0  # ...and ends back within this
REP_MIN_DEG = 7.0
RISE_S = 3.0  # a hold's rise: the crossing times of its levels are kept from then on (a
# wobble re-crossing a level later does not move the hold's start)
REP_MAX_S = 8.0
REP_GAP_S = 8.0
MIN_REPS = const(3)
HOLD_MIN_S = 5.0
HOLD_MAX_S = 180.0
TICK_S = 10.0  # a hold's tick, every this long
FORM_DEG = 8.0  # a hold drifting this far from its level over its first 8 s...
FORM_S = 2.0  # ...for this long
_LEVELS = const(60)  # crossing times kept for each whole degree of excursion below this
_DEG = 57.29577951308232

PRONE = const(0)
SUPINE = const(1)
LEFT = const(2)
RIGHT = const(3)
_HOLD_KIND = (P.EXERCISE_PLANK, P.EXERCISE_BRIDGE, P.EXERCISE_SIDE_PLANK_LEFT,
              P.EXERCISE_SIDE_PLANK_RIGHT)
_REP_KIND = (P.EXERCISE_BACK_EXTENSION, P.EXERCISE_BRIDGE, 0, 0)


class ExerciseWatch:
    def __init__(self, emit):
        self.emit = emit
        self.cues = True
        self.hold_target_s = 0.0  # the programme's targets (0: none)
        self.rep_target = 0
        self._targeted = False  # this hold's target was announced
        self._started = False  # ...and that it is a hold
        self.face = -1
        self.rest = 0.0
        self.settled_s = 0.0
        self.x = 0.0
        self._up = array("f", [0.0] * _LEVELS)  # when the excursion last rose through each degree
        self._down = array("f", [0.0] * _LEVELS)  # ...and last fell through it
        self.start = -1.0  # an excursion: its start, peak, integral, form
        self.peak = 0.0
        self.area = 0.0
        self.ref = 0.0  # a hold's level over its first REP_MAX_S
        self.drift = 0.0
        self._form_s = 0.0
        self._formed = False
        self._next_tick = 0.0
        self.reps = 0
        self.rep_first = 0.0
        self.rep_last = 0.0
        self.sets = 0
        self.last_set_start = self.last_set_end = 0.0  # the last set's span, s

    def active(self):
        """An exercise is going on (the coaches stay quiet)."""
        return self.start >= 0.0 or self.reps > 0

    def update(self, t, tx, ty, tz, dt):
        """One fused step: time s, earth's up in the trunk frame, step s. Returns a pattern."""
        bound = STAY_COS if self.face >= 0 else FLOOR_COS
        if -bound < tx < bound:
            if (tz if tz > 0.0 else -tz) >= (ty if ty > 0.0 else -ty):
                side = PRONE if tz > 0.0 else SUPINE
            else:
                side = LEFT if ty < 0.0 else RIGHT
        else:
            side = -1
        if side != self.face:
            self.close(t)
            self.face = side
            self.rest = math.asin(tx) * _DEG
            self.settled_s = self.x = 0.0
            return -1
        if side < 0:
            return -1
        e = math.asin(tx) * _DEG
        x = self.rest - e if side == SUPINE else e - self.rest
        self._cross(t, self.x, x, dt)
        self.x = x
        if self.start < 0.0:
            if x <= -START_DEG or (x >= START_DEG and self.settled_s < SETTLE_S):
                # still settling into the pose, or lower than the resting level: it follows
                self.rest = e
                self.settled_s = self.x = 0.0
            elif x < START_DEG:
                self.rest += dt / (REST_TAU_S + dt) * (e - self.rest)
                self.settled_s += dt
            if self.reps and t - self.rep_last > REP_GAP_S:
                self._close_reps()
            if x >= START_DEG and self.settled_s >= SETTLE_S:
                self.start = t
                self.peak = x
                self.area = self.drift = self._form_s = 0.0
                self._formed = self._targeted = self._started = False
                self._next_tick = t + TICK_S
            return -1
        if x > self.peak:
            self.peak = x
        self.area += x * dt
        if x < END_DEG:
            return self._ended(t)
        return self._hold_cue(t, x, dt)

    def _hold_cue(self, t, x, dt):
        span = t - self.start
        if span < REP_MAX_S:
            self.ref = self.area / span if span > 0.0 else x
            return -1
        d = x - self.ref if x > self.ref else self.ref - x
        self._form_s = self._form_s + dt if d > FORM_DEG else 0.0
        if self._form_s >= FORM_S and d > self.drift:
            self.drift = d  # the largest drift that lasted (not the hold's end)
        if not self.cues:
            return -1
        if self._form_s >= FORM_S and not self._formed:
            self._formed = True
            return P.PATTERN_FORM
        if not self._started:  # REP_MAX_S into it: a hold, not a repetition
            self._started = True
            return P.PATTERN_START
        if 0.0 < self.hold_target_s <= span and not self._targeted:
            self._targeted = True
            return P.PATTERN_TARGET
        if t >= self._next_tick:
            self._next_tick += TICK_S
            return P.PATTERN_TICK
        return -1

    def _cross(self, t, a, b, dt):
        lo = int(math.floor(a if a < b else b)) + 1
        hi = int(math.floor(b if a < b else a))
        if lo < 0:
            lo = 0
        if hi > _LEVELS - 1:
            hi = _LEVELS - 1
        if hi < lo:
            return
        if b > a:
            if self.start >= 0.0 and t - self.start >= RISE_S:
                return  # the hold's rise is over
            times = self._up
        else:
            times = self._down
        for level in range(lo, hi + 1):  # the moment of crossing, interpolated in the step
            times[level] = t - dt * (b - level) / (b - a)

    def _at(self, times, level):
        k = int(math.floor(level))
        k = 0 if k < 0 else (_LEVELS - 2 if k > _LEVELS - 2 else k)
        f = level - k
        f = 0.0 if f < 0.0 else (1.0 if f > 1.0 else f)
        return times[k] + f * (times[k + 1] - times[k])

    def _ended(self, t):
        span = t - self.start
        start = self.start
        self.start = -1.0
        if span <= REP_MAX_S:
            if self.peak >= REP_MIN_DEG:
                if not self.reps:
                    self.rep_first = start
                self.reps += 1
                self.rep_last = t
                if not self.cues or not _REP_KIND[self.face]:
                    return -1
                if self.reps == self.rep_target:
                    return P.PATTERN_TARGET
                return P.PATTERN_START if self.reps == 1 else P.PATTERN_TICK
            return -1
        self._close_reps()
        if HOLD_MIN_S <= span <= HOLD_MAX_S:
            half = max(END_DEG, 0.5 * self.area / span)  # down-crossings below END: none
            # left the pose mid-hold (stood up from it): it ends here
            fall = self._at(self._down, half) if self.x < half else t
            hold = (fall if fall > start else start) - self._at(self._up, half)
            self._emit(start, t, _HOLD_KIND[self.face], 0, hold, self.drift)
        return -1

    def _close_reps(self):
        kind = _REP_KIND[self.face] if self.face >= 0 else 0
        if self.reps >= MIN_REPS and kind:
            self._emit(self.rep_first, self.rep_last, kind, self.reps, 0.0, 0.0)
        self.reps = 0

    def _emit(self, start, end, kind, reps, hold, drift):
        self.sets += 1
        self.last_set_start = start
        self.last_set_end = end
        self.emit(P.REC_EXERCISE, start,
                  (kind, min(255, reps), min(65535, round(hold * 10)),
                   min(65535, round((end - start) * 10)), min(255, round(drift))))

    def close(self, t):
        """Leaving the pose: an excursion going on ends here."""
        if self.face < 0:
            return
        if self.start >= 0.0:
            self._ended(t)
        self._close_reps()
