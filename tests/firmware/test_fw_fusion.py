# Fusion on synthetic motion with known truth; runs under MicroPython and CPython.
import math

from clip.fusion import FAULT_NONFINITE, FAULT_STUCK, Fusion

DT = 0.01
G = 9.81


def tilt_sample(angle, rate, noise_phase=0.0):
    """Sensor tilted by ``angle`` rad about its y axis, turning at ``rate`` rad/s; up is
    (sin a, 0, cos a) in the sensor frame... expressed for a sensor lying flat (+z up)."""
    # world up in sensor frame for a rotation about y by angle: (-sin a, 0, cos a)
    return (0.0, rate, 0.0, -G * math.sin(angle), 0.0, G * math.cos(angle))


def test_static_tilt_is_found_at_once():
    f = Fusion()
    a = math.radians(25)
    for _ in range(10):
        f.update(*tilt_sample(a, 0.0), DT)
    assert abs(f.ux + math.sin(a)) < 1e-6 and abs(f.uz - math.cos(a)) < 1e-6


def test_rotation_tracks_through_gyro_despite_linear_acceleration():
    f = Fusion()
    angle = 0.0
    rate = math.radians(60)
    worst = 0.0
    for i in range(200):  # 2 s turning 60 deg/s, with a sideways shake on the accelerometer
        angle += rate * DT
        gx, gy, gz, ax, ay, az = tilt_sample(angle, rate)
        shake = 4.0 * math.sin(2 * math.pi * 3 * i * DT)
        f.update(gx, gy, gz, ax + shake, ay + shake, az, DT)
        est = math.atan2(-f.ux, f.uz)
        worst = max(worst, abs(est - angle))
    assert worst < math.radians(1.5), math.degrees(worst)


def test_gyro_bias_is_learnt_at_rest():
    f = Fusion()
    for _ in range(1000):
        f.update(0.02, -0.01, 0.005, 0.0, 0.0, G, DT)
    assert f.rest
    assert abs(f.bx - 0.02) < 2e-3 and abs(f.by + 0.01) < 2e-3 and abs(f.bz - 0.005) < 2e-3


def test_nan_sample_is_rejected_and_state_kept():
    f = Fusion()
    for _ in range(50):
        f.update(*tilt_sample(0.3, 0.0), DT)
    before = (f.ux, f.uy, f.uz, f.qw, f.qx)
    nan = float("nan")
    assert f.update(nan, 0.0, 0.0, 0.0, 0.0, G, DT) is False
    assert f.update(0.0, 0.0, 0.0, float("inf"), 0.0, G, DT) is False
    assert f.update(0.0, 0.0, 0.0, 0.0, 0.0, G, 0.0) is False
    assert (f.ux, f.uy, f.uz, f.qw, f.qx) == before
    assert f.faults & FAULT_NONFINITE and f.fault_count == 3
    assert f.update(*tilt_sample(0.3, 0.0), DT)


def test_saturated_accelerometer_is_held_out():
    f = Fusion()
    for _ in range(50):
        f.update(0.0, 0.0, 0.0, 0.0, 0.0, G, DT)
    for _ in range(5):  # a tap at the range limit
        f.update(0.0, 0.0, 0.0, 156.0, -156.0, 156.0, DT)
    assert abs(f.uz - 1.0) < 1e-9


def test_stuck_sensor_is_flagged():
    f = Fusion()
    for _ in range(120):
        f.update(0.001, 0.002, 0.003, 0.1, 0.2, 9.8, DT)
    assert f.faults & FAULT_STUCK
    f.update(0.001, 0.002, 0.004, 0.1, 0.2, 9.8, DT)
    assert not f.faults & FAULT_STUCK


def test_quaternion_maps_measured_up_onto_earth_z():
    f = Fusion()
    for _ in range(20):
        f.update(0.0, 0.0, 0.0, 3.0, -4.0, 8.0, DT)
    w, x, y, z = f.quaternion()
    n = math.sqrt(9 + 16 + 64)
    v = (3.0 / n, -4.0 / n, 8.0 / n)
    # third row of the rotation matrix applied to v = earth z component
    ez = 2 * (x * z - w * y) * v[0] + 2 * (y * z + w * x) * v[1] + (1 - 2 * (x * x + y * y)) * v[2]
    assert abs(ez - 1.0) < 1e-6
