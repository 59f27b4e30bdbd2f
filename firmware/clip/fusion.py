# 6-axis orientation: gyro strapdown plus accelerometer low-passed in the strapdown frame.
#
# Inclination is the direction of the accelerometer, low-passed in the frame that the gyro
# integrates (the "I" frame). Rotations are removed by the strapdown before filtering, so the
# low-pass averages out linear acceleration without lagging behind turns (the idea of VQF,
# Laidig & Seel 2023; this is our own reduced implementation). Gyro bias is learnt at rest.
# Pure: update() takes one sample and its period; nothing here reads a clock or a sensor.
import math

import micropython
from micropython import const

G = 9.81
_REST_GYR = 0.035  # rad/s: |gyro - bias| below this (low-passed) may be rest (2 deg/s)
_REST_ACC = 0.5  # m/s^2: |acc - low-passed acc| below this may be rest
_REST_MIN_S = 1.5  # rest must last this long before the bias is learnt
# The IMU ranges the app configures. Chosen by measurement on BROAD clipped to each
# candidate (docs/benchmarks.md): at +-4 g / +-500 deg/s fast movements saturate and the
# orientation is lost for seconds; +-16 g / +-2000 deg/s costs no resolution that matters here
# (0.49 mg and 0.07 deg/s per LSB on the LSM6DSOX, below its noise over a fused step).
ACCEL_RANGE_G = const(16)
GYRO_RANGE_DPS = const(2000)
# m/s^2: a step whose accelerometer reaches 99 % of the range on an axis is taken as saturated
_ACC_RANGE = 0.99 * ACCEL_RANGE_G * 9.80665
_STUCK_SAMPLES = const(100)  # identical samples in a row that mean a stuck sensor

# fault bits (``Fusion.faults``)
FAULT_NONFINITE = const(1)
FAULT_SATURATED = const(2)
FAULT_STUCK = const(4)


class FusionParams:
    """Settings, all in SI: time constants in s, thresholds in rad/s and m/s^2."""

    def __init__(self, tau_acc=3.0, tau_rest=0.5, tau_bias=2.0, rest_gyr=_REST_GYR,
                 rest_acc=_REST_ACC, rest_min_s=_REST_MIN_S):
        self.tau_acc = tau_acc
        self.tau_rest = tau_rest
        self.tau_bias = tau_bias
        self.rest_gyr = rest_gyr
        self.rest_acc = rest_acc
        self.rest_min_s = rest_min_s


