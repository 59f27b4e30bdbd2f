# Wire and flash formats of protocol v1; docs/protocol.md is the contract, byte by byte.
# Pure: packs and parses bytes, never touches a clock, pin or radio. Little-endian throughout.
import struct
from binascii import crc32

from micropython import const

PROTOCOL_VERSION = const(1)

# GATT: one custom service, four characteristics (128-bit UUIDs, see docs/protocol.md).
SERVICE_UUID = "7e5a0001-3c2d-4b8f-a1e6-1f0c9a2b6d40"
STREAM_UUID = "7e5a0002-3c2d-4b8f-a1e6-1f0c9a2b6d40"
EVENTS_UUID = "7e5a0003-3c2d-4b8f-a1e6-1f0c9a2b6d40"
CONTROL_UUID = "7e5a0004-3c2d-4b8f-a1e6-1f0c9a2b6d40"
LOG_UUID = "7e5a0005-3c2d-4b8f-a1e6-1f0c9a2b6d40"
DEVICE_NAME_PREFIX = "postureclip"

# --- stream frames ------------------------------------------------------------------------
STREAM_OFF = const(0)
STREAM_QUAT = const(1)
STREAM_RAW = const(2)
STREAM_HEADER = "<BBHIHB"  # version, kind, seq, t0_ms, period_us, count
STREAM_HEADER_SIZE = const(11)
QUAT_SAMPLE_SIZE = const(8)  # 4 x i16, unit quaternion x 32767
RAW_SAMPLE_SIZE = const(12)  # 3 x i16 accel (5 mm/s^2 per LSB), 3 x i16 gyro (1 mrad/s per LSB)
QUAT_SCALE = 32767.0
ACCEL_LSB = 0.005  # m/s^2
GYRO_LSB = 0.001  # rad/s
QUAT_MAX_HZ = const(50)
RAW_MAX_HZ = const(200)

# --- records (flash log, event notifications, log transfer) -------------------------------
RECORD_SYNC = const(0xA7)
RECORD_HEADER = "<BBBBIIH"  # sync, type, length, flags, seq, time_s, time_ms
RECORD_HEADER_SIZE = const(14)
RECORD_CRC_SIZE = const(4)
RECORD_OVERHEAD = const(18)
RECORD_MAX_PAYLOAD = const(200)
FLAG_WALL_CLOCK = const(0x01)  # time is UTC seconds since 2000-01-01, else seconds since boot

REC_BOOT = const(1)
REC_CALIBRATED = const(2)
REC_SLOUCH_START = const(3)
REC_SLOUCH_END = const(4)
REC_LIFT = const(5)
REC_BUZZ = const(6)
REC_LOW_BATTERY = const(7)
REC_TRACE = const(8)
REC_SUMMARY = const(9)
REC_TIME_SET = const(10)
REC_DROPPED = const(11)
REC_SNOOZE = const(12)
REC_FAULT = const(13)
REC_HELD = const(14)
REC_SLIP = const(15)
REC_EXERCISE = const(16)
REC_BREAK = const(17)

# Payload layouts by record type; TRACE is variable (header byte then i8 pairs).
RECORD_PAYLOAD = {
    REC_BOOT: "<BBBB",  # fw major, minor, patch, reset cause
    REC_CALIBRATED: "<hhhhh",  # neutral quaternion x32767 (w, x, y, z), mounting tilt 0.1 deg
    REC_SLOUCH_START: "<hh",  # flexion, lateral at start, 0.1 deg
    REC_SLOUCH_END: "<Ihhh",  # duration ms, peak flexion, mean flexion, peak lateral (0.1 deg)
    # duration ms, peak flexion, twist, peak lateral (0.1 deg), technique, flags
    REC_LIFT: "<HhhhBB",
    REC_BUZZ: "<BB",  # pattern, reason
    REC_LOW_BATTERY: "<HB",  # millivolts, percent
    REC_SUMMARY: "<HHHHBBB",  # span s, upright s, slouch s, moving s, lifts, stooped lifts, buzzes
    REC_TIME_SET: "<IB",  # previous time_s, previous flags
    REC_DROPPED: "<II",  # first dropped seq, number of records dropped
    REC_SNOOZE: "<H",  # minutes (0 = snooze cancelled)
    REC_FAULT: "<BB",  # fault code, detail
    REC_HELD: "<BB",  # the reason a buzz was due (REASON_*), why it was held back (HELD_*)
    REC_SLIP: "<Bh",  # SLIP_* kind, the clip's turn on the back (0.1 deg; 0 unless re-anchored)
    # EXERCISE_* kind, reps (0: a hold), held time 0.1 s, the set's span 0.1 s, a hold's
    # largest drift from its level (deg)
    REC_EXERCISE: "<BBHHB",
    REC_BREAK: "<I",  # the still stretch the break ended, s
}
TRACE_MAX_PAIRS = const(99)

