# Runs under MicroPython: prints protocol test vectors produced by the firmware's own packers.
# tools/gen_vectors.py writes them to tests/vectors/protocol_v1.json for the host tests.
import json
import struct
from binascii import hexlify

from clip import control
from clip import protocol as P


def hx(b):
    return hexlify(bytes(b)).decode()


def stream_vector(kind, seq, t0_ms, period_us, samples, pack_sample):
    buf = bytearray(P.stream_frame_size(kind, len(samples)))
    P.pack_stream_header(buf, kind, seq, t0_ms, period_us, len(samples))
    for i, sample in enumerate(samples):
        pack_sample(buf, i, *sample)
    return {"kind": kind, "seq": seq, "t0_ms": t0_ms, "period_us": period_us,
            "samples": samples, "hex": hx(buf)}


def stream_vectors():
    quats = [(1.0, 0.0, 0.0, 0.0), (0.7071, 0.7071, 0.0, 0.0), (0.5, -0.5, 0.5, -0.5)]
    raws = [(0.0, 0.1, 9.81, 0.0, 0.01, -0.02), (-3.2, 1.5, 8.0, 1.2, -2.5, 0.3),
            (150.0, -150.0, 0.005, 30.0, -30.0, 0.001)]
    return [stream_vector(P.STREAM_QUAT, 7, 123456, 20000, quats, P.pack_quat_sample),
            stream_vector(P.STREAM_RAW, 65535, 4294967295, 5000, raws, P.pack_raw_sample)]


EVENTS = [
    (P.REC_BOOT, (0, 1, 0, 3)),
    (P.REC_CALIBRATED, (32767, 0, 0, 0, 123)),
    (P.REC_SLOUCH_START, (215, -30)),
    (P.REC_SLOUCH_END, (45000, 312, 254, -41)),
    (P.REC_LIFT, (2300, 701, -352, 95, P.TECH_STOOP, P.LIFT_FLAG_TWISTED)),
    (P.REC_LIFT, (1800, 350, 40, -20, P.TECH_SQUAT, 0)),
    (P.REC_BUZZ, (1, 2)),
    (P.REC_LOW_BATTERY, (3420, 9)),
    (P.REC_SUMMARY, (60, 40, 15, 5, 2, 1, 1)),
    (P.REC_TIME_SET, (3600, 0)),
    (P.REC_DROPPED, (100, 250)),
    (P.REC_SNOOZE, (30,)),
    (P.REC_FAULT, (1, 0x68)),
]
# every buzz reason with the pattern it plays, every fault code and reset cause
EVENTS += [(P.REC_BUZZ, (pattern, reason)) for pattern, reason in (
    (P.PATTERN_REMINDER, P.REASON_SLOUCH), (P.PATTERN_REMINDER, P.REASON_EXPOSURE),
    (P.PATTERN_LIFT, P.REASON_LIFT_STOOP), (P.PATTERN_LIFT, P.REASON_LIFT_TWIST),
    (P.PATTERN_LOW_BATTERY, P.REASON_TEST), (P.PATTERN_CALIBRATED, P.REASON_CALIBRATION),
    (P.PATTERN_LOW_BATTERY, P.REASON_LOW_BATTERY), (P.PATTERN_RECALIBRATE, P.REASON_SLIP),
    (P.PATTERN_TICK, P.REASON_CORRECTED), (P.PATTERN_REMINDER, P.REASON_LEAN),
    (P.PATTERN_RECALIBRATE, P.REASON_PUT_ON), (P.PATTERN_MOVE, P.REASON_MOVE),
    (P.PATTERN_TICK, P.REASON_EXERCISE), (P.PATTERN_FORM, P.REASON_EXERCISE),
    (P.PATTERN_TARGET, P.REASON_EXERCISE), (P.PATTERN_START, P.REASON_EXERCISE))]
# every held reason (with a reason that can be due), every slip kind
EVENTS += [(P.REC_HELD, (P.REASON_LEAN if why == P.HELD_LEAN_OFF else P.REASON_SLOUCH, why))
           for why in range(P.HELD_CALIBRATING, P.HELD_CAP + 1)]
EVENTS += [(P.REC_HELD, (P.REASON_SLOUCH, P.HELD_EXERCISE)),
           (P.REC_HELD, (P.REASON_MOVE, P.HELD_OFF))]
EVENTS += [(P.REC_EXERCISE, (P.EXERCISE_PLANK, 0, 452, 461, 3)),
           (P.REC_EXERCISE, (P.EXERCISE_SIDE_PLANK_LEFT, 0, 301, 310, 1)),
           (P.REC_EXERCISE, (P.EXERCISE_SIDE_PLANK_RIGHT, 0, 298, 305, 9)),
           (P.REC_EXERCISE, (P.EXERCISE_BRIDGE, 12, 0, 388, 0)),
           (P.REC_EXERCISE, (P.EXERCISE_BACK_EXTENSION, 10, 0, 352, 0)),
           (P.REC_BREAK, (2710,))]
EVENTS += [(P.REC_SLIP, (P.SLIP_REANCHORED, 183)), (P.REC_SLIP, (P.SLIP_WORN_OFF, 0)),
           (P.REC_SLIP, (P.SLIP_PUT_ON, 0)), (P.REC_SLIP, (P.SLIP_UNDONE, 183))]
EVENTS += [(P.REC_FAULT, (code, detail)) for code, detail in (
    (P.FAULT_IMU_LOST, 0x6A), (P.FAULT_NO_HAPTIC, 0), (P.FAULT_TASK, P.TASK_SAMPLER),
    (P.FAULT_TASK, P.TASK_RADIO))]
