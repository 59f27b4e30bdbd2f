"""`postureclip analyze-batch` on a real Dask cluster of two worker processes: every row equal to
what `analyze` prints for its file, a bad file reported while the batch goes on, a rerun
skipping what is done, a worker killed mid-batch losing and duplicating nothing, and a
scheduler that cannot be reached."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from postureclip import batch
from postureclip.errors import BatchError
from postureclip.simulate import Wearer, default_day, simulate

pytest.importorskip("distributed")


@pytest.fixture(scope="module")
def recordings(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    folder = tmp_path_factory.mktemp("recordings")
    paths = []
    for seed in range(6):
        rng = np.random.default_rng(100 + seed)
        sim = simulate(default_day(rng, hours=0.15, lifts_per_hour=40.0),
                       Wearer.random(rng, rate_hz=50.0), rng)
        sub = folder / ("a" if seed % 2 else "b")  # the same names in two folders
        sub.mkdir(exist_ok=True)
        path = sub / f"r{seed // 2}.csv"
        sim.write_csv(path)
        paths.append(str(path))
    (folder / "b" / "broken.csv").write_text("t,ax,ay,az,gx,gy,gz\n0,1,2\n")
    return paths


@pytest.fixture(scope="module")
def cluster():  # type: ignore[no-untyped-def]
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                      dashboard_address=None) as c, Client(c) as client:
        yield c, client


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postureclip.cli", *args], capture_output=True,
                          text=True, timeout=300)


def read_back(out: Path, recording: str) -> dict[str, object]:
    key = batch.recording_key(recording)
    kinds = {}
    for folder in out.iterdir():
        path = folder / f"{key}.parquet"
        if path.exists():
            kinds[folder.name] = pq.read_table(path).to_pylist()
    return batch.join(kinds)


def test_rows_equal_what_analyze_prints_and_a_bad_file_is_reported(
        recordings: list[str], cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = cluster
    out = tmp_path / "dataset"
    files = batch.expand(str(Path(recordings[0]).parents[1] / "**" / "*.csv"))
    assert len(files) == 7  # six recordings and a broken file
    result = batch.run(files, out, client)
    assert result.workers == 2
    assert result.count("done") == 6 and result.count("failed") == 1
    failed = next(o for o in result.outcomes if o.status == "failed")
    assert failed.recording.endswith("broken.csv") and ":2: 3 columns" in (failed.error or "")
    for rec in recordings:
        printed = json.loads(_cli("analyze", rec, "--format", "json").stdout)
        printed.pop("rate_hz")  # exact in both; compared below with the rest
        back = read_back(out, rec)
        back.pop("rate_hz")
        for kind in ("lifts", "slouch_episodes", "slips", "exercise_sets", "move_reminders",
                     "breaks", "lift_risk_per_hour"):
            back.setdefault(kind, [])  # a kind without rows writes no file
        assert back == printed, rec
    rows = pq.read_table(out / "summaries").to_pylist()
    assert sorted(r["recording"] for r in rows) == sorted(recordings)
    for kind in ("lifts", "slips", "slouch_episodes", "lift_risk_per_hour"):  # one table each
        if (out / kind).exists():
            pq.read_table(out / kind)
    # a rerun skips all that is done and tries the broken file again
    again = batch.run(files, out, client)
    assert again.count("skipped") == 6 and again.count("failed") == 1


def test_a_worker_killed_mid_batch_loses_and_duplicates_nothing(
        recordings: list[str], cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    _, client = cluster
    out = tmp_path / "dataset"
    pids = list(client.run(os.getpid).values())
    assert len(pids) == 2

    def kill_one() -> None:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and not any((out / "summaries").glob("*.parquet")):
            time.sleep(0.02)
        os.kill(pids[0], signal.SIGKILL)  # the nanny starts a new worker; Dask retries

    killer = threading.Thread(target=kill_one)
    killer.start()
    result = batch.run(recordings, out, client)
    killer.join()
    assert result.count("done") + result.count("skipped") == len(recordings), result.outcomes
    assert pids[0] not in client.run(os.getpid).values()  # it was killed
    summaries = pq.read_table(out / "summaries").to_pylist()
    assert sorted(r["recording"] for r in summaries) == sorted(recordings)  # each once
    lifts = pq.read_table(out / "lifts").to_pylist()
    for rec in recordings:
        items = sorted(r["item"] for r in lifts if r["recording"] == rec)
        assert items == list(range(len(items))), rec  # each lift once
        expected = json.loads(_cli("analyze", rec, "--format", "json").stdout)
        assert len(items) == expected["lift_count"]
    assert not list(out.rglob(".*.tmp"))  # no half-written file left visible


def test_analyze_batch_command_and_an_unreachable_scheduler(
        recordings: list[str], cluster, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    c, _ = cluster
    out = tmp_path / "dataset"
    pattern = str(Path(recordings[0]).parent / "*.csv")  # folder b: three and the broken one
    done = _cli("analyze-batch", pattern, "--out", str(out), "--scheduler", c.scheduler_address)
    assert done.returncode == 0, done.stderr  # the batch as a whole did its work
    assert "3 analysed" in done.stdout and "1 failed" in done.stdout
    assert "failed: " in done.stderr and "broken.csv:2: 3 columns" in done.stderr
    again = _cli("analyze-batch", pattern, "--out", str(out), "--scheduler", c.scheduler_address)
    assert "0 analysed" in again.stdout and "3 done before" in again.stdout
    bad = _cli("analyze-batch", pattern, "--out", str(out), "--scheduler", "tcp://127.0.0.1:9")
    assert bad.returncode == 2 and "cannot reach the Dask scheduler" in bad.stderr
    assert "Traceback" not in bad.stderr
    with pytest.raises(BatchError, match="no file matches"):
        batch.expand(str(tmp_path / "none" / "*.csv"))
