"""Movement breaks: the clip's rule (firmware/clip/breaks.py, docs/exercise.md) over a whole
recording.

The still clock runs from the start of wear and from the end of each break; a break is walking
for BREAK_WALK_S in all, with no pause longer than BREAK_GAP_S between the walking (it lasts
until such a pause), or an exercise session. When the clock reaches the limit a "time to move"
reminder is due; it waits while the wearer walks, lies down, exercises or the clip lies
motionless (off the body), and comes again after each further limit without a break.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import numpy.typing as npt

from .windows import run_bounds

FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]

MOVE_AFTER_MIN = 30  # the setting's default (clip/settings.py move_after_min)
BREAK_WALK_S = 60.0
BREAK_GAP_S = 120.0
SESSION_GAP_S = 300.0  # exercise sets closer than this are one session: one break
MOTIONLESS_S = 60.0  # no motion at all this long: off the body, the clock waits
_BREAK, _RESTART, _HOLD, _RELEASE, _END = range(5)  # events, in their order at one moment


@dataclass(frozen=True)
class Breaks:
    """``reminders``: when a "time to move" reminder came (s); ``breaks``: when each break
    was counted (s); ``longest_still_s``: the longest time between breaks (from the start of
    wear, or to the end of the recording)."""

    reminders: list[float]
    breaks: list[float]
    longest_still_s: float


Spans = list[tuple[float, float]]  # [start, end) in s, in time order


def find_breaks(t: FloatArray, walking: BoolArray, held: BoolArray, motionless: BoolArray,
                sets: list[tuple[float, float]], limit_s: float = MOVE_AFTER_MIN * 60.0
                ) -> Breaks:
    """``walking``, ``held`` (lying, in a set) and ``motionless`` per sample at times ``t``;
    ``sets``: exercise sets (start, end) in s. ``limit_s`` 0: no reminders."""
    if len(t) < 2:
        return Breaks([], [], 0.0)
    dt = float(np.median(np.diff(t)))
    ends = np.append(t[1:], t[-1] + dt)  # when each sample's moment ends

    def spans(mask: BoolArray) -> Spans:
        a, b = run_bounds(mask)
        return list(zip(t[a].tolist(), ends[b - 1].tolist(), strict=True))

    off = _after_holding(motionless, t, MOTIONLESS_S)
    return breaks_from_spans(float(t[0]), float(ends[-1]), spans(walking),
                             spans(held | walking | off), spans(off), sets, limit_s)


def breaks_from_spans(start: float, end: float, walking: Spans, held: Spans, off: Spans,
                      sets: list[tuple[float, float]], limit_s: float) -> Breaks:
    """``find_breaks`` from the spans of wear [start, end): walking, held (lying, in a set,
    walking or off the body: no reminder then) and off the body (motionless for
    MOTIONLESS_S, from then on)."""
    # (time, kind), in time order and at one time in the order of the kinds
    events: list[tuple[float, int]] = []
    walked, last_end, counted = 0.0, -np.inf, False
    for a, b in walking:
        if a - last_end > BREAK_GAP_S:
            walked, counted = 0.0, False
        walked += b - a
        last_end = b
        if not counted and walked >= BREAK_WALK_S:
            events.append((last_end - (walked - BREAK_WALK_S), _BREAK))
            counted = True
        if counted:  # the walks of a break: the clock restarts at the end of each
            events.append((last_end, _RESTART))
    last_end = -np.inf
    for a_s, b_s in sets:  # a session of sets is one break; the clock restarts after each
        events.append((b_s, _BREAK if a_s - last_end > SESSION_GAP_S else _RESTART))
        last_end = b_s
    # back on the body: what the wearer did meanwhile is unknown, the clock starts afresh
    events += [(b, _RESTART) for _, b in off]
    events += [(a, _HOLD) for a, _ in held] + [(b, _RELEASE) for _, b in held]
    events.sort()
    reminders: list[float] = []
    breaks: list[float] = []
    due = start + limit_s
    holding, longest = False, 0.0
    for when, kind in [*events, (end, _END)]:
        if limit_s > 0 and not holding:
            while due <= when:
                reminders.append(due)
                due += limit_s
        if kind == _BREAK:
            longest = max(longest, when - start)
            breaks.append(when)
            start, due = when, when + limit_s
        elif kind == _RESTART:
            start, due = when, when + limit_s
        elif kind == _HOLD:
            holding = True
        elif kind == _RELEASE:
            holding = False
            if limit_s > 0 and due <= when:  # fell due while held: given now
                reminders.append(when)
                due = when + limit_s
        else:
            longest = max(longest, when - start)
    return Breaks(reminders, sorted(set(breaks)), longest)


T = TypeVar("T", int, float)


def union(*spans: list[tuple[T, T]]) -> list[tuple[T, T]]:
    """The union of span lists (times, or sample indices), as disjoint spans in order,
    touching ones joined."""
    out: list[tuple[T, T]] = []
    for a, b in sorted(x for s in spans for x in s):
        if out and a <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return out


def _after_holding(mask: BoolArray, t: FloatArray, seconds: float) -> BoolArray:
    """``mask`` from the moment it has held ``seconds``."""
    out = np.zeros(len(mask), bool)
    for a, b in zip(*run_bounds(mask), strict=True):
        k = int(np.searchsorted(t, t[a] + seconds))
        if k < b:
            out[k:b] = True
    return out
