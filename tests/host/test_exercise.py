"""Exercise sets found by the host (postureclip.exercise) on simulated sessions with truth,
and none on days without exercise."""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from postureclip.analysis import analyze
from postureclip.recording import Recording
from postureclip.simulate import (
    EXERCISE_POSES,
    Segment,
    Wearer,
    coaching_day,
    exercise_session,
    simulate,
)


def _analyze(segments: list[Segment], rng: np.random.Generator):
    wearer = dataclasses.replace(Wearer.random(rng, rate_hz=50.0), jitter=0.0)
    sim = simulate(segments, wearer, rng)
    return sim, analyze(Recording(sim.t, sim.acc, sim.gyr))


@pytest.mark.parametrize("kind", list(EXERCISE_POSES))
def test_each_exercise_is_recognised_with_its_reps_and_hold(kind: str) -> None:
    rng = np.random.default_rng(10 + list(EXERCISE_POSES).index(kind))
    sim, a = _analyze(exercise_session(rng, [kind, kind]), rng)
    truth = sim.truth.exercise_sets
    assert len(truth) >= 4 and len(a.exercise_sets) == len(truth), (a.exercise_sets, truth)
    for found, true in zip(a.exercise_sets, truth, strict=True):
        assert found.kind == true.kind
        assert true.start_s - 1.0 <= found.start_s and found.end_s <= true.end_s + 1.0
        assert abs(found.reps - true.reps) <= 1
        assert abs(found.hold_s - true.hold_s) <= 1.0
    assert a.lifts == [] and a.slips == []  # getting down and up, bridges: none of these
    assert len(a.breaks.breaks) == 1  # one session, one break


def test_lying_down_is_no_exercise() -> None:
    rng = np.random.default_rng(7)
    segs = [Segment("stand", 20.0)]
    for flex, lat in ((90.0, 0.0), (-90.0, 0.0), (0.0, 90.0), (0.0, -90.0)):
        segs += [Segment("floor", 60.0, flex, lat), Segment("stand", 20.0)]
    _, a = _analyze(segs, rng)
    assert a.exercise_sets == []


def test_a_working_day_holds_no_exercise() -> None:
    rng = np.random.default_rng(8)
    _, a = _analyze(coaching_day(rng, 1.5), rng)  # lying, reclining, reaching, driving...
    assert a.exercise_sets == []
