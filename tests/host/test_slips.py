"""Slips found by the host (postureclip.slips): on simulated wear, and the walking check and
pull on constructed up vectors."""
from __future__ import annotations

import dataclasses
import itertools

import numpy as np
from scipy.spatial.transform import Rotation

from postureclip.analysis import analyze
from postureclip.orientation import trunk_angles
from postureclip.recording import Recording
from postureclip.simulate import LSM6DSOX, Segment, Wearer, simulate
from postureclip.slips import PULL_MAX_DEG, Slip, check_by_walking


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
    slipped = Rotation.from_euler("y", 15.0, degrees=True)  # the new sensor frame in the old
    # the re-anchoring measured 15 deg, but the clip then crept 5 deg more about the trunk's
    # sideways axis, below what counts as a slip
    crept = Rotation.from_euler("y", 20.0, degrees=True)
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
    crept = Rotation.from_euler("y", 5.0, degrees=True)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (10.0, False, 0.0, crept),
                                (60.0, True, 4.0, crept)])
    assert check_by_walking([], t, up_s, walking, ident) == ([], [(0, ident)])
    # a "slip" the walk afterwards contradicts (the clip did not move)
    wrong = Rotation.from_euler("y", 15.0, degrees=True)
    t, up_s, walking = _script([(30.0, True, 4.0, ident), (20.0, False, 0.0, ident),
                                (30.0, True, 4.0, ident)])
    slips, frames = check_by_walking([Slip(40.0, "slip", 15.0, round(40.0 * FS), wrong)],
                                     t, up_s, walking, ident)
    assert slips[0].undone_s is not None and 50.0 < slips[0].undone_s < 61.0
    assert frames[-1][1].approx_equal(ident) and abs(_tilt_at(frames, len(t) - 1,
                                                                up_s[-1]) - 4.0) < 1e-6
