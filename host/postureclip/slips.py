"""Slips of the clip on the back and wear-off, found in a whole recording: the clip's rule
(firmware/clip/slips.py, docs/firmware.md "Slips"), vectorised.

A slip is a turn of the clip from one still moment to the next that did not move it as a turn
of the trunk would: the trunk turns about the hips, so the clip, ``LEVER_M`` up the spine,
travels with it; a clip turning on the back turns in place. Between the still moments the
linear acceleration is integrated twice in the frame of the first one (velocity forced back to
zero at the end, which removes a constant accelerometer offset exactly) and the distance is
compared with what a trunk turn of the measured size would have travelled. The turn of a slip
is the new mounting: the neutral frame is composed with it from then on.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.ndimage import uniform_filter1d
from scipy.spatial.transform import Rotation

from .orientation import qmul
from .recording import Uniform

FloatArray = npt.NDArray[np.float64]

SLIP_MIN_DEG = 8.0
EVENT_MAX_S = 3.0
STILL_GYR = 0.1  # rad/s, bias-corrected
STILL_ACC = 0.6  # m/s^2 from gravity
STILL_S = 0.6
LEVER_M = 0.43
LEVER_RATIO = 0.35
MIN_TRAVEL_M = 0.05
WEAR_OFF_S = 900.0
WEAR_OFF_GYR = 0.006  # rad/s
WEAR_OFF_COS = 0.5


@dataclass(frozen=True)
class Slip:
    """A change of mounting at ``t_s``: ``kind`` "slip" (re-anchored by ``turn``, the new
    sensor frame's orientation in the old one's) or "worn_off" (off the body: stale)."""

    t_s: float
    kind: str
    turn_deg: float
    index: int  # the sample from which the new mounting holds
    turn: Rotation | None = None


def _runs(mask: npt.NDArray[np.bool_]) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def _quat_exp(rotvec: FloatArray) -> FloatArray:
    """Quaternions (w, x, y, z) of rotation vectors (M, 3)."""
    angle = np.sqrt(np.einsum("ij,ij->i", rotvec, rotvec))
    half = 0.5 * angle
    scale = np.where(angle > 1e-12, np.sin(half) / np.where(angle > 1e-12, angle, 1.0), 0.5)
    return np.column_stack([np.cos(half), rotvec * scale[:, None]])


def _rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """v (M, 3) rotated by unit quaternions q (M, 4): q v q*."""
    w, x, y, z = q[:, 0:1], q[:, 1:2], q[:, 2:3], q[:, 3:4]
    u = np.hstack([x, y, z])
    t = 2.0 * np.cross(u, v)
    out: FloatArray = v + w * t + np.cross(u, t)
    return out


def find_slips(u: Uniform, up_s: FloatArray, trunk_axis: FloatArray) -> list[Slip]:
    """Slips and wear-offs in ``u`` (gyro bias-corrected); ``up_s``: earth +z in the sensor
    frame per sample; ``trunk_axis``: the spine's direction in the sensor frame (neutral up)
    at the start. Slips are judged in time order, the trunk axis following each one."""
    fs = u.rate_hz
    dt = 1.0 / fs
    w = np.sqrt(np.einsum("ij,ij->i", u.gyr, u.gyr))
    an = np.sqrt(np.einsum("ij,ij->i", u.acc, u.acc))
    g = float(np.median(an[u.valid])) if u.valid.any() else 9.81
    still = (w < STILL_GYR) & (np.abs(an - g) < STILL_ACC) & u.valid
    starts, ends = _runs(still)
    need = max(1, math.ceil(STILL_S * fs))
    keep = ends - starts >= need
    starts, ends = starts[keep], ends[keep]
    out: list[Slip] = []
    if len(starts) >= 2:
        # a movement between two still stretches, short enough, that tilted the clip
        i0 = ends[:-1] - 1  # the last still sample before
        j = starts[1:]  # the first still sample after
        i1 = j + need - 1  # still long enough after: the clip judges here
        short = (j - i0) * dt <= EVENT_MAX_S
        cos_tilt = np.einsum("ij,ij->i", up_s[i0], up_s[i1])
        tilted = cos_tilt < math.cos(math.radians(SLIP_MIN_DEG))
        cand = np.flatnonzero(short & tilted)
        axis = np.asarray(trunk_axis, float)
        while cand.size:  # in time order: after a slip the spine lies elsewhere in the clip
            found = _judge(u, up_s, g, i0[cand], j[cand], i1[cand], axis)
            if not found:
                break
            first = found[0]
            out.append(first)
            assert first.turn is not None
            axis = first.turn.inv().apply(axis)
            cand = cand[i0[cand] >= first.index]
    out += _worn_off(u, up_s, trunk_axis)
    return sorted(out, key=lambda s: s.t_s)


def _judge(u: Uniform, up_s: FloatArray, g: float, i0: npt.NDArray[np.intp],
           j: npt.NDArray[np.intp], i1: npt.NDArray[np.intp], trunk_axis: FloatArray
           ) -> list[Slip]:
    """The candidates' movements integrated side by side, one sample index at a time."""
    dt = 1.0 / u.rate_hz
    m = len(i0)
    q = np.tile([1.0, 0.0, 0.0, 0.0], (m, 1))  # sensor now -> sensor at i0
    v = np.zeros((m, 3))
    p = np.zeros((m, 3))
    gravity = g * up_s[i0]  # earth +z in the frame of the sensor at i0
    span = i1 - i0
    moved = (j - i0) * dt
    for k in range(1, int(span.max()) + 1):
        live = k <= span
        idx = np.minimum(i0 + k, len(u.t) - 1)
        step = _quat_exp(u.gyr[idx] * dt)
        q = np.where(live[:, None], qmul(q.T, step.T).T, q)
        moving = live & (k <= j - i0)
        lin = _rotate(q, u.acc[idx]) - gravity
        p = np.where(moving[:, None], p + (v + 0.5 * lin * dt) * dt, p)
        v = np.where(moving[:, None], v + lin * dt, v)
    p = p - v * (0.5 * moved)[:, None]
    travel = np.sqrt(np.einsum("ij,ij->i", p, p))
    axis = np.tile(trunk_axis, (m, 1))
    trunk_travel = LEVER_M * np.linalg.norm(_rotate(q, axis) - axis, axis=1)
    slipped = (trunk_travel >= MIN_TRAVEL_M) & (travel <= LEVER_RATIO * trunk_travel)
    out = []
    for c in np.flatnonzero(slipped):
        turn = Rotation.from_quat(np.roll(q[c], -1))  # scipy's order: x, y, z, w
        tilt = math.degrees(math.acos(float(np.clip(up_s[i0[c]] @ up_s[i1[c]], -1.0, 1.0))))
        out.append(Slip(float(u.t[i1[c]]), "slip", tilt, int(i1[c]), turn))
    return out


def _worn_off(u: Uniform, up_s: FloatArray, trunk_axis: FloatArray
              ) -> list[Slip]:
    """No motion at all for WEAR_OFF_S with the spine's axis lying down."""
    n = math.ceil(WEAR_OFF_S * u.rate_hz)
    if len(u.t) < n:
        return []
    # the turn rate as the clip's fused steps see it lying still (0.5 s means of the gyro),
    # as a spread over 5 s: the clip relearns its gyro's offset at rest, which warms and drifts
    k = max(1, round(0.5 * u.rate_hz))
    mean = uniform_filter1d(u.gyr, k, axis=0)
    k5 = max(1, round(5.0 * u.rate_hz))
    spread2 = uniform_filter1d(mean * mean, k5, axis=0) - uniform_filter1d(mean, k5, axis=0) ** 2
    w_step = np.sqrt(np.maximum(spread2.sum(axis=1), 0.0))
    quiet = (w_step < WEAR_OFF_GYR) & (up_s @ trunk_axis < WEAR_OFF_COS) & u.valid
    starts, ends = _runs(quiet)
    return [Slip(float(u.t[s + n - 1]), "worn_off", 0.0, int(s + n - 1))
            for s, e in zip(starts, ends, strict=True) if e - s >= n]
