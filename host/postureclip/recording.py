"""Recording CSVs (DESIGN.md): reading with checks that name the problem and the line, and
conditioning onto a uniform time grid with gaps marked instead of bridged."""
from __future__ import annotations

import io
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import numpy.typing as npt

from .errors import RecordingError

HEADER = ("t", "ax", "ay", "az", "gx", "gy", "gz")
HEADER_LINE = ",".join(HEADER).encode() + b"\n"
G = 9.81
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

#: Longest hole in the timestamps that is bridged by interpolation, s.
MAX_BRIDGE_S = 0.25
#: Grid samples interpolated at a time.
_CHUNK = 1 << 15
#: A trunk-worn gyro never turns this fast (rad/s); beyond it the unit is deg/s.
MAX_PLAUSIBLE_GYRO = 25.0
MIN_RATE_HZ = 10.0  # the filters and the lift detector need at least this
MAX_GAP_S = 2 * 3600.0  # a longer gap (a lunch break is shorter) means two recordings
MAX_SPAN_S = 48 * 3600.0  # the analysis holds the whole span on a uniform grid in memory


@dataclass(frozen=True)
class Recording:
    """Raw samples: ``t`` in s (strictly increasing), ``acc`` m/s^2 and ``gyr`` rad/s, (N, 3),
    sensor frame."""

    t: FloatArray
    acc: FloatArray
    gyr: FloatArray
    source: str = ""

    @property
    def duration_s(self) -> float:
        return float(self.t[-1] - self.t[0]) if len(self.t) else 0.0


@dataclass(frozen=True)
class Uniform:
    """Samples on a uniform grid ``t = t0 + k / rate_hz``; ``valid`` is False inside gaps
    longer than MAX_BRIDGE_S (values there are interpolated only to keep filters running)."""

    t: FloatArray
    acc: FloatArray
    gyr: FloatArray
    valid: BoolArray
    rate_hz: float


def read_csv(path: str | Path) -> Recording:
    """Read and check a recording CSV; raise RecordingError naming file, line and problem."""
    name = str(path)
    try:
        with open(path, "rb") as fh:
            head = fh.read(len(HEADER_LINE) + 1)
        # the exact header, with Unix or Windows line ends (Python's csv module writes \r\n)
        exact = head.startswith(HEADER_LINE) or head == HEADER_LINE[:-1] + b"\r\n"
        columns = _arrow_parse(path) if exact else None
        if columns is not None:
            return _checked(*columns, name,
                            lambda: Path(path).read_bytes().decode(errors="replace"))
        raw = Path(path).read_bytes()
    except OSError as e:
        raise RecordingError(f"cannot read: {e.strerror}", name) from None
    try:
        text = raw.decode()
    except UnicodeDecodeError:
        raise RecordingError("not a text file", name) from None
    return parse_csv(text, name)


def _arrow_parse(path: str | Path) -> tuple[FloatArray, FloatArray, FloatArray] | None:
    """The whole file in pyarrow's multi-threaded CSV reader (straight from the file, no copy
    of its text in Python) as ``t`` (N,), ``acc`` and ``gyr`` (N, 3, column-major); None
    (the careful path then finds and names the problem) unless the header is exact and every
    cell a number."""
    try:
        import pyarrow as pa
        import pyarrow.csv as pacsv
    except ImportError:
        return None
    try:
        # in the C allocator's memory, which numpy reuses once the table is gone (pyarrow's
        # own pool would hold it apart: 80 MB on 8 hours)
        table = pacsv.read_csv(str(path), convert_options=pacsv.ConvertOptions(
            column_types=dict.fromkeys(HEADER, pa.float64())),
            memory_pool=pa.system_memory_pool())
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        return None
    n = table.num_rows
    if table.column_names != list(HEADER) or n < 1 or any(
            table.column(i).null_count for i in range(7)):
        return None
    # column-major (N, 3): each axis contiguous, written as fast as the text is parsed (the
    # grid reads them an axis at a time)
    t, acc, gyr = np.empty(n), np.empty((n, 3), order="F"), np.empty((n, 3), order="F")
    targets = [t, *(acc[:, j] for j in range(3)), *(gyr[:, j] for j in range(3))]
    for i, target in enumerate(targets):  # chunk by chunk into the arrays: one copy
        pos = 0
        for chunk in table.column(i).chunks:
            target[pos:pos + len(chunk)] = chunk.to_numpy(zero_copy_only=True)
            pos += len(chunk)
    return t, acc, gyr


