"""The analysis on a live stream: samples go in as they arrive, final events come out.

``LiveAnalysis`` runs the same core as the batch analysis (``analysis.analyze_core``) on a
sliding window. Orientation is causal (online VQF, its state carried from chunk to chunk);
calibration comes from the first still stretch, as in the batch analysis. An event is reported
once it ended more than ``settle_s`` before the newest sample — later samples can no longer
change it (lifts need the still moment after them, episodes the 2 s that end them) — so its
latency is bounded and memory stays at a window of ``window_s``. Also accepts the clip's
fused quaternion stream (posture and slouch episodes; lifts need the accelerometer).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from .analysis import (
    AnalysisSettings,
    Calibration,
    Lift,
    SlouchEpisode,
    analyze_core,
    calibrate,
    calibrate_start,
)
from .errors import CalibrationError
from .orientation import up_in_sensor
from .recording import Uniform

FloatArray = npt.NDArray[np.float64]


@dataclass
class LiveEvents:
    """What one ``feed`` made final."""

    slouch_episodes: list[SlouchEpisode] = field(default_factory=list)
    lifts: list[Lift] = field(default_factory=list)


class LiveAnalysis:
    def __init__(self, rate_hz: float, settings: AnalysisSettings | None = None,
                 window_s: float = 90.0, settle_s: float = 20.0) -> None:
        self.s = settings or AnalysisSettings()
        self.rate_hz = rate_hz
        self.window_s = window_s
        self.settle_s = settle_s
        self.cal: Calibration | None = None
        self._t = np.empty(0)
        self._acc = np.empty((0, 3))
        self._gyr = np.empty((0, 3))
        self._q = np.empty((0, 4))
        self._vqf: Any = None  # vqf.VQF: the causal filter's state, carried chunk to chunk
        self.episodes: list[SlouchEpisode] = []
        self.lifts: list[Lift] = []
        self.quaternions_only = False

    # --- input --------------------------------------------------------------------------
    def feed(self, t: FloatArray, acc: FloatArray, gyr: FloatArray) -> LiveEvents:
        """Raw samples at ``rate_hz``: t (s), accelerometer (m/s^2), gyro (rad/s)."""
        self._t = np.concatenate([self._t, t])
        self._acc = np.vstack([self._acc, acc])
        self._gyr = np.vstack([self._gyr, gyr])
        if self.cal is None and not self._calibrate():
            return LiveEvents()
        assert self.cal is not None
        new = len(self._t) - len(self._q)
        g = np.ascontiguousarray(self._gyr[-new:] - self.cal.bias)
        a = np.ascontiguousarray(self._acc[-new:])
        out = self._vqf.updateBatch(g, a)
        self._q = np.vstack([self._q, np.asarray(out["quat6D"])])
        return self._step(final=False)

    def feed_quaternions(self, t: FloatArray, q: FloatArray) -> LiveEvents:
        """The clip's fused stream: sensor-to-earth quaternions (w, x, y, z). The first
        samples must be the still, neutral posture (the clip's own calibration applies)."""
        self.quaternions_only = True
        self._t = np.concatenate([self._t, t])
        self._q = np.vstack([self._q, q])
        zeros = np.zeros((len(t), 3))
        self._acc = np.vstack([self._acc, zeros])
        self._gyr = np.vstack([self._gyr, zeros])
        if self.cal is None:
            n = round(self.s.calib_still_s * self.rate_hz)
            if len(self._t) < n:
                return LiveEvents()
            up = up_in_sensor(self._q[:n]).mean(axis=0)
            self.cal = Calibration(slice(0, n), np.zeros(3), calibrate(up))
        return self._step(final=False)

    def finish(self) -> LiveEvents:
        """End of the stream: report what is still open."""
        return self._step(final=True)

    # --- the work -----------------------------------------------------------------------
    def _calibrate(self) -> bool:
        u = Uniform(self._t, self._acc, self._gyr, np.ones(len(self._t), bool), self.rate_hz)
        try:
            self.cal = calibrate_start(u, self.s)
        except CalibrationError:
            if self._t[-1] - self._t[0] > self.s.calib_search_s:
                raise
            return False  # not enough signal yet
        from vqf import VQF

        self._vqf = VQF(1.0 / self.rate_hz)
        return True

    def _step(self, final: bool) -> LiveEvents:
        if self.cal is None or not len(self._q):
            return LiveEvents()
        n = len(self._q)
        t = self._t[:n]
        u = Uniform(t, self._acc[:n], self._gyr[:n] - self.cal.bias, np.ones(n, bool),
                    self.rate_hz)
        core = analyze_core(u, self.s, up_in_sensor(self._q), self.cal.neutral,
                            with_lifts=not self.quaternions_only)
        horizon = np.inf if final else t[-1] - self.settle_s
        out = LiveEvents()
        for e in core.episodes:
            if e.end_s < horizon and not _overlaps(e, self.episodes):
                out.slouch_episodes.append(e)
        for x in core.lifts:
            if x.end_s < horizon and not _overlaps(x, self.lifts):
                out.lifts.append(x)
        self.episodes += out.slouch_episodes
        self.lifts += out.lifts
        # keep a window; never cut into something still open, and keep a margin before it
        # (the vertical track's filters need signal on both sides of a movement)
        open_starts = [e.start_s for e in core.episodes if e.end_s >= horizon]
        open_starts += [x.start_s for x in core.lifts if x.end_s >= horizon]
        cut_t = min([t[-1] - self.window_s, *(o - self.settle_s for o in open_starts)])
        cut = int(np.searchsorted(t, cut_t))
        if cut > 0 and not final:
            self._t = self._t[cut:]
            self._acc = self._acc[cut:]
            self._gyr = self._gyr[cut:]
            self._q = self._q[cut:]
        return out


def _overlaps(event: SlouchEpisode | Lift, reported: list[SlouchEpisode] | list[Lift]) -> bool:
    """Whether ``event`` is one already reported (seen again in a later window)."""
    return any(event.start_s <= r.end_s and r.start_s <= event.end_s for r in reported)