class Fusion:
    """Orientation of the sensor frame from gyro (rad/s) and accelerometer (m/s^2).

    After each ``update`` the attributes ``ux, uy, uz`` hold the unit up vector (against
    gravity) in the sensor frame, and ``rest`` tells whether the sensor is at rest.
    ``quaternion()`` gives the sensor-to-earth rotation (earth +z up, heading arbitrary).
    """

    def __init__(self, params=None):
        self.p = params or FusionParams()
        self._dt = 0.0
        self.reset()

    def reset(self):
        # strapdown quaternion sensor -> I frame
        self.qw, self.qx, self.qy, self.qz = 1.0, 0.0, 0.0, 0.0
        self._pw, self._px, self._py, self._pz = 1.0, 0.0, 0.0, 0.0  # at the step's start
        # two first-order stages of the accelerometer low-pass, I frame
        self._a1x = self._a1y = self._a1z = 0.0
        self._a2x = self._a2y = self._a2z = 0.0
        self.ux, self.uy, self.uz = 0.0, 0.0, 1.0
        self.aix = self.aiy = self.aiz = 0.0  # the last step's accelerometer in I (mid-step)
        self.gix = self.giy = 0.0  # up in I
        self.giz = 1.0
        self.bx = self.by = self.bz = 0.0
        self.bias_known = False  # learnt at rest for long enough, or set by a calibration
        # rest detection: low-passed gyro and accelerometer, time at rest
        self._gx = self._gy = self._gz = 0.0
        self._rax = self._ray = self._raz = 0.0
        self.rest_s = 0.0
        self.rest = False
        self.initialised = False
        self.faults = 0
        self.fault_count = 0
        self._same = 0
        self._last = 0.0

    def _set_rate(self, dt):
        p = self.p
        self._dt = dt
        self._k_acc = dt / (p.tau_acc * 0.5 + dt)  # two stages: each with half the time const.
        self._k_rest = dt / (p.tau_rest + dt)
        self._k_bias = dt / (p.tau_bias + dt)
        self._rest_gyr2 = p.rest_gyr * p.rest_gyr  # squared thresholds, kept off the hot path
        self._rest_acc2 = p.rest_acc * p.rest_acc

    def _start(self, ax, ay, az):
        self._a1x = self._a2x = ax
        self._a1y = self._a2y = ay
        self._a1z = self._a2z = az
        self._rax, self._ray, self._raz = ax, ay, az
        self.initialised = True

    @micropython.native
    def update(self, gx, gy, gz, ax, ay, az, dt):
        """Fuse one sample: gyro in rad/s, accelerometer in m/s^2 (sensor frame), period dt s.

        Returns False (and keeps the previous orientation) when the sample is unusable.
        """
        # s - s is 0 for every finite s, NaN for NaN or infinity (NaN compares false)
        s = gx + gy + gz + ax + ay + az
        if s - s != 0.0 or not dt > 0.0:
            self.faults |= FAULT_NONFINITE
            self.fault_count += 1
            return False
        if s == self._last:
            self._same += 1
            if self._same >= _STUCK_SAMPLES:
                self.faults |= FAULT_STUCK
        else:
            self._same = 0
            self.faults &= ~FAULT_STUCK
        self._last = s
        if dt != self._dt:
            self._set_rate(dt)
        if not self.initialised:
            self._start(ax, ay, az)

        # rest detection on low-passed signals (VQF-style thresholds)
        p = self.p
        k = self._k_rest
        self._gx += k * (gx - self._gx)
        self._gy += k * (gy - self._gy)
        self._gz += k * (gz - self._gz)
        self._rax += k * (ax - self._rax)
        self._ray += k * (ay - self._ray)
        self._raz += k * (az - self._raz)
        if self.bias_known:
            ex, ey, ez = self._gx - self.bx, self._gy - self.by, self._gz - self.bz
        else:
            # the offset may be anything up to the chip's tolerance (MPU-6050: 20 deg/s):
            # until it is learnt, rest is a gyro that does not change
            ex, ey, ez = gx - self._gx, gy - self._gy, gz - self._gz
        fx, fy, fz = ax - self._rax, ay - self._ray, az - self._raz
        if (ex * ex + ey * ey + ez * ez < self._rest_gyr2
                and fx * fx + fy * fy + fz * fz < self._rest_acc2):
            self.rest_s += dt
        else:
            self.rest_s = 0.0
        self.rest = self.rest_s >= p.rest_min_s
        if self.rest:
            if self.rest_s >= p.rest_min_s + 3.0 * p.tau_bias:
                self.bias_known = True  # three time constants of learning at rest
            kb = self._k_bias
            self.bx += kb * (self._gx - self.bx)
            self.by += kb * (self._gy - self.by)
            self.bz += kb * (self._gz - self.bz)

        self._pw = self.qw
        self._px = self.qx
        self._py = self.qy
        self._pz = self.qz
        # strapdown: q <- q * (1, w*dt/2), then normalise
        h = 0.5 * dt
        wx, wy, wz = (gx - self.bx) * h, (gy - self.by) * h, (gz - self.bz) * h
        qw = self.qw
        qx = self.qx
        qy = self.qy
        qz = self.qz
        nw = qw - qx * wx - qy * wy - qz * wz
        nx = qx + qw * wx + qy * wz - qz * wy
        ny = qy + qw * wy - qx * wz + qz * wx
        nz = qz + qw * wz + qx * wy - qy * wx
        n = 1.0 / math.sqrt(nw * nw + nx * nx + ny * ny + nz * nz)
        # (four-way tuple assignments allocate in MicroPython; three-way ones do not)
        qw = nw * n
        qx = nx * n
        qy = ny * n
        qz = nz * n
        self.qw = qw
        self.qx = qx
        self.qy = qy
        self.qz = qz

        # rotation matrix sensor -> I, at the middle of the step: the accelerometer sample
        # (an average over the step when the driver groups samples) belongs there
        qw = 0.5 * (qw + self._pw)
        qx = 0.5 * (qx + self._px)
        qy = 0.5 * (qy + self._py)
        qz = 0.5 * (qz + self._pz)
        xx, yy, zz = qx * qx, qy * qy, qz * qz
        xy, xz, yz = qx * qy, qx * qz, qy * qz
        wx, wy, wz = qw * qx, qw * qy, qw * qz
        r00, r01, r02 = 1.0 - 2.0 * (yy + zz), 2.0 * (xy - wz), 2.0 * (xz + wy)
        r10, r11, r12 = 2.0 * (xy + wz), 1.0 - 2.0 * (xx + zz), 2.0 * (yz - wx)
        r20, r21, r22 = 2.0 * (xz - wy), 2.0 * (yz + wx), 1.0 - 2.0 * (xx + yy)

        # accelerometer into I, low-passed. Every unsaturated sample counts, however large:
        # leaving out strong linear accelerations would bias the average they cancel in.
        aix = r00 * ax + r01 * ay + r02 * az
        aiy = r10 * ax + r11 * ay + r12 * az
        aiz = r20 * ax + r21 * ay + r22 * az
        self.aix = aix  # kept for the slip watch (clip/slips.py), which integrates it
        self.aiy = aiy
        self.aiz = aiz
        if abs(ax) >= _ACC_RANGE or abs(ay) >= _ACC_RANGE or abs(az) >= _ACC_RANGE:
            self.faults |= FAULT_SATURATED
        else:
            self.faults &= ~FAULT_SATURATED
            k = self._k_acc
            self._a1x += k * (aix - self._a1x)
            self._a1y += k * (aiy - self._a1y)
            self._a1z += k * (aiz - self._a1z)
            self._a2x += k * (self._a1x - self._a2x)
            self._a2y += k * (self._a1y - self._a2y)
            self._a2z += k * (self._a1z - self._a2z)

        # up in I is the low-passed accelerometer direction; back to the sensor frame: R^T
        gix, giy, giz = self._a2x, self._a2y, self._a2z
        n = math.sqrt(gix * gix + giy * giy + giz * giz)
        if n > 0.0:
            n = 1.0 / n
            gix, giy, giz = gix * n, giy * n, giz * n
            self.gix = gix  # up in I, kept for the slip watch
            self.giy = giy
            self.giz = giz
            self.ux = r00 * gix + r10 * giy + r20 * giz
            self.uy = r01 * gix + r11 * giy + r21 * giz
            self.uz = r02 * gix + r12 * giy + r22 * giz
        return True

    def quaternion(self):
        """Sensor-to-earth rotation (w, x, y, z): the smallest rotation that takes up-in-I
        onto +z, composed with the strapdown. Heading is arbitrary."""
        gx, gy, gz = self._a2x, self._a2y, self._a2z
        n = math.sqrt(gx * gx + gy * gy + gz * gz)
        if n == 0.0:
            return (self.qw, self.qx, self.qy, self.qz)
        gx, gy, gz = gx / n, gy / n, gz / n
        # rotation taking g onto z: axis g x z = (gy, -gx, 0), half-angle form
        cw = math.sqrt(max(0.0, 0.5 * (1.0 + gz)))
        if cw < 1e-6:  # g points straight down: turn half a turn about x
            iw, ix, iy, iz = 0.0, 1.0, 0.0, 0.0
        else:
            iw, ix, iy, iz = cw, gy / (2.0 * cw), -gx / (2.0 * cw), 0.0
        qw, qx, qy, qz = self.qw, self.qx, self.qy, self.qz
        return (iw * qw - ix * qx - iy * qy - iz * qz,
                iw * qx + ix * qw + iy * qz - iz * qy,
                iw * qy - ix * qz + iy * qw + iz * qx,
                iw * qz + ix * qy - iy * qx + iz * qw)