# GET_INFO: the IMU kind
IMU_UNKNOWN = const(0)
IMU_MPU6050 = const(1)
IMU_LSM6DSOX = const(2)

# BOOT record: reset cause, as machine.reset_cause() numbers them on the ESP32 port
RESET_CAUSE_UNKNOWN = const(0)
RESET_CAUSE_POWER_ON = const(1)  # power-on, or a power cut / brown-out
RESET_CAUSE_HARD = const(2)  # the reset pin
RESET_CAUSE_WATCHDOG = const(3)
RESET_CAUSE_DEEP_SLEEP = const(4)
RESET_CAUSE_SOFT = const(5)  # machine.reset() or a soft reboot

# BUZZ record: the pattern played and why (every buzz the coaching gives is logged; the fault
# pattern's repeats are not: the FAULT record stands for them)
PATTERN_REMINDER = const(0)  # posture reminder: two soft pulses
PATTERN_LIFT = const(1)  # lift warning: short, short, long
PATTERN_CALIBRATED = const(2)  # calibration done: three ticks
PATTERN_LOW_BATTERY = const(3)  # one long soft pulse
PATTERN_FAULT = const(4)  # fault code, repeated every 10 s while an IMU fault lasts
PATTERN_RECALIBRATE = const(5)  # the clip moved on the back or was taken off: long, long, long
PATTERN_TICK = const(6)  # one short tick: well done (straightened after a reminder), a rep
# counted, 10 s more of a hold
PATTERN_MOVE = const(7)  # time to move: a slow swell, twice
PATTERN_FORM = const(8)  # check your form: four quick taps
PATTERN_TARGET = const(9)  # the programme's target reached: a rising triple
PATTERN_START = const(10)  # an exercise set recognised: two quick ticks
REASON_SLOUCH = const(1)
REASON_EXPOSURE = const(2)
REASON_LIFT_STOOP = const(3)
REASON_LIFT_TWIST = const(4)
REASON_TEST = const(5)
REASON_CALIBRATION = const(6)
REASON_LOW_BATTERY = const(7)
REASON_SLIP = const(8)  # the clip turned on the back and re-anchored itself
REASON_CORRECTED = const(9)  # straightened within CORRECTION_S of a posture reminder
REASON_LEAN = const(10)  # a lateral lean held past the delay (only with lean_buzz on)
REASON_PUT_ON = const(11)  # moved again after lying still off the body: recalibrate
REASON_MOVE = const(12)  # still for move_after_min without a break
REASON_EXERCISE = const(13)  # an exercise cue (a rep, a hold's ticks, its form)

# HELD record: why a due buzz was not given. Activity (the episode's clock stops; logged once
# per stretch of it), then the clip's state and the wearer's choices, in this order.
HELD_CALIBRATING = const(1)
HELD_LIFTING = const(2)  # mid-lift: the lift coach owns the moment
HELD_LYING = const(3)
HELD_WALKING = const(4)  # moving with a step rhythm
HELD_MOVING = const(5)  # moving without steps: a vehicle's braking and bumps, handling things
HELD_RECLINED = const(6)  # trunk back beyond 15 deg
HELD_STALE = const(7)  # calibration stale: never calibrated, or taken off since
HELD_BASELINE = const(8)  # coach_phase 0: the plan's baseline, measuring only
HELD_LEAN_OFF = const(9)  # a lean episode, lean_buzz is 0
HELD_QUIET = const(10)  # quiet hours
HELD_SNOOZED = const(11)  # snooze or timed pause
HELD_CAP = const(12)  # max_buzz_per_hour reached
HELD_EXERCISE = const(13)  # in an exercise set
HELD_OFF = const(14)  # no motion at all for a minute: the clip is off the body

# SLIP record kinds
SLIP_REANCHORED = const(1)  # turned on the back while the trunk held still: neutral turned too
SLIP_WORN_OFF = const(2)  # lay still off the body: calibration stale
SLIP_PUT_ON = const(3)  # moved again after SLIP_WORN_OFF
SLIP_UNDONE = const(4)  # the next walk contradicted a re-anchoring: the old neutral is back

