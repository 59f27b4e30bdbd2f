"""Sharing a worker's days (postureclip.share) and the team report over them
(postureclip.team): the folder's layout, sharing again, withdrawing, an id clash, damaged and
foreign files, and the k-anonymity rule (a property test and a team with small shifts)."""
from __future__ import annotations

import json
import os
import random
import shutil
import struct
import subprocess
import sys
from datetime import UTC, date, timedelta
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_daily import at

from postureclip import share, team
from postureclip.errors import ShareError, TeamError
from postureclip.protocol import Record, RecordType
from postureclip.store import Store

MONDAY = date(2026, 11, 2)


def worker_store(path: Path, seed: int, days: int = 10, stoop_share: float = 0.4) -> Store:
    """A worker's store: ``days`` work days from MONDAY, 4 h recorded a day, a few slouches,
    lifts of which about ``stoop_share`` stooped."""
    rng = random.Random(seed)
    store = Store(path)
    records = []
    seq = 0

    def add(rtype: RecordType, t: int, fmt: str, *values: int) -> None:
        nonlocal seq
        records.append(Record(rtype, seq, t, 0, True, struct.pack(fmt, *values)))
        seq += 1

    for k in range(days):
        day = MONDAY + timedelta(days=k)
        for i in range(240):
            slouch = rng.choice((0, 0, 0, 12, 30))
            add(RecordType.SUMMARY, at(day, 8) + 60 * i, "<HHHHBBB", 60, 60 - slouch, slouch,
                0, 0, 0, 0)
        for j in range(rng.randint(5, 15)):
            stoop = rng.random() < stoop_share
            add(RecordType.LIFT, at(day, 9) + 120 * j, "<HhhhBB", 2000,
                650 if stoop else 250, 60 if stoop else 450, 0, 2 if stoop else 1,
                int(rng.random() < 0.2))
    store.add(f"246f2801{seed:04x}", records)
    return store


def shared_team(folder: Path, tmp: Path, shifts: dict[str, int], days: int = 10) -> None:
    """Workers by shift, each with a plan whose baseline was the first 3 days."""
    from postureclip.plan import Plan

    plan = Plan(started=MONDAY.isoformat(),
                log=[((MONDAY + timedelta(days=2)).isoformat(), "baseline done")])
    seed = 0
    for shift, n in shifts.items():
        for _ in range(n):
            seed += 1
            with worker_store(tmp / f"w{seed}.db", seed, days) as store:
                share.share(store, folder, None, MONDAY + timedelta(days=days - 1), UTC,
                            shift=shift, task="picking" if seed % 2 else "packing", plan=plan)


