"""The training plan: a baseline that measures, then levels that tighten and relax."""
from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from postureclip.cli import main
from postureclip.daily import Day
from postureclip.plan import LEVELS, Plan, advance
from postureclip.store import Store

START = date(2026, 11, 2)


def day(i: int, share: float, hours: float = 7.0) -> Day:
    sit = hours * 3600.0 * 0.8
    return Day(START + timedelta(days=i), hours * 3600.0, sit * (1 - share), sit * share,
               hours * 720.0, 5, 60.0, 3, None, 0, 0, 0, 0, 0)


def test_the_baseline_measures_until_three_worn_days() -> None:
    plan = Plan(START.isoformat())
    p = advance(plan, [day(0, 0.2), day(1, 0.2, hours=2.0), day(2, 0.2)])
    assert p.level is None and p.settings() == {"coach_phase": 0}
    assert "worn day 2 of 3" in p.describe(2)
    p = advance(plan, [day(0, 0.2), day(1, 0.2, hours=2.0), day(2, 0.2), day(3, 0.2)])
    assert p.level == 1 and p.settings() == {"coach_phase": 1, "slouch_deg": LEVELS[1][0],
                                              "slouch_delay_s": LEVELS[1][1]}
    assert p.log[-1] == ("2026-11-05", "baseline done: slouched 20 % of the time; level 2")
    # a wearer who slouched much in the baseline starts at the gentlest level
    assert advance(plan, [day(i, 0.4) for i in range(3)]).level == 0


def test_levels_tighten_when_slouching_drops_and_relax_when_it_rises() -> None:
    plan = Plan(START.isoformat())
    days = [day(i, 0.20) for i in range(3)]  # baseline: 20 %
    days += [day(3 + i, 0.15) for i in range(3)]  # 25 % less: stricter
    p = advance(plan, days)
    assert p.level == 2 and p.share_at_level == 0.15
    days += [day(6 + i, 0.14) for i in range(3)]  # 7 % less than where level 3 began: same
    p = advance(plan, days)
    assert p.level == 2 and p.log[-1][1].endswith("same level, level 3")
    days += [day(9 + i, 0.11) for i in range(3)]  # 27 % less than 15 %: stricter again
    p = advance(plan, days)
    assert p.level == 3
    days += [day(12 + i, 0.14) for i in range(3)]  # 27 % more than 11 %: gentler
    p = advance(plan, days)
    assert p.level == 2 and "gentler" in p.log[-1][1]
    # never past either end
    gentle = advance(plan, [day(i, 0.2) for i in range(3)]
                     + [day(3 + i, 0.9) for i in range(9)])
    assert gentle.level == 0
    strict = advance(plan, [day(i, 0.5) for i in range(3)]
                     + [day(3 + i, 0.5 * 0.7 ** (1 + i // 3)) for i in range(30)])
    assert strict.level == len(LEVELS) - 1
    # the state survives the store
    assert Plan.from_json(p.to_json()) == p


def test_plan_command_keeps_the_plan_in_the_store(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    store = tmp_path / "s.db"
    assert main(["plan", "--store", str(store)]) == 0
    assert main(["plan", "start", "--wear-hours", "5", "--store", str(store)]) == 0
    with Store(store) as s:
        text = s.meta("plan")
    assert text is not None and Plan.from_json(text).wear_target_h == 5.0
    assert main(["plan", "show", "--store", str(store)]) == 0
    assert main(["plan", "off", "--store", str(store)]) == 0
    with Store(store) as s:
        assert s.meta("plan") is None
    out = capsys.readouterr().out
    assert "no plan runs" in out and "plan started: baseline, worn day 0 of 3" in out
    assert "plan stopped" in out
