# The pipeline on synthesised IMU samples: slips of the clip on the back, wear-off, the
# activity behind a held buzz, quiet hours. MicroPython and CPython.
import math

from test_fw_coaching import Recorder

from clip import protocol as P
from clip import settings as S
from clip.pipeline import Pipeline

RATE = 104.0
DT = 1.0 / RATE
G = 9.81
TRUNK_M = 0.43


def axis_angle(k, a):
    h = 0.5 * a
    s = math.sin(h)
    return (math.cos(h), k[0] * s, k[1] * s, k[2] * s)


def qmul(a, b):
    aw, ax, ay, az = a
    bw, bx, by, bz = b
    return (aw * bw - ax * bx - ay * by - az * bz, aw * bx + ax * bw + ay * bz - az * by,
            aw * by - ax * bz + ay * bw + az * bx, aw * bz + ax * by - ay * bx + az * bw)


def qrot(q, v):
    w, x, y, z = q
    tx, ty, tz = 2 * (y * v[2] - z * v[1]), 2 * (z * v[0] - x * v[2]), 2 * (x * v[1] - y * v[0])
    return (v[0] + w * tx + y * tz - z * ty, v[1] + w * ty + z * tx - x * tz,
            v[2] + w * tz + x * ty - y * tx)


def conj(q):
    return (q[0], -q[1], -q[2], -q[3])


class Body:
    """A trunk pivoting at the hip (origin) with the clip TRUNK_M up it; ``trunk`` and
    ``mount`` are quaternions (trunk -> world, sensor -> trunk). The trunk frame: +x up the
    spine, +z forward (as the firmware's neutral frame)."""

    def __init__(self, pipeline):
        self.p = pipeline
        self.t = 0.0
        self.trunk = axis_angle((0.0, 1.0, 0.0), -math.pi / 2)  # trunk +x onto world +z
        self.mount = (1.0, 0.0, 0.0, 0.0)
        self.patterns = []

    def position(self, trunk):
        return qrot(trunk, (TRUNK_M, 0.0, 0.0))

    def hold(self, seconds, dt=DT, breathe_deg=0.0):
        """Hold the posture (breathing: the trunk rocks ``breathe_deg`` at 0.25 Hz)."""
        def q(t):
            wob = math.radians(breathe_deg) * math.sin(2 * math.pi * 0.25 * t)
            return qmul(qmul(axis_angle((0.0, 1.0, 0.0), wob), self.trunk), self.mount)

        for _ in range(round(seconds / dt)):
            self._feed(q(self.t), q(self.t + dt), (0.0, 0.0, 0.0), dt)

    def walk(self, seconds):
        """Walk in the posture held: the hips bounce 2.5 cm at 1.8 Hz."""
        q = qmul(self.trunk, self.mount)
        w = 2 * math.pi * 1.8
        for _ in range(round(seconds / DT)):
            bounce = -0.025 * w * w * math.cos(w * (self.t + DT))
            self._feed(q, q, (0.0, 0.0, bounce), DT)

    def shake(self, seconds):
        """Rock forward and back without steps (braking and speeding up in a vehicle):
        2 m/s^2 along the world's x at 0.7 Hz."""
        q = qmul(self.trunk, self.mount)
        w = 2 * math.pi * 0.7
        for _ in range(round(seconds / DT)):
            self._feed(q, q, (2.0 * math.sin(w * (self.t + DT)), 0.0, 0.0), DT)

    def turn(self, seconds, trunk_axis=None, trunk_deg=0.0, mount_axis=None, mount_deg=0.0):
        """Turn the trunk about ``trunk_axis`` (world, about the hip) and/or the clip on the
        back about ``mount_axis`` (trunk frame), smoothly over ``seconds``."""
        n = round(seconds / DT)
        t0, m0 = self.trunk, self.mount

        def at(j):
            s = 0.5 - 0.5 * math.cos(math.pi * max(0, min(n, j)) / n)
            tr = t0 if trunk_axis is None else qmul(
                axis_angle(trunk_axis, math.radians(trunk_deg) * s), t0)
            mo = m0 if mount_axis is None else qmul(
                m0, axis_angle(mount_axis, math.radians(mount_deg) * s))
            return tr, mo

        for i in range(1, n + 1):
            (ta, _), (tb, mb), (tc, _) = at(i - 1), at(i), at(i + 1)
            pa, pb, pc = self.position(ta), self.position(tb), self.position(tc)
            acc = tuple((pa[k] - 2 * pb[k] + pc[k]) / (DT * DT) for k in range(3))
            q0 = qmul(ta, at(i - 1)[1])
            self._feed(q0, qmul(tb, mb), acc, DT)
        self.trunk, self.mount = at(n)

    def _feed(self, q0, q1, acc, dt):
        """One sample: the sensor turned from q0 to q1 (sensor -> world) over ``dt`` while
        moving with ``acc`` (world, m/s^2)."""
        self.t += dt
        d = qmul(conj(q0), q1)  # the step's turn, sensor frame
        c = max(-1.0, min(1.0, d[0]))
        ang = 2 * math.acos(c)
        s = math.sqrt(max(0.0, 1 - c * c))
        w = (0.0, 0.0, 0.0) if s < 1e-12 else (d[1] / s * ang / dt, d[2] / s * ang / dt,
                                                d[3] / s * ang / dt)
        f = qrot(conj(q1), (acc[0], acc[1], acc[2] + G))
        pattern = self.p.feed(self.t, w[0], w[1], w[2], f[0], f[1], f[2], dt)
        if pattern >= 0:
            self.patterns.append((round(self.t, 1), pattern))


