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

import copy
import dataclasses
import math
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt

from . import risk
from .breaks import MOTIONLESS_S, Breaks, Spans, breaks_from_spans, union
from .exercise import ExerciseSet, find_sets
from .orientation import orientation as _orientation
from .orientation import trunk_angles
from .prepare import Prepared, Signals, start_bias
from .recording import Recording, Uniform
from .rotation import Rotation
from .settings import AnalysisSettings as AnalysisSettings  # (public here, as before)
from .slips import (
    Frames,
    Mounting,
    Slip,
    find_slips,
    movements,
    walking_mask,
    wear_off_quiet,
    worn_off,
)
from .stillness import motionless
from .vertical import VerticalTrack, vertical_track
from .windows import (
    moving_max,
    moving_mean,
    moving_std,
    row_norms,
    run_bounds,
    runs,
    sustained,
    widened,
)

FloatArray = npt.NDArray[np.float64]

POSTURES = ("upright", "slouched", "leaning_left", "leaning_right", "reclined", "lying",
            "moving", "lifting", "gap")


GETTING_UP_S = 10.0  # a lift this close to lying down is getting down or up
SET_MARGIN_S = 10.0  # a slip this close to an exercise set is the exercise
MOUNTING_ESTIMATE = True  # re-anchored frames corrected by the tilt filter (slips.Mounting)


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
    slips: list[Slip] = field(default_factory=list)
    exercise_sets: list[ExerciseSet] = field(default_factory=list)
    breaks: Breaks = field(default_factory=lambda: Breaks([], [], 0.0))

    def to_dict(self) -> dict[str, Any]:
        scores, per_hour = risk.scored(self.lifts, self.duration_s)
        return {
            "duration_s": round(self.duration_s, 3),
            "rate_hz": self.rate_hz,
            "slouch_episodes": [round_floats(asdict(e)) for e in self.slouch_episodes],
            "lifts": [round_floats(asdict(x)) | {"risk_score": r}
                      for x, r in zip(self.lifts, scores, strict=True)],
            "lift_risk_per_hour": per_hour,
            "time_in_slouch_s": round(self.time_in_slouch_s, 2),
            "time_in_posture_s": {k: round(v, 2) for k, v in self.time_in_posture_s.items()},
            "lift_count": len(self.lifts),
            "stooped_lifts": sum(x.technique == "stoop" for x in self.lifts),
            "twisted_lifts": sum(x.twisted for x in self.lifts),
            "calibration": round_floats(self.calibration),
            "slips": [{"t_s": round(x.t_s, 3), "kind": x.kind,
                       "turn_deg": round(x.turn_deg, 1),
                       "undone_s": None if x.undone_s is None else round(x.undone_s, 3)}
                      for x in self.slips],
            "exercise_sets": [round_floats(asdict(x)) for x in self.exercise_sets],
            "move_reminders": [{"t_s": round(x, 3)} for x in self.breaks.reminders],
            "breaks": [{"t_s": round(x, 3)} for x in self.breaks.breaks],
            "longest_still_s": round(self.breaks.longest_still_s, 1),
        }


def round_floats(d: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in d.items()}


def orientation(u: Uniform) -> FloatArray:
    """Sensor-to-earth quaternions (w, x, y, z), earth +z up, of every sample: offline VQF on
    pre-integrated steps (postureclip.orientation)."""
    return _orientation(u.gyr, u.acc, u.rate_hz)


def acc_spread(u: Uniform, an: FloatArray | None = None) -> FloatArray:
    """The specific force's norm (``an``, when known) as a spread over 2 s windows, m/s^2:
    what tells moving from still (``moving_acc_std``)."""
    return moving_std(row_norms(u.acc) if an is None else an, max(1, int(2 * u.rate_hz)))


