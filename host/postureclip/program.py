"""The exercise programme: hold and repetition targets that grow as the wearer completes
sessions and ease off after missed weeks or failed sessions, like a physiotherapy programme
(docs/exercise.md, The programme). Computed on the worker's computer after each sync from the
clip's EXERCISE records and written to the clip (``hold_target_s``, ``rep_target``: the clip
plays TARGET when a hold or a set reaches them).

A session is exercise sets less than ``SESSION_GAP_S`` apart. A set meets the level's target
when a hold lasts the hold target (within the measurement's second) or a set of repetitions
reaches the repetition target. A session meets the targets when ``MET_SHARE`` of its sets do:
``STEP_SESSIONS`` such sessions at a level and the next level comes; ``FAILED_SESSIONS``
sessions in a row with fewer than half their sets meeting the targets, or a week without any
session, and the level before comes back.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date, datetime, timedelta, tzinfo

# (hold target s, repetition target) per level, gentlest first
LEVELS: tuple[tuple[int, int], ...] = ((20, 8), (30, 10), (40, 12), (50, 12), (60, 15),
                                       (75, 15), (90, 20))
START_LEVELS = {"easy": 0, "standard": 1, "strong": 3}
WEEKLY_SESSIONS = 3  # strength work 2-3 times a week (docs/exercise.md)
SESSION_GAP_S = 300.0  # clip/breaks.py SESSION_GAP_S: sets closer than this are one session
STEP_SESSIONS = 3
MET_SHARE = 0.8
FAILED_SHARE = 0.5
FAILED_SESSIONS = 2
MISSED_DAYS = 7
HOLD_TOLERANCE_S = 1.0  # the hold time's measurement error (docs/benchmarks.md)


@dataclass(frozen=True)
class Session:
    """Exercise sets less than SESSION_GAP_S apart: (kind, reps, hold s) each; UNIX times."""

    start_utc: float
    end_utc: float
    sets: tuple[tuple[int, int, float], ...]


def sessions(rows: list[dict[str, float]]) -> list[Session]:
    """Sessions from the store's ``exercise_sets`` rows placed in time."""
    out: list[Session] = []
    placed = sorted((r for r in rows if r["utc"] is not None), key=lambda r: r["utc"])
    group: list[dict[str, float]] = []
    for r in placed:
        if group and r["utc"] - (group[-1]["utc"] + group[-1]["span_s"]) > SESSION_GAP_S:
            out.append(_session(group))
            group = []
        group.append(r)
    if group:
        out.append(_session(group))
    return out


def _session(rows: list[dict[str, float]]) -> Session:
    return Session(rows[0]["utc"], max(r["utc"] + r["span_s"] for r in rows),
                   tuple((int(r["kind"]), int(r["reps"]), float(r["hold_s"])) for r in rows))


def met(kind_reps_hold: tuple[int, int, float], level: int) -> bool:
    """Did a set meet the level's target?"""
    _, reps, hold = kind_reps_hold
    hold_target, rep_target = LEVELS[level]
    return reps >= rep_target if reps else hold >= hold_target - HOLD_TOLERANCE_S


@dataclass
class Program:
    """The programme's state (kept in the store as JSON)."""

    started: str  # ISO date
    level: int
    counted_through: float = 0.0  # UNIX time of the last session's end taken into account
    last_session: float | None = None  # UNIX time of the last session's end
    eased_for: float | None = None  # the last session a missed week already eased from
    good_in_row: int = 0
    failed_in_row: int = 0
    log: list[tuple[str, str]] = field(default_factory=list)  # (ISO date, what happened)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Program:
        d = json.loads(text)
        d["log"] = [tuple(x) for x in d.get("log", [])]
        return Program(**d)

    def settings(self) -> dict[str, int]:
        """The clip settings the programme sets now."""
        hold, reps = LEVELS[self.level]
        return {"hold_target_s": hold, "rep_target": reps}

    def describe(self) -> str:
        hold, reps = LEVELS[self.level]
        return (f"level {self.level + 1} of {len(LEVELS)}: holds of {hold} s, {reps} "
                f"repetitions a set, {WEEKLY_SESSIONS} sessions a week; "
                f"{self.good_in_row} of {STEP_SESSIONS} sessions at the targets for the next "
                "level")