def calibrated(settings=None):
    log = Recorder()
    p = Pipeline(settings or S.defaults(), log, neutral=[1.0, 0.0, 0.0])
    body = Body(p)
    body.hold(9.0)  # the fusion learns the gyro's offset at rest
    return p, body, log


def test_a_clip_turning_in_place_is_a_slip_and_the_neutral_follows_it():
    for mount_axis, deg in (((0.0, 1.0, 0.0), 20.0), ((0.0, 0.0, 1.0), -15.0),
                            ((0.0, 0.7071, 0.7071), 25.0)):
        p, body, log = calibrated()
        body.turn(0.3, mount_axis=mount_axis, mount_deg=deg)
        body.hold(2.0)
        (slip,) = log.of(P.REC_SLIP)
        assert slip[2][0] == P.SLIP_REANCHORED and abs(slip[2][1] - abs(deg) * 10) < 15, slip
        assert (round(slip[1]), P.PATTERN_RECALIBRATE) in [(round(t), q) for t, q in
                                                          body.patterns]
        assert abs(p.flexion) < 1.0 and abs(p.lateral) < 1.0, (p.flexion, p.lateral)
        assert p.neutral_changed
        # the trunk flexes 30 deg: measured against the new mounting
        body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
        body.hold(2.0)
        assert abs(p.flexion - 30.0) < 1.5 and abs(p.lateral) < 1.5, (p.flexion, p.lateral)
        assert len(log.of(P.REC_SLIP)) == 1


def test_the_trunk_turning_is_no_slip():
    p, body, log = calibrated()
    for axis, deg, secs in (((0.0, 1.0, 0.0), 25.0, 1.2), ((0.0, 1.0, 0.0), -25.0, 0.8),
                            ((1.0, 0.0, 0.0), 20.0, 1.0), ((1.0, 0.0, 0.0), -20.0, 0.4),
                            ((0.0, 1.0, 0.0), 60.0, 1.0), ((0.0, 1.0, 0.0), -60.0, 1.0)):
        body.turn(secs, trunk_axis=axis, trunk_deg=deg)
        body.hold(1.5)
    assert log.of(P.REC_SLIP) == [], log.of(P.REC_SLIP)
    assert abs(p.flexion) < 1.0


