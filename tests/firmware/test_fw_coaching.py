# Calibration, posture coach, lift coach and haptics on scripted input; MicroPython and CPython.
import math

import machine
import simhw
from fake_haptic import FakeDRV2605

from clip import haptics as H
from clip import posture as PC
from clip import protocol as P
from clip import settings as S
from clip.calibration import DONE, MOVING, Neutral, NeutralCapture
from clip.drivers.drv2605 import DRV2605, HapticError
from clip.drivers.erm import ErmMotor
from clip.lifts import LiftCoach

DT = 0.02


def rot_y(a, v):
    c, s = math.cos(a), math.sin(a)
    return (c * v[0] + s * v[2], v[1], -s * v[0] + c * v[2])


def rot_z(a, v):
    c, s = math.cos(a), math.sin(a)
    return (c * v[0] - s * v[1], s * v[0] + c * v[1], v[2])


def trunk_up(flexion_deg, lateral_deg=0.0):
    """World up in the trunk frame for a posture (DESIGN.md's angles)."""
    f, lat = math.radians(flexion_deg), math.radians(lateral_deg)
    return (math.cos(f) * math.cos(lat), -math.sin(lat), math.sin(f) * math.cos(lat))


def test_mounting_tilt_up_to_30_deg_does_not_matter():
    for mount in (lambda v: rot_y(math.radians(30), v), lambda v: rot_y(math.radians(-30), v),
                  lambda v: rot_z(math.radians(30), v), lambda v: rot_z(math.radians(-25), v)):
        n = Neutral(mount((1.0, 0.0, 0.0)), True)
        assert abs(n.tilt_deg() - 30.0) < 5.01
        for flex, lat in ((0, 0), (20, 0), (45, 0), (-20, 0), (0, 15), (0, -20)):
            u = mount(trunk_up(flex, lat))
            n.angles(*u)
            assert abs(n.flexion - flex) < 0.01 and abs(n.lateral - lat) < 0.01, \
                (flex, lat, n.flexion, n.lateral)


def test_neutral_capture_averages_and_refuses_motion():
    c = NeutralCapture()
    u = rot_y(0.3, (1.0, 0.0, 0.0))
    g = 9.8
    while c.feed(0.02, -0.01, 0.0, g * u[0], g * u[1], g * u[2], DT) != DONE:
        assert c.elapsed < 2.6
    sx, sy, sz = c.result()
    m = math.sqrt(sx * sx + sy * sy + sz * sz)
    assert abs(sx / m - u[0]) < 1e-9 and abs(sz / m - u[2]) < 1e-9
    bx, by, bz = c.gyro_bias()
    assert abs(bx - 0.02) < 1e-12 and abs(by + 0.01) < 1e-12 and bz == 0.0
    for gyro, acc, drift in ((0.5, 9.8, 0.0), (0.0, 12.0, 0.0), (0.0, 9.8, 0.2)):
        c = NeutralCapture()
        for _ in range(20):
            c.feed(0.0, 0.0, 0.0, 9.8, 0.0, 0.0, DT)
        assert c.feed(0.0, gyro, 0.0, acc * math.cos(drift), 0.0, acc * math.sin(drift),
                      DT) == MOVING
        assert c.reason == "moving - hold still"


class Recorder:
    def __init__(self):
        self.events = []

    def __call__(self, rtype, t, values):
        self.events.append((rtype, t, values))

    def of(self, rtype):
        return [e for e in self.events if e[0] == rtype]


def run_posture(script, settings=None, start=0.0, coach=None, rec=None):
    """script: (seconds, flexion, lateral, gated). Returns (coach, recorder, buzz times)."""
    rec = rec or Recorder()
    coach = coach or PC.PostureCoach(settings or S.defaults(), rec)
    t = start
    buzzes = []
    for secs, flex, lat, gated in script:
        for _ in range(round(secs / DT)):
            t += DT
            if coach.update(t, flex, lat, DT, gated):
                buzzes.append(t)
    return coach, rec, buzzes