def calibrate(up_sensor: FloatArray) -> Rotation:
    """Smallest rotation taking the neutral up direction (sensor frame) onto trunk +x."""
    v = up_sensor / np.linalg.norm(up_sensor)
    axis = np.cross(v, [1.0, 0.0, 0.0])
    s = np.linalg.norm(axis)
    angle = math.atan2(s, float(v[0]))
    if s < 1e-12:
        return Rotation.identity() if v[0] > 0 else Rotation.from_rotvec([0.0, 0.0, math.pi])
    return Rotation.from_rotvec(axis / s * angle)


def episodes_from_mask(t: FloatArray, flex: FloatArray, mask: npt.NDArray[np.bool_],
                       min_s: float, max_dip_s: float) -> list[SlouchEpisode]:
    """Episodes where ``mask`` holds >= ``min_s``, gaps shorter than ``max_dip_s`` bridged."""
    return episodes_from_runs(slouch_runs(t, flex, mask), min_s, max_dip_s)


#: Runs of a mask (``slouch_runs``): first and last time (s), and the flexion's peak, sum and
#: count over the run: what an episode needs, gathered piece by piece on long recordings.
Runs = tuple[FloatArray, FloatArray, FloatArray, FloatArray, npt.NDArray[np.int_]]


def slouch_runs(t: FloatArray, flex: FloatArray, mask: npt.NDArray[np.bool_]) -> Runs:
    """The True runs of ``mask`` with the flexion's peak, sum and count over each."""
    starts, ends = run_bounds(mask)
    if not len(starts):
        empty = np.zeros(0)
        return empty, empty, empty, empty, np.zeros(0, int)
    inside = flex[mask]
    at = np.concatenate([[0], np.cumsum(ends - starts)[:-1]])
    return (t[starts], t[ends - 1], np.maximum.reduceat(inside, at),
            np.add.reduceat(inside, at), ends - starts)


def episodes_from_runs(runs: Runs, min_s: float, max_dip_s: float) -> list[SlouchEpisode]:
    """Runs closer than ``max_dip_s`` joined; those lasting ``min_s`` are episodes."""
    first, last, peak, total, count = runs
    out: list[SlouchEpisode] = []
    k = 0
    while k < len(first):
        j = k
        while j + 1 < len(first) and first[j + 1] - last[j] <= max_dip_s:
            j += 1
        if last[j] - first[k] >= min_s:
            out.append(SlouchEpisode(float(first[k]), float(last[j]),
                                     float(peak[k:j + 1].max()),
                                     float(total[k:j + 1].sum() / count[k:j + 1].sum())))
        k = j + 1
    return out


def _extend(cond: npt.NDArray[np.bool_], i: int, step: int, limit: int) -> int:
    """Move index ``i`` by ``step`` while ``cond`` holds at the next sample, at most ``limit``
    samples; the result is an exclusive end for step +1 and an inclusive start for step -1."""
    nxt = i - 1 if step < 0 else i
    if not 0 <= nxt < len(cond) or limit <= 0:
        return i
    ahead = cond[nxt:nxt + limit] if step > 0 else cond[max(0, nxt - limit + 1):nxt + 1][::-1]
    k = len(ahead) if ahead.all() else int(np.argmin(ahead))  # the first False
    return i + step * k


def _descent_s(anchor: npt.NDArray[np.bool_], bottom: int, limit: int) -> int:
    """Samples of the movement that led down to ``bottom``: from the still moment before it
    (a pause at the bottom left out). A walk's leftover drift makes a dip too, but in a
    movement as long as the walk; a lift goes down from a standstill in seconds. At most
    ``limit`` + 1."""
    j = _extend(anchor, bottom + 1, -1, limit)  # out of a pause at the bottom
    return j - _extend(~anchor, j, -1, limit + 1)


#: A lift moves the sensor down and up once: its vertical acceleration swings through about
#: four lobes (speed up, slow down, twice). Walking swings twice per step.
_LIFT_MAX_SWINGS = 10


def _swings(a_up: FloatArray, fs: float, hysteresis: float = 0.5) -> int:
    """How often the vertical acceleration (smoothed over 0.1 s) changes sign by more than
    ``hysteresis`` m/s^2 either side."""
    a = moving_mean(a_up, max(1, int(0.1 * fs)))
    level = np.where(a > hysteresis, 1, np.where(a < -hysteresis, -1, 0))
    signs = level[level != 0]
    return int(np.count_nonzero(np.diff(signs)))


