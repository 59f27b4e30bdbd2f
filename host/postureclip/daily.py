"""A worker's days from the store's decoded tables: what `postureclip today` and `history` show.

Days are calendar days in the computer's local time zone (``tz``). Sources: the clip's
per-minute SUMMARY records (recorded time, upright, slouch), its slouch episodes (count,
longest), its buzzes (posture reminders and lift warnings), the reminders it held back and
why, its slips and its lifts. Only records placed
in time count (docs/store.md: a boot that never met a host cannot be put on a day).
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, tzinfo

from . import risk
from .protocol import BuzzReason, ExerciseKind, HeldReason, SlipKind
from .store import Store

DEFAULT_GOAL_UPRIGHT_PCT = 80.0  # of the time sitting or standing; `--goal` changes it
POSTURE_REASONS = (BuzzReason.SLOUCH, BuzzReason.EXPOSURE, BuzzReason.LEAN)
# how a held-back reminder's reason reads in a sentence ("held back while walking")
HELD_WORDS = {HeldReason.CALIBRATING: "while calibrating", HeldReason.LIFTING: "mid-lift",
              HeldReason.LYING: "while lying down", HeldReason.WALKING: "while walking",
              HeldReason.MOVING: "while moving in place (a vehicle, handling things)",
              HeldReason.RECLINED: "while leaning back", HeldReason.STALE:
              "until you calibrate (the clip was off, or slipped 3 times)", HeldReason.BASELINE:
              "in the baseline phase", HeldReason.LEAN_OFF: "leaning to one side (lean_buzz 0)",
              HeldReason.QUIET: "in quiet hours", HeldReason.SNOOZED: "while snoozed",
              HeldReason.CAP: "by the hourly cap", HeldReason.EXERCISE: "while exercising",
              HeldReason.OFF: "with the clip off"}
LIFT_REASONS = (BuzzReason.LIFT_STOOP, BuzzReason.LIFT_TWIST)


@dataclass(frozen=True)
class Day:
    """One day's numbers; times in seconds."""

    day: date
    recorded_s: float  # minutes the clip summarised (worn or not: it cannot tell a table)
    upright_s: float
    slouch_s: float
    moving_s: float  # walking, lifting, handling: neither upright nor slouched
    episodes: int
    longest_episode_s: float
    posture_buzzes: int
    median_correction_s: float | None  # from a posture buzz to its episode's end
    lifts: int
    squats: int
    stoops: int
    twisted_lifts: int
    lift_warnings: int
    held: dict[str, int] = field(default_factory=dict)  # held-back reminders by HELD_WORDS
    slips: int = 0  # the clip turned on the back and re-measured itself (not undone)
    worn_off: int = 0  # the clip lay off the body
    corrections_s: list[float] = field(default_factory=list)  # buzz -> sat up, each
    lift_scores: list[int] = field(default_factory=list)  # postureclip.risk, per lift
    exercise: list[tuple[str, int, float]] = field(default_factory=list)  # kind, reps, hold s
    breaks: int = 0
    longest_still_s: float = 0.0  # the longest still stretch a break ended
    move_reminders: int = 0

    @property
    def upright_pct(self) -> float | None:
        """Share of the time sitting or standing (upright or slouched) that was upright."""
        posture = self.upright_s + self.slouch_s
        return None if posture <= 0 else 100.0 * self.upright_s / posture

    @property
    def empty(self) -> bool:
        return self.recorded_s <= 0 and self.episodes == 0 and self.lifts == 0

    def goal_met(self, goal_pct: float) -> bool | None:
        pct = self.upright_pct
        return None if pct is None else pct >= goal_pct


def day_bounds(day: date, tz: tzinfo) -> tuple[float, float]:
    """UNIX seconds of the day's first instant and the next day's, in ``tz``."""
    start = datetime(day.year, day.month, day.day, tzinfo=tz)
    end = start + timedelta(days=1)
    return start.timestamp(), end.timestamp()


def summarize(store: Store, day: date, tz: tzinfo, device: str | None = None) -> Day:
    t0, t1 = day_bounds(day, tz)
    summaries = store.rows("summaries", t0, t1, device)
    episodes = store.rows("episodes", t0, t1, device)
    buzzes = store.rows("buzzes", t0, t1, device)
    lifts = store.rows("lifts", t0, t1, device)
    posture = [b for b in buzzes if b["reason"] in POSTURE_REASONS]
    held: dict[str, int] = {}
    for h in store.rows("held", t0, t1, device):
        why = int(h["why"])
        word = (HELD_WORDS[HeldReason(why)] if why in set(HeldReason)
                else "for a reason this postureclip does not know")
        held[word] = held.get(word, 0) + 1
    slip_rows = store.rows("slips", t0, t1, device)
    breaks = store.rows("breaks", t0, t1, device)
    kinds = [s["kind"] for s in slip_rows]
    corrections = []
    for b in posture:
        for e in episodes:
            if e["device"] == b["device"] and e["utc"] <= b["utc"] <= e["utc"] + e["duration_s"]:
                corrections.append(e["utc"] + e["duration_s"] - b["utc"])
                break
    return Day(
        day=day,
        recorded_s=float(sum(s["span_s"] for s in summaries)),
        upright_s=float(sum(s["upright_s"] for s in summaries)),
        slouch_s=float(sum(s["slouch_s"] for s in summaries)),
        moving_s=float(sum(s["moving_s"] for s in summaries)),
        episodes=len(episodes),
        longest_episode_s=max((e["duration_s"] for e in episodes), default=0.0),
        posture_buzzes=len(posture),
        median_correction_s=statistics.median(corrections) if corrections else None,
        lifts=len(lifts),
        squats=sum(1 for x in lifts if x["technique"] == "squat"),
        stoops=sum(1 for x in lifts if x["technique"] == "stoop"),
        twisted_lifts=sum(1 for x in lifts if x["twisted"]),
        lift_warnings=sum(1 for b in buzzes if b["reason"] in LIFT_REASONS),
        held=held,
        slips=kinds.count(SlipKind.REANCHORED) - kinds.count(SlipKind.UNDONE),
        worn_off=kinds.count(SlipKind.WORN_OFF),
        corrections_s=corrections,
        lift_scores=[risk.lift_score(x["peak_flexion_deg"], x["duration_s"], bool(x["twisted"]),
                                     bool(x["lateral"])) for x in lifts],
        exercise=[(_exercise_name(int(x["kind"])), int(x["reps"]), float(x["hold_s"]))
                  for x in store.rows("exercise_sets", t0, t1, device)],
        breaks=len(breaks),
        longest_still_s=max((float(b["still_s"]) for b in breaks), default=0.0),
        move_reminders=sum(1 for b in buzzes if b["reason"] == BuzzReason.MOVE),
    )


