# IMU drivers against register-level fakes; runs under MicroPython and CPython.
import math

import machine
import simhw
from fake_imu import FakeLSM6DSOX, FakeMPU6050, Still

from clip.drivers.imu import ImuError, SampleClock, mounting
from clip.drivers.lsm6dsox import LSM6DSOX
from clip.drivers.mpu6050 import MPU6050

CHIPS = ((FakeMPU6050, MPU6050, 0x68, 200), (FakeLSM6DSOX, LSM6DSOX, 0x6A, 208))
MOUNT = ("-y", "x", "-z")  # a board with the chip turned and upside down
XYZ = ("x", "y", "z")


def setup(fake_cls, address, motion, mount=MOUNT):
    simhw.clear()
    clock = simhw.FakeClock()
    fake = fake_cls(motion, mount=mount, clock=clock)
    simhw.attach(0, address, fake)
    return fake, clock


def close(a, b, tol):
    return all(abs(x - y) <= tol for x, y in zip(a, b))


def test_missing_chip_names_bus_and_address():
    for _, drv, address, _ in CHIPS:
        simhw.clear()
        try:
            drv(machine.I2C(0), bus_name="I2C0 (SDA 8, SCL 9)")
        except ImuError as e:
            msg = str(e)
            assert "0x%02x" % address in msg and "I2C0 (SDA 8, SCL 9)" in msg, msg
        else:
            raise AssertionError("no error without a chip")


def test_wrong_identity_is_refused():
    fake, _ = setup(FakeLSM6DSOX, 0x68, Still())  # an LSM6DSOX where an MPU-6050 should be
    fake.regs[0x75] = 0x6C
    try:
        MPU6050(machine.I2C(0))
    except ImuError as e:
        assert "WHO_AM_I=0x6c" in str(e) and "MPU-6050" in str(e), str(e)
    else:
        raise AssertionError("wrong chip accepted")


def test_configuration_writes():
    fake, _ = setup(FakeMPU6050, 0x68, Still())
    imu = MPU6050(machine.I2C(0))
    assert imu.configure(rate_hz=100, accel_g=8, gyro_dps=1000) == 100.0
    regs = dict(fake.writes)
    assert regs[0x6B] == 0x01 and regs[0x19] == 9 and regs[0x1A] == 3
    assert regs[0x1B] == 2 << 3 and regs[0x1C] == 2 << 3
    fake, _ = setup(FakeLSM6DSOX, 0x6A, Still())
    imu = LSM6DSOX(machine.I2C(0))
    assert imu.configure(rate_hz=200, accel_g=4, gyro_dps=500) == 208.0
    imu.start()
    regs = dict(fake.writes)
    assert regs[0x12] == 0x44 and regs[0x10] == 0x58 and regs[0x11] == 0x54
    assert regs[0x09] == 0x55 and regs[0x0A] == 0x06
    try:
        imu.configure(accel_g=3)
    except ValueError:
        pass
    else:
        raise AssertionError("bad range accepted")


def test_scaling_and_mounting_to_si_in_sensor_frame():
    up = (0.6, 0.0, 0.8)
    gyro = (0.3, -0.2, 0.1)
    for fake_cls, drv, address, rate in CHIPS:
        _fake, clock = setup(fake_cls, address, Still(up=up, gyro=gyro))
        imu = drv(machine.I2C(0), mount=MOUNT)
        imu.configure(rate_hz=rate, accel_g=4, gyro_dps=500)
        imu.start()
        clock.advance(50)
        n = imu.drain()
        assert n >= 9, n
        for k in range(n):
            g = imu.out[6 * k:6 * k + 3]
            a = imu.out[6 * k + 3:6 * k + 6]
            assert close(g, gyro, 2 * imu.gyro_scale), (drv.NAME, g)
            assert close(a, [9.80665 * c for c in up], 2 * imu.accel_scale), (drv.NAME, a)


def test_groups_average_and_carry_over_between_drains():
    for fake_cls, drv, address, rate in CHIPS:
        fake, clock = setup(fake_cls, address, Still())
        imu = drv(machine.I2C(0))
        imu.configure(rate_hz=rate)
        imu.set_decimation(4)
        imu.start()
        total = 0
        for _ in range(37):  # drains at uneven moments leave partial groups
            clock.advance(13)
            total += imu.drain()
        assert imu.samples == fake.produced, (imu.samples, fake.produced)
        assert total == imu.samples // 4 and imu.overflows == 0