def test_slouch_episode_buzzes_after_delay_and_repeats():
    _coach, rec, buzzes = run_posture([(20, 0, 0, False), (100, 28, 4, False), (20, 0, 0, False)])
    assert [round(b) for b in buzzes] == [50, 110], buzzes  # delay 30 s, repeat 60 s
    (start,) = rec.of(P.REC_SLOUCH_START)
    (end,) = rec.of(P.REC_SLOUCH_END)
    assert abs(start[1] - 20.0) < 0.05 and start[2] == (280, 40)
    duration_ms, peak, mean, peak_lat = end[2]
    assert abs(duration_ms - 100000) < 50 and peak == 280 and mean == 280 and peak_lat == 40
    assert abs(end[1] - 120.0) < 0.05


def test_short_dips_do_not_split_and_long_ones_do():
    _, rec, _ = run_posture([(5, 0, 0, False), (20, 30, 0, False), (1.5, 5, 0, False),
                             (20, 30, 0, False), (5, 0, 0, False)])
    assert len(rec.of(P.REC_SLOUCH_END)) == 1
    _, rec, _ = run_posture([(5, 0, 0, False), (20, 30, 0, False), (3, 5, 0, False),
                             (20, 30, 0, False), (5, 0, 0, False)])
    assert len(rec.of(P.REC_SLOUCH_END)) == 2


def test_short_dips_count_toward_the_delay():
    # issue 20: a 32.9 s episode with slouch_delay_s 30 gave no buzz when its short dips
    # (back under threshold - hysteresis for < 2 s) stopped the delay's clock. The episode
    # goes on through them (SLOUCH_END's duration includes them), so its clock does too.
    script = [(5, 0, 0, False)]
    for _ in range(3):
        script += [(9.5, 26, 0, False), (1.5, 10, 0, False)]
    script += [(0.4, 26, 0, False), (5, 0, 0, False)]
    _, rec, buzzes = run_posture(script)
    (end,) = rec.of(P.REC_SLOUCH_END)
    assert 32000 <= end[2][0] <= 34000, end
    assert len(buzzes) == 1 and abs(buzzes[0] - 5 - 30.0) < 0.2, buzzes
    # a buzz due during a dip waits for the dip's end
    _, _, buzzes = run_posture([(5, 0, 0, False), (29, 26, 0, False), (1.5, 10, 0, False),
                                (3, 26, 0, False), (5, 0, 0, False)])
    assert len(buzzes) == 1 and abs(buzzes[0] - 5 - 30.5) < 0.2, buzzes


def test_hysteresis_holds_an_episode_near_the_threshold():
    script = [(5, 0, 0, False), (15, 25, 0, False)]
    script += [(0.5, 21 if i % 2 else 18, 0, False) for i in range(60)]  # 18 > 20 - 3
    _, rec, _ = run_posture(script + [(5, 0, 0, False)])
    assert len(rec.of(P.REC_SLOUCH_END)) == 1 and rec.of(P.REC_SLOUCH_END)[0][2][0] > 44000


def test_short_slouch_is_not_an_episode_and_lean_is_one():
    _, rec, buzzes = run_posture([(5, 0, 0, False), (8, 30, 0, False), (5, 0, 0, False)])
    assert rec.events == [] and buzzes == []
    _, rec, buzzes = run_posture([(5, 0, 0, False), (40, 2, -20, False), (5, 0, 0, False)])
    assert len(rec.of(P.REC_SLOUCH_END)) == 1
    assert rec.of(P.REC_SLOUCH_END)[0][2][3] == -200
    # a lean is timed, but buzzes only when the settings say so
    assert buzzes == [] and [e[2] for e in rec.of(P.REC_HELD)] == [(P.REASON_LEAN,
                                                                    P.HELD_LEAN_OFF)]
    s = S.with_value(S.defaults(), "lean_buzz", 1)
    _, rec, buzzes = run_posture([(5, 0, 0, False), (40, 2, -20, False)], s)
    assert len(buzzes) == 1 and abs(buzzes[0] - 35.0) < 0.05 and rec.of(P.REC_HELD) == []


def held(rec):
    return [(round(e[1]), e[2][1]) for e in rec.of(P.REC_HELD)]


