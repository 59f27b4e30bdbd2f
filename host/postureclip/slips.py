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

import dataclasses
import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .orientation import gyro_increments, qmul, rotate_inverse, trunk_angles, up_in_trunk
from .recording import Uniform
from .rotation import Rotation
from .stillness import WEAR_OFF_GYR as WEAR_OFF_GYR  # (the wear-off rule's, kept there)
from .stillness import motionless as motionless
from .windows import (
    axis_total,
    moving_mean,
    moving_median,
    moving_variance,
    row_norms,
    run_bounds,
)

FloatArray = npt.NDArray[np.float64]

SLIP_MIN_DEG = 10.0
EVENT_MAX_S = 3.0
STILL_GYR = 0.1  # rad/s, bias-corrected
STILL_ACC = 0.6  # m/s^2 from gravity (the clip's learnt gravity; here: the local level, as
# an accelerometer's offsets and sensitivity make gravity read differently in each posture)
STILL_S = 0.6
ANCHOR_GYR = 0.02  # rad/s: truly still - the integration starts from the last such moment,
ANCHOR_ACC = 0.3  # m/s^2 ...so the slow start of a movement is not lost
ANCHOR_S = 0.2  # the accelerometer's residual is read over this long at both still ends
ANCHOR_ALPHA = 0.2  # rad/s^2: not even beginning to turn (a turn from rest starts with its
# largest angular acceleration while its rate is still under ANCHOR_GYR)
LEVER_M = 0.43
LEVER_RATIO = 0.35  # travelled less than this share of a trunk turn's travel: a slip
MIN_TRAVEL_M = 0.08  # ...and what a trunk turn under ~11 deg moves it is within the errors
WEAR_OFF_S = 900.0
WEAR_OFF_COS = 0.5


WALK_CHECK_S = 10.0  # the clip's walking check and pull (clip/pipeline.py)
WALK_MARGIN_DEG = 4.0
WALK_KNOWN_S = 20.0
WALK_TAU_S = 120.0
PULL_GAIN = WALK_CHECK_S / 300.0  # the clip's: averaged over 5 min of walking
PULL_MAX_DEG = 2.0
# The host's correction of re-anchored frames (``Mounting(estimate=True)``): a Kalman filter
# on the walking tilt, per axis. Assumptions, not fits:
WALK_SPREAD_DEG = 2.5  # the trunk's mean tilt differs from one walk to the next (speed,
# load, slope): a few degrees either way
TURN_ERROR_DEG = 0.6  # a slip's measured turn is off by this much per axis: 3 % gyro
# sensitivity (the datasheets' figure) of a 20 deg turn, the middle of 10-30
UPRIGHT_SPREAD_DEG = 5.0  # the walking tilt before any walk: the calibration's upright
SURPRISE_SIGMAS = 3.0  # a walk this far from the expected tilt: the clip moved unseen
BOUT_GAP_S = 2.0  # walking this close together is one walk
BOUT_MIN_S = 5.0  # shorter walking (a few steps) is not measured


@dataclass(frozen=True)
class Slip:
    """A change of mounting at ``t_s``: ``kind`` "slip" (re-anchored by ``turn``, the new
    sensor frame's orientation in the old one's) or "worn_off" (off the body: stale).
    ``undone_s``: when the next walk contradicted the re-anchoring (then it does not apply)."""

    t_s: float
    kind: str
    turn_deg: float
    index: int  # the sample from which the new mounting holds
    turn: Rotation | None = None
    undone_s: float | None = None


Frames = list[tuple[int, Rotation]]


def check_by_walking(slips: list[Slip], t: FloatArray, up_s: FloatArray, walking:
                     npt.NDArray[np.bool_], neutral: Rotation) -> tuple[list[Slip], Frames]:
    """The clip's walking check and pull (docs/firmware.md, Slips steps 5 and 6) over a whole
    recording: ``Mounting`` fed everything at once.

    Returns the slips (``undone_s`` set where undone) and the trunk frame through the
    recording: (first sample, sensor -> trunk rotation) pairs in time order."""
    dt = float(np.median(np.diff(t))) if len(t) > 1 else 1.0
    m = Mounting(neutral, dt, lambda i: float(t[i]))
    m.run(slips, 0, len(t), up_s, np.flatnonzero(walking))
    return m.slips, m.frames


