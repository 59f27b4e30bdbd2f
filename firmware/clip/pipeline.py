# The sensing pipeline of the clip, one fused sample at a time: fusion -> trunk angles ->
# activity -> lift and posture coaches -> buzz decision, plus the angle trace and per-minute
# summaries for the log. Pure: the app feeds it samples with their device time and plays
# the haptic pattern it asks for; events go to ``emit(rtype, t_s, values)``.
import math

import micropython
from micropython import const

from clip import calibration as C
from clip import posture as PC
from clip import power as PW
from clip import protocol as P
from clip.breaks import BREAK, DUE, MoveWatch
from clip.exercise import ExerciseWatch
from clip.fusion import Fusion
from clip.lifts import LiftCoach
from clip.slips import PUT_ON, SLIPPED, WEAR_OFF_GYR, WORN_OFF, SlipWatch, multiply

_TAU_ENERGY = 1.0  # s: averaging of the dynamic acceleration's energy
_MOVING_ACC2 = 0.64  # (0.8 m/s^2)^2: walking and handling, as the host's classifier
_MOVING_HOLD_S = 2.0
_LYING_COS = 0.5  # trunk axis more than 60 deg from vertical
_LYING_S = 5.0  # ...this long: lying down (the host's rule), not a deep stoop
SUMMARY_S = const(60)

# posture classes (stream status, summaries), as the host's
UPRIGHT = const(0)
SLOUCHED = const(1)
LEANING = const(2)
RECLINED = const(3)
LYING = const(4)
MOVING = const(5)
_RECLINE_DEG = 15.0
_SWING_ACC = 0.5  # m/s^2 either side of gravity: the vertical bounce of a step
_STEPS_S = 2.0  # three swings within this: a step rhythm (walking), else moving in place
# People walk upright: the trunk's mean tilt while walking is the wearer's own and changes
# little. It is learnt in the calibration's own frame. A re-anchoring after a slip is checked
# against it over the next WALK_CHECK_S of walking, and undone when the old mounting explains
# the walk better by WALK_MARGIN_DEG. A re-anchored frame stays provisional until the next
# calibration: every WALK_CHECK_S of walking turns it PULL_GAIN of the way (at most
# PULL_MAX_DEG) towards the learnt walking tilt, so that the errors of successive
# re-anchorings do not add up. One walk's tilt differs from the usual by a few degrees
# (carrying, hurrying): the gain averages the correction over PULL_TAU_S of walking. A slip
# before the walk that checks the last re-anchoring leaves that one to be checked: the walk
# then weighs the mounting with both against the mounting with only the later one.
_WALK_TAU_S = 120.0  # the walking tilt's average
_WALK_KNOWN_S = 20.0  # walked this long since calibrating: the average is the wearer's
WALK_CHECK_S = 10.0
WALK_MARGIN_DEG = 4.0
PULL_TAU_S = 300.0
PULL_GAIN = WALK_CHECK_S / PULL_TAU_S
PULL_MAX_DEG = 2.0
# Each re-anchoring adds its own error (the gyro's over the slip, a creep below a slip), and the
# walking pull corrects them only slowly: beyond REANCHOR_LIMIT re-anchorings since the last
# calibration the clip still re-anchors (its angles stay as good as it can make them) but
# calls its calibration stale, holding posture reminders (HELD STALE) until the wearer
# calibrates again; the RECALIBRATE pattern each slip plays asks for it.
REANCHOR_LIMIT = const(2)
_SAVE_DEG = 1.0  # a pulled frame is written to flash once it moved this far from the stored

_PATTERN_FOR = {P.REASON_SLOUCH: P.PATTERN_REMINDER, P.REASON_EXPOSURE: P.PATTERN_REMINDER,
                P.REASON_LIFT_STOOP: P.PATTERN_LIFT, P.REASON_LIFT_TWIST: P.PATTERN_LIFT,
                P.REASON_LEAN: P.PATTERN_REMINDER, P.REASON_CALIBRATION: P.PATTERN_CALIBRATED,
                P.REASON_SLIP: P.PATTERN_RECALIBRATE, P.REASON_PUT_ON: P.PATTERN_RECALIBRATE,
                P.REASON_CORRECTED: P.PATTERN_TICK, P.REASON_MOVE: P.PATTERN_MOVE}


