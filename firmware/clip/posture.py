# Posture coach: slouch and lean episodes, the buzz decision, activity gating.
# Two kinds of episode, never mixed: a slouch (flexion beyond slouch_deg) and a lean (lateral
# bend beyond lean_deg without slouching). A slouch takes precedence: flexion beyond the
# threshold ends a lean episode at once and starts a slouch. So every slouch episode's peak
# flexion is beyond slouch_deg and no lean episode's is: the host tells them apart by that.
# Every buzz decision is logged: a buzz given is the pipeline's BUZZ record, one held back is a
# HELD record here with why (activity, stale calibration, baseline, lean buzz off, quiet hours,
# snooze, hourly cap). A decision is due when the episode's delay (or repeat) has run out; one
# held back for the wearer's state or choices comes again a repeat later, one held back for an
# activity is logged once per stretch of it (the episode's clock stops meanwhile).
# Pure: ``update`` takes the time in seconds and trunk angles in degrees; events go to the
# ``emit(rtype, t, values)`` callback and a buzz request (its reason) is the return value.
import micropython
from micropython import const

from clip import protocol as P

MIN_EPISODE_S = 10.0  # over the threshold this long makes an episode (as the host counts)
MAX_DIP_S = 2.0  # back under the threshold shorter than this does not end an episode
MAX_GATED_S = 10.0  # walking away or lying down longer than this ends an episode
CORRECTION_S = 10.0  # straightening this soon after a reminder earns the tick (positive_tick)
BUZZ_HISTORY = const(60)  # the hourly cap can be at most 60 (settings.TABLE)
EXPOSURE_BUCKETS = const(60)


# states
UPRIGHT = const(0)
CANDIDATE = const(1)  # over the threshold, not yet long enough to count
SLOUCHED = const(2)


def _d10(deg):
    return round(deg * 10.0)