@dataclass
class _Check:
    """A re-anchoring waiting for its first WALK_CHECK_S of walking."""

    slip: int  # its place in ``Mounting.slips``
    before: Rotation
    before_provisional: bool
    reference: FloatArray
    known: bool
    walked: list[FloatArray]  # up vectors (M, 3) of the walking so far
    walked_idx: list[npt.NDArray[np.intp]]  # and their samples
    undone_tilt: _TiltFilter  # the tilt filter as it would be without this re-anchoring
    count: int = 0


class Mounting:
    """The trunk frame as the walking check goes through a recording, in time order: the
    state carries from one stretch of samples to the next (``run``), so a recording can be
    fed whole or in consecutive pieces with the same result.

    People walk upright: the trunk's mean tilt while walking, learnt in the calibration's
    frame (the last WALK_TAU_S of it; the calibration's upright until WALK_KNOWN_S of walking,
    with twice the margin), is the wearer's own. Over the first WALK_CHECK_S of walking after a
    re-anchoring the tilt is measured in the new and the old frame; a re-anchoring the old
    frame explains better is undone (if the next slip comes first, the walk weighs the mounting
    with both re-anchorings against the mounting with only the later one). A re-anchored
    frame is provisional: every WALK_CHECK_S of walking turns it PULL_GAIN of the way towards
    the learnt walking tilt. ``frames``: (first sample, sensor -> trunk) in time order;
    ``slips``: the slips so far, ``undone_s`` set where undone."""

    def __init__(self, neutral: Rotation, dt: float, time_of: Callable[[int], float],
                 estimate: bool = False) -> None:
        self.neutral, self.dt, self.time_of = neutral, dt, time_of
        self.n_check = max(1, round(WALK_CHECK_S / dt))
        self.n_ref = max(1, round(WALK_TAU_S / dt))
        self.frame, self.provisional = neutral, False
        self.frames: Frames = [(0, neutral)]
        self.slips: list[Slip] = []
        self.learnt = np.zeros((0, 3))  # walking up vectors in the calibration's frame
        self.pending = np.zeros((0, 3))  # walked since a pull
        self.check: _Check | None = None
        self.estimate = estimate
        self.tilt = _TiltFilter()
        self.bout = np.zeros(3)  # the open walk: sum of its up vectors, count, last sample
        self.bout_n, self.bout_last = 0, -1
        self.n_gap = max(1, round(BOUT_GAP_S / dt))
        self.n_bout = max(1, round(BOUT_MIN_S / dt))

    def run(self, slips: list[Slip], a: int, b: int, up_s: FloatArray,
            walk_idx: npt.NDArray[np.intp], offset: int = 0) -> None:
        """Samples [a, b) (recording indices): ``slips`` (those in the range are taken, in
        order), ``walk_idx`` the walking samples' indices (sorted), ``up_s`` earth +z in the
        sensor frame of samples ``offset`` onward."""
        walk_idx = walk_idx[(walk_idx >= a) & (walk_idx < b)]
        pos = 0
        for slip in slips:
            if not a <= slip.index < b:
                continue
            if slip.turn is None:
                self.slips.append(slip)
                continue
            cut = int(np.searchsorted(walk_idx, slip.index))
            self._walk(walk_idx[pos:cut], up_s[walk_idx[pos:cut] - offset])
            pos = cut
            self._end_bout()
            self._slip(slip)
        self._walk(walk_idx[pos:], up_s[walk_idx[pos:] - offset])
        if self.bout_n and b - 1 - self.bout_last > self.n_gap:
            self._end_bout()  # (the frame changes where the walk ended, whenever it is seen)

    def _set(self, index: int, frame: Rotation, provisional: bool) -> None:
        self.frame, self.provisional = frame, provisional
        self.frames.append((index, frame))
        self.pending = np.zeros((0, 3))

    def _slip(self, slip: Slip) -> None:
        assert slip.turn is not None
        c = self.check
        if c is None:
            ref, known = self.reference()
            self.check = _Check(len(self.slips), self.frame, self.provisional, ref, known, [],
                                [], self.tilt)
        else:  # the last re-anchoring is still unchecked: the walk weighs the mounting with
            # both against the mounting with only this one (a false slip cannot hide behind a
            # true one), as the clip does
            self.check = _Check(c.slip, c.before * slip.turn, c.before_provisional,
                                c.reference, c.known, [], [], c.undone_tilt.turned())
        self.slips.append(slip)
        self._set(slip.index, self.frame * slip.turn, True)
        self.tilt = self.tilt.turned()

    def _walk(self, idx: npt.NDArray[np.intp], up: FloatArray) -> None:
        c = self.check
        if c is not None and len(idx):
            take = min(len(idx), self.n_check - c.count)
            c.walked.append(up[:take])
            c.walked_idx.append(idx[:take])
            c.count += take
            if c.count == self.n_check:
                self._judge(c, int(idx[take - 1]))
            idx, up = idx[take:], up[take:]
        if not len(idx):
            return
        if not self.provisional:
            self.learnt = np.concatenate([self.learnt, up])[-self.n_ref:]
        if self.estimate:
            self._walked(idx, up)
            return
        if not self.provisional:
            return
        # pending holds fewer than n_check samples, so every window ends inside ``idx``
        held = len(self.pending)
        rest = np.concatenate([self.pending, up])
        done = self.n_check
        while done <= len(rest):
            self._pull(rest[done - self.n_check:done], int(idx[done - 1 - held]))
            done += self.n_check
        done -= self.n_check
        self.pending = rest[done:]

    def _judge(self, c: _Check, last: int) -> None:
        self.check = None
        up = np.concatenate(c.walked)
        new = np.linalg.norm(_tilt(self.frame, up).mean(axis=0) - c.reference)
        old = np.linalg.norm(_tilt(c.before, up).mean(axis=0) - c.reference)
        margin = WALK_MARGIN_DEG if c.known else 2.0 * WALK_MARGIN_DEG
        if old + margin < new:
            self.slips[c.slip] = dataclasses.replace(self.slips[c.slip],
                                                     undone_s=self.time_of(last))
            self._set(last + 1, c.before, c.before_provisional)
            self.tilt = c.undone_tilt
        elif not self.estimate:
            self._pull(up, last)
        if self.estimate:  # the check's walking is part of a walk like any other
            self._walked(np.concatenate(c.walked_idx), up)

    def _walked(self, idx: npt.NDArray[np.intp], up: FloatArray) -> None:
        """Walking samples (indices, up vectors) into walks; a walk ends at a gap."""
        cuts = np.flatnonzero(np.diff(idx) > self.n_gap) + 1
        for k, (a, b) in enumerate(zip([0, *cuts.tolist()], [*cuts.tolist(), len(idx)],
                                       strict=True)):
            if k or (self.bout_n and idx[0] - self.bout_last > self.n_gap):
                self._end_bout()
            self.bout += up[a:b].sum(axis=0)
            self.bout_n += b - a
            self.bout_last = int(idx[b - 1])

    def _end_bout(self) -> None:
        """A walk has ended: its mean tilt updates the filter, and the frame takes the
        filter's estimate of its own error out from the sample after the walk."""
        n, last, total = self.bout_n, self.bout_last, self.bout
        self.bout, self.bout_n = np.zeros(3), 0
        if n < self.n_bout:
            return
        seen = _tilt(self.frame, total[None, :] / n)[0]
        self.tilt, error = self.tilt.walked(seen)
        if not np.any(error):
            return
        m = up_in_trunk(*seen[:, None])[0]
        r = up_in_trunk(*(seen - error)[:, None])[0]
        axis = np.cross(m, r)
        sin = float(np.linalg.norm(axis))
        if sin > 1e-9:
            self._set(last + 1, Rotation.from_rotvec(axis / sin * math.atan2(sin, float(m @ r)))
                      * self.frame, self.provisional)

    def reference(self) -> tuple[FloatArray, bool]:
        """The learnt walking tilt (flexion, lateral) and whether there is enough of it."""
        if len(self.learnt) * self.dt < WALK_KNOWN_S:
            return np.zeros(2), False
        return _tilt(self.neutral, self.learnt).mean(axis=0), True

    def _pull(self, window: FloatArray, last: int) -> None:
        """Turn the frame PULL_GAIN of the way from the window's mean tilt (up vectors, the
        last at sample ``last``) to the learnt."""
        ref, known = self.reference()
        if not known:
            return
        m = up_in_trunk(*_tilt(self.frame, window).mean(axis=0)[:, None])[0]
        r = up_in_trunk(*ref[:, None])[0]
        axis = np.cross(m, r)
        sin = float(np.linalg.norm(axis))
        if sin < 1e-6:
            return
        angle = min(PULL_GAIN * math.atan2(sin, float(m @ r)), math.radians(PULL_MAX_DEG))
        self._set(last + 1, Rotation.from_rotvec(axis / sin * angle) * self.frame, True)


