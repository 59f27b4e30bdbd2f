# The exercise watch and the movement-break rule on scripted trunk orientations; MicroPython
# and CPython.
import math

from test_fw_coaching import Recorder, trunk_up

from clip import protocol as P
from clip.breaks import BREAK, DUE, NOTHING, MoveWatch
from clip.exercise import ExerciseWatch

DT = 0.1


class Floor:
    """A wearer on the floor, fed to an ExerciseWatch at 10 Hz; ``pose`` (flexion, lateral)
    lying flat, the spine raised ``e`` degrees towards upright from it (a bridge: away)."""

    def __init__(self, flexion, lateral):
        self.log = Recorder()
        self.w = ExerciseWatch(self.log)
        self.t = 0.0
        self.pose = (flexion, lateral)
        self.cues = []

    def at(self, e):
        f, lat = self.pose
        if f < -45.0:
            e = -e  # a bridge lowers the shoulders' end
        if abs(lat) > abs(f):
            lat = lat - math.copysign(1.0, lat) * e
        else:
            f = f - math.copysign(1.0, f) * e
        return trunk_up(f, lat)

    def hold(self, seconds, e=0.0):
        for _ in range(round(seconds / DT)):
            self.step(e)

    def ramp(self, seconds, e0, e1):
        n = round(seconds / DT)
        for i in range(1, n + 1):
            self.step(e0 + (e1 - e0) * (0.5 - 0.5 * math.cos(math.pi * i / n)))

    def step(self, e):
        self.t += DT
        up = self.at(e)
        cue = self.w.update(self.t, up[0], up[1], up[2], DT)
        if cue >= 0:
            self.cues.append((round(self.t, 1), cue))

    def stand_up(self):
        self.t += DT
        self.w.update(self.t, 1.0, 0.0, 0.0, DT)

    def sets(self):
        return [v for _, _, v in self.log.of(P.REC_EXERCISE)]


def test_a_plank_is_a_hold_timed_to_a_tenth_of_a_second_with_a_tick_every_ten_seconds():
    for pose, kind in (((90.0, 0.0), P.EXERCISE_PLANK),
                       ((0.0, 90.0), P.EXERCISE_SIDE_PLANK_LEFT),
                       ((0.0, -90.0), P.EXERCISE_SIDE_PLANK_RIGHT),
                       ((-90.0, 0.0), P.EXERCISE_BRIDGE)):
        fl = Floor(*pose)
        fl.hold(5.0)
        fl.ramp(1.0, 0.0, 15.0)
        fl.hold(34.0, 15.0)
        fl.ramp(1.0, 15.0, 0.0)
        fl.hold(5.0)
        fl.stand_up()
        (s,) = fl.sets()
        assert s[0] == kind and s[1] == 0, s
        assert abs(s[2] - 350) <= 2, s  # mid-ramp to mid-ramp: 35.0 s
        assert [c for _, c in fl.cues] == [P.PATTERN_START] + [P.PATTERN_TICK] * 3, fl.cues
        assert s[4] == 0  # no drift


def test_repetitions_are_counted_and_ticked_and_close_as_a_set():
    for pose, kind in (((90.0, 0.0), P.EXERCISE_BACK_EXTENSION), ((-90.0, 0.0), P.EXERCISE_BRIDGE)):
        fl = Floor(*pose)
        fl.hold(4.0)
        for k in range(12):
            fl.ramp(1.2, 0.0, 20.0 + (k % 3) * 5.0)
            fl.hold(0.5, 20.0 + (k % 3) * 5.0)
            fl.ramp(1.2, 20.0 + (k % 3) * 5.0, 0.0)
            fl.hold(0.6)
        fl.hold(12.0)  # resting: the set closes after 8 s without a rep
        (s,) = fl.sets()
        assert s[0] == kind and s[1] == 12 and s[2] == 0, s
        assert [c for _, c in fl.cues] == [P.PATTERN_START] + [P.PATTERN_TICK] * 11


def test_two_reps_lying_on_the_side_or_lying_still_make_no_set():
    fl = Floor(90.0, 0.0)
    fl.hold(4.0)
    for _ in range(2):
        fl.ramp(1.0, 0.0, 20.0)
        fl.ramp(1.0, 20.0, 0.0)
    fl.hold(20.0)
    for pose in ((0.0, 90.0), (-90.0, 0.0), (90.0, 0.0)):
        fl.pose = pose
        fl.hold(300.0)
    fl.stand_up()
    assert fl.sets() == [] and len(fl.cues) == 2  # each rep cued as it came


