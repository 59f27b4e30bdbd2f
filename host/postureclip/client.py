"""The clip as an asyncio object: connect, command, stream, sync, reconnect.

    async with Clip(SimTransport(47000)) as clip:
        info = await clip.command(Opcode.GET_INFO)
        report = await clip.sync(Store("~/.local/share/postureclip/store.db"))

Sync rule: records go into the store in one transaction per notification frame batch and
only then is the clip told (LOG_ACK) it may forget them; the store ignores a record it has,
so an interruption anywhere costs a repeated transfer, never a lost or duplicated record.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from .errors import (
    BadLength,
    ClipBusy,
    ClipFailed,
    ClipMoving,
    CommandFailed,
    ConnectionFailed,
    EncryptionRequired,
    MtuTooSmall,
    NoRecords,
    NoSensor,
    NotCalibrated,
    OutOfRange,
    SyncIncomplete,
    UnknownOpcode,
)
from .protocol import (
    CONTROL_UUID,
    EVENTS_UUID,
    LOG_UUID,
    STREAM_UUID,
    LogEnd,
    LogRecords,
    Opcode,
    Record,
    Reply,
    Status,
    StreamBatch,
    StreamKind,
    decode_log_frame,
    decode_records,
    decode_reply,
    decode_stream,
    encode_command,
    setting,
)
from .store import Store
from .transport import BATTERY_LEVEL_UUID, DIS_UUIDS, Found, Transport

_ERRORS: dict[Status, type[CommandFailed]] = {
    Status.UNKNOWN_OPCODE: UnknownOpcode, Status.BAD_LENGTH: BadLength,
    Status.OUT_OF_RANGE: OutOfRange, Status.BUSY: ClipBusy, Status.MOVING: ClipMoving,
    Status.NOT_CALIBRATED: NotCalibrated, Status.NO_RECORDS: NoRecords,
    Status.MTU_TOO_SMALL: MtuTooSmall, Status.NO_SENSOR: NoSensor, Status.FAILED: ClipFailed}

log = logging.getLogger(__name__)
CLIP_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)  # the clip's wall clock counts from here


@dataclass
class SyncProgress:
    records: int
    total: int
    bytes: int
    elapsed_s: float

    @property
    def rate(self) -> float:
        """Records per second so far."""
        return self.records / self.elapsed_s if self.elapsed_s > 0 else 0.0

    @property
    def eta_s(self) -> float | None:
        if self.rate <= 0:
            return None
        return max(0.0, (self.total - self.records) / self.rate)


@dataclass(frozen=True)
class SyncReport:
    device: str
    stored: int  # new records in the store
    received: int  # records received (a repeat after an interruption counts here only)
    acked: int  # highest sequence acknowledged, -1 when none
    seconds: float


class Clip:
    def __init__(self, transport_factory: Callable[[], Transport] | Transport,
                 command_timeout: float = 10.0, connect_timeout: float = 10.0,
                 retries: int = 5, backoff_s: float = 0.5, auto_reconnect: bool = True,
                 set_clock: bool = True) -> None:
        if callable(transport_factory):
            self._factory: Callable[[], Transport] = transport_factory
        else:
            single = transport_factory
            self._factory = lambda: single
        self.command_timeout = command_timeout
        self.connect_timeout = connect_timeout
        self.retries = retries
        self.backoff_s = backoff_s
        self.auto_reconnect = auto_reconnect
        self.set_clock = set_clock  # SET_TIME on every connection (records carry UTC)
        self.t: Transport | None = None
        self.found: Found | None = None
        self.device = ""
        self.connected = asyncio.Event()
        self._replies: asyncio.Queue[Reply] = asyncio.Queue()
        self._log: asyncio.Queue[LogRecords | LogEnd] = asyncio.Queue()
        self._stream: asyncio.Queue[StreamBatch] | None = None
        self._events: asyncio.Queue[Record] = asyncio.Queue(maxsize=1000)
        self._token = 0
        self._lock = asyncio.Lock()
        self._closing = False
        self._reconnector: asyncio.Task[None] | None = None
        self.reconnects = 0

    # --- connection ---------------------------------------------------------------------
    async def __aenter__(self) -> Clip:
        await self.connect()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def connect(self, again: bool = False) -> None:
        """Scan, connect, pair, subscribe; retried with exponential backoff. ``again``: a
        reconnection (counted in ``reconnects``)."""
        delay = self.backoff_s
        last: Exception | None = None
        for attempt in range(self.retries + 1):
            t = self._factory()  # a fresh transport (and bleak client) every time
            try:
                found = await t.scan(self.connect_timeout)
                if not found:
                    raise ConnectionFailed(
                        "no postureclip advertising nearby: press the clip's button (its "
                        "radio sleeps between short windows to save the battery), keep it "
                        "in range, and make sure no other device is connected to it")
                self.found = found[0]
                await t.connect(found[0], self.connect_timeout, self._on_disconnect)
                self.t = t
                await t.start_notify(CONTROL_UUID, self._on_control)
                await t.start_notify(LOG_UUID, self._on_log)
                await t.start_notify(EVENTS_UUID, self._on_event)
                await t.start_notify(STREAM_UUID, self._on_stream)
                await t.pair()
                self.device = await self._serial()
                if again:  # counted before anyone waiting for the link can look
                    self.reconnects += 1
                self.connected.set()
                if self.set_clock:
                    await self.set_time()
                return
            except ConnectionFailed as e:
                last = e
                log.info("connection attempt %d of %d failed: %s", attempt + 1,
                         self.retries + 1, e)
                await t.disconnect()
                if attempt < self.retries:
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 10.0)
        attempts = self.retries + 1
        raise ConnectionFailed(f"gave up after {attempts} attempt{'s' if attempts > 1 else ''}: "
                               f"{last}")

    async def set_time(self, now: datetime | None = None) -> None:
        """Set the clip's clock to ``now`` (default: this computer's clock), UTC."""
        now = now or datetime.now(UTC)
        since = now - CLIP_EPOCH
        seconds = since.days * 86400 + since.seconds
        await self.command(Opcode.SET_TIME, seconds, since.microseconds // 1000)
        await self._set_utc_offset(now)

    async def _set_utc_offset(self, now: datetime) -> None:
        """Tell the clip this computer's UTC offset (its quiet hours are local times); written
        only when it changed, to spare the clip's flash. A clip without the setting (an older
        firmware) is left alone."""
        from .errors import OutOfRange

        offset = now.astimezone().utcoffset()
        minutes = round(offset.total_seconds() / 60) if offset is not None else 0
        key = setting("utc_offset_min").key
        try:
            if (await self.command(Opcode.GET_CONFIG, key)).values[1] != minutes:
                await self.command(Opcode.SET_CONFIG, key, minutes)
        except OutOfRange:
            pass

    async def _serial(self) -> str:
        assert self.t is not None
        try:
            return (await self.t.read(DIS_UUIDS["serial"])).decode() or "unknown"
        except (ConnectionFailed, EncryptionRequired, UnicodeDecodeError):
            return self.found.address if self.found else "unknown"

    def _on_disconnect(self) -> None:
        self.connected.clear()
        if self.auto_reconnect and not self._closing and self._reconnector is None:
            self._reconnector = asyncio.get_running_loop().create_task(self._reconnect())

    async def _reconnect(self) -> None:
        try:
            if self.t is not None:
                await self.t.disconnect()
            await self.connect(again=True)
            if self._stream is not None and self._stream_mode:
                await self.command(Opcode.STREAM, *self._stream_mode)
        except ConnectionFailed:
            pass  # callers waiting on `connected` time out with their own error
        finally:
            self._reconnector = None

    async def close(self) -> None:
        self._closing = True
        if self._reconnector is not None:
            self._reconnector.cancel()
        if self.t is not None:
            await self.t.disconnect()
        self.connected.clear()

    async def wait_connected(self, timeout: float) -> None:
        try:
            await asyncio.wait_for(self.connected.wait(), timeout)
        except TimeoutError:
            raise ConnectionFailed("the clip did not come back within "
                                   f"{timeout:.0f} s") from None

    # --- notifications ------------------------------------------------------------------
    def _on_control(self, data: bytes) -> None:
        self._replies.put_nowait(decode_reply(data))

    def _on_log(self, data: bytes) -> None:
        self._log.put_nowait(decode_log_frame(data))

    def _on_event(self, data: bytes) -> None:
        for rec in decode_records(data):
            if self._events.full():  # nobody listens: keep the newest (the log has them all)
                self._events.get_nowait()
            self._events.put_nowait(rec)

    def _on_stream(self, data: bytes) -> None:
        if self._stream is not None:
            self._stream.put_nowait(decode_stream(data))

    # --- commands -----------------------------------------------------------------------
    async def command(self, op: Opcode, *args: int, timeout: float | None = None) -> Reply:
        """Send a control command and wait for its reply; an error status raises the
        matching CommandFailed subclass."""
        timeout = timeout or self.command_timeout
        async with self._lock:
            if self.t is None or not self.connected.is_set():
                await self.wait_connected(timeout)
            assert self.t is not None
            self._token = (self._token + 1) & 0xFF
            token = self._token
            try:
                try:
                    await self.t.write(CONTROL_UUID, encode_command(op, token, *args))
                except EncryptionRequired:
                    await self.t.pair()
                    await self.t.write(CONTROL_UUID, encode_command(op, token, *args))
            except ConnectionFailed:
                self._on_disconnect()  # the link is gone even if no callback said so
                raise
            deadline = asyncio.get_running_loop().time() + timeout
            while True:
                left = deadline - asyncio.get_running_loop().time()
                try:
                    reply = await asyncio.wait_for(self._replies.get(), max(0.0, left))
                except TimeoutError:
                    raise ConnectionFailed(f"no reply to {op.name} within {timeout:.0f} s"
                                           ) from None
                if reply.token == token and reply.opcode == op:
                    break
        if reply.status is not Status.OK:
            cls = _ERRORS.get(reply.status, CommandFailed)
            raise cls(f"{op.name} refused: {reply.status.name}", int(reply.status))
        return reply

    async def battery(self) -> int:
        assert self.t is not None
        return (await self.t.read(BATTERY_LEVEL_UUID))[0]

    async def device_info(self) -> dict[str, str]:
        assert self.t is not None
        return {k: (await self.t.read(u)).decode() for k, u in DIS_UUIDS.items()}

    _stream_mode: tuple[int, int] | None = None

    async def stream(self, kind: StreamKind = StreamKind.QUAT, rate_hz: int = 25
                     ) -> AsyncIterator[StreamBatch]:
        """Decoded batches until the caller stops iterating (streaming is then turned off);
        resumed after a reconnect."""
        self._stream = asyncio.Queue()
        self._stream_mode = (int(kind), rate_hz)
        await self.command(Opcode.STREAM, int(kind), rate_hz)
        try:
            while True:
                yield await self._stream.get()
        finally:
            self._stream_mode = None
            self._stream = None
            if self.connected.is_set():
                await self.command(Opcode.STREAM, 0, 0)

    async def events(self) -> AsyncIterator[Record]:
        """Records as the clip makes them (slouch, lift, buzz...), live; the log keeps them
        all for sync, so this is for showing, not for storing."""
        while True:
            yield await self._events.get()

    # --- sync ---------------------------------------------------------------------------
    async def sync(self, store: Store, progress: Callable[[SyncProgress], None] | None = None,
                   frame_timeout: float = 10.0, max_attempts: int = 50) -> SyncReport:
        """Copy the clip's log into ``store`` from the last stored sequence on; acknowledge
        what is stored. Resumes across link drops (the transfer restarts after the last
        stored record). Raises SyncIncomplete after ``max_attempts`` interrupted attempts,
        and at once for an error no retry can fix (a command the clip refuses: MTU too
        small, a protocol mismatch); what was stored before stays stored."""
        t0 = time.monotonic()
        received = stored = 0
        nbytes = 0
        acked = -1
        last: Exception | None = None
        for _ in range(max_attempts):
            try:
                await self.wait_connected(self.connect_timeout * (self.retries + 1))
                start = store.last_seq(self.device) + 1
                info = await self.command(Opcode.LOG_INFO)
                first, next_seq = info.values[0], info.values[1]
                start = max(start, first)
                if start >= next_seq:
                    if acked < next_seq - 1 and store.last_seq(self.device) >= next_seq - 1:
                        acked = (await self.command(Opcode.LOG_ACK, next_seq - 1)).values[0] - 1
                    break
                total = next_seq - start
                while not self._log.empty():
                    self._log.get_nowait()
                try:
                    await self.command(Opcode.LOG_SEND, start, 0)
                except NoRecords:  # trimmed or dropped since LOG_INFO: nothing left to send
                    break
                frame_no = 0
                while True:
                    try:
                        frame = await asyncio.wait_for(self._log.get(), frame_timeout)
                    except TimeoutError:
                        raise ConnectionFailed("log transfer stalled") from None
                    if frame.frame != frame_no:  # a lost notification: start over from the store
                        with contextlib.suppress(NoRecords):  # (it may have ended meanwhile)
                            await self.command(Opcode.LOG_ABORT)
                        raise ConnectionFailed("log frame lost")
                    frame_no += 1
                    if isinstance(frame, LogEnd):
                        break
                    stored += store.add(self.device, frame.records)
                    received += len(frame.records)
                    nbytes += sum(len(r.payload) + 18 for r in frame.records)
                    if progress is not None:
                        progress(SyncProgress(received, total, nbytes, time.monotonic() - t0))
                newest = store.last_seq(self.device)
                if newest >= 0:
                    await self.command(Opcode.LOG_ACK, newest)
                    acked = newest
            except (ConnectionFailed, ClipBusy, ClipFailed) as e:  # the link, or a transfer
                # still ending, or a link that went down under the clip's feet: try again
                last = e
                await asyncio.sleep(0.2)
                continue
            except CommandFailed as e:
                raise SyncIncomplete(f"the clip refused the log transfer: {e}; {stored} new "
                                     "records were stored before") from None
        else:
            raise SyncIncomplete(f"the sync did not complete after {max_attempts} attempts "
                                 f"({last}); {stored} new records were stored and are kept: "
                                 "sync again")
        return SyncReport(self.device, stored, received, acked, time.monotonic() - t0)