@dataclass(frozen=True)
class _TiltFilter:
    """Kalman filter, per axis (flexion, lateral; degrees), of the wearer's walking tilt
    ``mean`` and the current frame's error ``error`` (what the frame adds to every tilt it
    measures), with covariances ``p`` (2, 2, 2). A walk measures their sum give or take
    WALK_SPREAD_DEG; a slip adds TURN_ERROR_DEG of variance to the error. In the calibration's
    frame the error is 0 exactly: walks there learn the mean only."""

    mean: FloatArray = dataclasses.field(default_factory=lambda: np.zeros(2))
    p: FloatArray = dataclasses.field(default_factory=lambda: np.array(
        [[[UPRIGHT_SPREAD_DEG ** 2, 0.0], [0.0, 0.0]]] * 2))

    def turned(self) -> _TiltFilter:
        """After a re-anchoring: the frame's error (taken out so far) is less certain."""
        p = self.p.copy()
        p[:, 1, 1] += TURN_ERROR_DEG ** 2
        return _TiltFilter(self.mean, p)

    def walked(self, seen: FloatArray) -> tuple[_TiltFilter, FloatArray]:
        """A walk's mean tilt ``seen`` (flexion, lateral) in the current frame: the filter
        after it, and the frame's estimated error (which the caller takes out)."""
        p = self.p.copy()
        innovation = seen - self.mean  # the error is taken out after each walk: 0 before
        s = p[:, 0, 0] + 2.0 * p[:, 0, 1] + p[:, 1, 1] + WALK_SPREAD_DEG ** 2
        # a walk far beyond what the filter expects in a re-anchored frame: the clip moved
        # unseen (a slip the test missed), by about what is left over. (The calibration's
        # frame stays the reference: a walk unlike the others does not move it.)
        surprise = (innovation ** 2 > (SURPRISE_SIGMAS ** 2) * s) & (p[:, 1, 1] > 0.0)
        p[:, 1, 1] += np.where(surprise, innovation ** 2 - s, 0.0)
        s = p[:, 0, 0] + 2.0 * p[:, 0, 1] + p[:, 1, 1] + WALK_SPREAD_DEG ** 2
        gain = np.stack([p[:, 0, 0] + p[:, 0, 1], p[:, 0, 1] + p[:, 1, 1]], axis=1) / s[:, None]
        mean = self.mean + gain[:, 0] * innovation
        error = gain[:, 1] * innovation
        h = np.ones(2)
        p_new = p - np.einsum("ai,aj->aij", gain, np.einsum("j,ajk->ak", h, p))
        return _TiltFilter(mean, p_new), error


