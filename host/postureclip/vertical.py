"""The sensor's height through a recording, from its vertical acceleration: what the lift
detector measures dips in (postureclip.analysis). numpy alone: it runs in the first stage's
child (postureclip.prepare)."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .recording import G, Uniform
from .windows import moving_mean, row_norms, runs, sustained

FloatArray = npt.NDArray[np.float64]


#: The ends of a signal are extended by this long before ``highpass`` (s). The filter's
#: slowest decay at 0.05 Hz is e^(-t / 4.5 s): its start-up has fallen below 1e-5 of where
#: it began by the end of the extension.
HIGHPASS_PAD_S = 60.0


def highpass(x: FloatArray, fs: float, cutoff_hz: float) -> FloatArray:
    """``x`` through a 2nd-order Butterworth high-pass (-3 dB at ``cutoff_hz``, bilinear
    transform) run forward and backward: zero phase, response |H|^2, as scipy.signal's
    ``sosfiltfilt(butter(2, cutoff_hz, "highpass", fs=fs, output="sos"), x)``, applied as
    that response in the frequency domain with numpy's FFT on ``x`` extended at both ends by
    odd reflection over HIGHPASS_PAD_S. (Importing scipy.signal costs 0.4 s, a sixth of an
    8-hour analysis.) The two differ only in how the filter starts at the ends (scipy:
    9 samples of reflection and the filter's steady state), a difference that decays as
    e^(-t / 4.5 s) at 0.05 Hz; tests/host/test_analysis.py compares them."""
    n = len(x)
    pad = min(n - 1, round(HIGHPASS_PAD_S * fs))
    ext = np.concatenate([2.0 * x[0] - x[pad:0:-1], x, 2.0 * x[-1] - x[-2:-pad - 2:-1]])
    m = _smooth_length(len(ext))
    k = math.tan(math.pi * cutoff_hz / fs)
    # H(z) = (1 - z^-1)^2 / (a0 + a1 z^-1 + a2 z^-2), the bilinear Butterworth; |H|^2 on the
    # unit circle in terms of cos(w) and cos(2 w)
    r2 = math.sqrt(2.0) * k
    a0, a1, a2 = 1.0 + r2 + k * k, 2.0 * (k * k - 1.0), 1.0 - r2 + k * k
    w = 2.0 * np.pi * np.fft.rfftfreq(m)
    c1 = np.cos(w)
    num = (2.0 - 2.0 * c1) ** 2
    den = (a0 * a0 + a1 * a1 + a2 * a2 + 2.0 * (a0 * a1 + a1 * a2) * c1
           + 2.0 * a0 * a2 * np.cos(2.0 * w))
    # less the line joining its ends (which the filter takes out anyway: |H|^2 vanishes as
    # w^4 at 0 Hz), the extension meets the FFT's padding and wraps around without a step
    ext -= np.linspace(ext[0], ext[-1], len(ext))
    out: FloatArray = np.fft.irfft(np.fft.rfft(ext, m) * (num / den), m)[pad:pad + n]
    return out


def _smooth_length(n: int) -> int:
    """The smallest length >= ``n`` with no prime factor above 5 (fast for the FFT)."""
    best = 1 << max(0, (n - 1).bit_length())
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            m = p35 << max(0, (-(-n // p35) - 1).bit_length())  # times the power of 2 reaching n
            best = min(best, m)
            p35 *= 3
        p5 *= 5
    return best


@dataclass(frozen=True)
class VerticalTrack:
    """Sensor height (m, arbitrary origin) and the still moments that anchor it."""

    h: FloatArray
    anchor: npt.NDArray[np.bool_]
    a_up: FloatArray  # vertical linear acceleration, m/s^2 (high-passed)


def vertical_track(u: Uniform, up_s: FloatArray) -> VerticalTrack:
    """Sensor height from vertical acceleration integrated between still moments with zero
    velocity at each (ZUPT), so that drift cannot pile up. ``u.gyr`` must be
    bias-corrected."""
    fs = u.rate_hz
    av = np.einsum("ij,ij->i", up_s, u.acc) - G  # specific force along earth up
    # remove the slow part of the vertical specific force (accelerometer scale, tilt error)
    av = highpass(av, fs, 0.05) if len(av) > 50 else av - av.mean()
    w = row_norms(u.gyr)
    k = max(1, int(0.1 * fs))
    still = (moving_mean(np.abs(av), k) < 0.35) & (moving_mean(w, k) < 0.2)
    anchor = sustained(still, int(0.2 * fs))  # a still moment must last 0.2 s to anchor
    h = np.empty(len(av))
    dt = 1.0 / fs
    level = 0.0
    pos = 0
    for a, b in runs(~anchor):
        h[pos:a] = level
        v = np.cumsum(av[a:b]) * dt
        v -= np.linspace(0.0, v[-1], len(v))  # zero velocity at both anchors
        p = np.cumsum(v) * dt
        if (b - a) / fs > 12.0:  # too long to trust: assume it ends where it began
            p -= np.linspace(0.0, p[-1], len(p))
        h[a:b] = level + p
        level = float(h[b - 1])
        pos = b
    h[pos:] = level
    return VerticalTrack(h, anchor, av)
