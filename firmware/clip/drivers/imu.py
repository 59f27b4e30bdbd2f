# What both IMU drivers share: probing, the board's mounting rotation, FIFO draining into
# averaged groups in SI units, and the sample clock. A driver takes a ready I2C bus object.
#
# Hot path: raw FIFO bytes are decoded into integer sums (small ints never allocate), and one
# group of ``decimate`` samples becomes one float sample: the fusion runs at the group rate
# while the chip samples faster, so the I2C traffic is bursts and the float work is divided.
from array import array

from micropython import const

G = 9.80665
DEG = 0.017453292519943295  # rad per degree
BURST = const(24)  # samples per I2C burst read
FAST_HOLD = const(16)  # samples the fine groups last after the last fast-turning sample


class ImuError(Exception):
    """The IMU is absent, answers with the wrong identity, or stops answering."""


def mounting(spec):
    """Parse a board's mounting: three entries like "-y" saying which chip axis (and sign)
    is the clip's sensor-frame x, y and z. Returns ((chip_axis, sign), ...)."""
    out = []
    for item in spec:
        sign = -1 if item[0] == "-" else 1
        axis = "xyz".index(item[-1])
        out.append((axis, sign))
    if sorted(a for a, _ in out) != [0, 1, 2]:
        raise ValueError("mounting must use each chip axis once: %r" % (spec,))
    return tuple(out)


class FifoImu:
    """Base of the drivers: subclasses set WHO_AM_I, the register map and ``_decode``.

    After ``drain()`` the groups are in ``self.out`` (6 floats per group: gx gy gz in rad/s,
    ax ay az in m/s^2, sensor frame), ``self.groups`` says how many there are and
    ``self.sizes`` how many samples each holds (``decimate``, unless a turn cut it short).

    Groups follow the motion when a turn threshold is armed (``turn_lsb``, raw gyro LSB on
    any axis): ``set_wake`` (still) makes the first turning sample - or, with ``shake_lsb``,
    the first whose accelerometer moved that far on any axis from the open group's first
    sample - end the coarse groups for good and sets ``woke``; ``set_fast`` (moving) makes
    turning samples go in groups of ``fast_group`` until ``FAST_HOLD`` samples after the last
    of them. Either way the open coarse group closes before the first turning sample: a turn
    starts a step of its own. Both decoders (viper for the LSM6DSOX, native code for the
    MPU-6050) apply these rules inline, per sample; ``_turning`` is the shared part.
    """

    NAME = "IMU"
    REG_WHO_AM_I = 0
    WHO_AM_I = (0,)
    SAMPLE_BYTES = 12  # bytes of FIFO per sample

    def __init__(self, i2c, address, mount=("x", "y", "z"), bus_name="I2C"):
        self.i2c = i2c
        self.address = address
        self.where = "%s address 0x%02x" % (bus_name, address)
        self.axes = mounting(mount)
        self._one = bytearray(1)
        self._buf = bytearray(BURST * self.SAMPLE_BYTES)
        # integer sums of the current group: gx gy gz ax ay az (chip frame), and its size
        self._sum = array("i", (0, 0, 0, 0, 0, 0))
        self._n = 0
        self.decimate = 1
        self.out = [0.0] * 6 * 64
        self.sizes = [0] * 64  # samples in each group of ``out``
        self.groups = 0
        self.turn_lsb = 0  # a gyro axis beyond this (raw) is a turning sample; 0 = off
        self.turn_wakes = False  # True: set_wake's rule; False: set_fast's
        self.shake_lsb = 0  # set_wake: an accelerometer axis moving this far (raw) wakes
        self.fast_group = 1
        self._hold = 0  # samples left in fine groups
        self.woke = False
        self.samples = 0  # samples decoded since start()
        self.overflows = 0
        self.gyro_scale = 0.0  # rad/s per LSB
        self.accel_scale = 0.0  # m/s^2 per LSB
        self.rate_hz = 0.0
        self.probe()

    # --- registers --------------------------------------------------------------------
    def read_reg(self, reg):
        self.i2c.readfrom_mem_into(self.address, reg, self._one)
        return self._one[0]

    def write_reg(self, reg, value):
        self._one[0] = value
        self.i2c.writeto_mem(self.address, reg, self._one)

    def probe(self):
        try:
            who = self.read_reg(self.REG_WHO_AM_I)
        except OSError:
            raise ImuError("no %s answers at %s: check wiring, power and the address pin"
                           % (self.NAME, self.where)) from None
        if who not in self.WHO_AM_I:
            raise ImuError("device at %s says WHO_AM_I=0x%02x, not a %s (expected %s)"
                           % (self.where, who, self.NAME,
                              "/".join("0x%02x" % w for w in self.WHO_AM_I)))

    # --- sampling ---------------------------------------------------------------------
    def set_decimation(self, n):
        """Samples per group from now on (the open group is dropped; turns disarmed)."""
        self.decimate = n
        self.turn_lsb = 0
        self.shake_lsb = 0
        self._hold = 0
        self._drop_group()

    def _drop_group(self):
        self._n = 0
        s = self._sum
        s[0] = s[1] = s[2] = s[3] = s[4] = s[5] = 0

    def set_wake(self, rate, accel=0.0):
        """While grouping coarsely: the first sample turning faster than ``rate`` (rad/s, any
        axis, bias included) - or whose accelerometer differs by more than ``accel`` (m/s^2,
        any axis; 0: not checked) from the open group's first sample: a squat moves the trunk
        without turning it - closes the open group before it and makes every later sample a
        group of its own, and sets ``woke`` (the app then restores the full rate)."""
        self.turn_lsb = int(rate / self.gyro_scale)
        self.shake_lsb = int(accel / self.accel_scale)
        self.turn_wakes = True
        self.woke = False

    def set_fast(self, rate, group):
        """While moving: samples turning faster than ``rate`` (rad/s, any axis, bias included)
        and the ``FAST_HOLD`` after the last of them go in groups of ``group``; coarse groups
        (``decimate``) cost fewer fused steps but lose accuracy in fast turns."""
        self.turn_lsb = int(rate / self.gyro_scale)
        self.turn_wakes = False
        self.fast_group = group
        self._hold = 0

    def _turning(self, hold):
        """A sample turning faster than ``turn_lsb`` (or shaking beyond ``shake_lsb``) is about
        to join the sums (``hold``: the decoder's fine-group countdown). Closes the open coarse
        group; returns the turn threshold from now on: 0 once woken (every later sample a
        group of its own; nothing checked any more)."""
        if self.turn_wakes:
            self.woke = True
            self.turn_lsb = 0
            self.shake_lsb = 0
            self.decimate = 1
            if self._n:
                self._emit()
            return 0
        if not hold and self._n:
            self._emit()
        return self.turn_lsb

    def pending(self):
        """Samples in the group not yet complete. (A method, not a property: a class with
        properties makes every attribute store of its instances slower in MicroPython, and
        the decode loop stores attributes per sample.)"""
        return self._n

    def close_group(self):
        """Emit the incomplete group on its own (before the group size or the rate changes,
        so that no sample is lost); returns the samples it held (0: nothing emitted)."""
        n = self._n
        self.groups = 0
        if n:
            self._emit()
        return n

    def _emit(self):
        """Close the current group: average, scale, rotate into the sensor frame."""
        s = self._sum
        g = self.gyro_scale / self._n
        a = self.accel_scale / self._n
        out = self.out
        self.sizes[self.groups] = self._n
        k = 6 * self.groups
        for i in range(3):
            axis, sign = self.axes[i]
            out[k + i] = sign * s[axis] * g
            out[k + 3 + i] = sign * s[3 + axis] * a
        s[0] = s[1] = s[2] = s[3] = s[4] = s[5] = 0
        self._n = 0
        self.groups += 1

    def drain(self, max_groups=64):
        """Read every complete sample waiting in the FIFO (in bursts) into groups.

        Samples of an unfinished group are kept for the next call. Returns ``groups``.
        """
        self.groups = 0
        limit = max_groups * self.decimate
        pending = self.fifo_samples()
        if pending > limit:
            pending = limit
        while pending > 0:
            n = BURST if pending > BURST else pending
            # an armed turn threshold may make every sample a group (and close one more):
            # read no burst whose groups might not fit in ``out``; the rest waits in the FIFO
            if self.turn_lsb:
                if self.groups + n + 1 > max_groups:
                    break
            elif self.groups + n // self.decimate > max_groups:
                break
            n = self._read_burst(n)
            if n == 0:
                break
            self._decode(n)
            pending -= n
        return self.groups

    def configure(self, rate_hz, accel_g, gyro_dps, low_power=False):
        """Set the sample rate (nearest supported) and ranges, and the chip's low-power mode
        where it has one; return the rate in Hz."""
        raise NotImplementedError

    def start(self):
        """Empty the FIFO and start filling it."""
        raise NotImplementedError

    def stop(self):
        """Stop sampling and put the chip in its lowest-power state."""
        raise NotImplementedError

    def fifo_samples(self):
        """Complete samples waiting in the chip's FIFO (0 after an overflow restart)."""
        raise NotImplementedError

    def _read_burst(self, n):
        """Read ``n`` samples into ``self._buf``; return how many were read."""
        raise NotImplementedError

    def _decode(self, n):
        """Add ``n`` samples from ``self._buf`` to the group sums, emitting full groups."""
        raise NotImplementedError


