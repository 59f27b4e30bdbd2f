# The BLE peripheral against the sim radio, without a socket: back-pressure, ordering,
# encryption, log transfer framing; MicroPython and CPython.
import asyncio
import struct

import bluetooth
import world

from clip import protocol as P
from clip.app import App
from clip.boards import xiao_esp32c3

ROOT = "/tmp"


def connected_app(root, queue=8, interval_ms=15, per_event=3):
    world.build(xiao_esp32c3)
    app = App(xiao_esp32c3, root)
    radio = bluetooth.BLE()
    bluetooth.LINK_QUEUE = queue
    bluetooth.LINK_INTERVAL_MS = interval_ms
    bluetooth.LINK_PACKETS_PER_EVENT = per_event
    sent = []
    radio._send = lambda kind, payload: sent.append((kind, payload))
    return app, radio, sent


def fresh_root(name):
    import os
    import sys
    import time

    root = "/tmp/postureclip-ble-%s-%s-%d" % (name, sys.implementation.name, time.time_ns())
    os.mkdir(root)
    return root


async def shut_down(app, task):
    app.running = False
    await asyncio.sleep_ms(150)
    task.cancel()


def connect(radio, ble, pair=True, mtu=247):
    radio._handle(bluetooth.C_CONNECT, b"\x01\x02\x03\x04\x05\x06")
    radio._handle(bluetooth.C_MTU, struct.pack("<H", mtu))
    for h in (ble.h_control, ble.h_events, ble.h_log, ble.h_stream):
        radio._handle(bluetooth.C_SUBSCRIBE, struct.pack("<HB", h, 1))
    if pair:
        radio._handle(bluetooth.C_PAIR, b"")


def control(radio, ble, op, token, fmt="<", *args):
    cmd = bytes((op, token)) + struct.pack(fmt, *args)
    radio._handle(bluetooth.C_WRITE, struct.pack("<H", ble.h_control) + cmd)


def notified(sent, handle):
    return [p[2:] for k, p in sent if k == bluetooth.P_NOTIFY and
            struct.unpack_from("<H", p)[0] == handle]


def test_back_pressure_loses_nothing_and_keeps_order():
    # a slow link: one notification per 40 ms event, two in the controller's queue
    app, radio, sent = connected_app(fresh_root("bp"), queue=2, interval_ms=40, per_event=1)

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(200)
        ble = app.ble
        connect(radio, ble)
        await asyncio.sleep_ms(60)  # the task takes up what the IRQs recorded
        for i in range(40):  # a burst far beyond the controller's queue
            app.cmd_snooze(i % 7)
        while ble.queue or radio.txq:
            await asyncio.sleep_ms(20)
        await asyncio.sleep_ms(100)
        await shut_down(app, task)
        return ble

    ble = asyncio.run(scenario())
    assert ble.enomem > 0, "the burst should have hit ENOMEM"
    records = notified(sent, ble.h_events)
    snoozes = [r for r in records if r[1] == P.REC_SNOOZE]
    assert len(snoozes) == 40
    seqs = [struct.unpack_from("<I", r, 4)[0] for r in records]
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)
    assert [struct.unpack_from("<H", r, 14)[0] for r in snoozes] == [i % 7 for i in range(40)]


