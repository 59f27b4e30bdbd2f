"""Batch analysis of a recording: orientation, trunk angles, posture, slouch episodes, lifts.

Method (docs/analysis.md has the details and limits):

1. Resample to a uniform grid at the recording's own rate, gaps marked.
2. Orientation with offline VQF (6D, forward-backward; Laidig & Seel 2023) — the best
   inclination on BROAD of the filters we tried, and the host has the whole recording — on
   gyro increments pre-integrated into steps of >= 12.5 Hz (postureclip.orientation).
3. Neutral calibration from the first still stretch (>= 2 s) of the recording: the smallest
   rotation taking the measured up direction onto +x gives the trunk frame (DESIGN.md).
4. Flexion = atan2(u_z, u_x), lateral = asin(-u_y) with u = world up in the trunk frame; twist
   = integral of the trunk-frame x angular rate from the start of a movement.
5. Vertical displacement of the sensor by double integration of vertical acceleration, anchored
   to zero velocity at every still moment; a lift is a dip of >= 0.2 m that comes back.
"""
from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from scipy.ndimage import maximum_filter1d, uniform_filter1d
from scipy.signal import butter, sosfiltfilt
from scipy.spatial.transform import Rotation

from .errors import CalibrationError
from .orientation import orientation as _orientation
from .orientation import up_vectors
from .recording import G, Recording, Uniform, to_uniform

FloatArray = npt.NDArray[np.float64]

POSTURES = ("upright", "slouched", "leaning_left", "leaning_right", "reclined", "lying",
            "moving", "lifting", "gap")


@dataclass(frozen=True)
class AnalysisSettings:
    """Thresholds with units in their names; defaults match the firmware's settings."""

    slouch_deg: float = 20.0
    lean_deg: float = 15.0
    recline_deg: float = 15.0  # flexion below -recline_deg is reclined
    lying_deg: float = 60.0  # trunk axis this far from vertical is lying
    min_episode_s: float = 10.0
    max_dip_s: float = 2.0  # dips under the threshold shorter than this do not split
    calib_still_s: float = 2.0
    calib_search_s: float = 20.0
    lift_drop_m: float = 0.20  # sensor must go down at least this far
    lift_max_drop_m: float = 1.2  # and no farther: more is drift, not a back on a body
    lift_max_s: float = 10.0  # and come back within this time
    squat_excess_m: float = 0.20  # drop beyond what trunk flexion explains: knees bent
    trunk_length_m: float = 0.48  # nominal hip-to-sensor distance for the excess drop
    twist_deg: float = 30.0
    moving_acc_std: float = 0.8  # m/s^2 over 2 s windows


@dataclass(frozen=True)
class SlouchEpisode:
    start_s: float
    end_s: float
    peak_flexion_deg: float
    mean_flexion_deg: float


@dataclass(frozen=True)
class Lift:
    start_s: float
    end_s: float
    technique: str  # "squat" or "stoop"
    twisted: bool
    twist_deg: float
    peak_flexion_deg: float
    peak_lateral_deg: float
    drop_m: float
    peak_angular_velocity_dps: float


@dataclass
class Analysis:
    duration_s: float
    rate_hz: float
    slouch_episodes: list[SlouchEpisode]
    lifts: list[Lift]
    time_in_slouch_s: float
    time_in_posture_s: dict[str, float]
    calibration: dict[str, float]
    series: dict[str, Any] = field(repr=False, default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "duration_s": round(self.duration_s, 3),
            "rate_hz": self.rate_hz,
            "slouch_episodes": [_rounded(asdict(e)) for e in self.slouch_episodes],
            "lifts": [_rounded(asdict(x)) for x in self.lifts],
            "time_in_slouch_s": round(self.time_in_slouch_s, 2),
            "time_in_posture_s": {k: round(v, 2) for k, v in self.time_in_posture_s.items()},
            "lift_count": len(self.lifts),
            "stooped_lifts": sum(x.technique == "stoop" for x in self.lifts),
            "twisted_lifts": sum(x.twisted for x in self.lifts),
            "calibration": _rounded(self.calibration),
        }


