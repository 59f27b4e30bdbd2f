# Neutral posture: the trunk frame of DESIGN.md and its capture while the wearer holds still.
# Pure: fed with fused up vectors and raw rates, returns results; persistence is the app's.
import math

import micropython

DEG = 57.29577951308232  # degrees per radian

CAPTURE_S = 2.5  # averaging time of a neutral capture
MOVING_GYR = 0.15  # rad/s (8.6 deg/s): faster than this is not holding still
MOVING_ACC = 1.0  # m/s^2: specific force this far from gravity is not holding still
MOVING_TILT = 0.06  # up vector drifting more than ~3.4 deg from the capture's start


class Neutral:
    """Trunk frame: the smallest rotation taking the neutral up vector ``n`` (sensor frame)
    onto +x. ``angles(u)`` sets ``flexion`` and ``lateral`` in degrees (DESIGN.md)."""

    def __init__(self, n=(1.0, 0.0, 0.0), calibrated=False):
        self.calibrated = calibrated
        self.flexion = 0.0
        self.lateral = 0.0
        if len(n) == 4:  # a re-anchored frame, stored whole
            self.set_quat(n)
        else:
            self.set(n[0], n[1], n[2])

    def set(self, nx, ny, nz):
        m = math.sqrt(nx * nx + ny * ny + nz * nz)
        nx, ny, nz = nx / m, ny / m, nz / m
        if nx < -0.999999:  # upside down: half a turn about y
            w, x, y, z = 0.0, 0.0, 1.0, 0.0
        else:
            # half-way quaternion: (1 + n.x, n cross x) normalised, with n cross x = (0, nz, -ny)
            w, x, y, z = 1.0 + nx, 0.0, nz, -ny
            m = math.sqrt(w * w + y * y + z * z)
            w, y, z = w / m, y / m, z / m
        self.set_quat((w, x, y, z))

    def set_quat(self, q):
        """The trunk frame as a rotation sensor -> trunk (w, x, y, z): a calibration gives the
        smallest one; a re-anchored slip composes the clip's turn onto it."""
        w, x, y, z = q
        m = math.sqrt(w * w + x * x + y * y + z * z)
        w, x, y, z = w / m, x / m, y / m, z / m
        self.quat = (w, x, y, z)
        # rotation matrix rows (sensor -> trunk)
        self.r00 = 1.0 - 2.0 * (y * y + z * z)
        self.r01 = 2.0 * (x * y - w * z)
        self.r02 = 2.0 * (x * z + w * y)
        self.r10 = 2.0 * (x * y + w * z)
        self.r11 = 1.0 - 2.0 * (x * x + z * z)
        self.r12 = 2.0 * (y * z - w * x)
        self.r20 = 2.0 * (x * z - w * y)
        self.r21 = 2.0 * (y * z + w * x)
        self.r22 = 1.0 - 2.0 * (x * x + y * y)
        # the trunk's long axis (trunk +x) in the sensor frame: the neutral up vector
        self.nx, self.ny, self.nz = self.r00, self.r01, self.r02

    def tilt_deg(self):
        """Mounting tilt: angle between the neutral up vector and the clip's +x."""
        return math.acos(max(-1.0, min(1.0, self.nx))) * DEG

    @micropython.native
    def angles(self, ux, uy, uz):
        tx = self.r00 * ux + self.r01 * uy + self.r02 * uz
        ty = self.r10 * ux + self.r11 * uy + self.r12 * uz
        tz = self.r20 * ux + self.r21 * uy + self.r22 * uz
        self.flexion = math.atan2(tz, tx) * DEG
        self.lateral = -math.asin(max(-1.0, min(1.0, ty))) * DEG
        self.vertical = tx  # cosine of the trunk axis' angle from vertical
        self.side = ty  # earth's up in the trunk frame, the other two axes
        self.front = tz

    def twist_rate(self, gx, gy, gz):
        """Angular rate about the trunk's own long axis (rad/s)."""
        return gx * self.nx + gy * self.ny + gz * self.nz


def angle_between(a, b):
    """The angle between two rotations given as unit quaternions (w, x, y, z), degrees."""
    c = abs(a[0] * b[0] + a[1] * b[1] + a[2] * b[2] + a[3] * b[3])
    return 2.0 * math.acos(c if c < 1.0 else 1.0) * DEG


# capture states
CAPTURING = 0
DONE = 1
MOVING = 2


class NeutralCapture:
    """Average the accelerometer (the up direction while still) and the gyro (its bias) over
    ``CAPTURE_S``; refuse (MOVING) as soon as the wearer moves. Raw samples, not the fused
    up vector: right after power-up the fusion has not converged, a still average has."""

    def __init__(self, duration_s=CAPTURE_S):
        self.duration_s = duration_s
        self.state = CAPTURING
        self.elapsed = 0.0
        self.sx = self.sy = self.sz = 0.0
        self.gx = self.gy = self.gz = 0.0
        self.n = 0
        self._first = None
        self.reason = ""

    def feed(self, gx, gy, gz, ax, ay, az, dt):
        """One sample: gyro rad/s, accelerometer m/s^2 (sensor frame), period s. Returns the
        state."""
        if self.state != CAPTURING:
            return self.state
        acc_norm = math.sqrt(ax * ax + ay * ay + az * az)
        if acc_norm == 0.0:
            acc_norm = 1e-9
        ux, uy, uz = ax / acc_norm, ay / acc_norm, az / acc_norm
        if self._first is None:
            self._first = (ux, uy, uz, gx, gy, gz)
        f = self._first
        drift = (ux - f[0]) ** 2 + (uy - f[1]) ** 2 + (uz - f[2]) ** 2
        # the gyro's change since the capture began, not its size: before any capture the
        # fusion may not know a zero-rate offset of many deg/s (MPU-6050: up to 20)
        turn = (gx - f[3]) ** 2 + (gy - f[4]) ** 2 + (gz - f[5]) ** 2
        if turn > MOVING_GYR * MOVING_GYR or abs(acc_norm - 9.81) > MOVING_ACC \
                or drift > MOVING_TILT * MOVING_TILT:
            self.state = MOVING
            self.reason = "moving - hold still"
            return self.state
        self.sx += ux
        self.sy += uy
        self.sz += uz
        self.gx += gx
        self.gy += gy
        self.gz += gz
        self.n += 1
        self.elapsed += dt
        if self.elapsed >= self.duration_s:
            self.state = DONE
        return self.state

    def result(self):
        """Neutral up direction (unnormalised sum), sensor frame."""
        return (self.sx, self.sy, self.sz)

    def gyro_bias(self):
        n = self.n if self.n else 1
        return (self.gx / n, self.gy / n, self.gz / n)
