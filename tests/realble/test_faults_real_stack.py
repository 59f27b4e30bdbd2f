"""Sync through a breakable link on the real stack: the clip's NimBLE and the host's bumble
on the virtual radio, with link losses (every connection event failing past the supervision
time-out), delay spells (a share of connection events failing: the link layer retransmits)
and hosts that drop the link mid-transfer, at random moments of a log transfer. The store
must then hold exactly the records the clip completed (its journal): 0 lost, 0 duplicated,
0 altered, and the clip must print no traceback.

Also the clip's power cut (SIGKILL mid-anything: its controller dies with it; records complete
on flash count as completed) and the host vanishing (its controller goes silent; a new host
process with the same bonds takes over). POSTURECLIP_REAL_FAULTS sets how many (default 200).

In `make test`. It used to get stuck under the load of the whole suite after fault 58 ("host
vanishes", seed 20261129), in three of six clean-clone runs: the vanished host's sync survived
its cancellation (Python 3.11's asyncio.wait_for, see ``kill``) and the next host was never
started. With ``kill``, 4 of 4 runs of 70 faults beside three CPU hogs passed. On failure it
prints every failed connection attempt, the air's state and its last HCI commands and events.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import time
from collections import Counter, deque
from pathlib import Path
from typing import Any

from postureclip.client import Clip
from postureclip.errors import PostureclipError
from postureclip.protocol import Opcode, complete_records
from postureclip.radio import Air
from postureclip.store import Store

from .realclip import RealClip, central_on, transport_factory

FAULTS = int(os.environ.get("POSTURECLIP_REAL_FAULTS", "200"))
TIME_LIMIT_S = float(os.environ.get("POSTURECLIP_REAL_FAULTS_S", "900"))


def read_journal(path: Path, truth: dict[int, bytes]) -> None:
    if path.exists():
        for line in path.read_text().splitlines():
            seq, hexrec = line.split()
            truth[int(seq)] = bytes.fromhex(hexrec)


def read_flash(flash: Path, truth: dict[int, bytes]) -> None:
    """After a power cut: a record complete on flash exists even if the kill came before
    its journal line."""
    for seg in sorted((flash / "log").glob("*.seg")):
        for _, rec, raw in complete_records(seg.read_bytes()):
            truth.setdefault(rec.seq, raw)


async def kill(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` until it has ended. Python 3.11's asyncio.wait_for swallows a
    cancellation that arrives in the same loop step as the awaited result (fixed in 3.12):
    one cancel of a sync that was waiting for a reply could leave it running, with a
    vanished host, for minutes of GATT time-outs and reconnect attempts (the stall after
    fault 58 under load: the clip was advertising all along; the air's HCI trace showed the
    scans came from the vanished host's controller, no new host was ever started)."""
    while not task.done():
        task.cancel()
        await asyncio.wait({task}, timeout=0.5)


async def ended(task: asyncio.Task[Any]) -> None:
    """Wait for a sync that a fault may fail or cancel; the test's own time limit (a
    cancellation of this task) still stops the test."""
    try:
        await task
    except PostureclipError:
        pass
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise


def describe_air(air: Air) -> str:
    """What each controller on the air is doing (printed when a run fails)."""
    lines = []
    for c in air.controllers:
        adv = getattr(c, "le_legacy_advertiser", None)
        lines.append(f"{c.name} {c.public_address}: links "
                     f"{[(str(a), k.handle) for a, k in c.le_connections.items()]}, "
                     f"advertising {bool(adv and adv.enabled)}, scanning {c.le_scan_enable}, "
                     f"connecting {c.pending_le_connection is not None}")
    return "\n".join(lines)


