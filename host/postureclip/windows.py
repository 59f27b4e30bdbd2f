"""Moving-window statistics and the runs of masks, with numpy alone.

The analysis needs no scipy (its import took a sixth of an 8-hour ``postureclip analyze``),
so what it needs of scipy.ndimage is here, with the same results bit for bit:
``moving_mean`` is ``uniform_filter1d`` (the same running sum, divided at each sample),
``moving_max`` is ``maximum_filter1d`` and ``moving_median`` is ``median_filter``
(tests/host/test_windows.py checks each against scipy).
"""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]


def moving_mean(x: FloatArray, n: int, origin: int = 0) -> FloatArray:
    """The mean of ``x`` (1-D) over a centred window of ``n`` samples (the extra sample of an
    even window before the centre), moved ``origin`` samples into the past, the ends
    extended by reflection (``d c b a | a b c d``):
    ``scipy.ndimage.uniform_filter1d(x, n, origin=origin)``."""
    m = len(x)
    if m == 0:
        return np.zeros(0)
    before = n // 2 + origin
    ext = np.pad(np.asarray(x, dtype=np.float64), (before, n - before - 1), mode="symmetric")
    steps = np.empty(m)
    steps[0] = np.add.accumulate(ext[:n])[-1]  # summed in order, as scipy does
    np.subtract(ext[n:n + m - 1], ext[:m - 1], out=steps[1:])
    sums = np.add.accumulate(steps, out=steps)
    sums /= n
    return sums


def moving_max(x: FloatArray, n: int) -> FloatArray:
    """The largest of ``x`` (1-D) over the window of ``moving_mean``, cut at the ends (the
    edge values held: ``scipy.ndimage.maximum_filter1d(x, n, mode="nearest")``), by
    doubling: the maxima over 1, 2, 4 ... samples, then two overlapping ones per window."""
    m = len(x)
    if m == 0:
        return np.zeros(0)
    before = n // 2
    reach = np.full(m + n - 1, -np.inf)  # beyond the ends: nothing (the edge is in the window)
    reach[before:before + m] = x
    w = 1
    while 2 * w <= n:  # reach[i]: the largest of the w samples from i
        np.maximum(reach[:-w], reach[w:], out=reach[:-w])
        w *= 2
    out: FloatArray = np.maximum(reach[:m], reach[n - w:n - w + m])
    return out


def moving_median(x: FloatArray, n: int) -> FloatArray:
    """The median of ``x`` (1-D) over a centred window of odd ``n`` samples, the edge values
    held beyond the ends: ``scipy.ndimage.median_filter(x, n, mode="nearest")``."""
    if n % 2 != 1:
        raise ValueError(f"the window must be odd, got {n}")
    if len(x) == 0:
        return np.zeros(0)
    ext = np.pad(np.asarray(x, dtype=np.float64), n // 2, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(ext, n)
    out: FloatArray = np.partition(windows, n // 2, axis=1)[:, n // 2]
    return out


def moving_variance(x: FloatArray, n: int) -> FloatArray:
    """Mean square less squared mean of ``x`` over ``moving_mean``'s window (rounding can
    leave it a little below 0)."""
    mean = moving_mean(x, n)
    square = moving_mean(x * x, n)
    square -= np.multiply(mean, mean, out=mean)
    return square


def moving_std(x: FloatArray, n: int) -> FloatArray:
    """The standard deviation of ``x`` over a centred window of ``n`` samples."""
    square = moving_variance(x, n)
    np.maximum(square, 0.0, out=square)
    return np.sqrt(square, out=square)


def axis_total(x: FloatArray, per_axis: Callable[[FloatArray], FloatArray]) -> FloatArray:
    """``per_axis`` of each column of ``x`` (N, 3), summed as ``x.sum(axis=1)`` sums (the
    first two, then the third), an axis at a time: no (N, 3) temporaries, nor numpy's slow
    short-axis reduction."""
    total = per_axis(x[:, 0])
    total += per_axis(x[:, 1])
    total += per_axis(x[:, 2])
    return total


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