EXERCISE_PLANK = const(1)
EXERCISE_SIDE_PLANK_LEFT = const(2)  # lying on the left side
EXERCISE_SIDE_PLANK_RIGHT = const(3)
EXERCISE_BRIDGE = const(4)
EXERCISE_BACK_EXTENSION = const(5)

# FAULT record codes; the detail byte: I2C address (1, 2), task number (4, TASK_*)
FAULT_NO_IMU = const(1)
FAULT_IMU_LOST = const(2)
FAULT_NO_HAPTIC = const(3)
FAULT_TASK = const(4)  # a task of the clip failed and was restarted
TASK_SAMPLER = const(1)
TASK_HAPTICS = const(2)
TASK_BUTTONS = const(3)
TASK_HOUSEKEEPING = const(4)
TASK_RADIO = const(5)

TECH_UNKNOWN = const(0)
TECH_SQUAT = const(1)
TECH_STOOP = const(2)
LIFT_FLAG_TWISTED = const(0x01)
LIFT_FLAG_LATERAL = const(0x02)

# --- control -------------------------------------------------------------------------------
OP_GET_INFO = const(0x01)
OP_CALIBRATE = const(0x02)
OP_GET_CONFIG = const(0x03)
OP_SET_CONFIG = const(0x04)
OP_SNOOZE = const(0x05)
OP_BUZZ_TEST = const(0x06)
OP_SET_TIME = const(0x07)
OP_STREAM = const(0x08)
OP_FACTORY_RESET = const(0x09)
OP_FORGET_BONDS = const(0x0A)
OP_GET_STATUS = const(0x0B)
OP_LOG_INFO = const(0x10)
OP_LOG_SEND = const(0x11)
OP_LOG_ACK = const(0x12)
OP_LOG_ABORT = const(0x13)
REPLY_BIT = const(0x80)

# Request payload layout per opcode (after opcode and token).
COMMAND_ARGS = {
    OP_GET_INFO: "<",
    OP_CALIBRATE: "<",
    OP_GET_CONFIG: "<B",  # key
    OP_SET_CONFIG: "<Bi",  # key, value
    OP_SNOOZE: "<H",  # minutes, 0 cancels
    OP_BUZZ_TEST: "<B",  # pattern
    OP_SET_TIME: "<IH",  # UTC seconds since 2000-01-01, milliseconds
    OP_STREAM: "<BH",  # mode, rate Hz
    OP_FACTORY_RESET: "<I",  # must be RESET_MAGIC
    OP_FORGET_BONDS: "<",
    OP_GET_STATUS: "<",
    OP_LOG_INFO: "<",
    OP_LOG_SEND: "<II",  # first seq, max records (0 = all)
    OP_LOG_ACK: "<I",  # acknowledge every record with seq <= this
    OP_LOG_ABORT: "<",
}
RESET_MAGIC = const(0x54455352)  # b"RSET" little-endian

# GET_STATUS state bits
STATE_FAULT = const(0x01)  # a FAULT since boot that has not cleared (IMU, haptic, a task)
STATE_CALIBRATED = const(0x02)
STATE_CALIBRATING = const(0x04)
STATE_SNOOZED = const(0x08)
STATE_STREAMING = const(0x10)
STATE_WALL_CLOCK = const(0x20)  # SET_TIME was received since boot
STATE_LOW_BATTERY = const(0x40)  # below 3.5 V

# Reply payload layout per opcode on success (after opcode|0x80, token, status).
REPLY_ARGS = {
    OP_GET_INFO: "<BBBBBH",  # protocol, fw major, minor, patch, imu kind, feature bits
    OP_CALIBRATE: "<hhhhh",  # as REC_CALIBRATED
    OP_GET_CONFIG: "<Bi",
    OP_SET_CONFIG: "<Bi",
    OP_SNOOZE: "<H",
    OP_BUZZ_TEST: "<B",
    OP_SET_TIME: "<IH",
    OP_STREAM: "<BH",
    OP_FACTORY_RESET: "<",
    OP_FORGET_BONDS: "<",
    OP_GET_STATUS: "<HBBI",  # battery mV, battery %, state bits, uptime s
    OP_LOG_INFO: "<IIII",  # first stored seq, next seq, stored records, dropped records
    OP_LOG_SEND: "<II",  # first seq that will be sent, records that will be sent
    OP_LOG_ACK: "<I",  # first stored seq after trimming
    OP_LOG_ABORT: "<",
}