def test_large_backlog_is_read_in_bursts():
    for fake_cls, drv, address, rate in CHIPS:
        fake, clock = setup(fake_cls, address, Still(up=(0.0, 1.0, 0.0)), XYZ)
        imu = drv(machine.I2C(0), mount=("x", "y", "z"))
        imu.configure(rate_hz=rate)
        imu.start()
        clock.advance(300)  # ~60 samples: more than one burst, less than the FIFO
        n = imu.drain()
        assert n == fake.produced and imu.samples == n, (n, fake.produced)
        assert abs(imu.out[6 * (n - 1) + 4] - 9.80665) < 0.01


def test_overflow_restarts_cleanly():
    for fake_cls, drv, address, rate in CHIPS:
        _fake, clock = setup(fake_cls, address, Still(up=(1.0, 0.0, 0.0)), XYZ)
        imu = drv(machine.I2C(0), mount=("x", "y", "z"))
        imu.configure(rate_hz=rate)
        imu.start()
        clock.advance(20000)  # the loop stalled for 20 s: the FIFO overflowed
        assert imu.drain() == 0 and imu.overflows == 1
        clock.advance(100)
        n = imu.drain()
        assert n > 0
        for k in range(n):  # nothing misaligned: every sample is the still clip
            assert abs(imu.out[6 * k + 3] - 9.80665) < 0.01, imu.out[6 * k:6 * k + 6]


def test_saturation_clamps_at_range():
    for fake_cls, drv, address, rate in CHIPS:
        fake, clock = setup(fake_cls, address, Still(up=(1.0, 0.0, 0.0)), XYZ)
        fake.motion.acc = (60.0, 0.0, -60.0)  # a knock beyond 4 g
        imu = drv(machine.I2C(0), mount=("x", "y", "z"))
        imu.configure(rate_hz=rate, accel_g=4)
        imu.start()
        clock.advance(20)
        imu.drain()
        full = 4 * 9.80665  # the chips' full scale is 4 g within half a percent
        assert abs(imu.out[3] - full) < 0.005 * full and abs(imu.out[5] + full) < 0.005 * full


def test_bus_failure_raises_oserror_for_the_app():
    fake, clock = setup(FakeMPU6050, 0x68, Still())
    imu = MPU6050(machine.I2C(0))
    imu.configure()
    imu.start()
    fake.fail = True
    clock.advance(20)
    try:
        imu.drain()
    except OSError:
        pass
    else:
        raise AssertionError("a dead bus went unnoticed")


def test_mounting_spec_checks_axes():
    assert mounting(("-y", "x", "z")) == ((1, -1), (0, 1), (2, 1))
    try:
        mounting(("x", "x", "z"))
    except ValueError:
        pass
    else:
        raise AssertionError("repeated axis accepted")


def test_sample_clock_follows_a_fast_chip():
    clock = SampleClock(100.0, window_ms=1000)
    now = 0
    first = None
    for _ in range(300):  # the chip really runs 3% fast: 103 samples per second
        now += 100
        first = clock.drained(now, 10 if _ % 10 else 13)
    assert abs(clock.period_ms - 1000.0 / 103) < 0.2, clock.period_ms
    assert abs(first - now) < 200, (first, now)


def test_wake_up_ends_coarse_groups_at_the_first_turning_sample():
    from fake_imu import TiltRamp

    for fake_cls, drv, address, _rate in CHIPS:
        # still for 0.3 s of the fake's clock, then a bend of 60 deg over 0.5 s
        _fake, clock = setup(fake_cls, address, TiltRamp(0.0, 60.0, 0.3, 0.5), XYZ)
        imu = drv(machine.I2C(0), mount=("x", "y", "z"))
        rate = imu.configure(rate_hz=26, low_power=True)
        imu.set_decimation(13)
        imu.set_wake(0.15)
        imu.start()
        clock.advance(200)  # ~5 still samples: no group complete yet
        assert imu.drain() == 0 and not imu.woke and imu.pending() > 0
        clock.advance(700)  # the bend starts after ~3 more
        groups = imu.drain()
        assert imu.woke, fake_cls
        sizes = imu.sizes[:groups]
        # the still samples before the bend close as one short group; from the first turning
        # sample on, each sample is a group of its own
        assert sizes[0] < 13 and all(n == 1 for n in sizes[1:]) and len(sizes) > 3, sizes
        assert imu.samples == sum(sizes), (imu.samples, sizes)
        assert abs(imu.out[1] * 1.0) < 0.05  # the still group: no rotation about y
        # single samples of the bend: ~2 rad/s about y
        assert max(imu.out[6 * k + 1] for k in range(1, groups)) > 1.5
        assert 25.0 <= rate <= 26.5  # the nearest rate each chip has


