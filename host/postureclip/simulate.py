"""Synthetic wearer: a scripted workday with ground truth, written as a recording CSV.

The trunk's orientation is built from flexion, lateral bend, twist and heading profiles; the
sensor hangs on the upper back at ``trunk_length_m`` above the hip joint with a mounting tilt.
Gyro and accelerometer are derived from that motion (specific force includes gravity and the
sensor's linear acceleration: hip drop in squats, trunk rotation, walking bounce), then
resampled with jitter and gaps and given noise and bias. Ground truth angles follow
DESIGN.md's definitions exactly, so they are the yardstick for the analysis.

Frames: world +z up; trunk +x up the spine, +y left, +z out of the back (DESIGN.md).
"""
from __future__ import annotations

import csv
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import numpy as np
import numpy.typing as npt
from scipy.spatial.transform import Rotation, Slerp

G = 9.81
FloatArray = npt.NDArray[np.float64]
Activity = Literal["sit", "slouch", "lean", "recline", "stand", "walk", "lift", "reach", "lie",
                   "type", "lean_hand", "drive", "slip", "off", "floor", "plank", "side_plank",
                   "bridge", "back_extension"]
#: On the floor: the hips drop to it (a rest between sets, or an exercise)
FLOOR_ACTIVITIES = ("floor", "plank", "side_plank", "bridge", "back_extension")


def _vec3(a: FloatArray) -> tuple[float, float, float]:
    return (float(a[0]), float(a[1]), float(a[2]))


Matrix3 = tuple[tuple[float, float, float], tuple[float, float, float],
                tuple[float, float, float]]
IDENTITY3: Matrix3 = ((1.0, 0.0, 0.0), (0.0, 1.0, 0.0), (0.0, 0.0, 1.0))


@dataclass(frozen=True)
class ImuErrors:
    """Datasheet error figures of one IMU model, typical values (docs/analysis.md, "The
    simulated wearers' sensors and bodies"). Offsets in m/s^2 and rad/s, tolerances as
    fractions, drifts per deg C, noise densities per sqrt(Hz)."""

    name: str
    acc_offset: tuple[float, float, float]  # zero-g level, per axis
    acc_scale: float  # sensitivity tolerance
    acc_cross: float  # cross-axis sensitivity
    acc_offset_tc: tuple[float, float, float]  # zero-g change per deg C, per axis
    acc_density: float  # noise density, m/s^2/sqrt(Hz)
    gyro_offset: float  # zero-rate level
    gyro_scale: float
    gyro_cross: float
    gyro_offset_tc: float  # zero-rate change per deg C
    gyro_density: float  # rad/s/sqrt(Hz)


_MG = 9.80665e-3
_DPS = np.pi / 180.0
#: ST DS12814 (LSM6DSOX), Table 2, typical values; its sensitivity tolerances (1 %) and
#: cross-axis sensitivity are not in that datasheet: assumed, cross-axis the MPU-6050's figure.
LSM6DSOX = ImuErrors("LSM6DSOX", (20 * _MG,) * 3, 0.01, 0.02, (0.1 * _MG,) * 3,
                     70e-6 * 9.80665, 1.0 * _DPS, 0.01, 0.02, 0.01 * _DPS, 3.8e-3 * _DPS)
#: InvenSense PS-MPU-6000A-00 rev 3.4, section 6.1-6.2, typical values; the zero-g change
#: over 0..70 deg C (+-35 mg x/y, +-60 mg z) and the zero-rate change over -40..85 deg C
#: (+-20 deg/s) are spread evenly over their temperature ranges.
MPU6050 = ImuErrors("MPU-6050", (50 * _MG, 50 * _MG, 80 * _MG), 0.03, 0.02,
                    (35 / 70 * _MG, 35 / 70 * _MG, 60 / 70 * _MG), 400e-6 * 9.80665,
                    20 * _DPS, 0.03, 0.02, 20 / 125 * _DPS, 0.005 * _DPS)


def _matrix(rng: np.random.Generator, scale: float, cross: float) -> Matrix3:
    """Sensitivity matrix: 1 + scale error on the diagonal, cross-axis terms off it; each
    drawn uniformly within its typical tolerance."""
    m = np.eye(3) + np.diag(rng.uniform(-scale, scale, 3))
    off = ~np.eye(3, dtype=bool)
    m[off] = rng.uniform(-cross, cross, 6)
    return (_vec3(m[0]), _vec3(m[1]), _vec3(m[2]))


