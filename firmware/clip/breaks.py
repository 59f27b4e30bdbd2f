# Movement breaks (docs/exercise.md; the host's postureclip/breaks.py is the same rule).
#
# A still clock runs from the start and from the end of each break. A break is walking for
# BREAK_WALK_S in all with no pause over BREAK_GAP_S between (it lasts until such a pause: the
# clock restarts at the end of each of its walks), or an exercise session (sets less than
# SESSION_GAP_S apart: one break, the clock restarting after each set). When the clock reaches
# the limit a "time to move" reminder is due; the pipeline holds it while the wearer walks,
# lies, exercises, or the clip lies without any motion (off the body: the clock starts afresh
# when it moves again), and gives it when that ends; the next is due a limit later.
# Pure: ``update`` once per fused step.
from micropython import const

BREAK_WALK_S = 60.0
BREAK_GAP_S = 120.0
SESSION_GAP_S = 300.0
MOTIONLESS_S = 60.0

NOTHING = const(0)
BREAK = const(1)  # a break was counted: ``still_s`` holds the stretch it ended
DUE = const(2)  # a reminder is due (held or not: the pipeline decides)


class MoveWatch:
    def __init__(self):
        self.clock_s = 0.0  # since the last break (or the start)
        self.due_s = 0.0  # the clock reading at which the next reminder is due
        self.still_s = 0.0  # the stretch the last break ended
        self.longest_s = 0.0
        self._walked_s = 0.0
        self._gap_s = 1e9
        self._counted = False
        self._motionless_s = 0.0
        self._last_set_end = -1e9
        self.limit_s = 1800.0
        self.due_s = self.limit_s

    def configure(self, settings):
        self.limit_s = 60.0 * settings["move_after_min"]
        self.due_s = self.clock_s + self.limit_s if self.limit_s > 0.0 else 1e18

    def restart(self):
        self.clock_s = 0.0
        self.due_s = self.limit_s if self.limit_s > 0.0 else 1e18

    def set_done(self, start, end):
        """An exercise set from ``start`` to ``end`` (s) was recognised: True if it began a
        session (a break)."""
        new = start - self._last_set_end > SESSION_GAP_S
        self._last_set_end = end
        if new:
            self._break()
        else:
            self.restart()
        return new

    def _break(self):
        self.still_s = self.clock_s
        if self.clock_s > self.longest_s:
            self.longest_s = self.clock_s
        self.restart()

    def update(self, walking, motionless, dt):
        """One step: ``walking`` (with a step rhythm, not lying), ``motionless`` (no motion
        at all, not even breathing), ``dt`` s. Returns NOTHING, BREAK or DUE (due now and
        on every step until ``given``)."""
        self.clock_s += dt
        answer = NOTHING
        if walking:
            if self._gap_s > BREAK_GAP_S:
                self._walked_s = 0.0
                self._counted = False
            self._gap_s = 0.0
            self._walked_s += dt
            if self._counted:
                self.restart()
            elif self._walked_s >= BREAK_WALK_S:
                self._counted = True
                self._break()
                answer = BREAK
        else:
            self._gap_s += dt
        if motionless:
            self._motionless_s += dt
        elif self._motionless_s > 0.0:
            if self._motionless_s >= MOTIONLESS_S:
                self.restart()  # back on the body: what happened meanwhile is unknown
            self._motionless_s = 0.0
        if answer == NOTHING and self.clock_s >= self.due_s:
            answer = DUE
        return answer

    def off_body(self):
        return self._motionless_s >= MOTIONLESS_S

    def given(self):
        """The due reminder was given: the next is due a limit later."""
        self.due_s = self.clock_s + self.limit_s