def explained_drop_m(s: AnalysisSettings, flexion_deg: float) -> float:
    """How far trunk flexion alone lowers the sensor (hips and knees still): it sits
    ``trunk_length_m`` up the spine from the hip and ``lever_m`` behind it."""
    th = math.radians(min(max(flexion_deg, 0.0), 180.0))
    return s.trunk_length_m * (1.0 - math.cos(th)) - s.lever_m * math.sin(th)


def detect_lifts(u: Uniform, s: AnalysisSettings, track: VerticalTrack, flex: FloatArray,
                 lat: FloatArray, twist_rate: FloatArray, w_dps: FloatArray) -> list[Lift]:
    """Bend-and-return movements between still moments: the sensor dips by at least
    ``lift_drop_m`` and comes back to its level, or the trunk bends beyond
    ``lift_flexion_deg`` and comes back to where it was, within ``lift_max_s``."""
    fs = u.rate_hz
    h = track.h
    win = max(3, int(s.lift_max_s * fs))
    # the level a dip is measured from: the highest still moment nearby. Heights while
    # moving do not count: a walk's leftover drift would open a dip under the standing
    # that follows it, and the lift after that would drown in it
    still_h = np.where(track.anchor, h, -np.inf)
    baseline = moving_max(still_h, win)
    baseline = np.where(np.isfinite(baseline), baseline, moving_max(h, win))
    dip = baseline - h
    in_move = (dip > 0.04) | (flex > s.bent_deg)  # a lift's movement: dipped or bent
    turning = w_dps > 8.0
    lim = int(2 * fs)
    seeds = sorted(runs(dip > s.lift_drop_m) + runs(flex > s.lift_flexion_deg))
    lifts: list[Lift] = []
    for a, _b in seeds:
        # widen to where the movement began and ended, then to where the trunk last/next
        # stood still
        a0 = _extend(turning, _extend(in_move, a, -1, win), -1, lim)
        b0 = _extend(turning, _extend(in_move, a, +1, win), +1, lim)
        dur = (b0 - a0) / fs
        if b0 - a0 < 2 or dur > s.lift_max_s or b0 >= len(h) or not u.valid[a0:b0].all():
            continue
        if lifts and u.t[a0] <= lifts[-1].end_s:
            continue
        level = 0.5 * (h[a0] + h[b0])
        depth = float(level - h[a0:b0].min())
        peak_flex = float(flex[a0:b0].max())
        # bend-and-return: the sensor ends where it began (sitting or lying down does not),
        # or the trunk bent far and straightened to where it was
        dipped = (s.lift_drop_m <= depth <= s.lift_max_drop_m
                  and abs(h[b0] - h[a0]) <= max(0.1, 0.35 * depth)
                  and _descent_s(track.anchor, a0 + int(np.argmin(h[a0:b0])), win) <= win
                  and _swings(track.a_up[a0:b0], fs) <= _LIFT_MAX_SWINGS)
        bent = (peak_flex >= s.lift_flexion_deg
                and abs(flex[b0] - flex[a0]) <= 0.5 * (peak_flex - min(flex[a0], flex[b0])))
        if not (dipped or bent):
            continue
        excess = depth - explained_drop_m(s, peak_flex)
        technique = "squat" if excess >= s.squat_excess_m else "stoop"
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
    return calibrated(u, *start_bias(u, s))


def calibrated(u: Uniform, still: slice, bias: FloatArray) -> Calibration:
    """The calibration of the still stretch ``still`` with gyro ``bias``: the trunk frame
    from the accelerometer's direction there."""
    return Calibration(still, bias, calibrate(u.acc[still].mean(axis=0)))