def _up(flex, lat):
    """Earth's up in the trunk frame at ``flex``, ``lat`` degrees (Neutral.angles' inverse)."""
    fr, lr = flex / C.DEG, lat / C.DEG
    return math.cos(lr) * math.cos(fr), -math.sin(lr), math.cos(lr) * math.sin(fr)


class Pipeline:
    def __init__(self, settings, emit, neutral=None):
        self.emit = emit
        self.settings = settings
        self.fusion = Fusion()
        self.neutral = C.Neutral(neutral, True) if neutral else C.Neutral()
        self.posture = PC.PostureCoach(settings, emit)
        self.lifts = LiftCoach(settings, emit)
        self.exercise = ExerciseWatch(emit)
        self.moves = MoveWatch()
        self.moves.configure(settings)
        self._configure_exercise(settings)
        self._sets_seen = 0
        self._lying_s = 0.0
        self._move_held = 0  # why the due move reminder is held back (logged once a stretch)
        self.capture = None
        self.calibration_result = None  # (status, payload) of the last capture, for the app
        self.flexion = 0.0
        self.lateral = 0.0
        self.state = UPRIGHT
        self.moving = False
        self._moving_hold = 0.0
        self.energy = 0.0  # (m/s^2)^2, linear acceleration averaged over ~1 s
        self.power = PW.SensingPolicy()
        self._trace = []
        self._trace_next = 0.0
        self._sum_start = None
        self._sum = [0.0, 0.0, 0.0, 0.0]  # span, upright, slouch, moving seconds
        self._sum_lifts = 0  # lift counts at the last summary
        self._sum_stooped = 0
        self.buzzes = 0
        self._sum_buzzes = 0
        self.slips = SlipWatch()
        self.neutral_changed = False  # re-anchored after a slip: the app stores the frame
        self.local_offset_s = None  # local time of day = device time + this, once known
        self._swing_sign = 0
        self._swings = [-1e9, -1e9, -1e9]  # times of the last three swings
        self._swing_i = 0
        self._walk_flex = self._walk_lat = 0.0  # the wearer's tilt while walking, deg
        self._walked_s = 0.0
        self._before = None  # the neutral before a re-anchoring being checked
        self._before_provisional = False
        self._check = [0.0, 0.0, 0.0, 0.0, 0.0]  # walked s; sums of flex, lat: new, old frame
        self.provisional = False  # re-anchored since the last calibration
        self.reanchors = 0  # re-anchorings since the last calibration (undone ones not counted)
        self._stale_by_slips = False  # the calibration went stale by REANCHOR_LIMIT
        self._saved = self.neutral.quat  # the frame as last stored

    def configure(self, settings):
        self.settings = settings
        self.posture.configure(settings)
        self.lifts.configure(settings)
        self.moves.configure(settings)
        self._configure_exercise(settings)

    def _configure_exercise(self, s):
        ex = self.exercise
        ex.cues = s["exercise_cues"] == 1
        ex.hold_target_s = float(s["hold_target_s"])
        ex.rep_target = s["rep_target"]

    # --- calibration --------------------------------------------------------------------
    def start_calibration(self):
        self.power.wake()
        self.capture = C.NeutralCapture()
        self.calibration_result = None

    def _calibrated(self, t, capture):
        sx, sy, sz = capture.result()
        self.capture = None
        f = self.fusion
        f.bx, f.by, f.bz = capture.gyro_bias()  # the wearer held still: the gyro read its bias
        f.bias_known = True
        self.posture.finish(t)
        n = self.neutral
        if self.provisional and not self.slips.off:
            # recalibrating after slips: the frame holds the clip's measured turns, also the
            # turn about the spine, which gravity cannot see. Only its tilt is set anew.
            n.angles(sx, sy, sz)
            fix = C.Neutral((n.vertical, n.side, n.front))
            n.set_quat(multiply(fix.quat, n.quat))
        else:  # the first calibration, or back on the body: the clip as it is meant to sit
            n.set(sx, sy, sz)
        n.calibrated = True
        self.posture.stale = False
        self.slips.off = False
        self._walked_s = 0.0
        self._before = None
        self.provisional = False
        self.reanchors = 0
        self._stale_by_slips = False
        q = self.neutral.quat
        values = (round(q[0] * 32767), round(q[1] * 32767), round(q[2] * 32767),
                  round(q[3] * 32767), round(self.neutral.tilt_deg() * 10))
        self.emit(P.REC_CALIBRATED, t, values)
        self.calibration_result = (P.ST_OK, values)
        return self._buzz(t, P.REASON_CALIBRATION)

    def _buzz(self, t, reason, pattern=-1):
        if pattern < 0:
            pattern = _PATTERN_FOR[reason]
        self.emit(P.REC_BUZZ, t, (pattern, reason))
        if reason != P.REASON_CORRECTED and reason != P.REASON_EXERCISE:
            self.buzzes += 1  # praise and exercise cues are not buzzes the summary counts
        return pattern

    def _exercise(self, t, n, dt):
        """The exercise watch's step; returns its cue pattern or -1."""
        ex = self.exercise
        cue = ex.update(t, n.vertical, n.side, n.front, dt)
        if ex.sets != self._sets_seen:
            self._sets_seen = ex.sets
            if self.moves.set_done(ex.last_set_start, ex.last_set_end):
                self.emit(P.REC_BREAK, t, (round(self.moves.still_s),))
        return cue

    def _move(self, t, walking, lying, w, dt):
        """The movement-break rule's step; returns REASON_MOVE when a reminder is to be
        given now, else 0 (a held one is logged once per stretch of what holds it)."""
        m = self.moves
        # off the body: lying down without any motion, not even breathing (the wear-off
        # test's, a minute long)
        event = m.update(walking, lying and w < WEAR_OFF_GYR and not self.moving, dt)
        if event == BREAK:
            self.emit(P.REC_BREAK, t, (round(m.still_s),))
            self._move_held = 0
            return 0
        if event != DUE:
            self._move_held = 0
            return 0
        why = 0
        if walking:
            why = P.HELD_WALKING
        elif self.exercise.active():
            why = P.HELD_EXERCISE
        elif lying:
            why = P.HELD_LYING
        elif m.off_body():
            why = P.HELD_OFF
        elif self.posture.quiet:
            why = P.HELD_QUIET
        elif t < self.posture.snooze_until:
            why = P.HELD_SNOOZED
        if why:
            if why != self._move_held:
                self._move_held = why
                self.emit(P.REC_HELD, t, (P.REASON_MOVE, why))
            return 0
        return P.REASON_MOVE

    def _walking(self, t, a_up):
        """Count the vertical swings of steps; True while they come in a rhythm."""
        d = a_up - self.lifts.gravity
        sign = 1 if d > _SWING_ACC else (-1 if d < -_SWING_ACC else 0)
        if sign and sign != self._swing_sign:
            self._swing_sign = sign
            self._swings[self._swing_i] = t
            self._swing_i = (self._swing_i + 1) % 3
        return t - self._swings[self._swing_i] < _STEPS_S  # the oldest of the three

    def _quiet(self, t):
        if self.local_offset_s is None:
            return False
        s = self.settings
        start, end = s["quiet_start_min"], s["quiet_end_min"]
        if start == end:
            return False
        minute = int((t + self.local_offset_s) // 60) % 1440
        if start < end:
            return start <= minute < end
        return minute >= start or minute < end  # across midnight

    def _watch_mounting(self, t, f, ax, ay, az, wx, wy, wz, w, dt):
        """Slips and wear-off; returns a buzz reason or 0."""
        n = self.neutral
        event = self.slips.update(f, ax, ay, az, wx, wy, wz, w, self.lifts.gravity,
                                  (n.nx, n.ny, n.nz), dt)
        if event == SLIPPED:
            self.posture.finish(t)  # an episode measured against the old mounting ends
            if self._before is None:
                self._before = C.Neutral(n.quat, True)  # checked on the next walk
                self._before_provisional = self.provisional
            else:
                # the last re-anchoring is still unchecked: the walk judges it as if this one
                # had followed it alone (a false slip cannot hide behind a true one)
                self._before = C.Neutral(multiply(self._before.quat, self.slips.mount), True)
            self._clear_check()
            n.set_quat(multiply(n.quat, self.slips.mount))
            n.angles(f.ux, f.uy, f.uz)
            self.provisional = True
            self._changed()
            self.reanchors += 1
            if self.reanchors > REANCHOR_LIMIT and not self.posture.stale:
                self.posture.stale = True
                self._stale_by_slips = True
            self.emit(P.REC_SLIP, t, (P.SLIP_REANCHORED, round(self.slips.turn_deg * 10)))
            return P.REASON_SLIP
        if event == WORN_OFF:
            self.posture.finish(t)
            self.posture.stale = True
            self.emit(P.REC_SLIP, t, (P.SLIP_WORN_OFF, 0))
        elif event == PUT_ON:
            self.emit(P.REC_SLIP, t, (P.SLIP_PUT_ON, 0))
            return P.REASON_PUT_ON
        return 0

    def _clear_check(self):
        c = self._check
        c[0] = c[1] = c[2] = c[3] = c[4] = 0.0

    def _changed(self, least_deg=0.0):
        """The neutral frame changed: stored by the app when it moved ``least_deg`` from the
        stored one (a walking pull moves it a little at a time; flash is not written for
        each)."""
        if least_deg <= 0.0 or C.angle_between(self.neutral.quat, self._saved) >= least_deg:
            self._saved = self.neutral.quat
            self.neutral_changed = True

    def _check_walk(self, t, f, dt):
        """A walking step: learn the wearer's walking tilt, check a re-anchoring against it,
        or pull a provisional frame towards it. Returns True when the frame changed."""
        n = self.neutral
        before = self._before
        c = self._check
        if before is None:
            if self.provisional:
                c[0] += dt
                c[1] += n.flexion * dt
                c[2] += n.lateral * dt
                if c[0] < WALK_CHECK_S:
                    return False
                k = 1.0 / c[0]
                flex, lat = c[1] * k, c[2] * k
                self._clear_check()
                return self._pull(f, flex, lat)
            k = dt / (_WALK_TAU_S + dt) if self._walked_s > _WALK_TAU_S else dt / (
                self._walked_s + dt)
            self._walk_flex += k * (n.flexion - self._walk_flex)
            self._walk_lat += k * (n.lateral - self._walk_lat)
            self._walked_s += dt
            return False
        before.angles(f.ux, f.uy, f.uz)
        c[0] += dt
        c[1] += n.flexion * dt
        c[2] += n.lateral * dt
        c[3] += before.flexion * dt
        c[4] += before.lateral * dt
        if c[0] < WALK_CHECK_S:
            return False
        self._before = None
        k = 1.0 / c[0]
        flex, lat = c[1] * k, c[2] * k
        # until the wearer's own walking tilt is learnt, the calibration's upright stands for
        # it, with twice the margin
        margin, rf, rl = WALK_MARGIN_DEG, self._walk_flex, self._walk_lat
        if self._walked_s < _WALK_KNOWN_S:
            margin, rf, rl = 2.0 * WALK_MARGIN_DEG, 0.0, 0.0
        new = math.sqrt((flex - rf) ** 2 + (lat - rl) ** 2)
        old = math.sqrt((c[3] * k - rf) ** 2 + (c[4] * k - rl) ** 2)
        self._clear_check()
        if old + margin >= new:  # the new mounting explains the walk: confirmed
            return self._pull(f, flex, lat)
        self.posture.finish(t)
        turn = C.angle_between(n.quat, before.quat)
        n.set_quat(before.quat)
        n.angles(f.ux, f.uy, f.uz)
        self.provisional = self._before_provisional
        self._changed()
        self.reanchors -= 1
        if self._stale_by_slips and self.reanchors <= REANCHOR_LIMIT:
            self.posture.stale = self._stale_by_slips = False
        self.emit(P.REC_SLIP, t, (P.SLIP_UNDONE, round(turn * 10)))
        return True

    def _pull(self, f, flex, lat):
        """Turn the provisional frame a share of the way from the walk's mean tilt (degrees,
        this frame) to the learnt walking tilt, about the axis between them."""
        if self._walked_s < _WALK_KNOWN_S:
            return False  # nothing learnt to pull towards
        mx, my, mz = _up(flex, lat)
        rx, ry, rz = _up(self._walk_flex, self._walk_lat)
        ax, ay, az = my * rz - mz * ry, mz * rx - mx * rz, mx * ry - my * rx
        s = math.sqrt(ax * ax + ay * ay + az * az)
        if s < 1e-6:
            return False
        angle = min(PULL_GAIN * math.atan2(s, mx * rx + my * ry + mz * rz),
                    PULL_MAX_DEG / C.DEG)
        h = math.sin(0.5 * angle) / s
        n = self.neutral
        n.set_quat(multiply((math.cos(0.5 * angle), ax * h, ay * h, az * h), n.quat))
        n.angles(f.ux, f.uy, f.uz)
        self._changed(_SAVE_DEG)
        return True

    # --- the step -----------------------------------------------------------------------
    @micropython.native
    def feed(self, t, gx, gy, gz, ax, ay, az, dt):
        """One sample at device time ``t`` (s): gyro rad/s, accelerometer m/s^2 (sensor
        frame), period ``dt`` s. Returns the haptic pattern to play, or -1."""
        f = self.fusion
        if not f.update(gx, gy, gz, ax, ay, az, dt):
            return -1
        n = self.neutral
        n.angles(f.ux, f.uy, f.uz)
        wx, wy, wz = gx - f.bx, gy - f.by, gz - f.bz
        w = math.sqrt(wx * wx + wy * wy + wz * wz)
        a_up = ax * f.ux + ay * f.uy + az * f.uz
        mounting = 0
        if n.calibrated and self.capture is None:
            mounting = self._watch_mounting(t, f, ax, ay, az, wx, wy, wz, w, dt)
        self.flexion = n.flexion
        self.lateral = n.lateral

        # activity: energy of the linear acceleration (specific force minus gravity along
        # the fused up vector), so that a change of posture alone is not movement
        g = self.lifts.gravity
        ex, ey, ez = ax - g * f.ux, ay - g * f.uy, az - g * f.uz
        self.energy += dt / (_TAU_ENERGY + dt) * (ex * ex + ey * ey + ez * ez - self.energy)
        self.power.update(w, self.energy, dt)
        if self.energy > _MOVING_ACC2:
            self._moving_hold = _MOVING_HOLD_S
        elif self._moving_hold > 0.0:
            self._moving_hold -= dt
        self.moving = self._moving_hold > 0.0
        lying = n.vertical < _LYING_COS

        pattern = -1
        capture = self.capture
        if capture is not None:
            state = capture.feed(gx, gy, gz, ax, ay, az, dt)
            if state == C.DONE:
                pattern = self._calibrated(t, capture)
            elif state == C.MOVING:
                self.capture = None
                self.calibration_result = (P.ST_MOVING, ())

        cue = -1
        if n.calibrated:
            cue = self._exercise(t, n, dt)
        self._lying_s = self._lying_s + dt if lying else 0.0
        if self._lying_s >= _LYING_S:  # lay down (a deep stoop passes through "lying")
            self.lifts.lying_t = t
        reason = self.lifts.update(t, self.flexion, self.lateral, a_up, w,
                                   n.twist_rate(wx, wy, wz), dt)
        walking = self._walking(t, a_up)
        if (walking and self.moving and not lying and n.calibrated
                and not self.lifts.active() and self._check_walk(t, f, dt)):
            self.flexion = n.flexion
            self.lateral = n.lateral
        gated = 0
        if self.capture is not None:
            gated = P.HELD_CALIBRATING
        elif self.exercise.active():
            gated = P.HELD_EXERCISE
        elif self.lifts.active():
            gated = P.HELD_LIFTING
        elif lying:
            gated = P.HELD_LYING
        elif self.moving:
            gated = P.HELD_WALKING if walking else P.HELD_MOVING
        elif self.flexion < -_RECLINE_DEG:
            gated = P.HELD_RECLINED
        if n.calibrated:
            self.posture.quiet = self._quiet(t)
            r = self.posture.update(t, self.flexion, self.lateral, dt, gated)
            reason = reason or r
        move = 0
        if n.calibrated:
            move = self._move(t, walking and self.moving and not lying, lying, w, dt)
        reason = mounting or reason  # the clip moving on the back outranks a reminder
        if reason:
            pattern = self._buzz(t, reason)
        elif move:
            pattern = self._buzz(t, move)
            self.moves.given()
            self._move_held = 0
        elif cue >= 0:
            pattern = self._buzz(t, P.REASON_EXERCISE, cue)

        # class of the moment
        if lying:
            self.state = LYING
        elif self.moving:
            self.state = MOVING
        elif self.flexion > self.posture.slouch:
            self.state = SLOUCHED
        elif abs(self.lateral) > self.posture.lean:
            self.state = LEANING
        elif self.flexion < -_RECLINE_DEG:
            self.state = RECLINED
        else:
            self.state = UPRIGHT
        self._record(t, dt)
        return pattern

    # --- trace and summaries -------------------------------------------------------------
    def _record(self, t, dt):
        if t >= self._trace_next:
            interval = self.settings["trace_interval_s"]
            if self._trace_next == 0.0 or t - self._trace_next > interval:
                self._trace_next = t
            self._trace_next += interval
            self._trace.append(round(self.flexion))
            self._trace.append(round(self.lateral))
            if len(self._trace) >= 2 * P.TRACE_MAX_PAIRS:
                self.flush_trace(t)
        s = self._sum
        if self._sum_start is None:
            self._sum_start = t
        s[0] += dt
        if self.state == UPRIGHT:
            s[1] += dt
        elif self.state == SLOUCHED:
            s[2] += dt
        elif self.state == MOVING:
            s[3] += dt
        if t - self._sum_start >= SUMMARY_S:
            self.flush_summary(t)

    def flush_trace(self, t):
        if self._trace:
            n = len(self._trace) // 2
            interval = self.settings["trace_interval_s"]
            self.emit(P.REC_TRACE, t - (n - 1) * interval, (interval, self._trace))
            self._trace = []

    def flush_summary(self, t):
        s = self._sum
        if s[0] <= 0.0:
            return
        lifts = self.lifts.count - self._sum_lifts
        stooped = self.lifts.stooped - self._sum_stooped
        self.emit(P.REC_SUMMARY, self._sum_start,
                  (int(s[0] + 0.5), int(s[1] + 0.5), int(s[2] + 0.5), int(s[3] + 0.5),
                   min(255, lifts), min(255, stooped), min(255, self.buzzes - self._sum_buzzes)))
        self._sum_lifts = self.lifts.count
        self._sum_stooped = self.lifts.stooped
        self._sum_buzzes = self.buzzes
        s[0] = s[1] = s[2] = s[3] = 0.0
        self._sum_start = t
