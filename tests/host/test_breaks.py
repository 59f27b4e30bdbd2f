"""The movement-break rule (postureclip.breaks) on constructed days."""
from __future__ import annotations

import numpy as np

from postureclip.breaks import find_breaks

MIN = 60.0
FS = 1.0


def _day(*parts: tuple[float, str]):
    """(minutes, what) stretches: "sit", "walk", "lie", "off" -> t and masks."""
    kinds = np.concatenate([np.full(round(m * MIN * FS), k) for m, k in parts])
    t = np.arange(len(kinds)) / FS
    return t, kinds == "walk", kinds == "lie", kinds == "off"


def _run(*parts: tuple[float, str], sets=(), limit_min: float = 30.0):
    t, walk, lie, off = _day(*parts)
    return find_breaks(t, walk, lie, off, list(sets), limit_min * MIN)


def test_a_reminder_comes_at_the_limit_and_again_after_each_further_limit() -> None:
    b = _run((100.0, "sit"))
    assert b.reminders == [30 * MIN, 60 * MIN, 90 * MIN] and b.breaks == []
    assert b.longest_still_s >= 99 * MIN


def test_a_minute_of_walking_is_a_break_and_restarts_the_clock_from_its_end() -> None:
    b = _run((20.0, "sit"), (1.5, "walk"), (40.0, "sit"))
    assert b.breaks == [21 * MIN]
    assert b.reminders == [(21.5 + 30) * MIN]


def test_a_short_walk_is_no_break_and_a_due_reminder_waits_for_its_end() -> None:
    b = _run((29.5, "sit"), (0.75, "walk"), (10.0, "sit"))
    assert b.breaks == [] and b.reminders == [30.25 * MIN]


def test_walks_with_short_pauses_add_up_to_a_break() -> None:
    b = _run((10.0, "sit"), (0.5, "walk"), (1.0, "sit"), (0.5, "walk"), (5.0, "sit"))
    assert b.breaks == [12 * MIN]
    b = _run((10.0, "sit"), (0.5, "walk"), (3.0, "sit"), (0.5, "walk"), (5.0, "sit"))
    assert b.breaks == []


def test_lying_and_off_the_body_hold_the_reminder() -> None:
    b = _run((25.0, "sit"), (20.0, "lie"), (5.0, "sit"))
    assert b.reminders == [45 * MIN]
    # a minute without any motion: taken off; put on again, the clock starts afresh
    b = _run((25.0, "sit"), (20.0, "off"), (40.0, "sit"))
    assert b.reminders == [(45 + 30) * MIN]
    b = _run((25.0, "sit"), (20.0, "off"), (5.0, "sit"), limit_min=0.0)
    assert b.reminders == []


def test_an_exercise_session_is_one_break() -> None:
    b = _run((20.0, "sit"), (10.0, "lie"), (40.0, "sit"),
             sets=[(20.5 * MIN, 21 * MIN), (22 * MIN, 23 * MIN), (25 * MIN, 26 * MIN)])
    assert b.breaks == [21 * MIN]
    assert b.reminders == [(26 + 30) * MIN]
