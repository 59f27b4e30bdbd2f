# Coaching settings: one table of keys, units, defaults and bounds, validated on every write.
# Pure: persistence (atomic JSON file) lives in clip/store.py, which calls these functions.
from micropython import const

# key id on the wire, name, default, lowest, highest (all integers, units in the name)
TABLE = (
    (1, "slouch_deg", 20, 5, 45),  # flexion beyond neutral that counts as slouching
    (2, "lean_deg", 15, 5, 45),  # lateral bend that counts as leaning
    (3, "slouch_delay_s", 30, 3, 600),  # continuous slouch before the first buzz
    (4, "hysteresis_deg", 3, 1, 10),  # an episode ends below threshold minus this
    (5, "repeat_s", 60, 10, 3600),  # time between buzzes while still slouched
    (6, "max_buzz_per_hour", 6, 0, 60),  # cap on posture buzzes in any sliding hour
    (7, "exposure_mode", 0, 0, 1),  # 1: buzz on cumulative slouch time in a window
    (8, "exposure_window_s", 1800, 60, 14400),  # sliding window of the exposure mode
    (9, "exposure_limit_s", 300, 10, 14400),  # slouch time in the window that buzzes
    (10, "intensity_pct", 80, 10, 100),  # haptic strength
    (11, "lift_coach", 1, 0, 1),  # buzz after stooped or twisted lifts
    (12, "twist_deg", 30, 15, 90),  # axial rotation that makes a lift twisted
    (13, "require_encryption", 1, 0, 1),  # control and log need an encrypted link
    (14, "trace_interval_s", 1, 1, 60),  # angle trace period in the flash log
    (15, "lean_buzz", 0, 0, 1),  # buzz for a lateral lean held past the delay too
    (16, "quiet_start_min", 0, 0, 1439),  # quiet hours from (local minutes after midnight)...
    (17, "quiet_end_min", 0, 0, 1439),  # ...to; equal: no quiet hours
    (18, "utc_offset_min", 0, -720, 840),  # local time = UTC + this (the host sets it)
    (19, "coach_phase", 1, 0, 1),  # 0: baseline, measure only (no posture buzzes); 1: coach
    (20, "positive_tick", 0, 0, 1),  # a tick when the wearer straightens after a reminder
    (21, "move_after_min", 30, 0, 240),  # still this long without a break: time to move; 0 off
    (22, "exercise_cues", 1, 0, 1),  # ticks for reps and holds, the form cue
    (23, "hold_target_s", 0, 0, 600),  # a hold this long plays TARGET (the programme); 0 none
    (24, "rep_target", 0, 0, 50),  # ...and a set of this many repetitions; 0 none
)
_KEY = const(0)
_NAME = const(1)
_DEFAULT = const(2)
_LO = const(3)
_HI = const(4)

ERR_UNKNOWN_KEY = const(1)
ERR_RANGE = const(2)
ERR_CONSISTENCY = const(3)


class SettingsError(ValueError):
    def __init__(self, code, message):
        super().__init__(message)
        self.code = code


def defaults():
    return {row[_NAME]: row[_DEFAULT] for row in TABLE}


def row_by_key(key):
    for row in TABLE:
        if row[_KEY] == key:
            return row
    raise SettingsError(ERR_UNKNOWN_KEY, "unknown setting key %d" % key)


def row_by_name(name):
    for row in TABLE:
        if row[_NAME] == name:
            return row
    raise SettingsError(ERR_UNKNOWN_KEY, "unknown setting %r" % (name,))


def _check_consistent(values):
    if values["exposure_limit_s"] > values["exposure_window_s"]:
        raise SettingsError(ERR_CONSISTENCY, "exposure_limit_s must not exceed exposure_window_s")


def _check_range(name, value):
    row = row_by_name(name)
    if not isinstance(value, int) or isinstance(value, bool):
        raise SettingsError(ERR_RANGE, "%s must be an integer" % name)
    if value < row[_LO] or value > row[_HI]:
        raise SettingsError(ERR_RANGE, "%s=%d outside %d..%d" % (name, value, row[_LO], row[_HI]))


def with_value(values, name, value):
    """Return a copy of ``values`` with ``name`` set; raise SettingsError and leave
    ``values`` untouched when the name is unknown, the value out of range or the result
    inconsistent."""
    _check_range(name, value)
    new = dict(values)
    new[name] = value
    _check_consistent(new)
    return new


def validated(stored):
    """Settings from a stored dict: unknown names dropped, bad or missing values defaulted,
    an inconsistent exposure limit cut to its window."""
    values = defaults()
    if isinstance(stored, dict):
        for name in values:
            if name in stored:
                try:
                    _check_range(name, stored[name])
                    values[name] = stored[name]
                except SettingsError:
                    pass
    if values["exposure_limit_s"] > values["exposure_window_s"]:
        values["exposure_limit_s"] = values["exposure_window_s"]
    return values
