# Lift coach: bend-and-return lifts from fused angles and vertical acceleration.
#
# The sensor's height comes from vertical acceleration integrated twice between still moments,
# where velocity is known to be zero (ZUPT): at each still moment the velocity error of the
# movement just ended is removed as a linear drift, so height errors cannot pile up. A lift is
# a dip of the sensor of at least LIFT_DROP_M that comes back to its level within LIFT_MAX_S.
# Technique: the drop beyond what trunk flexion explains (trunk length x (1 - cos flexion))
# means bent knees: a squat. Twist: rotation about the trunk's own long axis during the lift.
# Pure: ``update`` takes time, angles and rates; events go to ``emit``.
import math

import micropython
from micropython import const

from clip import protocol as P

G = 9.81
LIFT_DROP_M = 0.20
LIFT_MAX_S = 10.0
SQUAT_EXCESS_M = 0.20
TRUNK_LENGTH_M = 0.48
LATERAL_DEG = 20.0  # peak lateral bend that flags a lift as bent sideways
_STILL_ACC = 0.35  # m/s^2: low-passed |vertical acceleration| below this may be still
_STILL_GYR = 0.2  # rad/s
_STILL_S = 0.2  # still this long anchors the height (zero velocity)
_TAU_STILL = 0.05  # s: low-pass of the still detector
_TAU_GRAVITY = 2.0  # s: learning of the local gravity (accelerometer scale) when still
_DIPPED_M = 0.04
_LONG_S = 12.0  # a movement longer than this is not trusted: it ends where it began

IDLE = const(0)
ACTIVE = const(1)



class LiftCoach:
    def __init__(self, settings, emit):
        self.emit = emit
        self.configure(settings)
        self.gravity = G
        self.v = 0.0
        self.h = 0.0
        self._lp_acc = 0.0
        self._lp_gyr = 0.0
        self._still_s = 0.0
        self.still = False
        self._seg_t0 = 0.0
        self._seg_min = 0.0
        self._seg_min_t = 0.0
        self.state = IDLE
        self._level = 0.0
        self._start(0.0)
        self.count = 0
        self.stooped = 0

    def configure(self, s):
        self.enabled = s["lift_coach"] == 1
        self.twist_deg = float(s["twist_deg"])

    def _start(self, t):
        self.t0 = t
        self.depth = 0.0
        self.peak_flex = -1e9
        self.peak_lat = 0.0
        self.twist = 0.0
        self.peak_twist = 0.0

    def active(self):
        """A movement that may be a lift is going on (the posture coach holds its clock).
        A method, not a property: a class with properties makes every attribute store of
        its instances slower in MicroPython, and ``update`` stores several per step."""
        return self.state == ACTIVE or self._level - self.h > _DIPPED_M

    @micropython.native
    def update(self, t, flexion, lateral, a_vert, gyro_norm, twist_rate, dt):
        """One step: time s, trunk angles deg, specific force along up m/s^2 (gravity
        included), |gyro| rad/s, twist rate rad/s, step dt s. Returns a buzz reason or 0."""
        av = a_vert - self.gravity
        k = dt / (_TAU_STILL + dt)
        self._lp_acc += k * (abs(av) - self._lp_acc)
        self._lp_gyr += k * (gyro_norm - self._lp_gyr)
        if self._lp_acc < _STILL_ACC and self._lp_gyr < _STILL_GYR:
            self._still_s += dt
        else:
            self._still_s = 0.0
        self.v += av * dt
        self.h += self.v * dt
        if self.h < self._seg_min:
            self._seg_min = self.h
            self._seg_min_t = t
        # lift features since the candidate's start
        if flexion > self.peak_flex:
            self.peak_flex = flexion
        if abs(lateral) > abs(self.peak_lat):
            self.peak_lat = lateral
        self.twist += twist_rate * dt
        if abs(self.twist) > abs(self.peak_twist):
            self.peak_twist = self.twist
        if self._still_s >= _STILL_S:
            if self._still_s - dt < _STILL_S:
                return self._anchor(t, av)
            # still on: learn the local gravity and keep velocity and features at rest
            self.gravity += dt / (_TAU_GRAVITY + dt) * av
            self.v = 0.0
            # the next movement's velocity drift starts from here
            self._seg_t0 = t
            self._seg_min = self.h
            self._seg_min_t = t
            if self.state == IDLE:
                self._level = self.h
                self._start(t)
        return 0

    def _anchor(self, t, av):
        """Zero velocity now: remove the movement's velocity drift, then judge the lift."""
        span = t - self._seg_t0
        if span > 0.0:
            drift = self.v / span  # velocity error grows linearly over the movement
            self.h -= 0.5 * drift * span * span
            tau = self._seg_min_t - self._seg_t0
            seg_min = self._seg_min - 0.5 * drift * tau * tau
            if span > _LONG_S:
                self.h = self._level
            if self._level - seg_min > self.depth:
                self.depth = self._level - seg_min
        self.v = 0.0
        self._seg_t0 = t
        self._seg_min = self.h
        self._seg_min_t = t
        buzz = 0
        back = abs(self.h - self._level) <= max(0.1, 0.35 * self.depth)
        if self.depth >= LIFT_DROP_M and back and t - self.t0 <= LIFT_MAX_S:
            buzz = self._lift(t)
        elif self.depth >= LIFT_DROP_M and not back and t - self.t0 <= LIFT_MAX_S:
            self.state = ACTIVE  # paused at the bottom: the lift goes on
            return 0
        self.state = IDLE
        self._level = self.h
        self._start(t)
        return buzz

    def _lift(self, t):
        flex = self.peak_flex if self.peak_flex > 0.0 else 0.0
        explained = TRUNK_LENGTH_M * (1.0 - math.cos(math.radians(flex)))
        squat = self.depth - explained >= SQUAT_EXCESS_M
        twist = math.degrees(self.peak_twist)
        flags = 0
        if abs(twist) >= self.twist_deg:
            flags |= P.LIFT_FLAG_TWISTED
        if abs(self.peak_lat) >= LATERAL_DEG:
            flags |= P.LIFT_FLAG_LATERAL
        self.count += 1
        if not squat:
            self.stooped += 1
        self.emit(P.REC_LIFT, self.t0,
                  (min(65535, int((t - self.t0) * 1000)), round(flex * 10),
                   round(twist * 10), round(self.peak_lat * 10),
                   P.TECH_SQUAT if squat else P.TECH_STOOP, flags))
        if not self.enabled:
            return 0
        if flags & P.LIFT_FLAG_TWISTED:
            return P.REASON_LIFT_TWIST
        return 0 if squat else P.REASON_LIFT_STOOP
