# Haptic patterns and a non-blocking player. A pattern is a tuple of (level %, ms) steps; the
# player only says which level applies at a given time, so the app's haptics task sleeps until
# the next step and nothing blocks. Outputs: drivers/erm.py (PWM) and drivers/drv2605.py.
# indexed by the pattern ids of clip.protocol (PATTERN_*), which the BUZZ record carries
PATTERNS = (
    ((60, 200), (0, 150), (60, 200)),  # gentle: two soft pulses
    ((100, 120), (0, 80), (100, 120), (0, 80), (100, 400)),  # lift: short short long
    ((80, 80), (0, 60), (80, 80), (0, 60), (80, 80)),  # calibration done: three ticks
    ((50, 600),),  # low battery: one long soft pulse
    ((100, 100), (0, 100), (100, 100), (0, 700)),  # fault code
    ((90, 500), (0, 200), (90, 500), (0, 200), (90, 500)),  # recalibrate: long, long, long
    ((40, 40),),  # tick: straightened after a reminder, a rep, 10 s of a hold
    ((30, 300), (60, 300), (90, 300), (0, 400), (30, 300), (60, 300), (90, 300)),  # move
    ((100, 60), (0, 60), (100, 60), (0, 60), (100, 60), (0, 60), (100, 60)),  # check form
    ((40, 150), (0, 80), (70, 150), (0, 80), (100, 300)),  # target reached: rising triple
    ((60, 40), (0, 80), (60, 40)),  # a set recognised: two quick ticks
)


class Player:
    """Which output level applies now. ``start`` replaces a playing pattern (a newer buzz
    wins). ``step(now_ms)`` returns (level 0..100, ms until the next change or -1 when idle).

    Every segment is played for its full length from when ``step`` reaches it: a task woken
    late stretches the pattern rather than dropping a pulse (a fault code of two pulses must
    not arrive as one)."""

    def __init__(self, intensity_pct=80):
        self.intensity = intensity_pct
        self.pattern = None
        self._i = 0  # segment playing
        self._t0 = 0  # when it began, ms
        self.played = 0

    def start(self, pattern_id, now_ms):
        self.pattern = PATTERNS[pattern_id]
        self._i = 0
        self._t0 = now_ms
        self.played += 1

    def stop(self):
        self.pattern = None

    def step(self, now_ms):
        p = self.pattern
        if p is None:
            return 0, -1
        level, ms = p[self._i]
        left = self._t0 + ms - now_ms
        if left <= 0:  # this segment is over: the next one begins now
            self._i += 1
            if self._i == len(p):
                self.pattern = None
                return 0, -1
            self._t0 = now_ms
            level, left = p[self._i]
        return level * self.intensity // 100, left
