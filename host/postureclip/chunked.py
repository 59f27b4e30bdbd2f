"""Recordings longer than memory: read twice in blocks and analysed in chunks.

A week at 50 Hz is 30 million rows; held whole on the analysis grid it needs some 14 GB.
Here the CSV is read twice with pyarrow's streaming reader, a block at a time:

1. ``scan`` checks every row as ``read_csv`` does (numbers, finite, time increasing, gaps,
   units) and gathers what the analysis needs from the whole recording before it starts:
   the first time, the span, the nominal rate and the level gravity reads at.
2. ``analyze_file`` hands ``analysis.Analyzer`` the uniform grid in chunks of ``chunk_s``,
   each with ``margin_s`` of context on both sides. What spans the recording (the slips'
   frames and walking checks, the trunk axis the slip test follows, slouch episodes, movement
   breaks, wear-offs) is carried from chunk to chunk by the Analyzer; what is local (the
   offline orientation filter, which settles within a minute of an edge, the vertical track,
   lifts, postures, exercise sets) sees the margins. The result is the one-piece analysis's
   (tests/host/test_chunked.py states to what precision); memory is that of one chunk.

``in_chunks`` picks: one piece up to ``ONE_PIECE_S``, chunks beyond.
"""
from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from .errors import RecordingError
from .orientation import step_samples
from .recording import (
    HEADER,
    HEADER_LINE,
    MAX_BRIDGE_S,
    MAX_GAP_S,
    Recording,
    Uniform,
    check_acc_level,
    check_gyro_peak,
    check_timing,
    force_histogram,
    gravity_level,
    onto_grid,
)

if TYPE_CHECKING:  # the analysis is imported when it is needed, not for span_of
    from .analysis import Analysis, AnalysisSettings, SeriesSink

FloatArray = npt.NDArray[np.float64]

ONE_PIECE_S = 10 * 3600.0  # up to this span in one piece (about 85 MB per hour at 50 Hz)
CHUNK_S = 4 * 3600.0
MARGIN_S = 600.0  # context either side: exercise sets last minutes, the filter settles in one
BLOCK_BYTES = 8 << 20  # of CSV text per block read


@dataclass(frozen=True)
class Scan:
    """What the first pass learns: ``t0`` the first time (s, as written), ``span_s`` from the
    first row to the last, ``rows``, ``rate_hz`` (nominal, as ``nominal_rate``) and
    ``gravity`` (``gravity_level`` of all rows, m/s^2)."""

    path: str
    t0: float
    span_s: float
    rows: int
    rate_hz: float
    gravity: float


def span_of(path: str | Path) -> float | None:
    """The time from the first row to the last, read from the file's two ends; None unless
    the header is the exact one and both rows are numbers (``read_csv`` then takes it)."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(4096)
            fh.seek(0, 2)
            size = fh.tell()
            fh.seek(max(0, size - 4096))
            tail = fh.read()
    except OSError:
        return None
    lines = head.splitlines()
    if len(lines) < 3 or lines[0] != HEADER_LINE[:-1]:
        return None
    last = tail.rstrip().splitlines()[-1]
    try:
        return float(last.split(b",")[0]) - float(lines[1].split(b",")[0])
    except (ValueError, IndexError):
        return None


def _blocks(path: str | Path, block_bytes: int) -> Iterator[FloatArray]:
    """The rows (n, 7) a block at a time; RecordingError for a cell that is no number."""
    import pyarrow as pa
    import pyarrow.csv as pacsv

    name = str(path)
    try:
        reader = pacsv.open_csv(
            name, read_options=pacsv.ReadOptions(block_size=block_bytes),
            convert_options=pacsv.ConvertOptions(column_types=dict.fromkeys(HEADER,
                                                                            pa.float64())))
        if reader.schema.names != list(HEADER):
            raise RecordingError(f"header is {','.join(reader.schema.names)!r}, expected "
                                 f"{','.join(HEADER)!r}", name, 1)
        for batch in reader:
            # a missing cell reads as null: NaN here, refused below with its line
            yield np.column_stack([batch.column(i).to_numpy(zero_copy_only=False)
                                   for i in range(7)]).astype(float, copy=False)
    except (pa.ArrowInvalid, pa.ArrowTypeError, OSError) as e:  # a cell that is no number
        raise RecordingError(f"unreadable rows: {e}", name) from None


def scan(path: str | Path, block_bytes: int = BLOCK_BYTES) -> Scan:
    """The first pass: every row checked, the whole recording's figures gathered."""
    name = str(path)
    rows, t0, last = 0, math.nan, -math.inf
    counts = np.zeros(0, np.int64)
    peak = 0.0
    step_sum, step_count, cap = 0.0, 0, math.inf
    for data in _blocks(path, block_bytes):
        if not np.isfinite(data).all():
            row, col = np.argwhere(~np.isfinite(data))[0]
            raise RecordingError(f"{HEADER[col]} is missing, NaN or infinite", name,
                                 rows + int(row) + 2)
        t = data[:, 0]
        if rows == 0:
            if len(t) < 2:
                raise RecordingError("fewer than two samples", name, 2)
            t0 = float(t[0])
            check_timing(t, name, max_span_s=math.inf)
            cap = 2.0 * float(np.median(np.diff(t)))  # an interval beyond is a gap
        d = np.diff(np.concatenate([[last], t]) if rows else t)
        bad = np.flatnonzero(d <= 0)
        first_line = rows + (1 if rows == 0 else 0) + 2  # the line of d[0]'s later row
        if bad.size:
            k = int(bad[0])
            raise RecordingError("time goes back or repeats: t must increase strictly", name,
                                 first_line + k)
        k = int(np.argmax(d))
        if d[k] > MAX_GAP_S:
            raise RecordingError(f"a gap of {d[k] / 3600:.1f} h before line {first_line + k}:"
                                 f" gaps up to {MAX_GAP_S / 3600:.0f} h are bridged; split the "
                                 "file there and analyse the parts", name, first_line + k)
        small = d[d < cap]
        step_sum += float(small.sum())
        step_count += len(small)
        h = force_histogram(data[:, 1:4])
        counts = h if rows == 0 else counts + h
        peak = max(peak, float(np.max(np.abs(data[:, 4:7]))))
        rows += len(t)
        last = float(t[-1])
    if rows == 0:
        raise RecordingError("no rows after the header", name, 2)
    g = gravity_level(counts)
    check_acc_level(g, name)
    check_gyro_peak(peak, name)
    return Scan(name, t0, last - t0, rows, round(step_count / step_sum, 1), g)


