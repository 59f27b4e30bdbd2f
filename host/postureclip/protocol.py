"""Protocol v1 between clip and host, decoded with the host's own code (docs/protocol.md).

Mirrors ``firmware/clip/protocol.py``; the two are kept honest by test vectors that the
firmware itself produces under MicroPython (``tests/vectors/protocol_v1.json``). Every
malformed input raises :class:`~postureclip.errors.ProtocolError` saying what and where;
nothing else escapes the decoders.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field
from enum import IntEnum, IntFlag
from typing import Any, Final

import numpy as np
import numpy.typing as npt

from .errors import ProtocolError

PROTOCOL_VERSION: Final = 1

SERVICE_UUID: Final = "7e5a0001-3c2d-4b8f-a1e6-1f0c9a2b6d40"
STREAM_UUID: Final = "7e5a0002-3c2d-4b8f-a1e6-1f0c9a2b6d40"
EVENTS_UUID: Final = "7e5a0003-3c2d-4b8f-a1e6-1f0c9a2b6d40"
CONTROL_UUID: Final = "7e5a0004-3c2d-4b8f-a1e6-1f0c9a2b6d40"
LOG_UUID: Final = "7e5a0005-3c2d-4b8f-a1e6-1f0c9a2b6d40"
BATTERY_SERVICE_UUID: Final = "0000180f-0000-1000-8000-00805f9b34fb"
BATTERY_LEVEL_UUID: Final = "00002a19-0000-1000-8000-00805f9b34fb"
DEVICE_INFO_UUID: Final = "0000180a-0000-1000-8000-00805f9b34fb"
DEVICE_NAME_PREFIX: Final = "postureclip"


class StreamKind(IntEnum):
    """Stream modes (since protocol v1)."""

    OFF = 0
    QUAT = 1
    RAW = 2


class RecordType(IntEnum):
    """Record types of the flash log and event notifications (since protocol v1)."""

    BOOT = 1
    CALIBRATED = 2
    SLOUCH_START = 3
    SLOUCH_END = 4
    LIFT = 5
    BUZZ = 6
    LOW_BATTERY = 7
    TRACE = 8
    SUMMARY = 9
    TIME_SET = 10
    DROPPED = 11
    SNOOZE = 12
    FAULT = 13
    HELD = 14
    SLIP = 15
    EXERCISE = 16
    BREAK = 17


class Opcode(IntEnum):
    """Control opcodes (since protocol v1)."""

    GET_INFO = 0x01
    CALIBRATE = 0x02
    GET_CONFIG = 0x03
    SET_CONFIG = 0x04
    SNOOZE = 0x05
    BUZZ_TEST = 0x06
    SET_TIME = 0x07
    STREAM = 0x08
    FACTORY_RESET = 0x09
    FORGET_BONDS = 0x0A
    GET_STATUS = 0x0B
    LOG_INFO = 0x10
    LOG_SEND = 0x11
    LOG_ACK = 0x12
    LOG_ABORT = 0x13


class Status(IntEnum):
    """Reply status codes (since protocol v1)."""

    OK = 0
    UNKNOWN_OPCODE = 1
    BAD_LENGTH = 2
    OUT_OF_RANGE = 3
    BUSY = 4
    MOVING = 5
    NOT_CALIBRATED = 6
    NO_RECORDS = 7
    MTU_TOO_SMALL = 8
    NO_SENSOR = 9
    FAILED = 10


class StateBit(IntFlag):
    """GET_STATUS state bits."""

    FAULT = 0x01
    CALIBRATED = 0x02
    CALIBRATING = 0x04
    SNOOZED = 0x08
    STREAMING = 0x10
    WALL_CLOCK = 0x20
    LOW_BATTERY = 0x40


class BuzzPattern(IntEnum):
    """The haptic pattern of a BUZZ record (and of BUZZ_TEST, which plays all but FAULT)."""

    REMINDER = 0
    LIFT = 1
    CALIBRATED = 2
    LOW_BATTERY = 3
    FAULT = 4
    RECALIBRATE = 5
    TICK = 6
    MOVE = 7
    FORM = 8
    TARGET = 9
    START = 10


class BuzzReason(IntEnum):
    """Why the clip buzzed (BUZZ record)."""

    SLOUCH = 1
    EXPOSURE = 2
    LIFT_STOOP = 3
    LIFT_TWIST = 4
    TEST = 5
    CALIBRATION = 6
    LOW_BATTERY = 7
    SLIP = 8
    CORRECTED = 9
    LEAN = 10
    PUT_ON = 11
    MOVE = 12
    EXERCISE = 13


class HeldReason(IntEnum):
    """Why a due buzz was held back (HELD record; docs/protocol.md)."""

    CALIBRATING = 1
    LIFTING = 2
    LYING = 3
    WALKING = 4
    MOVING = 5
    RECLINED = 6
    STALE = 7
    BASELINE = 8
    LEAN_OFF = 9
    QUIET = 10
    SNOOZED = 11
    CAP = 12
    EXERCISE = 13
    OFF = 14


class SlipKind(IntEnum):
    """SLIP record kinds."""

    REANCHORED = 1
    WORN_OFF = 2
    PUT_ON = 3
    UNDONE = 4


class ExerciseKind(IntEnum):
    """EXERCISE record kinds (the names are analyze's ``exercise_sets[].kind``)."""

    PLANK = 1
    SIDE_PLANK_LEFT = 2
    SIDE_PLANK_RIGHT = 3
    BRIDGE = 4
    BACK_EXTENSION = 5


class FaultCode(IntEnum):
    """FAULT record codes."""

    NO_IMU = 1
    IMU_LOST = 2
    NO_HAPTIC = 3
    TASK = 4


class ClipTask(IntEnum):
    """The detail byte of FAULT TASK: which task of the clip failed (and was restarted)."""

    SAMPLER = 1
    HAPTICS = 2
    BUTTONS = 3
    HOUSEKEEPING = 4
    RADIO = 5


class ResetCause(IntEnum):
    """BOOT record: machine.reset_cause() of MicroPython's ESP32 port (0: unknown)."""

    UNKNOWN = 0
    POWER_ON = 1
    HARD = 2
    WATCHDOG = 3
    DEEP_SLEEP = 4
    SOFT = 5


class ImuKind(IntEnum):
    """GET_INFO's IMU kind."""

    UNKNOWN = 0
    MPU6050 = 1
    LSM6DSOX = 2


@dataclass(frozen=True)
class Setting:
    """One of the clip's settings (docs/protocol.md, Settings): integers within lo..hi."""

    key: int
    name: str
    default: int
    lo: int
    hi: int
    unit: str
    meaning: str

    def check(self, value: int) -> None:
        """Raise OutOfRange, in words a person acts on, for a value outside lo..hi."""
        from .errors import OutOfRange

        if not self.lo <= value <= self.hi:
            unit = f" {self.unit}" if self.unit and self.unit != "°" else self.unit
            raise OutOfRange(f"{self.name} must be between {self.lo} and {self.hi}{unit} "
                             f"({value} given); nothing was changed", Status.OUT_OF_RANGE)


SETTINGS: Final[tuple[Setting, ...]] = (
    Setting(1, "slouch_deg", 20, 5, 45, "°", "flexion beyond neutral that counts as slouching"),
    Setting(2, "lean_deg", 15, 5, 45, "°", "lateral bend that counts as leaning"),
    Setting(3, "slouch_delay_s", 30, 3, 600, "s", "episode time before the first buzz"),
    Setting(4, "hysteresis_deg", 3, 1, 10, "°", "an episode ends below threshold minus this"),
    Setting(5, "repeat_s", 60, 10, 3600, "s", "time between buzzes while still slouched"),
    Setting(6, "max_buzz_per_hour", 6, 0, 60, "", "cap on posture buzzes in any sliding hour"),
    Setting(7, "exposure_mode", 0, 0, 1, "", "1: buzz on cumulative slouch time in a window"),
    Setting(8, "exposure_window_s", 1800, 60, 14400, "s", "window of the exposure mode"),
    Setting(9, "exposure_limit_s", 300, 10, 14400, "s",
            "slouch time within the window that buzzes (at most the window)"),
    Setting(10, "intensity_pct", 80, 10, 100, "%", "haptic strength"),
    Setting(11, "lift_coach", 1, 0, 1, "", "buzz after stooped or twisted lifts"),
    Setting(12, "twist_deg", 30, 15, 90, "°", "axial rotation that makes a lift twisted"),
    Setting(13, "require_encryption", 1, 0, 1, "",
            "control and log need an encrypted link (0 only for development)"),
    Setting(14, "trace_interval_s", 1, 1, 60, "s", "period of the angle trace in the log"),
    Setting(15, "lean_buzz", 0, 0, 1, "", "buzz for a lateral lean held past the delay too"),
    Setting(16, "quiet_start_min", 0, 0, 1439, "min", "quiet hours from (local minutes after "
            "midnight; equal to quiet_end_min: none)"),
    Setting(17, "quiet_end_min", 0, 0, 1439, "min", "quiet hours until (local minutes)"),
    Setting(18, "utc_offset_min", 0, -720, 840, "min", "local time = UTC + this (sync sets it)"),
    Setting(19, "coach_phase", 1, 0, 1, "", "0: baseline, measuring only; 1: coaching"),
    Setting(20, "positive_tick", 0, 0, 1, "", "a tick when you straighten after a reminder"),
    Setting(21, "move_after_min", 30, 0, 240, "min",
            "still this long without a break: a reminder to move (0: none)"),
    Setting(22, "exercise_cues", 1, 0, 1, "", "ticks for reps and holds, the form cue"),
    Setting(23, "hold_target_s", 0, 0, 600, "s",
            "a hold this long plays the target pattern (the exercise programme sets it)"),
    Setting(24, "rep_target", 0, 0, 50, "", "a set of this many repetitions plays the target"),
)


def setting(name_or_key: str | int) -> Setting:
    """The setting called ``name_or_key`` (or with that key); OutOfRange names the known ones."""
    from .errors import OutOfRange

    for s in SETTINGS:
        if name_or_key in (s.name, s.key):
            return s
    raise OutOfRange(f"there is no setting {name_or_key!r}; the settings are: "
                     + ", ".join(s.name for s in SETTINGS), Status.OUT_OF_RANGE)


class Technique(IntEnum):
    UNKNOWN = 0
    SQUAT = 1
    STOOP = 2


class LogFrameKind(IntEnum):
    RECORDS = 1
    END = 2


class EndReason(IntEnum):
    COMPLETE = 0
    ABORTED = 1
    ERROR = 2


RESET_MAGIC: Final = 0x54455352
QUAT_SCALE: Final = 32767.0
ACCEL_LSB: Final = 0.005  # m/s^2 per count
GYRO_LSB: Final = 0.001  # rad/s per count
ANGLE_LSB: Final = 0.1  # degrees per count in event payloads

_STREAM_HEADER = struct.Struct("<BBHIHB")
_SAMPLE_SIZE = {StreamKind.QUAT: 8, StreamKind.RAW: 12}
_RECORD_HEADER = struct.Struct("<BBBBIIH")
RECORD_SYNC: Final = 0xA7
RECORD_OVERHEAD: Final = _RECORD_HEADER.size + 4
RECORD_MAX_PAYLOAD: Final = 200
FLAG_WALL_CLOCK: Final = 0x01
_LOG_HEADER = struct.Struct("<BBH")
_LOG_END = struct.Struct("<IB")

_PAYLOAD: Final[dict[RecordType, str]] = {
    RecordType.BOOT: "<BBBB",
    RecordType.CALIBRATED: "<hhhhh",
    RecordType.SLOUCH_START: "<hh",
    RecordType.SLOUCH_END: "<Ihhh",
    RecordType.LIFT: "<HhhhBB",
    RecordType.BUZZ: "<BB",
    RecordType.LOW_BATTERY: "<HB",
    RecordType.SUMMARY: "<HHHHBBB",
    RecordType.TIME_SET: "<IB",
    RecordType.DROPPED: "<II",
    RecordType.SNOOZE: "<H",
    RecordType.FAULT: "<BB",
    RecordType.HELD: "<BB",
    RecordType.SLIP: "<Bh",
    RecordType.EXERCISE: "<BBHHB",
    RecordType.BREAK: "<I",
}

_COMMAND_ARGS: Final[dict[Opcode, str]] = {
    Opcode.GET_INFO: "<",
    Opcode.CALIBRATE: "<",
    Opcode.GET_CONFIG: "<B",
    Opcode.SET_CONFIG: "<Bi",
    Opcode.SNOOZE: "<H",
    Opcode.BUZZ_TEST: "<B",
    Opcode.SET_TIME: "<IH",
    Opcode.STREAM: "<BH",
    Opcode.FACTORY_RESET: "<I",
    Opcode.FORGET_BONDS: "<",
    Opcode.GET_STATUS: "<",
    Opcode.LOG_INFO: "<",
    Opcode.LOG_SEND: "<II",
    Opcode.LOG_ACK: "<I",
    Opcode.LOG_ABORT: "<",
}

_REPLY_ARGS: Final[dict[Opcode, str]] = {
    Opcode.GET_INFO: "<BBBBBH",
    Opcode.CALIBRATE: "<hhhhh",
    Opcode.GET_CONFIG: "<Bi",
    Opcode.SET_CONFIG: "<Bi",
    Opcode.SNOOZE: "<H",
    Opcode.BUZZ_TEST: "<B",
    Opcode.SET_TIME: "<IH",
    Opcode.STREAM: "<BH",
    Opcode.FACTORY_RESET: "<",
    Opcode.FORGET_BONDS: "<",
    Opcode.GET_STATUS: "<HBBI",
    Opcode.LOG_INFO: "<IIII",
    Opcode.LOG_SEND: "<II",
    Opcode.LOG_ACK: "<I",
    Opcode.LOG_ABORT: "<",
}

#: Samples of a decoded stream batch: device time in s (unwrapped per batch only), then
#: either the quaternion (w, x, y, z; sensor frame to z-up earth frame) or accel (m/s^2) and
#: gyro (rad/s) in the sensor frame.
QUAT_DTYPE: Final = np.dtype([("t", "f8"), ("qw", "f8"), ("qx", "f8"), ("qy", "f8"),
                              ("qz", "f8")])
RAW_DTYPE: Final = np.dtype([("t", "f8"), ("ax", "f8"), ("ay", "f8"), ("az", "f8"),
                             ("gx", "f8"), ("gy", "f8"), ("gz", "f8")])


def _version_check(version: int, where: str) -> None:
    if version != PROTOCOL_VERSION:
        raise ProtocolError(f"protocol version {version}, this host speaks {PROTOCOL_VERSION}; "
                            "update the host package or the clip firmware", f"{where}, byte 0")


@dataclass(frozen=True)
class StreamBatch:
    """One stream notification: ``count`` samples ``period_us`` apart from ``t0_ms``."""

    kind: StreamKind
    seq: int
    t0_ms: int
    period_us: int
    samples: npt.NDArray[np.void] = field(repr=False)


def decode_stream(frame: bytes | bytearray | memoryview) -> StreamBatch:
    """Decode a stream notification into a numpy structured array (QUAT_DTYPE or RAW_DTYPE)."""
    frame = bytes(frame)
    where = "stream frame"
    if len(frame) < _STREAM_HEADER.size:
        raise ProtocolError(f"{len(frame)} bytes, shorter than the {_STREAM_HEADER.size}-byte "
                            "header", where)
    version, kind, seq, t0_ms, period_us, count = _STREAM_HEADER.unpack_from(frame)
    _version_check(version, where)
    try:
        skind = StreamKind(kind)
    except ValueError:
        raise ProtocolError(f"unknown stream kind {kind}", f"{where}, byte 1") from None
    if skind is StreamKind.OFF:
        raise ProtocolError("stream kind OFF carries no samples", f"{where}, byte 1")
    if period_us == 0:
        raise ProtocolError("sample period 0 us", f"{where}, byte 8")
    size = _SAMPLE_SIZE[skind]
    expected = _STREAM_HEADER.size + count * size
    if len(frame) != expected:
        raise ProtocolError(f"count {count} needs {expected} bytes, frame has {len(frame)}",
                            f"{where}, byte 10")
    raw = np.frombuffer(frame, dtype="<i2", offset=_STREAM_HEADER.size).reshape(count, size // 2)
    t = t0_ms / 1000.0 + np.arange(count) * (period_us / 1e6)
    if skind is StreamKind.QUAT:
        out = np.empty(count, QUAT_DTYPE)
        q = raw / QUAT_SCALE
        for i, name in enumerate(("qw", "qx", "qy", "qz")):
            out[name] = q[:, i]
    else:
        out = np.empty(count, RAW_DTYPE)
        for i, name in enumerate(("ax", "ay", "az")):
            out[name] = raw[:, i] * ACCEL_LSB
        for i, name in enumerate(("gx", "gy", "gz")):
            out[name] = raw[:, 3 + i] * GYRO_LSB
    out["t"] = t
    return StreamBatch(skind, seq, t0_ms, period_us, out)


@dataclass(frozen=True)
class Record:
    """One log/event record. ``time_s`` counts from 2000-01-01 UTC when ``wall_clock``, else
    from the clip's boot. ``rtype`` is an int for types newer than this host knows."""

    rtype: RecordType | int
    seq: int
    time_s: int
    time_ms: int
    wall_clock: bool
    payload: bytes

    @property
    def time(self) -> float:
        return self.time_s + self.time_ms / 1000.0

    def fields(self) -> dict[str, Any]:
        """The payload as named values in degrees, seconds and plain words."""
        return decode_payload(self.rtype, self.payload)

    def encode(self) -> bytes:
        return encode_record(int(self.rtype), self.seq, self.time_s, self.time_ms,
                             FLAG_WALL_CLOCK if self.wall_clock else 0, self.payload)


def encode_record(rtype: int, seq: int, time_s: int, time_ms: int, flags: int,
                  payload: bytes) -> bytes:
    if len(payload) > RECORD_MAX_PAYLOAD:
        raise ProtocolError(f"payload of {len(payload)} bytes exceeds {RECORD_MAX_PAYLOAD}")
    head = _RECORD_HEADER.pack(RECORD_SYNC, rtype, len(payload), flags, seq, time_s, time_ms)
    body = head + payload
    return body + struct.pack("<I", zlib.crc32(body))


def decode_record(buf: bytes, offset: int = 0, where: str = "record") -> tuple[Record, int]:
    """Decode the record at ``offset``; return it and its size in bytes."""
    avail = len(buf) - offset
    loc = f"{where}, byte {offset}"
    if avail < RECORD_OVERHEAD:
        raise ProtocolError(f"truncated: {avail} bytes left, a record needs at least "
                            f"{RECORD_OVERHEAD}", loc)
    sync, rtype, n, flags, seq, time_s, time_ms = _RECORD_HEADER.unpack_from(buf, offset)
    if sync != RECORD_SYNC:
        raise ProtocolError(f"sync byte 0x{sync:02x}, expected 0x{RECORD_SYNC:02x}", loc)
    if n > RECORD_MAX_PAYLOAD:
        raise ProtocolError(f"payload length {n} exceeds {RECORD_MAX_PAYLOAD}", loc)
    size = RECORD_OVERHEAD + n
    if avail < size:
        raise ProtocolError(f"truncated: record needs {size} bytes, {avail} left", loc)
    end = offset + _RECORD_HEADER.size + n
    (crc,) = struct.unpack_from("<I", buf, end)
    if crc != zlib.crc32(buf[offset:end]):
        raise ProtocolError(f"CRC mismatch in record seq {seq}", loc)
    if flags & ~FLAG_WALL_CLOCK:
        raise ProtocolError(f"reserved flag bits set (0x{flags:02x})", f"{where}, byte "
                            f"{offset + 3}")
    if time_ms > 999:
        raise ProtocolError(f"milliseconds field {time_ms} > 999", f"{where}, byte {offset + 12}")
    try:
        kind: RecordType | int = RecordType(rtype)
    except ValueError:
        kind = rtype  # newer type: kept verbatim, see docs/protocol.md "Versioning"
    payload = bytes(buf[offset + _RECORD_HEADER.size:end])
    rec = Record(kind, seq, time_s, time_ms, bool(flags & FLAG_WALL_CLOCK), payload)
    _check_payload(rec, loc)
    return rec, size


def _check_payload(rec: Record, loc: str) -> None:
    if not isinstance(rec.rtype, RecordType):
        return
    if rec.rtype is RecordType.TRACE:
        if len(rec.payload) < 1 or len(rec.payload) % 2 != 1:
            raise ProtocolError(f"TRACE payload of {len(rec.payload)} bytes is not 1 + 2n", loc)
        if rec.payload[0] == 0:
            raise ProtocolError("TRACE interval of 0 s", loc)
        return
    want = struct.calcsize(_PAYLOAD[rec.rtype])
    if len(rec.payload) != want:
        raise ProtocolError(f"{rec.rtype.name} payload has {len(rec.payload)} bytes, "
                            f"expected {want}", loc)


def complete_records(buf: bytes) -> list[tuple[int, Record, bytes]]:
    """(offset, record, its bytes) of the complete records at the start of ``buf``, up to the
    first one that is torn or invalid: a flash segment after a power cut, as the clip reads
    it at boot (docs/protocol.md, Flash log)."""
    out = []
    offset = 0
    while offset < len(buf):
        try:
            rec, size = decode_record(buf, offset)
        except ProtocolError:
            break
        out.append((offset, rec, bytes(buf[offset:offset + size])))
        offset += size
    return out


def decode_records(buf: bytes, where: str = "records") -> list[Record]:
    """Decode back-to-back records filling ``buf`` exactly."""
    out: list[Record] = []
    offset = 0
    while offset < len(buf):
        rec, size = decode_record(buf, offset, where)
        out.append(rec)
        offset += size
    return out


def decode_payload(rtype: RecordType | int, payload: bytes) -> dict[str, Any]:
    """Named payload values of a record; ``{"raw": hex}`` for types this host does not know."""
    if not isinstance(rtype, RecordType):
        return {"raw": payload.hex()}
    if rtype is RecordType.TRACE:
        values = np.frombuffer(payload, dtype="i1", offset=1).reshape(-1, 2).astype(float)
        return {"interval_s": payload[0], "flexion_deg": values[:, 0].tolist(),
                "lateral_deg": values[:, 1].tolist()}
    v = struct.unpack(_PAYLOAD[rtype], payload)
    a = ANGLE_LSB
    match rtype:
        case RecordType.BOOT:
            return {"firmware": f"{v[0]}.{v[1]}.{v[2]}", "reset_cause": v[3],
                    "reset_cause_name": _name(ResetCause, v[3])}
        case RecordType.CALIBRATED:
            return {"neutral_quat": [x / QUAT_SCALE for x in v[:4]], "mount_tilt_deg": v[4] * a}
        case RecordType.SLOUCH_START:
            return {"flexion_deg": v[0] * a, "lateral_deg": v[1] * a}
        case RecordType.SLOUCH_END:
            return {"duration_s": v[0] / 1000.0, "peak_flexion_deg": v[1] * a,
                    "mean_flexion_deg": v[2] * a, "peak_lateral_deg": v[3] * a}
        case RecordType.LIFT:
            return {"duration_s": v[0] / 1000.0, "peak_flexion_deg": v[1] * a,
                    "twist_deg": v[2] * a, "peak_lateral_deg": v[3] * a,
                    "technique": _technique_name(v[4]), "twisted": bool(v[5] & 1),
                    "lateral": bool(v[5] & 2)}
        case RecordType.BUZZ:
            return {"pattern": v[0], "reason": v[1], "pattern_name": _name(BuzzPattern, v[0]),
                    "reason_name": _name(BuzzReason, v[1])}
        case RecordType.LOW_BATTERY:
            return {"millivolts": v[0], "percent": v[1]}
        case RecordType.SUMMARY:
            return {"span_s": v[0], "upright_s": v[1], "slouch_s": v[2], "moving_s": v[3],
                    "lifts": v[4], "stooped_lifts": v[5], "buzzes": v[6]}
        case RecordType.TIME_SET:
            return {"previous_time_s": v[0], "previous_wall_clock": bool(v[1] & 1)}
        case RecordType.DROPPED:
            return {"first_seq": v[0], "count": v[1]}
        case RecordType.SNOOZE:
            return {"minutes": v[0]}
        case RecordType.FAULT:
            return {"code": v[0], "detail": v[1], "code_name": _name(FaultCode, v[0])}
        case RecordType.HELD:
            return {"reason": v[0], "why": v[1], "reason_name": _name(BuzzReason, v[0]),
                    "why_name": _name(HeldReason, v[1])}
        case RecordType.SLIP:
            return {"kind": v[0], "kind_name": _name(SlipKind, v[0]), "turn_deg": v[1] * a}
        case RecordType.EXERCISE:
            return {"kind": v[0], "kind_name": _name(ExerciseKind, v[0]), "reps": v[1],
                    "hold_s": v[2] / 10.0, "span_s": v[3] / 10.0, "drift_deg": v[4]}
        case RecordType.BREAK:
            return {"still_s": v[0]}
    raise AssertionError(rtype)  # pragma: no cover - every RecordType is matched above


def _name(enum: type[IntEnum], code: int) -> str:
    """The lower-case name of ``code`` in ``enum``; "unknown" for a code this host does not
    know (a newer firmware's)."""
    try:
        return enum(code).name.lower()
    except ValueError:
        return "unknown"


def _technique_name(code: int) -> str:
    try:
        return Technique(code).name.lower()
    except ValueError:
        return "unknown"


@dataclass(frozen=True)
class Reply:
    """A control reply; ``values`` is empty unless ``status`` is OK."""

    opcode: Opcode
    token: int
    status: Status
    values: tuple[int, ...]


def encode_command(opcode: Opcode, token: int, *args: int) -> bytes:
    """A control request: opcode, token (echoed in the reply), little-endian arguments."""
    fmt = _COMMAND_ARGS[opcode]
    try:
        return bytes((int(opcode), token & 0xFF)) + struct.pack(fmt, *args)
    except struct.error as e:
        raise ProtocolError(f"bad arguments {args} for {opcode.name}: {e}") from None


def decode_reply(frame: bytes | bytearray | memoryview) -> Reply:
    frame = bytes(frame)
    where = "control reply"
    if len(frame) < 3:
        raise ProtocolError(f"{len(frame)} bytes, a reply has at least 3", where)
    if not frame[0] & 0x80:
        raise ProtocolError(f"byte 0x{frame[0]:02x} lacks the reply bit", f"{where}, byte 0")
    try:
        op = Opcode(frame[0] & 0x7F)
    except ValueError:
        raise ProtocolError(f"unknown opcode 0x{frame[0] & 0x7F:02x}",
                            f"{where}, byte 0") from None
    try:
        status = Status(frame[2])
    except ValueError:
        raise ProtocolError(f"unknown status {frame[2]}", f"{where}, byte 2") from None
    if status is not Status.OK:
        if len(frame) != 3:
            raise ProtocolError(f"error reply of {len(frame)} bytes, expected 3", where)
        return Reply(op, frame[1], status, ())
    fmt = _REPLY_ARGS[op]
    want = 3 + struct.calcsize(fmt)
    if len(frame) != want:
        raise ProtocolError(f"{op.name} reply has {len(frame)} bytes, expected {want}", where)
    return Reply(op, frame[1], status, struct.unpack_from(fmt, frame, 3))


@dataclass(frozen=True)
class LogRecords:
    frame: int
    records: list[Record]


@dataclass(frozen=True)
class LogEnd:
    frame: int
    next_seq: int
    reason: EndReason


def decode_log_frame(frame: bytes | bytearray | memoryview) -> LogRecords | LogEnd:
    """Decode a notification of the log characteristic."""
    frame = bytes(frame)
    where = "log frame"
    if len(frame) < _LOG_HEADER.size:
        raise ProtocolError(f"{len(frame)} bytes, shorter than the header", where)
    version, kind, counter = _LOG_HEADER.unpack_from(frame)
    _version_check(version, where)
    if kind == LogFrameKind.RECORDS:
        records = decode_records(frame[_LOG_HEADER.size:], f"{where} {counter}")
        if not records:
            raise ProtocolError("records frame without records", where)
        return LogRecords(counter, records)
    if kind == LogFrameKind.END:
        if len(frame) != _LOG_HEADER.size + _LOG_END.size:
            raise ProtocolError(f"end frame of {len(frame)} bytes", where)
        next_seq, reason = _LOG_END.unpack_from(frame, _LOG_HEADER.size)
        try:
            return LogEnd(counter, next_seq, EndReason(reason))
        except ValueError:
            raise ProtocolError(f"unknown end reason {reason}", f"{where}, byte 8") from None
    raise ProtocolError(f"unknown log frame kind {kind}", f"{where}, byte 1")