class PostureCoach:
    def __init__(self, settings, emit):
        self.emit = emit
        self.configure(settings)
        self.state = UPRIGHT
        self.snooze_until = -1.0
        self._buzz_times = [-1e9] * BUZZ_HISTORY  # ring of recent posture buzz times
        self._buzz_i = 0
        self._bucket = [0.0] * EXPOSURE_BUCKETS  # slouch seconds per exposure bucket
        self._bucket_start = 0.0
        self._bucket_i = 0
        self._last_t = None
        self._last_buzz = -1e9
        self._last_exposure = -1e9  # the exposure mode's last decision
        self.stale = False  # calibration stale (the pipeline says so)
        self.quiet = False  # in quiet hours (the pipeline says so)
        self._correct_until = -1.0  # a reminder was given: straightening before this is praised
        self._reset_episode(0.0)

    def configure(self, s):
        self.slouch = float(s["slouch_deg"])
        self.lean = float(s["lean_deg"])
        self.hyst = float(s["hysteresis_deg"])
        self.delay = float(s["slouch_delay_s"])
        self.repeat = float(s["repeat_s"])
        self.cap = s["max_buzz_per_hour"]
        self.exposure = s["exposure_mode"] == 1
        self.window = float(s["exposure_window_s"])
        self.limit = float(s["exposure_limit_s"])
        self.bucket_s = self.window / EXPOSURE_BUCKETS
        self.lean_buzz = s["lean_buzz"] == 1
        self.baseline = s["coach_phase"] == 0
        self.tick = s["positive_tick"] == 1

    def _reset_episode(self, t):
        self.start_t = t
        self.slouch_s = 0.0  # ungated time over the threshold in this episode
        self.clock_s = 0.0  # the delay's clock: ungated time since the start, dips included
        self.below_s = 0.0
        self.gated_s = 0.0
        self.peak = -1e9
        self.peak_lat = 0.0
        self.sum = 0.0
        self.n = 0
        self.next_buzz = self.delay
        self.start_flex = 0.0
        self.start_lat = 0.0
        self.kind_slouch = True  # the episode's kind: slouch, else lean
        self.held_for = 0  # the activity a due decision was held back for (logged once)

    def snooze(self, t, minutes):
        self.snooze_until = t + 60.0 * minutes if minutes else -1.0

    def buzzes_last_hour(self, t):
        n = 0
        for b in self._buzz_times:
            if t - b < 3600.0:
                n += 1
        return n

    def exposure_s(self):
        total = 0.0
        for v in self._bucket:
            total += v
        return total

    def _decide(self, t, reason):
        """A buzz for ``reason`` is due now: return it, or log why it is held back and
        return 0."""
        why = 0
        if self.stale:
            why = P.HELD_STALE
        elif self.baseline:
            why = P.HELD_BASELINE
        elif reason == P.REASON_LEAN and not self.lean_buzz:
            why = P.HELD_LEAN_OFF
        elif self.quiet:
            why = P.HELD_QUIET
        elif t < self.snooze_until:
            why = P.HELD_SNOOZED
        elif self.buzzes_last_hour(t) >= self.cap:
            why = P.HELD_CAP
        if why:
            self.emit(P.REC_HELD, t, (reason, why))
            return 0
        self._correct_until = t + CORRECTION_S
        return self._buzz(t, reason)

    def _buzz(self, t, reason):
        self._buzz_times[self._buzz_i] = t
        self._buzz_i = (self._buzz_i + 1) % BUZZ_HISTORY
        self._last_buzz = t
        return reason

    def _advance_buckets(self, t):
        while t - self._bucket_start >= self.bucket_s:
            self._bucket_start += self.bucket_s
            self._bucket_i = (self._bucket_i + 1) % EXPOSURE_BUCKETS
            self._bucket[self._bucket_i] = 0.0

    def _end_episode(self, t_end):
        if self.state == SLOUCHED:
            mean = self.sum / self.n if self.n else self.peak
            self.emit(P.REC_SLOUCH_END, t_end,
                      (int((t_end - self.start_t) * 1000), _d10(self.peak), _d10(mean),
                       _d10(self.peak_lat)))
        self.state = UPRIGHT
        self._reset_episode(t_end)

    @micropython.native
    def update(self, t, flexion, lateral, dt, gated=False):
        """One step at time ``t`` (s) of ``dt`` s. ``gated``: 0, or the activity (HELD_*:
        walking, lying, mid-lift...) that stops the episode's clock and holds any buzz back.
        Returns a buzz reason or 0."""
        if self._last_t is None:
            self._bucket_start = t
        self._last_t = t
        self._advance_buckets(t)
        slouched = flexion > self.slouch
        if self.state != UPRIGHT and slouched and not self.kind_slouch:
            self._end_episode(t)  # a slouch ends a lean episode and starts its own
        lean_kind = not slouched if self.state == UPRIGHT else not self.kind_slouch
        if lean_kind:
            over = lateral > self.lean or -lateral > self.lean
            clear = lateral < self.lean - self.hyst and -lateral < self.lean - self.hyst
        else:
            over = slouched
            clear = flexion < self.slouch - self.hyst
        buzz = 0
        if gated:
            if self.state != UPRIGHT:
                self.gated_s += dt
                if gated != self.held_for and over and not self.exposure \
                        and self.clock_s + self.gated_s >= self.next_buzz:
                    # the buzz would have been due by now had the wearer not been doing this
                    self.held_for = gated
                    self.emit(P.REC_HELD, t, (self._reason(), gated))
                if self.gated_s > MAX_GATED_S:
                    self._end_episode(t - self.gated_s)
            return 0
        self.gated_s = 0.0
        self.held_for = 0
        if self.state == UPRIGHT:
            if over:
                self.state = CANDIDATE
                self._reset_episode(t)
                self.kind_slouch = slouched
                self.start_flex, self.start_lat = flexion, lateral
            else:
                return 0
        self.clock_s += dt
        if over or not clear:
            self.below_s = 0.0
            self.slouch_s += dt
            self._bucket[self._bucket_i] += dt
            self.n += 1
            self.sum += flexion
            if flexion > self.peak:
                self.peak = flexion
            if abs(lateral) > abs(self.peak_lat):
                self.peak_lat = lateral
        else:
            self.below_s += dt
            if self.below_s >= MAX_DIP_S:
                self._end_episode(t - self.below_s)
                if t - self.below_s < self._correct_until:
                    self._correct_until = -1.0  # straightened soon after a reminder
                    if self.tick:  # not a reminder: outside the hourly cap
                        return P.REASON_CORRECTED
                return 0
        if self.state == CANDIDATE and self.slouch_s >= MIN_EPISODE_S:
            self.state = SLOUCHED
            self.emit(P.REC_SLOUCH_START, self.start_t,
                      (_d10(self.start_flex), _d10(self.start_lat)))
        if self.exposure:
            # half a step of slack: the sum of many float steps falls just short of whole
            if (self.exposure_s() >= self.limit - 0.5 * dt and self.below_s == 0.0
                    and t - self._last_exposure >= self.repeat
                    and t - self._last_buzz >= self.repeat):
                self._last_exposure = t
                buzz = self._decide(t, P.REASON_EXPOSURE)
        elif (self.clock_s >= self.next_buzz and self.below_s == 0.0
              and t - self._last_buzz >= self.repeat):
            # the delay runs on the episode's own clock: a short dip does not end the episode,
            # so it does not hold the buzz back either (it only waits for the dip to end)
            buzz = self._decide(t, self._reason())
            self.next_buzz = self.clock_s + self.repeat
        return buzz

    def _reason(self):
        return P.REASON_SLOUCH if self.kind_slouch else P.REASON_LEAN

    def finish(self, t):
        """Close an open episode (shutdown, recalibration)."""
        self._end_episode(t)
