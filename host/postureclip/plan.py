"""The training plan: a baseline that only measures, then coaching that tightens as the wearer
slouches less and eases when they slouch more, like a fitness plan (docs/user-guide.md, The
plan). Computed on the worker's computer after each sync and written to the clip's settings.

Days count when the clip was worn at least the daily wear target. The first
``BASELINE_DAYS`` such days are the baseline: ``coach_phase`` 0, no posture reminders, every
slouch measured. Then the plan starts at a level of ``LEVELS`` (gentler when the baseline
slouched more) and, after each ``STEP_DAYS`` worn days at a level, compares the share of the
sitting and standing time spent slouched over them with the share the level started from: 20 %
less and the next level is stricter (a smaller angle, a shorter delay); 20 % more and the level
before comes back. Everything else stays as the wearer set it.
"""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import date

from .daily import Day

# (slouch_deg, slouch_delay_s) per level, gentlest first; the clip's defaults are level 2
LEVELS: tuple[tuple[int, int], ...] = ((25, 60), (22, 45), (20, 30), (18, 20), (16, 15))
BASELINE_DAYS = 3
STEP_DAYS = 3
TIGHTEN = 0.8  # the recent slouch share at most this times the level's start: stricter
RELAX = 1.2  # ...at least this times: gentler
HIGH_BASELINE = 0.30  # a baseline slouching more than this starts at the gentlest level
DEFAULT_WEAR_H = 6.0


@dataclass
class Plan:
    """The plan's state (kept in the store as JSON). ``level`` None: the baseline."""

    started: str  # ISO date
    wear_target_h: float = DEFAULT_WEAR_H
    level: int | None = None
    level_since: str | None = None  # the first day after the level began (ISO date)
    share_at_level: float | None = None  # the slouch share the level started from
    log: list[tuple[str, str]] = field(default_factory=list)  # (ISO date, what happened)

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @staticmethod
    def from_json(text: str) -> Plan:
        d = json.loads(text)
        d["log"] = [tuple(x) for x in d.get("log", [])]
        return Plan(**d)

    def settings(self) -> dict[str, int]:
        """The clip settings the plan sets now."""
        if self.level is None:
            return {"coach_phase": 0}
        deg, delay = LEVELS[self.level]
        return {"coach_phase": 1, "slouch_deg": deg, "slouch_delay_s": delay}

    def describe(self, worn_days: int = 0) -> str:
        if self.level is None:
            return (f"baseline, worn day {min(worn_days, BASELINE_DAYS)} of {BASELINE_DAYS} "
                    f"(at least {self.wear_target_h:g} h a day): measuring, no posture "
                    "reminders")
        deg, delay = LEVELS[self.level]
        return (f"level {self.level + 1} of {len(LEVELS)}: reminders past {deg}° after {delay} "
                f"s; {STEP_DAYS} worn days at a level, then stricter when you slouch "
                f"{100 * (1 - TIGHTEN):.0f} % less, gentler when {100 * (RELAX - 1):.0f} % more")


def slouch_share(days: list[Day]) -> float | None:
    """Share of the sitting and standing time that was slouched, over ``days``."""
    upright = sum(d.upright_s for d in days)
    slouch = sum(d.slouch_s for d in days)
    return None if upright + slouch <= 0 else slouch / (upright + slouch)


def worn(plan: Plan, days: list[Day]) -> list[Day]:
    """The days since the plan started that reached the daily wear target, oldest first."""
    start = date.fromisoformat(plan.started)
    return sorted((d for d in days if d.day >= start
                   and d.recorded_s >= plan.wear_target_h * 3600.0), key=lambda d: d.day)


def advance(plan: Plan, days: list[Day]) -> Plan:
    """The plan after the days known now (every day since it started, any order); pure.
    Applies every step those days allow, so a late sync catches up."""
    p = Plan(**{**asdict(plan), "log": list(plan.log)})
    while True:
        done = worn(p, days)
        if p.level is None:
            if len(done) < BASELINE_DAYS:
                return p
            base = done[:BASELINE_DAYS]
            base_share = slouch_share(base) or 0.0
            p.level = 0 if base_share > HIGH_BASELINE else 1
            p.share_at_level = base_share
            p.level_since = date.fromordinal(base[-1].day.toordinal() + 1).isoformat()
            p.log.append((base[-1].day.isoformat(),
                          f"baseline done: slouched {100 * base_share:.0f} % of the time; "
                          f"level {p.level + 1}"))
            continue
        assert p.level_since is not None and p.share_at_level is not None
        since = date.fromisoformat(p.level_since)
        at_level = [d for d in done if d.day >= since][:STEP_DAYS]
        if len(at_level) < STEP_DAYS:
            return p
        share = slouch_share(at_level)
        next_since = date.fromordinal(at_level[-1].day.toordinal() + 1).isoformat()
        level = p.level
        if share is not None and share <= TIGHTEN * p.share_at_level and level < len(LEVELS) - 1:
            level += 1
            what = "stricter"
        elif share is not None and share >= RELAX * p.share_at_level and level > 0:
            level -= 1
            what = "gentler"
        else:
            what = "same level"
        p.log.append((at_level[-1].day.isoformat(),
                      f"slouched {100 * (share or 0.0):.0f} % (from {100 * p.share_at_level:.0f}"
                      f" %): {what}, level {level + 1}"))
        if level != p.level and share is not None:  # the new level starts from here
            p.share_at_level = share
        p.level = level
        p.level_since = next_since