def _exercise_name(kind: int) -> str:
    """An exercise kind as a person reads it ("side plank (left)")."""
    try:
        name = ExerciseKind(kind).name.lower()
    except ValueError:
        return "an exercise this postureclip does not know"
    side = name.partition("_plank_")[2]
    return f"side plank ({side})" if side else name.replace("_", " ")


def format_exercise(sets: list[tuple[str, int, float]]) -> str:
    """"plank 2 × (45 s, 52 s), bridge 12 + 10 reps"."""
    by_kind: dict[str, list[tuple[int, float]]] = {}
    for kind, reps, hold in sets:
        by_kind.setdefault(kind, []).append((reps, hold))
    parts = []
    for kind, done in by_kind.items():
        if all(reps == 0 for reps, _ in done):
            parts.append(f"{kind} {len(done)} × (" + ", ".join(f"{h:.0f} s" for _, h in done)
                         + ")")
        else:
            parts.append(f"{kind} " + " + ".join(str(r) for r, _ in done) + " reps")
    return ", ".join(parts)


def _minutes(seconds: float) -> str:
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.0f} min"


def format_day(d: Day, goal_pct: float) -> str:
    pct = d.upright_pct
    met = d.goal_met(goal_pct)
    goal = "" if met is None else (" — goal met" if met else " — under the goal")
    correction = ("" if d.median_correction_s is None else
                  f"; you sat up {d.median_correction_s:.0f} s after a buzz (median)")
    lines = [
        f"{d.day:%A %d %B %Y}",
        f"  recorded       {d.recorded_s / 3600:.1f} h, {_minutes(d.moving_s)} of it moving",
        f"  upright        {'–' if pct is None else f'{pct:.0f} %'} of the time sitting or "
        f"standing (goal {goal_pct:.0f} %){goal}",
        f"  slouched       {_minutes(d.slouch_s)} in {d.episodes} episodes, longest "
        f"{_minutes(d.longest_episode_s)}",
        f"  reminders      {d.posture_buzzes} buzzes{correction}",
        *([f"  held back      {sum(d.held.values())}: " + ", ".join(
            f"{n} {word}" for word, n in sorted(d.held.items(), key=lambda x: -x[1]))]
          if d.held else []),
        *([f"  clip moved     {d.slips} time{'s' if d.slips != 1 else ''} on your back "
           "(it re-measured itself)"] if d.slips else []),
        *([f"  taken off      {d.worn_off} time{'s' if d.worn_off != 1 else ''} (calibrate "
           "when you put it back on)"] if d.worn_off else []),
        *([f"  exercise       {len(d.exercise)} set{'s' if len(d.exercise) != 1 else ''}: "
           + format_exercise(d.exercise)] if d.exercise else []),
        f"  breaks         {d.breaks} (a minute's walk or an exercise session); longest "
        f"still stretch {_minutes(d.longest_still_s)}; {d.move_reminders} reminder"
        f"{'s' if d.move_reminders != 1 else ''} to move",
        f"  lifts          {d.lifts} ({d.squats} squat, {d.stoops} stoop, "
        f"{d.twisted_lifts} twisted); {d.lift_warnings} lift warnings"
        + ("" if not d.lift_scores else
           f"; risk {statistics.mean(d.lift_scores):.1f} of 7 on average, "
           f"{sum(1 for x in d.lift_scores if x >= 5)} at 5 or more"),
    ]
    return "\n".join(lines)


def format_history(days: list[Day], goal_pct: float) -> str:
    lines = ["day          recorded  upright  slouch  episodes  buzzes  lifts  stooped  goal"]
    for d in days:
        pct = d.upright_pct
        met = d.goal_met(goal_pct)
        lines.append(
            f"{d.day:%a %d %b}  {d.recorded_s / 3600:6.1f} h  "
            f"{'    –' if pct is None else f'{pct:4.0f} %'}  {d.slouch_s / 60:4.0f} min  "
            f"{d.episodes:8d}  {d.posture_buzzes:6d}  {d.lifts:5d}  {d.stoops:7d}  "
            f"{'–' if met is None else ('yes' if met else 'no')}")
    with_data = [d for d in days if d.upright_pct is not None]
    if with_data:
        n_met = sum(1 for d in with_data if d.goal_met(goal_pct))
        lines.append(f"goal ({goal_pct:.0f} % of the sitting and standing time upright) met on "
                     f"{n_met} of {len(with_data)} days with data")
    return "\n".join(lines)
