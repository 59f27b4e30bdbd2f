"""A recording made ready for the analysis in one piece: on its uniform grid, its still start
found and the gyro's bias taken out, its orientation (earth's up in the sensor frame), its
vertical track and its motionless mask (``Signals``, which each piece of a long recording
gets the same way).

The grid is made first, in the process itself. On two cores (``parallel``) the rest is made
in a child forked straight after it (postureclip.forked), while the parent imports the rest
of the analysis and finds the movements on the grid; the child hands each result over
through shared memory as soon as it is made. The results are the same either way
(tests/host/test_forked.py).
"""
from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from .allocator import release_freed_memory
from .errors import CalibrationError
from .forked import Outputs, Staged
from .orientation import up_vectors
from .recording import (
    Recording,
    Uniform,
    force_histogram,
    gravity_level,
    nominal_rate,
    read_csv,
    to_uniform,
)
from .settings import AnalysisSettings
from .stillness import motionless
from .vertical import VerticalTrack, vertical_track
from .windows import moving_std

FloatArray = npt.NDArray[np.float64]


def find_still(u: Uniform, s: AnalysisSettings) -> slice:
    """First stretch of ``calib_still_s`` within ``calib_search_s`` with the trunk still."""
    n = round(s.calib_still_s * u.rate_hz)
    m = min(len(u.t), round(s.calib_search_s * u.rate_hz))
    if m < n:
        raise CalibrationError(f"recording is {u.t[-1]:.1f} s long; calibration needs "
                               f"{s.calib_still_s:.0f} s of still, neutral posture at its start")
    # the gyro's spread, not its magnitude: a zero-rate offset (up to 20 deg/s on an
    # MPU-6050) must not hide a still wearer
    gyr_spread = np.sqrt(sum(moving_std(u.gyr[:m, k], n) ** 2 for k in range(3)))
    acc = np.linalg.norm(u.acc[:m], axis=1)
    still = (gyr_spread < 0.05) & (moving_std(acc, n) < 0.3) & u.valid[:m]
    centres = np.flatnonzero(still[n // 2: m - (n - n // 2) + 1])
    if centres.size == 0:
        raise CalibrationError(f"no still stretch of {s.calib_still_s:.0f} s in the first "
                               f"{s.calib_search_s:.0f} s: start recordings standing or sitting "
                               "upright and still")
    start = int(centres[0])
    return slice(start, start + n)


def start_bias(u: Uniform, s: AnalysisSettings) -> tuple[slice, FloatArray]:
    """The still stretch a recording starts with (``find_still``) and the gyro's reading
    there, its bias (rad/s; ``u.gyr`` as recorded)."""
    still = find_still(u, s)
    return still, u.gyr[still].mean(axis=0)


_UP, _TRACK, _MOTIONLESS = range(3)  # the stages of ``Signals``


class Signals:
    """What a piece of grid ``u`` (gyro bias-corrected) gives without the trunk frame: earth's
    up in the sensor frame, the vertical track and the motionless mask, made in that order in
    a forked child when ``parallel``; each method waits for its own (the slip test needs the
    orientation first, the lifts the track, the breaks the mask last)."""

    def __init__(self, u: Uniform, parallel: bool = False) -> None:
        m = len(u.t)
        self.job = Staged(lambda outputs: signal_stages(u, outputs), _signal_layouts(m),
                          parallel)

    def up_ready(self) -> bool:
        """Whether ``up()`` would return at once."""
        return self.job.ready(_UP)

    def up(self) -> FloatArray:
        """Earth's up in the sensor frame, (N, 3)."""
        up_s: FloatArray = self.job.stage(_UP)[0]
        return up_s

    def track(self) -> VerticalTrack:
        """The vertical track (``vertical.vertical_track``)."""
        h, anchor, a_up = self.job.stage(_TRACK)
        return VerticalTrack(h, anchor, a_up)

    def motionless_made_elsewhere(self) -> None:
        """The motionless mask is not wanted from here (the child need not make it)."""
        self.job.skip_from(_MOTIONLESS)

    def motionless(self) -> npt.NDArray[np.bool_]:
        """``stillness.motionless``."""
        still: npt.NDArray[np.bool_] = self.job.stage(_MOTIONLESS)[0]
        return still


def _signal_layouts(m: int) -> list[list[tuple[tuple[int, ...], np.dtype[Any]]]]:
    f8, flag = np.dtype(np.float64), np.dtype(np.bool_)
    return [[((m, 3), f8)], [((m,), f8), ((m,), flag), ((m,), f8)], [((m,), flag)]]


def signal_stages(u: Uniform, outputs: Outputs) -> Iterator[tuple[npt.NDArray[Any], ...]]:
    """The ``Signals`` of ``u`` as the stages of a ``Staged`` job (the orientation computed
    into its output)."""
    up_s = up_vectors(u.gyr, u.acc, u.rate_hz, out=outputs(_UP)[0])
    yield (up_s,)
    track = vertical_track(u, up_s)
    yield track.h, track.anchor, track.a_up
    yield (motionless(u),)


class Prepared(Signals):
    """``rec`` made ready: on its grid, its still start found and the gyro's bias taken out
    (at once, in this process), then its ``Signals`` (in a forked child when ``parallel``).
    ``rec``: a recording, or the path of its CSV (then read here, and let go of once it is on
    the grid, before the fork). Known at once: ``rate_hz`` (nominal), ``n`` (grid samples),
    ``g`` (the level gravity reads at, m/s^2) and ``duration_s``."""

    def __init__(self, rec: Recording | str | Path, s: AnalysisSettings,
                 parallel: bool = False) -> None:
        if not isinstance(rec, Recording):
            rec = read_csv(rec)
        self.rate_hz = nominal_rate(rec.t)
        self.duration_s = rec.duration_s
        # the grid here, before the fork: in this process's own memory it is made faster than
        # into shared memory, and the child reads it where it is
        self.u = to_uniform(rec, self.rate_hz)
        self.n = len(self.u.t)
        self.still, self.bias = start_bias(self.u, s)
        self.u.gyr[...] -= self.bias  # (the grid's own copy)
        self.g = gravity_level(force_histogram(rec.acc))
        del rec
        if parallel:
            release_freed_memory()  # (postureclip.allocator: not shared with the child)
        super().__init__(self.u, parallel)

    def grid(self) -> tuple[Uniform, slice, FloatArray]:
        """The recording on its grid with the gyro's bias taken out, the still stretch it
        starts with (``find_still``) and the bias (rad/s)."""
        return self.u, self.still, self.bias