ST_OK = const(0)
ST_UNKNOWN_OPCODE = const(1)
ST_BAD_LENGTH = const(2)
ST_OUT_OF_RANGE = const(3)
ST_BUSY = const(4)
ST_MOVING = const(5)
ST_NOT_CALIBRATED = const(6)
ST_NO_RECORDS = const(7)
ST_MTU_TOO_SMALL = const(8)
ST_NO_SENSOR = const(9)
ST_FAILED = const(10)

# --- log transfer frames (notifications on LOG_UUID) ---------------------------------------
LOG_RECORDS = const(1)
LOG_END = const(2)
LOG_HEADER = "<BBH"  # version, kind, frame counter
LOG_HEADER_SIZE = const(4)
LOG_END_ARGS = "<IB"  # next seq after the last sent, reason
END_COMPLETE = const(0)
END_ABORTED = const(1)
END_ERROR = const(2)


class CommandError(Exception):
    """A control request that cannot be executed; ``status`` is the reply's status code."""

    def __init__(self, status, message=""):
        super().__init__(message)
        self.status = status


def clamp_i16(v):
    if v > 32767:
        return 32767
    if v < -32768:
        return -32768
    return v


# --- stream ---------------------------------------------------------------------------------
def stream_capacity(kind, mtu):
    """Samples of ``kind`` that fit one notification at ATT ``mtu`` (payload = mtu - 3)."""
    size = QUAT_SAMPLE_SIZE if kind == STREAM_QUAT else RAW_SAMPLE_SIZE
    n = (mtu - 3 - STREAM_HEADER_SIZE) // size
    return n if n < 255 else 255


def pack_stream_header(buf, kind, seq, t0_ms, period_us, count):
    struct.pack_into(STREAM_HEADER, buf, 0, PROTOCOL_VERSION, kind, seq & 0xFFFF,
                     t0_ms & 0xFFFFFFFF, period_us, count)


def pack_quat_sample(buf, index, w, x, y, z):
    """Write sample ``index`` of a QUAT frame in ``buf`` (no allocation)."""
    struct.pack_into("<hhhh", buf, STREAM_HEADER_SIZE + index * QUAT_SAMPLE_SIZE,
                     clamp_i16(round(w * QUAT_SCALE)), clamp_i16(round(x * QUAT_SCALE)),
                     clamp_i16(round(y * QUAT_SCALE)), clamp_i16(round(z * QUAT_SCALE)))


def pack_raw_sample(buf, index, ax, ay, az, gx, gy, gz):
    """Write sample ``index`` of a RAW frame: accel m/s^2, gyro rad/s, sensor frame."""
    struct.pack_into("<hhhhhh", buf, STREAM_HEADER_SIZE + index * RAW_SAMPLE_SIZE,
                     clamp_i16(round(ax / ACCEL_LSB)), clamp_i16(round(ay / ACCEL_LSB)),
                     clamp_i16(round(az / ACCEL_LSB)), clamp_i16(round(gx / GYRO_LSB)),
                     clamp_i16(round(gy / GYRO_LSB)), clamp_i16(round(gz / GYRO_LSB)))


STREAM_MIN_SPAN_MS = const(30)  # a batch covers at least this long: notifications are spaced


def stream_samples_needed(rate):
    """Samples a batch needs at ``rate`` Hz to span STREAM_MIN_SPAN_MS (at least one)."""
    n = (rate * STREAM_MIN_SPAN_MS + 999) // 1000
    return n if n > 1 else 1


def stream_min_mtu(kind, rate):
    """The smallest ATT MTU at which ``kind`` can stream at ``rate`` Hz."""
    return 3 + stream_frame_size(kind, stream_samples_needed(rate))


def stream_frame_size(kind, count):
    size = QUAT_SAMPLE_SIZE if kind == STREAM_QUAT else RAW_SAMPLE_SIZE
    return STREAM_HEADER_SIZE + count * size


# --- records --------------------------------------------------------------------------------
def pack_record_into(buf, offset, rtype, seq, time_s, time_ms, flags, payload):
    """Write one record at ``offset`` of ``buf``; return its total size."""
    n = len(payload)
    if n > RECORD_MAX_PAYLOAD:
        raise ValueError("record payload too long")
    struct.pack_into(RECORD_HEADER, buf, offset, RECORD_SYNC, rtype, n, flags,
                     seq, time_s, time_ms)
    end = offset + RECORD_HEADER_SIZE
    buf[end:end + n] = payload
    end += n
    struct.pack_into("<I", buf, end, crc32(memoryview(buf)[offset:end]))
    return RECORD_OVERHEAD + n