@dataclass(frozen=True)
class Wearer:
    """Anthropometry, mounting and sensor imperfections of one simulated person and clip.
    The defaults are an ideal sensor on a nominal back; ``random`` draws a realistic one."""

    trunk_length_m: float = 0.48  # hip joint to sensor along the spine
    lever_m: float = 0.0  # sensor behind the spine's axis (trunk +z: spine, tissue, clothes)
    mount_tilt_deg: tuple[float, float, float] = (0.0, 0.0, 0.0)  # about sensor x, y, z
    gyro_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)  # rad/s
    acc_bias: tuple[float, float, float] = (0.0, 0.0, 0.0)  # m/s^2
    acc_matrix: Matrix3 = IDENTITY3  # true specific force -> reading (scale, cross-axis)
    gyro_matrix: Matrix3 = IDENTITY3
    acc_bias_tc: tuple[float, float, float] = (0.0, 0.0, 0.0)  # m/s^2 per deg C
    gyro_bias_tc: tuple[float, float, float] = (0.0, 0.0, 0.0)  # rad/s per deg C
    warm_up_c: float = 0.0  # the clip warms by this much on the body...
    warm_up_s: float = 600.0  # ...with this time constant
    gyro_noise: float = 0.005  # rad/s, white, per sample
    acc_noise: float = 0.03  # m/s^2, white, per sample
    acc_range: float = 16 * 9.80665  # m/s^2: readings saturate here (the clip's range)
    gyro_range: float = 2000 * _DPS  # rad/s
    rate_hz: float = 100.0
    jitter: float = 0.1  # timestamp jitter as a fraction of the period
    sway_deg: float = 1.0  # slow postural sway amplitude
    imu: str = "ideal"

    @staticmethod
    def random(rng: np.random.Generator, rate_hz: float | None = None,
               imu: ImuErrors | None = None) -> Wearer:
        """A random wearer, clip and IMU (LSM6DSOX or MPU-6050, the two the firmware drives,
        unless ``imu`` is given). Every distribution and its source: docs/analysis.md."""
        chip = imu or (LSM6DSOX if rng.uniform() < 0.5 else MPU6050)
        rate = rate_hz if rate_hz is not None else float(rng.choice([25, 50, 100, 200]))
        # stature (m), adults of both sexes; hip joint to shoulder joint is 0.288 of it
        # (Winter's segment proportions); the clip sits 80-95 % of the way up
        stature = float(np.clip(rng.normal(1.71, 0.09), 1.50, 1.95))
        band = rate / 2.0  # the chips' digital low-pass: about half the output rate
        return Wearer(
            trunk_length_m=0.288 * stature * float(rng.uniform(0.80, 0.95)),
            # spinal axis to skin over the upper thoracic spine 5-8 cm, clothes and strap
            # 0-3 cm, half the clip's case 0.8 cm
            lever_m=float(rng.uniform(0.05, 0.08) + rng.uniform(0.0, 0.03) + 0.008),
            # the clip lies flat on the back: it can lean and turn in the back's plane by
            # +-15 deg, but rolls about the spine only as far as the back curves (+-5 deg)
            mount_tilt_deg=_vec3(rng.uniform([-5, -15, -15], [5, 15, 15])),
            gyro_bias=_vec3(rng.uniform(-1, 1, 3) * chip.gyro_offset),
            acc_bias=_vec3(rng.uniform(-1, 1, 3) * np.array(chip.acc_offset)),
            acc_matrix=_matrix(rng, chip.acc_scale, chip.acc_cross),
            gyro_matrix=_matrix(rng, chip.gyro_scale, chip.gyro_cross),
            acc_bias_tc=_vec3(rng.uniform(-1, 1, 3) * np.array(chip.acc_offset_tc)),
            gyro_bias_tc=_vec3(rng.uniform(-1, 1, 3) * chip.gyro_offset_tc),
            # from room temperature (18-25 deg C) to about 32 deg C under clothing on the back
            warm_up_c=float(rng.uniform(7.0, 14.0)),
            warm_up_s=float(rng.uniform(300.0, 1200.0)),
            gyro_noise=chip.gyro_density * float(np.sqrt(band)),
            acc_noise=chip.acc_density * float(np.sqrt(band)),
            rate_hz=rate,
            jitter=float(rng.uniform(0.0, 0.2)),
            sway_deg=float(rng.uniform(0.3, 1.5)),
            imu=chip.name,
        )


@dataclass(frozen=True)
class Segment:
    """One scripted activity. Angles in degrees, times in s."""

    activity: Activity
    duration_s: float
    flexion_deg: float = 0.0  # peak/hold flexion
    lateral_deg: float = 0.0
    twist_deg: float = 0.0  # axial rotation at the bottom of a lift
    hip_drop_m: float = 0.0  # squat depth
    technique: str = ""  # "squat" or "stoop" for lifts
    clip_turn_deg: tuple[float, float] = (0.0, 0.0)  # "slip", "off": the clip's new tilt on
    # the back about the trunk's y (forward) and z (sideways) axes
    # exercises (``flexion_deg``/``lateral_deg`` the pose lying on the floor, as "floor"):
    # the spine raised ``incline_deg`` above it (holds) or through it and back (``reps``)
    incline_deg: float = 0.0
    reps: int = 0
    wobble_deg: float = 0.0  # a hold's slow wobble (amplitude), degrees


@dataclass(frozen=True)
class TrueLift:
    """A scripted lift: its span in s, technique, and the twist at its bottom in degrees."""

    start_s: float
    end_s: float
    technique: str
    twisted: bool
    twist_deg: float
    peak_flexion_deg: float


@dataclass(frozen=True)
class TrueSet:
    """A scripted exercise set: kind (as ``exercise_sets`` in docs/json.md), span in s, reps
    (0 for holds) and the held time (mid-ramp up to mid-ramp down, s; 0 for rep sets)."""

    kind: str
    start_s: float
    end_s: float
    reps: int
    hold_s: float


