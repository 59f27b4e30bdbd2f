# Stand-in for MicroPython's `bluetooth` on the unix port: the BLE class with the real API
# and IRQ semantics (connect, MTU exchange, writes, encryption, bonding secrets, notification
# back-pressure as OSError(ENOMEM)), bridged to a loopback TCP socket where a host process
# plays the central. Link model: notifications leave in connection events every
# LINK_INTERVAL_MS, at most LINK_PACKETS_PER_EVENT each; the controller queue holds
# LINK_QUEUE notifications (beyond that: ENOMEM), as on an ESP32 with NimBLE.
#
# Wire format to the central: frames of u16 length (little-endian) + u8 kind + payload.
import asyncio
import os
import select
import socket
import struct

import simhw
from micropython import const

FLAG_READ = const(0x0002)
FLAG_WRITE_NO_RESPONSE = const(0x0004)
FLAG_WRITE = const(0x0008)
FLAG_NOTIFY = const(0x0010)
FLAG_READ_ENCRYPTED = const(0x0200)
FLAG_WRITE_ENCRYPTED = const(0x1000)

_IRQ_CENTRAL_CONNECT = const(1)
_IRQ_CENTRAL_DISCONNECT = const(2)
_IRQ_GATTS_WRITE = const(3)
_IRQ_MTU_EXCHANGED = const(21)
_IRQ_ENCRYPTION_UPDATE = const(28)
_IRQ_GET_SECRET = const(29)
_IRQ_SET_SECRET = const(30)

# central -> clip
C_CONNECT = const(1)  # addr (6)
C_DISCONNECT = const(2)
C_MTU = const(3)  # u16 wanted
C_WRITE = const(4)  # u16 handle, data
C_SUBSCRIBE = const(5)  # u16 value handle, u8 on
C_READ = const(6)  # u16 handle
C_PAIR = const(7)
C_SCAN = const(8)
C_FAULT = const(9)  # u16 drop every n-th notification (0 = none), u16 extra delay ms per event
C_KICK = const(10)  # the clip drops the link (as on a radio reset): peripheral-initiated
C_BUTTON = const(11)  # u16 ms: the wearer presses the clip's button (it opens the radio window)
# clip -> central
P_CONNECTED = const(0x81)  # repeated (u16 handle, u16 flags, u8 n, uuid, u8 m, service uuid)
P_MTU = const(0x83)  # u16
P_WRITE_RESP = const(0x84)  # u8 ATT status (0 ok, 0x0F insufficient encryption)
P_READ_RESP = const(0x86)  # u8 status, data
P_PAIRED = const(0x87)  # u8 encrypted, u8 bonded, u8 an existing bond's key was used
P_ADV = const(0x88)  # u8 advertising, u8 adv len, adv, resp
P_NOTIFY = const(0x90)  # u16 handle, data
P_DISCONNECTED = const(0x91)

ATT_OK = const(0)
ATT_INSUFFICIENT_AUTHENTICATION = const(0x05)  # NimBLE: no key stored for the peer
ATT_INSUFFICIENT_ENCRYPTION = const(0x0F)  # NimBLE: a key is stored, the link is not encrypted
# the real module's config(): keys it sets, and the subset it can read back (others raise)
CONFIG_SET = ("gap_name", "rxbuf", "mtu", "addr_mode", "bond", "mitm", "io", "le_secure")
CONFIG_GET = ("mac", "addr_mode", "gap_name", "rxbuf", "mtu")
ENODEV = const(19)
ENOMEM = const(12)

LINK_INTERVAL_MS = 15
LINK_PACKETS_PER_EVENT = 3
LINK_QUEUE = 8
MAX_MTU = 247

_ble = None
listen_port = int(os.getenv("POSTURECLIP_SIM_PORT") or 0)  # set by firmware/sim/run.py


# what parsing a frame too short for its kind raises (MicroPython: ValueError; CPython, which
# runs these files in the firmware tests, has struct.error)
_FRAME_ERRORS = (ValueError, IndexError, getattr(struct, "error", ValueError))