class Spin:
    """Still, then turning at ``rate`` rad/s about y from ``t0`` for ``duration_s``, then
    still; the gyro reads a small negative bias on every axis throughout."""

    def __init__(self, t0, duration_s, rate=2.0):
        self.t0 = t0
        self.t1 = t0 + duration_s
        self.rate = rate

    def sample(self, t):
        a = self.rate * (min(max(t, self.t0), self.t1) - self.t0)
        rate = self.rate if self.t0 <= t < self.t1 else 0.0
        return (-0.02, rate - 0.02, -0.02, 9.81 * math.cos(a), 0.0, 9.81 * math.sin(a))


def test_fast_turns_go_in_pairs_between_coarse_groups():
    # the chip upright, and turned upside down turning the other way (its raw values
    # negative): the same groups
    for fake_cls, drv, address, _rate, mount in [c + (m,) for c in CHIPS for m in (XYZ, MOUNT)]:
        sign = 1.0 if mount == XYZ else -1.0
        _fake, clock = setup(fake_cls, address, Spin(0.53, 0.4, 2.0 * sign), mount)
        imu = drv(machine.I2C(0), mount=mount)
        rate = imu.configure(rate_hz=104)
        imu.set_decimation(8)
        imu.set_fast(0.5, 2)
        imu.start()
        sizes, gy = [], []
        for _ in range(20):  # 2 s in reads of 100 ms
            clock.advance(100)
            groups = imu.drain()
            sizes += imu.sizes[:groups]
            gy += [sign * imu.out[6 * k + 1] for k in range(groups)]
        assert imu.samples == sum(sizes) + imu.pending(), fake_cls  # no sample lost
        first = next(k for k, w in enumerate(gy) if w > 0.5)
        assert all(sizes[k] == 8 for k in range(first - 1)), (mount, sizes)
        # the turn's first sample starts a group: the still samples before it close on
        # their own (still), the turn goes in pairs (and so does the hold after it)
        assert gy[first - 1] < 0.05 and sizes[first] == 2 and abs(gy[first] - 2.0) < 0.05, (
            sizes, gy)
        turning = [k for k, w in enumerate(gy) if w > 0.5]
        assert all(sizes[k] == 2 for k in turning), (sizes, gy)
        assert len(turning) >= int(0.4 * rate) // 2 - 1, (len(turning), sizes)
        after = turning[-1] + 1
        assert sizes[after:after + 7] == [2] * 7, sizes  # the hold: 16 samples from the last
        # still before and after: coarse groups of 8 (one shorter where the turn cut in)
        assert sizes[:3] == [8, 8, 8] and sizes[-3:] == [8, 8, 8], sizes
        assert all(n in (2, 8) for k, n in enumerate(sizes) if k != first - 1), sizes
        assert not imu.woke  # fine groups are not the still profile's wake-up


class Sink:
    """Still, then from ``t0`` the body sinks without turning (a squat's start): the
    accelerometer along the vertical (x) dips by 1.5 m/s^2."""

    def __init__(self, t0):
        self.t0 = t0

    def sample(self, t):
        return (0.0, 0.0, 0.0, 9.81 - (1.5 if t >= self.t0 else 0.0), 0.0, 0.0)


def test_wake_up_on_a_move_without_a_turn():
    for fake_cls, drv, address, _rate, mount in [c + (m,) for c in CHIPS for m in (XYZ, MOUNT)]:
        for accel in (0.5, 0.0):
            _fake, clock = setup(fake_cls, address, Sink(0.6), mount)
            imu = drv(machine.I2C(0), mount=mount)
            imu.configure(rate_hz=26, low_power=True)
            imu.set_decimation(13)
            imu.set_wake(0.15, accel)
            imu.start()
            sizes = []
            for _ in range(10):
                clock.advance(100)
                groups = imu.drain()
                sizes += imu.sizes[:groups]
            if not accel:  # turns only: the sinking goes unnoticed
                assert not imu.woke and all(n == 13 for n in sizes), sizes
                continue
            assert imu.woke, fake_cls
            # the still samples close as one group (whole or cut short), every sample of the
            # move is a group of its own
            k = sizes.index(1)
            assert all(n <= 13 for n in sizes[:k]) and all(n == 1 for n in sizes[k:]), sizes
            assert sum(sizes[:k]) >= 14, (mount, sizes)  # nothing woke it before 0.6 s
            assert imu.samples == sum(sizes) + imu.pending()
            assert len(sizes) - k >= 8, sizes  # 0.4 s at 26 Hz
