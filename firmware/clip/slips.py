# Slips and wear-off: changes of the clip's mounting on the back that the trunk did not make.
#
# A slip: the clip turns on the back, from one still moment to the next. The trunk can make
# the same turn, but not in place: it turns about the hips and the lower spine, so the clip,
# ~0.4 m above them, travels with it (the lever of clip/lifts.py's TRUNK_LENGTH_M). Between the
# two still moments the clip integrates its linear acceleration twice (velocity forced back to
# zero at the end, which removes a constant accelerometer offset exactly) and compares the
# distance it travelled with the distance a trunk turn of that size would have made it travel.
# Much less than that: the clip turned in place, the trunk did not, and the turn it measured
# is the new mounting. The watch then re-anchors the neutral posture by that turn (the trunk
# held still, so all of it belongs to the mounting) - as exact as the gyro over a second.
#
# Wear-off: no motion at all - not even breathing - for WEAR_OFF_S with the clip's long axis
# lying down: the clip lies on a table. Its calibration is stale until the next one.
# Pure: fed once per fused step; the pipeline acts on ``update``'s answer.
import math

import micropython
from micropython import const

SLIP_MIN_DEG = 10.0  # a still-to-still tilt change smaller than this is left alone
EVENT_MAX_S = 3.0  # movement longer than this (walking, handling) is not judged as a slip
STILL_GYR = 0.1  # rad/s, bias-corrected: not turning
STILL_ACC = 0.6  # m/s^2: specific force this close to gravity
STILL_S = 0.6  # still this long after the turn...
ANCHOR_GYR = 0.02  # rad/s ...then truly still (and the integration starts from such a moment,
ANCHOR_ACC = 0.3  # m/s^2 so that the slow start and end of a movement are not lost)...
ANCHOR_ALPHA = 0.2  # rad/s^2 ...not even beginning to turn (a turn from rest starts with its
# largest angular acceleration, when its rate is still below ANCHOR_GYR)...
ANCHOR_S = 0.2  # ...this long: the accelerometer's residual is read there
ANCHOR_BEFORE_S = 1.0  # the movement began at most this long after the truly still moment
LEVER_M = 0.43  # the clip above the trunk's pivot (clip/lifts.py TRUNK_LENGTH_M)
LEVER_RATIO = 0.35  # travelled less than this share of a trunk turn's travel: a slip
MIN_TRAVEL_M = 0.08  # what a trunk turn under ~11 deg moves the clip is within the errors
UPRIGHT_COS = 0.17  # judged only with the spine over 10 deg from horizontal at both ends
WEAR_OFF_S = 900.0  # a quarter of an hour: no one lies that still for so long
WEAR_OFF_GYR = 0.006  # rad/s: below breathing (about 0.5 deg of trunk motion at 0.25 Hz)
WEAR_OFF_COS = 0.5  # the long axis more than 60 deg from vertical

NOTHING = const(0)
SLIPPED = const(1)  # re-anchored: ``turn_deg`` and the new neutral quaternion are set
WORN_OFF = const(2)
PUT_ON = const(3)  # moved again after a wear-off


def rotate(qw, qx, qy, qz, vx, vy, vz):
    """v rotated by the unit quaternion q (q v q*)."""
    # t = 2 q_vec x v; v' = v + w t + q_vec x t
    tx = 2.0 * (qy * vz - qz * vy)
    ty = 2.0 * (qz * vx - qx * vz)
    tz = 2.0 * (qx * vy - qy * vx)
    return (vx + qw * tx + qy * tz - qz * ty,
            vy + qw * ty + qz * tx - qx * tz,
            vz + qw * tz + qx * ty - qy * tx)


def multiply(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz,
            aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx,
            aw * bz + ax * by - ay * bx + az * bw)


