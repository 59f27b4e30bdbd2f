"""Recording CSV reading: every bad input gets a clear error naming the line; exit status 2."""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from postureclip.cli import main
from postureclip.errors import RecordingError
from postureclip.recording import Recording, parse_csv, read_csv, samples_up_to, to_uniform

GOOD = "t,ax,ay,az,gx,gy,gz\n" + "".join(
    f"{k * 0.01:.2f},9.81,0.0,0.1,0.001,0.0,0.0\n" for k in range(300))


def rows(text: str, line: int, new: str) -> str:
    lines = text.splitlines()
    lines[line - 1] = new
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize(("text", "line", "match"), [
    ("", 1, "empty"),
    ("time,ax,ay,az,gx,gy,gz\n0,1,2,3,4,5,6\n", 1, "header is"),
    (rows(GOOD, 5, "0.03,9.81,abc,0.1,0,0,0"), 5, "ay is 'abc', not a number"),
    (rows(GOOD, 7, "0.05,9.81,0.0"), 7, "3 columns, expected 7"),
    (rows(GOOD, 9, "0.07,9.81,nan,0.1,0,0,0"), 9, "ay is 'nan'"),
    (rows(GOOD, 12, "0.05,9.81,0.0,0.1,0,0,0"), 12, "t must increase"),
    ("t,ax,ay,az,gx,gy,gz\n0,9.8,0,0,0,0,0\n", 2, "fewer than two"),
])
def test_bad_csv_names_the_line(text: str, line: int, match: str) -> None:
    with pytest.raises(RecordingError, match=match) as info:
        parse_csv(text, "x.csv")
    assert info.value.line == line
    assert str(info.value).startswith(f"x.csv:{line}: ")


def test_wrong_units_are_detected() -> None:
    in_g = GOOD.replace("9.81,0.0,0.1", "1.0,0.0,0.01")
    with pytest.raises(RecordingError, match="units of g"):
        parse_csv(in_g)
    deg = rows(GOOD, 50, "0.48,9.81,0.0,0.1,95.0,0.0,0.0")
    with pytest.raises(RecordingError, match="deg/s"):
        parse_csv(deg)


def test_cli_exit_status_2_without_traceback(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                            ) -> None:
    bad = tmp_path / "bad.csv"
    bad.write_text(rows(GOOD, 5, "0.03,9.81,abc,0.1,0,0,0"))
    assert main(["analyze", str(bad), "--format", "json"]) == 2
    err = capsys.readouterr().err
    assert "bad.csv:5" in err and "Traceback" not in err
    assert main(["analyze", str(tmp_path / "missing.csv")]) == 2


def test_all_moving_start_cannot_calibrate(tmp_path: Path) -> None:
    t = np.arange(0, 30, 0.02)
    body = "".join(f"{x:.3f},{9.81 + 3 * np.sin(9 * x):.4f},{2 * np.cos(7 * x):.4f},0.3,"
                   f"{np.sin(5 * x):.4f},0.4,0.1\n" for x in t)
    f = tmp_path / "moving.csv"
    f.write_text("t,ax,ay,az,gx,gy,gz\n" + body)
    assert main(["analyze", str(f)]) == 2


def test_uniform_grid_marks_long_gaps() -> None:
    t = np.concatenate([np.arange(0, 5, 0.01), np.arange(6, 10, 0.01)])
    t = t + np.random.default_rng(0).uniform(-0.002, 0.002, len(t))
    t[0] = 0
    acc = np.tile([9.81, 0, 0], (len(t), 1))
    u = to_uniform(Recording(t, acc, np.zeros_like(acc)))
    assert u.rate_hz == 100.0
    assert np.allclose(np.diff(u.t), 0.01)
    gap = (u.t > t[499]) & (u.t < t[500])  # strictly inside the hole
    assert gap.sum() >= 95
    assert not u.valid[gap].any() and u.valid[~gap].all()


def test_windows_line_ends_take_the_fast_reader(tmp_path: Path,
                                                monkeypatch: pytest.MonkeyPatch) -> None:
    # Python's csv module writes \r\n: such a file read as fast as one with \n, to the same
    # numbers (the careful text parser took 10x longer on it)
    rows = [f"{i / 50:.4f},0.1,0.2,9.8,0.01,0.02,0.03" for i in range(200)]
    unix, windows = tmp_path / "unix.csv", tmp_path / "windows.csv"
    unix.write_bytes(("t,ax,ay,az,gx,gy,gz\n" + "\n".join(rows) + "\n").encode())
    windows.write_bytes(("t,ax,ay,az,gx,gy,gz\r\n" + "\r\n".join(rows) + "\r\n").encode())
    from postureclip import recording

    a, b = read_csv(unix), read_csv(windows)
    assert np.array_equal(a.t, b.t) and np.array_equal(a.acc, b.acc)

    def slow(*_: object) -> None:
        raise AssertionError("the text parser was used")

    monkeypatch.setattr(recording, "parse_csv", slow)
    read_csv(windows)


@settings(max_examples=1000, deadline=None)
@given(arrays(np.float64, st.integers(0, 200), elements=st.floats(-5.0, 50.0)),
       st.sampled_from([1.0, 12.5, 50.0, 52.3, 100.0, 833.0]), st.integers(-20, 200),
       st.integers(0, 300), st.booleans())
def test_samples_up_to_each_grid_time_is_the_sorted_search(
        times: np.ndarray, rate: float, first: int, n: int, jitter: bool) -> None:
    """The grid's linear-time count equals numpy's search, ties and rounding included."""
    t = np.unique(times)  # increasing
    if jitter and len(t):  # samples on the grid's own times, as a clean recorder writes
        t = np.unique(np.concatenate([t, np.arange(first, first + len(t)) / rate]))
    grid = np.arange(first, first + n) / rate
    np.testing.assert_array_equal(samples_up_to(t, grid), np.searchsorted(t, grid, side="right"))