@dataclass
class Truth:
    """Ground truth on the simulator's uniform grid (``t``) and the scripted events."""

    t: FloatArray
    flexion_deg: FloatArray
    lateral_deg: FloatArray
    twist_deg: FloatArray
    activity: npt.NDArray[np.str_]
    lifts: list[TrueLift] = field(default_factory=list)
    segments: list[tuple[float, float, Segment]] = field(default_factory=list)
    slips: list[float] = field(default_factory=list)  # when the clip slipped on the back
    worn_off: list[tuple[float, float]] = field(default_factory=list)  # off the body: from, to
    exercise_sets: list[TrueSet] = field(default_factory=list)


@dataclass
class Simulation:
    t: FloatArray  # sample times, s (jittered, with gaps)
    acc: FloatArray  # (N, 3) m/s^2, sensor frame
    gyr: FloatArray  # (N, 3) rad/s, sensor frame
    truth: Truth
    wearer: Wearer

    def write_csv(self, path: str | Path) -> None:
        write_recording(path, self.t, self.acc, self.gyr)


def write_recording(path: str | Path, t: FloatArray, acc: FloatArray, gyr: FloatArray) -> None:
    """Write the recording CSV of DESIGN.md (header ``t,ax,ay,az,gx,gy,gz``)."""
    data = np.column_stack([t, acc, gyr])
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["t", "ax", "ay", "az", "gx", "gy", "gz"])
        for row in data:
            w.writerow([f"{row[0]:.4f}"] + [f"{v:.5f}" for v in row[1:]])


def _ramp(n: int) -> FloatArray:
    """Smooth 0 -> 1 over n samples (raised cosine: zero velocity at both ends)."""
    if n <= 1:
        return np.ones(max(n, 0))
    return 0.5 - 0.5 * np.cos(np.linspace(0.0, np.pi, n))