EVENTS += [(P.REC_BOOT, (0, 2, 0, cause)) for cause in (
    P.RESET_CAUSE_UNKNOWN, P.RESET_CAUSE_POWER_ON, P.RESET_CAUSE_HARD, P.RESET_CAUSE_WATCHDOG,
    P.RESET_CAUSE_DEEP_SLEEP, P.RESET_CAUSE_SOFT)]


def record_vectors():
    out = []
    seq = 1000
    for rtype, values in EVENTS:
        flags = P.FLAG_WALL_CLOCK if seq % 2 else 0
        rec = P.pack_record(rtype, seq, 800000000 + seq, seq % 1000, flags,
                            P.event_payload(rtype, *values))
        out.append({"type": rtype, "seq": seq, "time_s": 800000000 + seq, "time_ms": seq % 1000,
                    "flags": flags, "values": list(values), "hex": hx(rec)})
        seq += 1
    pairs = [12, -3, 25, 0, -128, 127, 90, 5]
    rec = P.pack_record(P.REC_TRACE, seq, 12, 0, 0, P.trace_payload(1, pairs))
    out.append({"type": P.REC_TRACE, "seq": seq, "time_s": 12, "time_ms": 0, "flags": 0,
                "values": [1, [12, -3, 25, 0, -127, 127, 90, 5]], "hex": hx(rec)})
    return out


def log_vectors():
    recs = bytearray()
    for i, (rtype, values) in enumerate(EVENTS[:3]):
        recs += P.pack_record(rtype, 50 + i, 100 + i, 0, 0, P.event_payload(rtype, *values))
    return [{"kind": P.LOG_RECORDS, "frame": 3, "seqs": [50, 51, 52],
             "hex": hx(P.pack_log_records(3, recs))},
            {"kind": P.LOG_END, "frame": 4, "next_seq": 53, "reason": P.END_COMPLETE,
             "hex": hx(P.pack_log_end(4, 53, P.END_COMPLETE))}]


REPLIES = [
    (P.OP_GET_INFO, 1, P.ST_OK, (1, 0, 1, 0, 2, 3)),
    (P.OP_CALIBRATE, 2, P.ST_OK, (32000, 500, -300, 0, 87)),
    (P.OP_CALIBRATE, 3, P.ST_MOVING, ()),
    (P.OP_SET_CONFIG, 4, P.ST_OK, (1, 25)),
    (P.OP_SET_CONFIG, 5, P.ST_OUT_OF_RANGE, ()),
    (P.OP_GET_STATUS, 6, P.ST_OK, (3900, 76, 5, 86400)),
    (P.OP_LOG_INFO, 7, P.ST_OK, (10, 510, 500, 0)),
    (P.OP_LOG_SEND, 8, P.ST_OK, (10, 500)),
    (P.OP_LOG_ACK, 9, P.ST_OK, (200,)),
    (P.OP_LOG_SEND, 10, P.ST_NO_RECORDS, ()),
]


def reply_vectors():
    return [{"opcode": op, "token": tok, "status": st, "values": list(v),
             "hex": hx(P.pack_reply(op, tok, st, v))} for op, tok, st, v in REPLIES]


COMMANDS = [
    (P.OP_GET_INFO, 1, ()),
    (P.OP_CALIBRATE, 2, ()),
    (P.OP_GET_CONFIG, 3, (1,)),
    (P.OP_SET_CONFIG, 4, (3, 45)),
    (P.OP_SET_CONFIG, 5, (9, -1)),
    (P.OP_SNOOZE, 6, (30,)),
    (P.OP_BUZZ_TEST, 7, (2,)),
    (P.OP_SET_TIME, 8, (817000000, 250)),
    (P.OP_STREAM, 9, (P.STREAM_RAW, 200)),
    (P.OP_FACTORY_RESET, 10, (P.RESET_MAGIC,)),
    (P.OP_FORGET_BONDS, 11, ()),
    (P.OP_GET_STATUS, 12, ()),
    (P.OP_LOG_INFO, 13, ()),
    (P.OP_LOG_SEND, 14, (100, 0)),
    (P.OP_LOG_ACK, 15, (4294967295,)),
    (P.OP_LOG_ABORT, 255, ()),
]


def command_vectors():
    out = []
    for op, tok, args in COMMANDS:
        data = bytes((op, tok)) + struct.pack(P.COMMAND_ARGS[op], *args)
        p_op, p_tok, p_args = P.parse_command(data)  # the firmware parser must agree
        assert (p_op, p_tok, tuple(p_args)) == (op, tok, args)
        out.append({"opcode": op, "token": tok, "args": list(args), "hex": hx(data)})
    return out


def bad_command_vectors():
    # (request, status the firmware replies with) - the host never sends these
    out = []
    # malformed before any handler runs, so no device is needed
    for data in (b"", b"\x01", b"\x55\x00", b"\x04\x01\x01", b"\x0b\x02\x00"):
        reply = control.handle(None, data)
        out.append({"hex": hx(data), "reply": hx(reply) if reply is not None else None})
    return out


print(json.dumps({
    "protocol_version": P.PROTOCOL_VERSION,
    "uuids": {"service": P.SERVICE_UUID, "stream": P.STREAM_UUID, "events": P.EVENTS_UUID,
              "control": P.CONTROL_UUID, "log": P.LOG_UUID},
    "stream": stream_vectors(),
    "records": record_vectors(),
    "log": log_vectors(),
    "replies": reply_vectors(),
    "commands": command_vectors(),
    "bad_commands": bad_command_vectors(),
}))
