# The clip's GATT peripheral (docs/protocol.md) on the low-level `bluetooth` module.
#
# One central at a time. On the chip the IRQ handler runs on the BLE stack's task and can
# pre-empt the app between any two bytecodes, on a small stack, and an exception in it
# disables it for good. So the handler only records what happened: it sets plain fields
# (connection, MTU, encryption), appends to ``inbox`` (control writes) and keeps the bonding
# secrets in RAM (NimBLE reads them back at once); it writes no flash, sends nothing, touches
# no list the task iterates, and catches its own errors (counted in ``irq_errors``).
# The ``run`` task owns everything else: it notices connects and disconnects, answers control
# writes, saves bonds, sends queued notifications in order, retries on OSError(ENOMEM) (the
# controller's queue is full) without losing or reordering anything, spaces them by at least
# ``SPACING_MS``, pumps the stream and log transfers, and switches the radio on and off with
# clip.power's windows (off: BLE inactive, so the CPU may light-sleep).
import asyncio
import struct

import bluetooth
from micropython import const

from clip import VERSION
from clip import power as PW
from clip import protocol as P

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

_FLAG_READ = const(0x0002)
_FLAG_WRITE = const(0x0008)
_FLAG_NOTIFY = const(0x0010)
_FLAG_WRITE_ENCRYPTED = const(0x1000)
_IO_NO_INPUT_OUTPUT = const(3)

_ADV_FAST_US = const(100000)
_ADV_SLOW_US = const(1000000)
_ADV_FAST_S = const(30)
WANT_MTU = const(247)
SPACING_MS = const(8)  # between notifications: rapid bursts drop links on the ESP32-C3
_QUEUE_MAX = const(24)  # pending notifications; the stream is dropped beyond (it is lossy)
_ENOMEM = const(12)
_INBOX_MAX = const(8)  # control writes waiting for the task; a central waits for each reply
LOG_MIN_MTU = const(225)  # ATT header + log frame header + the largest record (218)

_SERVICE = bluetooth.UUID(P.SERVICE_UUID)
_BATTERY = bluetooth.UUID(0x180F)
_DIS = bluetooth.UUID(0x180A)


def _ad(kind, data):
    return bytes((len(data) + 1, kind)) + data


def advertising_payloads(name, battery_pct):
    """(advertising data, scan response): flags, 128-bit service UUID, Battery UUID and the
    battery level as Battery service data in the first (30 of its 31 bytes), the name in the
    response."""
    u = bytes(reversed(bytes.fromhex(P.SERVICE_UUID.replace("-", ""))))
    adv = (_ad(0x01, b"\x06") + _ad(0x07, u) + _ad(0x03, b"\x0f\x18")
           + _ad(0x16, b"\x0f\x18" + bytes((battery_pct,))))
    resp = _ad(0x09, name.encode())
    return adv, resp