def test_share_writes_one_row_per_day_and_sharing_again_updates(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    with worker_store(tmp_path / "w.db", 1, days=5) as store:
        first = share.share(store, folder, None, MONDAY + timedelta(days=6), UTC, shift="early")
        assert len(first.written) == 5 and not first.replaced and first.skipped_empty == 2
        wid = first.worker
        files = sorted(folder.glob(f"days/worker={wid}/date=*/part-0.parquet"))
        assert [f.parent.name for f in files] == [
            f"date={MONDAY + timedelta(days=k)}" for k in range(5)]
        row = pq.read_table(files[0]).to_pylist()
        assert len(row) == 1 and row[0]["shift"] == "early" and row[0]["worn_h"] == 4.0
        assert row[0]["lifts"] == sum(row[0][f"lifts_score_{s}"] for s in range(1, 8)) > 0
        assert row[0]["lifts"] == row[0]["squat_lifts"] + row[0]["stoop_lifts"]
        # nothing finer than a day: no time or angle columns
        assert not {"t", "time", "utc", "start", "peak_flexion_deg"} & set(row[0])
        manifest = json.loads((folder / "manifests" / f"{wid}.json").read_text())
        assert manifest["worker"] == wid and len(manifest["days"]) == 5
        assert set(manifest["columns"]) == {name for name, _, _ in share.DAY_COLUMNS}
        # again, one day more and a new shift: the old days replaced, none duplicated
        again = share.share(store, folder, MONDAY + timedelta(days=3), MONDAY + timedelta(
            days=4), UTC, shift="late")
        assert again.worker == wid and len(again.replaced) == 2 and not again.written
    con = team.connect(team.scan(folder))
    assert con.execute("SELECT count(*), count(DISTINCT date) FROM days").fetchone() == (5, 5)
    assert con.execute("SELECT count(*) FROM days WHERE shift = 'late'").fetchone() == (2,)


def test_baseline_days_are_the_plans_measuring_days() -> None:
    from postureclip.plan import Plan

    plan = Plan(started="2026-11-02", log=[("2026-11-05", "baseline done: slouched 20 %")])
    assert share.phase_of(date(2026, 11, 1), plan) == "coaching"  # before the plan
    assert share.phase_of(date(2026, 11, 2), plan) == "baseline"
    assert share.phase_of(date(2026, 11, 5), plan) == "baseline"
    assert share.phase_of(date(2026, 11, 6), plan) == "coaching"
    assert share.phase_of(date(2026, 11, 6), Plan(started="2026-11-02")) == "baseline"
    assert share.phase_of(date(2026, 11, 6), None) == "coaching"


def test_revoke_deletes_what_the_worker_shared_and_nothing_else(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    with worker_store(tmp_path / "a.db", 1, days=3) as a, \
            worker_store(tmp_path / "b.db", 2, days=3) as b:
        end = MONDAY + timedelta(days=2)
        wa = share.share(a, folder, None, end, UTC).worker
        wb = share.share(b, folder, None, end, UTC).worker
        assert wa != wb
        assert share.revoke(a, folder) == 3
        assert not (folder / "days" / f"worker={wa}").exists()
        assert not (folder / "manifests" / f"{wa}.json").exists()
        assert len(list(folder.glob(f"days/worker={wb}/date=*/*.parquet"))) == 3
        assert share.revoke(a, folder) == 0


def test_an_id_clash_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    src = tmp_path / "w.db"
    with worker_store(src, 1, days=2) as store:
        wid = share.share(store, folder, None, MONDAY + timedelta(days=1), UTC).worker
    copy = tmp_path / "copy.db"
    shutil.copy(src, copy)
    with Store(copy) as other:  # a copied store: same id, and a secret of its own
        other.set_meta(share.SECRET_KEY, "another secret")
        before = sorted(p.stat().st_mtime_ns for p in folder.rglob("*.parquet"))
        with pytest.raises(ShareError, match="belongs to another store"):
            share.share(other, folder, None, MONDAY + timedelta(days=1), UTC)
        with pytest.raises(ShareError, match="--new-id"):
            share.revoke(other, folder)
        assert sorted(p.stat().st_mtime_ns for p in folder.rglob("*.parquet")) == before
        fresh = share.new_id(other)
        assert fresh != wid
        assert share.share(other, folder, None, MONDAY + timedelta(days=1), UTC).written


def test_a_foreign_manifest_is_refused(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    with worker_store(tmp_path / "w.db", 1, days=1) as store:
        wid = share.worker_id(store)
        (folder / "manifests").mkdir(parents=True)
        (folder / "manifests" / f"{wid}.json").write_text("{not json")
        with pytest.raises(ShareError, match="not a postureclip manifest"):
            share.share(store, folder, None, MONDAY, UTC)
        (folder / "manifests" / f"{wid}.json").write_text('{"format": "other"}')
        with pytest.raises(ShareError, match="not a postureclip share manifest"):
            share.share(store, folder, None, MONDAY, UTC)
    assert not (folder / "days").exists()  # nothing written


@given(st.lists(st.sets(st.integers(0, 30), min_size=1, max_size=12), min_size=1, max_size=8))
def test_k_anonymity_no_small_group_shown_and_none_worked_out(members: list[set[int]]) -> None:
    gs = [team.Group(f"g{i}", {f"w{w}" for w in m}, len(m), {}) for i, m in enumerate(members)]
    team.suppress(gs, k=5)
    shown = [g for g in gs if not g.hidden]
    hidden = [g for g in gs if g.hidden]
    assert all(len(g.workers) >= 5 for g in shown)
    held = set().union(*(g.workers for g in hidden))
    # what the total minus the shown groups reveals holds 5 workers or more (or is nothing)
    assert not hidden or len(held) >= 5 or not shown
    # and nothing is held back without a small group to protect
    assert hidden or all(len(g.workers) >= 5 for g in gs)


def test_small_shifts_are_held_back_with_a_complement(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    shared_team(folder, tmp_path, {"early": 6, "late": 5, "night": 3}, days=3)
    con = team.connect(team.scan(folder))
    by = {g.key: g for g in team.groups(con, "shift")}
    assert by["night"].hidden and "fewer than 5" in by["night"].hidden
    assert by["late"].hidden and not by["early"].hidden  # the complement: the next smallest
    assert len(by["early"].workers) == 6


def test_fewer_than_k_workers_show_nothing(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    shared_team(folder, tmp_path, {"early": 4}, days=2)
    page = team.build(folder)
    assert "Held back: 4 workers shared days here" in page
    assert "<svg" not in page and "lifts per h" not in page


def test_damaged_and_foreign_files_are_left_out_and_listed(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    shared_team(folder, tmp_path, {"early": 5}, days=2)
    victim = next(folder.glob("days/worker=*/date=*/part-0.parquet"))
    odd = folder / "days" / "worker=x" / "date=2026-11-02" / "part-0.parquet"
    odd.parent.mkdir(parents=True)
    pq.write_table(pq.read_table(victim).select(["lifts"]), odd)  # another program's file
    victim.write_bytes(victim.read_bytes()[:40])  # a torn copy
    (folder / "days" / "notes.txt").write_text("hello")
    data = team.scan(folder)
    reasons = {p.name: why for p, why in data.skipped}
    assert reasons["notes.txt"] == "not a shared day file"
    assert len(data.skipped) == 3 and len(data.files) == 9
    page = team.build(folder)
    assert "Files left out" in page and "unreadable" in page
    with pytest.raises(TeamError, match="no shared days"):
        team.scan(tmp_path / "nowhere")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "postureclip.cli", *args], capture_output=True,
                          text=True, env={**os.environ, "TZ": "UTC"}, timeout=120)


def test_team_report_renders_in_chromium(tmp_path: Path, chromium) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "team"
    shared_team(folder, tmp_path, {"early": 6, "late": 5, "night": 2}, days=10)
    out = tmp_path / "team.html"
    done = _cli("team", "report", str(folder), "--by", "shift", "--out", str(out))
    assert done.returncode == 0, done.stderr
    page = out.read_text()
    assert page.count("<svg") == 2  # the weekly trend and the risk scores
    seen = chromium(out)
    assert not seen.console, seen.console
    for words in ("13 workers shared 130 days", "held back: fewer than 5 workers",
                  "Baseline against coaching", "<td>baseline</td><td>13</td><td>39</td>",
                  "<td>coaching</td><td>13</td><td>91</td>", "Lift risk scores", "Week by week"):
        assert words in seen.dom, words
    assert all(dark > 200 for dark in seen.ink_bands(900)), seen.ink_bands(900)


def test_share_and_team_commands_and_their_errors(tmp_path: Path) -> None:
    folder = tmp_path / "team"
    db = tmp_path / "w.db"
    worker_store(db, 7, days=2).close()
    done = _cli("share", "--to", str(folder), "--until", "2026-11-03", "--shift", "early",
                "--store", str(db))
    assert done.returncode == 0, done.stderr
    assert "shared 2 days as worker w" in done.stdout and "2 new, 0 updated" in done.stdout
    done = _cli("share", "--to", str(folder), "--until", "2026-11-03", "--store", str(db))
    assert "0 new, 2 updated" in done.stdout
    bad = _cli("team", "report", str(tmp_path / "missing"), "--out", str(tmp_path / "t.html"))
    assert bad.returncode != 0 and "no shared days" in bad.stderr and "Traceback" not in bad.stderr
    done = _cli("share", "--to", str(folder), "--revoke", "--store", str(db))
    assert done.returncode == 0 and "2 shared days deleted" in done.stdout
