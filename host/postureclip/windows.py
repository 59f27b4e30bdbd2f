"""Moving-window statistics and the runs of masks, with numpy alone.

The first stage of the analysis (the grid, the still start, the orientation and the vertical
track; postureclip.prepare) runs in a child process forked before scipy is imported, so what
it needs is here. ``moving_mean`` equals ``scipy.ndimage.uniform_filter1d`` bit for bit
(the same running sum, divided at each sample; tests/host/test_windows.py checks it against
scipy), so the analysis gives the same numbers whichever computes them.
"""
from __future__ import annotations

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def moving_mean(x: FloatArray, n: int) -> FloatArray:
    """The mean of ``x`` (1-D) over a centred window of ``n`` samples (the extra sample of an
    even window before the centre), the ends extended by reflection (``d c b a | a b c d``):
    ``scipy.ndimage.uniform_filter1d(x, n)``."""
    m = len(x)
    if m == 0:
        return np.zeros(0)
    before = n // 2
    ext = np.pad(np.asarray(x, dtype=np.float64), (before, n - before - 1), mode="symmetric")
    steps = np.empty(m)
    steps[0] = np.add.accumulate(ext[:n])[-1]  # summed in order, as scipy does
    np.subtract(ext[n:n + m - 1], ext[:m - 1], out=steps[1:])
    sums = np.add.accumulate(steps, out=steps)
    sums /= n
    return sums


def moving_std(x: FloatArray, n: int) -> FloatArray:
    """The standard deviation of ``x`` over a centred window of ``n`` samples."""
    mean = moving_mean(x, n)
    square = moving_mean(x * x, n)
    square -= mean * mean
    np.maximum(square, 0.0, out=square)
    return np.sqrt(square, out=square)


def row_norms(v: FloatArray) -> FloatArray:
    """Norms of the rows of (N, 3), faster than np.linalg.norm for long arrays."""
    out: FloatArray = np.sqrt(np.einsum("ij,ij->i", v, v))
    return out


def run_bounds(mask: BoolArray) -> tuple[npt.NDArray[np.intp], npt.NDArray[np.intp]]:
    """Starts and ends (exclusive) of the True runs of ``mask``."""
    d = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return np.flatnonzero(d == 1), np.flatnonzero(d == -1)


def runs(mask: BoolArray) -> list[tuple[int, int]]:
    """[start, end) index pairs of the True runs of ``mask``."""
    starts, ends = run_bounds(mask)
    return list(zip(starts.tolist(), ends.tolist(), strict=True))


def sustained(mask: BoolArray, n: int) -> BoolArray:
    """``mask`` with its True runs shorter than ``n`` samples cleared."""
    out = np.zeros(len(mask), bool)
    for a, b in runs(mask):
        if b - a >= n:
            out[a:b] = True
    return out


def widened(mask: BoolArray, r: int) -> BoolArray:
    """True where ``mask`` is True within ``r`` samples either side (a binary dilation; what
    ``scipy.ndimage.maximum_filter1d(mask, 2 * r + 1)`` gives), from its runs, each widened
    by ``r``: no pass over a window per sample."""
    n = len(mask)
    starts, ends = run_bounds(mask)
    # +1 where a widened run begins, -1 where it ends; covered while the sum is positive
    marks = np.zeros(n + 1, np.int32)
    np.add.at(marks, np.maximum(starts - r, 0), 1)
    np.add.at(marks, np.minimum(ends + r, n), -1)
    out: BoolArray = np.cumsum(marks[:n], dtype=np.int32) > 0
    return out