def _rounded(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


def orientation(u: Uniform) -> FloatArray:
    """Sensor-to-earth quaternions (w, x, y, z), earth +z up, of every sample: offline VQF on
    pre-integrated steps (postureclip.orientation)."""
    return _orientation(u.gyr, u.acc, u.rate_hz)


def _norm(v: FloatArray) -> FloatArray:
    """Row norms of (N, 3), faster than np.linalg.norm for long arrays."""
    out: FloatArray = np.sqrt(np.einsum("ij,ij->i", v, v))
    return out


def _moving_std(x: FloatArray, n: int) -> FloatArray:
    """Standard deviation of ``x`` over a centred window of ``n`` samples."""
    mean = uniform_filter1d(x, n)
    std: FloatArray = np.sqrt(np.maximum(uniform_filter1d(x * x, n) - mean * mean, 0.0))
    return std


def find_still(u: Uniform, s: AnalysisSettings) -> slice:
    """First stretch of ``calib_still_s`` within ``calib_search_s`` with the trunk still."""
    n = round(s.calib_still_s * u.rate_hz)
    m = min(len(u.t), round(s.calib_search_s * u.rate_hz))
    if m < n:
        raise CalibrationError(f"recording is {u.t[-1]:.1f} s long; calibration needs "
                               f"{s.calib_still_s:.0f} s of still, neutral posture at its start")
    gyr = np.linalg.norm(u.gyr[:m], axis=1)
    acc = np.linalg.norm(u.acc[:m], axis=1)
    still = (uniform_filter1d(gyr, n) < 0.15) & (_moving_std(acc, n) < 0.3) & u.valid[:m]
    centres = np.flatnonzero(still[n // 2: m - (n - n // 2) + 1])
    if centres.size == 0:
        raise CalibrationError(f"no still stretch of {s.calib_still_s:.0f} s in the first "
                               f"{s.calib_search_s:.0f} s: start recordings standing or sitting "
                               "upright and still")
    start = int(centres[0])
    return slice(start, start + n)


def calibrate(up_sensor: FloatArray) -> Rotation:
    """Smallest rotation taking the neutral up direction (sensor frame) onto trunk +x."""
    v = up_sensor / np.linalg.norm(up_sensor)
    axis = np.cross(v, [1.0, 0.0, 0.0])
    s = np.linalg.norm(axis)
    angle = math.atan2(s, float(v[0]))
    if s < 1e-12:
        return Rotation.identity() if v[0] > 0 else Rotation.from_rotvec([0.0, 0.0, math.pi])
    return Rotation.from_rotvec(axis / s * angle)


def trunk_angles(up_trunk: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Flexion and lateral bend in degrees from world-up in the trunk frame (DESIGN.md)."""
    flex = np.degrees(np.arctan2(up_trunk[:, 2], up_trunk[:, 0]))
    lat = np.degrees(np.arcsin(np.clip(-up_trunk[:, 1], -1.0, 1.0)))
    return flex, lat


def _runs(mask: npt.NDArray[np.bool_]) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(d == 1).tolist(), np.flatnonzero(d == -1).tolist(),
                    strict=True))


def _sustained(mask: npt.NDArray[np.bool_], n: int) -> npt.NDArray[np.bool_]:
    """``mask`` with its True runs shorter than ``n`` samples cleared."""
    out = np.zeros(len(mask), bool)
    for a, b in _runs(mask):
        if b - a >= n:
            out[a:b] = True
    return out


def episodes_from_mask(t: FloatArray, flex: FloatArray, mask: npt.NDArray[np.bool_],
                       min_s: float, max_dip_s: float) -> list[SlouchEpisode]:
    """Episodes where ``mask`` holds >= ``min_s``, gaps shorter than ``max_dip_s`` bridged."""
    runs = _runs(mask)
    merged: list[list[int]] = []
    for a, b in runs:
        if merged and t[a] - t[merged[-1][1] - 1] <= max_dip_s:
            merged[-1][1] = b
        else:
            merged.append([a, b])
    out = []
    for a, b in merged:
        if t[b - 1] - t[a] >= min_s:
            seg = flex[a:b][mask[a:b]]
            out.append(SlouchEpisode(float(t[a]), float(t[b - 1]), float(seg.max()),
                                     float(seg.mean())))
    return out


def vertical_track(u: Uniform, up_s: FloatArray) -> FloatArray:
    """Sensor height (m, arbitrary origin) from vertical acceleration integrated between still
    moments with zero velocity at each (ZUPT), so that drift cannot pile up. ``u.gyr`` must be
    bias-corrected."""
    fs = u.rate_hz
    av = np.einsum("ij,ij->i", up_s, u.acc) - G  # specific force along earth up
    # remove the slow part of the vertical specific force (accelerometer scale, tilt error)
    sos = butter(2, 0.05, "highpass", fs=fs, output="sos")
    av = sosfiltfilt(sos, av) if len(av) > 50 else av - av.mean()
    w = _norm(u.gyr)
    k = max(1, int(0.1 * fs))
    still = (uniform_filter1d(np.abs(av), k) < 0.35) & (uniform_filter1d(w, k) < 0.2)
    anchor = _sustained(still, int(0.2 * fs))  # a still moment must last 0.2 s to anchor
    h = np.empty(len(av))
    dt = 1.0 / fs
    level = 0.0
    pos = 0
    for a, b in _runs(~anchor):
        h[pos:a] = level
        v = np.cumsum(av[a:b]) * dt
        v -= np.linspace(0.0, v[-1], len(v))  # zero velocity at both anchors
        p = np.cumsum(v) * dt
        if (b - a) / fs > 12.0:  # too long to trust: assume it ends where it began
            p -= np.linspace(0.0, p[-1], len(p))
        h[a:b] = level + p
        level = float(h[b - 1])
        pos = b
    h[pos:] = level
    return h


def _extend(cond: npt.NDArray[np.bool_], i: int, step: int, limit: int) -> int:
    """Move index ``i`` by ``step`` while ``cond`` holds at the next sample, at most ``limit``
    samples; the result is an exclusive end for step +1 and an inclusive start for step -1."""
    k = 0
    nxt = i - 1 if step < 0 else i
    while 0 <= nxt < len(cond) and cond[nxt] and k < limit:
        i += step
        nxt += step
        k += 1
    return i


def detect_lifts(u: Uniform, s: AnalysisSettings, h: FloatArray, flex: FloatArray,
                 lat: FloatArray, twist_rate: FloatArray, w_dps: FloatArray) -> list[Lift]:
    fs = u.rate_hz
    win = max(3, int(s.lift_max_s * fs))
    baseline = maximum_filter1d(h, win, mode="nearest")
    dip = baseline - h
    dipped = dip > 0.04
    turning = w_dps > 8.0
    lim = int(2 * fs)
    lifts: list[Lift] = []
    for a, b in _runs(dip > s.lift_drop_m):
        depth = float(dip[a:b].max())
        if depth > s.lift_max_drop_m:
            continue
        # widen to where the dip began and ended (sensor back within 4 cm), then to where
        # the trunk last/next stood still: the movement itself
        a0 = _extend(turning, _extend(dipped, a, -1, win), -1, lim)
        b0 = _extend(turning, _extend(dipped, b, +1, win), +1, lim)
        dur = (b0 - a0) / fs
        if dur > s.lift_max_s or b0 >= len(dip) or not u.valid[a0:b0].all():
            continue
        # bend-and-return: the sensor ends where it began (sitting or lying down does not)
        if abs(h[b0] - h[a0]) > max(0.1, 0.35 * depth):
            continue
        if lifts and u.t[a0] <= lifts[-1].end_s:
            continue
        peak_flex = float(flex[a0:b0].max())
        explained = s.trunk_length_m * (1.0 - math.cos(math.radians(min(max(peak_flex, 0.0),
                                                                         180.0))))
        technique = "squat" if depth - explained >= s.squat_excess_m else "stoop"
        tw = np.cumsum(twist_rate[a0:b0]) / fs
        i = int(np.argmax(np.abs(tw)))
        twist = float(np.degrees(tw[i]))
        lifts.append(Lift(float(u.t[a0]), float(u.t[b0 - 1]), technique,
                          abs(twist) >= s.twist_deg, twist, peak_flex,
                          float(lat[a0:b0][np.argmax(np.abs(lat[a0:b0]))]), depth,
                          float(w_dps[a0:b0].max())))
    return lifts


@dataclass(frozen=True)
class Calibration:
    """What the still, neutral start gives: gyro bias (rad/s) and the trunk frame."""

    still: slice
    bias: FloatArray
    neutral: Rotation


def calibrate_start(u: Uniform, s: AnalysisSettings) -> Calibration:
    """Gyro bias and trunk frame from the first still stretch (accelerometer direction)."""
    still = find_still(u, s)
    return Calibration(still, u.gyr[still].mean(axis=0), calibrate(u.acc[still].mean(axis=0)))


@dataclass
class Core:
    """Per-sample results of one stretch of signal (see ``analyze_core``)."""

    episodes: list[SlouchEpisode]
    lifts: list[Lift]
    posture: npt.NDArray[np.int8]  # indices into POSTURES
    flex: FloatArray
    lat: FloatArray
    h: FloatArray


def analyze_core(u: Uniform, s: AnalysisSettings, up_s: FloatArray, neutral: Rotation,
                 with_lifts: bool = True) -> Core:
    """Everything after orientation: trunk angles, vertical track, lifts, posture classes and
    slouch episodes. ``u.gyr`` must be bias-corrected; ``up_s`` is earth +z in the sensor frame
    (N, 3), e.g. ``up_in_sensor(q)`` of sensor-to-earth quaternions.
    Batch analysis and the live analyzer (postureclip.live) both run this."""
    m = neutral.as_matrix()
    up_t = up_s @ m.T
    flex, lat = trunk_angles(up_t)
    fs = u.rate_hz
    if with_lifts:
        twist_rate = u.gyr @ m[0]  # trunk-frame x (the spine) rate
        w_dps = np.degrees(_norm(u.gyr))
        h = vertical_track(u, up_s)
        lifts = detect_lifts(u, s, h, flex, lat, twist_rate, w_dps)
        acc_std = _moving_std(_norm(u.acc), max(1, int(2 * fs)))
    else:  # orientation only (the clip's quaternion stream): no lifts, no movement measure
        h = np.zeros(len(u.t))
        lifts = []
        acc_std = np.zeros(len(u.t))
    code = dict(zip(POSTURES, range(len(POSTURES)), strict=True))
    lying = _sustained(up_t[:, 0] < math.cos(math.radians(s.lying_deg)), math.ceil(5.0 * fs))
    posture = np.zeros(len(u.t), np.int8)  # upright
    posture[lat > s.lean_deg] = code["leaning_left"]
    posture[lat < -s.lean_deg] = code["leaning_right"]
    posture[flex > s.slouch_deg] = code["slouched"]
    posture[flex < -s.recline_deg] = code["reclined"]
    posture[acc_std > s.moving_acc_std] = code["moving"]
    posture[lying] = code["lying"]
    in_lift = np.zeros(len(u.t), bool)
    t0 = u.t[0]
    for lift in lifts:
        in_lift[round((lift.start_s - t0) * fs):round((lift.end_s - t0) * fs) + 1] = True
    posture[in_lift] = code["lifting"]
    posture[~u.valid] = code["gap"]
    still_enough = acc_std <= s.moving_acc_std
    slouch_mask = (flex > s.slouch_deg) & ~lying & ~in_lift & u.valid & still_enough
    episodes = episodes_from_mask(u.t, flex, slouch_mask, s.min_episode_s, s.max_dip_s)
    return Core(episodes, lifts, posture, flex, lat, h)


_POSTURE_NAMES = np.array(POSTURES, dtype=object)


def posture_names(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.object_]:
    """Posture codes (indices into POSTURES) as their names."""
    names: npt.NDArray[np.object_] = _POSTURE_NAMES[codes]
    return names


def analyze(rec: Recording, settings: AnalysisSettings | None = None) -> Analysis:
    s = settings or AnalysisSettings()
    u = to_uniform(rec)
    cal = calibrate_start(u, s)
    u = Uniform(u.t, u.acc, u.gyr - cal.bias, u.valid, u.rate_hz)
    core = analyze_core(u, s, up_vectors(u.gyr, u.acc, u.rate_hz), cal.neutral)
    fs = u.rate_hz
    counts = np.bincount(core.posture, minlength=len(POSTURES))
    time_in = {p: float(counts[i]) / fs for i, p in enumerate(POSTURES)}
    still = cal.still
    return Analysis(
        duration_s=rec.duration_s,
        rate_hz=fs,
        slouch_episodes=core.episodes,
        lifts=core.lifts,
        time_in_slouch_s=float(sum(e.end_s - e.start_s for e in core.episodes)),
        time_in_posture_s=time_in,
        calibration={"start_s": float(u.t[still.start]), "end_s": float(u.t[still.stop - 1]),
                     "mount_tilt_deg": float(np.degrees(cal.neutral.magnitude())),
                     "gyro_bias_x": float(cal.bias[0]), "gyro_bias_y": float(cal.bias[1]),
                     "gyro_bias_z": float(cal.bias[2])},
        series={"t": u.t, "flexion_deg": core.flex, "lateral_deg": core.lat,
                "posture": posture_names(core.posture), "height_m": core.h},
    )