class SlipWatch:
    """The clip's mounting, watched once per fused step (see the module's comment).

    From the last truly still moment (the anchor) the linear acceleration is integrated in the
    inertial frame of the fusion's strapdown. Its error grows with the turn (gyro sensitivity
    tilts the integrated gravity, accelerometer sensitivity changes its reading of gravity):
    it is read at the anchor (``e0``) and once still again (``e1``) and taken off in proportion
    to the turn made so far; what is left of the velocity is forced to zero."""

    def __init__(self):
        self.still_s = 0.0
        self.quiet_s = 0.0  # time without any motion (wear-off)
        self.off = False
        self.turn_deg = 0.0
        self.travel_m = 0.0  # of the last judged turn: travelled...
        self.trunk_travel_m = 0.0  # ...and what a trunk turn would have travelled
        self.mount = (1.0, 0.0, 0.0, 0.0)  # the slip's turn: old sensor frame <- new
        self._q0 = None  # the strapdown at the anchor
        self._wx = self._wy = self._wz = 0.0  # the last step's body rate
        self._prev = None  # the last step's anchor, when it was truly still
        self._moved = False  # a movement since the anchor
        self._since_anchor = 0.0
        self._reset(0.0, 0.0, 0.0)

    def _reset(self, ex, ey, ez):
        self._vx = self._vy = self._vz = 0.0  # m/s, inertial frame
        self._px = self._py = self._pz = 0.0  # m
        self._va = self._pa = 0.0  # the turn angle integrated once and twice
        self._t = 0.0
        self._e0 = (ex, ey, ez)
        self._e1x = self._e1y = self._e1z = 0.0
        self._settled_s = 0.0

    def _snapshot(self, f, g):
        """The anchor this step would be: strapdown, up, gravity and the accelerometer's
        residual, both in the inertial frame (the fusion's own, turned half-way through the
        step)."""
        gx, gy, gz = g * f.gix, g * f.giy, g * f.giz
        return ((f.qw, f.qx, f.qy, f.qz), (f.ux, f.uy, f.uz), (gx, gy, gz),
                (f.aix - gx, f.aiy - gy, f.aiz - gz))

    def _anchor(self, snap):
        self._q0 = snap[0]
        self._u0 = snap[1]
        self._g0 = snap[2]  # gravity in the inertial frame, fixed from here
        e0 = snap[3]
        self._reset(e0[0], e0[1], e0[2])
        self._moved = False
        self._since_anchor = 0.0

    @micropython.native
    def update(self, f, ax, ay, az, wx, wy, wz, w, g, trunk_axis, dt):
        """One fused step. ``f``: the Fusion (strapdown quaternion qw..qz, sensor -> inertial,
        and up ux..uz); accelerometer m/s^2; ``w*`` bias-corrected body rate rad/s and ``w``
        its norm; ``g`` the
        learnt gravity m/s^2; ``trunk_axis`` the trunk's long axis in the sensor frame (the
        neutral up vector). Returns NOTHING, SLIPPED, WORN_OFF or PUT_ON."""
        # squared norms against squared bounds: no square roots on the hot path
        a2 = ax * ax + ay * ay + az * az
        dx, dy, dz = wx - self._wx, wy - self._wy, wz - self._wz
        turning2 = dx * dx + dy * dy + dz * dz  # the rate's change this step, squared
        self._wx = wx
        self._wy = wy
        self._wz = wz
        answer = NOTHING
        # wear-off: the long axis lying down and no motion at all for long
        if w < WEAR_OFF_GYR and (f.ux * trunk_axis[0] + f.uy * trunk_axis[1]
                                 + f.uz * trunk_axis[2]) < WEAR_OFF_COS:
            self.quiet_s += dt
            if self.quiet_s >= WEAR_OFF_S and not self.off:
                self.off = True
                answer = WORN_OFF
        else:
            self.quiet_s = 0.0
            if self.off and w > STILL_GYR:
                self.off = False
                answer = PUT_ON
        lo, hi = g - STILL_ACC, g + STILL_ACC
        still = w < STILL_GYR and lo * lo < a2 < hi * hi
        lo, hi = g - ANCHOR_ACC, g + ANCHOR_ACC
        alpha = ANCHOR_ALPHA * dt
        anchored = (w < ANCHOR_GYR and lo * lo < a2 < hi * hi
                    and turning2 < alpha * alpha)
        if not self._moved and anchored:
            # anchor at the step before: this one may already hold a movement's first
            # moments (a turn from rest begins with its largest acceleration)
            prev = self._prev
            if prev is not None:
                self._anchor(prev)
            self._prev = self._snapshot(f, g)
            q0 = self._q0
            if q0 is not None:
                self._integrate(f, q0, dt)
            self.still_s += dt
            return answer
        self._prev = None
        lx = ly = lz = 0.0
        q0 = self._q0
        if q0 is not None:
            lx, ly, lz = self._integrate(f, q0, dt)
        if still:
            self.still_s += dt
        else:
            self.still_s = 0.0
            if not self._moved:
                self._moved = True
                if self._since_anchor > ANCHOR_BEFORE_S:
                    self._q0 = None  # the movement's start was not watched from still
        if not self._moved:
            self._since_anchor += dt
            return answer
        if q0 is not None and self._t > EVENT_MAX_S + STILL_S + ANCHOR_S + 1.0:
            self._q0 = None  # too long to judge
        if self.still_s < STILL_S or not anchored:
            self._settled_s = 0.0
            self._e1x = self._e1y = self._e1z = 0.0
            return answer
        q0 = self._q0
        if q0 is None:  # an unjudged movement is over: watch from here
            self._anchor(self._snapshot(f, g))
            return answer
        self._settled_s += dt
        self._e1x += lx * dt
        self._e1y += ly * dt
        self._e1z += lz * dt
        if self._settled_s < ANCHOR_S:
            return answer
        slipped = self._judge(f, q0, trunk_axis)
        self._anchor(self._snapshot(f, g))
        return SLIPPED if slipped else answer

    @micropython.native
    def _integrate(self, f, q0, dt):
        """One step of the movement; returns the linear acceleration (inertial frame)."""
        # a step's accelerometer is its samples' mean, which the fusion turned into the
        # inertial frame by the orientation half-way through the step
        g0 = self._g0
        lx = f.aix - g0[0]
        ly = f.aiy - g0[1]
        lz = f.aiz - g0[2]
        self._px += (self._vx + 0.5 * lx * dt) * dt
        self._py += (self._vy + 0.5 * ly * dt) * dt
        self._pz += (self._vz + 0.5 * lz * dt) * dt
        self._vx += lx * dt
        self._vy += ly * dt
        self._vz += lz * dt
        c = abs(q0[0] * f.qw + q0[1] * f.qx + q0[2] * f.qy + q0[3] * f.qz)
        angle = 2.0 * math.acos(c if c < 1.0 else 1.0)
        self._pa += (self._va + 0.5 * angle * dt) * dt
        self._va += angle * dt
        self._t += dt
        return lx, ly, lz

    def _judge(self, f, q0, n):
        """The movement since the anchor is over: was it a slip?"""
        u0 = self._u0
        c = u0[0] * f.ux + u0[1] * f.uy + u0[2] * f.uz
        self.turn_deg = math.acos(max(-1.0, min(1.0, c))) * 57.29577951308232
        if self.turn_deg < SLIP_MIN_DEG:
            return False
        if (u0[0] * n[0] + u0[1] * n[1] + u0[2] * n[2] < UPRIGHT_COS
                or f.ux * n[0] + f.uy * n[1] + f.uz * n[2] < UPRIGHT_COS):
            return False  # lying: a bridge turns the clip with the shoulders on the floor
        c = abs(q0[0] * f.qw + q0[1] * f.qx + q0[2] * f.qy + q0[3] * f.qz)
        total = 2.0 * math.acos(c if c < 1.0 else 1.0)
        t = self._t
        vf = self._va / total  # the turn's share of the way, integrated once and twice
        pf = self._pa / total
        k = 1.0 / self._settled_s
        e0 = self._e0
        e1x, e1y, e1z = self._e1x * k, self._e1y * k, self._e1z * k
        p0 = 0.5 * t * t - pf
        v0 = t - vf
        vx = self._vx - e0[0] * v0 - e1x * vf
        vy = self._vy - e0[1] * v0 - e1y * vf
        vz = self._vz - e0[2] * v0 - e1z * vf
        half = 0.5 * t
        px = self._px - e0[0] * p0 - e1x * pf - vx * half
        py = self._py - e0[1] * p0 - e1y * pf - vy * half
        pz = self._pz - e0[2] * p0 - e1z * pf - vz * half
        self.travel_m = math.sqrt(px * px + py * py + pz * pz)
        a0 = rotate(q0[0], q0[1], q0[2], q0[3], n[0], n[1], n[2])
        a1 = rotate(f.qw, f.qx, f.qy, f.qz, n[0], n[1], n[2])
        dx, dy, dz = a1[0] - a0[0], a1[1] - a0[1], a1[2] - a0[2]
        self.trunk_travel_m = LEVER_M * math.sqrt(dx * dx + dy * dy + dz * dz)
        if self.trunk_travel_m < MIN_TRAVEL_M or self.travel_m > LEVER_RATIO * self.trunk_travel_m:
            return False
        # the turn of the clip relative to the (still) trunk: old sensor <- new sensor
        self.mount = multiply((q0[0], -q0[1], -q0[2], -q0[3]), (f.qw, f.qx, f.qy, f.qz))
        return True