def test_worn_off_then_put_on_asks_for_a_calibration():
    p, body, log = calibrated()
    # taken off and laid on a table: carried, so it travels (no slip), then lies flat
    body.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=-85.0)
    log.events.clear()
    body.hold(800.0, dt=0.5)
    assert log.of(P.REC_SLIP) == []
    body.hold(120.0, dt=0.5)
    (off,) = log.of(P.REC_SLIP)
    assert off[2] == (P.SLIP_WORN_OFF, 0) and 900.0 <= off[1] - 9.0 - 1.0 <= 902.0
    assert p.posture.stale
    body.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=85.0)  # picked up, put on
    on = log.of(P.REC_SLIP)[1:]
    assert on and on[0][2] == (P.SLIP_PUT_ON, 0)
    assert body.patterns[-1][1] == P.PATTERN_RECALIBRATE
    # stale until calibrated: a slouch is timed and held back
    body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
    body.hold(40.0, dt=0.16)
    assert [e[2] for e in log.of(P.REC_HELD)] == [(P.REASON_SLOUCH, P.HELD_STALE)]


def test_breathing_is_not_a_wear_off():
    _, body, log = calibrated()
    body.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=-80.0)  # lying back, breathing
    body.hold(1000.0, dt=0.5, breathe_deg=0.5)
    assert log.of(P.REC_SLIP) == []


def test_quiet_hours_follow_the_local_clock():
    s = S.with_value(S.with_value(S.defaults(), "quiet_start_min", 22 * 60), "quiet_end_min",
                     7 * 60)
    p, body, log = calibrated(s)
    # device time 0 was 21:59:30 local: the slouch's buzz (due at ~42 s) falls in quiet hours
    p.local_offset_s = 21 * 3600 + 59 * 60 + 30.0
    body.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
    body.hold(35.0, dt=0.16)
    assert [e[2] for e in log.of(P.REC_HELD)] == [(P.REASON_SLOUCH, P.HELD_QUIET)]
    # at 07:00 the quiet ends: the next due buzz is given
    p2, body2, log2 = calibrated(s)
    p2.local_offset_s = 6 * 3600 + 59 * 60 + 30.0
    body2.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
    body2.hold(35.0, dt=0.16)
    assert log2.of(P.REC_HELD) == [] and len(log2.of(P.REC_BUZZ)) == 1


def test_a_reanchoring_the_next_walk_contradicts_is_undone():
    p, body, log = calibrated()
    body.walk(25.0)  # the wearer's usual walking tilt: upright
    body.hold(2.0)
    # a turn in place the lever cannot tell from a slip (the upper back rounding alone,
    # say): re-anchored
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=15.0)
    body.hold(2.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED]
    # it straightens while setting off: the walk is upright again, 15 deg back in the new
    # frame and 0 in the old one
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=-15.0)
    body.walk(12.0)
    kinds = [e[2] for e in log.of(P.REC_SLIP)]
    assert kinds[1][0] == P.SLIP_UNDONE and abs(kinds[1][1] - 150) < 15, kinds
    body.hold(2.0)
    assert abs(p.flexion) < 1.5, p.flexion
    assert p.neutral_changed


def test_a_reanchoring_the_next_walk_agrees_with_stands():
    p, body, log = calibrated()
    body.walk(25.0)
    body.hold(2.0)
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=15.0)  # a real slip
    body.hold(2.0)
    body.walk(12.0)
    body.hold(2.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED]
    assert abs(p.flexion) < 1.5, p.flexion