class _Printer(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        print(f"{time.monotonic():.2f} {record.getMessage()}", flush=True)


def test_real_stack_sync_survives_faults(tmp_path: Path) -> None:
    client_log = logging.getLogger("postureclip.client")
    client_log.setLevel(logging.INFO)
    client_log.addHandler(_Printer())
    rng = random.Random(20261129)
    faults: Counter[str] = Counter()
    truth: dict[int, bytes] = {}
    journal = tmp_path / "journal.txt"
    kinds = ["link lost", "delay spell", "host drops link", "clip power cut", "host vanishes"]

    async def inject(air: Air, clip: RealClip, session: dict[str, Any]) -> None:
        await asyncio.sleep(rng.uniform(0.05, 0.3))
        kind = rng.choice(kinds)
        faults[kind] += 1
        print(f"{time.monotonic():.2f} fault {sum(faults.values())}: {kind}", flush=True)
        c: Clip = session["client"]
        if kind == "link lost":
            air.outage(air.supervision_timeout_s + 0.3)
            await asyncio.sleep(air.supervision_timeout_s + 0.3)
        elif kind == "delay spell":
            air.event_loss = 0.6
            await asyncio.sleep(rng.uniform(0.3, 0.8))
            air.event_loss = 0.0
        elif kind == "host drops link":
            if c.t is not None:
                await c.t.disconnect()
        elif kind == "clip power cut":
            await clip.kill()
            read_journal(journal, truth)
            read_flash(clip.flash, truth)
            await clip.start()
        else:  # the laptop's process dies: its controller goes silent, the clip times out
            session["vanished"] = True
            c.auto_reconnect = False  # nothing of that process acts again
            air.remove_controller(session["central"].controller)
            await kill(session["sync"])  # its sync dies with it

    async def scenario() -> None:
        air = Air(seed=7, supervision_timeout_s=0.5)
        air.trace = deque(maxlen=300)  # printed when the run fails
        clip = await RealClip(air, tmp_path, extra=["--journal", str(journal)]).start()
        keys = None
        device = ""
        try:
            with Store(tmp_path / "store.db") as store:
                while sum(faults.values()) < FAULTS:
                    central = await central_on(air, keys=keys)
                    keys = central.device.keystore
                    session: dict[str, Any] = {"central": central, "vanished": False}
                    c = Clip(transport_factory(central), connect_timeout=5, retries=20)
                    session["client"] = c
                    await c.connect()
                    while sum(faults.values()) < FAULTS and not session["vanished"]:
                        for i in range(rng.randint(3, 12)):  # each snooze logs a record
                            with contextlib.suppress(PostureclipError):
                                await c.command(Opcode.SNOOZE, i % 2)
                        session["sync"] = asyncio.create_task(c.sync(store))
                        fault = asyncio.create_task(inject(air, clip, session))
                        await ended(session["sync"])
                        await fault
                    device = device or c.device
                    c.auto_reconnect = False
                    with contextlib.suppress(PostureclipError):
                        await asyncio.wait_for(c.close(), 10)
                    if not session["vanished"]:  # that host process ends: its radio too
                        air.remove_controller(central.controller)
                central = await central_on(air, keys=keys)
                async with Clip(transport_factory(central), connect_timeout=5, retries=20) as c:
                    await c.sync(store)  # the last one without faults
                stored = {r.seq: r.encode() for r in store.records(device)}
                n_rows = store.count(device)
            read_journal(journal, truth)
            lost = sorted(set(truth) - set(stored))
            extra = sorted(set(stored) - set(truth))
            altered = [s for s in truth if s in stored and stored[s] != truth[s]]
            print(f"real stack: {sum(faults.values())} faults {dict(faults)}; "
                  f"{len(truth)} records completed by the clip, {n_rows} stored, "
                  f"{len(lost)} lost, {n_rows - len(stored)} duplicated, {len(extra)} not in "
                  f"the journal, {len(altered)} altered; "
                  f"{air.events_lost} connection events failed, {air.links_lost} links lost")
            assert not lost and not extra and not altered and n_rows == len(stored)
            assert all(faults[k] > 0 for k in kinds) and air.links_lost > 0 and air.errors == 0
            text = clip.text()
            assert "Traceback" not in text and "IRQ handler error" not in text, text
        except BaseException:
            print(f"{time.monotonic():.2f} failed; the air:\n{describe_air(air)}")
            assert air.trace is not None
            print("the last HCI commands (<) and events (>) on the air:\n" + "\n".join(
                f"{t:.2f} {who} {d} {what}" for t, who, d, what in air.trace))
            raise
        finally:
            await clip.kill()
            print("the clip's last lines:\n" + "".join(clip.output[-12:]))

    asyncio.run(asyncio.wait_for(scenario(), TIME_LIMIT_S))
