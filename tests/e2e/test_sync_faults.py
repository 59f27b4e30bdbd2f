"""Fault injection: sync through link drops, dropped and delayed notifications, host
processes killed with SIGKILL, clip reboots and torn flash tails, placed at random moments.
Afterwards the store must hold exactly the records the clip completed: 0 lost, 0 duplicated.

The truth is the clip's own journal (firmware/sim/run.py --journal: every record the log
completed) corrected by what a power cut does: a torn last record never existed, and its
sequence number may be reused after the reboot.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

from virtualclip import VirtualClip, free_port

from postureclip.client import Clip
from postureclip.errors import PostureclipError
from postureclip.protocol import Opcode, complete_records
from postureclip.store import Store
from postureclip.transport import SimTransport

FAULTS = int(os.environ.get("POSTURECLIP_FAULTS", "200"))


class Harness:
    def __init__(self, tmp: Path, seed: int) -> None:
        self.rng = random.Random(seed)
        self.flash = tmp / "flash"
        self.journal = tmp / "journal.txt"
        self.store_path = tmp / "store.db"
        self.port = free_port()
        self.truth: dict[int, bytes] = {}
        self._journal_pos = 0
        self.clip: VirtualClip | None = None
        self.faults: Counter[str] = Counter()
        self.device = ""

    # --- the clip ---------------------------------------------------------------------
    def start(self) -> None:
        self.clip = VirtualClip(self.flash, journal=self.journal, port=self.port).start()

    def read_journal(self) -> None:
        if not self.journal.exists():
            return
        with open(self.journal) as f:
            f.seek(self._journal_pos)
            for line in f:
                if not line.endswith("\n"):
                    break  # written while killed: the flash decides (see stop)
                seq, hexrec = line.split()
                self.truth[int(seq)] = bytes.fromhex(hexrec)
                self._journal_pos += len(line)

    def flash_records(self, path: Path) -> list[tuple[int, bytes, int]]:
        """(seq, bytes, offset) of every complete record of a segment file."""
        return [(rec.seq, raw, off) for off, rec, raw in complete_records(path.read_bytes())]

    def stop(self, tear: bool = False) -> None:
        """A power cut: kill the clip; maybe tear the record being written."""
        assert self.clip is not None
        self.clip.stop()
        self.read_journal()
        segs = sorted((self.flash / "log").glob("*.seg"))
        # complete on flash but killed before its journal line: it exists
        for seg in segs:
            for seq, rec, _ in self.flash_records(seg):
                self.truth.setdefault(seq, rec)
                if self.truth[seq] != rec and seq > max(self.synced(), -1):
                    self.truth[seq] = rec
        if tear and segs:
            recs = self.flash_records(segs[-1])
            if recs and recs[-1][0] > self.synced():  # only a record the host never had
                seq, rec, off = recs[-1]
                cut = self.rng.randrange(1, len(rec) + 1)
                data = segs[-1].read_bytes()
                segs[-1].write_bytes(data[:off + len(rec) - cut])
                del self.truth[seq]
                self.faults["torn flash tail"] += 1

    def synced(self) -> int:
        with Store(self.store_path) as s:
            return s.last_seq(self.device) if self.device else -1

    # --- the host ---------------------------------------------------------------------
    def clip_client(self) -> Clip:
        return Clip(lambda: SimTransport(self.port), command_timeout=0.6, connect_timeout=3.0,
                    retries=8, backoff_s=0.2)

    async def make_records(self, clip: Clip, n: int) -> None:
        for _ in range(n):
            if self.rng.random() < 0.5:
                await clip.command(Opcode.BUZZ_TEST, self.rng.randrange(4))
            else:
                await clip.command(Opcode.SNOOZE, self.rng.randrange(0, 30))

    async def link_faults(self, count: int) -> None:
        """``count`` syncs on one client, each hit by a link drop or by dropped or delayed
        notifications at a random moment."""
        async with self.clip_client() as clip:
            self.device = clip.device
            with Store(self.store_path) as store:
                for _ in range(count):
                    kind = self.rng.choice(["link drop", "dropped notifications",
                                            "delayed notifications"])
                    await clip.wait_connected(20)
                    # a reply lost to an earlier fault raises; the records are made all the same
                    with contextlib.suppress(PostureclipError):
                        await self.make_records(clip, self.rng.randrange(2, 8))
                    task = asyncio.create_task(clip.sync(store, frame_timeout=0.6))
                    await asyncio.sleep(self.rng.uniform(0.0, 0.3))
                    t = clip.t
                    if kind == "link drop" and t is not None:
                        await t.disconnect()  # the link goes, the client reconnects
                    elif isinstance(t, SimTransport) and t.link is not None:
                        with contextlib.suppress(PostureclipError):
                            if kind == "dropped notifications":
                                await t.link.inject(drop_every=self.rng.randrange(2, 6))
                            else:
                                await t.link.inject(delay_ms=self.rng.randrange(20, 120))
                            await asyncio.sleep(self.rng.uniform(0.1, 0.5))
                            await t.link.inject(0, 0)
                    self.faults[kind] += 1
                    await task

    def host_killed(self) -> None:
        """A host sync process killed with SIGKILL at a random moment."""
        cmd = [sys.executable, "-m", "postureclip.cli", "sync", "--sim", str(self.port),
               "--store", str(self.store_path), "--quiet"]
        proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            proc.wait(timeout=self.rng.uniform(0.2, 1.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
            self.faults["host killed"] += 1

    async def device_reboot(self) -> None:
        """The clip loses power at a random moment: during a sync, or while it is writing
        new records — then the record being written may be torn. (A record that was sent
        was complete: tearing one the host may have received would be no power cut.)"""
        async with self.clip_client() as clip:
            self.device = clip.device
            with Store(self.store_path) as store:
                if self.rng.random() < 0.5:
                    task = asyncio.create_task(clip.sync(store, frame_timeout=0.6))
                    await asyncio.sleep(self.rng.uniform(0.0, 0.4))
                    self.stop()
                else:
                    await clip.sync(store, frame_timeout=0.6)  # nothing in flight
                    making = asyncio.create_task(self.make_records(clip, 20))
                    await asyncio.sleep(self.rng.uniform(0.02, 0.3))
                    self.stop(tear=True)
                    making.cancel()
                    try:
                        await making
                    except PostureclipError:
                        pass
                    except asyncio.CancelledError:  # the task was cancelled, not this test
                        current = asyncio.current_task()
                        if current is not None and current.cancelling():
                            raise
                    task = asyncio.create_task(clip.sync(store, frame_timeout=0.6))
                self.faults["clip rebooted"] += 1
                await asyncio.sleep(self.rng.uniform(0.1, 0.5))
                self.start()
                await task

    def total(self) -> int:
        return sum(self.faults.values())


def test_sync_survives_200_random_faults_exactly(tmp_path: Path) -> None:
    h = Harness(tmp_path, seed=20261125)
    h.start()
    try:
        while h.total() < FAULTS:
            asyncio.run(h.link_faults(h.rng.randrange(4, 12)))
            for _ in range(h.rng.randrange(1, 3)):
                h.host_killed()
            asyncio.run(h.device_reboot())
        # a last clean sync, then compare with what the clip completed
        async def final() -> None:
            async with h.clip_client() as clip:
                with Store(h.store_path) as store:
                    await clip.sync(store)
        asyncio.run(final())
    finally:
        h.stop()
    with Store(h.store_path) as store:
        stored = {r.seq: r.encode() for r in store.records(h.device)}
        n_rows = store.count(h.device)
    lost = sorted(set(h.truth) - set(stored))
    extra = sorted(set(stored) - set(h.truth))
    changed = sorted(s for s in set(stored) & set(h.truth) if stored[s] != h.truth[s])
    print(f"faults: {dict(h.faults)} = {h.total()}; records: {len(h.truth)} completed by the "
          f"clip, {n_rows} in the store; lost {len(lost)}, duplicated {n_rows - len(stored)}, "
          f"unexpected {len(extra)}, altered {len(changed)}")
    assert h.total() >= FAULTS
    assert not lost and not extra and not changed and n_rows == len(stored)
