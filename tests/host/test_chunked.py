"""Long recordings in chunks (postureclip.chunked): the one-piece analysis's results, memory
that does not grow with the recording, every row checked in the streaming pass."""
from __future__ import annotations

import itertools
import json
import tracemalloc
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.spatial.transform import Rotation as ScipyRotation

from postureclip.analysis import analyze
from postureclip.chunked import analyze_file, scan, span_of
from postureclip.cli import main
from postureclip.errors import RecordingError
from postureclip.recording import read_csv
from postureclip.rotation import Rotation
from postureclip.simulate import (
    Wearer,
    coaching_day,
    default_day,
    exercise_session,
    simulate,
    with_slips,
)
from postureclip.slips import Mounting, Slip, check_by_walking


@pytest.fixture(scope="module")
def mixed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """About 1.3 h at 50 Hz of a wearer whose clip slips, who lifts, exercises on the floor,
    walks, drives, and two gaps in the timestamps."""
    rng = np.random.default_rng(11)
    wearer = Wearer.random(rng, rate_hz=50.0)
    segments = (with_slips(default_day(rng, 0.6), rng, 6.0) + exercise_session(rng)
                + coaching_day(rng, 0.5))
    path = tmp_path_factory.mktemp("chunked") / "mixed.csv"
    simulate(segments, wearer, rng, gaps=2).write_csv(path)
    return path


def _close(a: Any, b: Any, where: str = "") -> list[str]:
    """Where two analyze JSONs differ: any count or name, or a number by more than 0.01
    (every figure is rounded to 0.001 at most; a float's last bit can tip one rounding)."""
    if isinstance(a, dict):
        assert isinstance(b, dict) and a.keys() == b.keys(), where
        return [d for k in a for d in _close(a[k], b[k], f"{where}.{k}")]
    if isinstance(a, list):
        if not isinstance(b, list) or len(a) != len(b):
            return [f"{where}: {a} against {b}"]
        return [d for i, (x, y) in enumerate(zip(a, b, strict=True))
                for d in _close(x, y, f"{where}[{i}]")]
    if isinstance(a, float) and isinstance(b, float):
        return [] if abs(a - b) <= 0.01 else [f"{where}: {a} against {b}"]
    return [] if a == b else [f"{where}: {a} against {b}"]


def test_chunks_give_the_one_piece_analysis(mixed: Path) -> None:
    whole = analyze(read_csv(mixed))
    pieces: list[np.ndarray] = []
    # 15-minute chunks: six of them, cut through slips' walking checks, lifts, exercise
    # sets, slouch episodes and the breaks' clock
    chunked = analyze_file(mixed, chunk_s=900.0,
                           sink=lambda t, flex, lat, posture: pieces.append(
                               np.column_stack([t, flex, lat])),
                           block_bytes=1 << 20)
    assert len(pieces) == 6
    one, two = whole.to_dict(), chunked.to_dict()
    assert one["lift_count"] > 0 and one["exercise_sets"] and one["slouch_episodes"]
    assert any(x["kind"] == "slip" for x in one["slips"])
    assert _close(one, two) == []
    # the series: every grid sample once, in order, with the same angles (the offline
    # filter, started afresh 10 min before a chunk, agrees with the one-piece run to 1e-4 deg)
    series = np.vstack(pieces)
    assert np.array_equal(series[:, 0], whole.series["t"])
    assert np.abs(series[:, 1] - whole.series["flexion_deg"]).max() < 1e-3
    assert np.abs(series[:, 2] - whole.series["lateral_deg"]).max() < 1e-3


def test_the_command_analyses_in_chunks_when_asked(mixed: Path, tmp_path: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["analyze", str(mixed), "--format", "json", "--series",
                 str(tmp_path / "one.csv")]) == 0
    one = json.loads(capsys.readouterr().out)
    assert main(["analyze", str(mixed), "--format", "json", "--chunk-hours", "0.3",
                 "--series", str(tmp_path / "two.csv")]) == 0
    two = json.loads(capsys.readouterr().out)
    assert _close(one, two) == []
    a = (tmp_path / "one.csv").read_text().splitlines()
    b = (tmp_path / "two.csv").read_text().splitlines()
    assert a[0] == b[0] == "t,flexion_deg,lateral_deg,posture" and len(a) == len(b)
    # rounded to 0.01 deg: a last-bit difference can tip a few roundings, never a posture
    assert sum(x != y for x, y in zip(a, b, strict=True)) < len(a) / 1000
    assert [x.split(",")[3] for x in a] == [x.split(",")[3] for x in b]