def parse_csv(text: str, name: str = "<csv>") -> Recording:
    if not text.strip():
        raise RecordingError("empty file", name, 1)
    first, _, body = text.partition("\n")
    header = tuple(c.strip() for c in first.split(","))
    if header != HEADER:
        raise RecordingError(f"header is {','.join(header)!r}, expected {','.join(HEADER)!r}",
                             name, 1)
    data = _fast_parse(body)
    if data is None:
        try:
            data = np.loadtxt(io.StringIO(body), delimiter=",", ndmin=2, dtype=float)
        except ValueError:
            data = None
    if data is None or data.shape[1:] != (7,):
        _raise_first_bad_row(text.splitlines(), name)
    assert data is not None
    return _checked(data[:, 0], data[:, 1:4], data[:, 4:7], name, lambda: text)


def _checked(t: FloatArray, acc: FloatArray, gyr: FloatArray, name: str,
             text: Callable[[], str]) -> Recording:
    """Columns -> Recording, refusing non-finite cells, time going back and wrong units."""
    if len(t) < 2:
        raise RecordingError("fewer than two samples", name, 2)
    for first, cols in ((0, t[:, None]), (1, acc), (4, gyr)):
        if not np.isfinite(cols).all():
            row, col = np.argwhere(~np.isfinite(cols))[0]
            cell = text().splitlines()[row + 1].split(",")[first + col].strip()
            raise RecordingError(f"{HEADER[first + col]} is {cell!r} (NaN or infinite)", name,
                                 int(row) + 2)
    d = np.diff(t)
    back = np.flatnonzero(d <= 0)
    if back.size:
        k = int(back[0]) + 1
        raise RecordingError(f"time goes from {t[k - 1]} to {t[k]}: t must increase strictly",
                             name, k + 2)
    check_timing(t, name, intervals=d)
    rec = Recording(t - t[0], acc, gyr, name)
    check_units(rec)
    return rec


def check_timing(t: FloatArray, name: str, max_span_s: float = MAX_SPAN_S,
                 intervals: FloatArray | None = None) -> None:
    """Refuse times that are not seconds, a rate too low to analyse, and gaps or spans that
    would make the uniform grid unbounded, saying which and what to do. ``intervals``:
    ``np.diff(t)``, when known."""
    d = np.diff(t) if intervals is None else intervals
    step = float(np.median(d))
    if step >= 1.0:
        raise RecordingError(f"t steps by {step:g} per sample at the median: t must be in "
                             "seconds (if it is in milliseconds, divide it by 1000)", name)
    if 1.0 / step < MIN_RATE_HZ:
        raise RecordingError(f"sampled at {1.0 / step:.1f} Hz: the analysis needs at least "
                             f"{MIN_RATE_HZ:.0f} Hz", name)
    k = int(np.argmax(d))
    if d[k] > MAX_GAP_S:
        raise RecordingError(f"a gap of {d[k] / 3600:.1f} h between lines {k + 2} and {k + 3}: "
                             f"gaps up to {MAX_GAP_S / 3600:.0f} h are bridged; split the file "
                             "there and analyse the parts", name, k + 3)
    if t[-1] - t[0] > max_span_s:
        raise RecordingError(f"the recording spans {(t[-1] - t[0]) / 3600:.0f} h: this reads "
                             f"at most {max_span_s / 3600:.0f} h at a time into memory (split it"
                             " by day; postureclip analyze takes longer ones)", name)