def test_a_false_reanchoring_cannot_hide_behind_a_true_slip_before_the_walk():
    """A movement the lever cannot judge re-anchors falsely; a true slip follows before any
    walk has checked it. The walk then weighs both against the true one alone."""
    p, body, log = calibrated()
    body.walk(25.0)
    body.hold(2.0)
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=15.0)  # false: the back rounds
    body.hold(2.0)
    body.turn(0.3, mount_axis=(0.0, 0.0, 1.0), mount_deg=14.0)  # a true slip, sideways
    body.hold(2.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED] * 2
    # the back straightens while setting off (no still moment after it: nothing judged)
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=-15.0)
    body.walk(15.0)
    kinds = [e[2] for e in log.of(P.REC_SLIP)]
    assert len(kinds) == 3 and kinds[2][0] == P.SLIP_UNDONE, (kinds, p.flexion, p.lateral)
    assert abs(kinds[2][1] - 150) < 20, kinds
    body.hold(2.0)
    assert abs(p.flexion) < 1.5 and abs(p.lateral) < 1.5, (p.flexion, p.lateral)
    assert p.reanchors == 1


def test_a_calibration_after_slips_keeps_the_turn_about_the_spine_gravity_cannot_see():
    """The clip slipped turning also about the spine; re-anchored, it measures a slouch
    right. Asked, the wearer calibrates: the new frame keeps that turn (a calibration from
    gravity alone would assume the clip sits straight, and read the slouch partly as a
    lean)."""
    p, body, log = calibrated()
    axis = (0.8, 0.6, 0.0)  # mostly about the spine, some forward: a tilt of ~21 deg
    body.turn(0.3, mount_axis=axis, mount_deg=35.0)
    body.hold(3.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED]
    p.start_calibration()
    body.hold(5.0)
    assert p.calibration_result is not None and p.calibration_result[0] == P.ST_OK
    body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
    body.hold(2.0)
    assert abs(p.flexion - 30.0) < 1.5 and abs(p.lateral) < 1.5, (p.flexion, p.lateral)


def _slip(body, deg):
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=deg)
    body.hold(3.0)


def test_beyond_two_reanchorings_the_clip_asks_for_a_calibration():
    p, body, log = calibrated()
    for k, deg in enumerate((15.0, -15.0, 15.0)):
        _slip(body, deg)
        assert p.posture.stale == (k == 2), k  # the third since calibrating: stale
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED] * 3
    assert [q for _, q in body.patterns] == [P.PATTERN_RECALIBRATE] * 3
    assert abs(p.flexion) < 1.5  # still re-anchored: the angles stay right
    body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)  # a slouch: held back
    body.hold(40.0, dt=0.16)
    assert [e[2] for e in log.of(P.REC_HELD)] == [(P.REASON_SLOUCH, P.HELD_STALE)]
    assert log.of(P.REC_BUZZ) == [e for e in log.of(P.REC_BUZZ) if e[2][1] == P.REASON_SLIP]
    # the wearer sits up and calibrates: the coaching is back, the count starts again
    body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=-30.0)
    body.hold(1.0)
    p.start_calibration()
    body.hold(5.0)
    assert p.calibration_result is not None and p.calibration_result[0] == P.ST_OK
    assert not p.posture.stale and p.reanchors == 0
    body.turn(1.5, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)
    body.hold(40.0, dt=0.16)
    assert P.REASON_SLOUCH in [e[2][1] for e in log.of(P.REC_BUZZ)]
    _slip(body, 15.0)  # a slip after calibrating is re-anchored with coaching on
    assert not p.posture.stale


def test_an_undone_reanchoring_does_not_count():
    p, body, log = calibrated()
    body.walk(25.0)  # the usual walking tilt: upright
    body.hold(2.0)
    for deg in (15.0, -15.0):  # two real slips, each confirmed by a walk
        _slip(body, deg)
        body.walk(15.0)
        body.hold(2.0)
        assert p._before is None  # checked
    _slip(body, 15.0)  # a third re-anchoring: stale...
    assert p.posture.stale
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=-15.0)  # ...the next walk undoes
    body.walk(15.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)][-1] == P.SLIP_UNDONE
    assert not p.posture.stale and p.reanchors == 2


