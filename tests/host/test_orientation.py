"""Orientation from pre-integrated steps: exact step rotations, accelerometer in the step's
end frame, and agreement with VQF run on every sample."""
from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation
from vqf import offlineVQF

from postureclip import orientation as ori
from postureclip.orientation import (
    orientation,
    preintegrate,
    step_samples,
    up_in_sensor,
    up_vectors,
)
from postureclip.recording import Recording, to_uniform


def _motion(n: int, rate: float, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Gyro (rad/s) and accelerometer (m/s^2) of a sensor turning smoothly, with noise."""
    gyr, acc, _ = _motion_with_truth(n, rate, seed, 1.5)
    return gyr, acc


def _motion_with_truth(n: int, rate: float, seed: int,
                       amp: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``_motion`` (rates up to ``amp`` rad/s about each axis, without pause) and the true
    earth up in the sensor frame."""
    rng = np.random.default_rng(seed)
    t = np.arange(n) / rate
    gyr = np.column_stack([np.sin(2 * np.pi * f * t + p) * a for f, p, a in
                           zip(rng.uniform(0.05, 0.5, 3), rng.uniform(0, 6, 3),
                               rng.uniform(0.1, amp, 3), strict=True)])
    rot = Rotation.identity()
    up = np.empty((n, 3))
    for i in range(n):  # sensor-to-earth; gravity seen from the sensor
        rot = rot * Rotation.from_rotvec(gyr[i] / rate)
        up[i] = rot.inv().apply([0.0, 0.0, 1.0])
    return (gyr + rng.normal(0, 0.003, (n, 3)), 9.81 * up + rng.normal(0, 0.05, (n, 3)), up)


@settings(max_examples=40, deadline=None)
@given(k=st.integers(1, 12), seed=st.integers(0, 2**31 - 1))
def test_step_rotation_is_the_exact_product_of_the_samples(k: int, seed: int) -> None:
    rng = np.random.default_rng(seed)
    dt = 0.02
    gyr = rng.normal(0, 2.0, (5 * k + k - 1, 3))  # fast turns: up to ~0.2 rad per sample
    acc = rng.normal(0, 9.81, gyr.shape)
    rate, acc_end, forward = preintegrate(gyr, acc, dt, k)
    assert rate.shape == (5, 3) and acc_end.shape == (5, 3) and forward.shape == (4, k, 5)
    for s in range(5):
        steps = [Rotation.from_rotvec(gyr[s * k + j] * dt) for j in range(k)]
        product = steps[0]
        for r in steps[1:]:
            product = product * r
        assert (Rotation.from_rotvec(rate[s] * k * dt) * product.inv()).magnitude() < 1e-9
        # each sample's accelerometer seen from the step's end frame, averaged
        expect = np.zeros(3)
        for j in range(k):
            to_end = Rotation.identity()
            for r in steps[j + 1:]:
                to_end = to_end * r
            expect += to_end.inv().apply(acc[s * k + j])
        np.testing.assert_allclose(acc_end[s], expect / k, atol=1e-9)


def test_chunks_do_not_change_the_result(monkeypatch: pytest.MonkeyPatch) -> None:
    gyr, acc = _motion(3000, 50.0, 1)
    whole = up_vectors(gyr, acc, 50.0)
    monkeypatch.setattr(ori, "CHUNK", 37)  # blocks that do not divide anything evenly
    np.testing.assert_allclose(up_vectors(gyr, acc, 50.0), whole, atol=1e-12)


@pytest.mark.parametrize("n", [2, 5, 6, 7, 3001])
def test_up_vectors_are_the_quaternions_up(n: int) -> None:
    gyr, acc = _motion(n, 50.0, n)
    q = orientation(gyr, acc, 50.0)
    assert q.shape == (n, 4)
    np.testing.assert_allclose(np.linalg.norm(q, axis=1), 1.0, atol=1e-9)
    np.testing.assert_allclose(up_vectors(gyr, acc, 50.0), up_in_sensor(q), atol=1e-9)


def _rms_angle_deg(a: np.ndarray, b: np.ndarray) -> float:
    angle = np.degrees(np.arccos(np.clip(np.einsum("ij,ij->i", a, b), -1.0, 1.0)))
    return float(np.sqrt(np.mean(angle ** 2)))


@pytest.mark.parametrize("rate", [25.0, 50.0, 104.0, 200.0])
def test_steps_are_as_accurate_as_vqf_on_every_sample(rate: float) -> None:
    """Trunk-like turning (up to 0.5 rad/s about each axis): no loss. Two minutes of nonstop
    1.5 rad/s turning about every axis (no trunk does this) costs up to ~0.25 deg RMS: the
    documented limit of the coarse steps."""
    assert step_samples(rate) == max(1, int(rate // ori.STEP_HZ))
    for amp, loss in ((0.5, 0.05), (1.5, 0.4)):
        gyr, acc, truth = _motion_with_truth(int(120 * rate), rate, int(rate), amp)
        steps = _rms_angle_deg(up_vectors(gyr, acc, rate), truth)
        every = _rms_angle_deg(
            up_in_sensor(np.asarray(offlineVQF(gyr, acc, None, 1.0 / rate)["quat6D"])), truth)
        assert steps < every + loss, (amp, steps, every)


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), n=st.integers(2, 300))
def test_uniform_grid_interpolates_like_numpy(seed: int, n: int) -> None:
    rng = np.random.default_rng(seed)
    t = np.cumsum(rng.uniform(0.005, 0.04, n))
    t -= t[0]
    acc, gyr = rng.normal(0, 9.81, (n, 3)), rng.normal(0, 1, (n, 3))
    u = to_uniform(Recording(t, acc, gyr), rate_hz=50.0)
    for c in range(3):
        np.testing.assert_allclose(u.acc[:, c], np.interp(u.t, t, acc[:, c]), atol=1e-9)
        np.testing.assert_allclose(u.gyr[:, c], np.interp(u.t, t, gyr[:, c]), atol=1e-9)