def test_unencrypted_control_write_gets_the_att_error_and_changes_nothing():
    app, radio, sent = connected_app(fresh_root("enc"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        connect(radio, app.ble, pair=False)
        cmd = bytes((P.OP_SET_CONFIG, 1)) + struct.pack("<Bi", 1, 30)
        radio._handle(bluetooth.C_WRITE, struct.pack("<H", app.ble.h_control) + cmd)
        before = app.settings["slouch_deg"]
        radio._handle(bluetooth.C_PAIR, b"")
        radio._handle(bluetooth.C_WRITE, struct.pack("<H", app.ble.h_control) + cmd)
        await asyncio.sleep_ms(200)
        await shut_down(app, task)
        return before

    before = asyncio.run(scenario())
    resps = [p for k, p in sent if k == bluetooth.P_WRITE_RESP]
    # no key for this central yet: NimBLE answers Insufficient Authentication (0x05)
    assert resps[0] == bytes((bluetooth.ATT_INSUFFICIENT_AUTHENTICATION,)) and resps[1] == b"\x00"
    assert before == 20 and app.settings["slouch_deg"] == 30
    replies = notified(sent, app.ble.h_control)
    assert replies == [P.pack_reply(P.OP_SET_CONFIG, 1, P.ST_OK, (1, 30))]
    assert app.store.load("bonds")  # the bond was stored


def test_log_transfer_frames_fit_the_mtu_and_end_with_the_next_seq():
    app, radio, sent = connected_app(fresh_root("log"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        connect(radio, app.ble)
        for i in range(30):
            app._emit(P.REC_TRACE, 1.0 * i, (1, [i, -i] * 50))
        cmd = bytes((P.OP_LOG_SEND, 9)) + struct.pack("<II", 0, 0)
        radio._handle(bluetooth.C_WRITE, struct.pack("<H", app.ble.h_control) + cmd)
        for _ in range(200):
            await asyncio.sleep_ms(20)
            frames = notified(sent, app.ble.h_log)
            if frames and frames[-1][1] == P.LOG_END:
                break
        await shut_down(app, task)

    asyncio.run(scenario())
    frames = notified(sent, app.ble.h_log)
    assert frames[-1][1] == P.LOG_END
    seqs = []
    for i, f in enumerate(frames[:-1]):
        assert len(f) <= 247 - 3 and f[1] == P.LOG_RECORDS
        assert struct.unpack_from("<H", f, 2)[0] == i
        off = P.LOG_HEADER_SIZE
        while off < len(f):
            size, _rtype, seq, _, _, _, _ = P.parse_record(f, off)
            assert size > 0
            seqs.append(seq)
            off += size
    assert seqs == list(range(len(seqs))) and len(seqs) >= 31  # boot + 30 traces
    next_seq, reason = struct.unpack_from("<IB", frames[-1], P.LOG_HEADER_SIZE)
    assert next_seq == seqs[-1] + 1 and reason == P.END_COMPLETE


def test_events_reach_only_an_encrypted_link():
    # an unpaired central that subscribes gets no SUMMARY/TRACE/... (the privacy rule)
    app, radio, sent = connected_app(fresh_root("priv"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        connect(radio, app.ble, pair=False)
        await asyncio.sleep_ms(60)
        app._emit(P.REC_TRACE, 1.0, (1, [5, -5]))
        await asyncio.sleep_ms(100)
        before = len(notified(sent, app.ble.h_events))
        radio._handle(bluetooth.C_PAIR, b"")
        await asyncio.sleep_ms(60)
        app._emit(P.REC_TRACE, 2.0, (1, [6, -6]))
        await asyncio.sleep_ms(100)
        await shut_down(app, task)
        return before

    before = asyncio.run(scenario())
    assert before == 0
    assert [r[1] for r in notified(sent, app.ble.h_events)] == [P.REC_TRACE]


def test_stream_refused_below_its_mtu_and_the_sampler_lives():
    # at MTU 23 a RAW frame has room for one sample: 200 Hz would need a notification every
    # 5 ms. Refused with MTU_TOO_SMALL; what fits is served; the clip keeps sensing.
    app, radio, sent = connected_app(fresh_root("mtu"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        connect(radio, app.ble, mtu=23)
        await asyncio.sleep_ms(60)
        control(radio, app.ble, P.OP_STREAM, 1, "<BH", P.STREAM_RAW, 200)
        control(radio, app.ble, P.OP_STREAM, 2, "<BH", P.STREAM_QUAT, 50)
        await asyncio.sleep_ms(100)
        control(radio, app.ble, P.OP_STREAM, 3, "<BH", P.STREAM_QUAT, 25)
        await asyncio.sleep_ms(1500)
        control(radio, app.ble, P.OP_GET_STATUS, 4)
        await asyncio.sleep_ms(100)
        await shut_down(app, task)

    asyncio.run(scenario())
    replies = {r[1]: r for r in notified(sent, app.ble.h_control)}
    assert replies[1][2] == P.ST_MTU_TOO_SMALL and replies[2][2] == P.ST_MTU_TOO_SMALL
    assert replies[3][2] == P.ST_OK
    assert P.stream_min_mtu(P.STREAM_QUAT, 25) <= 23 < P.stream_min_mtu(P.STREAM_QUAT, 50)
    frames = notified(sent, app.ble.h_stream)
    assert len(frames) >= 10, len(frames)
    t0s = []
    for f in frames:
        assert len(f) <= 20
        _v, kind, _seq, t0, period, count = struct.unpack_from(P.STREAM_HEADER, f)
        assert kind == P.STREAM_QUAT and count >= 1 and period == 40000
        t0s.append((t0, count * period))
    # continuous: each batch starts where the last ended (to the millisecond)
    for i in range(1, len(t0s)):  # (MicroPython has no itertools.pairwise)
        (t0, span), (t1, _) = t0s[i - 1], t0s[i]
        assert 0 <= t1 - (t0 + span // 1000) <= 1, t0s
    assert not app.fault and not app.task_failures
    status = replies[4]
    assert status[2] == P.ST_OK and not status[6] & P.STATE_FAULT and status[6] & P.STATE_STREAMING


def test_log_ack_of_a_future_record_is_refused_and_deletes_nothing():
    app, radio, sent = connected_app(fresh_root("ack"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        connect(radio, app.ble)
        for i in range(5):
            app._emit(P.REC_SNOOZE, 1.0 * i, (i,))
        nxt = app.log.next_seq
        control(radio, app.ble, P.OP_LOG_ACK, 1, "<I", nxt)
        control(radio, app.ble, P.OP_LOG_ACK, 2, "<I", 0xFFFFFFFF)
        control(radio, app.ble, P.OP_LOG_SEND, 3, "<II", nxt, 0)
        control(radio, app.ble, P.OP_LOG_ACK, 4, "<I", nxt - 1)
        await asyncio.sleep_ms(200)
        await shut_down(app, task)
        return nxt

    nxt = asyncio.run(scenario())
    replies = {r[1]: r for r in notified(sent, app.ble.h_control)}
    assert replies[1][2] == P.ST_OUT_OF_RANGE and replies[2][2] == P.ST_OUT_OF_RANGE
    assert replies[3][2] == P.ST_NO_RECORDS  # nothing stored from next on: no frames
    assert not notified(sent, app.ble.h_log)
    assert replies[4][2] == P.ST_OK
    assert struct.unpack_from("<I", replies[4], 3)[0] == nxt and app.log.stored() == 0


def test_bridge_survives_malformed_frames_and_refuses_unreadable_reads():
    app, radio, sent = connected_app(fresh_root("bridge"))

    async def scenario():
        task = asyncio.create_task(app.run())
        await asyncio.sleep_ms(100)
        for bad in (b"\x02\x00\x06\x01",  # a read whose handle has one byte
                    b"\x00\x00",  # a frame without its kind
                    b"\x01\x00\x04"):  # a write without a handle
            connect(radio, app.ble)
            await asyncio.sleep_ms(40)
            del sent[:]
            radio._rx += bad
            radio._frames()
            assert sent and sent[-1][0] == bluetooth.P_DISCONNECTED, (bad, sent)
            assert radio.conn is None
            await asyncio.sleep_ms(60)
        connect(radio, app.ble)  # the bridge still serves
        await asyncio.sleep_ms(60)
        del sent[:]
        for h in (app.ble.h_control, app.ble.h_log, app.ble.h_events, app.ble.h_stream):
            radio._handle(bluetooth.C_READ, struct.pack("<H", h))
        radio._handle(bluetooth.C_READ, struct.pack("<H", app.ble.h_battery))
        radio._handle(bluetooth.C_READ, struct.pack("<H", 0xFFF0))
        await shut_down(app, task)

    asyncio.run(scenario())
    reads = [p for k, p in sent if k == bluetooth.P_READ_RESP]
    assert reads[:4] == [b"\x02"] * 4  # not readable: nothing of another central's leaks
    assert reads[4][0] == 0 and len(reads[4]) == 2  # battery level
    assert reads[5] == b"\x01"