class Peripheral:
    def __init__(self, app, name, secure=True):
        self.app = app
        self.name = name
        self.ble = bluetooth.BLE()
        self.conn = None
        self.mtu = 23
        self.encrypted = False
        self.queue = []  # (handle, bytes), in order
        self.transfer = None  # the running log transfer
        self.stream_buf = None
        self.stream_kind = P.STREAM_OFF
        self.stream_mtu = 0
        self.stream_count = 0
        self.stream_seq = 0
        self.stream_t0 = 0  # ms, of the open batch
        self.stream_frac_us = 0  # the stream clock's sub-millisecond part (of stream_t0)
        self.stream_next = -1  # ms: where the next batch starts on the stream clock (-1: none)
        self.adv_fast_until = 0
        self.adv_interval = 0
        self.enomem = 0  # back-pressure events seen (tests and diagnostics)
        self.inbox = []  # (conn, control write), appended by the IRQ handler, taken by the task
        self.link = None  # the connection the task has set up for (vs ``conn``: the IRQ's)
        self.bonds_dirty = False
        self.links_ended = 0  # disconnects the IRQ saw; ``links_seen``: the task's count
        self.links_seen = 0
        self.irq_errors = 0
        self.irq_error = None
        self.secrets = {}
        stored = app.store.load("bonds")
        if isinstance(stored, dict):
            for k, v in stored.items():
                try:
                    self.secrets[k] = bytes.fromhex(v)
                except (ValueError, TypeError):
                    pass
        self.secure_wanted = secure
        self.radio_on = False
        self.windows = PW.RadioWindows(app.now_ms())  # the boot window is open
        self._power_up()

    # --- radio windows (clip.power) --------------------------------------------------------
    def _power_up(self):
        ble = self.ble
        # the handler first: activation already asks for the identity key (IRK)
        ble.irq(self._irq)
        ble.active(True)
        ble.config(gap_name=self.name, mtu=WANT_MTU, bond=True, le_secure=True,
                   mitm=False, io=_IO_NO_INPUT_OUTPUT)
        self.register(self.secure_wanted)
        self.radio_on = True
        self.advertise()

    def _power_down(self):
        self.ble.gap_advertise(None)
        self.ble.active(False)
        self.radio_on = False
        self.adv_interval = 0
        self.conn = None
        self._link_down()

    def open_window(self, seconds):
        """Keep the radio on (advertising when no host is connected) for ``seconds``."""
        self.windows.open(self.app.now_ms(), seconds)
        if not self.radio_on:
            self._power_up()

    # --- GATT table -----------------------------------------------------------------------
    def register(self, secure):
        """(Re)register the services; control writes need encryption when ``secure``.
        Advertising must be stopped first (NimBLE refuses otherwise)."""
        ble = self.ble
        ble.gap_advertise(None)
        write = _FLAG_WRITE | (_FLAG_WRITE_ENCRYPTED if secure else 0)
        svc = (_SERVICE, ((bluetooth.UUID(P.STREAM_UUID), _FLAG_NOTIFY),
                          (bluetooth.UUID(P.EVENTS_UUID), _FLAG_NOTIFY),
                          (bluetooth.UUID(P.CONTROL_UUID), write | _FLAG_NOTIFY),
                          (bluetooth.UUID(P.LOG_UUID), _FLAG_NOTIFY)))
        battery = (_BATTERY, ((bluetooth.UUID(0x2A19), _FLAG_READ | _FLAG_NOTIFY),))
        dis = (_DIS, ((bluetooth.UUID(0x2A29), _FLAG_READ), (bluetooth.UUID(0x2A24), _FLAG_READ),
                      (bluetooth.UUID(0x2A25), _FLAG_READ), (bluetooth.UUID(0x2A26), _FLAG_READ)))
        ((self.h_stream, self.h_events, self.h_control, self.h_log), (self.h_battery,),
         (h_manu, h_model, h_serial, h_fw)) = ble.gatts_register_services((svc, battery, dis))
        ble.gatts_set_buffer(self.h_control, 64)  # writes longer than 20 bytes
        ble.gatts_write(h_manu, b"postureclip project")
        ble.gatts_write(h_model, self.app.board.NAME.encode())
        ble.gatts_write(h_serial, self.app.serial().encode())
        ble.gatts_write(h_fw, ("%d.%d.%d" % VERSION).encode())
        ble.gatts_write(self.h_battery, bytes((self.app.battery_pct,)))
        self.secure = secure

    def advertise(self, fast=True):
        if self.conn is not None or self.link is not None or not self.radio_on:
            return
        adv, resp = advertising_payloads(self.name, self.app.battery_pct)
        self.adv_interval = _ADV_FAST_US if fast else _ADV_SLOW_US
        if fast:
            self.adv_fast_until = self.app.now_ms() + _ADV_FAST_S * 1000
        self.ble.gap_advertise(self.adv_interval, adv, resp_data=resp)

    # --- IRQ (see the header: record, never act) -------------------------------------------
    def _irq(self, event, data):
        try:
            return self._on_irq(event, data)
        except Exception as e:  # one escaping would disable the handler for good
            self.irq_errors += 1
            self.irq_error = e
            return None

    def _on_irq(self, event, data):
        if event == _IRQ_CENTRAL_CONNECT:
            self.mtu = 23
            self.encrypted = False
            self.conn = data[0]
        elif event == _IRQ_CENTRAL_DISCONNECT:
            self.links_ended += 1  # even one the task never saw begin
            if data[0] == self.conn:
                self.conn = None
                self.encrypted = False
        elif event == _IRQ_MTU_EXCHANGED:
            if data[0] == self.conn:
                self.mtu = data[1]
        elif event == _IRQ_ENCRYPTION_UPDATE:
            if data[0] == self.conn:
                self.encrypted = bool(data[1])
        elif event == _IRQ_GATTS_WRITE:
            if data[0] == self.conn and data[1] == self.h_control and len(self.inbox) < _INBOX_MAX:
                self.inbox.append((data[0], bytes(self.ble.gatts_read(self.h_control))))
        elif event == _IRQ_GET_SECRET:
            sec_type, index, key = data
            if key is None:
                prefix = "%d:" % sec_type
                i = 0
                for k, v in self.secrets.items():
                    if k.startswith(prefix):
                        if i == index:
                            return v
                        i += 1
                return None
            return self.secrets.get("%d:%s" % (sec_type, bytes(key).hex()))
        elif event == _IRQ_SET_SECRET:
            sec_type, key, value = data
            k = "%d:%s" % (sec_type, bytes(key).hex())
            if value is None:
                # NimBLE deletes in a loop while this says a key was deleted: True only when
                # one was there, or the loop never ends
                if k not in self.secrets:
                    return False
                del self.secrets[k]
            else:
                self.secrets[k] = bytes(value)
            self.bonds_dirty = True  # the task writes the flash
            return True
        return None

    # --- what the IRQs recorded, acted on by the task ----------------------------------------
    def _link_up(self, conn):
        self.link = conn
        self.queue = []
        self.transfer = None
        self.stream_buf = None
        try:
            self.ble.gattc_exchange_mtu(conn)
        except OSError:
            pass  # the link is already gone: the task sees it next

    def _link_down(self, ended=False):
        """The task's side of a link that ended (or, with ``ended``, of one that began and
        ended between two of its steps: the radio window after a link opens all the same)."""
        was = self.link
        self.link = None
        self.queue = []
        self.transfer = None
        self.stream_buf = None
        self.app.stream_mode = P.STREAM_OFF
        if (was is None and not ended) or not self.radio_on:
            return
        if self.secure_wanted != self.secure:  # the setting changed during the connection
            self.register(self.secure_wanted)
        self.windows.open(self.app.now_ms(), PW.RADIO_AFTER_LINK_S)
        self.advertise()

    def _save_bonds(self):
        self.bonds_dirty = False
        self.app.store.save("bonds", {k: v.hex() for k, v in self.secrets.items()})

    def _housekeeping(self):
        """Act on what the IRQ handler recorded. The task's only entry to link state."""
        conn = self.conn
        ended = self.links_ended
        if ended != self.links_seen:
            self.links_seen = ended
            self._link_down(ended=True)
        if conn != self.link:
            if self.link is not None:
                self._link_down()
            if conn is not None:
                self._link_up(conn)
        if self.bonds_dirty:
            self._save_bonds()
        if self.irq_error is not None:
            print("ble: IRQ handler error:", repr(self.irq_error))
            self.irq_error = None
        while self.inbox:
            conn, data = self.inbox.pop(0)
            if conn != self.link:
                continue  # written on a link that is gone
            reply = self.app.control(data)
            if reply is not None:
                self.notify(self.h_control, reply)

    def forget_bonds(self):
        self.secrets = {}
        self.bonds_dirty = False
        self.app.store.remove("bonds")

    # --- outgoing ---------------------------------------------------------------------------
    def notify(self, handle, data, lossy=False):
        if self.link is None:
            return False
        if lossy and len(self.queue) >= _QUEUE_MAX:
            return False
        self.queue.append((handle, data))
        return True

    def control_reply(self, reply):
        self.notify(self.h_control, reply)

    def event(self, record):
        # events carry the wearer's posture (SUMMARY, TRACE...): with require_encryption, a
        # central gets them only on an encrypted link (docs/protocol.md, privacy)
        if self.secure and not self.encrypted:
            return
        self.notify(self.h_events, record)

    def battery(self, pct):
        if not self.radio_on:
            return  # written when the radio comes back on (register)
        self.ble.gatts_write(self.h_battery, bytes((pct,)))
        if self.link is None:  # the level is in the advertising data too
            self.advertise(fast=self.adv_interval == _ADV_FAST_US)
        else:
            self.notify(self.h_battery, bytes((pct,)))

    def stream_sample(self, t_ms, period_us, values):
        """Add one sample to the stream frame; a full frame is queued. QUAT: (w, x, y, z);
        RAW: (ax, ay, az, gx, gy, gz)."""
        mode = self.app.stream_mode
        if self.link is None or mode == P.STREAM_OFF:
            return
        cap = P.stream_capacity(mode, self.mtu)
        if cap < P.stream_samples_needed(self.app.stream_rate):
            # STREAM checked the MTU; a link that changed under it stops the stream rather
            # than the sampler (a frame with no room is an exception in the sampling path)
            self.app.stream_mode = P.STREAM_OFF
            return
        # batch so notifications are spaced: at most ~25 a second
        want = self.app.stream_rate // 25 + 1
        if want < cap:
            cap = want
        if self.stream_buf is None or self.stream_kind != mode or self.stream_mtu != self.mtu:
            self.stream_buf = bytearray(P.stream_frame_size(mode, P.stream_capacity(mode,
                                                                                    self.mtu)))
            self.stream_kind = mode
            self.stream_mtu = self.mtu
            self.stream_count = 0
            self.stream_next = -1
        if self.stream_count == 0:
            # the stream's own clock: a batch starts where the last one ended (t0 + count x
            # period), so sample times never overlap; re-anchored to the device clock when
            # they part by more than a gap (samples skipped) - the host sees the jump
            t = int(t_ms)
            nxt = self.stream_next
            if nxt < 0 or abs(t - nxt) > 2 * period_us // 1000 + 40:
                self.stream_t0 = t
                self.stream_frac_us = 0
            else:
                self.stream_t0 = nxt
        if mode == P.STREAM_QUAT:
            P.pack_quat_sample(self.stream_buf, self.stream_count, *values)
        else:
            P.pack_raw_sample(self.stream_buf, self.stream_count, *values)
        self.stream_count += 1
        if self.stream_count >= cap:
            P.pack_stream_header(self.stream_buf, mode, self.stream_seq, self.stream_t0,
                                 period_us, self.stream_count)
            frame = bytes(memoryview(self.stream_buf)[:P.stream_frame_size(mode,
                                                                           self.stream_count)])
            self.notify(self.h_stream, frame, lossy=True)
            self.stream_seq = (self.stream_seq + 1) & 0xFFFF
            span_us = self.stream_frac_us + self.stream_count * period_us  # small ints only
            self.stream_next = self.stream_t0 + span_us // 1000
            self.stream_frac_us = span_us % 1000
            self.stream_count = 0

    # --- log transfer ---------------------------------------------------------------------
    def start_transfer(self, first, limit):
        if self.link is None:
            raise P.CommandError(P.ST_FAILED, "not connected")
        if self.mtu < LOG_MIN_MTU:
            raise P.CommandError(P.ST_MTU_TOO_SMALL, "MTU %d < %d" % (self.mtu, LOG_MIN_MTU))
        if self.transfer is not None:
            raise P.CommandError(P.ST_BUSY, "transfer running")
        log = self.app.log
        count = log.count_from(first)
        if count == 0:
            raise P.CommandError(P.ST_NO_RECORDS, "nothing stored from %d on" % first)
        if limit and count > limit:
            count = limit
        start = first
        if count:
            for rec in log.read_from(first):
                (start,) = struct.unpack_from("<I", rec, 4)
                break
        self.transfer = [log.read_from(first), count, 0, None, first]  # gen, left, frame, held
        return start, count

    def abort_transfer(self):
        t = self.transfer
        if t is None:
            raise P.CommandError(P.ST_NO_RECORDS, "no transfer")
        self.transfer = None
        self.notify(self.h_log, P.pack_log_end(t[2], t[4], P.END_ABORTED))

    def _pump_transfer(self):
        """Queue the next RECORDS frame (or END); False when nothing was queued."""
        t = self.transfer
        if t is None or len(self.queue) >= 4:
            return False
        room = self.mtu - 3 - P.LOG_HEADER_SIZE
        parts = []
        used = 0
        while t[1] > 0:
            rec = t[3]
            if rec is None:
                try:
                    rec = next(t[0])
                except StopIteration:
                    t[1] = 0
                    break
            if used + len(rec) > room:
                t[3] = rec  # held for the next frame
                break
            t[3] = None
            parts.append(rec)
            used += len(rec)
            t[1] -= 1
            (t[4],) = struct.unpack_from("<I", rec, 4)
            t[4] += 1
        if parts:
            self.notify(self.h_log, P.pack_log_records(t[2], b"".join(parts)))
            t[2] += 1
            return True
        self.notify(self.h_log, P.pack_log_end(t[2], t[4], P.END_COMPLETE))
        self.transfer = None
        return True

    # --- the task ---------------------------------------------------------------------------
    async def run(self):
        while True:
            if self.radio_on:
                self._housekeeping()
            wanted = self.windows.wanted(self.app.now_ms(), self.link is not None)
            if wanted != self.radio_on:
                if wanted:
                    self._power_up()
                else:
                    self._power_down()
            if not self.radio_on:
                await asyncio.sleep_ms(250)
                continue
            if self.link is None:
                if self.adv_interval == _ADV_FAST_US and self.app.now_ms() > self.adv_fast_until:
                    self.advertise(fast=False)
                await asyncio.sleep_ms(50)
                continue
            self._pump_transfer()
            if not self.queue:
                await asyncio.sleep_ms(SPACING_MS)
                continue
            handle, data = self.queue[0]
            try:
                self.ble.gatts_notify(self.link, handle, data)
            except OSError as e:
                if e.args[0] == _ENOMEM:
                    self.enomem += 1  # the controller is full: the same one again, later
                    await asyncio.sleep_ms(SPACING_MS * 2)
                    continue
                self.queue = []  # not connected any more: the IRQ says so next
                continue
            # only this task changes the queue, so the head is still the one just sent
            self.queue.pop(0)
            await asyncio.sleep_ms(SPACING_MS)