def test_every_due_buzz_is_given_or_held_back_with_its_reason():
    slouch = [(1, 0, 0, 0), (100, 30, 0, 0)]  # due at 31 s, then every 60 s
    # the wearer's state and choices: held at each due time, in the documented order
    for attr, value, why in (("stale", True, P.HELD_STALE), ("baseline", True, P.HELD_BASELINE),
                             ("quiet", True, P.HELD_QUIET)):
        coach = PC.PostureCoach(S.defaults(), Recorder())
        setattr(coach, attr, value)
        coach.snooze(0.0, 60)  # outranked by all three
        _, rec, buzzes = run_posture(slouch, coach=coach, rec=coach.emit)
        assert buzzes == [] and held(rec) == [(31, why), (91, why)], (attr, held(rec))
    coach = PC.PostureCoach(S.defaults(), Recorder())
    coach.snooze(0.0, 1)
    _, rec, buzzes = run_posture(slouch, coach=coach, rec=coach.emit)
    assert held(rec) == [(31, P.HELD_SNOOZED)] and [round(b) for b in buzzes] == [91]
    s = S.with_value(S.with_value(S.defaults(), "max_buzz_per_hour", 1), "repeat_s", 10)
    _, rec, buzzes = run_posture([(1, 0, 0, 0), (52, 30, 0, 0)], s)
    assert [round(b) for b in buzzes] == [31] and held(rec) == [(41, P.HELD_CAP),
                                                               (51, P.HELD_CAP)]
    # an activity: logged once per stretch of it, when the buzz would have been due; the
    # episode's clock stops, so the buzz comes when the delay has run on sitting time
    for why in (P.HELD_WALKING, P.HELD_MOVING, P.HELD_LYING, P.HELD_LIFTING,
                P.HELD_RECLINED, P.HELD_CALIBRATING):
        _, rec, buzzes = run_posture([(1, 0, 0, 0), (25, 30, 0, 0), (8, 30, 0, why),
                                      (10, 30, 0, 0)])
        assert held(rec) == [(31, why)] and [round(b) for b in buzzes] == [39], (why, held(rec))
    # upright while walking away: nothing was due
    _, rec, _ = run_posture([(1, 0, 0, 0), (25, 30, 0, 0), (8, 0, 0, P.HELD_WALKING)])
    assert held(rec) == []


def test_a_tick_when_straightening_soon_after_a_reminder():
    script = [(1, 0, 0, 0), (33, 30, 0, 0), (5, 0, 0, 0)]  # reminder at 31 s, up at 34 s
    _, _, buzzes = run_posture(script)
    assert [round(b) for b in buzzes] == [31]  # off by default
    s = S.with_value(S.defaults(), "positive_tick", 1)
    coach = PC.PostureCoach(s, Recorder())
    _, _, buzzes = run_posture(script, coach=coach, rec=coach.emit)
    assert [round(b) for b in buzzes] == [31, 36]  # 2 s under the threshold confirms
    assert coach.buzzes_last_hour(40.0) == 1  # the tick is not a reminder
    # straightening later than CORRECTION_S after the reminder earns nothing
    _, _, buzzes = run_posture([(1, 0, 0, 0), (45, 30, 0, 0), (5, 0, 0, 0)], s)
    assert [round(b) for b in buzzes] == [31]


def test_slouch_and_lean_are_episodes_of_their_own_kind():
    # slouch then lean: two episodes, the slouch's peak flexion over the threshold, the
    # lean's not (the host tells the kinds apart by that)
    _, rec, _ = run_posture([(5, 0, 0, False), (30, 30, 0, False), (30, 5, 22, False),
                             (5, 0, 0, False)])
    ends = rec.of(P.REC_SLOUCH_END)
    assert len(ends) == 2, ends
    assert ends[0][2][1] == 300 and ends[1][2][1] <= 200 and ends[1][2][3] == 220
    assert abs(ends[0][2][0] - 30000) < 2100 and abs(ends[1][2][0] - 30000) < 2100
    # lean then slouch: the slouch ends the lean at once and starts its own episode
    _, rec, _ = run_posture([(5, 0, 0, False), (20, 5, -22, False), (20, 30, -22, False),
                             (5, 0, 0, False)])
    ends = rec.of(P.REC_SLOUCH_END)
    assert len(ends) == 2 and ends[0][2][1] == 50 and ends[1][2][1] == 300, ends
    assert abs(ends[0][1] - 25.0) < 0.05  # the lean ended when the slouch began