def test_a_buzz_due_while_walking_or_moving_in_place_is_held_for_that():
    for move, why in (("walk", P.HELD_WALKING), ("shake", P.HELD_MOVING)):
        _, body, log = calibrated()
        body.turn(1.0, trunk_axis=(0.0, 1.0, 0.0), trunk_deg=30.0)  # slouched
        body.hold(25.0)
        getattr(body, move)(6.0)  # the delay runs out meanwhile: held back, once
        assert [e[2] for e in log.of(P.REC_HELD)] == [(P.REASON_SLOUCH, why)], move
        assert [e[2] for e in log.of(P.REC_BUZZ)] == []
        body.hold(10.0)  # still slouched, sitting: the buzz comes on sitting time
        assert [e[2][1] for e in log.of(P.REC_BUZZ)] == [P.REASON_SLOUCH], move


def test_a_reanchored_frame_is_pulled_to_the_walking_tilt_so_errors_do_not_add_up():
    p, body, log = calibrated()
    body.walk(25.0)  # the wearer's usual walking tilt: upright
    body.hold(2.0)
    body.turn(0.3, mount_axis=(0.0, 1.0, 0.0), mount_deg=15.0)  # a real slip: re-anchored
    body.hold(2.0)
    # the clip creeps 5 deg more, too little for a slip: the re-anchored frame is now wrong
    body.turn(1.0, mount_axis=(0.0, 0.7071, 0.7071), mount_deg=5.0)
    body.hold(2.0)
    before = math.sqrt(p.flexion ** 2 + p.lateral ** 2)
    assert 3.0 < before < 6.0, (p.flexion, p.lateral)
    for _ in range(24):  # walks about the office; the pull's time constant is 5 min walked
        body.walk(15.0)
        body.hold(2.0)
    assert [e[2][0] for e in log.of(P.REC_SLIP)] == [P.SLIP_REANCHORED]
    assert math.sqrt(p.flexion ** 2 + p.lateral ** 2) < 0.6 * before, (p.flexion, p.lateral)
    assert p.neutral_changed  # the pulled frame is stored


def test_the_calibrated_frame_is_not_pulled():
    # the walking tilt is learnt in the calibration's frame: without a re-anchoring the frame
    # is the wearer's own statement of upright and walking changes nothing
    p, body, log = calibrated()
    body.walk(25.0)
    body.hold(2.0)
    body.turn(1.0, mount_axis=(0.0, 1.0, 0.0), mount_deg=5.0)
    body.hold(2.0)
    p.neutral_changed = False
    body.walk(60.0)
    body.hold(2.0)
    assert log.of(P.REC_SLIP) == [] and not p.neutral_changed
    assert 4.0 < p.flexion < 6.0, p.flexion


def test_a_reminder_to_move_waits_for_the_walk_to_end_and_a_minute_of_walking_is_a_break():
    s = S.defaults()
    s["move_after_min"] = 1
    _, body, log = calibrated(s)
    body.hold(45.0)
    body.walk(25.0)  # due at 60 s of the clock: held while walking
    body.hold(10.0)
    held = [v for _, _, v in log.of(P.REC_HELD)]
    assert (P.REASON_MOVE, P.HELD_WALKING) in held, held
    moves = [t for _, t, v in log.of(P.REC_BUZZ) if v[1] == P.REASON_MOVE]
    assert len(moves) == 1 and body.t - 10.0 < moves[0] < body.t - 6.0, (moves, body.t)
    body.walk(65.0)
    # the first walk counts too (less than 2 min between): 25 + 35 s of walking
    (brk,) = log.of(P.REC_BREAK)
    assert abs(brk[1] - (body.t - 30.0)) < 3.0 and abs(brk[2][0] - brk[1]) < 1.5, brk
    body.hold(30.0)
    assert len([1 for _, _, v in log.of(P.REC_BUZZ) if v[1] == P.REASON_MOVE]) == 1