def advance(program: Program, known: list[Session], now_utc: float, tz: tzinfo) -> Program:
    """The programme after the sessions known now (any since it started); pure. Applies every
    step they allow, so a late sync catches up."""
    p = Program(**{**asdict(program), "log": list(program.log)})
    start = datetime.fromisoformat(p.started).replace(tzinfo=tz).timestamp()

    def day(utc: float) -> str:
        return datetime.fromtimestamp(utc, tz).date().isoformat()

    def ease(utc: float, why: str) -> None:
        if p.level > 0:
            p.level -= 1
        p.good_in_row = p.failed_in_row = 0
        p.log.append((day(utc), f"{why}: easier, level {p.level + 1}"))

    for s in known:
        if s.start_utc < start or s.end_utc <= p.counted_through:
            continue
        if (p.last_session is not None and p.eased_for != p.last_session
                and s.start_utc - p.last_session >= MISSED_DAYS * 86400.0):
            ease(s.start_utc, f"no session for {(s.start_utc - p.last_session) / 86400:.0f} "
                              "days")
        share = sum(met(x, p.level) for x in s.sets) / len(s.sets)
        if share >= MET_SHARE:
            p.good_in_row += 1
            p.failed_in_row = 0
            if p.good_in_row >= STEP_SESSIONS and p.level < len(LEVELS) - 1:
                p.level += 1
                p.good_in_row = 0
                p.log.append((day(s.end_utc), f"{STEP_SESSIONS} sessions at the targets: "
                                              f"level {p.level + 1}"))
        elif share < FAILED_SHARE:
            p.failed_in_row += 1
            p.good_in_row = 0
            if p.failed_in_row >= FAILED_SESSIONS:
                ease(s.end_utc, f"{FAILED_SESSIONS} sessions short of the targets")
        p.counted_through = s.end_utc
        p.last_session = s.end_utc
    if (p.last_session is not None and p.eased_for != p.last_session
            and now_utc - p.last_session >= MISSED_DAYS * 86400.0):
        p.eased_for = p.last_session
        ease(now_utc, f"no session for {MISSED_DAYS} days")
    return p


@dataclass(frozen=True)
class Adherence:
    """Sessions in the last 7 days, the streak of weeks with WEEKLY_SESSIONS sessions
    (counting back from the week ending today; the current one counts once it is reached),
    and the share of the last 7 days' sets that met the targets."""

    sessions_this_week: int
    streak_weeks: int
    targets_met: float | None

    def describe(self) -> str:
        met_text = ("" if self.targets_met is None
                    else f"; {100 * self.targets_met:.0f} % of the sets at the targets")
        return (f"{self.sessions_this_week} of {WEEKLY_SESSIONS} sessions in the last 7 days; "
                f"{self.streak_weeks} week{'s' if self.streak_weeks != 1 else ''} in a row"
                f"{met_text}")


def adherence(program: Program, known: list[Session], today: date, tz: tzinfo) -> Adherence:
    end = datetime(today.year, today.month, today.day, tzinfo=tz) + timedelta(days=1)

    def in_week(k: int) -> list[Session]:
        hi = (end - timedelta(days=7 * k)).timestamp()
        lo = hi - 7 * 86400.0
        return [s for s in known if lo <= s.start_utc < hi]

    week = in_week(0)
    streak = 1 if len(week) >= WEEKLY_SESSIONS else 0
    k = 1
    while len(in_week(k)) >= WEEKLY_SESSIONS:
        streak += 1
        k += 1
    sets = [x for s in week for x in s.sets]
    share = sum(met(x, program.level) for x in sets) / len(sets) if sets else None
    return Adherence(len(week), streak, share)
