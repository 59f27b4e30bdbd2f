"""The exercise programme (postureclip.program): levels up after sessions at the targets,
eases after failed sessions and missed weeks; adherence."""
from __future__ import annotations

from datetime import UTC, date, datetime

from postureclip.program import (
    LEVELS,
    STEP_SESSIONS,
    Program,
    Session,
    adherence,
    advance,
    sessions,
)

DAY = 86400.0
T0 = datetime(2026, 11, 2, 18, tzinfo=UTC).timestamp()  # a Monday evening


def session(at: float, level: int, good: bool) -> Session:
    """Four sets: two planks and two bridge sets, at (or well short of) the level's targets."""
    hold, reps = LEVELS[level]
    h, r = (hold + 2.0, reps) if good else (hold * 0.4, reps // 3)
    return Session(at, at + 600.0, ((1, 0, h), (1, 0, h), (4, r, 0.0), (4, r, 0.0)))


def test_three_sessions_at_the_targets_raise_the_level_and_a_late_sync_catches_up() -> None:
    p = Program("2026-11-02", 1)
    known = [session(T0 + 2 * k * DAY, 1, True) for k in range(STEP_SESSIONS)]
    known += [session(T0 + 2 * (STEP_SESSIONS + k) * DAY, 2, True) for k in range(STEP_SESSIONS)]
    after = advance(p, known, T0 + 12 * DAY, UTC)
    assert after.level == 3 and [w for _, w in after.log] == [
        "3 sessions at the targets: level 3", "3 sessions at the targets: level 4"]
    assert after.settings() == {"hold_target_s": LEVELS[3][0], "rep_target": LEVELS[3][1]}
    assert advance(after, known, T0 + 12 * DAY, UTC) == after  # nothing counted twice
    assert p.level == 1  # pure


def test_failed_sessions_and_a_missed_week_ease_off() -> None:
    p = Program("2026-11-02", 3)
    known = [session(T0, 3, False), session(T0 + DAY, 3, False)]
    after = advance(p, known, T0 + 2 * DAY, UTC)
    assert after.level == 2 and "2 sessions short of the targets" in after.log[-1][1]
    later = advance(after, known, T0 + 9 * DAY, UTC)  # a week without a session
    assert later.level == 1 and "no session for 7 days" in later.log[-1][1]
    assert advance(later, known, T0 + 20 * DAY, UTC).level == 1  # once per gap
    back = [*known, session(T0 + 21 * DAY, 1, True)]
    assert advance(later, back, T0 + 21.5 * DAY, UTC).level == 1
    assert advance(Program("2026-11-02", 0), known, T0 + 30 * DAY, UTC).level == 0  # floor


def test_sessions_group_sets_and_adherence_counts_weeks() -> None:
    rows = [{"utc": T0 + x, "span_s": 40.0, "kind": 1, "reps": 0, "hold_s": 35.0}
            for x in (0.0, 100.0, 250.0, 2000.0)] + [
        {"utc": None, "span_s": 40.0, "kind": 1, "reps": 0, "hold_s": 35.0}]
    got = sessions(rows)
    assert [len(s.sets) for s in got] == [3, 1]  # 1710 s apart: two sessions; unplaced: none
    p = Program("2026-10-01", 1)
    known = [session(T0 - 7 * DAY + k * DAY, 1, True) for k in (0, 2, 4)]
    known += [session(T0 + k * DAY, 1, k != 2) for k in (0, 2, 4)]
    adh = adherence(p, known, date(2026, 11, 6), UTC)
    assert (adh.sessions_this_week, adh.streak_weeks) == (3, 2)
    assert adh.targets_met == 8 / 12
    assert "3 of 3 sessions in the last 7 days; 2 weeks in a row; 67 %" in adh.describe()