def walking_mask(t: FloatArray, acc: FloatArray, up_s: FloatArray, g: float,
                 moving: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Moving with a step rhythm, as the clip tells it (clip/pipeline.py): the vertical
    specific force swings past +-0.5 m/s^2 about gravity, three swings within 2 s. ``t``:
    the uniform grid's times (s)."""
    d = np.einsum("ij,ij->i", acc, up_s) - g
    sign = np.where(d > 0.5, 1, np.where(d < -0.5, -1, 0))
    idx = np.where(sign != 0, np.arange(len(sign)), 0)
    held = sign[np.maximum.accumulate(idx)]  # the last swing's side, carried on
    swing = np.zeros(len(t))
    swing[1:] = (held[1:] != held[:-1]) & (held[1:] != 0)
    dt = float(t[-1] - t[0]) / (len(t) - 1) if len(t) > 1 else 1.0  # (the grid's step)
    n = max(1, round(2.0 / dt))
    count = moving_mean(swing, n, origin=(n - 1) // 2) * n  # swings in the 2 s before
    out: npt.NDArray[np.bool_] = moving & (count >= 2.5)
    return out


def _tilt(frame: Rotation, up_s: FloatArray) -> FloatArray:
    """(flexion, lateral) in degrees of sensor-frame up vectors in the trunk ``frame``."""
    return np.column_stack(trunk_angles(up_s @ frame.as_matrix().T))


_CONJUGATE = np.array([1.0, -1.0, -1.0, -1.0])[:, None]


def _rotate(q: FloatArray, v: FloatArray) -> FloatArray:
    """v (M, 3) rotated by unit quaternions q (4, M), component-first: q v q*."""
    out: FloatArray = rotate_inverse(q * _CONJUGATE, v.T).T
    return out


@dataclass(frozen=True)
class Movements:
    """What the slip test needs that does not depend on orientation (``movements``): the
    recording with its gyro's rest offset taken out, the specific force's norm, and the
    movements between still stretches that are short enough to be slips, each from its
    anchor ``i0`` (the last truly still moment before it) to ``i1`` (where the clip has
    settled after it), with ``tail`` the samples over which the residual is read."""

    u: Uniform
    an: FloatArray
    i0: npt.NDArray[np.intp]
    i1: npt.NDArray[np.intp]
    tail: int


def movements(u: Uniform) -> Movements:
    """The still stretches of ``u`` (gyro bias-corrected) and the short movements between
    them, from the last truly still moment before each to the end of its settling."""
    fs = u.rate_hz
    dt = 1.0 / fs
    an = row_norms(u.acc)
    # how far the specific force is from what gravity reads around it (a movement's sign)
    off_level = np.abs(an - _still_level(an, fs))
    offset = _rest_offset(u, off_level)
    u = Uniform(u.t, u.acc, np.subtract(u.gyr, offset, out=offset), u.valid, u.rate_hz)
    w = row_norms(u.gyr)
    resting = (w < STILL_GYR) & (off_level < STILL_ACC) & u.valid
    starts, ends = run_bounds(resting)
    need = max(1, math.ceil(STILL_S * fs))
    keep = ends - starts >= need
    starts, ends = starts[keep], ends[keep]
    tail = max(1, round(ANCHOR_S * fs))
    none = np.zeros(0, np.intp)
    if len(starts) < 2:
        return Movements(u, an, none, none, tail)
    # a movement between two still stretches, short enough, that tilted the clip; it is
    # integrated from the last truly still moment before it
    k = max(1, round(0.1 * fs))  # the angular acceleration over 0.1 s means of the gyro
    turn = np.zeros(len(w))
    change2 = axis_total(u.gyr, lambda column: _squared_change(moving_mean(column, k), k))
    turn[k:] = np.sqrt(change2) / (k * dt)
    anchors = np.flatnonzero((w < ANCHOR_GYR) & (off_level < ANCHOR_ACC)
                             & (turn < ANCHOR_ALPHA) & u.valid)
    if not anchors.size:
        return Movements(u, an, none, none, tail)
    last = np.searchsorted(anchors, ends[:-1] - 1, side="right") - 1
    anchor = anchors[np.maximum(last, 0)]
    # the anchor in the still stretch before, and close to its end (a drift of the
    # integration over longer is more than the travel to be measured)
    ok = (last >= 0) & (anchor >= starts[:-1]) & ((ends[:-1] - 1 - anchor) * dt <= 1.0)
    i0 = anchor
    # after it: still for STILL_S, then truly still for ANCHOR_S (the residual is read
    # there, when the movement has died away): the clip judges at the end of that
    after = np.searchsorted(anchors, starts[1:] + need - 1)
    settled = anchors[np.minimum(after, anchors.size - 1)]
    i1 = settled + tail - 1
    # the anchor run must last ``tail`` samples inside the still stretch
    held = np.searchsorted(anchors, i1, side="right") - after == tail
    short = (((starts[1:] - ends[:-1]) * dt <= EVENT_MAX_S) & (after < anchors.size)
             & held & (i1 < ends[1:]) & ok & ((i1 - i0) * dt <= EVENT_MAX_S + 2.0))
    return Movements(u, an, i0[short], i1[short], tail)


def find_slips(u: Uniform, up_s: FloatArray, trunk_axis: FloatArray,
               still: npt.NDArray[np.bool_] | None = None, g: float | None = None,
               from_index: int = 0, not_before: int = 0, wear_off: bool = True,
               moved: Movements | None = None) -> list[Slip]:
    """Slips and wear-offs in ``u`` (gyro bias-corrected); ``up_s``: earth +z in the sensor
    frame per sample; ``trunk_axis``: the spine's direction in the sensor frame (neutral up)
    at the start; ``still``: ``motionless(u)``, when known; ``g``: what gravity reads (default:
    the median specific force); ``moved``: ``movements(u)``, when known. Slips are judged in
    time order, the trunk axis following each one. For a piece of a longer recording: only
    slips that settle at ``from_index`` or later and start at ``not_before`` (the last slip
    before the piece) or later; ``wear_off`` False leaves wear-offs out (they are then found
    on the whole, ``wear_off_runs``)."""
    mv = moved or movements(u)
    if g is None:
        g = float(np.median(mv.an[u.valid])) if u.valid.any() else 9.81
    i0, i1 = mv.i0, mv.i1
    out: list[Slip] = []
    cos_tilt = np.einsum("ij,ij->i", up_s[i0], up_s[i1])
    tilted = cos_tilt < math.cos(math.radians(SLIP_MIN_DEG))
    cand = np.flatnonzero(tilted & (i1 >= from_index) & (i0 >= not_before))
    axis = np.asarray(trunk_axis, float)
    while cand.size:  # in time order: after a slip the spine lies elsewhere in the clip
        found = _judge(mv.u, up_s, g, i0[cand], i1[cand], mv.tail, axis)
        if not found:
            break
        first = found[0]
        out.append(first)
        assert first.turn is not None
        axis = first.turn.inv().apply(axis)
        cand = cand[i0[cand] >= first.index]
    if wear_off:
        out += _worn_off(u, up_s, trunk_axis, still)
    return sorted(out, key=lambda s: s.t_s)


def _still_level(an: FloatArray, fs: float) -> FloatArray:
    """What gravity reads as around each sample: the median specific force over the 2 s
    around it (movement shows as a departure from it)."""
    step = max(1, round(fs / 10.0))  # the median at 10 Hz, then held: cheap on long records
    coarse = moving_median(an[::step], 21)
    out: FloatArray = np.repeat(coarse, step)[:len(an)]
    return out


def _rest_offset(u: Uniform, off_level: FloatArray) -> FloatArray:
    """The gyro's zero-rate offset through the recording (N, 3): the mean reading of every
    still stretch, interpolated between them. The clip relearns its offset whenever it rests;
    a warming MPU-6050's drifts by degrees per second, more than a still test allows.
    ``off_level``: the specific force's distance from its still level (``_still_level``)."""
    n = max(2, round(STILL_S * u.rate_hz))
    spread2 = axis_total(u.gyr, lambda column: moving_variance(column, n))
    quiet = (spread2 < (0.5 * STILL_GYR) ** 2) & (off_level < STILL_ACC) & u.valid
    starts, ends = run_bounds(quiet)
    keep = ends - starts >= n
    if not keep.any():
        return np.zeros_like(u.gyr)
    starts, ends = starts[keep], ends[keep]
    centres = (starts + ends) // 2
    idx = np.arange(len(u.t), dtype=float)
    out = np.empty_like(u.gyr)
    cs = np.empty(len(u.gyr) + 1)
    cs[0] = 0.0
    for k in range(3):  # (an axis at a time: no (N, 3) temporaries)
        np.cumsum(u.gyr[:, k], out=cs[1:])
        out[:, k] = np.interp(idx, centres, (cs[ends] - cs[starts]) / (ends - starts))
    return out


def _squared_change(x: FloatArray, k: int) -> FloatArray:
    """``(x[k:] - x[:-k]) ** 2``."""
    d = x[k:] - x[:-k]
    d *= d
    return d


def _judge(u: Uniform, up_s: FloatArray, g: float, i0: npt.NDArray[np.intp],
           i1: npt.NDArray[np.intp], tail: int, trunk_axis: FloatArray) -> list[Slip]:
    """The candidates' movements integrated side by side, one sample index at a time.

    The linear acceleration's error is taken as growing with the turn: zero-rate and
    sensitivity errors of the gyro tilt the integrated gravity, sensitivity errors of the
    accelerometer change its reading of gravity, both in proportion to how far the clip has
    turned. It is measured at both still ends (``e0``, ``e1``) and taken off in proportion
    to the turn so far; what remains of the velocity at the end is then forced to zero."""
    dt = 1.0 / u.rate_hz
    m = len(i0)
    q = np.zeros((4, m))  # sensor now -> sensor at i0, component-first
    q[0] = 1.0
    v = np.zeros((m, 3))
    p = np.zeros((m, 3))
    va = np.zeros(m)  # the integrals of the turn angle so far, once and twice
    pa = np.zeros(m)
    gravity = g * up_s[i0]  # earth +z in the frame of the sensor at i0
    span = i1 - i0
    e0 = np.stack([u.acc[max(0, a - tail + 1):a + 1].mean(axis=0) for a in i0]) - gravity
    e1 = np.zeros((m, 3))
    for k in range(1, int(span.max()) + 1):
        live = k <= span
        idx = np.minimum(i0 + k, len(u.t) - 1)
        q = np.where(live, qmul(q, gyro_increments(u.gyr[idx].T, dt)), q)
        lin = _rotate(q, u.acc[idx]) - gravity
        angle = 2.0 * np.arccos(np.clip(np.abs(q[0]), 0.0, 1.0))
        p = np.where(live[:, None], p + (v + 0.5 * lin * dt) * dt, p)
        v = np.where(live[:, None], v + lin * dt, v)
        pa = np.where(live, pa + (va + 0.5 * angle * dt) * dt, pa)
        va = np.where(live, va + angle * dt, va)
        e1 += np.where((live & (k > span - tail))[:, None], lin, 0.0)
    e1 /= np.minimum(tail, span)[:, None]
    total = 2.0 * np.arccos(np.clip(np.abs(q[0]), 0.0, 1.0))
    t_end = span * dt
    vf = (va / np.maximum(total, 1e-9))[:, None]  # the turn's share, integrated
    pf = (pa / np.maximum(total, 1e-9))[:, None]
    v = v - e0 * (t_end[:, None] - vf) - e1 * vf
    p = p - e0 * (0.5 * t_end[:, None] ** 2 - pf) - e1 * pf
    p = p - v * (0.5 * t_end)[:, None]
    travel = np.sqrt(np.einsum("ij,ij->i", p, p))
    axis = np.tile(trunk_axis, (m, 1))
    trunk_travel = LEVER_M * np.linalg.norm(_rotate(q, axis) - axis, axis=1)
    slipped = (trunk_travel >= MIN_TRAVEL_M) & (travel <= LEVER_RATIO * trunk_travel)
    out = []
    for c in np.flatnonzero(slipped):
        turn = Rotation.from_quat(np.roll(q[:, c], -1))  # scipy's order: x, y, z, w
        tilt = math.degrees(math.acos(float(np.clip(up_s[i0[c]] @ up_s[i1[c]], -1.0, 1.0))))
        out.append(Slip(float(u.t[i1[c]]), "slip", tilt, int(i1[c]), turn))
    return out


def _worn_off(u: Uniform, up_s: FloatArray, trunk_axis: FloatArray,
              still: npt.NDArray[np.bool_] | None) -> list[Slip]:
    """No motion at all for WEAR_OFF_S with the spine's axis lying down."""
    starts, ends = run_bounds(wear_off_quiet(u, up_s, trunk_axis, still))
    return worn_off(starts, ends, u.rate_hz, lambda i: float(u.t[i]))


def wear_off_quiet(u: Uniform, up_s: FloatArray, trunk_axis: FloatArray,
                   still: npt.NDArray[np.bool_] | None = None) -> npt.NDArray[np.bool_]:
    """Per sample: no motion at all (``motionless``) with the spine's axis (at the start of
    the recording) lying down."""
    quiet: npt.NDArray[np.bool_] = ((motionless(u) if still is None else still)
                                    & (up_s @ trunk_axis < WEAR_OFF_COS))
    return quiet


def worn_off(starts: npt.NDArray[np.intp], ends: npt.NDArray[np.intp], rate_hz: float,
             time_of: Callable[[int], float]) -> list[Slip]:
    """Wear-offs from the runs [start, end) of ``wear_off_quiet``: each that lasts
    WEAR_OFF_S, at the moment it has."""
    n = math.ceil(WEAR_OFF_S * rate_hz)
    return [Slip(time_of(int(s + n - 1)), "worn_off", 0.0, int(s + n - 1))
            for s, e in zip(starts, ends, strict=True) if e - s >= n]
