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

SLIP_MIN_DEG = 8.0  # a still-to-still tilt change smaller than this is left alone
EVENT_MAX_S = 3.0  # movement longer than this (walking, handling) is not judged as a slip
STILL_GYR = 0.1  # rad/s, bias-corrected: not turning
STILL_ACC = 0.6  # m/s^2: specific force this close to gravity
STILL_S = 0.6  # still this long before and after the turn
LEVER_M = 0.43  # the clip above the trunk's pivot (clip/lifts.py TRUNK_LENGTH_M)
LEVER_RATIO = 0.35  # travelled less than this share of a trunk turn's travel: a slip
MIN_TRAVEL_M = 0.05  # a trunk turn that moves the clip less than this tells nothing
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
    def __init__(self):
        self.still_s = 0.0
        self._q0 = None  # strapdown orientation at the end of the last still stretch
        self._u0 = (0.0, 0.0, 1.0)  # up, sensor frame, then
        self._open = False  # a movement after a still stretch is being followed
        self._vx = self._vy = self._vz = 0.0  # m/s, inertial frame
        self._px = self._py = self._pz = 0.0  # m
        self._moved_s = 0.0
        self._judged = True  # the movement that ended has been judged
        self.quiet_s = 0.0  # time without any motion (wear-off)
        self.off = False
        self.turn_deg = 0.0
        self.travel_m = 0.0  # of the last judged turn: travelled...
        self.trunk_travel_m = 0.0  # ...and what a trunk turn would have travelled
        self.mount = (1.0, 0.0, 0.0, 0.0)  # the slip's turn: old sensor frame <- new

    @micropython.native
    def update(self, f, ax, ay, az, w, g, trunk_axis, dt):
        """One fused step. ``f``: the Fusion (strapdown quaternion qw..qz, sensor -> inertial,
        and up ux..uz); accelerometer m/s^2; ``w`` bias-corrected turn rate rad/s; ``g`` the
        learnt gravity m/s^2; ``trunk_axis`` the trunk's long axis in the sensor frame (the
        neutral up vector). Returns NOTHING, SLIPPED, WORN_OFF or PUT_ON."""
        an = math.sqrt(ax * ax + ay * ay + az * az)
        still = w < STILL_GYR and abs(an - g) < STILL_ACC
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
        if still:
            self.still_s += dt
            if self.still_s >= STILL_S:
                if not self._judged:
                    self._judged = True
                    if self._judge(f, trunk_axis):
                        return SLIPPED
                self._q0 = (f.qw, f.qx, f.qy, f.qz)
                self._u0 = (f.ux, f.uy, f.uz)
                self._open = False
            elif self._open:
                self._integrate(f, ax, ay, az, g, dt)
            return answer
        self.still_s = 0.0
        if self._q0 is None:
            return answer
        if not self._open and self._judged:
            self._open = True
            self._judged = False
            self._vx = self._vy = self._vz = 0.0
            self._px = self._py = self._pz = 0.0
            self._moved_s = 0.0
        if self._open:
            self._integrate(f, ax, ay, az, g, dt)
            if self._moved_s > EVENT_MAX_S:
                self._open = False  # too long to judge; wait for the next still stretch
                self._judged = True
                self._q0 = None
        return answer

    @micropython.native
    def _integrate(self, f, ax, ay, az, g, dt):
        lx, ly, lz = rotate(f.qw, f.qx, f.qy, f.qz, ax, ay, az)
        # gravity in the inertial frame: the fused up there
        gx, gy, gz = rotate(f.qw, f.qx, f.qy, f.qz, f.ux, f.uy, f.uz)
        lx -= g * gx
        ly -= g * gy
        lz -= g * gz
        self._px += (self._vx + 0.5 * lx * dt) * dt
        self._py += (self._vy + 0.5 * ly * dt) * dt
        self._pz += (self._vz + 0.5 * lz * dt) * dt
        self._vx += lx * dt
        self._vy += ly * dt
        self._vz += lz * dt
        self._moved_s += dt

    def _judge(self, f, n):
        """The movement since the last still stretch ended: was it a slip?"""
        u0 = self._u0
        c = u0[0] * f.ux + u0[1] * f.uy + u0[2] * f.uz
        self.turn_deg = math.acos(max(-1.0, min(1.0, c))) * 57.29577951308232
        if self.turn_deg < SLIP_MIN_DEG or self._q0 is None:
            return False
        # distance travelled, the velocity's linear drift removed (zero at both ends)
        half = 0.5 * self._moved_s
        px = self._px - self._vx * half
        py = self._py - self._vy * half
        pz = self._pz - self._vz * half
        self.travel_m = math.sqrt(px * px + py * py + pz * pz)
        q0 = self._q0
        a0 = rotate(q0[0], q0[1], q0[2], q0[3], n[0], n[1], n[2])
        a1 = rotate(f.qw, f.qx, f.qy, f.qz, n[0], n[1], n[2])
        dx, dy, dz = a1[0] - a0[0], a1[1] - a0[1], a1[2] - a0[2]
        self.trunk_travel_m = LEVER_M * math.sqrt(dx * dx + dy * dy + dz * dz)
        if self.trunk_travel_m < MIN_TRAVEL_M or self.travel_m > LEVER_RATIO * self.trunk_travel_m:
            return False
        # the turn of the clip relative to the (still) trunk: old sensor <- new sensor
        self.mount = multiply((q0[0], -q0[1], -q0[2], -q0[3]), (f.qw, f.qx, f.qy, f.qz))
        return True