def pack_record(rtype, seq, time_s, time_ms, flags, payload):
    buf = bytearray(RECORD_OVERHEAD + len(payload))
    pack_record_into(buf, 0, rtype, seq, time_s, time_ms, flags, payload)
    return bytes(buf)


def event_payload(rtype, *values):
    """Payload of a fixed-layout record type from its field values (see RECORD_PAYLOAD)."""
    return struct.pack(RECORD_PAYLOAD[rtype], *values)


def trace_payload(interval_s, pairs):
    """TRACE payload: ``interval_s`` then (flexion, lateral) in whole degrees, clamped to i8."""
    n = len(pairs) // 2
    if n > TRACE_MAX_PAIRS:
        raise ValueError("too many trace samples")
    out = bytearray(1 + 2 * n)
    out[0] = interval_s
    for i in range(2 * n):
        v = pairs[i]
        v = 127 if v > 127 else (-127 if v < -127 else v)
        out[1 + i] = v & 0xFF
    return bytes(out)


def parse_record(buf, offset=0):
    """Parse one record at ``offset``.

    Returns ``(size, rtype, seq, time_s, time_ms, flags, payload_memoryview)``; ``size`` is 0
    when ``buf`` ends inside the record (a torn tail) and -1 when the bytes there are not a
    valid record (bad sync, length or CRC).
    """
    avail = len(buf) - offset
    if avail < RECORD_HEADER_SIZE:
        return (0, 0, 0, 0, 0, 0, None)
    sync, rtype, n, flags, seq, time_s, time_ms = struct.unpack_from(RECORD_HEADER, buf, offset)
    if sync != RECORD_SYNC or n > RECORD_MAX_PAYLOAD:
        return (-1, 0, 0, 0, 0, 0, None)
    size = RECORD_OVERHEAD + n
    if avail < size:
        return (0, 0, 0, 0, 0, 0, None)
    mv = memoryview(buf)
    end = offset + RECORD_HEADER_SIZE + n
    (crc,) = struct.unpack_from("<I", buf, end)
    if crc != crc32(mv[offset:end]):
        return (-1, 0, 0, 0, 0, 0, None)
    return (size, rtype, seq, time_s, time_ms, flags, mv[offset + RECORD_HEADER_SIZE:end])


# --- control --------------------------------------------------------------------------------
def parse_command(data):
    """Split a control write into ``(opcode, token, args)``.

    Raises CommandError(ST_UNKNOWN_OPCODE / ST_BAD_LENGTH) for a malformed request; the
    token is still recoverable from byte 1 for the reply when at least 2 bytes arrived.
    """
    if len(data) < 2:
        raise CommandError(ST_BAD_LENGTH, "request shorter than opcode and token")
    op = data[0]
    fmt = COMMAND_ARGS.get(op)
    if fmt is None:
        raise CommandError(ST_UNKNOWN_OPCODE, "unknown opcode 0x%02x" % op)
    if len(data) - 2 != struct.calcsize(fmt):
        raise CommandError(ST_BAD_LENGTH, "opcode 0x%02x takes %d argument bytes, got %d"
                           % (op, struct.calcsize(fmt), len(data) - 2))
    return op, data[1], struct.unpack_from(fmt, data, 2)


def pack_reply(op, token, status, values=()):
    """Reply notification: opcode|0x80, token, status, then REPLY_ARGS[op] when status is OK."""
    if status != ST_OK:
        return bytes((op | REPLY_BIT, token & 0xFF, status))
    fmt = REPLY_ARGS.get(op, "<")
    return bytes((op | REPLY_BIT, token & 0xFF, status)) + struct.pack(fmt, *values)


# --- log transfer ---------------------------------------------------------------------------
def pack_log_header(buf, kind, frame):
    struct.pack_into(LOG_HEADER, buf, 0, PROTOCOL_VERSION, kind, frame & 0xFFFF)


def pack_log_end(frame, next_seq, reason):
    buf = bytearray(LOG_HEADER_SIZE + 5)
    pack_log_header(buf, LOG_END, frame)
    struct.pack_into(LOG_END_ARGS, buf, LOG_HEADER_SIZE, next_seq, reason)
    return bytes(buf)


def pack_log_records(frame, records):
    """A RECORDS notification carrying ``records`` (already packed, back to back)."""
    buf = bytearray(LOG_HEADER_SIZE + len(records))
    pack_log_header(buf, LOG_RECORDS, frame)
    buf[LOG_HEADER_SIZE:] = records
    return bytes(buf)