def _profile(n: int, up: int, down: int) -> FloatArray:
    """0 -> 1 over ``up`` samples, hold, 1 -> 0 over ``down`` samples; length n."""
    p = np.ones(n)
    up = min(up, n // 2)
    down = min(down, n - up)
    p[:up] = _ramp(up)
    if down:
        p[n - down:] = _ramp(down)[::-1]
    return p


def _exercise(seg: Segment, c: int, fs: float, t: FloatArray, rng: np.random.Generator,
              prev_flex: float, prev_lat: float, sets: list[TrueSet], t0: float
              ) -> tuple[FloatArray, FloatArray]:
    """Flexion and lateral bend (degrees, ``c`` samples at ``fs``) of a segment on the floor:
    getting into the pose ("floor"), a hold, or repetitions. The spine is raised
    ``incline_deg`` towards upright from the pose lying on the floor (a bridge lowers the
    shoulders' end below the hips instead). Appends the set's truth to ``sets``."""
    flex0, lat0 = seg.flexion_deg, seg.lateral_deg
    if seg.activity == "floor":  # getting down (or settling between sets) in ~3 s
        p = np.ones(c)
        ramp = min(int(3.0 * fs), c // 2)
        p[:ramp] = _ramp(ramp)
        return prev_flex + (flex0 - prev_flex) * p, prev_lat + (lat0 - prev_lat) * p
    if seg.reps:
        p = np.zeros(c)
        lead = int(rng.uniform(0.5, 1.5) * fs)
        span = (c - 2 * lead) / seg.reps
        for r in range(seg.reps):
            a = lead + int(r * span)
            n = int(span * rng.uniform(0.75, 0.95))  # the rest of the slot: a pause
            up = int(n * rng.uniform(0.35, 0.45))
            down = int(n * rng.uniform(0.35, 0.45))
            p[a:a + n] = rng.uniform(0.8, 1.2) * _profile(n, up, down)
        hold = 0.0
    else:
        up = int(rng.uniform(0.6, 1.5) * fs)
        down = int(rng.uniform(0.6, 1.5) * fs)
        p = _profile(c, up, down)
        hold = (c - 0.5 * (up + down)) / fs
        wob = seg.wobble_deg * np.sin(2 * np.pi * rng.uniform(0.3, 0.8) * t
                                      + rng.uniform(0, 6.3))
        tremor = 0.3 * seg.wobble_deg * np.sin(2 * np.pi * rng.uniform(6.0, 10.0) * t)
        p = p + (wob + tremor) * p / max(seg.incline_deg, 1.0)
    towards = -1.0 if seg.activity == "bridge" else 1.0  # towards upright: raised
    flex, lat = np.full(c, flex0), np.full(c, lat0)
    if abs(lat0) > abs(flex0):  # on the side
        lat = lat0 - towards * np.sign(lat0) * seg.incline_deg * p
        kind = "side_plank_left" if lat0 > 0 else "side_plank_right"
    else:
        flex = flex0 - towards * np.sign(flex0) * seg.incline_deg * p
        kind = seg.activity
    sets.append(TrueSet(kind, t0, t0 + c / fs, seg.reps, hold))
    return flex, lat


#: Each exercise's pose lying on the floor (flexion, lateral) and its incline range (deg)
EXERCISE_POSES: dict[str, tuple[Activity, float, float, tuple[float, float]]] = {
    "plank": ("plank", 90.0, 0.0, (7.0, 20.0)),
    "side_plank_left": ("side_plank", 0.0, 90.0, (10.0, 25.0)),
    "side_plank_right": ("side_plank", 0.0, -90.0, (10.0, 25.0)),
    "bridge": ("bridge", -90.0, 0.0, (18.0, 40.0)),
    "back_extension": ("back_extension", 90.0, 0.0, (12.0, 30.0)),
}


def exercise_session(rng: np.random.Generator, kinds: list[str] | None = None
                     ) -> list[Segment]:
    """A home exercise session: for each exercise (all five, in a random order, unless
    ``kinds``), getting down into its pose, 2-3 sets with rests lying on the floor, and
    standing up. Planks and side planks are holds of 15-60 s with a slow wobble; bridges are
    8-15 repetitions (a fifth of the time a 15-40 s hold); back extensions 6-15 repetitions,
    2.2-4 s each with a pause. Speeds, depths and rests vary per set and per repetition."""
    order = list(kinds) if kinds is not None else [str(k) for k in rng.permutation(
        list(EXERCISE_POSES))]
    segs = [Segment("stand", float(rng.uniform(5, 15)))]
    for kind in order:
        activity, flex, lat, (lo, hi) = EXERCISE_POSES[kind]
        segs.append(Segment("floor", float(rng.uniform(5, 9)), flex, lat))
        for _ in range(int(rng.integers(2, 4))):
            incline = float(rng.uniform(lo, hi))
            holds = activity in ("plank", "side_plank") or (
                activity == "bridge" and rng.uniform() < 0.2)
            if holds:
                segs.append(Segment(activity, float(rng.uniform(15, 60)), flex, lat,
                                    incline_deg=incline,
                                    wobble_deg=float(rng.uniform(0.3, 1.5))))
            else:
                reps = int(rng.integers(8 if activity == "bridge" else 6, 16))
                segs.append(Segment(activity, reps * float(rng.uniform(2.2, 4.0)) + 2.0, flex,
                                    lat, incline_deg=incline, reps=reps))
            segs.append(Segment("floor", float(rng.uniform(10, 40)), flex, lat))
        segs.append(Segment("stand", float(rng.uniform(10, 30)), float(rng.uniform(-2, 4))))
    return segs


def sitting_day(rng: np.random.Generator, hours: float = 8.0) -> list[Segment]:
    """A desk day of long sittings: 10-80 min at the desk (sitting, typing, slouching a little,
    leaning on a hand), then a break - a walk of 20 s to 5 min, standing about - or now and
    then just standing up for a moment."""
    segs = [Segment("stand", 10.0)]
    total = 10.0
    while total < hours * 3600:
        sitting = float(rng.uniform(600, 4800))
        spent = 0.0
        while spent < sitting:
            r = rng.uniform()
            if r < 0.5:
                seg = Segment("sit", float(rng.uniform(60, 600)), float(rng.uniform(-3, 10)))
            elif r < 0.75:
                seg = Segment("type", float(rng.uniform(60, 600)), float(rng.uniform(0, 8)),
                              clip_turn_deg=(float(rng.uniform(3, 8)), 0.0))
            elif r < 0.9:
                seg = Segment("slouch", float(rng.uniform(20, 120)), float(rng.uniform(22, 35)))
            else:
                seg = Segment("lean_hand", float(rng.uniform(30, 180)),
                              float(rng.uniform(5, 14)),
                              float(rng.choice([-1, 1]) * rng.uniform(15, 28)))
            segs.append(seg)
            spent += seg.duration_s
        if rng.uniform() < 0.25:  # stands up for a moment and sits down again
            between = [Segment("stand", float(rng.uniform(5, 30)))]
        else:
            between = [Segment("walk", float(rng.uniform(20, 300)), float(rng.uniform(0, 8))),
                       Segment("stand", float(rng.uniform(10, 120)), float(rng.uniform(-2, 6)))]
        segs += between
        total += spent + sum(x.duration_s for x in between)
    return segs


def default_day(rng: np.random.Generator, hours: float = 1.0, lifts_per_hour: float = 12.0
                ) -> list[Segment]:
    """A random office/warehouse mix: sitting (some slouching), standing, walking, lifts."""
    segs: list[Segment] = [Segment("sit", 8.0)]  # still, neutral start for calibration
    total = 8.0
    while total < hours * 3600:
        r = rng.uniform()
        lift_p = lifts_per_hour / 3600 * 40.0  # ~40 s per non-lift segment on average
        if r < lift_p:
            tech = "squat" if rng.uniform() < 0.5 else "stoop"
            twisted = rng.uniform() < 0.4
            seg = Segment(
                "lift", float(rng.uniform(2.5, 5.0)),
                flexion_deg=float(rng.uniform(70, 100) if tech == "stoop" else rng.uniform(15, 40)),
                lateral_deg=float(rng.uniform(-8, 8)),
                twist_deg=float(rng.choice([-1, 1]) * (rng.uniform(40, 70) if twisted
                                                        else rng.uniform(0, 12))),
                hip_drop_m=float(rng.uniform(0.0, 0.06) if tech == "stoop"
                                 else rng.uniform(0.35, 0.55)),
                technique=tech)
            segs += [Segment("stand", float(rng.uniform(2, 6))), seg,
                     Segment("stand", float(rng.uniform(2, 6)))]
        elif r < 0.35:
            segs.append(Segment("sit", float(rng.uniform(20, 120)),
                                flexion_deg=float(rng.uniform(-3, 10))))
        elif r < 0.55:
            segs.append(Segment("slouch", float(rng.uniform(15, 150)),
                                flexion_deg=float(rng.uniform(25, 45)),
                                lateral_deg=float(rng.uniform(-5, 5))))
        elif r < 0.62:
            segs.append(Segment("lean", float(rng.uniform(10, 40)),
                                lateral_deg=float(rng.choice([-1, 1]) * rng.uniform(18, 30))))
        elif r < 0.67:
            segs.append(Segment("recline", float(rng.uniform(20, 60)),
                                flexion_deg=float(rng.uniform(-30, -22))))
        elif r < 0.80:
            segs.append(Segment("walk", float(rng.uniform(10, 60)),
                                flexion_deg=float(rng.uniform(0, 8))))
        elif r < 0.90:
            segs.append(Segment("stand", float(rng.uniform(10, 60)),
                                flexion_deg=float(rng.uniform(-2, 6))))
        elif r < 0.96:
            segs.append(Segment("reach", float(rng.uniform(1.5, 4.0)),
                                flexion_deg=float(rng.uniform(25, 45))))
        else:
            segs.append(Segment("lie", float(rng.uniform(20, 60))))
        total += segs[-1].duration_s
    return segs


def coaching_day(rng: np.random.Generator, hours: float = 8.0, drives: bool = True
                 ) -> list[Segment]:
    """A day without a single slouch but with everything that looks a little like one: typing
    with raised arms (the skin drags the clip forward 3-10 deg), brief reaches, leaning on a
    hand, reclining, lying down, walking, standing and, with ``drives``, a 20-40 min drive
    about every four hours. Nothing in it should buzz as slouching."""
    segs: list[Segment] = [Segment("sit", 8.0)]
    total = 8.0
    next_drive = float(rng.uniform(0.5, 3.5)) * 3600 if drives else np.inf
    while total < hours * 3600:
        if total >= next_drive:
            segs += [Segment("walk", float(rng.uniform(30, 120)),
                             flexion_deg=float(rng.uniform(0, 8))),
                     Segment("drive", float(rng.uniform(1200, 2400)),
                             flexion_deg=float(rng.uniform(-20, -8)))]
            next_drive += float(rng.uniform(3.5, 4.5)) * 3600
        else:
            r = rng.uniform()
            if r < 0.25:
                segs.append(Segment("sit", float(rng.uniform(20, 180)),
                                    flexion_deg=float(rng.uniform(-3, 10))))
            elif r < 0.45:
                segs.append(Segment("type", float(rng.uniform(30, 240)),
                                    flexion_deg=float(rng.uniform(-2, 8)),
                                    clip_turn_deg=(float(rng.uniform(3, 10)),
                                                   float(rng.uniform(-2, 2)))))
            elif r < 0.55:
                segs.append(Segment("reach", float(rng.uniform(1.5, 4.0)),
                                    flexion_deg=float(rng.uniform(25, 45))))
            elif r < 0.65:
                segs.append(Segment("lean_hand", float(rng.uniform(20, 150)),
                                    flexion_deg=float(rng.uniform(5, 14)),
                                    lateral_deg=float(rng.choice([-1, 1])
                                                      * rng.uniform(15, 28))))
            elif r < 0.72:
                segs.append(Segment("recline", float(rng.uniform(20, 180)),
                                    flexion_deg=float(rng.uniform(-30, -15))))
            elif r < 0.85:
                segs.append(Segment("walk", float(rng.uniform(10, 90)),
                                    flexion_deg=float(rng.uniform(0, 8))))
            elif r < 0.96:
                segs.append(Segment("stand", float(rng.uniform(10, 90)),
                                    flexion_deg=float(rng.uniform(-2, 6))))
            else:
                segs.append(Segment("lie", float(rng.uniform(20, 60))))
        total += segs[-1].duration_s
    return segs


def with_slips(segments: list[Segment], rng: np.random.Generator, per_hour: float = 4.0
               ) -> list[Segment]:
    """``segments`` with the clip slipping on the back now and then while the wearer sits or
    stands still: a turn of 10-30 deg in a random direction across the back, over 0.1-0.4 s,
    that lasts (the wearer carries on in the same posture)."""
    out: list[Segment] = []
    t = 0.0
    next_slip = float(rng.exponential(3600.0 / per_hour)) + 60.0
    for seg in segments:
        if seg.activity in ("sit", "stand") and t >= next_slip and seg.duration_s >= 20.0:
            head = float(rng.uniform(5.0, seg.duration_s - 10.0))
            size = float(rng.uniform(10.0, 30.0))
            angle = float(rng.uniform(0.0, 2 * np.pi))
            out += [Segment(seg.activity, head, seg.flexion_deg, seg.lateral_deg),
                    Segment("slip", float(rng.uniform(0.1, 0.4)),
                            clip_turn_deg=(size * float(np.cos(angle)),
                                           size * float(np.sin(angle)))),
                    Segment(seg.activity, seg.duration_s - head, seg.flexion_deg,
                            seg.lateral_deg)]
            next_slip = t + seg.duration_s + float(rng.exponential(3600.0 / per_hour)) + 60.0
        else:
            out.append(seg)
        t += seg.duration_s
    return out


def _vehicle(rng: np.random.Generator, t: FloatArray, fs: float) -> FloatArray:
    """A drive's acceleration in the world frame (m/s^2): braking and speeding up along x
    every 15-45 s (1.5-4 m/s^2 for 2-5 s), turns along y (1.5-3.5 m/s^2 for 3-8 s), and the
    road's vertical vibration (0.3-0.6 m/s^2 rms, 1-15 Hz), as seats transmit it."""
    out = np.zeros((len(t), 3))
    for axis, peak, length in ((0, (1.5, 4.0), (2.0, 5.0)), (1, (1.5, 3.5), (3.0, 8.0))):
        at = float(rng.uniform(2.0, 20.0))
        while at < t[-1]:
            d = float(rng.uniform(*length))
            inside = (t >= at) & (t < at + d)
            phase = (t[inside] - at) / d
            out[inside, axis] += (rng.choice([-1.0, 1.0]) * rng.uniform(*peak)
                                  * np.sin(np.pi * phase) ** 2)
            at += d + float(rng.uniform(15.0, 45.0))
    road = rng.normal(0.0, 1.0, len(t) + int(fs))
    # 1-15 Hz: the difference of two moving averages (a crude band-pass, enough for a seat)
    short = np.convolve(road, np.ones(int(fs / 30)) / int(fs / 30), "same")
    long_ = np.convolve(road, np.ones(int(fs / 2)) / int(fs / 2), "same")
    band = (short - long_)[:len(t)]
    out[:, 2] = band / (band.std() or 1.0) * rng.uniform(0.3, 0.6)
    return out


def simulate(segments: list[Segment], wearer: Wearer, rng: np.random.Generator,
             gaps: int = 0) -> Simulation:
    """Run the script; return jittered samples with noise and bias, and the ground truth."""
    fs = 400.0  # internal grid, well above every output rate
    dt = 1.0 / fs
    counts = [max(2, round(s.duration_s * fs)) for s in segments]
    n = sum(counts)
    t: FloatArray = np.arange(n, dtype=np.float64) * dt
    flex = np.zeros(n)
    lat = np.zeros(n)
    twist = np.zeros(n)
    drop = np.zeros(n)
    bounce = np.zeros(n)
    act = np.empty(n, dtype="<U9")
    truth_lifts: list[TrueLift] = []
    truth_sets: list[TrueSet] = []
    spans: list[tuple[float, float, Segment]] = []
    # the clip's turn on the back (trunk frame): slips and put-ons keep theirs, typing with
    # raised arms drags the skin under the clip only while it lasts
    turn_q = np.tile([0.0, 0.0, 0.0, 1.0], (n, 1))
    turned = Rotation.identity()
    vehicle = np.zeros((n, 3))  # a vehicle's acceleration (world): braking, turns, the road
    slips: list[float] = []
    off: list[tuple[int, int]] = []
    i = 0
    prev_flex = 0.0
    prev_lat = 0.0
    for seg, c in zip(segments, counts, strict=True):
        sl = slice(i, i + c)
        act[sl] = seg.activity
        if seg.activity in ("slip", "off"):
            turn = Rotation.from_euler("yz", seg.clip_turn_deg, degrees=True)
            if seg.activity == "slip":
                share = _ramp(c)[:, None]
                turn_q[sl] = (Rotation.from_rotvec(turn.as_rotvec() * share) * turned).as_quat()
                slips.append(float(t[i + c // 2]))
            else:
                off.append((i, c))
            turned = turn * turned
            turn_q[i + c:] = turned.as_quat()
        elif seg.activity == "type" and seg.clip_turn_deg != (0.0, 0.0):
            drag = Rotation.from_euler("yz", seg.clip_turn_deg, degrees=True).as_rotvec()
            wobble = 1.0 + 0.1 * np.sin(2 * np.pi * rng.uniform(2.0, 4.0) * t[sl])
            p = _profile(c, int(fs), int(fs))[:, None] * wobble[:, None]
            turn_q[sl] = (Rotation.from_rotvec(drag * p) * turned).as_quat()
        elif seg.activity == "drive":
            vehicle[sl] = _vehicle(rng, t[sl] - t[i], fs)
        if seg.activity == "lift":
            down = int(c * 0.38)
            p = _profile(c, down, down)
            flex[sl] = prev_flex + (seg.flexion_deg - prev_flex) * p
            lat[sl] = prev_lat + (seg.lateral_deg - prev_lat) * p
            twist[sl] = seg.twist_deg * _profile(c, int(c * 0.45), int(c * 0.45))
            drop[sl] = seg.hip_drop_m * p
            truth_lifts.append(TrueLift(float(t[i]), float(t[i + c - 1]), seg.technique,
                                        abs(seg.twist_deg) >= 30.0, seg.twist_deg,
                                        seg.flexion_deg))
        elif seg.activity == "reach":
            p = _profile(c, c // 3, c // 3)
            flex[sl] = prev_flex + (seg.flexion_deg - prev_flex) * p
            lat[sl] = prev_lat
        elif seg.activity in ("slip", "off"):  # the trunk holds its posture
            flex[sl] = prev_flex
            lat[sl] = prev_lat
        elif seg.activity in FLOOR_ACTIVITIES:
            f_seg, l_seg = _exercise(seg, c, fs, t[sl] - t[i], rng, prev_flex, prev_lat,
                                     truth_sets, float(t[i]))
            flex[sl], lat[sl] = f_seg, l_seg
            if seg.activity == "bridge":  # the shoulders stay on the floor: the hips rise
                drop[sl] -= wearer.trunk_length_m * np.sin(np.radians(
                    np.abs(f_seg - seg.flexion_deg)))
        elif seg.activity == "lie":
            # lying on the back: trunk axis horizontal, reached over 2 s and left at the end
            ramp = min(int(2 * fs), c // 3)
            p = _profile(c, ramp, ramp)
            flex[sl] = prev_flex + (-90.0 - prev_flex) * p
            lat[sl] = prev_lat * (1.0 - p)
        else:
            ramp = min(int(fs * rng.uniform(1.0, 2.5)), c // 2)
            target = np.full(c, float(seg.flexion_deg))
            target[:ramp] = prev_flex + (seg.flexion_deg - prev_flex) * _ramp(ramp)
            flex[sl] = target
            lat_t = np.full(c, float(seg.lateral_deg))
            lat_t[:ramp] = prev_lat + (seg.lateral_deg - prev_lat) * _ramp(ramp)
            lat[sl] = lat_t
            if seg.activity == "drive":  # braking pitches the trunk forward
                flex[sl] -= 1.2 * vehicle[sl, 0]
            if seg.activity == "walk":
                f_step = rng.uniform(1.6, 2.1)
                env = _profile(c, ramp, ramp)
                ph = 2 * np.pi * f_step * (t[sl] - t[i])
                bounce[sl] = 0.025 * np.cos(ph) * env
                lat[sl] += 2.5 * np.sin(ph / 2) * env
                twist[sl] += 4.0 * np.sin(ph / 2) * env
            prev_flex = seg.flexion_deg
            prev_lat = seg.lateral_deg
        if seg.activity in ("lift", "reach", "lie", *FLOOR_ACTIVITIES):
            prev_flex = float(flex[i + c - 1])
            prev_lat = float(lat[i + c - 1])
        spans.append((t[i], t[i + c - 1] + dt, seg))
        i += c
    # slow sway everywhere (not during lying)
    sway = wearer.sway_deg * np.sin(2 * np.pi * 0.05 * t + rng.uniform(0, 6.3))
    lying = np.isin(act, ["lie", *FLOOR_ACTIVITIES])
    flex = flex + np.where(lying, 0.0, sway)
    # on the floor the hips are down there too: they drop (and rise again) over ~2 s
    k = np.hanning(int(2 * fs))
    drop += 0.75 * np.clip(np.convolve(np.isin(act, FLOOR_ACTIVITIES).astype(float),
                                       k / k.sum(), "same"), 0.0, 1.0)
    # heading turns only while walking (smoothly), so still stretches are truly still
    turn_rate = np.where(act == "walk", 0.3 * np.sin(2 * np.pi * t / 17.0), 0.0)
    turn_rate = np.convolve(turn_rate, np.hanning(int(fs)) / np.hanning(int(fs)).sum(), "same")
    heading = np.cumsum(turn_rate) * dt

    # trunk -> world: heading about world z, then upright base (trunk x onto world z),
    # then flexion (about trunk y, forward positive), lateral (about trunk z), twist (trunk x)
    base = Rotation.from_rotvec([0.0, -np.pi / 2, 0.0])
    r_trunk = (Rotation.from_rotvec(np.column_stack([np.zeros(n), np.zeros(n), heading]))
               * base
               * Rotation.from_rotvec(np.column_stack([np.zeros(n), np.radians(flex),
                                                       np.zeros(n)]))
               * Rotation.from_rotvec(np.column_stack([np.zeros(n), np.zeros(n),
                                                       np.radians(lat)]))
               * Rotation.from_rotvec(np.column_stack([np.radians(twist), np.zeros(n),
                                                       np.zeros(n)])))
    mount = Rotation.from_euler("xyz", wearer.mount_tilt_deg, degrees=True)  # sensor -> trunk
    r_sensor = r_trunk * Rotation.from_quat(turn_q) * mount

    # truth angles from the up vector in the trunk frame (DESIGN.md definitions)
    u = r_trunk.inv().apply([0.0, 0.0, 1.0])
    true_flex: FloatArray = np.degrees(np.arctan2(u[:, 2], u[:, 0]))
    true_lat: FloatArray = np.degrees(np.arcsin(np.clip(-u[:, 1], -1, 1)))

    # sensor position: hip (dropping in squats, bouncing in walking) + trunk x * length,
    # + trunk z * lever (the sensor sits behind the spine's axis, on the back's surface)
    hip = np.column_stack([np.zeros(n), np.zeros(n), -drop + bounce])
    pos = hip + r_trunk.apply([wearer.trunk_length_m, 0.0, wearer.lever_m])
    quat = r_sensor.as_quat()
    for i0, c in off:  # taken off, carried to a table, lying there, put on again
        carry = min(int(1.5 * fs), c // 3)
        i1 = i0 + c - 1
        table = Rotation.from_euler("z", rng.uniform(0, 360), degrees=True)
        start, end = pos[i0].copy(), pos[i1].copy()
        at = start + np.array([0.4, 0.2, -0.5])
        quat[i0:i1 + 1] = table.as_quat()
        pos[i0:i1 + 1] = at
        for a, b, j0, j1 in ((r_sensor[i0], table, i0, i0 + carry),
                             (table, r_sensor[i1], i1 - carry, i1)):
            quat[j0:j1] = Slerp([0.0, 1.0], Rotation.concatenate([a, b]))(_ramp(j1 - j0)).as_quat()
        glide = _ramp(carry)[:, None]
        pos[i0:i0 + carry] = start + (at - start) * glide
        pos[i1 - carry:i1 + 1] = at + (end - at) * _ramp(carry + 1)[:, None]
    r_sensor = Rotation.from_quat(quat)
    acc_world = np.gradient(np.gradient(pos, dt, axis=0), dt, axis=0)
    f_world = acc_world + vehicle + np.array([0.0, 0.0, G])
    acc_s = r_sensor.inv().apply(f_world)
    rel = (r_sensor[:-1].inv() * r_sensor[1:]).as_rotvec() / dt  # body rates at midpoints
    gyr_mid = np.vstack([rel[:1], rel])
    t_mid = t - 0.5 * dt
    gyr_mid_t = np.clip(t_mid, 0, None)

    # output instants: nominal grid with jitter, minus a few gaps
    period = 1.0 / wearer.rate_hz
    t_out = np.arange(0.0, t[-1] - period, period)
    t_out = t_out + rng.uniform(-wearer.jitter, wearer.jitter, len(t_out)) * period
    t_out[0] = 0.0
    t_out = np.maximum.accumulate(t_out)
    keep = np.ones(len(t_out), bool)
    for _ in range(gaps):
        g0 = rng.uniform(30.0, max(31.0, t[-1] - 10.0))
        keep &= ~((t_out > g0) & (t_out < g0 + rng.uniform(0.3, 3.0)))
    t_out = t_out[keep]
    t_out = t_out[np.concatenate([[True], np.diff(t_out) > 1e-4])]
    acc = np.column_stack([np.interp(t_out, t, acc_s[:, k]) for k in range(3)])
    gyr = np.column_stack([np.interp(t_out, gyr_mid_t, gyr_mid[:, k]) for k in range(3)])
    # the sensor's errors: sensitivity and cross-axis, offsets that drift as the clip warms
    # on the body, white noise, saturation at the range
    warm = wearer.warm_up_c * (1.0 - np.exp(-t_out / wearer.warm_up_s))[:, None]
    acc = acc @ np.array(wearer.acc_matrix).T + np.array(wearer.acc_bias) \
        + warm * np.array(wearer.acc_bias_tc) + rng.normal(0, wearer.acc_noise, acc.shape)
    gyr = gyr @ np.array(wearer.gyro_matrix).T + np.array(wearer.gyro_bias) \
        + warm * np.array(wearer.gyro_bias_tc) + rng.normal(0, wearer.gyro_noise, gyr.shape)
    acc = np.clip(acc, -wearer.acc_range, wearer.acc_range)
    gyr = np.clip(gyr, -wearer.gyro_range, wearer.gyro_range)
    truth = Truth(t, true_flex, true_lat, twist, act, truth_lifts, spans, slips,
                  [(float(t[i0]), float(t[i0 + c - 1])) for i0, c in off], truth_sets)
    return Simulation(t_out, acc, gyr, truth, wearer)


CLIP_IMU_RATE_HZ = 208.0  # the LSM6DSOX rate the virtual clip's replay reads from
CLIP_ACC_LSB = 0.488e-3 * 9.80665  # LSM6DSOX at 16 g (clip.fusion.ACCEL_RANGE_G), m/s^2
CLIP_GYR_LSB = 70e-3 * np.pi / 180.0  # LSM6DSOX at 2000 dps (clip.fusion.GYRO_RANGE_DPS), rad/s


def as_clip_reads(acc: FloatArray, gyr: FloatArray) -> tuple[FloatArray, FloatArray]:
    """Specific force (m/s^2) and rates (rad/s) as the clip's IMU reports them: saturated at
    its ranges and quantised to its LSBs."""
    top_a = 32767 * CLIP_ACC_LSB
    top_g = 32767 * CLIP_GYR_LSB
    a = np.round(np.clip(acc, -top_a, top_a) / CLIP_ACC_LSB) * CLIP_ACC_LSB
    g = np.round(np.clip(gyr, -top_g, top_g) / CLIP_GYR_LSB) * CLIP_GYR_LSB
    return a, g


def clip_imu_samples(seed: int, hours: float) -> tuple[npt.NDArray[np.float64], Simulation]:
    """A random wearer's day as the clip's IMU delivers it: a uniform 208 Hz without jitter,
    quantised to the LSM6DSOX's LSBs at the firmware's ranges. Rows (t, gx, gy, gz, ax, ay,
    az), the layout firmware/sim/replay.py reads."""
    import dataclasses

    rng = np.random.default_rng(seed)
    wearer = dataclasses.replace(Wearer.random(rng), rate_hz=CLIP_IMU_RATE_HZ, jitter=0.0)
    sim = simulate(default_day(rng, hours=hours), wearer, rng, gaps=0)
    acc, gyr = as_clip_reads(sim.acc, sim.gyr)
    return np.column_stack([sim.t, gyr, acc]), sim