@dataclass
class Core:
    """Per-sample results of one stretch of signal (see ``analyze_core``)."""

    episodes: list[SlouchEpisode]
    lifts: list[Lift]
    posture: npt.NDArray[np.int8]  # indices into POSTURES
    flex: FloatArray
    lat: FloatArray
    h: FloatArray
    slouch: npt.NDArray[np.bool_]  # the samples that count towards a slouch episode


class TrunkAngles(NamedTuple):
    """The trunk's attitude per sample: earth's up in the trunk frame (N, 3), flexion and
    lateral bend (deg), and the turn rate about the spine (rad/s)."""

    up_t: FloatArray
    flex: FloatArray
    lat: FloatArray
    twist_rate: FloatArray


def trunk_attitude(u: Uniform, up_s: FloatArray, neutral: Rotation,
                   frames: Frames | None = None) -> TrunkAngles:
    """``up_s`` and ``u.gyr`` seen in the trunk frame: ``neutral`` or, with ``frames``, the
    one holding at each sample (as ``analyze_core``)."""
    up_t = np.empty_like(up_s)
    twist_rate = np.empty(len(up_s))
    spans = frames or [(0, neutral)]
    for k, (start, frame) in enumerate(spans):
        stop = spans[k + 1][0] if k + 1 < len(spans) else len(up_s)
        m = frame.as_matrix()
        up_t[start:stop] = up_s[start:stop] @ m.T
        twist_rate[start:stop] = u.gyr[start:stop] @ m[0]  # trunk-frame x (the spine) rate
    flex, lat = trunk_angles(up_t)
    return TrunkAngles(up_t, flex, lat, twist_rate)


def analyze_core(u: Uniform, s: AnalysisSettings, up_s: FloatArray, neutral: Rotation,
                 with_lifts: bool = True, frames: Frames | None = None,
                 track: VerticalTrack | Callable[[], VerticalTrack] | None = None,
                 acc_std: FloatArray | None = None, with_episodes: bool = True,
                 angles: TrunkAngles | None = None) -> Core:
    """Everything after orientation: trunk angles, vertical track, lifts, posture classes and
    slouch episodes. ``u.gyr`` must be bias-corrected; ``up_s`` is earth +z in the sensor frame
    (N, 3), e.g. ``up_in_sensor(q)`` of sensor-to-earth quaternions. The trunk frame is
    ``neutral`` or, with ``frames`` ((first sample, sensor -> trunk) in time order, from
    ``slips.check_by_walking``), the one holding at each sample. ``track`` (``vertical_track``,
    or what waits for it) and ``acc_std`` (the specific force's spread over 2 s) when known.
    ``with_episodes`` False leaves the episodes out (``slouch`` gives them; the Analyzer joins
    its pieces' runs instead). ``angles``: ``trunk_attitude`` of the same, when made already.
    Batch analysis and the live analyzer (postureclip.live) both run this."""
    up_t, flex, lat, twist_rate = angles or trunk_attitude(u, up_s, neutral, frames)
    fs = u.rate_hz
    if not with_lifts:  # orientation only (the clip's quaternion stream): no movement measure
        acc_std = np.zeros(len(u.t))
    elif acc_std is None:
        acc_std = acc_spread(u)
    code = dict(zip(POSTURES, range(len(POSTURES)), strict=True))
    lying = sustained(up_t[:, 0] < math.cos(math.radians(s.lying_deg)), math.ceil(5.0 * fs))
    # getting down to the floor or up from it (an exercise, a nap) is no lift
    near = widened(lying, math.ceil(GETTING_UP_S * fs))
    posture = np.zeros(len(u.t), np.int8)  # upright
    posture[lat > s.lean_deg] = code["leaning_left"]
    posture[lat < -s.lean_deg] = code["leaning_right"]
    posture[flex > s.slouch_deg] = code["slouched"]
    posture[flex < -s.recline_deg] = code["reclined"]
    posture[acc_std > s.moving_acc_std] = code["moving"]
    posture[lying] = code["lying"]
    if with_lifts:  # (the track last: it may still be in the making, postureclip.prepare)
        w_dps = np.degrees(row_norms(u.gyr))
        made = track() if callable(track) else track
        made = made or vertical_track(u, up_s)
        h = made.h
        lifts = detect_lifts(u, s, made, flex, lat, twist_rate, w_dps)
    else:
        h = np.zeros(len(u.t))
        lifts = []
    t0 = u.t[0]
    lifts = [x for x in lifts
             if not near[round((x.start_s - t0) * fs):round((x.end_s - t0) * fs) + 1].any()]
    in_lift = np.zeros(len(u.t), bool)
    for lift in lifts:
        in_lift[round((lift.start_s - t0) * fs):round((lift.end_s - t0) * fs) + 1] = True
    posture[in_lift] = code["lifting"]
    posture[~u.valid] = code["gap"]
    still_enough = acc_std <= s.moving_acc_std
    slouch_mask = (flex > s.slouch_deg) & ~lying & ~in_lift & u.valid & still_enough
    episodes = (episodes_from_mask(u.t, flex, slouch_mask, s.min_episode_s, s.max_dip_s)
                if with_episodes else [])
    return Core(episodes, lifts, posture, flex, lat, h, slouch_mask)