def test_hourly_cap_and_snooze():
    s = S.with_value(S.with_value(S.defaults(), "max_buzz_per_hour", 3), "repeat_s", 10)
    _, _, buzzes = run_posture([(1, 0, 0, False), (1800, 30, 0, False)], s)
    assert len(buzzes) == 3
    coach = PC.PostureCoach(S.defaults(), Recorder())
    coach.snooze(0.0, 2)  # two minutes
    _, _, buzzes = run_posture([(1, 0, 0, False), (200, 30, 0, False)], coach=coach)
    assert buzzes and buzzes[0] >= 120.0, buzzes
    coach = PC.PostureCoach(S.defaults(), Recorder())
    coach.snooze(0.0, 2)
    coach.snooze(0.0, 0)  # cancelled
    _, _, buzzes = run_posture([(1, 0, 0, False), (40, 30, 0, False)], coach=coach)
    assert len(buzzes) == 1 and abs(buzzes[0] - 31.0) < 0.05


def test_no_buzz_while_gated_and_the_clock_holds():
    # slouched while walking (gated) for 60 s: no buzz; then 25 s ungated: still under delay
    _, rec, buzzes = run_posture([(1, 0, 0, False), (5, 30, 0, False), (8, 30, 0, True),
                                  (20, 30, 0, False)])
    assert buzzes == []
    assert len(rec.of(P.REC_SLOUCH_START)) == 1
    # gated longer than 10 s ends the episode where the gating began
    _, rec, buzzes = run_posture([(1, 0, 0, False), (20, 30, 0, False), (60, 30, 0, True),
                                  (5, 0, 0, False)])
    (end,) = rec.of(P.REC_SLOUCH_END)
    assert buzzes == [] and abs(end[1] - 21.0) < 0.05, end


def test_exposure_mode_buzzes_on_cumulative_time():
    s = dict(S.defaults())
    s.update(exposure_mode=1, exposure_window_s=600, exposure_limit_s=60)
    script = [(1, 0, 0, False)] + [(20, 30, 0, False), (20, 0, 0, False)] * 6
    _, _, buzzes = run_posture(script, s)
    # the third 20 s slouch brings the window to 60 s; the default mode never buzzes here
    assert buzzes and 100.0 < buzzes[0] < 102.0, buzzes
    _, _, none = run_posture(script)
    assert none == []


def lift_script(coach, t, flex_peak, drop_m, twist_deg=0.0, duration=3.0, back=True):
    """Stand still 2 s, bend-and-return over ``duration``, stand still 2 s."""
    buzz = 0
    for _ in range(int(2.0 / DT)):
        t += DT
        buzz = coach.update(t, 0.0, 0.0, 9.81, 0.0, 0.0, DT) or buzz
    n = int(duration / DT)
    w = 2 * math.pi / duration
    for i in range(n):
        t += DT
        x = i * DT
        p = 0.5 - 0.5 * math.cos(w * x)  # 0 -> 1 -> 0
        if back:
            acc = -drop_m * 0.5 * w * w * math.cos(w * x)
        else:  # goes down and stays: h = -drop * (x/T - sin(wx)/(2 pi))
            acc = drop_m * w * math.sin(w * x) / duration
            p = x / duration
        twist_rate = math.radians(twist_deg) * 0.5 * w * math.sin(w * x)
        rate = math.radians(flex_peak) * 0.5 * w * abs(math.sin(w * x))
        buzz = coach.update(t, flex_peak * p, 2.0, 9.81 + acc, rate + abs(twist_rate),
                            twist_rate, DT) or buzz
    for _ in range(int(2.0 / DT)):
        t += DT
        buzz = coach.update(t, 0.0 if back else flex_peak, 0.0, 9.81, 0.0, 0.0, DT) or buzz
    return t, buzz


