"""The wearer's words for a pause and quiet hours, as the CLI reads them."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from hypothesis import given
from hypothesis import strategies as st

from postureclip.cli import MAX_PAUSE_MIN, parse_quiet, pause_minutes
from postureclip.errors import OutOfRange

NOW = datetime(2026, 11, 30, 16, 45, 20, tzinfo=timezone(timedelta(hours=1)))


@pytest.mark.parametrize(("text", "minutes"), [
    ("30", 30), ("45m", 45), ("1h", 60), ("2h30m", 150), ("2h 30", 150), ("off", 0),
    ("OFF", 0), ("1440", 1440), ("24h", 1440),
    ("tomorrow", 7 * 60 + 15),  # 16:45:20 -> midnight local, rounded up
])
def test_pause_words(text: str, minutes: int) -> None:
    assert pause_minutes(text, NOW) == minutes


@pytest.mark.parametrize("text", ["0", "1441", "25h", "", "h", "soon", "-5", "1.5h"])
def test_pause_refuses_what_it_cannot_read(text: str) -> None:
    with pytest.raises(OutOfRange, match="nothing was changed"):
        pause_minutes(text, NOW)


@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2099, 1, 1),
                    timezones=st.just(timezone(timedelta(hours=-5)))))
def test_until_tomorrow_ends_at_the_next_local_midnight(now: datetime) -> None:
    minutes = pause_minutes("tomorrow", now)
    assert 1 <= minutes <= MAX_PAUSE_MIN
    end = now + timedelta(minutes=minutes)
    assert end.date() == now.date() + timedelta(days=1) and end.hour == 0 and end.minute <= 1


def test_quiet_hours() -> None:
    assert parse_quiet("22:00-07:00") == (1320, 420)
    assert parse_quiet(" 7:30 - 9:05 ") == (450, 545)
    assert parse_quiet("off") == (0, 0)
    for bad in ("22:00", "24:00-07:00", "22:60-07:00", "08:00-08:00", "late"):
        with pytest.raises(OutOfRange, match="HH:MM-HH:MM"):
            parse_quiet(bad)