def test_a_hold_that_drifts_gets_the_form_cue_once():
    fl = Floor(90.0, 0.0)
    fl.hold(5.0)
    fl.ramp(1.0, 0.0, 15.0)
    fl.hold(10.0, 15.0)
    fl.ramp(3.0, 15.0, 3.5 + 0.1)  # the back sags towards the floor, not down to it
    fl.hold(10.0, 3.6)
    fl.ramp(1.0, 3.6, 0.0)
    fl.hold(3.0)
    fl.stand_up()
    (s,) = fl.sets()
    assert P.PATTERN_FORM in [c for _, c in fl.cues]
    assert [c for _, c in fl.cues].count(P.PATTERN_FORM) == 1
    assert s[4] >= 10


def test_cues_off_still_records_the_set():
    fl = Floor(90.0, 0.0)
    fl.w.cues = False
    fl.hold(5.0)
    fl.ramp(1.0, 0.0, 15.0)
    fl.hold(30.0, 15.0)
    fl.ramp(1.0, 15.0, 0.0)
    fl.stand_up()
    assert len(fl.sets()) == 1 and fl.cues == []


def _watch(limit_min=30):
    m = MoveWatch()
    m.configure({"move_after_min": limit_min})
    return m


def _run(m, seconds, walking=False, motionless=False, dt=0.5):
    """Events of ``seconds`` of steps, with the watch's clock reading at each."""
    out = []
    for _ in range(round(seconds / dt)):
        e = m.update(walking, motionless, dt)
        if e != NOTHING:
            out.append((e, round(m.clock_s if e == DUE else m.still_s)))
        if e == DUE:
            m.given()
    return out


def test_the_still_clock_reminds_at_the_limit_and_every_limit_after():
    m = _watch()
    assert _run(m, 100 * 60) == [(DUE, 1800), (DUE, 3600), (DUE, 5400)]


def test_a_minute_of_walking_is_a_break_and_short_walks_with_pauses_add_up():
    m = _watch()
    _run(m, 20 * 60)
    assert _run(m, 61, walking=True) == [(BREAK, 1260)]  # the stretch it ended
    assert m.clock_s < 1.0
    m = _watch()
    _run(m, 10 * 60)
    _run(m, 30, walking=True)
    _run(m, 90)
    assert _run(m, 31, walking=True)[0][0] == BREAK  # 30 + 30 s within 2 min
    m = _watch()
    _run(m, 10 * 60)
    _run(m, 30, walking=True)
    _run(m, 150)
    assert _run(m, 31, walking=True) == []  # the pause was too long: the count restarts


def test_off_the_body_the_clock_starts_afresh_and_a_session_is_one_break():
    m = _watch()
    _run(m, 25 * 60)
    _run(m, 20 * 60, motionless=True)  # due meanwhile, but off the body (the pipeline holds)
    assert m.off_body()
    _run(m, 1)
    assert m.clock_s < 5.0
    m = _watch()
    _run(m, 20 * 60)
    assert m.set_done(1200.0, 1230.0) and abs(m.still_s - 1200) < 1
    assert not m.set_done(1260.0, 1290.0)  # the same session
    assert m.set_done(1900.0, 1930.0)
    assert _watch(0).update(False, False, 1e6) == NOTHING  # 0: no reminders


def test_the_programmes_targets_play_once_a_hold_or_a_set_reaches_them():
    fl = Floor(90.0, 0.0)
    fl.w.hold_target_s = 25.0
    fl.hold(5.0)
    fl.ramp(1.0, 0.0, 15.0)
    fl.hold(40.0, 15.0)
    fl.ramp(1.0, 15.0, 0.0)
    fl.stand_up()
    cues = [c for _, c in fl.cues]
    assert cues.count(P.PATTERN_TARGET) == 1 and cues.count(P.PATTERN_TICK) == 4, fl.cues
    assert cues[0] == P.PATTERN_START
    at = next(t for t, c in fl.cues if c == P.PATTERN_TARGET)
    assert 30.0 < at < 32.0, fl.cues  # 25 s after the rise began at ~5.5 s
    fl = Floor(-90.0, 0.0)
    fl.w.rep_target = 5
    fl.hold(4.0)
    for _ in range(7):
        fl.ramp(1.2, 0.0, 25.0)
        fl.ramp(1.2, 25.0, 0.0)
        fl.hold(0.5)
    assert [c for _, c in fl.cues] == [P.PATTERN_START] + [P.PATTERN_TICK] * 3 + \
        [P.PATTERN_TARGET] + [P.PATTERN_TICK] * 2