class SampleClock:
    """Device time of each FIFO sample (ms) from the sample count and the drain times.

    The chip's rate differs from nominal by a few percent; the period is re-estimated from
    the tick clock over windows of at least ``window_ms`` so timestamps neither drift away
    from the device clock nor jitter with the drain schedule.
    """

    def __init__(self, nominal_hz, window_ms=5000):
        self.period_ms = 1000.0 / nominal_hz
        self.window_ms = window_ms
        self._t0 = None
        self._count = 0
        self.next_ms = 0.0  # time of the next sample to come

    def drained(self, now_ms, samples):
        """Account for ``samples`` just read at tick ``now_ms``; return the first one's time.

        The last sample read arrived within one period before ``now_ms``; the timeline is
        kept continuous and pulled gently toward that, so drain jitter does not show."""
        measured = now_ms - (samples - 1) * self.period_ms
        if self._t0 is None or abs(measured - self.next_ms) > self.window_ms:
            self._t0 = now_ms
            self._count = 0
            self.next_ms = measured
        first = self.next_ms + 0.1 * (measured - self.next_ms)
        self._count += samples
        span = now_ms - self._t0
        if span >= self.window_ms:
            rate_period = span / self._count
            # accept only plausible corrections (a stalled loop must not stretch time)
            if 0.8 * self.period_ms < rate_period < 1.25 * self.period_ms:
                self.period_ms = rate_period
            self._t0 = now_ms
            self._count = 0
        self.next_ms = first + samples * self.period_ms
        return first