def test_lifts_technique_twist_and_warnings():
    rec = Recorder()
    coach = LiftCoach(S.defaults(), rec)
    t, buzz = lift_script(coach, 0.0, 85.0, 0.44)  # stoop: the drop is the trunk's bend
    assert buzz == P.REASON_LIFT_STOOP
    t, buzz = lift_script(coach, t, 25.0, 0.45)  # squat: knees take the drop
    assert buzz == 0
    t, buzz = lift_script(coach, t, 30.0, 0.45, twist_deg=50.0)  # twisted squat
    assert buzz == P.REASON_LIFT_TWIST
    lifts = rec.of(P.REC_LIFT)
    assert [e[2][4] for e in lifts] == [P.TECH_STOOP, P.TECH_SQUAT, P.TECH_SQUAT]
    assert [e[2][5] & P.LIFT_FLAG_TWISTED for e in lifts] == [0, 0, P.LIFT_FLAG_TWISTED]
    assert abs(lifts[0][2][1] - 850) < 5 and abs(lifts[2][2][2] - 500) < 30, lifts
    assert all(2900 < e[2][0] < 3400 for e in lifts), lifts
    assert coach.count == 3 and coach.stooped == 1


def test_no_lift_for_small_dips_sitting_down_or_when_disabled():
    rec = Recorder()
    coach = LiftCoach(S.defaults(), rec)
    t, _ = lift_script(coach, 0.0, 30.0, 0.12)  # a reach: small dip
    t, _ = lift_script(coach, t, 10.0, -0.45, 0.0, 1.5, back=False)  # sitting down: no return
    assert rec.of(P.REC_LIFT) == []
    coach = LiftCoach(S.with_value(S.defaults(), "lift_coach", 0), rec)
    t, buzz = lift_script(coach, 0.0, 85.0, 0.44)
    assert buzz == 0 and len(rec.of(P.REC_LIFT)) == 1  # logged, not buzzed


def stand(coach, t, seconds, flexion=0.0):
    for _ in range(int(seconds / DT)):
        t += DT
        coach.update(t, flexion, 0.0, 9.81, 0.0, 0.0, DT)
    return t


def test_sitting_down_releases_the_posture_coach_after_a_lift_time():
    # regression: the "paused at the bottom" state never ended while the wearer stayed still
    rec = Recorder()
    coach = LiftCoach(S.defaults(), rec)
    # sits down: 0.5 m in 1.5 s, no return
    t, _ = lift_script(coach, 0.0, 10.0, -0.5, duration=1.5, back=False)
    t = stand(coach, t, 12.0, 10.0)  # and stays seated, still
    assert not coach.active()
    assert rec.of(P.REC_LIFT) == []
    t, buzz = lift_script(coach, t + 0.5, 85.0, 0.40)  # a lift later is one
    assert buzz == P.REASON_LIFT_STOOP and len(rec.of(P.REC_LIFT)) == 1


def test_a_walk_before_a_lift_leaves_no_dip_that_swallows_it():
    rec = Recorder()
    coach = LiftCoach(S.defaults(), rec)
    t = stand(coach, 0.0, 2.0)
    # 8 s of walking: 1.8 steps a second, +-2 m/s^2 of bounce, and an accelerometer error
    # that changes as the trunk does (0.1 m/s^2 in the first half): ZUPT removes a constant
    # error, not this one, which double integration turns into a false dip of ~0.4 m
    for i in range(int(8.0 / DT)):
        t += DT
        a = 2.0 * math.sin(2 * math.pi * 1.8 * i * DT) - (0.1 if i * DT < 4.0 else 0.0)
        coach.update(t, 3.0, 0.0, 9.81 + a, 0.6, 0.0, DT)
    t = stand(coach, t, 2.0)
    t, buzz = lift_script(coach, t, 30.0, 0.45)  # a squat right after
    assert buzz == 0
    lifts = rec.of(P.REC_LIFT)
    assert len(lifts) == 1 and lifts[0][2][4] == P.TECH_SQUAT, lifts
    assert 2900 < lifts[0][2][0] < 3400, lifts  # the lift alone, not the walk


