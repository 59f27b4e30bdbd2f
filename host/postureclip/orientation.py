"""Sensor orientation from a whole recording: offline VQF on pre-integrated gyro groups.

Quaternions are (w, x, y, z), sensor-to-earth (``v_earth = q v_sensor q*``), earth +z up;
gyro in rad/s and accelerometer in m/s^2, both in the sensor frame.

Offline VQF (Laidig & Seel 2023) costs time in proportion to the samples it sees, and the
trunk's orientation does not need every one of them: k samples are combined into one step
whose rotation is the exact product of the k gyro increments (so no rotation is lost, however
fast the trunk turns inside the step) and whose accelerometer is the mean of the k samples
each rotated into the step's end frame (where VQF applies it). The orientation of every
original sample is then the previous step's estimate carried forward by the gyro increments.
On the BROAD trials (286 Hz) steps of 2 to 34 samples (143 Hz down to 8.4 Hz) all give
0.532-0.533 deg mean inclination RMSE against 0.533 deg for VQF on every sample (6.2 Hz:
0.534, 5 Hz: 0.535); the host uses steps of at least ``STEP_HZ``. The limit: nonstop fast
turning (1.5 rad/s about every axis for minutes, which no trunk does) loses up to ~0.25 deg
RMS against VQF on every sample (tests/host/test_orientation.py).
"""
from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]

#: Lowest rate of the filter steps, Hz: a step combines at most rate / STEP_HZ samples.
STEP_HZ = 8.0
#: Samples handled at a time in the elementwise passes: the temporaries stay in cache and
#: are reused instead of being faulted in afresh for every operation on a long recording.
CHUNK = 1 << 15


# Quaternion arrays here are component-first, (4, ...): each component is contiguous, which
# keeps the elementwise products fast on long recordings.


def qmul(a: FloatArray, b: FloatArray) -> FloatArray:
    """Hamilton product of component-first quaternion arrays (4, ...), broadcast."""
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return np.stack([aw * bw - ax * bx - ay * by - az * bz,
                     aw * bx + ax * bw + ay * bz - az * by,
                     aw * by - ax * bz + ay * bw + az * bx,
                     aw * bz + ax * by - ay * bx + az * bw])


def rotate_inverse(q: FloatArray, v: FloatArray) -> FloatArray:
    """``q* v q``: vectors (3, ...) seen from the frame rotated by unit quaternions (4, ...)."""
    w, x, y, z = q
    vx, vy, vz = v
    # t = 2 (u x v) = 2 (v x p) with u = -p, p = (x, y, z); result v + w t + u x t
    tx = 2.0 * (vy * z - vz * y)
    ty = 2.0 * (vz * x - vx * z)
    tz = 2.0 * (vx * y - vy * x)
    return np.stack([vx + w * tx - (y * tz - z * ty),
                     vy + w * ty - (z * tx - x * tz),
                     vz + w * tz - (x * ty - y * tx)])


def gyro_increments(gyr: FloatArray, dt: float) -> FloatArray:
    """Rotation of each sample period, exp(w dt / 2), component-first (4, N); ``gyr`` (3, N)."""
    rate = np.sqrt(gyr[0] * gyr[0] + gyr[1] * gyr[1] + gyr[2] * gyr[2])
    half = 0.5 * dt * rate
    # sin(half) / rate, with its limit dt / 2 at rest
    scale = np.divide(np.sin(half), rate, out=np.full_like(rate, 0.5 * dt), where=rate > 1e-12)
    out = np.empty((4, len(rate)))
    out[0] = np.cos(half)
    np.multiply(gyr, scale, out=out[1:])
    return out


