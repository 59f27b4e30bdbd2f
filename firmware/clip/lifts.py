# Lift coach: bend-and-return lifts from fused angles and vertical acceleration.
#
# The sensor's height comes from vertical acceleration integrated twice between still moments,
# where velocity is known to be zero (ZUPT): at each still moment the velocity error of the
# movement just ended is removed as a linear drift, so height errors cannot pile up. A lift is
# a dip of the sensor of at least LIFT_DROP_M that comes back to its level within LIFT_MAX_S,
# or a bend of the trunk beyond LIFT_FLEXION_DEG that comes back to where it began (the sensor
# sits behind the spine: a stoop on a short trunk lowers it by less than LIFT_DROP_M). A
# movement that swings up and down like walking, or lasts longer than a lift, opens no dip.
# Technique: the drop beyond what trunk flexion explains (the sensor TRUNK_LENGTH_M up the
# spine and LEVER_M behind it) means bent knees: a squat. Twist: rotation about the trunk's
# own long axis during the lift.
# Pure: ``update`` takes time, angles and rates; events go to ``emit``.
import math

import micropython
from micropython import const

from clip import protocol as P

G = 9.81
LIFT_DROP_M = 0.20
LIFT_MAX_S = 10.0
LIFT_FLEXION_DEG = 60.0  # ISO 11226: trunk flexion beyond 60 deg is not acceptable
SQUAT_EXCESS_M = 0.20
TRUNK_LENGTH_M = 0.43  # nominal: the middle of the wearers of docs/analysis.md
LEVER_M = 0.08
LATERAL_DEG = 20.0  # peak lateral bend that flags a lift as bent sideways
GETTING_UP_S = 10.0  # a lift starting this soon after lying down is getting up from it
_STILL_ACC = 0.35  # m/s^2: low-passed |vertical acceleration| below this may be still
_STILL_GYR = 0.2  # rad/s
_STILL_S = 0.2  # still this long anchors the height (zero velocity)
_TAU_STILL = 0.05  # s: low-pass of the still detector
_TAU_GRAVITY = 2.0  # s: learning of the local gravity (accelerometer scale) when still
_TAU_SLOW = 0.5  # s: the recent mean of the vertical acceleration a steady test measures from
_STEADY_S = 1.0  # s: steady this long is still, whatever the learnt gravity says;
_STEADY_ACC = 0.1  # m/s^2 and rad/s: steady is quieter than still (a movement's first tenth
_STEADY_GYR = 0.05  # of a second must end it, with the recent mean lagging behind)
_DIPPED_M = 0.04
_LONG_S = 12.0  # a movement longer than this is not trusted: it ends where it began
_SWING_ACC = 0.5  # m/s^2: vertical acceleration beyond this either side is a swing...
_MAX_SWINGS = const(10)  # ...and a lift's movement has about four (walking: two a step)

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
        self._slow = G
        self._lp_dev = 0.0
        self._steady_s = 0.0
        self._still_s = 0.0
        self.still = False
        self._seg_t0 = 0.0
        self._seg_min = 0.0
        self._seg_min_t = 0.0
        self._lp_av = 0.0
        self._sign = 0
        self._swings = 0
        self.state = IDLE
        self._level = 0.0
        self.lying_t = -1e9  # when the trunk last lay (the pipeline says so)
        self._start(0.0, 0.0)
        self.count = 0
        self.stooped = 0

    def configure(self, s):
        self.enabled = s["lift_coach"] == 1
        self.twist_deg = float(s["twist_deg"])

    def _start(self, t, flexion):
        self.t0 = t
        self.start_flex = flexion
        self.depth = 0.0
        self.peak_flex = -1e9
        self.peak_lat = 0.0
        self.twist = 0.0
        self.peak_twist = 0.0

    def active(self):
        """A movement that may be a lift is going on (the posture coach holds its clock).
        A method, not a property: a class with properties makes every attribute store of
        its instances slower in MicroPython, and ``update`` stores several per step."""
        # a dip under the level counts only while the movement could still be a lift's way
        # down: one that swings like walking leaves drift, not a dip (as ``_anchor`` judges)
        return self.state == ACTIVE or (self._level - self.h > _DIPPED_M
                                        and self._swings <= _MAX_SWINGS)

    @micropython.native
    def update(self, t, flexion, lateral, a_vert, gyro_norm, twist_rate, dt):
        """One step: time s, trunk angles deg, specific force along up m/s^2 (gravity
        included), |gyro| rad/s, twist rate rad/s, step dt s. Returns a buzz reason or 0."""
        av = a_vert - self.gravity
        k = dt / (_TAU_STILL + dt)
        self._lp_acc += k * (abs(av) - self._lp_acc)
        # steady: vertical acceleration flat around its own recent mean. With an
        # accelerometer offset, gravity along "up" differs from one posture to the next and
        # is learnt only while still: standing steady for _STEADY_S counts as still, or a
        # new posture would never be
        self._slow += dt / (_TAU_SLOW + dt) * (a_vert - self._slow)
        self._lp_dev += k * (abs(a_vert - self._slow) - self._lp_dev)
        if self._lp_dev < _STEADY_ACC and self._lp_gyr < _STEADY_GYR:
            self._steady_s += dt
        else:
            self._steady_s = 0.0
        self._lp_gyr += k * (gyro_norm - self._lp_gyr)
        self._lp_av += k * (av - self._lp_av)
        if self._lp_av > _SWING_ACC:
            if self._sign < 0:
                self._swings += 1
            self._sign = 1
        elif self._lp_av < -_SWING_ACC:
            if self._sign > 0:
                self._swings += 1
            self._sign = -1
        if ((self._lp_acc < _STILL_ACC and self._lp_gyr < _STILL_GYR)
                or self._steady_s >= _STEADY_S):
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
                return self._anchor(t, flexion)
            # still on: learn the local gravity and keep velocity and features at rest
            self.gravity += dt / (_TAU_GRAVITY + dt) * av
            self.v = 0.0
            # the next movement's velocity drift starts from here
            self._seg_t0 = t
            self._seg_min = self.h
            self._seg_min_t = t
            self._swings = 0
            if self.state == ACTIVE and t - self.t0 > LIFT_MAX_S:
                # still at the bottom for longer than a lift: sat down or stayed bent; the
                # posture coach must not wait for a lift that is not coming back
                self.state = IDLE
            if self.state == IDLE:
                self._level = self.h
                self._start(t, flexion)
        return 0

    def _anchor(self, t, flexion):
        """Zero velocity now: remove the movement's velocity drift, then judge the lift."""
        span = t - self._seg_t0
        # a movement that swung like walking or took longer than a lift is not a lift's
        # way down: whatever dip it leaves is drift
        walked = self._swings > _MAX_SWINGS or span > LIFT_MAX_S
        self._swings = 0
        if span > 0.0:
            drift = self.v / span  # velocity error grows linearly over the movement
            self.h -= 0.5 * drift * span * span
            tau = self._seg_min_t - self._seg_t0
            seg_min = self._seg_min - 0.5 * drift * tau * tau
            if span > _LONG_S:
                self.h = self._level
            if not walked and self._level - seg_min > self.depth:
                self.depth = self._level - seg_min
        self.v = 0.0
        self._seg_t0 = t
        self._seg_min = self.h
        self._seg_min_t = t
        buzz = 0
        in_time = t - self.t0 <= LIFT_MAX_S
        dipped = self.depth >= LIFT_DROP_M
        back = abs(self.h - self._level) <= max(0.1, 0.35 * self.depth)
        bent = self.peak_flex >= LIFT_FLEXION_DEG
        low = self.start_flex if self.start_flex < flexion else flexion
        straightened = abs(flexion - self.start_flex) <= 0.5 * (self.peak_flex - low)
        if in_time and ((dipped and back) or (bent and straightened)):
            buzz = self._lift(t)
        elif in_time and (dipped or bent):
            self.state = ACTIVE  # paused at the bottom: the lift goes on
            return 0
        self.state = IDLE
        self._level = self.h
        self._start(t, flexion)
        return buzz

    def _lift(self, t):
        if self.lying_t >= self.t0 - GETTING_UP_S:
            return 0  # getting down to the floor or up from it (an exercise, a nap): no lift
        flex = self.peak_flex if self.peak_flex > 0.0 else 0.0
        th = math.radians(flex)
        explained = TRUNK_LENGTH_M * (1.0 - math.cos(th)) - LEVER_M * math.sin(th)
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