_POSTURE_NAMES = np.array(POSTURES, dtype=object)


def posture_names(codes: npt.NDArray[np.int8]) -> npt.NDArray[np.object_]:
    """Posture codes (indices into POSTURES) as their names."""
    names: npt.NDArray[np.object_] = _POSTURE_NAMES[codes]
    return names


def analyze(rec: Recording | Prepared, settings: AnalysisSettings | None = None,
            parallel: bool = False, keep_series: bool = True) -> Analysis:
    """The whole recording in one piece (``Analyzer``), with its per-sample series unless
    ``keep_series`` is False; ``parallel``: on two cores (``postureclip.prepare``; a
    ``Prepared`` recording brings its own)."""
    s = settings or AnalysisSettings()
    p = rec if isinstance(rec, Prepared) else Prepared(rec, s, parallel)
    u, still, bias = p.grid()
    cal = calibrated(u, still, bias)
    an = Analyzer(s, cal, p.g, p.rate_hz, p.n, keep_series=keep_series)
    an.feed(u, 0, 0, p.n, signals=p)
    return an.finish(p.duration_s)


SeriesSink = Callable[[FloatArray, FloatArray, FloatArray, npt.NDArray[np.object_]], None]


class Analyzer:
    """The analysis of one recording fed in consecutive pieces, each with context around it:
    what spans the recording (the slips' frames and the walking check, the trunk axis the
    slip test follows, episodes, breaks, wear-offs) carries from piece to piece, so the
    result does not depend on where the pieces are cut as long as the context covers what
    the local steps look at (postureclip.chunked, docs/analysis.md).

    ``cal``: the calibration (from the recording's start); ``g``: gravity's level over the
    whole recording (``gravity_level``); ``n``: its samples on the grid at ``rate_hz``.
    ``parallel``: the orientation filter, the vertical track and the motionless mask of each
    piece are made in a forked child (``prepare.Signals``) while this process finds the
    movements: the same result, sooner on two cores."""

    def __init__(self, s: AnalysisSettings, cal: Calibration, g: float, rate_hz: float,
                 n: int, keep_series: bool = False, sink: SeriesSink | None = None,
                 parallel: bool = False) -> None:
        self.s, self.cal, self.g, self.fs, self.n = s, cal, g, rate_hz, n
        self.parallel = parallel
        self.axis0 = cal.neutral.inv().apply([1.0, 0.0, 0.0])  # the spine in the sensor
        self.axis, self.last_slip = self.axis0, 0  # as the slip test follows it
        # (a plain function of the index: the Mounting is copied for each piece, without us)
        self.mounting = Mounting(cal.neutral, 1.0 / rate_hz, lambda i: i / rate_hz,
                                 MOUNTING_ESTIMATE)
        self.lifts: list[Lift] = []
        self.sets: list[ExerciseSet] = []
        self.counts = np.zeros(len(POSTURES), np.int64)
        self.runs: list[Runs] = []
        self.walking: Spans = []
        self.held: Spans = []
        self.motionless: Spans = []
        self.quiet: list[tuple[int, int]] = []  # wear-off runs [a, b), recording indices
        self.sink = sink
        self.series: list[tuple[npt.NDArray[Any], ...]] | None = [] if keep_series else None

    def time_of(self, i: int) -> float:
        """Time of grid sample ``i``, s (``t = index / rate``, as ``to_uniform`` makes it)."""
        return i / self.fs

    def sample_at(self, t: float) -> int:
        """The first grid sample at ``t`` s or later."""
        i = math.ceil(t * self.fs)
        while i > 0 and self.time_of(i - 1) >= t:
            i -= 1
        while self.time_of(i) < t:
            i += 1
        return i

    def feed(self, u: Uniform, ea: int, ca: int, cb: int,
             signals: Signals | None = None) -> None:
        """Grid samples [ea, ea + len(u.t)), gyro bias-corrected; the results of [ca, cb)
        are kept (the rest is context). Pieces come in time order, their [ca, cb) adjoining
        and together covering the recording. ``signals``: the piece's orientation, vertical
        track and motionless mask, when they are being made already (postureclip.prepare)."""
        s = self.s
        eb = ea + len(u.t)
        lo, hi = ca - ea, cb - ea
        signals = signals or Signals(u, self.parallel)
        moved = movements(u)
        acc_std = acc_spread(u, moved.an)
        moving = (acc_std > s.moving_acc_std) & u.valid
        # the motionless mask is the child's last stage; made here if this process would
        # otherwise wait for the orientation (the same mask either way)
        no_motion = None
        if not signals.up_ready():
            signals.motionless_made_elsewhere()
            no_motion = motionless(u)
        up_s = signals.up()
        found = find_slips(u, up_s, self.axis, None, self.g, from_index=lo,
                           not_before=max(0, self.last_slip - ea), wear_off=False, moved=moved)
        found = [dataclasses.replace(x, index=x.index + ea) for x in found]
        for x in found:  # the spine's place in the clip, as the slip test follows it
            if x.index < cb and x.turn is not None:
                self.axis, self.last_slip = x.turn.inv().apply(self.axis), x.index
        walking = walking_mask(u.t, u.acc, up_s, self.g, moving)
        walk_idx = np.flatnonzero(walking) + ea
        start = self.mounting

        def mounted(slips: list[Slip]) -> tuple[Mounting, Core, list[ExerciseSet]]:
            """The frames the slips leave (committed to ``cb``, then on to ``eb`` for the
            context), the angles in them, the sets."""
            m = copy.deepcopy(start)
            m.run(slips, ca, cb, up_s, walk_idx, ea)
            kept = copy.deepcopy(m)
            m.run(slips, cb, eb, up_s, walk_idx, ea)
            first = max(k for k, (i, _) in enumerate(m.frames) if i <= ea)
            frames = [(max(0, i - ea), r) for i, r in m.frames[first:]]
            angles = trunk_attitude(u, up_s, self.cal.neutral, frames)
            # the sets first: the lifts wait for the child's vertical track
            sets = find_sets(u.t, angles.flex, angles.lat)
            core = analyze_core(u, s, up_s, self.cal.neutral, frames=frames,
                                track=signals.track, with_episodes=False,
                                acc_std=acc_std, angles=angles)
            return kept, core, sets

        kept, core, sets = mounted(found)
        # a turn of the clip in an exercise set is the exercise (a bridge turns it about the
        # shoulders, in place), not a slip: without those, the frames and angles once more
        during = [x for x in found if x.turn is not None and any(
            e.start_s - SET_MARGIN_S <= x.t_s <= e.end_s + SET_MARGIN_S for e in sets)]
        if during:
            kept, core, sets = mounted([x for x in found if x not in during])
        self.mounting = kept
        t_a, t_b = self.time_of(ca), self.time_of(cb)
        self.lifts += [x for x in core.lifts if t_a <= x.start_s < t_b]
        self.sets += [x for x in sets if t_a <= x.start_s < t_b]
        lying = core.posture == POSTURES.index("lying")
        in_set = np.zeros(len(u.t), bool)
        for e in sets:
            in_set[np.searchsorted(u.t, e.start_s):np.searchsorted(u.t, e.end_s, "right")] = True
        part = slice(lo, hi)
        self.counts += np.bincount(core.posture[part], minlength=len(POSTURES))
        self.runs.append(slouch_runs(u.t[part], core.flex[part], core.slouch[part]))
        # off the body: lying without any motion, not even breathing (the wear-off test's)
        if no_motion is None:
            no_motion = signals.motionless()
        for spans, mask in ((self.walking, walking & ~lying), (self.held, lying | in_set),
                            (self.motionless, no_motion & ~moving & lying)):
            a, b = run_bounds(mask[part])
            spans += [(self.time_of(i), self.time_of(j)) for i, j in zip(
                (a + ca).tolist(), (b + ca).tolist(), strict=True)]
        a, b = run_bounds(wear_off_quiet(u, up_s, self.axis0, no_motion)[part])
        self.quiet += list(zip((a + ca).tolist(), (b + ca).tolist(), strict=True))
        if self.sink is None and self.series is None:
            return
        names = posture_names(core.posture[part])
        if self.sink is not None:
            self.sink(u.t[part], core.flex[part], core.lat[part], names)
        if self.series is not None:
            self.series.append((u.t[part], core.flex[part], core.lat[part], names,
                                core.h[part]))

    def finish(self, duration_s: float) -> Analysis:
        """The analysis of everything fed; ``duration_s``: the recording's span."""
        s, fs = self.s, self.fs
        first, last, peak, total, count = zip(*self.runs, strict=True)
        joined = (np.concatenate(first), np.concatenate(last), np.concatenate(peak),
                  np.concatenate(total), np.concatenate(count))
        episodes = episodes_from_runs(joined, s.min_episode_s, s.max_dip_s)
        quiet = union(self.quiet)
        slips = self.mounting.slips + worn_off(np.array([a for a, _ in quiet], np.intp),
                                               np.array([b for _, b in quiet], np.intp),
                                               fs, self.time_of)
        motionless_spans = union(self.motionless)
        # from the first sample at which it has held MOTIONLESS_S
        off = [(a, b) for a, b in ((self.time_of(self.sample_at(a0 + MOTIONLESS_S)), b0)
                                   for a0, b0 in motionless_spans) if a < b]
        walking = union(self.walking)
        sets = self.sets
        breaks = breaks_from_spans(0.0, self.time_of(self.n), walking,
                                   union(self.held, walking, off), off,
                                   [(x.start_s, x.end_s) for x in sets], s.move_after_min * 60.0)
        cal = self.cal
        still = cal.still
        series: dict[str, Any] = {}
        if self.series:
            cols = [np.concatenate([p[k] for p in self.series]) for k in range(5)]
            series = dict(zip(("t", "flexion_deg", "lateral_deg", "posture", "height_m"), cols,
                              strict=True))
        return Analysis(
            duration_s=duration_s,
            rate_hz=fs,
            slouch_episodes=episodes,
            lifts=self.lifts,
            time_in_slouch_s=float(sum(e.end_s - e.start_s for e in episodes)),
            time_in_posture_s={p: float(self.counts[i]) / fs for i, p in enumerate(POSTURES)},
            calibration={"start_s": self.time_of(still.start),
                         "end_s": self.time_of(still.stop - 1),
                         "mount_tilt_deg": float(np.degrees(cal.neutral.magnitude())),
                         "gyro_bias_x": float(cal.bias[0]), "gyro_bias_y": float(cal.bias[1]),
                         "gyro_bias_z": float(cal.bias[2])},
            series=series,
            slips=sorted(slips, key=lambda x: x.t_s),
            exercise_sets=sets,
            breaks=breaks,
        )