def preintegrate(gyr: FloatArray, acc: FloatArray, dt: float,
                 k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """``preintegrate_block`` over the whole recording, a block of steps at a time."""
    g = len(gyr) // k
    rate, acc_end = np.empty((g, 3)), np.empty((g, 3))
    forward = np.empty((4, k, g))
    per = max(1, CHUNK // k)
    for a in range(0, g, per):
        b = min(g, a + per)
        rate[a:b], acc_end[a:b], forward[:, :, a:b] = preintegrate_block(
            gyr[a * k:b * k], acc[a * k:b * k], dt, k)
    return rate, acc_end, forward


def preintegrate_block(gyr: FloatArray, acc: FloatArray, dt: float,
                       k: int) -> tuple[FloatArray, FloatArray, FloatArray]:
    """Combine groups of ``k`` samples (the first ``len // k * k``) of ``gyr`` and ``acc``
    (N, 3) into filter steps.

    Returns the step's equivalent constant rate (steps, 3; rad/s over ``k * dt``), its
    accelerometer in the step's end frame (steps, 3), and the within-step gyro products
    ``P`` (4, k, steps): sample j of a step sits at ``q_previous_step * P[:, j]``."""
    g = len(gyr) // k
    # sample j of step i is column i of row j: rows are contiguous
    gk = gyr[:g * k].reshape(g, k, 3).transpose(2, 1, 0).reshape(3, g * k)
    e = gyro_increments(np.ascontiguousarray(gk), dt).reshape(4, k, g)
    ak = acc[:g * k].reshape(g, k, 3).transpose(2, 1, 0)
    forward = np.empty_like(e)  # e_0 ... e_j
    forward[:, 0] = e[:, 0]
    acc_end = np.array(ak[:, 0])
    for j in range(1, k):
        forward[:, j] = qmul(forward[:, j - 1], e[:, j])
        # Horner: everything so far seen from sample j's frame, plus sample j
        acc_end = rotate_inverse(e[:, j], acc_end) + ak[:, j]
    step = forward[:, -1]
    sin_half = np.sqrt(step[1] * step[1] + step[2] * step[2] + step[3] * step[3])
    angle = 2.0 * np.arctan2(sin_half, step[0])
    # angle / sin(angle / 2), with its limit 2 for no rotation
    gain = np.divide(angle, sin_half, out=np.full_like(angle, 2.0), where=sin_half > 1e-15)
    rate = (step[1:] * (gain / (k * dt))).T
    return rate, (acc_end / k).T, forward


def step_samples(rate_hz: float) -> int:
    """Samples combined into one filter step at this sampling rate."""
    return max(1, math.floor(rate_hz / STEP_HZ + 1e-9))


def _filter_steps(gyr: FloatArray, acc: FloatArray,
                  rate_hz: float) -> tuple[FloatArray, FloatArray, int]:
    """Offline VQF 6D on the pre-integrated steps: the quaternion before each step (4, steps)
    and the within-step products (4, k, steps), with k."""
    from vqf import offlineVQF

    dt = 1.0 / rate_hz
    k = min(step_samples(rate_hz), max(1, len(gyr)))
    rate, acc_end, forward = preintegrate(gyr, acc, dt, k)
    est = offlineVQF(np.ascontiguousarray(rate), np.ascontiguousarray(acc_end), None, k * dt)
    steps = np.asarray(est["quat6D"], dtype=float).T
    before = np.empty_like(steps)
    before[:, 1:] = steps[:, :-1]
    # the first step has no estimate before it: its own end, carried back by the gyro
    before[:, 0] = qmul(steps[:, 0], forward[:, -1, 0] * np.array([1.0, -1.0, -1.0, -1.0]))
    return before, forward, k


def orientation(gyr: FloatArray, acc: FloatArray, rate_hz: float) -> FloatArray:
    """Sensor-to-earth quaternion (w, x, y, z) of every sample, (N, 4), from offline VQF 6D
    on ``gyr`` (rad/s) and ``acc`` (m/s^2), (N, 3), sampled uniformly at ``rate_hz``.

    Heading is arbitrary (no magnetometer) and nothing here relies on it."""
    before, forward, k = _filter_steps(gyr, acc, rate_hz)
    g = before.shape[1]
    q = np.empty((len(gyr), 4))
    q[:g * k] = qmul(before[:, None, :], forward).transpose(2, 1, 0).reshape(g * k, 4)
    q[g * k:] = qmul(before[:, -1], forward[:, -1, -1])  # the last few: last estimate holds
    return q


def up_vectors(gyr: FloatArray, acc: FloatArray, rate_hz: float,
               out: FloatArray | None = None) -> FloatArray:
    """Earth +z in the sensor frame for every sample, (N, 3): ``up_in_sensor(orientation())``
    without forming the quaternions (the analysis needs only the inclination); into ``out``
    if given."""
    before, forward, k = _filter_steps(gyr, acc, rate_hz)
    g = before.shape[1]
    w, x, y, z = before
    up_before = np.stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x),
                          1.0 - 2.0 * (x * x + y * y)])
    up = np.empty((len(gyr), 3)) if out is None else out
    per = max(1, CHUNK // k)
    for a in range(0, g, per):
        b = min(g, a + per)
        up[a * k:b * k] = rotate_inverse(forward[:, :, a:b], up_before[:, None, a:b]).transpose(
            2, 1, 0).reshape((b - a) * k, 3)
    up[g * k:] = rotate_inverse(forward[:, -1, -1], up_before[:, -1])
    return up


def up_in_sensor(q: FloatArray) -> FloatArray:
    """Earth +z in the sensor frame for sensor-to-earth quaternions (w, x, y, z): the third
    row of the rotation matrix, without building the matrices."""
    w, x, y, z = q[:, 0], q[:, 1], q[:, 2], q[:, 3]
    return np.column_stack([2.0 * (x * z - w * y), 2.0 * (y * z + w * x),
                            1.0 - 2.0 * (x * x + y * y)])


def trunk_angles(up_trunk: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Flexion and lateral bend in degrees from world-up in the trunk frame (DESIGN.md)."""
    # (in place: on a whole recording, each temporary is 11 MB more to fault in)
    flex = np.arctan2(up_trunk[:, 2], up_trunk[:, 0])
    np.degrees(flex, out=flex)
    lat = np.negative(up_trunk[:, 1])
    np.clip(lat, -1.0, 1.0, out=lat)
    np.arcsin(lat, out=lat)
    np.degrees(lat, out=lat)
    return flex, lat


def up_in_trunk(flex: FloatArray, lat: FloatArray) -> FloatArray:
    """Earth's up in the trunk frame (N, 3) at flexion and lateral bend in degrees: the
    inverse of ``trunk_angles``."""
    f, la = np.radians(flex), np.radians(lat)
    return np.column_stack([np.cos(la) * np.cos(f), -np.sin(la), np.cos(la) * np.sin(f)])