def test_a_long_walk_is_no_lift_under_way_whatever_its_height_drift():
    # regression: double integration over a walk drifts by metres; a downward drift read as
    # a dip made the coach "active" for the whole walk, which held the walk checks of a
    # re-anchored frame (and the posture coach's clock)
    for error in (0.1, -0.1):
        coach = LiftCoach(S.defaults(), Recorder())
        t = stand(coach, 0.0, 2.0)
        seen = []
        for i in range(int(30.0 / DT)):
            t += DT
            a = 2.0 * math.sin(2 * math.pi * 1.8 * i * DT) + error
            coach.update(t, 3.0, 0.0, 9.81 + a, 0.6, 0.0, DT)
            seen.append(coach.active())
        assert abs(coach.h) > 10.0, coach.h  # the height drifted far
        assert not any(seen[int(5.0 / DT):]), error  # yet no lift after the first steps


def test_a_stoop_that_lowers_the_sensor_little_is_still_a_lift():
    # the clip sits behind the spine: a 75 deg stoop on a short trunk lowers it ~0.15 m
    rec = Recorder()
    coach = LiftCoach(S.defaults(), rec)
    t, buzz = lift_script(coach, 0.0, 75.0, 0.15)
    assert buzz == P.REASON_LIFT_STOOP and len(rec.of(P.REC_LIFT)) == 1
    lift_script(coach, t, 45.0, 0.10)  # a 45 deg reach is not
    assert len(rec.of(P.REC_LIFT)) == 1


def play(player, output, clock, pattern):
    """The app's haptics loop with a hand-driven clock."""
    player.start(pattern, clock())
    while True:
        level, wait = player.step(clock())
        output.set_level(level)
        if wait < 0:
            return
        clock.advance(wait)


def steps_of(pattern, intensity):
    t = 0
    out = []
    for level, ms in H.PATTERNS[pattern]:
        out.append((t, level * intensity // 100))
        t += ms
    out.append((t, 0))
    return out


def test_pwm_motor_plays_pattern_timing():
    simhw.clear()
    clock = simhw.FakeClock(1000)
    simhw.set_clock(clock)
    motor = ErmMotor(machine.PWM(machine.Pin(5)))
    player = H.Player(intensity_pct=80)
    for pattern in range(len(H.PATTERNS)):
        del simhw.pwm_log[:]
        start = clock()
        play(player, motor, clock, pattern)
        got = [(t - start, duty) for t, pin, duty in simhw.pwm_log]
        want = []
        for t, level in steps_of(pattern, 80):
            duty = 0 if level == 0 else (35 + 65 * level // 100) * 65535 // 100
            if not want or want[-1][1] != duty:
                want.append((t, duty))
        assert got == want, (pattern, got, want)


def test_drv2605_plays_pattern_timing_over_i2c():
    simhw.clear()
    clock = simhw.FakeClock(0)
    fake = FakeDRV2605(clock)
    simhw.attach(0, 0x5A, fake)
    drv = DRV2605(machine.I2C(0))
    init = [(r, v) for _, r, v in fake.writes]
    assert init[-1] == (0x01, 0x05) and (0x1A, 0x80) in init  # RTP mode, LRA
    player = H.Player(intensity_pct=50)
    del fake.writes[:]
    play(player, drv, clock, P.PATTERN_LIFT)
    want = [(t, level * 255 // 100) for t, level in steps_of(P.PATTERN_LIFT, 50)]
    assert fake.rtp_levels() == want, fake.rtp_levels()
    simhw.clear()
    try:
        DRV2605(machine.I2C(0))
    except HapticError as e:
        assert "0x5a" in str(e)
    else:
        raise AssertionError("missing haptic driver went unnoticed")


def test_a_late_player_stretches_a_pattern_but_drops_no_pulse():
    player = H.Player(intensity_pct=100)
    player.start(P.PATTERN_FAULT, 0)
    now, levels = 0, []
    while True:
        level, wait = player.step(now)
        if wait < 0:
            break
        levels.append(level)
        now += wait + 250  # the task wakes 250 ms late every time
    # on, off, on, off: both pulses of the fault code, each segment played in full
    assert levels == [100, 0, 100, 0], levels
