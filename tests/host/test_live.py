"""The live analysis agrees with the batch analysis of the same recording."""
from __future__ import annotations

import numpy as np
import pytest

from postureclip.analysis import analyze
from postureclip.live import LiveAnalysis
from postureclip.recording import Recording
from postureclip.scoring import match_intervals
from postureclip.simulate import Wearer, default_day, simulate


@pytest.mark.parametrize("seed", [3, 4])
def test_live_matches_batch(seed: int) -> None:
    rng = np.random.default_rng(seed)
    wearer = Wearer.random(rng, rate_hz=50.0)
    wearer = Wearer(**{**wearer.__dict__, "jitter": 0.0})
    sim = simulate(default_day(rng, hours=0.4), wearer, rng)
    batch = analyze(Recording(sim.t, sim.acc, sim.gyr))
    live = LiveAnalysis(50.0)
    i = 0
    while i < len(sim.t):  # chunks of 0.2-3 s, as notifications arrive
        n = int(rng.integers(10, 150))
        live.feed(sim.t[i:i + n], sim.acc[i:i + n], sim.gyr[i:i + n])
        i += n
    live.finish()
    assert batch.slouch_episodes and batch.lifts
    ep = match_intervals([(e.start_s, e.end_s) for e in batch.slouch_episodes],
                         [(e.start_s, e.end_s) for e in live.episodes], 0.8)
    assert len(ep) >= len(batch.slouch_episodes) - 1
    assert abs(len(live.episodes) - len(batch.slouch_episodes)) <= 1
    lp = match_intervals([(x.start_s, x.end_s) for x in batch.lifts],
                         [(x.start_s, x.end_s) for x in live.lifts], 0.5)
    # windows see a spurious dip differently now and then; every real lift is in both
    assert len(lp) >= max(len(batch.lifts), len(live.lifts)) - 1
    assert all(batch.lifts[a].technique == live.lifts[b].technique for a, b in lp)
    for a, b in ep:  # causal (live) vs forward-backward (batch) orientation
        be, le = batch.slouch_episodes[a], live.episodes[b]
        assert abs(be.mean_flexion_deg - le.mean_flexion_deg) < 1.5
        assert abs(be.peak_flexion_deg - le.peak_flexion_deg) < 5.0


def test_live_from_the_clips_quaternions() -> None:
    rng = np.random.default_rng(5)
    sim = simulate(default_day(rng, hours=0.3), Wearer.random(rng, rate_hz=50.0), rng)
    batch = analyze(Recording(sim.t, sim.acc, sim.gyr))
    from postureclip.analysis import orientation
    from postureclip.recording import to_uniform

    u = to_uniform(Recording(sim.t, sim.acc, sim.gyr))
    q = orientation(u)  # stands in for the clip's fused stream
    live = LiveAnalysis(u.rate_hz)
    for i in range(0, len(u.t), 100):
        live.feed_quaternions(u.t[i:i + 100], q[i:i + 100])
    live.finish()
    assert not live.lifts
    ep = match_intervals([(e.start_s, e.end_s) for e in batch.slouch_episodes],
                         [(e.start_s, e.end_s) for e in live.episodes], 0.8)
    assert len(ep) >= len(batch.slouch_episodes) - 1