def _still_recording(path: Path, hours: float, seed: int) -> None:
    """A clip at rest with sensor noise (cheap to make, long): rows of the recording CSV."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    rng = np.random.default_rng(seed)
    n = round(hours * 3600 * 50)
    t = np.arange(n) / 50.0
    cols = {"t": t, "ax": rng.normal(0.0, 0.03, n), "ay": rng.normal(0.0, 0.03, n),
            "az": 9.81 + rng.normal(0.0, 0.03, n)}
    for name in ("gx", "gy", "gz"):
        cols[name] = rng.normal(0.0, 0.005, n)
    with open(path, "wb") as fh:
        fh.write(b"t,ax,ay,az,gx,gy,gz\n")
        pacsv.write_csv(pa.table(cols), fh, pacsv.WriteOptions(include_header=False))


def test_memory_does_not_grow_with_the_recording(tmp_path: Path) -> None:
    peaks = []
    for hours in (1.0, 3.0):
        path = tmp_path / f"{hours:g}h.csv"
        _still_recording(path, hours, 1)
        tracemalloc.start()
        result = analyze_file(path, chunk_s=1200.0, margin_s=300.0)
        peaks.append(tracemalloc.get_traced_memory()[1])
        tracemalloc.stop()
        assert abs(result.duration_s - hours * 3600 + 0.02) < 1e-6
        assert result.time_in_posture_s["upright"] == pytest.approx(hours * 3600, abs=1.0)
    # three times the recording, the same chunk: the same peak (numpy's buffers are traced)
    assert peaks[1] < 1.1 * peaks[0], peaks


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("t,ax,ay,az,gx,gy,gz\n" + "".join(r + "\n" for r in rows))
    return path


def _rows(n: int, start: float = 0.0) -> list[str]:
    return [f"{start + i / 50:.4f},0.01,0.02,9.81,0.001,0.0,-0.001" for i in range(n)]


@pytest.mark.parametrize(("change", "line", "says"), [
    (lambda r: r.__setitem__(3000, "60.0000,0.0,0.0,nan,0,0,0"), 3002, "az is missing"),
    (lambda r: r.__setitem__(3000, "60.0000,0.0,0.0,,0,0,0"), 3002, "az is missing"),
    (lambda r: r.__setitem__(3000, "59.0000,0.0,0.0,9.8,0,0,0"), 3002, "time goes back"),
    (lambda r: r.__setitem__(3000, "59.9800,0.0,0.0,9.8,0,0,0"), 3002, "or repeats"),
])
def test_every_row_is_checked_in_the_streaming_pass(tmp_path: Path, change: Any, line: int,
                                                     says: str) -> None:
    rows = _rows(5000)
    change(rows)
    # blocks of 16 kB (about 370 rows): the bad row lies deep in a later block
    with pytest.raises(RecordingError, match=says) as e:
        scan(_write(tmp_path / "bad.csv", rows), block_bytes=1 << 14)
    assert e.value.line == line


def test_the_streaming_pass_refuses_what_read_csv_refuses(tmp_path: Path) -> None:
    rows = _rows(3000) + _rows(3000, start=60.0 + 3 * 3600.0)
    with pytest.raises(RecordingError, match=r"a gap of 3\.0 h"):
        scan(_write(tmp_path / "gap.csv", rows), block_bytes=1 << 14)
    in_g = [r.replace("9.81", "1.0") for r in _rows(3000)]
    with pytest.raises(RecordingError, match="units of g"):
        scan(_write(tmp_path / "g.csv", in_g), block_bytes=1 << 14)
    bad = _rows(3000)
    bad[2000] = "40.0000,0.0,abc,9.8,0,0,0"
    with pytest.raises(RecordingError, match="unreadable rows"):
        scan(_write(tmp_path / "cell.csv", bad), block_bytes=1 << 14)
    good = scan(_write(tmp_path / "good.csv", _rows(3000, start=100.0)), block_bytes=1 << 14)
    assert (good.t0, good.rows, good.rate_hz) == (100.0, 3000, 50.0)
    assert good.span_s == pytest.approx(2999 / 50)
    assert span_of(tmp_path / "good.csv") == pytest.approx(2999 / 50)
    (tmp_path / "other.csv").write_text("time,ax\n1,2\n2,3\n")
    assert span_of(tmp_path / "other.csv") is None


def _frames_equal(a: list[tuple[int, Rotation]], b: list[tuple[int, Rotation]]) -> bool:
    return len(a) == len(b) and all(i == j and r.approx_equal(s, atol=1e-12)
                                    for (i, r), (j, s) in zip(a, b, strict=True))


@pytest.mark.parametrize("estimate", [False, True])
@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), cuts=st.lists(st.integers(1, 5999), max_size=6))
def test_the_walking_check_fed_in_pieces_is_the_same_as_fed_whole(estimate: bool, seed: int,
                                                                  cuts: list[int]) -> None:
    """The Mounting machine carries all its state (the clip's pull, or the host's tilt
    filter with its open walk): any cutting of the recording into consecutive pieces gives
    the same frames and slips (undone or not)."""
    rng = np.random.default_rng(seed)
    n, fs = 6000, 10.0
    up_s = ScipyRotation.random(n, random_state=seed).apply([0.0, 0.0, 1.0]) * 0.1 + [1.0, 0, 0]
    up_s /= np.linalg.norm(up_s, axis=1)[:, None]
    walking = np.repeat(rng.uniform(size=n // 100) < 0.6, 100)
    slips = sorted({int(i) for i in rng.integers(0, n, 5)})
    found = [Slip(i / fs, "slip", 15.0, i, Rotation.from_rotvec(rng.normal(0, 0.3, 3)))
             for i in slips] + [Slip(n / fs - 1, "worn_off", 0.0, n - 10)]
    t = np.arange(n) / fs
    whole = Mounting(Rotation.identity(), 1.0 / fs, lambda i: float(t[i]), estimate)
    whole.run(found, 0, n, up_s, np.flatnonzero(walking))
    if not estimate:  # check_by_walking is the clip's machine fed whole
        slips_c, frames_c = check_by_walking(found, t, up_s, walking, Rotation.identity())
        assert whole.slips == slips_c and _frames_equal(whole.frames, frames_c)
    whole_slips, whole_frames = whole.slips, whole.frames
    m = Mounting(Rotation.identity(), 1.0 / fs, lambda i: float(t[i]), estimate)
    edges = [0, *sorted(set(cuts)), n]
    walk_idx = np.flatnonzero(walking)
    for a, b in itertools.pairwise(edges):
        m.run(found, a, b, up_s[a:b], walk_idx, offset=a)
    assert m.slips == whole_slips
    assert _frames_equal(m.frames, whole_frames)