class UUID:
    def __init__(self, value):
        if isinstance(value, int):
            value = "%04x" % value
        self.s = str(value).lower()

    def __eq__(self, other):
        return isinstance(other, UUID) and other.s == self.s

    def __hash__(self):
        return hash(self.s)

    def __str__(self):
        return self.s


def BLE():
    global _ble
    if _ble is None:
        _ble = _Ble()
    return _ble


class _Ble:
    def __init__(self):
        self._active = False
        self._handler = None
        self._values = {}  # handle -> bytes
        self._props = {}  # value handle -> (uuid, flags)
        self._subscribed = set()
        self._cfg = {"gap_name": "MPY", "mtu": 23, "bondable": True, "le_secure": False}
        self.adv = None  # (interval_us, adv_data, resp_data) while advertising
        self.conn = None
        self.mtu = 23
        self.encrypted = False
        self.peer = b""
        self.txq = []
        self._srv = None
        self._sock = None
        self._waiting = []
        self._rx = b""
        self._task = None
        # fault injection (tests): drop every n-th notification, extra delay per event
        self.drop_every = 0
        self.delay_ms = 0
        self.notify_count = 0

    # --- the real API -------------------------------------------------------------------
    def active(self, flag=None):
        if flag is None:
            return self._active
        self._active = bool(flag)
        if not self._active:  # the controller stops: no advertising, no link
            self.adv = None
            if self.conn is not None:
                self._send(P_DISCONNECTED, b"")
                self._drop_link()
        elif self._task is None:
            # the bridge keeps answering while the radio is off (scans find nothing then)
            self._task = asyncio.create_task(self._pump())
        return self._active

    def config(self, *names, **kw):
        # as extmod/modbluetooth.c: one name to read, or keywords to set; anything else raises
        if names:
            if len(names) != 1 or kw:
                raise TypeError("must query one param")
            if names[0] not in CONFIG_GET:
                raise ValueError("unknown config param")
            if not self._active:
                raise OSError(ENODEV)
            if names[0] == "mac":
                return (0, b"\x24\x6f\x28\x01\x02\x03")
            return self._cfg.get(names[0])
        for k in kw:
            if k not in CONFIG_SET:
                raise ValueError("unknown config param")
        if not self._active and ("gap_name" in kw or "mtu" in kw or "addr_mode" in kw):
            raise OSError(ENODEV)
        self._cfg.update(kw)
        return None

    def irq(self, handler):
        self._handler = handler

    def _irq(self, event, data):
        if self._handler is not None:
            return self._handler(event, data)
        return None

    def gap_advertise(self, interval_us, adv_data=None, *, resp_data=None, connectable=True):
        if interval_us is None:
            self.adv = None
        else:
            self.adv = (interval_us, bytes(adv_data or b""), bytes(resp_data or b""))

    def gatts_register_services(self, services):
        if self.adv is not None:
            raise OSError(16)  # EBUSY: NimBLE refuses while advertising
        self._values.clear()
        self._props.clear()
        handle = 1
        out = []
        for svc, chars in services:
            handle += 1  # service declaration
            hs = []
            for uuid, flags in chars:
                handle += 1  # characteristic declaration
                self._values[handle] = b""
                self._props[handle] = (uuid, flags, svc)
                hs.append(handle)
                handle += 1
                if flags & FLAG_NOTIFY:
                    handle += 1  # CCCD
            out.append(tuple(hs))
        return tuple(out)

    def gatts_read(self, handle):
        return self._values[handle]

    def gatts_write(self, handle, data, send_update=False):
        self._values[handle] = bytes(data)
        if send_update and self.conn is not None:
            self.gatts_notify(self.conn, handle)

    def gatts_set_buffer(self, handle, length, append=False):
        pass

    def gatts_notify(self, conn_handle, value_handle, data=None):
        if conn_handle != self.conn:
            raise OSError(107)  # ENOTCONN
        if len(self.txq) >= LINK_QUEUE:
            raise OSError(ENOMEM)
        payload = self._values[value_handle] if data is None else bytes(data)
        if len(payload) > self.mtu - 3:
            payload = payload[:self.mtu - 3]  # as the stack: truncated to the ATT MTU
        self.txq.append((value_handle, payload))

    def gap_disconnect(self, conn_handle):
        if conn_handle != self.conn:
            return False
        self._send(P_DISCONNECTED, b"")
        self._drop_link()
        return True

    def gattc_exchange_mtu(self, conn_handle):
        self._mtu_requested = True

    # --- the link -----------------------------------------------------------------------
    def _drop_link(self):
        conn = self.conn
        self.conn = None
        self.encrypted = False
        self.mtu = 23
        self.txq = []
        self._subscribed = set()
        if self._sock is not None:
            try:
                self._poller.unregister(self._sock)
            except (AttributeError, OSError, KeyError, ValueError):
                pass
            try:
                self._sock.close()
            except OSError:
                pass
            self._sock = None
        self._rx = b""
        if self._waiting:
            self._sock = self._waiting.pop(0)
            self._poller.register(self._sock, select.POLLIN)
        if conn is not None:
            self._irq(_IRQ_CENTRAL_DISCONNECT, (conn, 0, self.peer))

    def _send(self, kind, payload):
        if self._sock is None:
            return
        frame = struct.pack("<HB", len(payload) + 1, kind) + payload
        try:
            self._sock.send(frame)
        except OSError:
            self._drop_link()

    def _listen(self):
        s = socket.socket()
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(socket.getaddrinfo("127.0.0.1", listen_port)[0][-1])
        s.listen(1)
        s.setblocking(False)
        self._srv = s

    async def _pump(self):
        if listen_port:
            self._listen()
        poller = select.poll()
        self._poller = poller
        if self._srv is not None:
            poller.register(self._srv, select.POLLIN)
        while _ble is self:  # until the world is rebuilt (tests)
            for item in poller.poll(0):
                obj = item[0]
                if obj is self._srv:
                    try:
                        sock, _ = self._srv.accept()
                    except OSError:
                        continue
                    sock.setblocking(False)
                    if self._sock is not None:  # one central at a time: it waits its turn
                        self._waiting.append(sock)
                        continue
                    self._sock = sock
                    poller.register(sock, select.POLLIN)
                elif obj is self._sock:
                    try:
                        data = self._sock.recv(4096)
                    except OSError:
                        data = b""
                    if not data:
                        self._drop_link()
                        continue
                    self._rx += data
                    self._frames()
                else:  # a socket already dropped
                    try:
                        poller.unregister(obj)
                    except (OSError, KeyError, ValueError):
                        pass
            # one connection event: up to LINK_PACKETS_PER_EVENT notifications leave
            n = 0
            while self.txq and n < LINK_PACKETS_PER_EVENT:
                handle, payload = self.txq.pop(0)
                n += 1
                self.notify_count += 1
                if self.drop_every and self.notify_count % self.drop_every == 0:
                    continue
                if handle in self._subscribed:
                    self._send(P_NOTIFY, struct.pack("<H", handle) + payload)
            await asyncio.sleep_ms(LINK_INTERVAL_MS + self.delay_ms)

    def _frames(self):
        while len(self._rx) >= 2:
            (n,) = struct.unpack_from("<H", self._rx, 0)
            if n == 0:  # a frame without even its kind: the central's framing is broken
                self._malformed(-1)
                return
            if len(self._rx) < 2 + n:
                return
            kind = self._rx[2]
            payload = self._rx[3:2 + n]
            self._rx = self._rx[2 + n:]
            try:
                self._handle(kind, payload)
            except _FRAME_ERRORS:  # too short for its kind
                self._malformed(kind)
                return
            if self._sock is None:
                return

    def _malformed(self, kind):
        """A frame the bridge cannot parse ends that central's link (it is told so with
        0x91); the bridge goes on serving the next central."""
        print("bridge: malformed frame (kind %d): the central is disconnected" % kind)
        self._rx = b""
        self._send(P_DISCONNECTED, b"")
        self._drop_link()

    def _att_security_error(self):
        if self._irq(_IRQ_GET_SECRET, (1, 0, self.peer)) is not None:
            return ATT_INSUFFICIENT_ENCRYPTION
        return ATT_INSUFFICIENT_AUTHENTICATION

    def _handle(self, kind, p):
        if kind == C_KICK:
            self._send(P_DISCONNECTED, b"")
            self._drop_link()
        elif kind == C_BUTTON:
            (ms,) = struct.unpack_from("<H", p, 0)
            simhw.press_button(ms)
        elif kind == C_FAULT:
            self.drop_every, self.delay_ms = struct.unpack_from("<HH", p, 0)
        elif kind == C_SCAN:
            adv = self.adv
            if adv is None or self.conn is not None:
                self._send(P_ADV, b"\x00\x00")
            else:
                self._send(P_ADV, bytes((1, len(adv[1]))) + adv[1] + adv[2])
        elif kind == C_CONNECT:
            if self.adv is None:  # not connectable now
                self._send(P_DISCONNECTED, b"")
                return
            self.conn = 1
            self.peer = bytes(p[:6])
            self.adv = None  # advertising stops on connect
            self._irq(_IRQ_CENTRAL_CONNECT, (1, 0, self.peer))
            table = b""
            for h in sorted(self._props):
                uuid, flags, svc = self._props[h]
                u = str(uuid).encode()
                v = str(svc).encode()
                table += struct.pack("<HHB", h, flags, len(u)) + u + bytes((len(v),)) + v
            self._send(P_CONNECTED, table)
        elif kind == C_DISCONNECT:
            self._drop_link()
        elif kind == C_MTU:
            (want,) = struct.unpack_from("<H", p, 0)
            self.mtu = max(23, min(want, self._cfg.get("mtu") or 23, MAX_MTU))
            self._send(P_MTU, struct.pack("<H", self.mtu))
            self._irq(_IRQ_MTU_EXCHANGED, (self.conn, self.mtu))
        elif kind == C_WRITE:
            (h,) = struct.unpack_from("<H", p, 0)
            data = bytes(p[2:])
            props = self._props.get(h)
            if props is None or not props[1] & (FLAG_WRITE | FLAG_WRITE_NO_RESPONSE):
                self._send(P_WRITE_RESP, b"\x03")  # write not permitted
                return
            if props[1] & FLAG_WRITE_ENCRYPTED and not self.encrypted:
                self._send(P_WRITE_RESP, bytes((self._att_security_error(),)))
                return
            self._values[h] = data
            self._send(P_WRITE_RESP, b"\x00")
            self._irq(_IRQ_GATTS_WRITE, (self.conn, h))
        elif kind == C_SUBSCRIBE:
            (h,) = struct.unpack_from("<H", p, 0)
            if p[2]:
                self._subscribed.add(h)
            else:
                self._subscribed.discard(h)
        elif kind == C_READ:
            (h,) = struct.unpack_from("<H", p, 0)
            props = self._props.get(h)
            if props is None:
                self._send(P_READ_RESP, b"\x01")  # invalid handle
            elif not props[1] & (FLAG_READ | FLAG_READ_ENCRYPTED):
                self._send(P_READ_RESP, b"\x02")  # read not permitted, as NimBLE answers
            elif props[1] & FLAG_READ_ENCRYPTED and not self.encrypted:
                self._send(P_READ_RESP, bytes((self._att_security_error(),)))
            else:
                self._send(P_READ_RESP, b"\x00" + self._values.get(h, b""))
        elif kind == C_PAIR:
            # LE Secure Connections, Just Works: a known peer's stored key re-encrypts, a
            # new peer's keys are handed to the app to store (the real stack does the same)
            key = self.peer
            stored = self._irq(_IRQ_GET_SECRET, (1, 0, key))
            bonded = stored is not None
            if not bonded and self._cfg.get("bond", False):
                ltk = os.urandom(16)
                bonded = bool(self._irq(_IRQ_SET_SECRET, (1, key, ltk)))
            self.encrypted = True
            self._irq(_IRQ_ENCRYPTION_UPDATE, (self.conn, 1, 0, 1 if bonded else 0, 16))
            self._send(P_PAIRED, bytes((1, 1 if bonded else 0, 1 if stored is not None else 0)))