def analyze_file(path: str | Path, settings: AnalysisSettings | None = None,
                 sink: SeriesSink | None = None, chunk_s: float = CHUNK_S,
                 margin_s: float = MARGIN_S, block_bytes: int = BLOCK_BYTES,
                 parallel: bool = False) -> Analysis:
    """The analysis of a recording CSV in chunks of ``chunk_s`` with ``margin_s`` of context
    either side (both rounded to whole filter steps); ``sink`` receives the per-sample series
    chunk by chunk (nothing of it is kept); ``parallel``: on two cores (``Analyzer``)."""
    from .analysis import AnalysisSettings, Analyzer, calibrate_start

    s = settings or AnalysisSettings()
    sc = scan(path, block_bytes)
    fs = sc.rate_hz
    n = math.floor(sc.span_s * fs) + 1  # the grid of to_uniform
    k = step_samples(fs)  # chunk edges on filter-step edges: the same steps as one piece
    size = max(k, round(chunk_s * fs / k) * k)
    margin = round(margin_s * fs / k) * k
    buffer = _Buffer(_blocks(path, block_bytes), sc.t0)
    analyzer: Analyzer | None = None
    for ca in range(0, n, size):
        cb = min(n, ca + size)
        ea, eb = max(0, ca - margin), min(n, cb + margin)
        u = onto_grid(buffer.covering(ea / fs, (eb - 1) / fs), np.arange(ea, eb), fs)
        if analyzer is None:
            cal = calibrate_start(u, s)
            analyzer = Analyzer(s, cal, sc.gravity, fs, n, sink=sink, parallel=parallel)
        bias = analyzer.cal.bias
        analyzer.feed(Uniform(u.t, u.acc, u.gyr - bias, u.valid, fs), ea, ca, cb)
        buffer.drop_before(max(0, cb - margin) / fs)
    assert analyzer is not None
    return analyzer.finish(sc.span_s)


class _Buffer:
    """Raw rows, times from the recording's start, read ahead as far as a chunk needs."""

    def __init__(self, blocks: Iterator[FloatArray], t0: float) -> None:
        self.blocks, self.t0 = blocks, t0
        self.data = np.zeros((0, 7))
        self.done = False

    def covering(self, a: float, b: float) -> Recording:
        """The rows from the last at or before ``a`` s to the first at or after ``b`` s
        (or the end), with the row beyond a gap's far side."""
        while not self.done and (len(self.data) == 0 or self.data[-1, 0] < b + MAX_BRIDGE_S):
            block = next(self.blocks, None)
            if block is None:
                self.done = True
                break
            block[:, 0] -= self.t0
            self.data = np.concatenate([self.data, block])
        d = self.data
        i = max(0, int(np.searchsorted(d[:, 0], a, side="right")) - 1)
        return Recording(d[i:, 0], d[i:, 1:4], d[i:, 4:7])

    def drop_before(self, a: float) -> None:
        """Forget the rows no chunk from ``a`` s on needs."""
        i = max(0, int(np.searchsorted(self.data[:, 0], a, side="right")) - 1)
        self.data = self.data[i:]


def in_chunks(path: str | Path, chunk_s: float | None = None) -> bool:
    """Whether ``analyze`` takes this recording in chunks: when ``chunk_s`` is asked for, or
    it spans more than ONE_PIECE_S."""
    return chunk_s is not None or (span_of(path) or 0.0) > ONE_PIECE_S


def analyze_path(path: str | Path, settings: AnalysisSettings | None = None,
                 chunk_s: float | None = None, parallel: bool = False) -> Analysis:
    """``analyze`` of a recording CSV: in one piece (``read_csv``, with the series) or in
    chunks (without), as ``in_chunks`` says; ``parallel``: on two cores (``Analyzer``)."""
    from .analysis import analyze
    from .recording import read_csv

    if not in_chunks(path, chunk_s):
        return analyze(read_csv(path), settings, parallel)
    return analyze_file(path, settings, chunk_s=chunk_s or CHUNK_S, parallel=parallel)
