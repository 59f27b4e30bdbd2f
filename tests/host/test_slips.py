"""Slips found by the host (postureclip.slips): on simulated wear, and the walking check and
pull on constructed up vectors."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
import pytest

from postureclip.analysis import analyze
from postureclip.orientation import trunk_angles
from postureclip.recording import Recording
from postureclip.rotation import Rotation
from postureclip.simulate import LSM6DSOX, Segment, Wearer, simulate
from postureclip.slips import PULL_MAX_DEG, Mounting, Slip, check_by_walking


def _wear(segments: list[Segment], seed: int):
    rng = np.random.default_rng(seed)
    wearer = dataclasses.replace(Wearer.random(rng, rate_hz=100.0, imu=LSM6DSOX), jitter=0.0)
    return simulate(segments, wearer, rng)


def test_a_slip_is_found_and_the_angles_after_it_follow_the_new_mounting() -> None:
    for seed, turn in ((1, (18.0, 0.0)), (2, (-8.0, 14.0))):
        segs = [Segment("stand", 20.0), Segment("walk", 40.0, 3.0), Segment("sit", 30.0, 5.0),
                Segment("slip", 0.3, clip_turn_deg=turn), Segment("sit", 40.0, 5.0),
                Segment("walk", 30.0, 3.0), Segment("sit", 40.0, 12.0)]
        sim = _wear(segs, seed)
        a = analyze(Recording(sim.t, sim.acc, sim.gyr))
        found = [x for x in a.slips if x.kind == "slip"]
        assert len(found) == 1 and found[0].undone_s is None, a.slips
        assert 0.0 <= found[0].t_s - sim.truth.slips[0] < 10.0
        t = a.series["t"]
        last = t > t[-1] - 30.0  # the last sitting, after the walk
        truth = np.interp(t[last], sim.truth.t, sim.truth.flexion_deg)
        assert np.median(np.abs(a.series["flexion_deg"][last] - truth)) < 2.0


def test_wear_without_slips_reports_none() -> None:
    segs = [Segment("stand", 20.0), Segment("sit", 60.0, 5.0), Segment("walk", 30.0, 3.0),
            Segment("sit", 60.0, 30.0), Segment("recline", 30.0, -20.0), Segment("stand", 20.0)]
    sim = _wear(segs, 3)
    assert analyze(Recording(sim.t, sim.acc, sim.gyr)).slips == []


# --- the walking check and pull on constructed up vectors ------------------------------
FS = 50.0


def _about(axis: str, deg: float) -> Rotation:
    """A turn of ``deg`` degrees about one sensor axis."""
    return Rotation.from_rotvec(np.radians(deg) * np.eye(3)["xyz".index(axis)])


def _up_for(flex_deg: float, lat_deg: float, mount: Rotation) -> np.ndarray:
    """Earth's up in the sensor frame for a trunk at (flex, lat), the sensor turned by
    ``mount`` (sensor -> trunk)."""
    f, la = np.radians(flex_deg), np.radians(lat_deg)
    up_t = np.array([np.cos(la) * np.cos(f), -np.sin(la), np.cos(la) * np.sin(f)])
    return mount.inv().apply(up_t)


def _script(parts: list[tuple[float, bool, float, Rotation]]):
    """(seconds, walking, flexion, mount) stretches -> t, up_s, walking."""
    ups, walks = [], []
    for seconds, walking, flex, mount in parts:
        n = round(seconds * FS)
        ups.append(np.tile(_up_for(flex, 0.0, mount), (n, 1)))
        walks.append(np.full(n, walking))
    up_s = np.vstack(ups)
    return np.arange(len(up_s)) / FS, up_s, np.concatenate(walks)


def _tilt_at(frames, index: int, up: np.ndarray) -> float:
    frame = [f for i, f in frames if i <= index][-1]
    flex, _ = trunk_angles((frame.as_matrix() @ up)[None, :])
    return float(flex[0])


def test_a_reanchored_frame_is_pulled_to_the_walking_tilt() -> None:
    ident = Rotation.identity()
    slipped = _about("y", 15.0)  # the new sensor frame in the old
    # the re-anchoring measured 15 deg, but the clip then crept 5 deg more about the trunk's
    # sideways axis, below what counts as a slip
    crept = _about("y", 20.0)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (10.0, False, 0.0, ident),
                                (10.0, False, 0.0, slipped), (40.0, False, 0.0, crept),
                                (600.0, True, 4.0, crept), (5.0, False, 0.0, crept)])
    slip = Slip(40.0, "slip", 15.0, round(40.0 * FS), slipped)
    slips, frames = check_by_walking([slip], t, up_s, walking, ident)
    assert slips == [slip]
    before_walk = _tilt_at(frames, round(89.0 * FS), up_s[round(89.0 * FS)])
    assert abs(before_walk - 5.0) < 0.1  # the creep, uncorrected until the wearer walks
    # each pull takes a share of what is left, at most PULL_MAX_DEG
    steps = [abs(_tilt_at(frames, i, up_s[-1]) - _tilt_at(frames, j, up_s[-1]))
             for (i, _), (j, _) in itertools.pairwise(frames[2:])]
    assert max(steps) <= PULL_MAX_DEG + 1e-6
    assert abs(_tilt_at(frames, len(t) - 1, up_s[-1])) < 1.0  # sitting upright: 0 deg


def test_the_calibrated_frame_is_never_pulled_and_a_contradicted_slip_is_undone() -> None:
    ident = Rotation.identity()
    crept = _about("y", 5.0)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (10.0, False, 0.0, crept),
                                (60.0, True, 4.0, crept)])
    assert check_by_walking([], t, up_s, walking, ident) == ([], [(0, ident)])
    # a "slip" the walk afterwards contradicts (the clip did not move)
    wrong = _about("y", 15.0)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (20.0, False, 0.0, ident),
                                (30.0, True, 4.0, ident)])
    slips, frames = check_by_walking([Slip(40.0, "slip", 15.0, round(40.0 * FS), wrong)],
                                     t, up_s, walking, ident)
    assert slips[0].undone_s is not None and 50.0 < slips[0].undone_s < 61.0
    assert frames[-1][1].approx_equal(ident) and abs(_tilt_at(frames, len(t) - 1,
                                                                up_s[-1]) - 4.0) < 1e-6


# --- the host's correction of re-anchored frames (Mounting(estimate=True)) ---------------
def _estimated(parts, slips: list[Slip]):
    t, up_s, walking = _script(parts)
    m = Mounting(Rotation.identity(), 1.0 / FS, lambda i: float(t[i]), estimate=True)
    m.run(slips, 0, len(t), up_s, np.flatnonzero(walking))
    return t, up_s, m


def _walks(n: int, flex: list[float], mount: Rotation) -> list[tuple]:
    """``n`` walks of 30 s at the given tilts (cycled), each followed by 60 s of sitting."""
    return [p for k in range(n) for p in ((30.0, True, flex[k % len(flex)], mount),
                                          (60.0, False, 2.0, mount))]


def test_a_reanchoring_measured_wrong_is_corrected_by_the_walks_after_it() -> None:
    """The turn was 15 deg; the slip test measured 13.5 (2.5 times the assumed error). The
    walks before the slip teach the walking tilt; those after it show the frame's error, and
    the filter takes out its share: slowly, as one walk's tilt says little (WALK_SPREAD_DEG)
    and the walking tilt itself is still being learnt; it never overshoots."""
    true_mount = _about("y", 15.0)
    measured = _about("y", 13.5)
    before = _walks(20, [2.0, 6.0, 4.0], Rotation.identity())
    start = round(sum(p[0] for p in before) * FS)
    after = [(20.0, False, 2.0, true_mount), *_walks(12, [3.0, 5.0, 4.0], true_mount)]
    t, up_s, m = _estimated(before + after, [Slip(start / FS, "slip", 15.0, start, measured)])
    assert m.slips[0].undone_s is None
    sitting = up_s[-1]  # sitting at 2 deg, the same in every frame's time
    errors = [_tilt_at(m.frames, i, sitting) - 2.0 for i in range(start, len(t), round(90 * FS))]
    assert abs(errors[0] - 1.5) < 0.05  # what the re-anchoring left
    assert all(0.0 < e <= errors[0] for e in errors)
    assert errors[-1] < 1.1  # a third of it gone after 12 walks


def test_an_unseen_move_after_a_reanchoring_is_taken_out_but_the_calibration_stays() -> None:
    ident = Rotation.identity()
    slipped = _about("y", 15.0)
    moved = _about("y", 25.0)  # 10 deg more, no slip seen
    before = _walks(6, [2.0, 6.0, 4.0], ident)
    start = round(sum(p[0] for p in before) * FS)
    parts = [*before, (20.0, False, 2.0, slipped), *_walks(2, [4.0], slipped),
             (20.0, False, 2.0, moved), *_walks(8, [3.0, 5.0], moved)]
    t, up_s, m = _estimated(parts, [Slip(start / FS, "slip", 15.0, start, slipped)])
    sitting = len(t) - 1
    assert abs(_tilt_at(m.frames, sitting, up_s[sitting]) - 2.0) < 1.5
    # the same walks in the calibration's frame, never re-anchored: it is not moved
    parts = [*before, (20.0, False, 2.0, moved), *_walks(8, [3.0, 5.0], moved)]
    t, up_s, m = _estimated(parts, [])
    assert len(m.frames) == 1 and m.frames[0][1].approx_equal(ident)
    assert m.tilt.mean[0] > 4.0  # the walks teach the walking tilt, wrong as they are


@pytest.mark.parametrize("estimate", [False, True])
def test_a_false_reanchoring_is_undone_though_a_true_slip_came_before_the_walk(
        estimate: bool) -> None:
    """As on the clip: the walk after two unchecked re-anchorings weighs the mounting with both
    against the mounting with only the later one."""
    ident = Rotation.identity()
    false = _about("y", 15.0)  # nothing moved on the back
    true = _about("z", 14.0)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (20.0, False, 0.0, ident),
                                (20.0, False, 0.0, true), (30.0, True, 4.0, true)])
    slips = [Slip(40.0, "slip", 15.0, round(40.0 * FS), false),
             Slip(50.0, "slip", 14.0, round(50.0 * FS), true)]
    m = Mounting(ident, 1.0 / FS, lambda i: float(t[i]), estimate=estimate)
    m.run(slips, 0, len(t), up_s, np.flatnonzero(walking))
    assert m.slips[0].undone_s is not None and m.slips[1].undone_s is None
    assert abs(_tilt_at(m.frames, len(t) - 1, up_s[-1]) - 4.0) < 0.5