def _fast_parse(body: str) -> FloatArray | None:
    """The rows after the header parsed in one C pass; None unless every line holds exactly
    seven numbers (then the careful path runs and reports the line)."""
    rows = body.count("\n") + (0 if body.endswith("\n") else 1)
    if not body.strip() or body.count(",") != rows * 6:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        try:
            flat = np.fromstring(body.replace("\n", ","), dtype=float, sep=",")
        except (ValueError, DeprecationWarning):
            return None
    return flat.reshape(rows, 7) if flat.size == rows * 7 else None


def _raise_first_bad_row(lines: list[str], name: str) -> None:
    for i, line in enumerate(lines[1:], start=2):
        cells = line.split(",")
        if len(cells) != 7:
            raise RecordingError(f"{len(cells)} columns, expected 7", name, i)
        for col, cell in zip(HEADER, cells, strict=True):
            try:
                float(cell)
            except ValueError:
                raise RecordingError(f"{col} is {cell.strip()!r}, not a number", name,
                                     i) from None
    raise RecordingError("unreadable rows", name)


def check_units(rec: Recording) -> None:
    """Refuse accelerometer in g and gyroscope in deg/s, saying which and why."""
    a = rec.acc[::max(1, len(rec.acc) // 100_000)]  # the median of a spread of samples will do
    check_acc_level(float(np.median(np.sqrt(np.einsum("ij,ij->i", a, a)))), rec.source)
    check_gyro_peak(max(float(rec.gyr.max()), -float(rec.gyr.min())), rec.source)


def check_acc_level(median: float, name: str) -> None:
    """Refuse a median specific force (m/s^2 expected) that is no gravity's."""
    if 0.5 < median < 2.0:
        raise RecordingError(f"accelerometer magnitude is {median:.2f} at the median: it looks "
                             "like units of g; multiply by 9.81 to get m/s^2", name)
    if not 4.0 < median < 20.0:
        raise RecordingError(f"accelerometer magnitude is {median:.2f} at the median, far from "
                             "9.81 m/s^2: check the units and columns", name)


def check_gyro_peak(peak: float, name: str) -> None:
    """Refuse a gyroscope peak (rad/s expected) no trunk reaches."""
    if peak > MAX_PLAUSIBLE_GYRO:
        raise RecordingError(f"gyroscope reaches {peak:.0f}: it looks like deg/s; multiply by "
                             "pi/180 to get rad/s", name)


def nominal_rate(t: FloatArray) -> float:
    """The sampling rate the recorder aimed at: mean interval outside gaps, to 0.1 Hz."""
    d = np.diff(t)
    dt = float(np.mean(d[d < 2.0 * np.median(d)]))
    return round(1.0 / dt, 1)


GridArrays = tuple[FloatArray, FloatArray, npt.NDArray[np.bool_]]


def to_uniform(rec: Recording, rate_hz: float | None = None,
               out: GridArrays | None = None) -> Uniform:
    """Interpolate onto a uniform grid (default: the recording's own nominal rate)."""
    rate = rate_hz or nominal_rate(rec.t)
    n = int(np.floor(rec.t[-1] * rate)) + 1
    return onto_grid(rec, np.arange(n), rate, out)


def onto_grid(rec: Recording, index: npt.NDArray[np.int_], rate: float,
              out: GridArrays | None = None) -> Uniform:
    """``rec`` interpolated at the grid times ``index / rate`` (consecutive indices, within
    the recording's span, or one sample beyond it at either end for the last value held).
    ``out``: the arrays to fill (acc and gyr (N, 3), valid (N,)), if not new ones."""
    t = index / rate
    n = len(t)
    if out is None:
        acc, gyr, valid = np.empty((n, 3)), np.empty((n, 3)), np.empty(n, bool)
    else:
        acc, gyr, valid = out
    last = len(rec.t) - 1
    after = samples_up_to(rec.t, t)
    columns = [(src[:, c], dst[:, c]) for src, dst in ((rec.acc, acc), (rec.gyr, gyr))
               for c in range(3)]
    for a in range(0, n, _CHUNK):  # a block at a time: the temporaries stay in cache
        tb = t[a:a + _CHUNK]
        # linear interpolation of all six channels from one search, a channel at a time
        i = np.clip(after[a:a + _CHUNK], 1, last)
        i_before = i - 1
        before = rec.t[i_before]
        w = np.clip((tb - before) / (rec.t[i] - before), 0.0, 1.0)
        for src, dst in columns:
            lo = src[i_before]
            step = src[i]
            step -= lo
            step *= w
            step += lo  # lo + w * (hi - lo)
            dst[a:a + _CHUNK] = step
    holes = np.flatnonzero(np.diff(rec.t) > MAX_BRIDGE_S)
    valid[...] = True
    for h in holes:
        valid[(t > rec.t[h]) & (t < rec.t[h + 1])] = False
    return Uniform(t, acc, gyr, valid, rate)


def samples_up_to(t: FloatArray, grid: FloatArray) -> npt.NDArray[np.intp]:
    """For each time of ``grid`` (increasing), how many of the samples ``t`` (increasing)
    are at or before it: ``np.searchsorted(t, grid, side="right")``, from each sample's first
    grid time counted, in linear time rather than by a search per grid time. ``grid`` is
    evenly spaced (its step taken from its ends), as a recording's grid is."""
    n = len(grid)
    step = (grid[-1] - grid[0]) / (n - 1) if n > 1 else 0.0
    if not step > 0.0 or len(t) == 0:
        return np.searchsorted(t, grid, side="right")
    # the first grid time at or after each sample: estimated from the step, then moved to
    # where the grid's own values say (rounding can put the estimate one off)
    first = np.ceil((t - grid[0]) / step)
    np.clip(first, 0, n, out=first)
    j = first.astype(np.intp)
    for _ in range(8):
        low = (j > 0) & (grid[np.maximum(j - 1, 0)] >= t)  # the one before is late enough
        high = (j < n) & (grid[np.minimum(j, n - 1)] < t)  # this one is too early
        if not (low.any() or high.any()):
            break
        j -= low
        j += high
    else:  # (not evenly spaced after all)
        return np.searchsorted(t, grid, side="right")
    counts = np.bincount(j, minlength=n + 1)[:n]
    out: npt.NDArray[np.intp] = np.cumsum(counts)
    return out


#: The specific force's norm is binned this finely (m/s^2) for the level gravity reads at: a
#: median that a long recording can gather piece by piece (``force_histogram``).
FORCE_BIN = 1e-4
_FORCE_BINS = round(40.0 / FORCE_BIN)  # up to 4 g; beyond, in the last bin


def force_histogram(acc: FloatArray) -> npt.NDArray[np.int64]:
    """Counts of the specific force's norm (``acc`` (N, 3), m/s^2) in FORCE_BIN bins; the
    histograms of consecutive pieces add up to the whole's."""
    # the squares summed in one order whatever the layout (einsum's order follows the strides)
    x, y, z = acc[:, 0], acc[:, 1], acc[:, 2]
    norm = np.sqrt(x * x + y * y + z * z)
    k = np.minimum((norm / FORCE_BIN).astype(np.int64), _FORCE_BINS - 1)
    counts: npt.NDArray[np.int64] = np.bincount(k, minlength=_FORCE_BINS)
    return counts


def gravity_level(counts: npt.NDArray[np.int64]) -> float:
    """What gravity reads at (m/s^2): the median of a ``force_histogram``, to FORCE_BIN."""
    total = int(counts.sum())
    if total == 0:
        return G
    k = int(np.searchsorted(np.cumsum(counts), (total + 1) // 2))
    return (k + 0.5) * FORCE_BIN
