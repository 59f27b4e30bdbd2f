"""postureclip.forked: a part computed in a forked child equals the part computed in the
process, and a child that fails costs nothing but the time."""
from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from postureclip import forked
from postureclip.analysis import analyze
from postureclip.forked import Staged
from postureclip.recording import Recording
from postureclip.simulate import Wearer, default_day, simulate

needs_fork = pytest.mark.skipif(not forked.ENABLED, reason="forks on Linux only")


@needs_fork
def test_the_child_computes_into_shared_memory() -> None:
    parent = os.getpid()
    x = np.arange(12.0).reshape(4, 3)

    def work() -> tuple[np.ndarray, np.ndarray]:
        # in the child: its own process, the parent's data already in its memory
        return x * 2.0, np.array([os.getpid() != parent, True])

    doubled, flags = Staged(lambda _: iter([work()]),
                            [[((4, 3), np.float64), ((2,), np.bool_)]]).stage(0)
    np.testing.assert_array_equal(doubled, x * 2.0)
    assert flags.tolist() == [True, True]


@needs_fork
def test_a_failing_child_is_computed_again_here_and_raises_here() -> None:
    parent = os.getpid()
    calls: list[int] = []

    def work() -> tuple[np.ndarray]:
        calls.append(os.getpid())  # (the child's append is its own)
        if os.getpid() != parent:
            raise RuntimeError("child only")
        return (np.ones(3),)

    (out,) = Staged(lambda _: iter([work()]), [[((3,), np.float64)]]).stage(0)
    np.testing.assert_array_equal(out, np.ones(3))
    assert calls == [parent]

    def broken() -> tuple[np.ndarray]:
        raise ValueError("bad input")

    with pytest.raises(ValueError, match="bad input"):
        Staged(lambda _: iter([broken()]), [[((3,), np.float64)]]).stage(0)


@needs_fork
def test_stages_arrive_one_by_one_and_a_child_that_fails_midway_is_taken_over() -> None:
    parent = os.getpid()
    layouts = [[((3,), np.float64)], [((2,), np.int64)]]

    def stages(fail_second: bool) -> Iterator[tuple[np.ndarray, ...]]:
        base = np.arange(3.0)
        yield (base + 1.0,)
        if fail_second and os.getpid() != parent:
            raise RuntimeError("child only")
        yield (np.array([os.getpid() == parent, 7]),)

    job = Staged(lambda _: stages(False), layouts)
    np.testing.assert_array_equal(job.stage(0)[0], [1.0, 2.0, 3.0])
    assert job.stage(1)[0].tolist() == [0, 7]  # made by the child
    job = Staged(lambda _: stages(True), layouts)
    np.testing.assert_array_equal(job.stage(0)[0], [1.0, 2.0, 3.0])
    assert job.stage(1)[0].tolist() == [1, 7]  # made here, after the child failed
    assert job.pid is None  # and the child reaped


def test_off_it_runs_in_the_process() -> None:
    parent = os.getpid()
    (out,) = Staged(lambda _: iter([(np.array([float(os.getpid())]),)]), [[((1,), np.float64)]],
                    enabled=False).stage(0)
    assert out[0] == parent


def test_the_analysis_on_two_cores_is_the_analysis_on_one() -> None:
    rng = np.random.default_rng(7)
    sim = simulate(default_day(rng, hours=0.4), Wearer.random(rng), rng)
    rec = Recording(sim.t, sim.acc, sim.gyr)
    one, two = analyze(rec, parallel=False), analyze(rec, parallel=True)
    assert one.to_dict() == two.to_dict()
    for key in ("flexion_deg", "lateral_deg", "height_m"):
        np.testing.assert_array_equal(one.series[key], two.series[key])


@pytest.mark.parametrize("enabled", [True, False])
def test_a_stage_computes_in_place_into_its_outputs(enabled: bool) -> None:
    layouts = [[((5,), np.float64), ((5,), np.bool_)], [((2, 3), np.float64)]]
    filled: list[bool] = []

    def stages(outputs: forked.Outputs) -> Iterator[tuple[np.ndarray, ...]]:
        x, flag = outputs(0)
        assert (x.shape, x.dtype, flag.shape, flag.dtype) == ((5,), np.float64, (5,), np.bool_)
        np.multiply(np.arange(5.0), 3.0, out=x)
        flag[...] = x > 4.0
        yield x, flag
        (m,) = outputs(1)
        m[...] = 1.5
        filled.append(True)  # (in the child, this list is the child's)
        yield (m,)

    job = Staged(stages, layouts, enabled)
    x, flag = job.stage(0)
    np.testing.assert_array_equal(x, [0.0, 3.0, 6.0, 9.0, 12.0])
    assert flag.tolist() == [False, False, True, True, True]
    np.testing.assert_array_equal(job.stage(1)[0], np.full((2, 3), 1.5))
    assert filled == ([] if enabled and forked.ENABLED else [True])


def test_in_the_process_a_dropped_job_frees_its_arrays_without_the_collector() -> None:
    import gc
    import weakref

    def stages(outputs: forked.Outputs) -> Iterator[tuple[np.ndarray, ...]]:
        (x,) = outputs(0)
        x[...] = 2.0
        yield (x,)
        yield (np.zeros(1),)

    gc.disable()
    try:
        job = Staged(stages, [[((1000,), np.float64)], [((1,), np.float64)]], enabled=False)
        gone = weakref.ref(job.stage(0)[0])
        del job
        assert gone() is None  # no cycle between the job and its running generator
    finally:
        gc.enable()


def _wait_for(path: Path) -> None:
    """The child's work: until the parent says go (however slowly the machine runs)."""
    import time

    deadline = time.monotonic() + 60.0
    while not path.exists() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_ready_says_whether_a_stage_would_wait(tmp_path: Path) -> None:
    import time

    go = tmp_path / "go"

    def stages(outputs: forked.Outputs) -> Iterator[tuple[np.ndarray, ...]]:
        _wait_for(go)
        yield (np.ones(2),)
        yield (np.zeros(2),)

    layouts = [[((2,), np.float64)], [((2,), np.float64)]]
    job = Staged(stages, layouts)
    if forked.ENABLED:
        assert not job.ready(0)  # still working
        go.touch()
        deadline = time.monotonic() + 30.0
        while not job.ready(0) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.ready(0) and not job.ready(1)  # (only the next stage can be known)
    go.touch()
    np.testing.assert_array_equal(job.stage(0)[0], np.ones(2))
    assert job.ready(0)
    here = Staged(stages, layouts, enabled=False)
    assert not here.ready(0)  # in this process: made when asked for
    here.stage(0)
    assert here.ready(0)


@needs_fork
def test_a_skipped_stage_is_not_made_by_the_child(tmp_path: Path) -> None:
    parent = os.getpid()
    marker, go = tmp_path / "made", tmp_path / "go"

    def stages(outputs: forked.Outputs) -> Iterator[tuple[np.ndarray, ...]]:
        _wait_for(go)
        yield (np.ones(1),)
        yield (np.full(1, 2.0),)
        if os.getpid() != parent:
            marker.write_text("the child made stage 2")
        yield (np.array([float(os.getpid() == parent)]),)

    job = Staged(stages, [[((1,), np.float64)]] * 3)
    job.skip_from(2)  # (while the child is still on stage 0)
    go.touch()
    assert job.stage(0)[0][0] == 1.0 and job.stage(1)[0][0] == 2.0
    assert job.stage(2)[0][0] == 1.0  # asked for all the same: made here
    assert not marker.exists()
    assert job.pid is None  # the child, gone, was reaped
